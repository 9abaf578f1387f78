'use strict'
// Instantiates tokengate's core once and hands it to the wasm-bindgen glue.
//
//   load({ wasmPath }) -> Promise<glue>   (the glue module: Client, ...; ready to use)
//
// The first of these that the runtime has loads the core:
//
// 1. WXWebAssembly (WeChat, base library >= 2.13.0) and
// 2. TTWebAssembly (Douyin, base library >= 2.34.0.0): instantiate(path, imports) with a path
//    inside the code package. The default is where "build npm" puts this package (WeChat's
//    devtools and Douyin's both write miniprogram_npm/):
//    /miniprogram_npm/tokengate/tokengate_bg.wasm.br (brotli: WeChat >= 2.14.0, Douyin >=
//    2.92.0.0); if that fails, the plain .wasm beside it. The result may be { instance, module }
//    or the instance itself. A project whose npm folder is elsewhere (miniprogramRoot, a
//    subpackage, a framework's output) passes `wasmPath`; then only that path is tried.
// 3. WebAssembly: in Node the file is read with fs (default: the .wasm beside this file; a
//    `.br` path is decompressed with zlib); in a browser `wasmPath` is fetched (a URL).
// 4. None of them usable (Alipay runs MYWebAssembly in workers only; WeChat before 2.13 has no
//    WXWebAssembly): the JavaScript build of the same wasm, tokengate_bg.wasm.js (made at build
//    time by binaryen's wasm2js, see scripts/wasm2js.js). It is never required from here: the
//    app loads the package through its `wasm2js` entry (./wasm2js.js), which registers it with
//    useJsBuild(); so a code package or bundle that does not use that entry does not carry it,
//    and the entry evaluates the JS build only when this step is reached.
//
// The glue can hold one instance, so the first successful load is shared by every client;
// a failed load is forgotten so the next call tries again.

var glue = require('./tokengate_glue.js')

var WASM_FILE = 'tokengate_bg.wasm'
var MINIPROGRAM_DEFAULT = '/miniprogram_npm/tokengate/' + WASM_FILE + '.br'

var pending = null
var jsBuild = null // () => { instantiate(imports) -> { exports } }, set by ./wasm2js.js

// Called by the wasm2js entry with a function that requires the JS build when it is needed.
function useJsBuild(provide) {
  if (typeof provide !== 'function') throw new TypeError('tokengate: useJsBuild wants a function')
  jsBuild = provide
}

function instanceOf(result, who) {
  // WXWebAssembly.instantiate resolves with { instance, module } on some base libraries and
  // with the instance on others.
  if (result && result.instance && result.instance.exports) return result.instance
  if (result && result.exports) return result
  throw new Error('tokengate: ' + who + '.instantiate gave neither an instance nor { instance }')
}

function message(err) {
  return err && (err.errMsg || err.message) ? err.errMsg || err.message : String(err)
}

function failure(text, causes) {
  var e = new Error(text)
  e.cause = causes[causes.length - 1]
  return e
}

// A code-package path: the wasm is missing or not loadable there. Says where it looked and
// what to do.
function packageFailure(who, tried, causes, custom) {
  var where = []
  for (var i = 0; i < tried.length; i++) where.push(tried[i] + ' (' + message(causes[i]) + ')')
  var hint = custom
    ? ' Check that ' + tried[0] + ' is in the code package (a path from the package root), or fix `wasmPath`.'
    : ' Build npm (the devtools copy the package to /miniprogram_npm/tokengate/), or copy ' + WASM_FILE + '.br from' +
      " the package's dist/ into the code package and pass createClient({ wasmPath: '/<folder>/" + WASM_FILE + ".br' })" +
      ' (a framework build: see README, "uni-app, Taro, Alipay and Douyin").'
  return failure('tokengate: could not instantiate the core with ' + who + ' from ' + where.join(', nor ') + '.' + hint, causes)
}

