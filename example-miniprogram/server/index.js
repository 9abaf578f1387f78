'use strict'
// A local auth server for the tokengate example: node:http only, loopback only.
//
//   POST /auth/login    { code }          code2Session stand-in: single-use codes, 5 min
//   POST /auth/refresh  { refreshToken }  rotation + reuse detection (reuse revokes the family)
//   POST /auth/password { username, password }   the interactive login of the login page
//   POST /auth/logout   { refreshToken }  revokes the family
//   GET  /api/profile, /api/items, /api/items/:id, /api/items/:id/stock,
//        POST /api/items/:id/like, ANY /api/echo
//   GET  /public/notice, /public/banner, /health                      (no token needed)
//   dev only: POST /__dev/code, GET /__stats, POST /__stats/reset,
//             POST /__admin/faults, POST /__admin/revoke
//
// The dev routes are off unless turned on: option `dev: true`, the CLI's --dev, or
// TOKENGATE_EXAMPLE_DEV=1 in the environment (npm run demo and npm run soak turn them on).
// Even then they answer only requests whose Host is loopback (127.0.0.1, localhost, [::1],
// any port) and whose Origin, when present, is loopback too: a web page the developer visits
// cannot reach them, neither with a cross-origin text/plain POST (CSRF) nor through a name
// of its own that resolves to 127.0.0.1 (DNS rebinding).
//
// Run `node example-miniprogram/server --help` for the flags. It never logs a token or a code.

const http = require('node:http')
const { Store } = require('./store')

const HOST = '127.0.0.1'
const DEV_ENV = 'TOKENGATE_EXAMPLE_DEV'

const DEFAULTS = {
  port: 3000,
  accessTtl: 60000,
  refreshTtl: 7 * 24 * 3600 * 1000,
  codeTtl: 5 * 60 * 1000,
  envelope: false,
  maxBody: 16 * 1024,
  dev: null, // null: on only when the environment has TOKENGATE_EXAMPLE_DEV=1
  users: { demo: 'demo' },
  log: null, // function (line) or null
  faults: {},
  random: null, // () => number in [0, 1) for latency and injected faults; Math.random when null
  // Against slow or stuck clients (slowloris): the whole header block must arrive within
  // headersTimeout, the whole request within requestTimeout, and an idle keep-alive socket is
  // closed after keepAliveTimeout. Node checks the first two every checkInterval ms.
  headersTimeout: 10000,
  requestTimeout: 30000,
  keepAliveTimeout: 5000,
  checkInterval: 1000
}

// Business codes used in envelope mode.
const BIZ = {
  ok: 0,
  bad_request: 40000,
  token: 40101, // any access/refresh token problem: expired, invalid, revoked, reused
  login: 40102, // a login code or password that was not accepted
  not_found: 40400,
  method_not_allowed: 40500,
  too_large: 41300,
  server: 50000,
  unavailable: 50300
}

const TOKEN_ERRORS = new Set(['missing_token', 'invalid_token', 'token_expired', 'token_revoked',
  'invalid_grant', 'refresh_revoked', 'refresh_reused', 'refresh_expired'])
const LOGIN_ERRORS = new Set(['invalid_code', 'code_used', 'code_expired', 'login_failed', 'bad_credentials'])

const ITEMS = Array.from({ length: 12 }, (_, i) => ({
  id: i + 1,
  title: `Item ${i + 1}`,
  price: 100 + i * 25
}))

function count (v) {
  // Fault counters: a number, or 'all' / true for "every time".
  if (v === 'all' || v === true || v === Infinity) return Infinity
  if (v === false || v == null) return 0
  const n = Number(v)
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0
}

