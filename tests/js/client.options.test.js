'use strict'
// What real mini-program teams need of the client (issue 12): WeChat's limit of 10 network
// calls, login/refresh bodies and headers real servers accept, default headers, progress,
// callbacks refused, tokens only where they belong. Against dist/ with the fake wx.
const test = require('node:test')
const assert = require('node:assert/strict')
const { setup, sleep, outcome } = require('./client.fake')

const tick = () => sleep(5)

// As WeChat: request/uploadFile/downloadFile share 10 slots; the 11th call in flight fails.
function limitTo10(wx) {
  let inFlight = 0
  const stats = { max: 0, exceeded: 0 }
  for (const name of ['request', 'uploadFile', 'downloadFile']) {
    const orig = wx[name]
    wx[name] = (o) => {
      if (inFlight >= 10) {
        stats.exceeded++
        setTimeout(() => o.fail({ errMsg: 'request:fail exceed max task count' }), 0)
        return { abort() {} }
      }
      inFlight++
      stats.max = Math.max(stats.max, inFlight)
      let done = false
      const end = () => { if (!done) { done = true; inFlight-- } }
      const wrapped = Object.assign({}, o, {
        success: (r) => { end(); o.success(r) },
        fail: (e) => { end(); o.fail(e) }
      })
      return orig(wrapped)
    }
  }
  return stats
}

test('maxConcurrent: 20 requests held by the login go out at most 10 at a time, the login first; all succeed', async () => {
  const { wx, server, client } = setup()
  const stats = limitTo10(wx)
  server.routes['/slow'] = (o, s) => Object.assign(s.handle(Object.assign({}, o, { url: 'https://api.example.com/plain' })), { delay: 15 })
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(client.get('/slow?i=' + i))))
  assert.deepEqual(all.filter((o) => !o.ok).map((o) => o.error.code), [])
  assert.equal(stats.exceeded, 0)
  assert.equal(stats.max, 10)
  assert.equal(server.count.login, 1)
  // With 10 slots busy, a refresh still goes first: no request waits in front of it.
  const c2 = setup({ maxConcurrent: 3 }, { seed: true })
  const s2 = limitTo10(c2.wx)
  c2.server.expireAll()
  const r2 = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(c2.client.get('/x' + i))))
  assert.ok(r2.every((o) => o.ok), JSON.stringify(r2.filter((o) => !o.ok).map((o) => o.error.code)))
  assert.equal(c2.server.count.refresh, 1)
  assert.ok(s2.max <= 3, 'maxConcurrent: 3 is kept: ' + s2.max)
})

test('maxConcurrent: a request timeout counts the time waiting for a slot; an aborted waiter leaves the line', async () => {
  const { server, client } = setup({ maxConcurrent: 1 }, { seed: true })
  server.routes['/hang'] = () => ({ hang: true })
  const first = outcome(client.get('/hang', undefined, { timeout: 60 }))
  await sleep(5)
  const queued = client.get('/me', undefined, { timeout: 20 })
  const o = await outcome(queued)
  assert.equal(o.error.code, 'TIMEOUT')
  assert.equal((await first).error.code, 'TIMEOUT')
  assert.equal((await client.get('/me')).ok, true, 'the slot was given back')
  const blocker = client.get('/hang', undefined, { timeout: 80 })
  await sleep(5)
  const waiting = client.get('/me')
  waiting.abort()
  assert.equal((await outcome(waiting)).error.code, 'ABORTED')
  await outcome(blocker)
})

test('login.data / refresh.data: an object, or a function called for every call (a promise allowed)', async () => {
  let n = 0
  const { server, client } = setup({
    login: { data: async ({ code }) => ({ appId: 'wx1', sig: code + '-' + (++n), code: 'not this' }) },
    refresh: { data: { appId: 'wx1' } }
  })
  await client.get('/a')
  const login = server.log.find((l) => l.path === '/auth/login')
  assert.equal(login.data.appId, 'wx1')
  assert.match(login.data.code, /^code-/, 'the code wins over a data field of the same name')
  assert.equal(login.data.sig, login.data.code + '-1')
  server.expireAll()
  await client.get('/b')
  const refresh = server.log.find((l) => l.path === '/auth/refresh')
  assert.deepEqual(Object.keys(refresh.data).sort(), ['appId', 'refreshToken'])
  assert.equal(refresh.header.Authorization, undefined, 'the refresh call never carries the access token')
  await client.logout()
  await client.login()
  assert.equal(server.log.filter((l) => l.path === '/auth/login')[1].data.sig.endsWith('-2'), true, 'called again, fresh')
})

