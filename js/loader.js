'use strict'
// Instantiates tokengate's wasm once and hands it to the wasm-bindgen glue.
//
//   load({ wasmPath }) -> Promise<glue>   (the glue module: Gate, ...; ready to use)
//
// * Mini-program (a global WXWebAssembly exists): WXWebAssembly.instantiate(path, imports)
//   with a path inside the code package. The default is where the devtools' "build npm" puts
//   this package: /miniprogram_npm/tokengate/tokengate_bg.wasm.br (brotli, base library >=
//   2.14.0); if that fails, the plain .wasm beside it is tried. The result may be
//   { instance, module } or the instance itself. A project whose miniprogram_npm is not at the
//   package root (miniprogramRoot, a subpackage) passes `wasmPath`.
// * Node (tests, demo, server-side): the file is read with fs and instantiated with
//   WebAssembly; a `.br` path is decompressed with zlib. The default is the .wasm beside this
//   file.
//
// The glue can hold one instance, so the first successful load is shared by every client;
// a failed load is forgotten so the next call tries again.

var glue = require('./tokengate_glue.js')

var WASM_FILE = 'tokengate_bg.wasm'
var MINIPROGRAM_DEFAULT = '/miniprogram_npm/tokengate/' + WASM_FILE + '.br'

var pending = null

function instanceOf(result) {
  // WXWebAssembly.instantiate resolves with { instance, module } on some base libraries and
  // with the instance on others.
  if (result && result.instance && result.instance.exports) return result.instance
  if (result && result.exports) return result
  throw new Error('tokengate: WXWebAssembly.instantiate gave neither an instance nor { instance }')
}

function wxInstantiate(WX, path, imports, fallbackPath) {
  var first
  try {
    first = Promise.resolve(WX.instantiate(path, imports))
  } catch (e) {
    first = Promise.reject(e)
  }
  return first.then(instanceOf, function (err) {
    if (!fallbackPath) throw describe(err, path)
    return Promise.resolve()
      .then(function () { return WX.instantiate(fallbackPath, imports) })
      .then(instanceOf, function (err2) { throw describe(err2, path + ' and ' + fallbackPath) })
  })
}

function describe(err, what) {
  var msg = err && (err.errMsg || err.message) ? err.errMsg || err.message : String(err)
  var e = new Error('tokengate: could not instantiate ' + what + ': ' + msg)
  e.cause = err
  return e
}

function nodeRequire() {
  // Not a literal require('fs'): the mini-program's dependency analysis must not go looking
  // for Node's modules, and this branch never runs there.
  if (typeof module !== 'undefined' && module && typeof module.require === 'function') {
    return function (id) { return module.require(id) }
  }
  return null
}

function isNode() {
  return typeof process !== 'undefined' && process && process.versions && !!process.versions.node
}

function nodeInstantiate(path, imports) {
  var req = nodeRequire()
  if (!req) return Promise.reject(new Error('tokengate: cannot read ' + path + ' (no module.require)'))
  return Promise.resolve().then(function () {
    var bytes = req('fs').readFileSync(path)
    if (/\.br$/.test(path)) bytes = req('zlib').brotliDecompressSync(bytes)
    return WebAssembly.instantiate(bytes, imports)
  }).then(function (r) { return r.instance }, function (err) { throw describe(err, path) })
}

function instantiate(options) {
  var wasmPath = options && options.wasmPath
  if (wasmPath !== undefined && (typeof wasmPath !== 'string' || wasmPath === '')) {
    return Promise.reject(new TypeError('tokengate: wasmPath must be a non-empty string'))
  }
  var imports = glue.__wbg_get_imports()
  var WX = typeof WXWebAssembly !== 'undefined' ? WXWebAssembly : undefined // eslint-disable-line no-undef
  if (WX && typeof WX.instantiate === 'function') {
    if (wasmPath) return wxInstantiate(WX, wasmPath, imports, null)
    return wxInstantiate(WX, MINIPROGRAM_DEFAULT, imports, MINIPROGRAM_DEFAULT.replace(/\.br$/, ''))
  }
  if (isNode() && typeof WebAssembly !== 'undefined') {
    return nodeInstantiate(wasmPath || __dirname + '/' + WASM_FILE, imports)
  }
  return Promise.reject(new Error('tokengate: no WXWebAssembly (mini-program) and not Node: cannot load the wasm'))
}

function load(options) {
  if (!pending) {
    pending = instantiate(options).then(function (instance) {
      glue.__wbg_set_instance(instance)
      return glue
    })
    pending.then(null, function () { pending = null })
  }
  return pending
}

module.exports = { load: load, MINIPROGRAM_DEFAULT: MINIPROGRAM_DEFAULT }
