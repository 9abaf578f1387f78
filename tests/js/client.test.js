'use strict'
// The Client of docs/API.md, against the built dist/, with a fake wx platform and server.
const test = require('node:test')
const assert = require('node:assert/strict')
const { setup, sleep, outcome, dist, Server, fakeWx } = require('./client.fake')

function assertTGE(e, code) {
  assert.ok(e instanceof Error, 'an Error')
  assert.equal(e.name, 'TokenGateError')
  assert.equal(e.code, code, `code ${e.code} (${e.message})`)
}

// The stored session: an object (the platform's storage keeps objects); an earlier version
// kept JSON text, which is still read.
function storedSession(wx) {
  const v = wx.storage['tokengate:session']
  return typeof v === 'string' ? JSON.parse(v) : v
}

// Listeners run after a turn of the event loop.
const tick = () => sleep(5)

function noTokenIn(e, server) {
  for (let i = 1; i <= server.n; i++) {
    assert.ok(!String(e.message).includes('acc-' + i), 'no access token in the message')
    assert.ok(!String(e.message).includes('ref-' + i), 'no refresh token in the message')
  }
}

test('exports createClient and TokenGateError', () => {
  const m = dist()
  assert.equal(typeof m.createClient, 'function')
  assert.equal(typeof m.TokenGateError, 'function')
  const e = new m.TokenGateError('HTTP', 'x', { statusCode: 500 })
  assertTGE(e, 'HTTP')
  assert.equal(e.statusCode, 500)
})

test('ready; lazy first login; the token goes on the request and into storage', async () => {
  const { server, wx, client } = setup()
  await client.ready
  assert.deepEqual(client.session(), { loggedIn: false, expiresAt: null })
  assert.equal(wx.logins, 0, 'no login before a request needs it')
  const body = await client.get('/me')
  assert.equal(body.token, 'acc-1')
  assert.equal(wx.logins, 1)
  assert.equal(server.count.login, 1)
  const loginCall = server.log.find((l) => l.path === '/auth/login')
  assert.equal(loginCall.header.Authorization, undefined, 'the login call carries no token')
  assert.equal(loginCall.method, 'POST')
  assert.match(loginCall.data.code, /^code-/)
  const stored = storedSession(wx)
  assert.equal(stored.accessToken, 'acc-1')
  const s = client.session()
  assert.equal(s.loggedIn, true)
  assert.ok(Math.abs(s.expiresAt - (Date.now() + 3600e3)) < 5000)
  assert.deepEqual(Object.keys(s).sort(), ['expiresAt', 'loggedIn'])
})

test('requests made before ready wait and are sent with a token', async () => {
  const { server, client } = setup()
  const ps = [client.get('/a'), client.post('/b', { x: 1 })]
  const r = await Promise.all(ps)
  assert.equal(r[0].token, 'acc-1')
  assert.equal(r[1].method, 'POST')
  assert.deepEqual(r[1].body, { x: 1 })
  assert.equal(server.count.login, 1)
})

test('20 concurrent requests on an expired token -> exactly one refresh', async () => {
  const { server, wx, client } = setup({}, { seed: { expiresAt: Date.now() - 1000 } })
  await client.ready
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => client.get('/item/' + i)))
  assert.equal(server.count.refresh, 1)
  assert.equal(server.count.login, 0)
  for (const r of rs) assert.equal(r.token, 'acc-2')
  const apiCalls = server.log.filter((l) => l.path.startsWith('/item/'))
  assert.equal(apiCalls.length, 20, 'no request went out with the expired token')
  const refreshCall = server.log.find((l) => l.path === '/auth/refresh')
  assert.deepEqual(refreshCall.data, { refreshToken: 'ref-1' })
  assert.equal(refreshCall.header.Authorization, undefined, 'refresh carries no access token')
  assert.equal(storedSession(wx).refreshToken, 'ref-2', 'rotation persisted')
})

test('20 concurrent 401s on a token valid by the clock -> one refresh, all replayed', async () => {
  const { server, client } = setup({}, { seed: true })
  await client.ready
  server.expireAll()
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => client.get('/x/' + i)))
  assert.equal(server.count.refresh, 1)
  for (const r of rs) assert.equal(r.token, 'acc-2')
})

test('a second 401 with a fresh token -> UNAUTHORIZED (no loop)', async () => {
  const { server, client } = setup({}, { seed: true })
  server.routes['/never'] = () => ({ statusCode: 401, data: { error: 'no' } })
  await client.ready
  const o = await outcome(client.get('/never'))
  assert.equal(o.ok, false)
  assertTGE(o.error, 'UNAUTHORIZED')
  assert.equal(o.error.statusCode, 401)
  assert.equal(server.count.refresh, 1)
  assert.equal(server.log.filter((l) => l.path === '/never').length, 2, 'sent, replayed once')
  noTokenIn(o.error, server)
})

