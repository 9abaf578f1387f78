'use strict'
// Interop (issue 14): tokengate, configured by options alone, against a real authorization
// server that no one here wrote: oidc-provider (tests/oidc/server.js), on 127.0.0.1 only. The
// platform below is a wx.request-shaped object doing real HTTP with node:http, sending a form
// body for a form content type as WeChat documents it (tests/oidc/form.js). Also here: the
// fake platforms of the tests and of the demo serialise form bodies the same way, and the
// README's snippet (docs/examples/oauth2.js) runs against the same server.
//   node --test tests/js/oidc.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const { dist, DIST, Server, fakeWx, sleep, outcome } = require('./client.fake')
const { startAuthServer, GRANT_TYPE, CLIENT_ID } = require('../oidc/server')
const { encodeForm, isFormContentType } = require('../oidc/form')

const ROOT = path.join(__dirname, '..', '..')
const { createWx } = require(path.join(ROOT, 'example-miniprogram', 'demo', 'wx.js'))

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const KEY = 'tokengate:session'
const T = { timeout: 30000 }

// ---- a wx-shaped platform over node:http ---------------------------------------------------

function headerValue (h, name) {
  const k = Object.keys(h || {}).find((x) => x.toLowerCase() === name)
  return k === undefined ? undefined : h[k]
}

/**
 * wx.request over node:http to the loopback server: `data` goes out as JSON, or as
 * encodeForm(data) when the content type is application/x-www-form-urlencoded (any case);
 * GET data goes into the query string; JSON answers are parsed (dataType 'json'); `success`
 * for every HTTP status, `fail` for transport errors and abort. login() gives a code minted by
 * the server's fake code2Session. Storage is in memory.
 *
 * `wire`: every send, in order: { path, method, grantType, token, reqId, form, body, status,
 * accessToken (a /token answer's) }. `onSend(rec)` is told about each send as it goes out.
 * `origins`: { 'https://api.example.com': srv.url, ... } maps the origins a client was
 * configured with onto the loopback server (for the README snippet).
 */
function httpPlatform (srv, o = {}) {
  const agent = new http.Agent({ keepAlive: true })
  const origins = o.origins || {}
  const p = {
    storage: {},
    wire: [],
    logins: 0,
    openid: o.openid || 'openid-1',
    onSend: null,
    request (opts) {
      const method = String(opts.method || 'GET').toUpperCase()
      const header = Object.assign({}, opts.header)
      if (headerValue(header, 'content-type') === undefined) header['content-type'] = 'application/json'
      let href = String(opts.url)
      for (const [from, to] of Object.entries(origins)) {
        if (href === from || href.startsWith(from + '/')) href = to + href.slice(from.length)
      }
      const url = new URL(href)
      const data = opts.data
      let body = null
      if (method === 'GET' || method === 'HEAD') {
        if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) url.searchParams.append(k, String(v))
      } else if (data !== undefined && data !== null) {
        if (typeof data === 'string') body = data
        else if (data instanceof ArrayBuffer) body = Buffer.from(data)
        else if (isFormContentType(header)) body = encodeForm(data)
        else body = JSON.stringify(data)
      }
      const auth = headerValue(header, 'authorization')
      const rec = {
        path: url.pathname,
        method,
        grantType: url.pathname === '/token' && data && typeof data === 'object' ? data.grant_type : undefined,
        token: typeof auth === 'string' ? auth.replace(/^Bearer /, '') : null,
        reqId: headerValue(header, 'x-req-id'),
        form: isFormContentType(header),
        body,
        status: null
      }
      p.wire.push(rec)
      if (p.onSend) p.onSend(rec)
      let done = false
      const settle = (ok, res) => {
        if (done) return
        done = true
        setImmediate(() => {
          const cb = ok ? opts.success : opts.fail
          if (typeof cb === 'function') cb(res)
          if (typeof opts.complete === 'function') opts.complete(res)
        })
      }
      const headers = Object.assign({}, header)
      if (body !== null) headers['content-length'] = Buffer.byteLength(body)
      const req = http.request(url, { method, headers, agent }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', (e) => settle(false, { errMsg: `request:fail ${e.code || e.message}` }))
        res.on('end', () => {
          let out = Buffer.concat(chunks).toString('utf8')
          if ((opts.dataType || 'json') === 'json') { try { out = JSON.parse(out) } catch (_) {} }
          rec.status = res.statusCode
          if (rec.path === '/token' && res.statusCode === 200 && out && typeof out.access_token === 'string') rec.accessToken = out.access_token
          if (res.statusCode >= 400 && out && typeof out.error === 'string') rec.error = out.error
          settle(true, { data: out, statusCode: res.statusCode, header: Object.assign({}, res.headers), cookies: [], errMsg: 'request:ok' })
        })
      })
      req.on('error', (e) => settle(false, { errMsg: `request:fail ${done ? 'abort' : (e.code || e.message)}` }))
      req.end(body === null ? undefined : body)
      return {
        abort () {
          settle(false, { errMsg: 'request:fail abort' })
          req.destroy()
        }
      }
    },
    login (opts) {
      p.logins++
      setImmediate(() => opts.success({ code: srv.mintCode(p.openid), errMsg: 'login:ok' }))
    },
    getStorageSync (k) { return Object.prototype.hasOwnProperty.call(p.storage, k) ? p.storage[k] : '' },
    setStorageSync (k, v) { p.storage[k] = v },
    removeStorageSync (k) { delete p.storage[k] },
    close () { agent.destroy() }
  }
  return p
}

