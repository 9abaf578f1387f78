'use strict'
// A minimal Taro 4 app (tests/frameworks/taro: React, webpack 5, @tarojs/plugin-platform-weapp)
// that imports tokengate, built with `taro build --type weapp`; the README's recipe places the
// wasm (copy.patterns to dist/miniprogram_npm/tokengate/); the output runs in the mini-program
// sandbox against the example server: a silent login, a refresh, a replay.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { buildApp, listFiles } = require('./lib/build')
const { runApp, checkRun } = require('./lib/app')

let built = null
test.before(async () => {
  built = await buildApp('taro')
})
test.after(() => { if (built) fs.rmSync(built.out, { recursive: true, force: true }) })

test('taro build --type weapp: tokengate bundled, only the .wasm.br copied, no JS build', (t) => {
  t.diagnostic(`install: ${built.install.installed ? `${built.install.secs.toFixed(1)} s (npm ci)` : 'cached'}; build: ${built.buildSecs.toFixed(1)} s`)
  const files = listFiles(built.out)
  assert.ok(files.includes('app.js') && files.includes('app.json'))
  assert.deepEqual(files.filter((f) => /tokengate|\.wasm/.test(f)), ['miniprogram_npm/tokengate/tokengate_bg.wasm.br'])
  const js = files.filter((f) => /\.js$/.test(f)).map((f) => fs.readFileSync(path.join(built.out, f), 'utf8')).join('\n')
  assert.match(js, /WXWebAssembly/, 'the loader is in the bundle')
  assert.doesNotMatch(js, /__tg_pages|asmFunc/, 'the JS build of the core is not in the bundle')
})

test('the weapp output runs: silent login, one refresh, one replay', async () => {
  const run = await runApp({ root: built.out })
  checkRun(assert, run)
  assert.deepEqual(run.calls, ['/miniprogram_npm/tokengate/tokengate_bg.wasm.br'])
  assert.equal(run.pageKind, 'Page')
})

test('without the copy.patterns step: ready fails, saying where it looked and what to copy or set', async () => {
  fs.rmSync(path.join(built.out, 'miniprogram_npm'), { recursive: true })
  const run = await runApp({ root: built.out })
  assert.ok(run.error, 'the app reported an error')
  assert.match(run.error.message, /\/miniprogram_npm\/tokengate\/tokengate_bg\.wasm\.br/)
  assert.match(run.error.message, /wasmPath/)
})