test('a stale rejection is replayed with the current token without another refresh', async () => {
  const { server, client } = setup({}, { seed: true })
  await client.ready
  // /slow answers late; meanwhile /fast gets the rejection and the refresh runs.
  server.routes['/slow'] = (o, s) => {
    const tok = o.header.Authorization.slice(7)
    if (tok === 'acc-1') return { statusCode: 401, data: {}, delay: 60 }
    return undefined
  }
  server.valid.delete('acc-1')
  const slow = client.get('/slow')
  await sleep(5)
  const fast = await client.get('/fast')
  assert.equal(fast.token, 'acc-2')
  const s = await slow
  assert.equal(s.token, 'acc-2')
  assert.equal(server.count.refresh, 1)
})

test('refresh rejected -> silent login; events refresh {ok:false} and login {ok:true}', async () => {
  const { server, wx, client } = setup({}, { seed: { expiresAt: Date.now() - 1 } })
  server.refreshTokens.clear()
  const events = []
  client.on('refresh', (e) => events.push(['refresh', e]))
  client.on('login', (e) => events.push(['login', e]))
  const rs = await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')])
  for (const r of rs) assert.equal(r.token, 'acc-2')
  assert.equal(server.count.refresh, 1)
  assert.equal(wx.logins, 1)
  assert.equal(server.count.login, 1)
  assert.deepEqual(events, [['refresh', { ok: false }], ['login', { ok: true }]])
})

test('a passing login failure (wx.login fails) rejects its waiters with NETWORK, never LOGIN_REQUIRED; the next request logs in', async () => {
  const { wx, client } = setup()
  wx.loginFails = true
  const lr = []
  const logins = []
  client.on('loginRequired', (e) => lr.push(e))
  client.on('login', (e) => logins.push(e))
  const os = await Promise.all([1, 2, 3, 4].map((i) => outcome(client.get('/p' + i))))
  for (const o of os) {
    assertTGE(o.error, 'NETWORK')
    assert.match(o.error.errMsg, /login:fail/)
  }
  await tick()
  assert.equal(lr.length, 0, 'no trip to the login page for a network blip')
  assert.deepEqual(logins, [{ ok: false }])
  assert.equal(wx.logins, 1, 'one login for the four waiters')
  wx.loginFails = false
  assert.equal((await client.get('/again')).token, 'acc-1', 'the next request logs in again')
  assert.equal(wx.logins, 2)
})

test('a passing login failure from the login endpoint (5xx, 429, no token) is HTTP; a refused one (4xx) is sticky LOGIN_REQUIRED', async () => {
  for (const [status, data] of [[503, {}], [429, {}], [408, {}], [200, { nothing: true }]]) {
    const { server, wx, client } = setup()
    server.routes['/auth/login'] = () => ({ statusCode: status, data })
    const o = await outcome(client.get('/a'))
    assertTGE(o.error, 'HTTP')
    assert.equal(o.error.statusCode, status)
    delete server.routes['/auth/login']
    assert.equal((await client.get('/b')).token, 'acc-1', `after ${status} the next request logs in`)
    assert.equal(wx.logins, 2)
  }
  const { server, wx, client } = setup()
  server.routes['/auth/login'] = () => ({ statusCode: 403, data: { error: 'blocked user' } })
  const lr = []
  client.on('loginRequired', (e) => lr.push(e))
  const os = await Promise.all([1, 2, 3].map((i) => outcome(client.get('/p' + i))))
  for (const o of os) assertTGE(o.error, 'LOGIN_REQUIRED')
  await tick()
  assert.equal(lr.length, 1)
  assert.equal(typeof lr[0].reason, 'string')
  delete server.routes['/auth/login']
  assertTGE((await outcome(client.get('/later'))).error, 'LOGIN_REQUIRED')
  assert.equal(wx.logins, 1, 'refused: sticky until login() or setSession()')
  await client.login()
  assert.equal((await client.get('/after-login')).token, 'acc-1')
})

test('refresh that hangs -> waiters TIMEOUT, then the next request tries again', async () => {
  const { server, client } = setup({ timeout: 150 }, { seed: { expiresAt: Date.now() - 1 } })
  let hang = true
  server.routes['/auth/refresh'] = () => (hang ? { hang: true } : undefined)
  const t0 = Date.now()
  const os = await Promise.all([outcome(client.get('/a')), outcome(client.get('/b'))])
  for (const o of os) assertTGE(o.error, 'TIMEOUT')
  assert.ok(Date.now() - t0 < 1500, 'settled within timeout')
  hang = false
  const r = await client.get('/c')
  assert.equal(r.token, 'acc-2')
})