function pathInstantiate(WX, who, paths, imports, custom) {
  var causes = []
  function attempt(i) {
    var r
    try {
      r = Promise.resolve(WX.instantiate(paths[i], imports))
    } catch (e) {
      r = Promise.reject(e)
    }
    return r.then(function (result) { return instanceOf(result, who) }, function (err) {
      causes.push(err)
      if (i + 1 < paths.length) return attempt(i + 1)
      throw packageFailure(who, paths, causes, custom)
    })
  }
  return attempt(0)
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

function nodeInstantiate(path, imports, custom) {
  var req = nodeRequire()
  if (!req) return Promise.reject(new Error('tokengate: cannot read ' + path + ' (no module.require)'))
  return Promise.resolve().then(function () {
    var bytes = req('fs').readFileSync(path)
    if (/\.br$/.test(path)) bytes = req('zlib').brotliDecompressSync(bytes)
    return WebAssembly.instantiate(bytes, imports)
  }).then(function (r) { return r.instance }, function (err) {
    throw failure('tokengate: could not instantiate the core from ' + path + ' (' + message(err) + ').' +
      (custom ? ' Check `wasmPath`.' : ' Run `npm run build` (dist/ is built, not checked in), or pass `wasmPath`.'), [err])
  })
}

function fetchInstantiate(url, imports) {
  return fetch(url).then(function (res) { // eslint-disable-line no-undef
    if (!res.ok) throw new Error('HTTP ' + res.status)
    return res.arrayBuffer()
  }).then(function (buf) {
    return WebAssembly.instantiate(buf, imports)
  }).then(function (r) { return r.instance }, function (err) {
    throw failure('tokengate: could not instantiate the core from ' + url + ' (' + message(err) + '). `wasmPath` must be' +
      ' the URL of ' + WASM_FILE + ' (served as application/wasm).', [err])
  })
}

function jsInstantiate(imports) {
  return Promise.resolve().then(function () {
    var build = jsBuild()
    return instanceOf(build.instantiate(imports), 'the JavaScript build')
  })
}

function runtimeObject(name) {
  // typeof on a free name: no ReferenceError where it is not defined.
  if (name === 'WXWebAssembly') return typeof WXWebAssembly !== 'undefined' ? WXWebAssembly : undefined // eslint-disable-line no-undef
  if (name === 'TTWebAssembly') return typeof TTWebAssembly !== 'undefined' ? TTWebAssembly : undefined // eslint-disable-line no-undef
  return typeof WebAssembly !== 'undefined' ? WebAssembly : undefined
}

function instantiate(options) {
  var wasmPath = options && options.wasmPath
  if (wasmPath !== undefined && (typeof wasmPath !== 'string' || wasmPath === '')) {
    return Promise.reject(new TypeError('tokengate: wasmPath must be a non-empty string'))
  }
  var imports = glue.__wbg_get_imports()
  var names = ['WXWebAssembly', 'TTWebAssembly']
  for (var i = 0; i < names.length; i++) {
    var WX = runtimeObject(names[i])
    if (WX && typeof WX.instantiate === 'function') {
      var paths = wasmPath ? [wasmPath] : [MINIPROGRAM_DEFAULT, MINIPROGRAM_DEFAULT.replace(/\.br$/, '')]
      return pathInstantiate(WX, names[i], paths, imports, !!wasmPath)
    }
  }
  var WA = runtimeObject('WebAssembly')
  if (WA && typeof WA.instantiate === 'function') {
    if (isNode() && nodeRequire()) return nodeInstantiate(wasmPath || __dirname + '/' + WASM_FILE, imports, !!wasmPath)
    if (wasmPath && typeof fetch === 'function') return fetchInstantiate(wasmPath, imports)
  }
  if (jsBuild) return jsInstantiate(imports)
  return Promise.reject(new Error('tokengate: this runtime has no WXWebAssembly, TTWebAssembly or WebAssembly to load' +
    ' the core with' + (WA ? ' (WebAssembly, but no way to read ' + WASM_FILE + ': pass `wasmPath`, a URL)' : '') +
    ". Load the package through its wasm2js entry, which brings the JavaScript build of the core: require('tokengate/wasm2js')" +
    " after build npm, require('tokengate/dist/wasm2js.js') from node_modules (Alipay, a bundler)."))
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

module.exports = { load: load, useJsBuild: useJsBuild, MINIPROGRAM_DEFAULT: MINIPROGRAM_DEFAULT }
