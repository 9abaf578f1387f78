'use strict'
// The demo script: runs the example mini-program headlessly against the example auth server
// and prints a timeline. Steps:
//   1. launch: silent login; the list page's four requests at once (two with auth: false)
//   2. the access token expires while 10 requests are in flight -> one refresh, all replayed
//   3. the refresh token is revoked (an attacker reuses a rotated one) -> silent login
//   4. the login endpoint is down for 2 s (503) -> one failed pull-to-refresh, no login page;
//      the next pull logs in again (rule 6: a passing login failure)
//   5. login is refused -> the login page
//   6. the login page signs in and calls setSession -> the list page loads again
//   7. relaunch: the session comes back from storage (no login)
// Every step checks what it expects; runDemo resolves with { summary, failures }.

const crypto = require('node:crypto')
const http = require('node:http')
const path = require('node:path')
const { Runtime } = require('./runtime')
const { createWx } = require('./wx')

const ROOT = path.join(__dirname, '..')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

function short (token) {
  return crypto.createHash('sha256').update(String(token)).digest('hex').slice(0, 6)
}

function tokenSet (body) {
  if (!body || typeof body !== 'object') return null
  const src = typeof body.accessToken === 'string' ? body : (body.data && typeof body.data.accessToken === 'string' ? body.data : null)
  return src ? { accessToken: src.accessToken, refreshToken: src.refreshToken } : null
}

function errorName (body) {
  if (!body || typeof body !== 'object') return ''
  if (typeof body.error === 'string') return body.error
  return ''
}

function header (h, name) {
  const k = Object.keys(h || {}).find((x) => x.toLowerCase() === name.toLowerCase())
  return k ? h[k] : undefined
}

/**
 * @param {object} o
 * @param {object} o.server      the in-process auth server (server/index.js)
 * @param {string} o.storageFile
 * @param {() => object} o.loadTokengate  the package (dist/) as "build npm" would ship it
 * @param {boolean} [o.envelope]
 * @param {(line: string) => void} o.out
 * @param {number} o.accessTtl   ms, as the server was started with
 */
