// One cold launch in JavaScriptCore with the JIT off (as on iOS), for `npm run bench`:
//   jsc --useJIT=false bench/jsc-ready.js -- <dist dir> <bench dir>
// Set up like tests/jsc/harness.js: WebAssembly only through WXWebAssembly, which maps the
// package path to dist/ (this fake reads the .wasm for the .wasm.br path, as a base library
// >= 2.14.0 would after decompressing); modules loaded by that harness's loader,
// <bench dir>/../tests/jsc/cjs.js, with the plain CommonJS wrapper. Prints one line:
// JSON { require, ready } in ms (require: evaluating dist/index.js and what it loads).
(function (args) {
  'use strict'
  var root = this
  var DIST = String(args[0]).replace(/\/+$/, '')
  var BENCH = String(args[1]).replace(/\/+$/, '')
  var modules = load(BENCH + '/../tests/jsc/cjs.js')({ packages: { tokengate: DIST + '/index.js' } })
  var REAL_WEBASSEMBLY = WebAssembly
  delete root.WebAssembly
  var clock = typeof preciseTime === 'function' ? function () { return preciseTime() * 1000 } : Date.now
  root.console = { log: function () {}, info: function () {}, warn: function () {}, error: function (e) { print(String(e)) }, debug: function () {} }
  // Only ready is measured: timers (the session's expiry, an hour away) never fire, so the
  // shell exits as soon as the promise jobs are done.
  root.setTimeout = function () { return 1 }
  root.clearTimeout = function () {}
  var PREFIX = '/miniprogram_npm/tokengate/'
  root.WXWebAssembly = {
    instantiate: function (path, imports) {
      var file = String(path).slice(PREFIX.length).replace(/\.br$/, '')
      return REAL_WEBASSEMBLY.instantiate(readFile(DIST + '/' + file, 'binary'), imports)
    }
  }
  var fake = modules.load(BENCH + '/fake.js')
  var platform = fake.createPlatform()
  fake.seed(platform, 'tokengate:session', false)
  root.wx = platform
  var t0 = clock()
  var tg = modules.requireFrom(DIST)('tokengate')
  var t1 = clock()
  var client = tg.createClient({ platform: platform, baseURL: 'https://api.example.com' })
  client.ready.then(function () {
    var t2 = clock()
    print(JSON.stringify({ require: t1 - t0, ready: t2 - t1 }))
  }, function (e) { print('error: ' + e) })
}).call(this, this.arguments || arguments)