test('a business request that hangs -> TIMEOUT; the per-request timeout option counts', async () => {
  const { server, wx, client } = setup({ timeout: 5000 }, { seed: true })
  server.routes['/hang'] = () => ({ hang: true })
  await client.ready
  const t0 = Date.now()
  const o = await outcome(client.request({ url: '/hang', timeout: 80 }))
  assertTGE(o.error, 'TIMEOUT')
  assert.ok(Date.now() - t0 < 2000)
  assert.equal(wx.aborted, 1, 'the RequestTask was aborted')
})

test('abort: a waiting request leaves the queue; an in-flight one aborts its RequestTask', async () => {
  const { server, wx, client } = setup()
  wx.loginHang = true
  const waiting = client.get('/w')
  assert.equal(typeof waiting.abort, 'function')
  await sleep(10)
  waiting.abort()
  assertTGE((await outcome(waiting)).error, 'ABORTED')

  const c2 = setup({}, { seed: true })
  c2.server.routes['/slow'] = () => ({ statusCode: 200, data: {}, delay: 200 })
  await c2.client.ready
  const inflight = c2.client.get('/slow')
  await sleep(20)
  assert.equal(c2.server.log.length, 1, 'sent')
  inflight.abort()
  const o = await outcome(inflight)
  assertTGE(o.error, 'ABORTED')
  assert.equal(c2.wx.aborted, 1, 'RequestTask.abort called')
  inflight.abort() // a second abort is harmless
  void server
})

test('logout while requests wait -> LOGIN_REQUIRED; storage cleared; logout event; login after logout is discarded', async () => {
  const { server, wx, client } = setup({}, { seed: true })
  await client.ready
  const logouts = []
  client.on('logout', (e) => logouts.push(e))
  server.routes['/auth/login'] = () => ({ statusCode: 200, data: server.issue(), delay: 80 })
  server.valid.clear()
  const p = outcome(client.get('/a')) // 401 -> refresh
  server.refreshTokens.clear() // refresh fails -> login (slow)
  await sleep(30)
  await client.logout()
  const o = await p
  assertTGE(o.error, 'LOGIN_REQUIRED')
  assert.equal(wx.storage['tokengate:session'], undefined)
  await tick()
  assert.equal(logouts.length, 1)
  await sleep(120)
  assert.equal(client.session().loggedIn, false, 'the login that answered after logout was discarded')
  const o2 = await outcome(client.get('/b'))
  assertTGE(o2.error, 'LOGIN_REQUIRED')
})

test('envelope: success unwraps data; a failure code is BUSINESS with bizCode, message, data', async () => {
  const { server, client } = setup({ envelope: { code: 'code', message: 'msg', data: 'data', success: [0] } }, { seed: true })
  server.routes['/ok'] = () => ({ statusCode: 200, data: { code: 0, msg: 'ok', data: { id: 7 } } })
  server.routes['/bad'] = () => ({ statusCode: 200, data: { code: 4001, msg: 'out of stock', data: { sku: 1 } } })
  assert.deepEqual(await client.get('/ok'), { id: 7 })
  const full = await client.get('/ok', undefined, { fullResponse: true })
  assert.deepEqual(full.data, { code: 0, msg: 'ok', data: { id: 7 } })
  const o = await outcome(client.get('/bad'))
  assertTGE(o.error, 'BUSINESS')
  assert.equal(o.error.bizCode, 4001)
  assert.equal(o.error.message, 'out of stock')
  assert.deepEqual(o.error.data, { sku: 1 })
})

test('expiredWhen.code: an envelope code means the token was rejected', async () => {
  const { server, client } = setup({ envelope: {}, expiredWhen: { status: [401], code: [40100] } }, { seed: true })
  server.routes['/e'] = (o) => (o.header.Authorization === 'Bearer acc-1' ? { statusCode: 200, data: { code: 40100 } } : { statusCode: 200, data: { code: 0, data: 'fine' } })
  assert.equal(await client.get('/e'), 'fine')
  assert.equal(server.count.refresh, 1)
})

test('loginRequiredWhen: session forgotten, LOGIN_REQUIRED, loginRequired event', async () => {
  const { server, wx, client } = setup({ loginRequiredWhen: { status: [403] } }, { seed: true })
  server.routes['/gone'] = () => ({ statusCode: 403, data: {} })
  const lr = []
  client.on('loginRequired', (e) => lr.push(e))
  const o = await outcome(client.get('/gone'))
  assertTGE(o.error, 'LOGIN_REQUIRED')
  await tick()
  assert.equal(lr.length, 1)
  assert.equal(client.session().loggedIn, false)
  assert.equal(wx.storage['tokengate:session'], undefined)
})

