'use strict'
// The demo (npm run demo) and its headless runner: node --test tests/js/demo.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const EX = path.join(__dirname, '..', '..', 'example-miniprogram')
const RUN = path.join(EX, 'demo', 'run.js')
const { createAuthServer } = require(path.join(EX, 'server'))
const { createWx } = require(path.join(EX, 'demo', 'wx.js'))
const { Runtime, parseUrl } = require(path.join(EX, 'demo', 'runtime.js'))

const SUMMARY = /^summary: requests=(\d+) ok=(\d+) failed=(\d+) refreshes=(\d+) logins=(\d+) hung=(\d+)$/

function tmpFile (name) {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-demo-')), name)
}

function runDemo (args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => { stdout += c })
    child.stderr.on('data', (c) => { stderr += c })
    const t = setTimeout(() => child.kill('SIGKILL'), 120000)
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }) })
  })
}

function checkRun (r) {
  const lines = r.stdout.trimEnd().split('\n')
  const last = lines[lines.length - 1]
  const m = SUMMARY.exec(last)
  assert.ok(m, `the last line is the summary, got: ${last}\n${r.stderr}`)
  assert.equal(r.code, 0, `demo exit status (stderr: ${r.stderr})`)
  const [requests, ok, failed, refreshes, logins, hung] = m.slice(1).map(Number)
  assert.deepEqual({ requests, ok, failed, refreshes, logins, hung },
    { requests: 37, ok: 33, failed: 4, refreshes: 4, logins: 5, hung: 0 })
  // Tokens appear only as short hashes: g<n>·<6 hex> / r<n>·<6 hex>, never as themselves.
  assert.match(r.stdout, /g1·[0-9a-f]{6}/)
  assert.match(r.stdout, /r1·[0-9a-f]{6}/)
  assert.doesNotMatch(r.stdout + r.stderr, /[A-Za-z0-9_-]{30,}/, 'something token-like was printed')
  for (const step of ['== 1.', '== 2.', '== 3.', '== 4.', '== 5.', '== 6.', '== 7.']) assert.ok(r.stdout.includes(step), step)
  // exactly one refresh call while the 10 requests were rejected, and every one replayed once
  const step2 = r.stdout.split('== 2.')[1].split('== 3.')[0]
  assert.equal((step2.match(/\[REFRESH\]/g) || []).length, 1)
  assert.equal((step2.match(/ replay /g) || []).length, 10)
  // Rule 6: the login endpoint down for 2 s costs one failed pull-to-refresh (its two requests
  // that need a token reject HTTP), not the login page; the next pull logs in again.
  const step4 = r.stdout.split('== 4.')[1].split('== 5.')[0]
  const loginLines = step4.match(/\[LOGIN\] POST \/auth\/login\s+\S+/g) || []
  assert.equal(loginLines.length, 2, step4)
  assert.match(loginLines[0], /\s503(\/50300)?$/)
  assert.match(loginLines[1], /\s200$/)
  assert.equal((step4.match(/rejected \/api\/\S+\s+TokenGateError HTTP/g) || []).length, 2, step4)
  assert.match(step4, /event 'login' ok=false/)
  assert.doesNotMatch(step4, /loginRequired|login +onLoad|LOGIN_REQUIRED/)
  assert.match(step4, /shows "Request failed \(HTTP\)\."/)
  // ... whereas a refused login (step 5) does open the login page
  const step5 = r.stdout.split('== 5.')[1].split('== 6.')[0]
  assert.match(step5, /event 'loginRequired'/)
  assert.match(step5, /login +onLoad/)
}

test('npm run demo: the script runs end to end and prints the expected summary', { timeout: 130000 }, async () => {
  const [plain, envelope] = await Promise.all([
    runDemo(['--storage', tmpFile('storage.json')]),
    runDemo(['--envelope', '--storage', tmpFile('storage.json')])
  ])
  checkRun(plain)
  checkRun(envelope)
  assert.match(envelope.stdout, /200\/40101/)
})

// ---- the runner's wx ----------------------------------------------------------------------

function wxCall (wx, name, opts) {
  return new Promise((resolve) => {
    wx[name](Object.assign({}, opts, {
      success: (res) => resolve({ ok: true, res }),
      fail: (res) => resolve({ ok: false, res })
    }))
  })
}

