'use strict'
// TextEncoder / TextDecoder for engines without them (the iOS mini-program runtime, the
// JavaScriptCore shell). Native classes are used where they exist; otherwise the small UTF-8
// codec below, which is all wasm-bindgen's glue needs: `new TextEncoder().encode(string)` and
// `new TextDecoder('utf-8', { ignoreBOM: true, fatal: true }).decode(view)` (also without
// an argument). It replaced the vendored fast-text-encoding (1.6 KB brotli with its wrapper,
// now about 0.6 KB in this file).
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
var Encoder = root && typeof root.TextEncoder === 'function' ? root.TextEncoder : undefined
var Decoder = root && typeof root.TextDecoder === 'function' ? root.TextDecoder : undefined
var installEncoder = !Encoder
var installDecoder = !Decoder

if (!Encoder) {
  Encoder = function TextEncoder() {}
  Encoder.prototype.encoding = 'utf-8'
  // UTF-8 of a string; a lone surrogate becomes U+FFFD, as native encoders do.
  Encoder.prototype.encode = function encode(input) {
    var s = input === undefined ? '' : String(input)
    var out = new Uint8Array(s.length * 3)
    var n = 0
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i)
      if (c >= 0xd800 && c <= 0xdfff) {
        var d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          i++
        } else {
          c = 0xfffd
        }
      }
      if (c < 0x80) {
        out[n++] = c
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6)
        out[n++] = 0x80 | (c & 63)
      } else if (c < 0x10000) {
        out[n++] = 0xe0 | (c >> 12)
        out[n++] = 0x80 | ((c >> 6) & 63)
        out[n++] = 0x80 | (c & 63)
      } else {
        out[n++] = 0xf0 | (c >> 18)
        out[n++] = 0x80 | ((c >> 12) & 63)
        out[n++] = 0x80 | ((c >> 6) & 63)
        out[n++] = 0x80 | (c & 63)
      }
    }
    return out.slice(0, n)
  }
}

if (!Decoder) {
  // Only UTF-8 crosses the wasm boundary and Rust strings are always valid UTF-8, so `fatal`
  // is accepted without checking; malformed input decodes to U+FFFD.
  Decoder = function TextDecoder(label, options) {
    label = label === undefined ? 'utf-8' : String(label)
    if (!/^(utf-?8|unicode-1-1-utf-8)$/i.test(label.replace(/^\s+|\s+$/g, ''))) {
      throw new RangeError("TextDecoder: only 'utf-8' is supported, not '" + label + "'")
    }
    this.encoding = 'utf-8'
    this.fatal = !!(options && options.fatal)
    this.ignoreBOM = !!(options && options.ignoreBOM)
  }
  Decoder.prototype.decode = function decode(input) {
    if (input === undefined || input === null) return ''
    var b = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input)
    var n = b.length
    var i = !this.ignoreBOM && n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0
    var out = ''
    var units = []
    while (i < n) {
      var c = b[i++]
      if (c >= 0x80) {
        var need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0
        var min = need === 3 ? 0x10000 : need === 2 ? 0x800 : 0x80
        var cp = c & (0x3f >> need)
        var k = 0
        while (k < need && i < n && (b[i] & 0xc0) === 0x80) {
          cp = (cp << 6) | (b[i++] & 63)
          k++
        }
        c = need === 0 || k < need || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp
      }
      if (c > 0xffff) {
        c -= 0x10000
        units.push(0xd800 + (c >> 10), 0xdc00 + (c & 1023))
      } else {
        units.push(c)
      }
      if (units.length >= 8192) {
        out += String.fromCharCode.apply(null, units)
        units = []
      }
    }
    return out + String.fromCharCode.apply(null, units)
  }
}

if (root) {
  try {
    if (installEncoder && typeof root.TextEncoder !== 'function') root.TextEncoder = Encoder
    if (installDecoder && typeof root.TextDecoder !== 'function') root.TextDecoder = Decoder
  } catch (_) {
    // A frozen or proxied global: the glue still gets the classes from this module.
  }
}

module.exports = { TextEncoder: Encoder, TextDecoder: Decoder }