// The stored session (an object; JSON text in older versions).
function stored (p) {
  const v = p.storage[KEY]
  return typeof v === 'string' ? JSON.parse(v) : v
}

// What the client asked of the token endpoint, from the platform's wire, since `from`.
function authCalls (p, from = 0) {
  const w = p.wire.slice(from).filter((r) => r.path === '/token')
  return {
    refreshes: w.filter((r) => r.grantType === 'refresh_token').length,
    logins: w.filter((r) => r.grantType === GRANT_TYPE).length
  }
}

const apiSends = (p, from = 0) => p.wire.slice(from).filter((r) => r.path === '/api/me')

// Starts a server and a client configured by the server's options alone.
async function setup (t, serverOpts = {}, clientOpts = {}, platformOpts = {}) {
  const srv = await startAuthServer(serverOpts)
  const wx = httpPlatform(srv, platformOpts)
  t.after(async () => { wx.close(); await srv.close() })
  const events = []
  const make = () => {
    const client = dist().createClient(Object.assign({ platform: wx }, srv.clientOptions(), clientOpts))
    for (const ev of ['login', 'refresh', 'loginRequired', 'logout']) client.on(ev, (info) => events.push([ev, info]))
    return client
  }
  return { srv, wx, client: make(), relaunch: make, events }
}

function get (client, id) {
  return client.get('/api/me', undefined, { header: { 'X-Req-Id': String(id) } })
}

// Listeners run after a turn of the event loop.
const settleEvents = () => sleep(20)

// Sleeps until the client's access token has expired (on both sides: the server counts whole
// seconds from the issue time, the client from receipt, so the server's end is never later).
async function untilExpired (client) {
  const { expiresAt } = client.session()
  assert.equal(typeof expiresAt, 'number')
  await sleep(expiresAt - Date.now() + 60)
}

function noServerError (srv) {
  assert.equal(srv.lastServerError(), null, String(srv.lastServerError()))
  assert.equal(srv.stats.serverErrors, 0)
}

// ---- (a) silent login through the custom grant --------------------------------------------