async function withServer (options, fn) {
  const srv = createAuthServer(Object.assign({ dev: true }, options)) // wx.login mints at /__dev/code
  await srv.listen(0)
  try { await fn(srv) } finally { await srv.close() }
}

test('runner wx: login codes the server accepts, request over HTTP with wx semantics', async () => {
  await withServer({}, async (srv) => {
    const wires = []
    const wx = createWx({ codeURL: `${srv.url}/__dev/code`, onWire: (w) => wires.push(w) })
    try {
      const l = await wxCall(wx, 'login', {})
      assert.equal(l.ok, true)
      assert.equal(l.res.errMsg, 'login:ok')
      const r = await wxCall(wx, 'request', { url: `${srv.url}/auth/login`, method: 'POST', data: { code: l.res.code } })
      assert.equal(r.res.statusCode, 200)
      assert.equal(typeof r.res.data.accessToken, 'string') // dataType json: parsed
      // success for every HTTP status
      const e = await wxCall(wx, 'request', { url: `${srv.url}/api/items` })
      assert.equal(e.ok, true)
      assert.equal(e.res.statusCode, 401)
      // GET data goes to the query string
      const q = await wxCall(wx, 'request', { url: `${srv.url}/api/echo`, data: { a: 1 }, header: { Authorization: `Bearer ${r.res.data.accessToken}` } })
      assert.deepEqual(q.res.data.query, { a: '1' })
      // text bodies stay text with dataType other than json
      const t = await wxCall(wx, 'request', { url: `${srv.url}/health`, dataType: 'text' })
      assert.equal(typeof t.res.data, 'string')
      // fail only for transport errors
      const dead = await wxCall(wx, 'request', { url: 'http://127.0.0.1:1/x' })
      assert.equal(dead.ok, false)
      assert.match(dead.res.errMsg, /^request:fail/)
      const bad = await wxCall(wx, 'request', { url: 'not a url' })
      assert.equal(bad.ok, false)
      assert.equal(wires.length, 5)
    } finally { wx.__close() }
  })
})

test('runner wx: timeout, abort, and at most 10 requests on the wire at once', async () => {
  await withServer({ faults: { apiLatency: 150 } }, async (srv) => {
    const wx = createWx({ codeURL: `${srv.url}/__dev/code` })
    try {
      const t = await wxCall(wx, 'request', { url: `${srv.url}/api/items`, timeout: 50 })
      assert.deepEqual([t.ok, t.res.errMsg], [false, 'request:fail timeout'])
      const aborted = new Promise((resolve) => {
        const task = wx.request({ url: `${srv.url}/api/items`, fail: (res) => resolve(res.errMsg), success: () => resolve('success') })
        setTimeout(() => task.abort(), 20)
      })
      assert.equal(await aborted, 'request:fail abort')
      await new Promise((resolve) => setTimeout(resolve, 200))
      srv.resetStats()
      await Promise.all(Array.from({ length: 10 }, () => wxCall(wx, 'request', { url: `${srv.url}/api/items` })))
      assert.equal(srv.stats().maxInFlight, 10)
    } finally { wx.__close() }
  })
})

test("runner wx: past 10 tasks in flight a call fails as WeChat's does ('exceed max task count'), it does not wait", async () => {
  await withServer({ faults: { apiLatency: 150 } }, async (srv) => {
    const wx = createWx({ codeURL: `${srv.url}/__dev/code` })
    try {
      const url = `${srv.url}/api/items`
      const first = Array.from({ length: 10 }, () => wxCall(wx, 'request', { url }))
      assert.equal(wx.__tasks(), 10)
      // the 11th request, an upload and a download: refused at once, the ten go on
      const t0 = Date.now()
      const over = await Promise.all([wxCall(wx, 'request', { url }), wxCall(wx, 'uploadFile', { url, filePath: '/tmp/x', name: 'f' }), wxCall(wx, 'downloadFile', { url })])
      assert.ok(Date.now() - t0 < 100, 'failed at once, not after waiting for a slot')
      assert.deepEqual(over.map((r) => [r.ok, r.res.errMsg]), [
        [false, 'request:fail exceed max task count'],
        [false, 'uploadFile:fail exceed max task count'],
        [false, 'downloadFile:fail exceed max task count']
      ])
      const done = await Promise.all(first)
      assert.ok(done.every((r) => r.ok && r.res.statusCode === 401), 'the ten in flight were answered')
      assert.equal(srv.stats().requests, 10, 'the refused calls never reached the server')
      assert.equal(wx.__exceeded(), 3)
      assert.equal(wx.__tasks(), 0)

      // A task holds its slot until its callbacks run: one started from a callback finds the
      // slot free; one started right after abort(), before the fail callback, does not.
      const tasks = Array.from({ length: 10 }, () => wx.request({ url }))
      tasks[0].abort()
      const early = await wxCall(wx, 'request', { url })
      assert.equal(early.res.errMsg, 'request:fail exceed max task count')
      for (const t of tasks) t.abort()
      await new Promise((resolve) => setTimeout(resolve, 10))
      assert.equal(wx.__tasks(), 0)
      const again = await new Promise((resolve) => {
        const ts = Array.from({ length: 10 }, (_, i) => wx.request({
          url,
          // from the first one's complete callback: its own slot is already given back
          complete: i === 0 ? () => wxCall(wx, 'request', { url }).then(resolve) : undefined
        }))
        setTimeout(() => ts[0].abort(), 20)
      })
      assert.equal(again.ok, true)
    } finally { wx.__close() }
  })
})

