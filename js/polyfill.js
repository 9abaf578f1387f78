'use strict'
// TextEncoder / TextDecoder for engines without them (the iOS mini-program runtime, the
// JavaScriptCore shell). Native classes are used where they exist; otherwise the npm package
// fast-text-encoding, which scripts/build.js copies into dist/text-encoding.js, wrapped so that
// it defines nothing global by itself.
//
// Exports { TextEncoder, TextDecoder }; the wasm-bindgen glue takes them from here (see
// scripts/patch-glue.js), and the classes are also put on the global object when it has none,
// so this module runs before the glue whichever way the glue looks them up.

function globalObject() {
  if (typeof globalThis !== 'undefined') return globalThis
  if (typeof self !== 'undefined') return self
  if (typeof global !== 'undefined') return global
  return undefined
}

var root = globalObject()
var NativeEncoder = root && typeof root.TextEncoder === 'function' ? root.TextEncoder : undefined
var NativeDecoder = root && typeof root.TextDecoder === 'function' ? root.TextDecoder : undefined

var Encoder = NativeEncoder
var Decoder = NativeDecoder

if (!Encoder || !Decoder) {
  var impl = require('./text-encoding.js')

  if (!Encoder) Encoder = impl.TextEncoder

  if (!Decoder) {
    // fast-text-encoding 1.0.6 throws on `{ fatal: true }` and on `decode()` without an
    // argument (wasm-bindgen's glue does both or may), and never strips a BOM. Only UTF-8
    // crosses the wasm boundary and Rust strings are always valid UTF-8, so `fatal` can be
    // accepted without checking.
    var Base = impl.TextDecoder
    Decoder = function TextDecoder(label, options) {
      label = label === undefined ? 'utf-8' : String(label)
      if (!/^(utf-?8|unicode-1-1-utf-8)$/i.test(label.replace(/^\s+|\s+$/g, ''))) {
        throw new RangeError("TextDecoder: only 'utf-8' is supported, not '" + label + "'")
      }
      this.encoding = 'utf-8'
      this.fatal = !!(options && options.fatal)
      this.ignoreBOM = !!(options && options.ignoreBOM)
      this._base = new Base('utf-8')
    }
    Decoder.prototype.decode = function decode(input) {
      if (input === undefined || input === null) return ''
      var text = this._base.decode(input)
      if (!this.ignoreBOM && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      return text
    }
  }

  if (root) {
    try {
      if (typeof root.TextEncoder !== 'function') root.TextEncoder = Encoder
      if (typeof root.TextDecoder !== 'function') root.TextDecoder = Decoder
    } catch (_) {
      // A frozen or proxied global: the glue still gets the classes from this module.
    }
  }
}

module.exports = { TextEncoder: Encoder, TextDecoder: Decoder }
