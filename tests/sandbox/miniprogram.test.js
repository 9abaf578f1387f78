'use strict'
// dist/ loaded the way a WeChat mini-program loads it (see miniprogram.js for the sandbox).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { createMiniProgram, makePackage, DIST } = require('./miniprogram')

const SCENARIO = fs.readFileSync(path.join(__dirname, 'scenario.js'), 'utf8')
const DEFAULT_BR = '/miniprogram_npm/tokengate/tokengate_bg.wasm.br'

if (!fs.existsSync(path.join(DIST, 'index.js'))) {
  throw new Error('dist/ is not built: run `npm run build` (npm test builds it first)')
}

function withMiniProgram(opts, fn) {
  return async () => {
    const pkg = makePackage({ npmRoot: opts.npmRoot || '', extra: { 'test/scenario.js': SCENARIO } })
    const mp = createMiniProgram({ root: pkg.root, ...opts })
    try {
      await fn(mp, pkg)
    } finally {
      mp.dispose()
      pkg.cleanup()
    }
  }
}

test('the sandbox has none of the globals the mini-program lacks', withMiniProgram({}, (mp) => {
  for (const name of ['TextEncoder', 'TextDecoder', 'WebAssembly', 'fetch', 'queueMicrotask', 'process', 'Buffer', 'require', 'module', '__dirname', 'setImmediate']) {
    assert.equal(mp.run(`typeof ${name}`), 'undefined', `${name} must not exist in the sandbox`)
  }
  assert.throws(() => mp.run('eval("1")'), /Code generation from strings disallowed/)
  assert.equal(mp.run('typeof WXWebAssembly.instantiate'), 'function')
}))

test('the fake WXWebAssembly accepts only a path string', withMiniProgram({}, async (mp) => {
  const bytes = fs.readFileSync(path.join(DIST, 'tokengate_bg.wasm'))
  await assert.rejects(mp.run('WXWebAssembly').instantiate(bytes, {}), /path must be a string/)
  await assert.rejects(mp.run('WXWebAssembly').instantiate('/nowhere/x.wasm', {}), /no file/)
}))

test('the packaged glue loads through the loader with the default .wasm.br path and calls into wasm', withMiniProgram({}, async (mp) => {
  const loader = mp.require('/miniprogram_npm/tokengate/loader.js')
  const glue = await loader.load()
  assert.deepEqual(mp.calls, [DEFAULT_BR])
  assert.equal(typeof glue.Client, 'function', 'the glue exports the Client class')
  const exported = Object.keys(glue).filter((k) => !k.startsWith('__wbg_'))
  assert.ok(exported.length > 0)
  assert.ok(glue.memoryBytes() > 0, 'memoryBytes() answers from wasm')
  if (typeof glue.version === 'function') assert.match(glue.version(), /^\d+\.\d+\.\d+/)
  // TextEncoder/TextDecoder were polyfilled for the glue (and put on the global object).
  assert.equal(mp.run('typeof TextDecoder'), 'function')
  assert.equal(mp.run('new TextDecoder().decode(new TextEncoder().encode("令牌 ✓ 🎫"))'), '令牌 ✓ 🎫')
  // The same instance is shared: a second load does not instantiate again.
  assert.equal(await loader.load(), glue)
  assert.equal(mp.calls.length, 1)
}))

test('an instance (not { instance, module }) from WXWebAssembly is accepted', withMiniProgram({ shape: 'instance' }, async (mp) => {
  const glue = await mp.require('/miniprogram_npm/tokengate/loader.js').load()
  assert.equal(typeof glue.Client, 'function')
}))

test('a base library without .wasm.br support falls back to the .wasm', withMiniProgram({ acceptBrotli: false }, async (mp) => {
  const glue = await mp.require('/miniprogram_npm/tokengate/loader.js').load()
  assert.equal(typeof glue.Client, 'function')
  assert.deepEqual(mp.calls, [DEFAULT_BR, DEFAULT_BR.replace(/\.br$/, '')])
}))

test('wasmPath overrides the path (npm built inside a subpackage)', withMiniProgram({ npmRoot: 'pkgA' }, async (mp) => {
  const loader = mp.require('/pkgA/miniprogram_npm/tokengate/loader.js')
  await assert.rejects(loader.load(), /could not instantiate/, 'the default path does not exist here')
  const glue = await loader.load({ wasmPath: 'pkgA/miniprogram_npm/tokengate/tokengate_bg.wasm.br' })
  assert.equal(typeof glue.Client, 'function')
  assert.equal(mp.calls[mp.calls.length - 1], 'pkgA/miniprogram_npm/tokengate/tokengate_bg.wasm.br')
}))

test("require('tokengate') resolves through miniprogram_npm and loads without Node globals", withMiniProgram({}, (mp) => {
  const tg = mp.require('tokengate')
  assert.equal(typeof tg, 'object')
}))

const HAS_CLIENT = (() => {
  try {
    return typeof require(path.join(DIST, 'index.js')).createClient === 'function'
  } catch (_) {
    return false
  }
})()

