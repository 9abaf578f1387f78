'use strict'
// A minimal uni-app (tests/frameworks/uniapp: Vue 3, @dcloudio/vite-plugin-uni) that imports
// tokengate, built with `uni build -p mp-weixin`; the README's recipe places the wasm (only
// tokengate_bg.wasm.br into src/static/, wasmPath '/static/tokengate_bg.wasm.br'); the output
// runs in the mini-program sandbox against the example server: a silent login, a refresh, a
// replay.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { buildApp, listFiles } = require('./lib/build')
const { runApp, checkRun } = require('./lib/app')

let built = null
test.before(async () => {
  built = await buildApp('uniapp')
})
test.after(() => { if (built) fs.rmSync(built.out, { recursive: true, force: true }) })

test('uni build -p mp-weixin: tokengate bundled, static/ holds the one .wasm.br, no JS build', (t) => {
  t.diagnostic(`install: ${built.install.installed ? `${built.install.secs.toFixed(1)} s (npm ci)` : 'cached'}; build: ${built.buildSecs.toFixed(1)} s`)
  const files = listFiles(built.out)
  assert.ok(files.includes('app.js') && files.includes('app.json'))
  assert.deepEqual(files.filter((f) => /tokengate|\.wasm/.test(f)), ['static/tokengate_bg.wasm.br'])
  const js = files.filter((f) => /\.js$/.test(f)).map((f) => fs.readFileSync(path.join(built.out, f), 'utf8')).join('\n')
  assert.match(js, /WXWebAssembly/, 'the loader is in the bundle')
  assert.doesNotMatch(js, /__tg_pages|asmFunc/, 'the JS build of the core is not in the bundle')
})

test('the mp-weixin output runs: silent login, one refresh, one replay', async () => {
  const run = await runApp({ root: built.out })
  checkRun(assert, run)
  assert.deepEqual(run.calls, ['/static/tokengate_bg.wasm.br'])
})