test('HTTP error with statusCode and data; NETWORK with errMsg; error event for each', async () => {
  const { server, client } = setup({}, { seed: true })
  server.routes['/500'] = () => ({ statusCode: 500, data: { error: 'boom' } })
  server.routes['/net'] = () => ({ fail: 'request:fail timeout' })
  const errs = []
  client.on('error', (e) => errs.push(e))
  const h = await outcome(client.get('/500'))
  assertTGE(h.error, 'HTTP')
  assert.equal(h.error.statusCode, 500)
  assert.deepEqual(h.error.data, { error: 'boom' })
  const n = await outcome(client.get('/net'))
  assertTGE(n.error, 'NETWORK')
  assert.equal(n.error.errMsg, 'request:fail timeout')
  await tick()
  assert.equal(errs.length, 2)
  assert.equal(errs[0], h.error)
  noTokenIn(h.error, server)
})

test('CONFIG: bad options reject ready and every request with a CONFIG naming the option, printed once', async () => {
  const { createClient, TokenGateError } = dist()
  const wx = fakeWx(new Server())
  const bad = [
    [{ platform: wx, timeout: 'soon' }, 'timeout'],
    [{ platform: wx, timeout: 0 }, 'timeout'],
    [{ platform: wx, baseURL: 42 }, 'baseURL'],
    [{ platform: wx, baseUrl: 'https://api.example.com' }, 'baseUrl'],
    [{ platform: wx, baseURL: 'not a url' }, 'baseURL'],
    [{ platform: wx, baseURL: 'http://api.example.com' }, 'baseURL'],
    [{ platform: wx, refreshLeeway: -1 }, 'refreshLeeway'],
    [{ platform: wx, login: 'yes' }, 'login'],
    [{ platform: wx, login: { methd: 'GET' } }, 'methd'],
    [{ platform: wx, refresh: { url: 5 } }, 'refresh'],
    [{ platform: wx, tokenFields: 'x' }, 'tokenFields'],
    [{ platform: wx, authHeader: 3 }, 'authHeader'],
    [{ platform: wx, authScheme: null, storageKey: 7 }, 'storageKey'],
    [{ platform: wx, expiredWhen: { status: '401' } }, 'expiredWhen'],
    [{ platform: wx, expiredWhen: { code: [true, {}] } }, 'expiredWhen'],
    [{ platform: wx, checkSession: 'yes' }, 'checkSession'],
    [{ platform: wx, beforeRequest: 'fn' }, 'beforeRequest'],
    [{ platform: wx, envelope: 'yes' }, 'envelope'],
    [{ platform: wx, allowedOrigins: 'https://a.com' }, 'allowedOrigins'],
    [{ platform: wx, authHeader: 'X-Token\r\nX-Evil: 1' }, 'authHeader']
  ]
  const printed = []
  const orig = console.error
  console.error = (e) => printed.push(e)
  try {
    for (const [opts, name] of bad) {
      const c = createClient(opts)
      const r = await outcome(c.ready)
      assert.equal(r.ok, false, name)
      assert.ok(r.error instanceof TokenGateError && r.error.code === 'CONFIG', name)
      assert.ok(r.error.message.includes(name), `${name}: ${r.error.message}`)
      const q = await outcome(c.get('/x'))
      assert.equal(q.error.code, 'CONFIG')
      assert.ok(q.error.message.includes(name))
    }
  } finally {
    console.error = orig
  }
  assert.equal(printed.length, bad.length, 'each bad options object printed once')
  // createClient throws only when it finds no platform
  for (const opts of [{ platform: 'wx' }, { platform: {} }]) {
    assert.throws(() => createClient(opts), (e) => e instanceof TokenGateError && e.code === 'CONFIG' && e.name === 'TokenGateError')
  }
  // http: allowed on loopback, and in develop
  await createClient({ platform: wx, baseURL: 'http://127.0.0.1:8080' }).ready
  await createClient({ platform: wx, baseURL: 'http://localhost:3000/api' }).ready
  await createClient({ platform: fakeWx(new Server(), { env: 'develop' }), baseURL: 'http://dev.example.com' }).ready
  const trial = await outcome(createClient({ platform: fakeWx(new Server(), { env: 'trial' }), baseURL: 'http://dev.example.com' }).ready)
  assert.equal(trial.error.code, 'CONFIG')
})

test('baseURL by environment from getAccountInfoSync', async () => {
  const server = new Server()
  const wx = fakeWx(server, { env: 'trial' })
  const { createClient } = dist()
  const client = createClient({ platform: wx, baseURL: { develop: 'https://dev.example.com', trial: 'https://trial.example.com', release: 'https://api.example.com' } })
  await client.get('/x')
  assert.equal(new URL(wx.requests[wx.requests.length - 1].url).host, 'trial.example.com')
})

