// Runs inside JavaScriptCore's shell (`jsc --useJIT=false`), the engine iOS uses:
//   jsc --useJIT=false tests/jsc/harness.js -- <dist dir> <scenario.js> <tests/jsc/cjs.js>
// The shell has no require/module, console, TextEncoder, TextDecoder or queueMicrotask;
// print() writes a line, readFile(path[, 'binary']) reads a file and load(path) evaluates one
// (here the module loader, tests/jsc/cjs.js).
//
// Set up like an iOS mini-program: WebAssembly is captured and then deleted from the global
// object; a WXWebAssembly accepts only a path string and maps the "build npm" location
// (/miniprogram_npm/tokengate/...) to dist/. This fake cannot decompress brotli, so it refuses
// .wasm.br and the loader must fall back to the plain .wasm beside it, as on a base library
// older than 2.14.0. Package modules get the mini-program's wrapper parameters.
//
// Prints one line per check and a closing "jsc: N passed, N failed".
(function (args) {
  'use strict'
  var root = this
  var DIST = String(args[0]).replace(/\/+$/, '')
  var SCENARIO = String(args[1])
  var modules = load(String(args[2]))({ packages: { tokengate: DIST + '/index.js' }, miniProgram: true })
  var REAL_WEBASSEMBLY = WebAssembly
  delete root.WebAssembly

  var passed = 0
  var failed = 0
  var calls = []
  var logged = []

  root.console = {
    log: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    info: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    warn: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    error: function () { logged.push(Array.prototype.join.call(arguments, ' ')) },
    debug: function () { logged.push(Array.prototype.join.call(arguments, ' ')) }
  }

  // The shell has setTimeout only; the mini-program has the four timer functions. Timers
  // live in a queue polled by short real timeouts, so a cleared timer does not keep the shell
  // waiting for it.
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
    for (var i = 0; i < due.length; i++) {
      var t = due[i]
      if (t.every !== undefined) {
        t.at = now + t.every
        timers.push(t)
      }
      t.fn.apply(undefined, t.args)
    }
    schedule()
  }
  function schedule() {
    if (polling || timers.length === 0) return
    var first = Infinity
    for (var i = 0; i < timers.length; i++) first = Math.min(first, timers[i].at)
    polling = true
    realSetTimeout(poll, Math.max(0, Math.min(20, first - Date.now())))
  }
  function addTimer(fn, ms, rest, every) {
    var id = nextTimer++
    ms = Math.max(0, +ms || 0)
    timers.push({ id: id, at: Date.now() + ms, fn: fn, args: rest, every: every === undefined ? undefined : Math.max(1, ms) })
    schedule()
    return id
  }
  function clearTimer(id) {
    timers = timers.filter(function (t) { return t.id !== id })
  }
  root.setTimeout = function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2)) }
  root.setInterval = function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2), ms) }
  root.clearTimeout = clearTimer
  root.clearInterval = clearTimer

  var PREFIX = '/miniprogram_npm/tokengate/'
  root.WXWebAssembly = {
    instantiate: function (path, imports) {
      calls.push(path)
      if (typeof path !== 'string') return Promise.reject(new TypeError('WXWebAssembly.instantiate: path must be a string'))
      if (/\.br$/.test(path)) return Promise.reject(new Error('WXWebAssembly.instantiate: .wasm.br unsupported by this base library'))
      var p = path.charAt(0) === '/' ? path : '/' + path
      if (p.indexOf(PREFIX) !== 0 || !/\.wasm$/.test(p)) return Promise.reject(new Error('WXWebAssembly.instantiate: no file ' + path))
      var bytes
      try {
        bytes = readFile(DIST + '/' + p.slice(PREFIX.length), 'binary')
      } catch (e) {
        return Promise.reject(new Error('WXWebAssembly.instantiate: no file ' + path))
      }
      return REAL_WEBASSEMBLY.instantiate(bytes, imports)
    }
  }

  var requireFromHere = modules.requireFrom(DIST)

  function ok(name) { passed++; print('ok - ' + name) }
  function notOk(name, err) {
    failed++
    print('not ok - ' + name + ': ' + (err && err.stack ? err + '\n' + err.stack : err))
  }
  function check(cond, what) { if (!cond) throw new Error(what) }

  var tests = []
  function test(name, fn) { tests.push({ name: name, fn: fn }) }

  test('the shell is bare: no TextEncoder, TextDecoder, queueMicrotask, WebAssembly, require', function () {
    check(typeof TextEncoder === 'undefined', 'TextEncoder exists')
    check(typeof TextDecoder === 'undefined', 'TextDecoder exists')
    check(typeof queueMicrotask === 'undefined', 'queueMicrotask exists')
    check(typeof WebAssembly === 'undefined', 'WebAssembly exists')
    check(typeof require === 'undefined', 'require exists')
  })

  var glue
  test('the packaged loader instantiates the packaged wasm through WXWebAssembly', function () {
    var loader = requireFromHere('./loader.js')
    return loader.load().then(function (g) {
      glue = g
      check(typeof g.Client === 'function', 'no Client export')
      check(calls.length === 2 && calls[0] === PREFIX + 'tokengate_bg.wasm.br' && calls[1] === PREFIX + 'tokengate_bg.wasm',
        'unexpected WXWebAssembly paths: ' + JSON.stringify(calls))
    })
  })

  test('calls into the wasm and round-trips UTF-8 through the polyfilled TextEncoder/TextDecoder', function () {
    check(glue, 'not loaded')
    check(glue.memoryBytes() > 0, 'memoryBytes() is not positive')
    if (typeof glue.version === 'function') check(/^\d+\.\d+\.\d+/.test(glue.version()), 'version() is ' + glue.version())
    var text = '令牌 ✓ 🎫 token'
    check(new TextDecoder().decode(new TextEncoder().encode(text)) === text, 'UTF-8 round trip failed')
    // Bad options: the Rust client is made but refused (it never throws); its ready rejects.
    var refused = new glue.Client({ timeout: 'soon' }, { env: 'release', Error: Error, arm: function () {} })
    check(typeof refused.ready.then === 'function', 'ready is not a promise')
    refused.ready.then(null, function () {})
  })

  test('20 concurrent requests with an expired stored token: one refresh, all resolve', function () {
    // Whether dist/index.js has createClient yet; once it has, this is a hard failure.
    var hasClient = false
    try {
      hasClient = typeof requireFromHere('tokengate').createClient === 'function'
    } catch (e) {
      print('# loading dist/index.js failed: ' + e)
      throw e
    }
    if (!hasClient) return 'skip: dist/index.js does not export createClient yet'
    var scenario = modules.load(SCENARIO)
    var fake = scenario.makeWx(Date.now(), 1)
    root.wx = fake.wx
    var tg = requireFromHere('tokengate')
    return new Promise(function (resolve, reject) {
      scenario.concurrentExpired(tg, fake, function (err, summary) {
        if (err) return reject(err)
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
      // Timers the client left armed (a request deadline it lets lapse) would keep the shell
      // running until they fire; the mini-program would simply go on.
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
      notOk(t.name, e)
      return next(i + 1)
    }
    Promise.resolve(r).then(function (v) {
      if (typeof v === 'string' && v.indexOf('skip') === 0) print('ok - ' + t.name + ' # ' + v)
      else ok(t.name)
    }, function (e) {
      notOk(t.name, e)
    }).then(function () { next(i + 1) })
  }
  next(0)
}).call(this, typeof scriptArgs !== 'undefined' ? scriptArgs : arguments)