test('login() resolves with the login body less its token fields; undefined when it joined a refresh', async () => {
  const { server, client } = setup({ tokenFields: { accessToken: 'data.token', refreshToken: 'data.refresh', expiresIn: 'data.ttl' } })
  server.routes['/auth/login'] = (o, s) => {
    const t = s.issue()
    return { statusCode: 200, data: { code: 0, data: { token: t.accessToken, refresh: t.refreshToken, ttl: 3600, user: { nick: 'Ann' } } } }
  }
  const body = await client.login()
  assert.deepEqual(body, { code: 0, data: { ttl: 3600, user: { nick: 'Ann' } } })
  assert.equal((await client.get('/me')).token, 'acc-1')
})

test('header: the client defaults go on every call, login and refresh included; a request header wins; the auth header is the client\'s', async () => {
  const { server, client } = setup({ header: { 'X-App': 'shop', 'X-Tenant': 't1' }, refresh: { header: { 'X-Refresh': '1' } } }, { seed: true })
  await client.get('/a', undefined, { header: { 'X-Tenant': 't2', Authorization: 'Bearer forged' } })
  const a = server.log.find((l) => l.path === '/a')
  assert.equal(a.header['X-App'], 'shop')
  assert.equal(a.header['X-Tenant'], 't2')
  assert.equal(a.header.Authorization, 'Bearer acc-1')
  server.expireAll()
  await client.get('/b')
  const r = server.log.find((l) => l.path === '/auth/refresh')
  assert.equal(r.header['X-App'], 'shop')
  assert.equal(r.header['X-Refresh'], '1')
  assert.equal(r.header['content-type'], 'application/json')
})

test('upload/download: onProgressUpdate on the promise, kept across a replay', async () => {
  const { wx, server, client } = setup({}, { seed: true })
  const tasks = []
  const orig = wx.uploadFile
  wx.uploadFile = (o) => {
    const t = orig(o)
    const listeners = []
    t.onProgressUpdate = (fn) => listeners.push(fn)
    tasks.push(listeners)
    setTimeout(() => listeners.forEach((fn) => fn({ progress: 50 * tasks.length })), 0)
    return t
  }
  server.expireAll() // first send: 401, then one refresh and the replay
  const seen = []
  const p = client.upload({ url: '/up', filePath: 'wxfile://a', name: 'f' })
  assert.equal(p.onProgressUpdate((r) => seen.push(r.progress)), p)
  const v = await p
  assert.equal(v.ok, true)
  assert.equal(tasks.length, 2, 'sent twice')
  assert.deepEqual(seen, [50, 100], 'progress of both sends reached the one listener')
})

test('success/fail/complete in request options are refused with CONFIG saying the client returns a promise', async () => {
  const { wx, client } = setup({}, { seed: true })
  await client.ready
  const before = wx.requests.length
  for (const key of ['success', 'fail', 'complete']) {
    const o = await outcome(client.request({ url: '/a', [key]: () => {} }))
    assert.equal(o.error.code, 'CONFIG')
    assert.match(o.error.message, new RegExp(key + '.*promise'))
    const u = await outcome(client.upload({ url: '/u', filePath: 'x', name: 'f', [key]: () => {} }))
    assert.equal(u.error.code, 'CONFIG')
  }
  assert.equal(wx.requests.length, before, 'nothing was sent')
})

test('tokens only where they belong: login/refresh URLs outside allowedOrigins, a beforeRequest that moves the request, control characters', async () => {
  const quiet = console.error
  console.error = () => {}
  try {
    for (const [opts, name] of [
      [{ refresh: { url: 'https://evil.example.net/refresh' } }, 'refresh.url'],
      [{ login: { url: 'https://evil.example.net/login' } }, 'login.url'],
      [{ authHeader: 'X-T\r\nX-Evil: 1' }, 'authHeader'],
      [{ authScheme: 'Bearer\n' }, 'authScheme'],
      [{ header: { 'X\nY': '1' } }, 'header']
    ]) {
      const { client } = setup(opts)
      const r = await outcome(client.ready)
      assert.equal(r.error.code, 'CONFIG', name)
      assert.ok(r.error.message.includes(name), r.error.message)
    }
  } finally {
    console.error = quiet
  }
  const { wx, client } = setup({ beforeRequest: (o) => Object.assign({}, o, { url: 'https://evil.example.net/steal' }) }, { seed: true })
  const o = await outcome(client.get('/a'))
  assert.equal(o.error.code, 'CONFIG')
  assert.match(o.error.message, /another origin/)
  assert.ok(!wx.requests.some((r) => r.url.includes('evil')), 'never sent')
  // Moving within the origin (a signed path, a query) is fine.
  const ok = setup({ beforeRequest: (o2) => Object.assign({}, o2, { url: o2.url + '?sig=1' }) }, { seed: true })
  assert.equal((await ok.client.get('/a')).ok, true)
  await tick()
})