function normalizeFaults (f, base) {
  const out = Object.assign({
    latency: [0, 0],
    apiLatency: [0, 0],
    errorRate: 0,
    hangRefresh: 0,
    failRefresh: 0,
    failLogin: 0,
    loginError: 0,
    loginErrorKind: '503',
    loginDownUntil: 0,
    burst5xx: 0,
    burstLen: 0,
    burstEvery: 0,
    dropRate: 0
  }, base || {})
  if (!f || typeof f !== 'object') return out
  if (f.reset) Object.assign(out, normalizeFaults({}))
  for (const k of ['latency', 'apiLatency']) {
    if (f[k] == null) continue
    const l = Array.isArray(f[k]) ? f[k] : [f[k], f[k]]
    const lo = Math.max(0, Math.min(60000, Number(l[0]) || 0))
    const hi = Math.max(lo, Math.min(60000, Number(l[1]) || 0))
    out[k] = [lo, hi]
  }
  if (f.errorRate != null) out.errorRate = Math.max(0, Math.min(1, Number(f.errorRate) || 0))
  if (f.dropRate != null) out.dropRate = Math.max(0, Math.min(1, Number(f.dropRate) || 0))
  for (const k of ['hangRefresh', 'failRefresh', 'failLogin', 'loginError', 'burst5xx']) if (f[k] != null) out[k] = count(f[k])
  if (f.loginErrorKind != null && LOGIN_ERROR_KINDS.includes(String(f.loginErrorKind))) out.loginErrorKind = String(f.loginErrorKind)
  if (f.loginDownMs != null) {
    // An outage of the login endpoint from now on, for loginDownMs (0 ends it).
    const ms = Math.max(0, Math.min(10 * 60000, Number(f.loginDownMs) || 0))
    out.loginDownUntil = ms > 0 ? Date.now() + ms : 0
  }
  if (f.burstLen != null) out.burstLen = count(f.burstLen)
  if (f.burstEvery != null) out.burstEvery = count(f.burstEvery)
  return out
}

function faultsJSON (f) {
  const o = {}
  for (const [k, v] of Object.entries(f)) {
    if (k === 'loginDownUntil') o.loginDownMs = Math.max(0, v - Date.now())
    else o[k] = v === Infinity ? 'all' : v
  }
  return o
}

// How a login call fails on purpose without refusing the user (rule 6's passing failures):
// a 5xx, 408 or 429, the connection reset before any answer, a 2xx body without a token, or
// no answer at all (the client's timeout).
const LOGIN_ERROR_KINDS = ['503', '500', '502', '504', '408', '429', 'reset', 'empty', 'hang']

function isDevEnv (env) {
  const v = env && env[DEV_ENV]
  return v === '1' || v === 'true' || v === 'on' || v === 'yes'
}

// Loopback host names as they appear in a Host header or an origin's host (any port).
function loopbackName (name) {
  const h = String(name).toLowerCase()
  return h === '127.0.0.1' || h === 'localhost' || h === '[::1]'
}

/** A Host header value naming a loopback host, with or without a port. */
function loopbackHost (host) {
  if (typeof host !== 'string' || host === '') return false
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host)
  return !!m && loopbackName(m[1])
}

/** An Origin header value on a loopback host (any scheme and port). "null" is not one. */
function loopbackOrigin (origin) {
  if (typeof origin !== 'string') return false
  let u
  try { u = new URL(origin) } catch (_) { return false }
  return loopbackName(u.hostname)
}

/**
 * Why a request may not use a dev route, or null: its Host is not loopback (DNS rebinding:
 * a page of another site whose name now resolves to 127.0.0.1), or it has an Origin that is
 * not loopback (a page of another site posting to us: CSRF, text/plain needs no preflight).
 */
function devRefusal (req) {
  const h = req.headers
  if (!loopbackHost(h.host)) return 'host_not_loopback'
  if (h.origin !== undefined && !loopbackOrigin(h.origin)) return 'origin_not_loopback'
  return null
}

