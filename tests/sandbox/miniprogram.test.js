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
  assert.equal(typeof glue.Gate, 'function', 'the glue exports the Gate class')
  const exported = Object.keys(glue).filter((k) => !k.startsWith('__wbg_'))
  assert.ok(exported.length > 0)
  if (typeof glue.memory_bytes === 'function') assert.ok(glue.memory_bytes() > 0, 'memory_bytes() answers from wasm')
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
  assert.equal(typeof glue.Gate, 'function')
}))

test('a base library without .wasm.br support falls back to the .wasm', withMiniProgram({ acceptBrotli: false }, async (mp) => {
  const glue = await mp.require('/miniprogram_npm/tokengate/loader.js').load()
  assert.equal(typeof glue.Gate, 'function')
  assert.deepEqual(mp.calls, [DEFAULT_BR, DEFAULT_BR.replace(/\.br$/, '')])
}))

test('wasmPath overrides the path (npm built inside a subpackage)', withMiniProgram({ npmRoot: 'pkgA' }, async (mp) => {
  const loader = mp.require('/pkgA/miniprogram_npm/tokengate/loader.js')
  await assert.rejects(loader.load(), /could not instantiate/, 'the default path does not exist here')
  const glue = await loader.load({ wasmPath: 'pkgA/miniprogram_npm/tokengate/tokengate_bg.wasm.br' })
  assert.equal(typeof glue.Gate, 'function')
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
