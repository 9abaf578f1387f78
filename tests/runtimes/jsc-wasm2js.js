// The JavaScript build of the core (dist/tokengate_bg.wasm.js) in JavaScriptCore with the JIT
// off, as iOS runs mini-programs, and with no WebAssembly object of any kind (an Alipay page,
// a WeChat base library before 2.13):
//   jsc --useJIT=false tests/runtimes/jsc-wasm2js.js -- <dist dir> <scenario.js> <tests/jsc/cjs.js>
// The package is loaded through its wasm2js entry with the mini-program's module wrapper (by
// tests/jsc/cjs.js, which the shell's load() evaluates), and
// tests/sandbox/scenario.js runs (20 concurrent requests with an expired stored token: one
// refresh, all resolve). Prints one line per check and a closing "jsc: N passed, N failed".
(function (args) {
  'use strict'
  var root = this
  var DIST = String(args[0]).replace(/\/+$/, '')
  var SCENARIO = String(args[1])
  var modules = load(String(args[2]))({ packages: { 'tokengate/wasm2js': DIST + '/wasm2js.js' }, miniProgram: true })
  delete root.WebAssembly

  var passed = 0
  var failed = 0
  var logged = []
  root.console = {
    log: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    info: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    warn: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    error: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    debug: function () {}
  }

  // The shell has setTimeout only; timers live in a queue polled by short real timeouts, so a
  // cleared one does not keep the shell waiting (as tests/jsc/harness.js does).
  var realSetTimeout = setTimeout
  var timers = []
  var nextTimer = 1
  var polling = false
  function poll() {
    polling = false
    var now = Date.now()
    var due = []
    timers = timers.filter(function (t) {
      if (t.at <= now) { due.push(t); return false }
      return true
    })
    due.sort(function (a, b) { return a.at - b.at || a.id - b.id })
    for (var i = 0; i < due.length; i++) due[i].fn.apply(undefined, due[i].args)
    schedule()
  }
  function schedule() {
    if (polling || timers.length === 0) return
    var first = Infinity
    for (var i = 0; i < timers.length; i++) first = Math.min(first, timers[i].at)
    polling = true
    realSetTimeout(poll, Math.max(0, Math.min(20, first - Date.now())))
  }
  root.setTimeout = function (fn, ms) {
    var id = nextTimer++
    timers.push({ id: id, at: Date.now() + Math.max(0, +ms || 0), fn: fn, args: Array.prototype.slice.call(arguments, 2) })
    schedule()
    return id
  }
  root.clearTimeout = function (id) { timers = timers.filter(function (t) { return t.id !== id }) }
  root.setInterval = function () { throw new Error('setInterval is not used') }
  root.clearInterval = root.clearTimeout

  // Whether the JS build (dist/tokengate_bg.wasm.js) has been evaluated.
  function jsBuildEvaluated() {
    return modules.evaluated.some(function (file) { return /(^|\/)tokengate_bg\.wasm\.js$/.test(file) })
  }

  function check(cond, what) { if (!cond) throw new Error(what) }
  var tests = []
  function test(name, fn) { tests.push({ name: name, fn: fn }) }

  test('no WebAssembly, WXWebAssembly or TTWebAssembly; no TextEncoder, TextDecoder, queueMicrotask', function () {
    check(typeof WebAssembly === 'undefined', 'WebAssembly exists')
    check(typeof WXWebAssembly === 'undefined' && typeof TTWebAssembly === 'undefined', 'a mini-program WebAssembly exists')
    check(typeof TextEncoder === 'undefined' && typeof TextDecoder === 'undefined', 'TextEncoder/TextDecoder exist')
    check(typeof queueMicrotask === 'undefined', 'queueMicrotask exists')
  })

  test('the wasm2js entry loads without evaluating the JS build until a client needs it', function () {
    var tg = modules.requireFrom(DIST)('tokengate/wasm2js')
    check(typeof tg.createClient === 'function', 'no createClient')
    check(!jsBuildEvaluated(), 'tokengate_bg.wasm.js was evaluated at require time')
  })

  test('20 concurrent requests with an expired stored token: one refresh, all resolve (JS build)', function () {
    var scenario = modules.load(SCENARIO)
    var fake = scenario.makeWx(Date.now(), 1)
    root.wx = fake.wx
    var tg = modules.requireFrom(DIST)('tokengate/wasm2js')
    return new Promise(function (resolve, reject) {
      scenario.concurrentExpired(tg, fake, function (err, summary) {
        if (err) return reject(err)
        if (!jsBuildEvaluated()) return reject(new Error('the JS build was not used'))
        for (var i = 0; i < logged.length; i++) {
          if (/A-old|A-new|R-1|R-2/.test(logged[i])) return reject(new Error('a token was logged: ' + logged[i]))
        }
        print('# ' + summary)
        resolve()
      })
    })
  })

  function next(i) {
    if (i >= tests.length) {
      if (timers.length) print('# dropping ' + timers.length + ' pending timer(s) at exit')
      timers = []
      print('jsc: ' + passed + ' passed, ' + failed + ' failed')
      return
    }
    var t = tests[i]
    var r
    try {
      r = t.fn()
    } catch (e) {
      failed++
      print('not ok - ' + t.name + ': ' + e + (e && e.stack ? '\n' + e.stack : ''))
      return next(i + 1)
    }
    Promise.resolve(r).then(function () {
      passed++
      print('ok - ' + t.name)
    }, function (e) {
      failed++
      print('not ok - ' + t.name + ': ' + e + (e && e.stack ? '\n' + e.stack : ''))
    }).then(function () { next(i + 1) })
  }
  next(0)
}).call(this, typeof scriptArgs !== 'undefined' ? scriptArgs : arguments)