test('oidc-provider: silent login through the custom grant, then /api/me with the access token', T, async (t) => {
  const { srv, wx, client } = await setup(t, {}, {}, { openid: 'openid-a' })
  await client.ready
  assert.deepEqual(client.session(), { loggedIn: false, expiresAt: null })

  const me = await client.get('/api/me')
  assert.deepEqual(me, { sub: 'openid-a', n: 1 })
  assert.equal(wx.logins, 1, 'one wx.login')
  assert.deepEqual(srv.stats.token.requests, { [GRANT_TYPE]: 1 })
  assert.deepEqual(srv.stats.codeExchanges, { ok: 1, rejected: 0 })

  // The login call: a form body (oidc-provider refuses JSON) with the code and the options' data,
  // no access token.
  const [login, api] = wx.wire
  assert.equal(login.path, '/token')
  assert.equal(login.method, 'POST')
  assert.equal(login.form, true)
  assert.equal(login.token, null, 'the login call carries no token')
  const fields = Object.fromEntries(new URLSearchParams(login.body))
  assert.deepEqual(Object.keys(fields).sort(), ['client_id', 'code', 'grant_type'])
  assert.equal(fields.grant_type, GRANT_TYPE)
  assert.equal(fields.client_id, CLIENT_ID)
  assert.equal(login.body, encodeForm(Object.fromEntries(new URLSearchParams(login.body))), 'encodeURIComponent(k)=encodeURIComponent(v)&...')

  // The snake_case token set was read through tokenFields and persisted; the API call carried it.
  assert.equal(api.path, '/api/me')
  assert.equal(api.token, login.accessToken)
  const s = stored(wx)
  assert.equal(s.accessToken, login.accessToken)
  assert.equal(typeof s.refreshToken, 'string')
  assert.notEqual(s.refreshToken, s.accessToken)
  const session = client.session()
  assert.equal(session.loggedIn, true)
  assert.ok(Math.abs(session.expiresAt - (Date.now() + 60e3)) < 5000, 'expires_in: 60 s')

  // login() runs another silent login and hands back the body without its tokens.
  const body = await client.login()
  assert.equal(srv.stats.token.requests[GRANT_TYPE], 2)
  assert.ok(body && typeof body === 'object')
  const text = JSON.stringify(body)
  assert.ok(!text.includes(stored(wx).accessToken) && !text.includes(stored(wx).refreshToken), 'no token in what login() resolves with')
  assert.equal(body.token_type, 'Bearer')
  assert.deepEqual(await client.get('/api/me'), { sub: 'openid-a', n: 2 })
  noServerError(srv)
})

// ---- (b) an expired access token, 20 concurrent requests -----------------------------------

test('oidc-provider: an expired access token is refreshed once for 20 concurrent requests, with rotation', T, async (t) => {
  const { srv, wx, client } = await setup(t, { accessTokenTTL: 2 })
  await get(client, 'first')
  const first = stored(wx)
  await untilExpired(client)

  const from = wx.wire.length
  srv.resetStats()
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(get(client, i))))
  assert.deepEqual(results.map((r) => r.ok), Array(20).fill(true), results.filter((r) => !r.ok).map((r) => r.error.code).join(' '))
  assert.deepEqual(results.map((r) => r.value.sub), Array(20).fill('openid-1'))

  // Exactly one refresh_token grant request, answered 200 with a new refresh token (rotation).
  assert.deepEqual(srv.stats.token.requests, { refresh_token: 1 })
  assert.deepEqual(srv.stats.token.ok, { refresh_token: 1 })
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 0 })
  const refresh = wx.wire.slice(from).find((r) => r.path === '/token')
  assert.equal(refresh.form, true)
  assert.deepEqual(Object.fromEntries(new URLSearchParams(refresh.body)), { refresh_token: first.refreshToken, grant_type: 'refresh_token', client_id: CLIENT_ID })
  const now = stored(wx)
  assert.equal(now.accessToken, refresh.accessToken)
  assert.notEqual(now.refreshToken, first.refreshToken, 'the rotated refresh token replaced the old one')

  // The client knew the token was expired: the refresh went first and every request was sent
  // once, with the new token; none reached the server with the expired one.
  const sends = apiSends(wx, from)
  assert.equal(sends.length, 20)
  assert.ok(sends.every((r) => r.token === now.accessToken && r.status === 200))
  assert.equal(srv.stats.api.unauthorized, 0)
  assert.ok(wx.wire.indexOf(refresh) === from, 'the refresh call went out before any of the 20')
  noServerError(srv)
})

