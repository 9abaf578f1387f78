'use strict'
// WeChat's own tools on example-miniprogram/: "build npm" (miniprogram-ci packNpmManually, what
// the project's packNpmRelationList asks for) and the devtools' compile
// (miniprogram-ci getCompiledResult, offline), then the compiled code package run in the
// mini-program sandbox against the example server: the silent login at launch, the list
// page's requests, then the server expires the access token and a pull-to-refresh is
// rejected, refreshed once and replayed.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { ensureInstalled, withLock } = require('./lib/install')
const { runApp } = require('./lib/app')

// README's recipe for a package that needs base library >= 2.14.0: the JS build and the
// uncompressed wasm stay out of the upload.
const IGNORE = [
  { type: 'file', value: 'miniprogram_npm/tokengate/tokengate_bg.wasm.js' },
  { type: 'file', value: 'miniprogram_npm/tokengate/tokengate_bg.wasm' },
]

let out = null
let ci = null
let install = null
test.before(async () => {
  install = await withLock('wechat', () => ensureInstalled('wechat'))
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-wechat-out-'))
  const r = spawnSync(process.execPath, [path.join(__dirname, 'lib', 'wechat-ci.js'), out, JSON.stringify(IGNORE)], { encoding: 'utf8', timeout: 10 * 60 * 1000 })
  if (r.status !== 0) throw new Error(`wechat-ci failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${(r.stderr || '').slice(-4000)}`)
  ci = JSON.parse(r.stdout.trim().split('\n').pop())
})
test.after(() => { if (out) fs.rmSync(out, { recursive: true, force: true }) })

test('build npm copies dist/ verbatim; packOptions.ignore keeps the JS build and the .wasm out', (t) => {
  t.diagnostic(`install: ${install.installed ? `${install.secs.toFixed(1)} s (npm ci)` : 'cached'}; build npm: ${ci.packSecs.toFixed(1)} s; compile: ${ci.compileSecs.toFixed(1)} s`)
  assert.equal(ci.pack[0].miniProgramPackNum, 1, 'tokengate is packed as a mini-program package (its "miniprogram" folder)')
  const npm = ci.files.filter((f) => f.startsWith('miniprogram_npm/tokengate/')).map((f) => f.slice('miniprogram_npm/tokengate/'.length))
  // ci.dist: the package as installed for this run (dist/ may be rebuilt meanwhile).
  const dist = ci.dist.filter((f) => !/\.d\.ts$/.test(f) && !IGNORE.some((i) => i.value.endsWith('/' + f)))
  assert.deepEqual(npm, dist)
  assert.ok(dist.includes('wasm2js.js') && !npm.includes('tokengate_bg.wasm.js'))
  const br = crypto.createHash('sha256').update(fs.readFileSync(path.join(out, 'miniprogram_npm/tokengate/tokengate_bg.wasm.br'))).digest('hex')
  assert.equal(br, ci.br, 'the .wasm.br is copied byte for byte')
})

test('the compiled package runs: silent login, the list page, one refresh, the replays', async () => {
  const run = await runApp({
    root: out,
    drive: async ({ page, loaded, ext }) => {
      const first = await loaded
      ext.expireAccess()
      const second = await page.onPullDownRefresh()
      // JSON: the values come from the sandbox's realm.
      return JSON.parse(JSON.stringify({ first: first.map((r) => r.status), second: second.map((r) => r.status), data: page.data }))
    },
  })
  assert.equal(run.error, null, JSON.stringify(run.error))
  assert.deepEqual(run.result.first, ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
  assert.deepEqual(run.result.second, ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
  assert.equal(run.result.data.items.length, 10)
  assert.equal(run.result.data.error, '')
  assert.deepEqual(run.calls, ['/miniprogram_npm/tokengate/tokengate_bg.wasm.br'])
  const s = run.stats
  assert.equal(s.logins.ok, 1, 'one silent login')
  assert.equal(s.refreshes.ok, 1, 'one refresh for the two rejected requests')
  assert.equal(s.api.expired, 2)
  assert.equal(s.api.ok, 4)
  for (const p of ['/api/profile', '/api/items']) {
    assert.deepEqual(run.wire.filter((w) => w.path === p).map((w) => w.statusCode), [200, 401, 200], `${p}: sent, rejected, replayed`)
  }
})

test('a base library without WXWebAssembly (< 2.13) and the main entry: the error names the wasm2js entry', async () => {
  const run = await runApp({ root: out, wasm: 'none', drive: async ({ loaded }) => Array.from(await loaded, (r) => r.reason && r.reason.message) })
  assert.equal(run.error, null)
  assert.ok(run.result.some((m) => m && /tokengate\/wasm2js/.test(m)), JSON.stringify(run.result))
})