test('20 concurrent requests with an expired stored token: one refresh, all resolve', { skip: HAS_CLIENT ? false : 'dist/index.js does not export createClient yet' }, async () => {
  const pkg = makePackage({ extra: { 'test/scenario.js': SCENARIO } })
  const log = []
  // wx is made inside the context, by the scenario's own code.
  const mp = createMiniProgram({ root: pkg.root, log })
  try {
    const scenario = mp.require('/test/scenario.js')
    const fake = scenario.makeWx(Date.now(), 2)
    mp.context.wx = fake.wx
    const tg = mp.require('tokengate')
    assert.equal(typeof tg.createClient, 'function')
    const summary = await new Promise((resolve, reject) => {
      scenario.concurrentExpired(tg, fake, (err, s) => (err ? reject(err) : resolve(s)))
    })
    assert.match(summary, /20 concurrent requests, 1 refresh call/)
    // Tokens never reach the console.
    for (const [, line] of log) assert.doesNotMatch(line, /A-old|A-new|R-1|R-2/)
  } finally {
    mp.dispose()
    pkg.cleanup()
  }
})

// iOS 15 and older run mini-programs with a Promise polyfill built on setTimeout (no native
// microtasks): every then-callback runs in a later macrotask. The same scenario must hold.
const TIMEOUT_PROMISE = `
(function () {
  function P(executor) {
    var self = this
    self._state = 0; self._value = undefined; self._handlers = []
    function settle(state, value) {
      if (self._state !== 0) return
      self._state = state; self._value = value
      var hs = self._handlers; self._handlers = []
      for (var i = 0; i < hs.length; i++) schedule(self, hs[i])
    }
    function resolve(v) {
      if (v === self) return settle(2, new TypeError('cycle'))
      if (v && (typeof v === 'object' || typeof v === 'function')) {
        var then
        try { then = v.then } catch (e) { return settle(2, e) }
        if (typeof then === 'function') {
          var called = false
          try {
            then.call(v, function (x) { if (!called) { called = true; resolve(x) } }, function (r) { if (!called) { called = true; settle(2, r) } })
          } catch (e) { if (!called) { called = true; settle(2, e) } }
          return
        }
      }
      settle(1, v)
    }
    try { executor(resolve, function (r) { settle(2, r) }) } catch (e) { settle(2, e) }
    self._resolve = resolve
  }
  function schedule(p, h) {
    setTimeout(function () {
      var cb = p._state === 1 ? h.onOk : h.onErr
      if (typeof cb !== 'function') {
        if (p._state === 1) h.resolve(p._value); else h.reject(p._value)
        return
      }
      var r
      try { r = cb(p._value) } catch (e) { return h.reject(e) }
      h.resolve(r)
    }, 0)
  }
  P.prototype.then = function (onOk, onErr) {
    var self = this
    return new P(function (resolve, reject) {
      var h = { onOk: onOk, onErr: onErr, resolve: resolve, reject: reject }
      if (self._state === 0) self._handlers.push(h); else schedule(self, h)
    })
  }
  P.prototype.catch = function (onErr) { return this.then(undefined, onErr) }
  P.prototype.finally = function (f) {
    return this.then(function (v) { return P.resolve(f()).then(function () { return v }) },
      function (e) { return P.resolve(f()).then(function () { throw e }) })
  }
  P.resolve = function (v) { return v instanceof P ? v : new P(function (r) { r(v) }) }
  P.reject = function (e) { return new P(function (_, r) { r(e) }) }
  P.all = function (list) {
    return new P(function (resolve, reject) {
      var out = [], left = list.length
      if (!left) return resolve(out)
      list.forEach(function (x, i) {
        P.resolve(x).then(function (v) { out[i] = v; if (--left === 0) resolve(out) }, reject)
      })
    })
  }
  P.race = function (list) {
    return new P(function (resolve, reject) { list.forEach(function (x) { P.resolve(x).then(resolve, reject) }) })
  }
  P.__timeoutPolyfill = true
  globalThis.Promise = P
})()
`

test('the same scenario with a setTimeout-based Promise polyfill (iOS <= 15)', { skip: HAS_CLIENT ? false : 'dist/index.js does not export createClient yet' }, async () => {
  const pkg = makePackage({ extra: { 'test/scenario.js': SCENARIO } })
  const mp = createMiniProgram({ root: pkg.root })
  try {
    mp.run(TIMEOUT_PROMISE)
    assert.equal(mp.run('Promise.__timeoutPolyfill'), true)
    const scenario = mp.require('/test/scenario.js')
    const fake = scenario.makeWx(Date.now(), 2)
    mp.context.wx = fake.wx
    const tg = mp.require('tokengate')
    const summary = await new Promise((resolve, reject) => {
      scenario.concurrentExpired(tg, fake, (err, s) => (err ? reject(err) : resolve(s)))
    })
    assert.match(summary, /20 concurrent requests, 1 refresh call/)
  } finally {
    mp.dispose()
    pkg.cleanup()
  }
})