test('oidc-provider: 20 concurrent requests rejected 401 with an expired token: one refresh, each replayed once', T, async (t) => {
  const { srv, wx, client } = await setup(t, { accessTokenTTL: 1 })
  await get(client, 'first')
  const old = stored(wx)
  await untilExpired(client)
  srv.setAccessTokenTTL(60)
  // The same tokens, installed without their lifetime: the client learns of the expiry from
  // the server's 401s (as after a server-side revocation).
  await client.setSession({ accessToken: old.accessToken, refreshToken: old.refreshToken })

  const from = wx.wire.length
  srv.resetStats()
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(get(client, i))))
  assert.deepEqual(results.map((r) => r.ok), Array(20).fill(true), results.filter((r) => !r.ok).map((r) => r.error.code).join(' '))
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 0 })
  assert.deepEqual(srv.stats.token.requests, { refresh_token: 1 })
  const fresh = stored(wx).accessToken
  assert.notEqual(fresh, old.accessToken)
  const sends = apiSends(wx, from)
  for (let i = 0; i < 20; i++) {
    const mine = sends.filter((r) => r.reqId === String(i))
    assert.ok(mine.length === 1 || mine.length === 2, `request ${i} sent ${mine.length} times`)
    assert.deepEqual(mine[mine.length - 1], Object.assign({}, mine[mine.length - 1], { token: fresh, status: 200 }), `request ${i} ends with the new token`)
    if (mine.length === 2) assert.deepEqual([mine[0].token, mine[0].status], [old.accessToken, 401], `request ${i}: the first send was the expired token's`)
  }
  assert.ok(srv.stats.api.unauthorized >= 1, 'some requests met the 401')
  assert.equal(srv.stats.api.unauthorized, sends.filter((r) => r.status === 401).length)
  noServerError(srv)
})

// ---- (c) a reused refresh token: 400 invalid_grant, grant revoked, one silent login ----------

test('oidc-provider: a reused refresh token is answered 400 invalid_grant; one silent login, every waiting request replayed', T, async (t) => {
  const { srv, wx, client, events } = await setup(t, { accessTokenTTL: 1 })
  await get(client, 'first')
  const g1 = stored(wx)
  await untilExpired(client)
  srv.setAccessTokenTTL(60)
  await get(client, 'second') // refreshes: g1's refresh token is rotated away
  const g2 = stored(wx)
  assert.notEqual(g2.refreshToken, g1.refreshToken)
  assert.equal(srv.stats.token.ok.refresh_token, 1)

  // The rotated-away refresh token comes back (a restored backup, a second device, a thief's
  // copy), with the expired access token of its time.
  await client.setSession({ accessToken: g1.accessToken, refreshToken: g1.refreshToken })
  const from = wx.wire.length
  srv.resetStats()
  await settleEvents() // the 'refresh' event of the rotation above
  events.length = 0

  // 10 requests at once (each meets a 401), 5 more while the refresh is out, 5 more while the
  // silent login is out: all wait for the new tokens, none is lost.
  const promises = []
  const issue = (batch, n) => { for (let i = 0; i < n; i++) promises.push({ batch, id: `${batch}${i}`, p: outcome(get(client, `${batch}${i}`)) }) }
  const seen = { refresh: null, login: null } // was the call still out when its batch was issued?
  wx.onSend = (rec) => {
    if (rec.path !== '/token') return
    const batch = rec.grantType === 'refresh_token' ? 'refresh' : rec.grantType === GRANT_TYPE ? 'login' : null
    if (!batch || seen[batch] !== null) return
    // Right after the platform call returns (not from inside the client's own call).
    queueMicrotask(() => {
      seen[batch] = rec.status === null
      issue(batch === 'refresh' ? 'B' : 'C', 5)
    })
  }
  issue('A', 10)
  // Batches B and C are issued when the calls go out; wait until they exist.
  const deadline = Date.now() + 10000
  while ((seen.refresh === null || seen.login === null) && Date.now() < deadline) await sleep(10)
  wx.onSend = null
  assert.deepEqual(seen, { refresh: true, login: true }, 'batches B and C were issued while the refresh / the login was out')
  const results = await Promise.all(promises.map((x) => x.p))
  assert.equal(results.length, 20)
  assert.deepEqual(results.map((r) => r.ok), Array(20).fill(true), results.filter((r) => !r.ok).map((r) => `${r.error.code} ${r.error.statusCode || ''}`).join(', '))
  assert.ok(results.every((r) => r.value.sub === 'openid-1'))

  // The server: one refresh, refused 400 invalid_grant as a reuse (grant revoked), then one
  // login through the custom grant.
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 1 })
  assert.deepEqual(srv.stats.token.requests, { refresh_token: 1, [GRANT_TYPE]: 1 })
  assert.deepEqual(srv.stats.invalidGrantBy, { refresh_token: 1 })
  assert.equal(srv.stats.token.details['refresh token already used'], 1)
  assert.equal(srv.stats.grantsRevoked, 1)
  const refresh = wx.wire.slice(from).find((r) => r.grantType === 'refresh_token')
  assert.deepEqual([refresh.status, refresh.error], [400, 'invalid_grant'])
  assert.equal(Object.fromEntries(new URLSearchParams(refresh.body)).refresh_token, g1.refreshToken)

  // The client: the dead refresh token is gone, the new session is persisted.
  const g3 = stored(wx)
  assert.ok(![g1.accessToken, g2.accessToken].includes(g3.accessToken))
  assert.ok(![g1.refreshToken, g2.refreshToken].includes(g3.refreshToken), 'the dead refresh token is forgotten')

  // The wire: batch A sent once with g1 (401) and replayed once with g3; B and C sent once, with g3.
  const sends = apiSends(wx, from)
  for (const { batch, id } of promises) {
    const mine = sends.filter((r) => r.reqId === id)
    if (batch === 'A') {
      assert.deepEqual(mine.map((r) => [r.token, r.status]), [[g1.accessToken, 401], [g3.accessToken, 200]], `request ${id}`)
    } else {
      assert.deepEqual(mine.map((r) => [r.token, r.status]), [[g3.accessToken, 200]], `request ${id} waited and went out once, with the new token`)
    }
  }
  await settleEvents()
  assert.deepEqual(events.map(([ev, info]) => [ev, info && info.ok]), [['refresh', false], ['login', true]], 'no loginRequired')
  // oidc-provider revoked the whole grant: g2's tokens are dead too.
  const g2refresh = await fetch(srv.tokenURL, { method: 'POST', headers: FORM, body: encodeForm({ grant_type: 'refresh_token', refresh_token: g2.refreshToken, client_id: CLIENT_ID }) })
  assert.equal(g2refresh.status, 400)
  noServerError(srv)
})