function freshStats () {
  return {
    startedAt: Date.now(),
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    byRoute: {},
    byStatus: {},
    logins: { ok: 0, failed: 0, injectedFailures: 0, injectedPassing: 0 },
    passwordLogins: { ok: 0, failed: 0 },
    refreshes: { ok: 0, rejected: 0, reused: 0, hung: 0, injectedFailures: 0 },
    loginInFlight: 0,
    refreshInFlight: 0,
    authInFlight: 0, // login + refresh calls overlapping right now
    maxLoginInFlight: 0,
    maxRefreshInFlight: 0,
    maxAuthInFlight: 0,
    // Login/refresh calls that arrived while another one was still in flight.
    authOverlaps: 0,
    // Login/refresh calls that carried an Authorization header (they never should).
    authWithToken: 0,
    // Connections cut on purpose by the dropRate fault (a transport failure for the client).
    dropped: 0,
    maxRefreshInFlightPerFamily: 0,
    maxLoginInFlightPerUser: 0,
    api: { ok: 0, rejected: 0, missing: 0, expired: 0, revoked: 0, invalid: 0, injected5xx: 0 },
    // Requests to /api/* carrying an access token older than the newest one issued to its
    // family, counted on arrival: a client that sends with an old token after a refresh.
    staleTokenRequests: 0,
    reuseDetections: 0,
    malformed: 0,
    oversized: 0,
    // Requests to a dev route refused by its loopback guard (Host or Origin not loopback).
    devRefused: 0,
    serverErrors: 0
  }
}