test('CONFIG per request: a malformed URL rejects that request only', async () => {
  const { client } = setup({}, { seed: true })
  const o = await outcome(client.request({ url: 'http://insecure.example.com/x' }))
  assertTGE(o.error, 'CONFIG')
  const o2 = await outcome(client.request({}))
  assertTGE(o2.error, 'CONFIG')
  const r = await client.get('/fine')
  assert.equal(r.ok, true)
})

test('allowedOrigins: a foreign host gets no token; an allowed extra origin does', async () => {
  const a = setup({}, { seed: true })
  await a.client.ready
  a.server.routes['/pub'] = (o) => ({ statusCode: 200, data: { auth: o.header.Authorization || null } })
  assert.deepEqual(await a.client.get('https://other.example.org/pub'), { auth: null })
  const b = setup({ allowedOrigins: ['https://api.example.com', 'https://cdn.example.com'] }, { seed: true })
  b.server.routes['/pub'] = (o) => ({ statusCode: 200, data: { auth: o.header.Authorization || null } })
  assert.deepEqual(await b.client.get('https://cdn.example.com/pub'), { auth: 'Bearer acc-1' })
  assert.deepEqual(await b.client.get('https://evil.example.net/pub'), { auth: null })
})

test("authHeader and authScheme '' send the bare token", async () => {
  const { client } = setup({ authHeader: 'X-Token', authScheme: '' }, { seed: true }, { authHeader: 'X-Token', scheme: '' })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
})

test('tokenFields with dotted paths', async () => {
  const { server, client } = setup({ tokenFields: { accessToken: 'data.token', refreshToken: 'data.rt', expiresIn: 'data.ttl' } })
  server.routes['/auth/login'] = () => {
    const t = server.issue()
    return { statusCode: 200, data: { code: 0, data: { token: t.accessToken, rt: t.refreshToken, ttl: 120 } } }
  }
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
  const s = client.session()
  assert.ok(Math.abs(s.expiresAt - (Date.now() + 120e3)) < 5000)
})

test('beforeRequest (async) runs for every business request, replays included, never for login/refresh', async () => {
  let n = 0
  const seen = []
  const { server, client } = setup({
    beforeRequest: async (o) => {
      n++
      seen.push(o.url)
      o.header['X-Sig'] = 'sig-' + n
      return o
    }
  }, { seed: true })
  await client.ready
  server.valid.clear()
  server.routes['/sig'] = (o) => (o.header['X-Sig'] ? undefined : { statusCode: 400, data: {} })
  const r = await client.get('/sig')
  assert.equal(r.token, 'acc-2')
  assert.equal(n, 2, 'first send and the replay')
  const sigs = server.log.filter((l) => l.path === '/sig').map((l) => l.header['X-Sig'])
  assert.deepEqual(sigs, ['sig-1', 'sig-2'])
  assert.ok(seen.every((u) => !u.includes('/auth/')))
})

test('fullResponse gives { statusCode, header, data }', async () => {
  const { client } = setup({}, { seed: true })
  const r = await client.request({ url: '/me', fullResponse: true })
  assert.equal(r.statusCode, 200)
  assert.equal(r.header['content-type'], 'application/json')
  assert.equal(r.data.ok, true)
})

test('a body that is not JSON resolves as the text; data undefined resolves undefined; no statusCode -> NETWORK', async () => {
  const { server, client } = setup({}, { seed: true })
  server.routes['/text'] = () => ({ statusCode: 200, data: 'plain <b>text</b>' })
  server.routes['/undef'] = () => ({ statusCode: 200, data: undefined })
  server.routes['/nostatus'] = () => ({ statusCode: 200, data: {}, noStatus: true })
  assert.equal(await client.get('/text'), 'plain <b>text</b>')
  assert.equal(await client.get('/undef'), undefined)
  assertTGE((await outcome(client.get('/nostatus'))).error, 'NETWORK')
})

test('checkSession: a failed check means silent login first; a good one keeps the stored token', async () => {
  const a = setup({ checkSession: true }, { seed: true })
  a.wx.sessionOk = false
  const r = await a.client.get('/me')
  assert.equal(a.wx.checkSessions, 1)
  assert.equal(a.wx.logins, 1)
  assert.equal(r.token, 'acc-2')

  const b = setup({ checkSession: true }, { seed: true })
  const r2 = await b.client.get('/me')
  assert.equal(b.wx.checkSessions, 1)
  assert.equal(b.wx.logins, 0)
  assert.equal(r2.token, 'acc-1')
})

