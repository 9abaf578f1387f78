// Per-request cost in JavaScriptCore with the JIT off, for bench/wasm2js.js:
//   jsc --useJIT=false bench/jsc-request.js -- <dist dir> <bench dir> wasm|wasm2js <n>
// wasm: WebAssembly only through a WXWebAssembly that reads dist/tokengate_bg.wasm;
// wasm2js: no WebAssembly of any kind, the package loaded through dist/wasm2js.js.
// Modules are loaded by tests/jsc/cjs.js (found from the bench dir: <bench dir>/../tests/jsc/cjs.js).
// Prints one line: JSON { n, perRequest (µs, sequential), require, ready (ms) }.
(function (args) {
  'use strict'
  var root = this
  var DIST = String(args[0]).replace(/\/+$/, '')
  var BENCH = String(args[1]).replace(/\/+$/, '')
  var modules = load(BENCH + '/../tests/jsc/cjs.js')()
  var KIND = String(args[2])
  var N = Number(args[3]) || 1000
  var REAL_WEBASSEMBLY = WebAssembly
  delete root.WebAssembly
  var clock = typeof preciseTime === 'function' ? function () { return preciseTime() * 1000 } : Date.now
  root.console = { log: function () {}, info: function () {}, warn: function () {}, error: function (e) { print(String(e)) }, debug: function () {} }
  // Request deadlines arm timers that never need to fire here; the shell exits when the
  // promise jobs are done.
  root.setTimeout = function () { return 1 }
  root.clearTimeout = function () {}
  if (KIND === 'wasm') {
    root.WXWebAssembly = {
      instantiate: function (path, imports) {
        return REAL_WEBASSEMBLY.instantiate(readFile(DIST + '/tokengate_bg.wasm', 'binary'), imports)
      }
    }
  }
  var fake = modules.load(BENCH + '/fake.js')
  var platform = fake.createPlatform()
  fake.seed(platform, 'tokengate:session', false)
  var t0 = clock()
  var tg = modules.requireFrom(DIST)(KIND === 'wasm' ? './index.js' : './wasm2js.js')
  var t1 = clock()
  var client = tg.createClient({ platform: platform, baseURL: 'https://api.example.com' })
  var t2
  var i = 0
  var t3
  function next() {
    if (i === N) {
      var t4 = clock()
      if (platform.count.api !== N + 20) return print('error: ' + platform.count.api + ' requests reached the platform')
      print(JSON.stringify({ n: N, perRequest: (t4 - t3) * 1000 / N, require: t1 - t0, ready: t2 - t1 }))
      return
    }
    i++
    client.request({ url: '/api/item' }).then(next, function (e) { print('error: ' + e) })
  }
  client.ready.then(function () {
    t2 = clock()
    // 20 requests of warm-up, then N measured.
    var w = 0
    function warm() {
      if (w === 20) { t3 = clock(); return next() }
      w++
      client.request({ url: '/api/item' }).then(warm, function (e) { print('error: ' + e) })
    }
    warm()
  }, function (e) { print('error: ' + e) })
}).call(this, typeof scriptArgs !== 'undefined' ? scriptArgs : arguments)