test('runner wx: storage persists to a file across instances; bad files count as empty', () => {
  const file = tmpFile('s.json')
  const a = createWx({ codeURL: 'http://127.0.0.1:1/', storageFile: file })
  assert.equal(a.getStorageSync('k'), '')
  a.setStorageSync('k', { x: 1 })
  a.setStorageSync('s', 'text')
  const b = createWx({ codeURL: 'http://127.0.0.1:1/', storageFile: file })
  assert.deepEqual(b.getStorageSync('k'), { x: 1 })
  assert.equal(b.getStorageSync('s'), 'text')
  b.removeStorageSync('k')
  assert.equal(createWx({ codeURL: 'x', storageFile: file }).getStorageSync('k'), '')
  fs.writeFileSync(file, 'not json')
  assert.equal(createWx({ codeURL: 'x', storageFile: file }).getStorageSync('s'), '')
})

test('runner runtime: App, Page, getApp, navigation and the tokengate module resolution', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-mp-'))
  fs.writeFileSync(path.join(root, 'app.json'), JSON.stringify({ pages: ['pages/a/a', 'pages/b/b'] }))
  fs.writeFileSync(path.join(root, 'app.js'), "const tg = require('tokengate'); App({ globalData: { tg: tg.name }, onLaunch () { this.launched = true } })")
  fs.mkdirSync(path.join(root, 'pages', 'a'), { recursive: true })
  fs.mkdirSync(path.join(root, 'pages', 'b'), { recursive: true })
  fs.writeFileSync(path.join(root, 'pages', 'a', 'a.js'), "Page({ data: { n: 0, o: { list: [] } }, onLoad () { this.setData({ n: 1, 'o.list[1]': 'x' }) }, go () { wx.navigateTo({ url: '/pages/b/b?id=7&q=a%20b' }) } })")
  fs.writeFileSync(path.join(root, 'pages', 'b', 'b.js'), "const u = require('/pages/a/a.js'); Page({ onLoad (q) { this.setData({ q, app: getApp().globalData.tg, depth: getCurrentPages().length }) } })")
  const logs = []
  const rt = new Runtime({
    root,
    makeWx: (nav) => createWx({ codeURL: 'x', nav }),
    resolveNpm: (name) => { assert.equal(name, 'tokengate'); return { name: 'fake-tokengate' } },
    log: (kind, route, text) => logs.push(`${kind} ${route} ${text}`)
  })
  rt.launch()
  assert.equal(rt.app.launched, true)
  assert.equal(rt.top().data.n, 1)
  assert.equal(rt.top().data.o.list.length, 2)
  assert.equal(rt.top().data.o.list[1], 'x')
  rt.fire('go')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(rt.top().route, 'pages/b/b')
  assert.deepEqual(rt.top().data.q, { id: '7', q: 'a b' })
  assert.equal(rt.top().data.app, 'fake-tokengate')
  assert.equal(rt.top().data.depth, 2)
  rt.navigateBack()
  assert.equal(rt.top().route, 'pages/a/a')
  assert.deepEqual(parseUrl('/pages/x/x?a=1'), { route: 'pages/x/x', query: { a: '1' } })
  assert.ok(logs.some((l) => l.includes('onLoad?id=7')))
  assert.throws(() => rt.require('../../../etc/passwd', root), /not found/)
})