test('setSession installs tokens; session() never exposes the refresh token', async () => {
  const { server, wx, client } = setup({ login: false })
  await client.ready
  const o = await outcome(client.get('/me'))
  assertTGE(o.error, 'LOGIN_REQUIRED')
  const t = server.issue()
  await client.setSession({ accessToken: t.accessToken, refreshToken: t.refreshToken, expiresIn: 600 })
  const s = client.session()
  assert.equal(s.loggedIn, true)
  assert.ok(Math.abs(s.expiresAt - (Date.now() + 600e3)) < 5000)
  assert.ok(!JSON.stringify(s).includes('ref-'))
  const r = await client.get('/me')
  assert.equal(r.token, t.accessToken)
  assert.equal(storedSession(wx).accessToken, t.accessToken)
  assertTGE(await client.setSession({}).catch((e) => e), 'CONFIG')
  // A token that would split the auth header is refused, and the session in place stays.
  const bad = await client.setSession({ accessToken: 'abc\r\nX-Evil: 1' }).catch((e) => e)
  assertTGE(bad, 'CONFIG')
  assert.ok(!bad.message.includes('abc'), 'the token is not in the message')
  assert.equal((await client.get('/me')).token, t.accessToken)
})

test('login() runs the silent login now and joins one in flight', async () => {
  const { wx, server, client } = setup()
  await Promise.all([client.login(), client.login(), client.get('/x')])
  assert.equal(wx.logins, 1)
  assert.equal(server.count.login, 1)
  assert.equal(client.session().loggedIn, true)
  wx.loginFails = true
  const c2 = setup()
  c2.wx.loginFails = true
  assertTGE(await c2.client.login().catch((e) => e), 'NETWORK')
})

test('events: subscribe and unsubscribe', async () => {
  const { client } = setup()
  const got = []
  const off = client.on('login', (e) => got.push(e))
  assert.equal(typeof off, 'function')
  await client.get('/a')
  off()
  off()
  await client.logout()
  await client.login()
  assert.deepEqual(got, [{ ok: true }])
  assert.throws(() => client.on('nope', () => {}), (e) => e.code === 'CONFIG')
})

test('auth:false sends no token, never refreshes; its 401 is HTTP', async () => {
  const { server, wx, client } = setup({}, { seed: true })
  server.routes['/open'] = (o) => ({ statusCode: 401, data: { auth: o.header.Authorization || null } })
  const o = await outcome(client.request({ url: '/open', auth: false }))
  assertTGE(o.error, 'HTTP')
  assert.equal(o.error.statusCode, 401)
  assert.deepEqual(o.error.data, { auth: null })
  assert.equal(server.count.refresh, 0)
  assert.equal(wx.logins, 0)
})

test('login:false and no session: LOGIN_REQUIRED at once', async () => {
  const { wx, client } = setup({ login: false })
  const o = await outcome(client.get('/a'))
  assertTGE(o.error, 'LOGIN_REQUIRED')
  assert.equal(wx.logins, 0)
})

test('proactive refresh inside the leeway', async () => {
  const { server, client } = setup({ refreshLeeway: 60 }, { seed: { expiresAt: Date.now() + 30e3, lifetime: 3600e3 } })
  const r = await client.get('/a')
  assert.equal(server.count.refresh, 1)
  assert.equal(r.token, 'acc-2')
  assert.equal(server.log.filter((l) => l.path === '/a').length, 1)
})

test('refresh 5xx: waiters reject HTTP, the refresh token is kept, the next request retries', async () => {
  const { server, client } = setup({}, { seed: { expiresAt: Date.now() - 1 } })
  let fail = true
  server.routes['/auth/refresh'] = () => (fail ? { statusCode: 503, data: { error: 'down' } } : undefined)
  assertTGE((await outcome(client.get('/a'))).error, 'HTTP')
  fail = false
  const r = await client.get('/b')
  assert.equal(r.token, 'acc-2')
})

test('upload and download: same auth and replay; upload body string parsed like json', async () => {
  const { server, client } = setup({}, { seed: true })
  await client.ready
  server.valid.clear()
  const up = await client.upload({ url: '/upload', filePath: 'wxfile://a.png', name: 'file', formData: { k: 'v' } })
  assert.equal(up.ok, true)
  assert.equal(up.token, 'acc-2')
  assert.deepEqual(up.body, { k: 'v' })
  assert.equal(server.count.refresh, 1)
  const down = await client.download({ url: '/file.bin' })
  assert.equal(down.statusCode, 200)
  assert.equal(down.tempFilePath, 'wxfile://tmp/200')
  const last = server.log[server.log.length - 1]
  assert.equal(last.header.Authorization, 'Bearer acc-2')
})

test('a platform that calls success synchronously', async () => {
  const { server, client } = setup({}, { sync: true })
  const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => client.get('/s' + i)))
  for (const r of rs) assert.equal(r.token, 'acc-1')
  server.expireAll()
  const rs2 = await Promise.all(Array.from({ length: 5 }, (_, i) => client.get('/t' + i)))
  for (const r of rs2) assert.equal(r.token, 'acc-2')
  assert.equal(server.count.refresh, 1)
})