// ---- the issue's report: a dead refresh token answered 400, then five requests -------------

test('oidc-provider: a stored session whose refresh token is expired (400 invalid_grant): { refreshes: 1, logins: 1 }, not 5 refreshes', T, async (t) => {
  // A user who comes back after the refresh token's lifetime (7 days in a common setup; 1 s here).
  const { srv, wx, relaunch } = await setup(t, { accessTokenTTL: 1, refreshTokenTTL: 1 })
  const before = relaunch()
  await get(before, 'first')
  await untilExpired(before)
  await sleep(200)
  srv.setAccessTokenTTL(60)

  // The next launch reads that session from storage.
  const client = relaunch()
  const from = wx.wire.length
  srv.resetStats()
  const lines = []
  for (let i = 0; i < 5; i++) {
    const r = await outcome(get(client, i))
    lines.push(r.ok ? `request ${i} ok` : `request ${i} ${r.error.code} ${r.error.statusCode || ''}`.trim())
  }
  const counts = authCalls(wx, from)
  assert.deepEqual(lines, ['request 0 ok', 'request 1 ok', 'request 2 ok', 'request 3 ok', 'request 4 ok'])
  assert.deepEqual(counts, { refreshes: 1, logins: 1 }, `${lines.join('\n')}\n${JSON.stringify(counts)}`)
  assert.deepEqual(srv.stats.invalidGrantBy, { refresh_token: 1 })
  // oidc-provider says 'refresh token is expired', or 'not found' once its store dropped it.
  const details = Object.keys(srv.stats.token.details)
  assert.equal(details.length, 1)
  assert.ok(['refresh token is expired', 'refresh token not found'].includes(details[0]), details[0])
  noServerError(srv)
})

// ---- (d) the demo's step 3 (reuse detection) against oidc-provider ----------------------------