test('refresh.data as a function gets { refreshToken } whatever the body field is called', async () => {
  const seen = []
  const { server, client } = setup({ refresh: { field: 'refresh_token', data: (arg) => { seen.push(arg); return { client_id: 'mp' } } } }, { seed: true })
  server.routes['/auth/refresh'] = (o, s) => {
    const rt = o.data && o.data.refresh_token
    if (!s.refreshTokens.has(rt)) return { statusCode: 400, data: { error: 'invalid_grant' } }
    s.refreshTokens.delete(rt)
    return { statusCode: 200, data: s.issue() }
  }
  server.expireAll()
  assert.equal((await client.get('/a')).token, 'acc-2')
  assert.deepEqual(seen, [{ refreshToken: 'ref-1' }])
  const body = server.log.find((l) => l.path === '/auth/refresh').data
  assert.deepEqual(body, { client_id: 'mp', refresh_token: 'ref-1' })
})

test('a request waiting for a slot while a refresh starts goes out with the new token, never the old one (rule 2)', async () => {
  const { server, client } = setup({ maxConcurrent: 1 }, { seed: true })
  server.routes['/slow'] = (o, s) => Object.assign(s.handle(Object.assign({}, o, { url: 'https://api.example.com/plain' })), { delay: 20 })
  await client.ready
  server.expireAll() // acc-1 is revoked: /slow answers 401 and starts the one refresh
  const a = client.get('/slow')
  const b = client.get('/b') // sent by the core with acc-1, waiting for the one slot
  const [ra, rb] = await Promise.all([a, b])
  assert.equal(ra.token, 'acc-2')
  assert.equal(rb.token, 'acc-2')
  const toB = server.log.filter((l) => l.path === '/b').map((l) => l.header.Authorization)
  assert.deepEqual(toB, ['Bearer acc-2'], 'never sent with the token that was replaced while it waited')
  assert.equal(server.count.refresh, 1)
})

test('request options whose getter calls the client again (re-entrance from inside the wasm) work', async () => {
  const { client } = setup({}, { seed: true })
  await client.ready
  let inner = null
  const opts = {
    get url () {
      if (!inner) inner = client.get('/inner', undefined, { header: { 'X-Nested': '1' } })
      return '/outer'
    }
  }
  const outer = await client.request(opts)
  assert.equal(outer.path, '/outer')
  assert.equal((await inner).path, '/inner')
  assert.equal((await client.get('/after')).ok, true)
})

test('an async beforeRequest that moves the request to another origin rejects CONFIG at once, not at the request deadline', { timeout: 10000 }, async () => {
  const { wx, client } = setup({ timeout: 60000, beforeRequest: async (o) => Object.assign({}, o, { url: 'https://evil.example.net/steal' }) }, { seed: true })
  const o = await outcome(client.get('/a'))
  assert.equal(o.error.code, 'CONFIG')
  assert.match(o.error.message, /another origin/)
  assert.ok(!wx.requests.some((r) => r.url.includes('evil')), 'never sent')
})

test('login.data as an async function: its fields go into the login body, and the call keeps to maxConcurrent', async () => {
  const { server, client } = setup({ maxConcurrent: 1, login: { data: async ({ code }) => ({ sig: 'sig-' + code }) } })
  const r = await Promise.all([client.get('/a'), client.get('/b')])
  assert.deepEqual(r.map((x) => x.token), ['acc-1', 'acc-1'])
  const login = server.log.find((l) => l.path === '/auth/login')
  assert.equal(login.data.sig, 'sig-' + login.data.code)
  const failing = setup({ login: { data: () => Promise.reject(new Error('no signer')) } })
  const o = await outcome(failing.client.get('/a'))
  assert.equal(o.error.code, 'NETWORK')
  assert.match(o.error.errMsg, /no signer/)
})