test('storage: a throwing getStorageSync, non-JSON and wrong-shape values count as no session', async () => {
  for (const bad of ['throw', 'not json {', '{"accessToken":5}', '[]', 'null']) {
    const server = new Server()
    const wx = fakeWx(server)
    if (bad === 'throw') wx.getStorageSync = () => { throw new Error('storage broken') }
    else wx.storage['tokengate:session'] = bad
    const { createClient } = dist()
    const client = createClient({ platform: wx, baseURL: 'https://api.example.com' })
    await client.ready
    assert.equal(client.session().loggedIn, false, bad)
    const r = await client.get('/me')
    assert.equal(r.token, 'acc-1', bad)
  }
})

test('storageKey option', async () => {
  const { wx, client } = setup({ storageKey: 'my:key' }, { seed: true })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
  assert.ok(wx.storage['my:key'])
})

test('throwing platform.request -> NETWORK; throwing login -> NETWORK (a passing failure)', async () => {
  const { wx, client } = setup({}, { seed: true })
  await client.ready
  const orig = wx.request
  wx.request = () => { throw new Error('request exploded') }
  assertTGE((await outcome(client.get('/a'))).error, 'NETWORK')
  wx.request = orig
  const c2 = setup()
  c2.wx.login = () => { throw new Error('login exploded') }
  assertTGE((await outcome(c2.client.get('/a'))).error, 'NETWORK')
})

test("an 'error' listener that retries without a guard cannot wedge the client", async () => {
  const { server, client } = setup({}, { seed: true })
  server.routes['/retry'] = () => ({ statusCode: 500, data: {} })
  server.routes['/ok'] = () => ({ statusCode: 200, data: { fine: true } })
  let retries = 0
  client.on('error', () => { retries++; if (retries < 200) client.get('/retry').catch(() => {}) })
  client.on('error', () => { throw new Error('a listener that throws') })
  assert.equal((await outcome(client.get('/retry'))).error.code, 'HTTP')
  await sleep(50)
  assert.ok(retries > 5, `the listener ran and retried (${retries})`)
  // The client still answers every kind of call.
  assert.deepEqual(await client.get('/ok'), { fine: true })
  await client.setSession({ accessToken: 'acc-set', expiresIn: 60 })
  assert.equal(client.session().loggedIn, true)
  await client.logout()
  assert.equal(client.session().loggedIn, false)
})

test('util.inspect of the client and of what it hands out shows no token', async () => {
  const util = require('util')
  const { server, client } = setup({}, { seed: true })
  server.routes['/plain'] = () => ({ statusCode: 200, data: { n: 1 } })
  server.routes['/fail'] = () => ({ statusCode: 502, data: { n: 2 } })
  await client.ready
  const p = client.get('/plain')
  const body = await p
  await client.setSession({ accessToken: 'acc-inspect-secret', refreshToken: 'ref-inspect-secret', expiresIn: 60 })
  const up = client.upload({ url: '/plain', filePath: '/tmp/x', name: 'f' })
  await outcome(up)
  const seen = [client, p, up, client.session(), body, (await outcome(client.get('/fail'))).error, await outcome(client.login())]
  for (const v of seen) {
    const text = util.inspect(v, { showHidden: true, depth: 6 })
    for (let i = 1; i <= server.n; i++) assert.ok(!text.includes('acc-' + i) && !text.includes('ref-' + i), text.slice(0, 400))
    assert.ok(!text.includes('inspect-secret'), text.slice(0, 400))
  }
})

test('session() from inside a synchronous callback (beforeRequest) does not throw', async () => {
  let seen = null
  const { client } = setup({ beforeRequest: (o) => { seen = client.session(); return o } }, { seed: true, sync: true })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
  assert.equal(typeof seen.loggedIn, 'boolean')
})