// example-miniprogram/demo/script.js, steps 2 and 3, replicated: the access token expires and
// 10 requests share one refresh (g1 -> g2); an attacker then replays g1's rotated-away refresh
// token at the server, which revokes the family (g2 included); the detail page's two requests
// follow, with g2 inside the client's leeway: the client refreshes first, the refresh is refused,
// the silent login runs and both requests go out once, with g3.
test("oidc-provider: the demo's step 3 (reuse detection): { refreshes: 1, logins: 1 }, both requests once with g3", T, async (t) => {
  const { srv, wx, client } = await setup(t, { accessTokenTTL: 2 })
  const gen = () => {
    const m = new Map()
    wx.wire.filter((r) => r.accessToken).forEach((r, i) => m.set(r.accessToken, i + 1))
    return m
  }

  // 1. launch: silent login -> g1
  await get(client, 'launch')
  const g1 = stored(wx)

  // 2. g1 expires; 10 requests -> one refresh -> g2
  await untilExpired(client)
  let from = wx.wire.length
  const step2 = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome(get(client, `s2-${i}`))))
  assert.ok(step2.every((r) => r.ok))
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 0 })
  assert.ok(apiSends(wx, from).every((r) => gen().get(r.token) === 2 && r.status === 200))
  const g2 = stored(wx)

  // 3. the attacker replays the refresh token step 2 rotated away
  const stolen = await fetch(srv.tokenURL, { method: 'POST', headers: FORM, body: encodeForm({ refresh_token: g1.refreshToken, grant_type: 'refresh_token', client_id: CLIENT_ID }) })
  const stolenBody = await stolen.json()
  assert.deepEqual([stolen.status, stolenBody.error], [400, 'invalid_grant'], 'the reuse is detected')
  assert.equal(srv.stats.token.details['refresh token already used'], 1)
  assert.equal(srv.stats.grantsRevoked, 1, 'the server revokes the family')

  // g2 inside the leeway (min(60 s, lifetime / 2) = 1 s before its end), not yet expired
  const { expiresAt } = client.session()
  await sleep(expiresAt - 1000 + 100 - Date.now())
  assert.ok(client.session().expiresAt - Date.now() > 0, 'g2 has not expired yet')

  from = wx.wire.length
  const item = await outcome(client.get('/api/me', { id: 3 }, { header: { 'X-Req-Id': 'item' } }))
  const like = await outcome(get(client, 'like'))
  assert.ok(item.ok && like.ok, `${item.error && item.error.code} ${like.error && like.error.code}`)
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 1 })
  const refresh = wx.wire.slice(from).find((r) => r.grantType === 'refresh_token')
  assert.equal(Object.fromEntries(new URLSearchParams(refresh.body)).refresh_token, g2.refreshToken)
  assert.deepEqual([refresh.status, refresh.error], [400, 'invalid_grant'], 'the refresh is refused')
  const sends = apiSends(wx, from)
  assert.deepEqual(sends.map((r) => [r.reqId, gen().get(r.token), r.status]), [['item', 3, 200], ['like', 3, 200]],
    'the detail page requests go out once, with g3 from the silent login')
  noServerError(srv)
})

// ---- the README's snippet against oidc-provider -------------------------------------------

// docs/examples/oauth2.js as a mini-program would load it: `require('tokengate')` is dist/,
// `wx` is the platform (here: the node:http one, the snippet's origins mapped onto the server).
function loadExample (file, wx) {
  const src = fs.readFileSync(file, 'utf8')
  const mod = { exports: {} }
  const fn = vm.runInThisContext('(function (require, module, exports, wx) {' + src + '\n})', { filename: file })
  const had = Object.prototype.hasOwnProperty.call(globalThis, 'wx')
  const old = globalThis.wx
  globalThis.wx = wx // the default platform, as in a mini-program
  try {
    fn((id) => {
      if (id === 'tokengate') return require(DIST)
      throw new Error('the example requires only tokengate: ' + id)
    }, mod, mod.exports, wx)
  } finally {
    if (had) globalThis.wx = old
    else delete globalThis.wx
  }
  return mod.exports
}