function createAuthServer (options) {
  const opts = Object.assign({}, DEFAULTS, options || {})
  if (opts.dev == null) opts.dev = isDevEnv(process.env)
  opts.dev = opts.dev === true
  const store = new Store({ accessTtl: opts.accessTtl, refreshTtl: opts.refreshTtl, codeTtl: opts.codeTtl })
  let faults = normalizeFaults(opts.faults)
  let stats = freshStats()
  let apiSeq = 0
  const refreshPerFamily = new Map()
  const loginPerUser = new Map()
  const hanging = new Set()
  const log = typeof opts.log === 'function' ? opts.log : () => {}
  const random = typeof opts.random === 'function' ? opts.random : Math.random

  function bump (map, key) {
    map[key] = (map[key] || 0) + 1
  }

  // ---- responses ---------------------------------------------------------------------------

  function sendRaw (res, status, obj, extraHeaders) {
    if (res.headersSent || res.destroyed) return
    const body = JSON.stringify(obj)
    res.writeHead(status, Object.assign({
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store'
    }, extraHeaders || {}))
    res.end(body)
  }

  function ok (res, data) {
    if (opts.envelope) sendRaw(res, 200, { code: BIZ.ok, message: 'ok', data })
    else sendRaw(res, 200, data)
  }

  // status: the HTTP status in plain mode. In envelope mode token and login problems are
  // HTTP 200 with a business code (as many mini-program backends do); malformed or oversized
  // bodies, unknown routes and 5xx keep their HTTP status.
  function fail (res, status, error, message) {
    if (opts.envelope) {
      let code = BIZ.bad_request
      let httpStatus = status
      if (TOKEN_ERRORS.has(error)) { code = BIZ.token; httpStatus = 200 } else if (LOGIN_ERRORS.has(error)) { code = BIZ.login; httpStatus = 200 } else if (status === 404) code = BIZ.not_found
      else if (status === 405) code = BIZ.method_not_allowed
      else if (status === 413) code = BIZ.too_large
      else if (status === 503) code = BIZ.unavailable
      else if (status >= 500) code = BIZ.server
      sendRaw(res, httpStatus, { code, message: message || error, error })
    } else {
      const headers = status === 401 ? { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${error}"` } : null
      sendRaw(res, status, { error, message: message || error }, headers)
    }
  }

  // ---- bodies ------------------------------------------------------------------------------

  function readBody (req) {
    return new Promise((resolve) => {
      const declared = Number(req.headers['content-length'])
      let size = 0
      const chunks = []
      let done = false
      const finish = (r) => { if (!done) { done = true; resolve(r) } }
      if (Number.isFinite(declared) && declared > opts.maxBody) {
        // Do not buffer it; drain a bounded amount so the client can read our 413, then cut.
        drain(req)
        return finish({ error: 'too_large' })
      }
      req.on('data', (c) => {
        if (done) return
        size += c.length
        if (size > opts.maxBody) { drain(req); finish({ error: 'too_large' }); return }
        chunks.push(c)
      })
      req.on('end', () => finish({ buf: Buffer.concat(chunks) }))
      req.on('error', () => finish({ error: 'aborted' }))
      req.on('close', () => finish({ error: 'aborted' }))
    })
  }

  function drain (req) {
    let drained = 0
    const cap = Math.max(opts.maxBody * 64, 1 << 20)
    req.on('data', (c) => {
      drained += c.length
      if (drained > cap) req.destroy()
    })
    req.resume()
  }

  async function jsonBody (req, res) {
    const r = await readBody(req)
    if (r.error === 'aborted') return null
    if (r.error === 'too_large') {
      stats.oversized++
      res.setHeader('Connection', 'close')
      fail(res, 413, 'payload_too_large', `body over ${opts.maxBody} bytes`)
      return null
    }
    const text = r.buf.toString('utf8').trim()
    if (text === '') return {}
    let v
    try { v = JSON.parse(text) } catch (_) {
      stats.malformed++
      fail(res, 400, 'malformed_json', 'body is not valid JSON')
      return null
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      stats.malformed++
      fail(res, 400, 'invalid_body', 'body must be a JSON object')
      return null
    }
    return v
  }

  // ---- helpers -------------------------------------------------------------------------------

  function sleep (ms) { return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : null }

  function latency (which) {
    const [lo, hi] = faults[which || 'latency']
    return hi > 0 ? lo + Math.floor(random() * (hi - lo + 1)) : 0
  }

  function track (res, field, maxField) {
    stats[field]++
    stats.authInFlight++
    if (stats.authInFlight > 1) stats.authOverlaps++
    if (res.req && res.req.headers.authorization != null) stats.authWithToken++
    if (stats[field] > stats[maxField]) stats[maxField] = stats[field]
    if (stats.authInFlight > stats.maxAuthInFlight) stats.maxAuthInFlight = stats.authInFlight
    res.once('close', () => { stats[field]--; stats.authInFlight-- })
  }

  function trackKeyed (res, map, key, maxField) {
    const n = (map.get(key) || 0) + 1
    map.set(key, n)
    if (n > stats[maxField]) stats[maxField] = n
    res.once('close', () => {
      const m = (map.get(key) || 1) - 1
      if (m <= 0) map.delete(key); else map.set(key, m)
    })
  }

  function bearer (req) {
    const h = req.headers.authorization
    if (typeof h !== 'string') return null
    const m = /^Bearer\s+(\S+)$/i.exec(h.trim())
    return m ? m[1] : null
  }

  function take (name) {
    // Consumes one from a fault counter; true when the fault applies to this call.
    if (faults[name] > 0) {
      if (faults[name] !== Infinity) faults[name]--
      return true
    }
    return false
  }

  function inject5xx () {
    apiSeq++
    if (faults.burstEvery > 0 && faults.burstLen > 0 && apiSeq % faults.burstEvery === 0) {
      faults.burst5xx = Math.max(faults.burst5xx, faults.burstLen)
    }
    if (take('burst5xx')) return 503
    if (faults.errorRate > 0 && random() < faults.errorRate) return 500
    return 0
  }

  // ---- routes --------------------------------------------------------------------------------

  async function authLogin (req, res) {
    track(res, 'loginInFlight', 'maxLoginInFlight')
    const body = await jsonBody(req, res)
    if (!body) return
    const code = body.code
    if (typeof code !== 'string' || code === '') { stats.logins.failed++; return fail(res, 400, 'invalid_body', 'code is required') }
    const owner = store.peekCode(code)
    if (owner) trackKeyed(res, loginPerUser, owner, 'maxLoginInFlightPerUser')
    await sleep(latency())
    const down = faults.loginDownUntil > Date.now()
    if (down || take('loginError')) {
      stats.logins.failed++
      stats.logins.injectedPassing++
      return loginError(req, res, faults.loginErrorKind)
    }
    if (take('failLogin')) {
      stats.logins.failed++
      stats.logins.injectedFailures++
      return fail(res, 401, 'login_failed', 'code2Session failed (injected)')
    }
    const r = store.exchangeCode(code)
    if (r.error) { stats.logins.failed++; return fail(res, 401, r.error) }
    const issued = store.newFamily(r.openid, 'code')
    stats.logins.ok++
    ok(res, issued.tokens)
  }

  // A passing failure of the login endpoint (see LOGIN_ERROR_KINDS); the code is not used.
  function loginError (req, res, kind) {
    if (kind === 'reset') { req.socket.destroy(); return }
    if (kind === 'hang') {
      hanging.add(res)
      res.once('close', () => hanging.delete(res))
      return
    }
    if (kind === 'empty') return ok(res, { tokenType: 'Bearer' })
    const status = Number(kind)
    const error = status === 408 ? 'request_timeout' : status === 429 ? 'too_many_requests' : 'unavailable'
    const extra = status === 429 || status === 503 ? { 'Retry-After': '1' } : null
    if (opts.envelope) return fail(res, status, error, 'login temporarily unavailable (injected)')
    sendRaw(res, status, { error, message: 'login temporarily unavailable (injected)' }, extra)
  }

  async function authPassword (req, res) {
    const body = await jsonBody(req, res)
    if (!body) return
    await sleep(latency())
    const { username, password } = body
    if (typeof username !== 'string' || typeof password !== 'string') {
      stats.passwordLogins.failed++
      return fail(res, 400, 'invalid_body', 'username and password are required')
    }
    if (!Object.prototype.hasOwnProperty.call(opts.users, username) || opts.users[username] !== password) {
      stats.passwordLogins.failed++
      return fail(res, 401, 'bad_credentials', 'wrong username or password')
    }
    stats.passwordLogins.ok++
    ok(res, store.newFamily('user:' + username, 'password').tokens)
  }

  async function authRefresh (req, res) {
    track(res, 'refreshInFlight', 'maxRefreshInFlight')
    const body = await jsonBody(req, res)
    if (!body) return
    const token = body.refreshToken
    if (typeof token !== 'string' || token === '') { stats.refreshes.rejected++; return fail(res, 400, 'invalid_body', 'refreshToken is required') }
    const peek = store.peekRefresh(token)
    if (peek) trackKeyed(res, refreshPerFamily, peek.family, 'maxRefreshInFlightPerFamily')
    if (take('hangRefresh')) {
      // Never answered; the token is not consumed. Held until the client gives up.
      stats.refreshes.hung++
      hanging.add(res)
      res.once('close', () => hanging.delete(res))
      return
    }
    await sleep(latency())
    if (take('failRefresh')) {
      stats.refreshes.injectedFailures++
      return fail(res, 503, 'unavailable', 'refresh temporarily unavailable (injected)')
    }
    const r = store.rotate(token)
    if (r.error) {
      stats.refreshes.rejected++
      if (r.reused) {
        stats.refreshes.reused++
        stats.reuseDetections++
        log(`refresh token reuse detected: family ${r.family} revoked`)
      }
      return fail(res, 401, r.error)
    }
    stats.refreshes.ok++
    ok(res, r.tokens)
  }

  async function authLogout (req, res) {
    const body = await jsonBody(req, res)
    if (!body) return
    const rec = store.peekRefresh(body.refreshToken)
    if (rec) {
      const fam = store.families.get(rec.family)
      if (fam) store.revokeFamily(fam, 'logout')
    }
    ok(res, { loggedOut: true })
  }

  function publicRoute (req, res, name) {
    if (name === 'notice') return ok(res, { notice: 'Welcome to the tokengate example shop.' })
    if (name === 'banner') return ok(res, { banners: [{ id: 1, image: '/img/sale.png', title: 'Sale' }] })
    return fail(res, 404, 'not_found')
  }

  async function apiRoute (req, res, url, parts) {
    const token = bearer(req)
    let check = null
    if (token) {
      check = store.checkAccess(token)
      if (check.stale) stats.staleTokenRequests++
    }
    // Injected latency (and ?delay=ms) acts as a queue in front of the handler: the token is
    // judged when the handler runs, so a token can expire while its request is in flight.
    const extra = Math.max(0, Math.min(30000, Number(url.searchParams.get('delay')) || 0))
    await sleep(latency() + latency('apiLatency') + extra)
    const body = (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') ? await jsonBody(req, res) : {}
    if (!body) return
    const s = inject5xx()
    if (s) {
      stats.api.injected5xx++
      return fail(res, s, 'unavailable', 'injected server error')
    }
    if (!token) { stats.api.rejected++; stats.api.missing++; return fail(res, 401, 'missing_token') }
    check = store.checkAccess(token)
    if (check.error) {
      stats.api.rejected++
      if (check.error === 'token_expired') stats.api.expired++
      else if (check.error === 'token_revoked') stats.api.revoked++
      else stats.api.invalid++
      return fail(res, 401, check.error)
    }
    stats.api.ok++
    const [, resource, id, action] = parts
    const method = req.method
    if (resource === 'profile' && !id && method === 'GET') return ok(res, { openid: check.openid, nickname: 'Demo user' })
    if (resource === 'items' && !id && method === 'GET') return ok(res, { items: ITEMS.slice(0, 10) })
    if (resource === 'items' && id) {
      const item = ITEMS.find((x) => String(x.id) === id)
      if (!item) return fail(res, 404, 'not_found', 'no such item')
      if (!action && method === 'GET') return ok(res, Object.assign({ description: `The ${item.title}.` }, item))
      if (action === 'like' && method === 'POST') return ok(res, { id: item.id, liked: true })
      if (action === 'stock' && method === 'GET') return ok(res, { id: item.id, stock: (item.id * 7) % 13 })
    }
    if (resource === 'echo') {
      return ok(res, { method, query: Object.fromEntries(url.searchParams), body, tokenGen: check.gen })
    }
    return fail(res, 404, 'not_found')
  }

  async function devRoute (req, res, path) {
    const refused = devRefusal(req)
    if (refused) {
      stats.devRefused++
      // Nothing read, nothing changed; the body is left unread and the connection closed.
      res.setHeader('Connection', 'close')
      return sendRaw(res, 403, { error: 'forbidden', message: `dev routes answer loopback only (${refused})` })
    }
    if (path === '/__stats' && req.method === 'GET') return sendRaw(res, 200, api.stats())
    if (req.method !== 'POST') return fail(res, 405, 'method_not_allowed')
    const body = await jsonBody(req, res)
    if (!body) return
    if (path === '/__dev/code') {
      const openid = typeof body.openid === 'string' && body.openid ? body.openid.slice(0, 64) : 'openid-demo'
      return sendRaw(res, 200, { code: store.mintCode(openid), expiresIn: opts.codeTtl / 1000 })
    }
    if (path === '/__stats/reset') { api.resetStats(); return sendRaw(res, 200, { reset: true }) }
    if (path === '/__admin/faults') { api.setFaults(body); return sendRaw(res, 200, faultsJSON(faults)) }
    if (path === '/__admin/revoke') {
      return sendRaw(res, 200, { revoked: store.revokeAll(typeof body.openid === 'string' ? body.openid : null, 'admin') })
    }
    return fail(res, 404, 'not_found')
  }

  async function route (req, res) {
    let url
    try { url = new URL(req.url, 'http://127.0.0.1') } catch (_) { return fail(res, 400, 'bad_url') }
    const path = url.pathname
    const m = req.method
    const parts = path.split('/').slice(1) // ['api', 'items', '3']
    let key
    if (parts[0] === 'api') key = `${m} /api/${parts[1] || ''}${parts[2] ? '/:id' : ''}${parts[3] ? '/' + parts[3] : ''}`
    else key = `${m} ${path.length > 40 ? path.slice(0, 40) + '…' : path}`
    bump(stats.byRoute, key)

    if (faults.dropRate > 0 && !parts[0].startsWith('__') && random() < faults.dropRate) {
      // Injected transport failure: the connection is cut before any answer.
      stats.dropped++
      req.socket.destroy()
      return
    }
    if (path === '/health') return ok(res, { ok: true })
    if (path === '/auth/login') return m === 'POST' ? authLogin(req, res) : fail(res, 405, 'method_not_allowed')
    if (path === '/auth/refresh') return m === 'POST' ? authRefresh(req, res) : fail(res, 405, 'method_not_allowed')
    if (path === '/auth/password') return m === 'POST' ? authPassword(req, res) : fail(res, 405, 'method_not_allowed')
    if (path === '/auth/logout') return m === 'POST' ? authLogout(req, res) : fail(res, 405, 'method_not_allowed')
    if (parts[0] === 'public' && parts.length === 2) return m === 'GET' ? (await sleep(latency()), publicRoute(req, res, parts[1])) : fail(res, 405, 'method_not_allowed')
    if (parts[0] === 'api' && parts[1]) return apiRoute(req, res, url, parts)
    if (opts.dev && parts[0].startsWith('__')) return devRoute(req, res, path)
    return fail(res, 404, 'not_found')
  }

  const server = http.createServer({
    headersTimeout: opts.headersTimeout,
    requestTimeout: opts.requestTimeout,
    connectionsCheckingInterval: opts.checkInterval
  }, (req, res) => {
    const t0 = Date.now()
    stats.requests++
    stats.inFlight++
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight
    res.once('close', () => {
      stats.inFlight--
      const status = res.headersSent ? res.statusCode : 'aborted'
      bump(stats.byStatus, String(status))
      // Method, path (never the query, never a header or body), status, duration.
      let path = '?'
      try { path = new URL(req.url, 'http://127.0.0.1').pathname } catch (_) {}
      log(`${req.method} ${path} ${status} ${Date.now() - t0}ms`)
    })
    req.on('error', () => {})
    res.on('error', () => {})
    Promise.resolve().then(() => route(req, res)).catch(() => {
      stats.serverErrors++
      try { fail(res, 500, 'server_error') } catch (_) { res.destroy() }
    })
  })
  server.on('clientError', (err, socket) => {
    // Malformed HTTP: answer 400 if the socket can still take it, never throw.
    // A slow client cut by headersTimeout/requestTimeout gets 408, oversized headers 431.
    if (err && err.code === 'ECONNRESET') return socket.destroy()
    const code = err && err.code
    const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
    if (!socket.writable) return socket.destroy()
    try { socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`) } catch (_) { socket.destroy() }
  })
  server.on('error', (e) => log(`server error: ${e.code || e.message}`))
  server.keepAliveTimeout = opts.keepAliveTimeout

  const api = {
    server,
    store,
    options: opts,
    url: null,
    port: null,
    listen (port) {
      return new Promise((resolve, reject) => {
        const p = port == null ? opts.port : port
        const onError = (e) => { server.off('listening', onListening); reject(e) }
        const onListening = () => {
          server.off('error', onError)
          api.port = server.address().port
          api.url = `http://${HOST}:${api.port}`
          resolve(api)
        }
        server.once('error', onError)
        server.once('listening', onListening)
        server.listen(p, HOST) // loopback only, always
      })
    },
    close () {
      for (const res of hanging) res.destroy()
      hanging.clear()
      return new Promise((resolve) => {
        server.close(() => resolve())
        if (server.closeAllConnections) server.closeAllConnections()
      })
    },
    /** A code as wx.login would give it: single use, valid codeTtl. */
    mintCode (openid) { return store.mintCode(openid || 'openid-demo') },
    setFaults (f) { faults = normalizeFaults(f, faults); return faultsJSON(faults) },
    faults () { return faultsJSON(faults) },
    revokeAll (openid) { return store.revokeAll(openid == null ? null : openid, 'admin') },
    stats () {
      return Object.assign(JSON.parse(JSON.stringify(stats)), store.counts(), { faults: faultsJSON(faults) })
    },
    resetStats () {
      const keep = { inFlight: stats.inFlight, loginInFlight: stats.loginInFlight, refreshInFlight: stats.refreshInFlight, authInFlight: stats.authInFlight }
      stats = Object.assign(freshStats(), keep)
    }
  }
  return api
}

module.exports = { createAuthServer, HOST, BIZ, DEFAULTS, DEV_ENV, LOGIN_ERROR_KINDS, devRefusal, loopbackHost, loopbackOrigin }

if (require.main === module) require('./cli').main(process.argv.slice(2))