test('a wasm that cannot be loaded: ready and every request reject with a TokenGateError', () => {
  const { spawnSync } = require('child_process')
  const script = `
    const { createClient } = require(${JSON.stringify(require('./client.fake').DIST)})
    const wx = { request() {}, login() {}, getStorageSync() { return '' }, setStorageSync() {}, removeStorageSync() {} }
    const c = createClient({ platform: wx, baseURL: 'https://api.example.com', wasmPath: '/nonexistent/tokengate_bg.wasm' })
    const p = c.get('/a')
    Promise.all([c.ready.then(() => 'resolved', (e) => e.name + ':' + e.code), p.then(() => 'resolved', (e) => e.name + ':' + e.code)])
      .then((r) => { console.log(JSON.stringify(r)) })
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 })
  assert.equal(r.status, 0, r.stderr)
  const [ready, req] = JSON.parse(r.stdout.trim())
  assert.match(ready, /^TokenGateError:/)
  assert.match(req, /^TokenGateError:/)
})

test('login/refresh options: url, method, field; rotation keeps the old refresh token when none comes back', async () => {
  const { server, client } = setup({
    login: { url: '/v2/login', method: 'PUT' },
    refresh: { url: 'https://api.example.com/v2/refresh', method: 'POST', field: 'rt' }
  })
  server.routes['/v2/login'] = (o) => (o.method === 'PUT' && o.data.code ? { statusCode: 200, data: server.issue() } : { statusCode: 400, data: {} })
  server.routes['/v2/refresh'] = (o) => {
    if (!server.refreshTokens.has(o.data.rt)) return { statusCode: 401, data: {} }
    const t = server.issue()
    return { statusCode: 200, data: { accessToken: t.accessToken, expiresIn: 3600 } } // no new refresh token
  }
  assert.equal((await client.get('/a')).token, 'acc-1')
  server.valid.clear()
  assert.equal((await client.get('/b')).token, 'acc-2')
  server.valid.clear()
  assert.equal((await client.get('/c')).token, 'acc-3', 'the kept refresh token works again')
  const refreshes = server.log.filter((l) => l.path === '/v2/refresh')
  assert.deepEqual(refreshes.map((l) => l.data), [{ rt: 'ref-1' }, { rt: 'ref-1' }])
})

test('envelope with string success codes and loginRequiredWhen.code', async () => {
  const { server, client } = setup({ envelope: { code: 'status', message: 'msg', data: 'payload', success: ['OK'] }, loginRequiredWhen: { code: ['SESSION_OVER'] } }, { seed: true })
  server.routes['/ok'] = () => ({ statusCode: 200, data: { status: 'OK', payload: [1, 2] } })
  server.routes['/over'] = () => ({ statusCode: 200, data: { status: 'SESSION_OVER', msg: 'bye' } })
  assert.deepEqual(await client.get('/ok'), [1, 2])
  const o = await outcome(client.get('/over'))
  assertTGE(o.error, 'LOGIN_REQUIRED')
  assert.equal(client.session().loggedIn, false)
})

test('async beforeRequest running while setSession() replaces the token: the request goes out with the new token', async () => {
  const { server, wx, client } = setup({ beforeRequest: (o) => new Promise((resolve) => setTimeout(() => resolve(o), 60)) }, { seed: true })
  await client.ready
  const p = client.get('/me')
  await sleep(15)
  const t = server.issue()
  await client.setSession({ accessToken: t.accessToken, refreshToken: t.refreshToken, expiresIn: 600 })
  const r = await p
  assert.equal(r.token, t.accessToken)
  const sent = wx.requests.filter((o) => o.url.endsWith('/me')).map((o) => o.header.Authorization)
  assert.deepEqual(sent, ['Bearer ' + t.accessToken], 'never sent with the replaced token')
})

test('async beforeRequest running at logout(): never sent with the forgotten token; LOGIN_REQUIRED', async () => {
  const { wx, client } = setup({ beforeRequest: (o) => new Promise((resolve) => setTimeout(() => resolve(o), 60)) }, { seed: true })
  await client.ready
  const p = outcome(client.get('/me'))
  await sleep(15)
  await client.logout()
  const o = await p
  assertTGE(o.error, 'LOGIN_REQUIRED')
  assert.equal(wx.requests.filter((x) => x.url.endsWith('/me')).length, 0)
})

test('async beforeRequest that ends while a refresh is out: the request waits for it (rule 2)', async () => {
  const { server, wx, client } = setup({ beforeRequest: (o) => new Promise((resolve) => setTimeout(() => resolve(o), o.url.endsWith('/slowhook') ? 40 : 0)) }, { seed: true })
  await client.ready
  let refreshOut = false
  const request = wx.request
  wx.request = (o) => {
    if (o.url.endsWith('/auth/refresh')) {
      refreshOut = true
      const success = o.success
      return request(Object.assign({}, o, { success: (res) => { refreshOut = false; success(res) } }))
    }
    if (o.url.endsWith('/slowhook')) assert.equal(refreshOut, false, 'not sent while the refresh is out')
    return request(o)
  }
  server.routes['/auth/refresh'] = (o, s) => ({ statusCode: 200, data: s.issue(), delay: 80 })
  const slow = client.get('/slowhook') // its hook ends 40 ms from now
  await sleep(5)
  server.valid.delete('acc-1')
  const other = client.get('/trigger') // 401 -> a refresh that takes 80 ms
  const [a, b] = await Promise.all([slow, other])
  assert.equal(a.token, 'acc-2')
  assert.equal(b.token, 'acc-2')
  const slowSends = server.log.filter((l) => l.path === '/slowhook').map((l) => l.header.Authorization)
  assert.deepEqual(slowSends, ['Bearer acc-2'], 'sent once, after the refresh, with the new token')
})