async function runDemo (o) {
  const out = o.out
  const server = o.server
  const t0 = Date.now()
  const failures = []
  const secrets = new Set() // every token and code seen, to prove none was printed
  const expect = (cond, msg) => { if (!cond) { failures.push(msg); out(`           !! unexpected: ${msg}`) } }

  // ---- the timeline ------------------------------------------------------------------------

  const ts = () => `+${((Date.now() - t0) / 1000).toFixed(3).padStart(6)}s`
  const pageName = (route) => (route ? String(route).split('/').pop() : '-')
  function line (page, what, status, tok, note) {
    out(`${ts()}  ${String(page).padEnd(8)} ${String(what).padEnd(34)} ${String(status == null ? '' : status).padEnd(o.envelope ? 10 : 5)}${String(tok || '').padEnd(11)} ${note || ''}`.trimEnd())
  }
  function mark (page, text) { out(`${ts()}  ${String(page).padEnd(8)} ${text}`) }

  // token -> generation, in the order the runner saw them issued (g1, g2, ...)
  const gens = new Map()
  let nextGen = 1
  function register (set) {
    const g = nextGen++
    gens.set(set.accessToken, { kind: 'g', n: g })
    secrets.add(set.accessToken)
    if (set.refreshToken) { gens.set(set.refreshToken, { kind: 'r', n: g }); secrets.add(set.refreshToken) }
    return g
  }
  function label (token) {
    if (!token) return '-'
    const g = gens.get(token)
    return `${g ? g.kind + g.n : '?'}·${short(token)}`
  }
  const refreshTokenOf = new Map() // generation -> refresh token (the "attacker" keeps one)

  // ---- the wire (every wx.request, as the server saw it) -------------------------------------

  const wire = [] // { step, path, status, gen, replay, kind }
  const counts = { refreshes: 0, logins: 0 }
  const seenIds = new Set()
  let stepNo = 0

  function onWire (w) {
    const p = new URL(w.url).pathname
    let status = w.statusCode != null ? w.statusCode : 'ERR'
    // Envelope mode: show the business code next to the HTTP status (200/40101).
    const bizCode = o.envelope && w.resBody && typeof w.resBody === 'object' && w.resBody.code != null ? w.resBody.code : null
    const rejected = w.statusCode === 401 || bizCode === 40101
    if (bizCode != null && bizCode !== 0) status = `${status}/${bizCode}`
    const ms = `${w.endedAt - (w.startedAt || w.queuedAt)}ms`
    const set = w.statusCode === 200 ? tokenSet(w.resBody) : null
    // In envelope mode a rejected refresh/login is HTTP 200 without tokens.
    const err = errorName(w.resBody) || (w.errMsg ? w.errMsg : '')
    if (p === '/auth/login') {
      counts.logins++
      if (w.reqBody && typeof w.reqBody.code === 'string') secrets.add(w.reqBody.code)
      let note = err
      if (set) { const g = register(set); refreshTokenOf.set(g, set.refreshToken); note = `=> ${label(set.accessToken)}` }
      line('-', '[LOGIN] POST /auth/login', status, 'code', `${note}  ${ms}`)
      wire.push({ step: stepNo, kind: 'login', status, ok: !!set })
      return
    }
    if (p === '/auth/refresh') {
      counts.refreshes++
      const sent = w.reqBody && typeof w.reqBody === 'object' ? w.reqBody.refreshToken : null
      let note = err
      if (set) { const g = register(set); refreshTokenOf.set(g, set.refreshToken); note = `=> ${label(set.accessToken)}` }
      line('-', '[REFRESH] POST /auth/refresh', status, label(sent), `${note}  ${ms}`)
      wire.push({ step: stepNo, kind: 'refresh', status, ok: !!set, startedAt: w.startedAt })
      return
    }
    const auth = header(w.reqHeader, 'Authorization')
    const token = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '') : null
    const rid = header(w.reqHeader, 'X-Request-Id')
    const replay = rid != null && seenIds.has(rid)
    if (rid != null) seenIds.add(rid)
    let note = replay ? 'replay ' : ''
    if (set) note += `=> ${label(set.accessToken)} `
    if (p === '/auth/password' && set) { const g = register(set); refreshTokenOf.set(g, set.refreshToken); note = `=> ${label(set.accessToken)} ` }
    if (err) note += err + ' '
    line(pageName(header(w.reqHeader, 'X-Page')), `${w.method.padEnd(4)} ${p}`, status, token ? label(token) : '-', `${note}${ms}`)
    const g = token && gens.get(token)
    wire.push({ step: stepNo, kind: 'api', path: p, status: rejected ? 401 : (bizCode != null && bizCode !== 0 ? 'biz' : w.statusCode), gen: g ? g.n : (token ? '?' : null), replay, endedAt: w.endedAt, err })
  }

  // ---- logical requests (every client.request promise a page made) -------------------------

  const requests = []
  function instrument (client) {
    let depth = 0
    for (const m of ['request', 'get', 'post', 'put', 'delete', 'upload', 'download']) {
      const orig = client[m]
      if (typeof orig !== 'function') continue
      client[m] = function (...args) {
        if (depth > 0) return orig.apply(this, args)
        depth++
        let p
        try { p = orig.apply(this, args) } catch (e) { p = Promise.reject(e) } finally { depth-- }
        const opts = m === 'request' || m === 'upload' || m === 'download' ? (args[0] || {}) : Object.assign({ url: args[0] }, args[2])
        const rec = { step: stepNo, url: String(opts.url), auth: opts.auth !== false, page: pageName(header(opts.header, 'X-Page')), state: 'pending', code: null }
        requests.push(rec)
        Promise.resolve(p).then(
          () => { rec.state = 'ok' },
          (e) => {
            rec.state = 'failed'
            rec.code = e && e.code
            line(rec.page, `  rejected ${rec.url}`, '', '', `${e && e.name} ${rec.code}`)
          }
        )
        return p
      }
    }
    for (const ev of ['login', 'refresh', 'loginRequired', 'logout']) {
      client.on(ev, (info) => {
        events[ev] = (events[ev] || 0) + 1
        const detail = info && typeof info === 'object' ? Object.entries(info).map(([k, v]) => `${k}=${v}`).join(' ') : ''
        mark('-', `event '${ev}' ${detail}`.trimEnd())
      })
    }
    return client
  }
  const events = {}

  // ---- the app -----------------------------------------------------------------------------

  let rt = null
  let client = null
  function boot () {
    const real = o.loadTokengate()
    const runtime = new Runtime({
      root: ROOT,
      makeWx: (nav) => createWx({
        codeURL: `${server.url}/__dev/code`,
        storageFile: o.storageFile,
        extConfig: { baseURL: server.url, envelope: !!o.envelope },
        onWire,
        nav,
        note: (t) => mark(pageName(runtime.currentRoute()), t)
      }),
      resolveNpm: (name) => {
        if (name !== 'tokengate') throw new Error(`module '${name}' is not in miniprogram_npm`)
        return Object.assign({}, real, {
          createClient (options) { client = instrument(real.createClient(options)); return client }
        })
      },
      log: (kind, route, text) => mark(pageName(route), kind === 'console' ? `console: ${text}` : text)
    })
    return runtime
  }

  async function quiet (maxMs) {
    // Until every request settled, no page hook is running, and nothing moved for 40 ms.
    const deadline = Date.now() + maxMs
    let lastWire = -1
    let lastReq = -1
    let stableSince = Date.now()
    while (Date.now() < deadline) {
      const busy = requests.some((r) => r.state === 'pending') || (rt && rt.pending.size > 0)
      if (busy || wire.length !== lastWire || requests.length !== lastReq) {
        stableSince = Date.now()
        lastWire = wire.length
        lastReq = requests.length
      } else if (Date.now() - stableSince >= 40) return true
      await sleep(10)
    }
    return false
  }

  const stepState = () => ({ refreshes: counts.refreshes, logins: counts.logins, requests: requests.length, wire: wire.length, loginRequired: events.loginRequired || 0 })
  function heading (n, title) {
    stepNo = n
    out('')
    out(`== ${n}. ${title}`)
  }
  function checkStep (before, want) {
    const reqs = requests.slice(before.requests)
    expect(counts.refreshes - before.refreshes === want.refreshes, `step ${stepNo}: ${counts.refreshes - before.refreshes} refresh calls, expected ${want.refreshes}`)
    expect(counts.logins - before.logins === want.logins, `step ${stepNo}: ${counts.logins - before.logins} login calls, expected ${want.logins}`)
    expect(reqs.length === want.requests, `step ${stepNo}: ${reqs.length} requests, expected ${want.requests}`)
    for (const r of reqs) {
      const wanted = (want.failWith && want.failWith(r)) || null
      if (r.state === 'pending') continue // counted as hung at the end
      if (wanted) expect(r.state === 'failed' && r.code === wanted, `step ${stepNo}: ${r.url} ${r.state} ${r.code || ''}, expected to fail with ${wanted}`)
      else expect(r.state === 'ok', `step ${stepNo}: ${r.url} ${r.state} ${r.code || ''}, expected ok`)
      if (wanted && r.state === 'failed') r.expectedFailure = true
    }
    const apiWire = wire.slice(before.wire).filter((w) => w.kind === 'api' && w.path.startsWith('/api/'))
    expect(apiWire.every((w) => w.gen !== null), `step ${stepNo}: an /api request went out without a token`)
    return { reqs, apiWire }
  }

  function summarize () {
    return {
      requests: requests.length,
      ok: requests.filter((r) => r.state === 'ok').length,
      failed: requests.filter((r) => r.state === 'failed' && r.expectedFailure).length,
      refreshes: counts.refreshes,
      logins: counts.logins,
      hung: requests.filter((r) => r.state === 'pending').length,
      unexpected: requests.filter((r) => r.state === 'failed' && !r.expectedFailure).length
    }
  }
  if (o.hooks) { o.hooks.summarize = summarize; o.hooks.secrets = secrets; o.hooks.failures = failures }

  // ---- 1. launch ---------------------------------------------------------------------------

  out(`server ${server.url}: access tokens live ${o.accessTtl / 1000}s (the client refreshes within min(60s, lifetime/2) of expiry)${o.envelope ? ', envelope mode' : ''}`)
  out(`time       page     request                            ${o.envelope ? 'stat/code ' : 'stat '}token      notes`)
  heading(1, 'launch: silent login; the list page fires 4 requests at once (2 with auth: false)')
  let before = stepState()
  rt = boot()
  rt.launch()
  await quiet(12000)
  {
    const { apiWire } = checkStep(before, { refreshes: 0, logins: 1, requests: 4 })
    expect(apiWire.length === 2 && apiWire.every((w) => w.status === 200 && w.gen === 1), 'step 1: the two /api requests should go out once, after the login, with g1')
  }

  // ---- 2. expiry with 10 requests in flight ----------------------------------------------------

  heading(2, 'the access token expires while 10 requests are in flight -> one refresh, all replayed')
  before = stepState()
  {
    const s = client.session()
    const leeway = Math.min(60000, o.accessTtl / 2)
    // Send while the token is still outside the client's leeway (so the client sends it), and
    // have the server hold each request until just after the token's expiry.
    const sendAt = s.expiresAt - leeway - 500
    if (sendAt > Date.now()) await sleep(sendAt - Date.now())
    const left = client.session().expiresAt - Date.now()
    expect(left > leeway, `step 2: too late to send outside the leeway (${left}ms left)`)
    const hold = left + 300
    server.setFaults({ apiLatency: hold })
    mark('server', `holds each /api request ${hold}ms before judging its token (the token has ${left}ms left)`)
    rt.fire('onRefreshStock')
    await quiet(hold * 2 + 12000)
    server.setFaults({ apiLatency: 0 })
    const { apiWire } = checkStep(before, { refreshes: 1, logins: 0, requests: 10 })
    const first = apiWire.filter((w) => !w.replay)
    const replays = apiWire.filter((w) => w.replay)
    expect(first.length === 10 && first.every((w) => w.status === 401 && w.gen === 1), 'step 2: the 10 requests should all be sent with g1 and rejected (expired in flight)')
    expect(replays.length === 10 && replays.every((w) => w.status === 200 && w.gen === 2), 'step 2: all 10 should be replayed once with g2 and succeed')
    const ref = wire.slice(before.wire).find((w) => w.kind === 'refresh')
    expect(ref && ref.ok, 'step 2: the refresh should succeed')
  }

  // ---- 3. refresh token revoked -------------------------------------------------------------

  heading(3, 'the refresh token is revoked -> silent login')
  out('           (an attacker replays the refresh token rotated away in step 2; the server revokes the family)')
  before = stepState()
  {
    // An attacker replays the refresh token that step 2 rotated away; the server sees the
    // reuse and revokes the whole family (the current refresh and access tokens too).
    const stolen = refreshTokenOf.get(1)
    const r = await postJSON(`${server.url}/auth/refresh`, { refreshToken: stolen })
    line('attacker', 'POST /auth/refresh', r.status, label(stolen), `${errorName(r.body)} -> the server revokes the family`)
    expect(errorName(r.body) === 'refresh_reused', `step 3: the reused refresh token should be detected (got ${errorName(r.body) || r.status})`)
    const left = client.session().expiresAt - Date.now()
    mark('-', `the current access token has ${left}ms left: inside the leeway, so the next request refreshes first`)
    rt.fire('onItemTap', { currentTarget: { dataset: { id: 3 } }, __label: 'item 3' })
    await quiet(12000)
    rt.fire('onLike')
    await quiet(12000)
    rt.navigateBack()
    const { apiWire } = checkStep(before, { refreshes: 1, logins: 1, requests: 2 })
    // g2 is inside the client's leeway by now (the replays of step 2 took most of its life),
    // so the client refreshes before sending: the refresh is refused, the silent login runs,
    // and the detail page's requests go out once, with g3.
    expect(apiWire.length === 2 && apiWire.every((w) => w.status === 200 && w.gen === 3),
      'step 3: the detail page requests should go out once, with g3 from the silent login')
    const ref = wire.slice(before.wire).find((w) => w.kind === 'refresh')
    expect(ref && !ref.ok, 'step 3: the refresh should be refused')
  }

  // ---- 4. the login endpoint is down for two seconds ------------------------------------------

  heading(4, 'the login endpoint is down for 2s -> one failed pull-to-refresh, not the login page')
  before = stepState()
  {
    const DOWN_MS = 2000
    const n = server.revokeAll()
    server.setFaults({ loginDownMs: DOWN_MS, loginErrorKind: '503' })
    const backAt = Date.now() + DOWN_MS
    mark('server', `revokes every session (${n}); /auth/login answers 503 for the next ${DOWN_MS / 1000}s`)
    rt.fire('onPullDownRefresh')
    await quiet(12000)
    const firstPull = new Set(requests.slice(before.requests))
    const page = rt.top()
    mark(pageName(page && page.route), `shows "${page && page.data.error}" (pull down to try again)`)
    expect(page && page.route === 'pages/list/list', `step 4: still on the list page after the failed pull (top: ${page && page.route})`)
    await sleep(backAt - Date.now() + 100)
    mark('server', '/auth/login is back')
    rt.fire('onPullDownRefresh')
    await quiet(12000)
    const { apiWire } = checkStep(before, {
      refreshes: 1,
      logins: 2,
      requests: 8,
      failWith: (r) => (firstPull.has(r) && r.auth ? 'HTTP' : null)
    })
    const logins = wire.slice(before.wire).filter((w) => w.kind === 'login')
    expect(logins.length === 2 && !logins[0].ok && /^503/.test(String(logins[0].status)) && logins[1].ok,
      'step 4: the first login answered 503, the second (the next pull) logged in')
    expect((events.loginRequired || 0) === before.loginRequired, `step 4: 'loginRequired' fired ${(events.loginRequired || 0) - before.loginRequired} times, expected never`)
    expect(rt.top() && rt.top().route === 'pages/list/list' && rt.top().data.error === '', 'step 4: the list page loaded on the second pull, no error shown')
    const second = apiWire.filter((w) => w.status === 200)
    expect(second.length === 2 && second.every((w) => w.gen === 4), 'step 4: the second pull sends its /api requests once, with g4 from the silent login')
    expect(client.session().loggedIn === true, 'step 4: session().loggedIn after the second pull')
  }

  // ---- 5. login refused -----------------------------------------------------------------------

  heading(5, 'login is refused (code2Session fails) -> the login page')
  before = stepState()
  {
    const n = server.revokeAll()
    server.setFaults({ failLogin: 'all' })
    mark('server', `revokes every session (${n}); code2Session now fails`)
    rt.fire('onPullDownRefresh')
    await quiet(12000)
    checkStep(before, {
      refreshes: 1,
      logins: 1,
      requests: 4,
      failWith: (r) => (r.auth ? 'LOGIN_REQUIRED' : null)
    })
    expect((events.loginRequired || 0) - before.loginRequired === 1, `step 5: 'loginRequired' fired ${(events.loginRequired || 0) - before.loginRequired} times, expected once`)
    expect(rt.top() && rt.top().route === 'pages/login/login', `step 5: the login page should be open (top: ${rt.top() && rt.top().route})`)
  }

  // ---- 6. setSession ----------------------------------------------------------------------------

  heading(6, 'the user logs in on the login page -> setSession -> the list page loads again')
  before = stepState()
  {
    server.setFaults({ failLogin: 0 })
    if (rt.top() && rt.top().route === 'pages/login/login') {
      rt.fire('onUsernameInput', { detail: { value: 'demo' } })
      rt.fire('onPasswordInput', { detail: { value: 'demo' } })
      rt.fire('onSubmit')
    }
    await quiet(12000)
    const { apiWire } = checkStep(before, { refreshes: 0, logins: 0, requests: 5 })
    expect(rt.top() && rt.top().route === 'pages/list/list', 'step 6: back on the list page')
    expect(apiWire.length === 2 && apiWire.every((w) => w.status === 200 && w.gen === 5), 'step 6: the list page reloads with the token from setSession (g5)')
    expect(client.session().loggedIn === true, 'step 6: session().loggedIn')
  }

  // ---- 7. relaunch --------------------------------------------------------------------------------

  heading(7, 'relaunch: a new app instance restores the session from storage (no login)')
  before = stepState()
  {
    rt.wx.__close()
    const old = client
    rt = boot()
    rt.launch()
    await quiet(12000)
    expect(client !== old, 'step 7: a new client')
    const { apiWire } = checkStep(before, { refreshes: 0, logins: 0, requests: 4 })
    expect(apiWire.length === 2 && apiWire.every((w) => w.status === 200 && w.gen === 5), 'step 7: the restored session (g5) is used as is')
  }

  // ---- done ---------------------------------------------------------------------------------------

  out('')
  await quiet(2000)
  rt.wx.__close()
  const st = server.stats()
  out(`server: logins ok=${st.logins.ok} failed=${st.logins.failed}, refreshes ok=${st.refreshes.ok} rejected=${st.refreshes.rejected}, ` +
    `reuse detected=${st.reuseDetections}, max overlapping login/refresh calls=${st.maxAuthInFlight}, ` +
    `requests with a superseded token=${st.staleTokenRequests}`)
  expect(st.maxAuthInFlight === 1, `at most one login or refresh call at a time (server saw ${st.maxAuthInFlight})`)
  expect(st.staleTokenRequests === 0, `no request sent with a superseded token (server saw ${st.staleTokenRequests})`)
  expect(st.reuseDetections === 1, `exactly the attacker's reuse detected (server saw ${st.reuseDetections})`)
  expect((events.refresh || 0) === counts.refreshes, `'refresh' events (${events.refresh || 0}) match refresh calls (${counts.refreshes})`)
  const summary = summarize()
  expect(summary.hung === 0, `${summary.hung} request promise(s) never settled`)
  return { summary, failures, secrets }
}

function postJSON (url, body) {
  return new Promise((resolve) => {
    const payload = Buffer.from(JSON.stringify(body))
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        let b = null
        try { b = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch (_) {}
        resolve({ status: res.statusCode, body: b })
      })
    })
    req.on('error', (e) => resolve({ status: 'ERR', body: { error: e.code } }))
    req.end(payload)
  })
}

module.exports = { runDemo, short }