test('docs/examples/oauth2.js (the README snippet) works against oidc-provider as written', T, async (t) => {
  const srv = await startAuthServer()
  const wx = httpPlatform(srv, { origins: { 'https://api.example.com': srv.url, 'https://auth.example.com': srv.url } })
  t.after(async () => { wx.close(); await srv.close() })
  const { client } = loadExample(path.join(ROOT, 'docs', 'examples', 'oauth2.js'), wx)

  assert.deepEqual(await client.get('/api/me'), { sub: 'openid-1', n: 1 })
  assert.deepEqual(authCalls(wx), { refreshes: 0, logins: 1 })
  assert.equal(wx.wire[0].form, true)

  // A dead refresh token (unknown to the server: 400 invalid_grant) recovers by one silent login.
  await client.setSession({ accessToken: 'expired-access-token', refreshToken: 'dead-refresh-token' })
  const from = wx.wire.length
  assert.deepEqual(await client.get('/api/me'), { sub: 'openid-1', n: 2 })
  assert.deepEqual(authCalls(wx, from), { refreshes: 1, logins: 1 })
  const refresh = wx.wire.slice(from).find((r) => r.grantType === 'refresh_token')
  assert.deepEqual([refresh.status, refresh.error, refresh.form], [400, 'invalid_grant', true])
  assert.equal(srv.stats.token.details['refresh token not found'], 1)
  noServerError(srv)
})

// ---- the fake platforms send a form body as wx.request does --------------------------------

test('fakeWx (tests/js/client.fake.js): a form content type sends encodeForm(data); the fake server reads it back', T, async () => {
  const server = new Server()
  const wx = fakeWx(server)
  const client = dist().createClient({
    platform: wx,
    baseURL: 'https://api.example.com',
    login: { url: '/auth/login', data: { appId: 'wx1', note: 'a b&c' }, header: { 'Content-Type': 'Application/X-WWW-Form-URLEncoded; charset=UTF-8' } },
    refresh: { url: '/auth/refresh', header: FORM }
  })
  await client.get('/me')
  const login = server.log.find((l) => l.path === '/auth/login')
  assert.equal(typeof login.body, 'string')
  assert.deepEqual(Object.fromEntries(new URLSearchParams(login.body)), login.data)
  assert.deepEqual(Object.keys(login.data).sort(), ['appId', 'code', 'note'])
  assert.equal(login.data.note, 'a b&c')
  assert.match(login.body, /(^|&)note=a%20b%26c(&|$)/, 'encodeURIComponent, a space is %20')
  assert.equal(login.body, encodeForm(login.data))

  server.expireAll()
  await client.get('/me')
  const refresh = server.log.find((l) => l.path === '/auth/refresh')
  assert.equal(refresh.body, encodeForm({ refreshToken: 'ref-1' }))
  assert.deepEqual(server.count, { login: 1, refresh: 1, api: 3 })
  // A JSON call is handed over as the object it was (the fake does not serialise JSON).
  const api = server.log.filter((l) => l.path === '/me')
  assert.ok(api.every((l) => l.body === undefined))
})

test("the demo's wx (example-miniprogram/demo/wx.js, also the soak's wire) sends a form body: oidc-provider accepts it", T, async (t) => {
  const srv = await startAuthServer({ accessTokenTTL: 1 })
  const wires = []
  const wx = createWx({ codeURL: `${srv.url}/no-such-endpoint`, onWire: (w) => wires.push(w) })
  // wx.login of the demo asks the example server for a code; here the oidc server mints it.
  wx.login = (o) => setImmediate(() => o.success({ code: srv.mintCode('openid-demo'), errMsg: 'login:ok' }))
  t.after(async () => { wx.__close(); await srv.close() })
  const client = dist().createClient(Object.assign({ platform: wx }, srv.clientOptions()))

  assert.deepEqual(await client.get('/api/me'), { sub: 'openid-demo', n: 1 })
  await sleep(client.session().expiresAt - Date.now() + 60)
  srv.setAccessTokenTTL(60)
  assert.deepEqual(await client.get('/api/me'), { sub: 'openid-demo', n: 2 })
  assert.deepEqual(srv.stats.token.ok, { [GRANT_TYPE]: 1, refresh_token: 1 }, 'both form-encoded grants accepted (JSON would be 400 invalid_request)')
  assert.deepEqual(srv.stats.token.errors, {})
  const tokenCalls = wires.filter((w) => new URL(w.url).pathname === '/token')
  assert.equal(tokenCalls.length, 2)
  assert.ok(tokenCalls.every((w) => isFormContentType(w.reqHeader) && w.statusCode === 200))
  noServerError(srv)
})
