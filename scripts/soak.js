#!/usr/bin/env node
'use strict'
// npm run soak: the built dist/ against the example auth server over loopback (real HTTP,
// the headless runner's node:http `wx`), with a seeded random schedule of callers and faults.
// See docs/SOAK.md for what is counted and how. Ends with exactly
//   soak: requests=<n> settled=<n> hung=0 double=0 overlapping_refreshes=0 stale_sends=0 foreign_token=0 token_in_logs=0
// and exits non-zero when a zero is not zero, settled != requests, or an extra check failed.
//
//   node scripts/soak.js [--seed N] [--requests N] [--callers N] [--phases N] [--timeout MS]
//                        [--access-ttl MS] [--max-concurrent N] [--phase-ms MS] [--envelope]
//                        [--before-request] [--before-request-ms MS] [--passing-login P] [--quiet]
//
// tests/js/soak.test.js runs the same runSoak() with fewer requests.

const path = require('node:path')
const http = require('node:http')
const util = require('node:util')

const ROOT = path.join(__dirname, '..')
const { createAuthServer } = require(path.join(ROOT, 'example-miniprogram', 'server'))
const { createWx } = require(path.join(ROOT, 'example-miniprogram', 'demo', 'wx.js'))

const DEFAULTS = {
  seed: 20261122,
  requests: 6000,
  callers: 200, // at most this many callers issue requests at the same time
  phases: 6, // launches of the mini-program: a new client on the same storage each phase
  timeout: 1000, // the client's `timeout`, ms: short, so rule-7 bounds are short
  accessTtl: 3000, // access token lifetime on the server, ms
  maxConcurrent: 10, // tasks in flight in the wx shim (WeChat's own limit); past it a call fails
  slack: 1500,
  phaseMs: 9000, // callers pace themselves so that a phase lasts about this long (several token lifetimes) // ms added to every rule-7 bound for a loaded 2-core machine
  storageKey: 'tokengate:session',
  beforeRequest: false, // an async beforeRequest (0..beforeRequestMs) that signs each request afresh
  beforeRequestMs: 30,
  envelope: false, // server wraps bodies as { code, message, data }; token rejections are HTTP 200 + code 40101
  // Share of the chaos actor's moves that are a passing login failure (rule 6): wx.login
  // failing, or the login POST answered 503/408/429/500, reset, 2xx without a token, or hung.
  passingLogin: 0.12,
  quiet: false,
  out: (line) => process.stdout.write(line + '\n')
}

// ---- seeded randomness ----------------------------------------------------------------

function mulberry32 (seed) {
  let a = seed >>> 0
  return function () {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function streams (seed) {
  // Independent streams, so a change in one actor does not shift the others' choices.
  const base = mulberry32(seed)
  const next = () => mulberry32(Math.floor(base() * 4294967296))
  return { callers: next(), chaos: next(), serverA: next(), serverB: next(), hook: next() }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

// ---- secrets and the leak scan -------------------------------------------------------------

const TOKEN_RUN = /[A-Za-z0-9_-]{16,}/g

class Secrets {
  constructor () { this.set = new Set(); this.lengths = new Set() }
  add (v) {
    if (typeof v !== 'string' || v.length < 16) return
    this.set.add(v)
    this.lengths.add(v.length)
  }

  /** Number of distinct secrets found inside `text`. */
  findIn (text) {
    if (typeof text !== 'string' || text.length < 16) return []
    const found = []
    for (const m of text.matchAll(TOKEN_RUN)) {
      const run = m[0]
      for (const len of this.lengths) {
        for (let i = 0; i + len <= run.length; i++) {
          const s = run.slice(i, i + len)
          if (this.set.has(s)) found.push(s)
        }
      }
    }
    return found
  }
}

/** Every string reachable from v: own enumerable fields, plus message/stack/name of errors. */
function stringsOf (v, out, depth, seen) {
  out = out || []
  depth = depth || 0
  seen = seen || new Set()
  if (typeof v === 'string') { out.push(v); return out }
  if (v === null || typeof v !== 'object' || depth > 6 || seen.has(v)) return out
  seen.add(v)
  if (v instanceof Error) {
    for (const k of ['name', 'message', 'stack', 'code']) if (typeof v[k] === 'string') out.push(v[k])
    try { out.push(String(v)) } catch (_) {}
  }
  try { out.push(util.inspect(v, { depth: 4, breakLength: Infinity })) } catch (_) {}
  for (const k of Object.keys(v)) {
    out.push(k)
    try { stringsOf(v[k], out, depth + 1, seen) } catch (_) {}
  }
  return out
}

// ---- small HTTP helper (not through the client; the soak's own control calls) ----------

function postJSON (url, body) {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body || {}))
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        try { resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }) } catch (e) { reject(e) }
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function headerValue (header, name) {
  if (!header || typeof header !== 'object') return undefined
  const k = Object.keys(header).find((h) => h.toLowerCase() === name)
  return k === undefined ? undefined : header[k]
}

// Values written into storage between steps (rule 10: each counts as "no session").
const CORRUPT = [
  () => 'not json {',
  () => '',
  () => '{"accessToken":',
  () => '[]',
  () => 'null',
  () => '42',
  () => JSON.stringify({ accessToken: 42, refreshToken: {}, expiresAt: 'soon' }),
  () => JSON.stringify({ refreshToken: 'no-access-token', expiresAt: Date.now() + 1e6 }),
  () => JSON.stringify({ accessToken: '', expiresAt: null }),
  () => ({ accessToken: ['x'], lifetime: -1 }),
  () => 12345,
  () => [1, 2, 3],
  () => '\u0000\uffff\ud800',
  () => 'x'.repeat(5000)
]

// ---- the run ---------------------------------------------------------------------------------

async function runSoak (options) {
  const o = Object.assign({}, DEFAULTS, options || {})
  const out = o.quiet ? () => {} : o.out
  const rnd = streams(o.seed)
  const T = o.timeout
  // Rule 7: a promise settles within the timeout of its own request plus at most one refresh
  // and one login, each bounded by `timeout`. A request that is replayed once (rule 4) is on
  // the wire twice, so the bound used is 4 x timeout, plus slack for a loaded machine.
  const BOUND = 4 * T + o.slack
  const t0 = Date.now()

  const srvA = createAuthServer({
    port: 0,
    dev: true, // the wx shim's login mints its codes at /__dev/code
    accessTtl: o.accessTtl,
    refreshTtl: 10 * 60 * 1000,
    random: rnd.serverA,
    envelope: o.envelope,
    faults: { latency: [0, 25], apiLatency: [0, 40] }
  })
  const srvB = createAuthServer({ port: 0, random: rnd.serverB, faults: { latency: [0, 20] } })
  await srvA.listen(0)
  await srvB.listen(0)
  let foreignServerSawAuth = 0
  srvB.server.on('request', (req) => { if (req.headers.authorization != null) foreignServerSawAuth++ })
  const originB = srvB.url

  const baseWx = createWx({ codeURL: srvA.url + '/__dev/code', openid: 'openid-soak', maxConcurrent: o.maxConcurrent })

  const { createClient } = require(path.join(ROOT, 'dist'))

  // ---- counters ----
  const C = {
    requests: 0,
    settled: 0,
    hung: 0,
    double: 0,
    staleSends: 0,
    foreignToken: 0,
    tokenInLogs: 0,
    // extra checks (each must be 0)
    authCallWithToken: 0, // rule 8
    sendsOverTwo: 0, // rule 4: first send + at most one replay
    authFalseWithToken: 0,
    notTokenGateError: 0,
    storageFatal: 0, // rule 10
    missingErrorEvent: 0,
    orphanErrorEvents: 0,
    exceedMaxTaskCount: 0, // platform calls failed with WeChat's 'exceed max task count'
    loginRequiredAfterPassing: 0, // rule 6: LOGIN_REQUIRED after a passing login failure
    // rule 6 bookkeeping (information)
    passingLogins: {}, // passing login failures the client received, by kind
    refusedLogins: 0, // refused login answers the client received
    reloginsAfterPassing: 0, // passing failures followed by a new login attempt
    // information
    unknownTokenSends: 0,
    sentDuringAuth: 0,
    usedAfterLogout: 0, // "logout() wins": a login/refresh answering after logout() is discarded
    supersededSends: {},
    supersededTokens: 0,
    sends: 0,
    replays: 0,
    authCallsClientSide: { login: 0, refresh: 0 },
    authOverlapClientSide: 0,
    outcome: {},
    events: { refresh: { ok: 0, failed: 0 }, login: { ok: 0, failed: 0 }, loginRequired: 0, logout: 0, error: 0 },
    chaos: {},
    kinds: {},
    maxSettleMs: 0,
    settleMs: []
  }
  const secrets = new Secrets()
  const texts = [] // everything the client printed or put into an error / event
  const findings = [] // first examples of each violation, for the report
  const note = (kind, detail) => { if (findings.filter((f) => f.kind === kind).length < 5) findings.push(Object.assign({ kind, atMs: Date.now() - t0 }, detail)) }

  // ---- console capture (the client must print nothing with a token in it) ----
  const consoleOrig = {}
  for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    consoleOrig[k] = console[k]
    console[k] = (...args) => { texts.push({ where: 'console.' + k, text: util.format(...args) }) }
  }
  const onWarning = (w) => texts.push({ where: 'process warning', text: String(w && w.stack) })
  process.on('warning', onWarning)

  // ---- token bookkeeping for stale_sends: the order in which the client was given tokens ----
  const tokenSeq = new Map() // access token -> order in which it was first seen
  let seqCounter = 0
  let newestGiven = 0 // seq of the newest token the client has been given
  let epoch = 0 // bumped by logout() and setSession(): auth answers from before are discarded
  const epochCause = [] // epochCause[n]: what started epoch n ('logout', 'setSession', 'launch')
  let forgottenUpTo = 0 // logout() forgets every token seen before it
  const bump = (cause) => {
    epoch++
    epochCause[epoch] = cause
    if (cause === 'logout') forgottenUpTo = seqCounter
    authState(cause === 'logout' ? 'loggedOut' : cause === 'setSession' ? 'ok' : 'launch')
  }

  // ---- rule 6: what the client last learnt from a login attempt ----
  // 'attempting' (wx.login called), 'ok', 'refused' (a 4xx but 408/429, or in envelope mode
  // the login error code the client lists in loginRequiredWhen), 'passing' (wx.login failed;
  // the POST failed in transport, timed out, answered 5xx/408/429 or a 2xx without a token),
  // 'loggedOut', 'launch'. A request that rejects LOGIN_REQUIRED while the state is 'passing'
  // (no login attempt, logout or refusal since the passing failure) is the latch rule 6
  // forbids; so is a 'loginRequired' event without a refused login answer for it.
  let authNow = 'launch'
  function authState (st) {
    if (authNow === 'passing' && st === 'attempting') C.reloginsAfterPassing++
    authNow = st
  }
  function passing (kind) {
    C.passingLogins[kind] = (C.passingLogins[kind] || 0) + 1
    authState('passing')
  }
  const REFUSAL_CODES = [40102] // the example server's login error code in envelope mode
  function loginVerdict (res) {
    const status = res && res.statusCode
    const body = res && res.data
    if (addTokenSet(body)) return 'ok'
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'refused'
    if (o.envelope && body && typeof body === 'object' && REFUSAL_CODES.includes(body.code) && status >= 200 && status < 300) return 'refused'
    return status >= 200 && status < 300 ? 'passing:2xx_without_token' : `passing:${status}`
  }
  let platformLoginFailures = 0 // wx.login calls to fail on purpose
  // Tokens of login/refresh answers that arrived after the client aborted the call, or after a
  // logout()/setSession() that superseded it: the reason, for the sends that use them anyway.
  const superseded = new Map()
  function seen (tok) {
    if (typeof tok !== 'string' || tok === '') return 0
    if (!tokenSeq.has(tok)) tokenSeq.set(tok, ++seqCounter)
    return tokenSeq.get(tok)
  }
  let newestGivenAt = 0
  function given (tok) {
    const s = seen(tok)
    if (s > newestGiven) { newestGiven = s; newestGivenAt = Date.now() }
  }
  function addTokenSet (body) {
    if (body && typeof body === 'object' && o.envelope && body.data && typeof body.data === 'object') body = body.data
    if (!body || typeof body !== 'object') return null
    secrets.add(body.accessToken)
    secrets.add(body.refreshToken)
    return typeof body.accessToken === 'string' ? body.accessToken : null
  }

  const entries = new Map() // soak id -> entry
  let authInFlightClient = 0
  let authStartedAt = 0

  // ---- the platform: the runner's wx, observed ----
  function makePlatform () {
    const p = Object.assign({}, baseWx)
    p.login = (opts) => {
      authState('attempting')
      if (platformLoginFailures > 0) {
        platformLoginFailures--
        setImmediate(() => {
          passing('wx.login_fail')
          if (opts && opts.fail) opts.fail({ errMsg: 'login:fail network error (injected)' })
        })
        return
      }
      return baseWx.login(Object.assign({}, opts, {
        success (res) { if (res && res.code) secrets.add(res.code); if (opts && opts.success) opts.success(res) },
        fail (res) { passing('wx.login_fail'); if (opts && opts.fail) opts.fail(res) }
      }))
    }
    // WeChat's 10-task limit: the client's maxConcurrent must keep every call under it.
    const watchExceed = (opts) => Object.assign({}, opts, {
      fail (res) {
        if (res && /exceed max task count/.test(res.errMsg)) { C.exceedMaxTaskCount++; note('exceed_max_task_count', { url: String(opts.url).replace(/^https?:\/\/[^/]+/, '') }) }
        if (opts.fail) opts.fail(res)
      }
    })
    for (const api of ['uploadFile', 'downloadFile']) p[api] = (opts) => baseWx[api](watchExceed(opts))
    p.request = (opts) => {
      C.sends++
      opts = watchExceed(opts)
      const url = String(opts.url)
      let u = null
      try { u = new URL(url) } catch (_) {}
      const origin = u ? u.origin : ''
      const auth = headerValue(opts.header, 'authorization')
      const token = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '') : null
      const sid = headerValue(opts.header, 'x-soak-id')
      const entry = sid != null ? entries.get(Number(sid)) : undefined
      const isAuthCall = origin === srvA.url && u && (u.pathname === '/auth/login' || u.pathname === '/auth/refresh')

      if (origin === originB) {
        const blob = [url, JSON.stringify(opts.header || {}), typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data || null)].join(' ')
        if (auth != null || secrets.findIn(blob).length) { C.foreignToken++; note('foreign_token', { url: u.pathname, id: sid }) }
      }
      if (isAuthCall) {
        C.authCallsClientSide[u.pathname === '/auth/login' ? 'login' : 'refresh']++
        if (auth != null) { C.authCallWithToken++; note('auth_call_with_token', { path: u.pathname }) }
        if (authInFlightClient > 0) C.authOverlapClientSide++
        if (authInFlightClient === 0) authStartedAt = Date.now()
        authInFlightClient++
        const sentEpoch = epoch
        const isLogin = u.pathname === '/auth/login'
        let aborted = false
        let done = false
        const end = () => { if (!done) { done = true; authInFlightClient-- } }
        // The answer reaches the client: not after it aborted the call, not after a
        // logout()/setSession() that supersedes it.
        const delivered = () => !aborted && sentEpoch === epoch
        const task = baseWx.request(Object.assign({}, opts, {
          success (res) {
            end()
            if (isLogin && delivered()) {
              const v = loginVerdict(res)
              if (v === 'refused') { C.refusedLogins++; authState('refused') } else if (v === 'ok') authState('ok')
              else passing(v.slice('passing:'.length))
            }
            const acc = addTokenSet(res && res.data)
            // "Given" only when the client could still take it: not after it aborted the call
            // (its timeout) and not after a logout()/setSession() that supersedes it.
            if (acc) {
              if (!aborted && sentEpoch === epoch) given(acc)
              else {
                seen(acc)
                const causes = epochCause.slice(sentEpoch + 1, epoch + 1)
                C.supersededTokens++
                superseded.set(acc, aborted ? 'aborted' : causes.includes('logout') ? 'logout' : causes.includes('launch') ? 'launch' : 'setSession')
              }
            }
            if (opts.success) opts.success(res)
          },
          fail (res) {
            end()
            if (isLogin && delivered()) passing(/exceed max task count/.test(res && res.errMsg) ? 'exceed' : 'transport')
            if (opts.fail) opts.fail(res)
          }
        }))
        return Object.assign({}, task, {
          abort () {
            // The client gives up on its login at its timeout: a passing failure (TIMEOUT).
            if (isLogin && delivered() && !done) passing('timeout')
            aborted = true
            end()
            return task.abort()
          }
        })
      }
      if (origin === srvA.url) {
        if (entry) {
          entry.sends++
          if (entry.sends === 2) C.replays++
          if (entry.sends > 2) { C.sendsOverTwo++; note('sends_over_two', { id: entry.id, sends: entry.sends }) }
          if (entry.auth === false && auth != null) { C.authFalseWithToken++; note('auth_false_with_token', { id: entry.id }) }
        }
        if (token) {
          // Rule 2: while a login/refresh call is out, requests wait for it instead of going
          // out with the token that is being replaced.
          if (authInFlightClient > 0) {
            C.sentDuringAuth++
            note('sent_during_auth', { id: sid, path: u.pathname, sendNo: entry && entry.sends, issuedMsAfterAuthCallStarted: entry ? entry.start - authStartedAt : null })
          }
          if (tokenSeq.has(token) && tokenSeq.get(token) <= forgottenUpTo) {
            C.usedAfterLogout++
            note('token_used_after_logout', { id: sid, path: u.pathname, sendNo: entry && entry.sends, issuedMsBeforeSend: entry ? Date.now() - entry.start : null })
          } else if (superseded.has(token)) {
            const why = superseded.get(token)
            C.supersededSends[why] = (C.supersededSends[why] || 0) + 1
            if (why === 'logout') { C.usedAfterLogout++; note('token_used_after_logout', { id: sid, path: u.pathname, superseded: true }) }
          }
          if (!tokenSeq.has(token)) C.unknownTokenSends++
          else if (tokenSeq.get(token) < newestGiven) {
            C.staleSends++
            note('stale_send', { id: sid, path: u.pathname, tokenOrder: tokenSeq.get(token), newestOrder: newestGiven, sendNo: entry && entry.sends, issuedMsBeforeSend: entry ? Date.now() - entry.start : null, newestGivenMsAgo: Date.now() - newestGivenAt })
          }
        }
      }
      return baseWx.request(opts)
    }
    return p
  }

  // ---- requests ----
  const errToEntry = new WeakMap()
  let errorEvents = []
  let nextId = 0
  let outstanding = 0
  C.maxOutstanding = 0

  function observe (entry, promise) {
    entry.promise = promise
    return promise.then((v) => {
      entry.settles++
      entry.outcome = 'ok'
      entry.value = v
      entry.settledAt = Date.now()
    }, (e) => {
      entry.settles++
      entry.settledAt = Date.now()
      entry.error = e
      if (e && typeof e === 'object') errToEntry.set(e, entry)
      entry.outcome = e && e.name === 'TokenGateError' ? e.code : 'NOT_TOKENGATE'
      texts.push({ where: 'rejection', value: e })
      // Rule 6: after a passing login failure, and before anything else about the session
      // happened, the client must try the silent login again, not answer LOGIN_REQUIRED.
      if (e && e.code === 'LOGIN_REQUIRED' && authNow === 'passing') {
        C.loginRequiredAfterPassing++
        note('login_required_after_passing_failure', { id: entry.id, kind: entry.kind, reason: e.reason, issuedWhile: entry.authWas })
      }
    })
  }

  // One caller's request, chosen from the seeded stream.
  function pickRequest (r) {
    const x = r()
    const item = 1 + Math.floor(r() * 12)
    if (x < 0.30) return { kind: 'get', opts: { url: '/api/items' } }
    if (x < 0.45) return { kind: 'get', opts: { url: `/api/items/${item}` } }
    if (x < 0.55) return { kind: 'get', opts: { url: '/api/profile' } }
    if (x < 0.63) return { kind: 'post', opts: { url: `/api/items/${item}/like`, method: 'POST', data: { n: item } } }
    if (x < 0.68) return { kind: 'echo', opts: { url: '/api/echo', method: 'PUT', data: { big: 'y'.repeat(Math.floor(r() * 2000)) } } }
    if (x < 0.70) return { kind: 'slow', opts: { url: `/api/echo?delay=${Math.floor(T * (0.6 + r() * 0.8))}` } } // around the timeout
    if (x < 0.76) return { kind: 'public', opts: { url: '/public/notice', auth: false } }
    if (x < 0.84) return { kind: 'foreign', opts: { url: originB + (r() < 0.5 ? '/api/echo' : '/public/notice'), method: r() < 0.5 ? 'GET' : 'POST', data: { q: 1 } } }
    if (x < 0.86) return { kind: 'full', opts: { url: '/api/items', fullResponse: true } }
    return { kind: 'abort', opts: { url: r() < 0.5 ? '/api/items' : `/api/echo?delay=${Math.floor(r() * 300)}` }, abortAfter: r() < 0.3 ? 0 : Math.floor(r() * 250) }
  }

  async function oneRequest (client, r) {
    const pick = pickRequest(r)
    const id = ++nextId
    C.requests++
    C.kinds[pick.kind] = (C.kinds[pick.kind] || 0) + 1
    const opts = Object.assign({}, pick.opts)
    opts.header = Object.assign({ 'x-soak-id': String(id) }, opts.header)
    const entry = { id, kind: pick.kind, auth: opts.auth !== false, start: Date.now(), settles: 0, sends: 0, errorEvents: 0, outcome: null, authWas: authNow }
    entries.set(id, entry)
    if (++outstanding > C.maxOutstanding) C.maxOutstanding = outstanding
    let p
    try { p = client.request(opts) } catch (e) {
      entry.settles++
      entry.outcome = 'THREW'
      texts.push({ where: 'throw', value: e })
      return
    }
    const watched = observe(entry, p)
    if (pick.kind === 'abort') {
      if (pick.abortAfter === 0) p.abort()
      else setTimeout(() => p.abort(), pick.abortAfter)
    }
    let timer
    const bounded = new Promise((resolve) => { timer = setTimeout(() => resolve('bound'), BOUND) })
    const first = await Promise.race([watched.then(() => 'settled'), bounded])
    clearTimeout(timer)
    outstanding--
    if (first === 'bound') {
      entry.hung = true
      note('hung', { id, kind: pick.kind, boundMs: BOUND })
    }
  }

  // ---- the chaos actor: faults and session changes in the middle of a phase ----
  async function chaos (client, state) {
    const r = rnd.chaos
    const count = (k) => { C.chaos[k] = (C.chaos[k] || 0) + 1 }
    const pending = []
    while (!state.done) {
      await sleep(200 + r() * 700)
      if (state.done) break
      if (r() < o.passingLogin) {
        // Rule 6: a login that fails for a passing reason must not lock the session. Arm one
        // such failure, then make a login happen (or leave it for the next one).
        const kinds = ['wx.login', '503', '408', '429', '500', 'reset', 'empty', 'hang', 'down']
        const k = kinds[Math.floor(r() * kinds.length)]
        count('passing_login:' + k)
        if (k === 'wx.login') platformLoginFailures++
        else if (k === 'down') srvA.setFaults({ loginDownMs: 200 + Math.floor(r() * 800), loginErrorKind: r() < 0.5 ? '503' : '429' })
        else srvA.setFaults({ loginError: 1, loginErrorKind: k })
        const how = r()
        if (how < 0.6) {
          // every session revoked: the next request's refresh is refused, the silent login
          // meets the fault; half the time every caller is released at once
          srvA.revokeAll()
          if (r() < 0.5) { count('stampede'); state.fire() }
        } else if (how < 0.8) pending.push(op('login', () => client.login()))
        continue
      }
      const x = r()
      if (x < 0.25) {
        count('expire_wait') // nothing: let tokens run out (accessTtl is short)
        if (r() < 0.3) {
          // ... then every caller at once, at the moment the token is inside its leeway
          const left = client.session().expiresAt
          pending.push(sleep(left ? Math.max(0, left - Date.now() - o.accessTtl / 2 + 5) : 0).then(() => { count('stampede'); state.fire() }))
        }
      } else if (x < 0.32) {
        count('revoke')
        srvA.revokeAll()
        if (r() < 0.5) { count('stampede'); state.fire() } // every caller hits the revoked token
      } else if (x < 0.38) {
        count('hang_refresh')
        srvA.setFaults({ hangRefresh: 1 })
      } else if (x < 0.43) {
        count('fail_refresh')
        srvA.setFaults({ failRefresh: 1 + Math.floor(r() * 2) })
      } else if (x < 0.46) {
        count('fail_login')
        srvA.setFaults({ failLogin: 1 })
      } else if (x < 0.53) {
        count('burst_5xx')
        srvA.setFaults({ burst5xx: 5 + Math.floor(r() * 20) })
      } else if (x < 0.60) {
        count('transport_failures')
        srvA.setFaults({ dropRate: 0.03 + r() * 0.07 })
        pending.push(sleep(200 + r() * 500).then(() => srvA.setFaults({ dropRate: 0 })))
      } else if (x < 0.64) {
        count('error_rate')
        srvA.setFaults({ errorRate: 0.05 + r() * 0.1 })
        pending.push(sleep(200 + r() * 500).then(() => srvA.setFaults({ errorRate: 0 })))
      } else if (x < 0.68) {
        count('latency_spike')
        srvA.setFaults({ latency: [50, Math.floor(T * 0.8)] })
        pending.push(sleep(200 + r() * 400).then(() => srvA.setFaults({ latency: [0, 25] })))
      } else if (x < 0.74) {
        count('logout')
        const loginAfter = r() < 0.5
        const wait = 20 + r() * 200
        pending.push(op('logout', () => { bump('logout'); return client.logout() }).then(() => sleep(wait)).then(() => loginAfter ? op('login', () => client.login()) : setSessionFromPassword(client)))
      } else if (x < 0.80) {
        count('set_session')
        pending.push(setSessionFromPassword(client))
      } else if (x < 0.84) {
        // logout() or setSession() while a (slowed) login/refresh call is out: its answer must
        // be discarded after logout ("logout() wins")
        const useLogout = r() < 0.6
        count(useLogout ? 'logout_mid_auth' : 'set_session_mid_auth')
        srvA.setFaults({ latency: [150, 400] })
        pending.push((async () => {
          const until = Date.now() + 2500
          while (authInFlightClient === 0 && Date.now() < until && !state.done) await sleep(3)
          if (authInFlightClient > 0) count('mid_auth_hit')
          if (useLogout) {
            await op('logout', () => { bump('logout'); return client.logout() })
            srvA.setFaults({ latency: [0, 25] })
            await sleep(100 + r() * 300)
            await op('login', () => client.login())
          } else {
            await setSessionFromPassword(client)
            srvA.setFaults({ latency: [0, 25] })
          }
        })())
      } else if (x < 0.93) {
        count('corrupt_storage')
        const v = CORRUPT[Math.floor(r() * CORRUPT.length)]()
        baseWx.setStorageSync(o.storageKey, v)
      } else {
        count('login')
        pending.push(op('login', () => client.login()))
      }
      if (r() < 0.1) C.sessionSnapshots.push(client.session())
    }
    await Promise.all(pending)
  }

  // login(), logout(), setSession() are observed like requests (settle once, leak scan).
  async function op (kind, fn) {
    const entry = { id: 'op', kind, settles: 0, errorEvents: 0 }
    let p
    try { p = fn() } catch (e) { texts.push({ where: 'throw ' + kind, value: e }); return }
    await p.then(() => { entry.settles++ }, (e) => {
      entry.settles++
      if (e && typeof e === 'object') errToEntry.set(e, entry)
      texts.push({ where: 'rejection ' + kind, value: e })
      C.opRejections[kind + ':' + (e && e.code)] = (C.opRejections[kind + ':' + (e && e.code)] || 0) + 1
    })
  }
  C.opRejections = {}
  C.sessionSnapshots = []

  async function setSessionFromPassword (client) {
    // What an interactive login page would do: password login, then setSession().
    const res = await postJSON(srvA.url + '/auth/password', { username: 'demo', password: 'demo' })
    const acc = addTokenSet(res.body)
    if (!acc) return
    const set = o.envelope ? res.body.data : res.body
    bump('setSession')
    given(acc)
    await op('setSession', () => client.setSession({ accessToken: set.accessToken, refreshToken: set.refreshToken, expiresIn: set.expiresIn }))
  }

  // ---- phases: each one a launch of the mini-program on the same storage ----
  const perPhase = Math.ceil(o.requests / o.phases)
  let issued = 0
  try {
    for (let phase = 1; phase <= o.phases && issued < o.requests; phase++) {
      const quota = Math.min(perPhase, o.requests - issued)
      // The value a relaunch finds: whatever the last phase left, or a corrupt one.
      const stored = baseWx.getStorageSync(o.storageKey)
      let storedToken = null
      try {
        const s = typeof stored === 'string' ? JSON.parse(stored) : stored
        if (s && typeof s.accessToken === 'string') storedToken = s.accessToken
      } catch (_) {}
      bump('launch')
      newestGiven = 0
      if (storedToken) given(storedToken) // a relaunch is given what storage holds

      let client
      try {
        // wrapPlatform / clientOptions / wrapClient exist for the detector self-tests in
        // tests/js/soak.test.js (a deliberately broken client must make the line non-zero).
        const platform = o.wrapPlatform ? o.wrapPlatform(makePlatform()) : makePlatform()
        const extraOptions = typeof o.clientOptions === 'function' ? o.clientOptions({ a: srvA.url, b: originB }) : o.clientOptions
        const envelopeOptions = o.envelope ? {
          envelope: { code: 'code', message: 'message', data: 'data', success: [0] },
          tokenFields: { accessToken: 'data.accessToken', refreshToken: 'data.refreshToken', expiresIn: 'data.expiresIn' },
          expiredWhen: { status: [401], code: [40101] },
          // the server's "login refused" code (HTTP 200 in envelope mode): a refusal, not a
          // passing failure (rule 6)
          loginRequiredWhen: { code: REFUSAL_CODES }
        } : {}
        const hookOptions = o.beforeRequest ? {
          beforeRequest: (req) => sleep(rnd.hook() * o.beforeRequestMs).then(() => Object.assign({}, req, { header: Object.assign({}, req.header, { 'x-signature': 'sig-' + Date.now() }) }))
        } : {}
        client = createClient(Object.assign({ platform, baseURL: srvA.url, timeout: T, refreshLeeway: 60 }, envelopeOptions, hookOptions, extraOptions))
        if (o.wrapClient) client = o.wrapClient(client)
        await client.ready
      } catch (e) {
        C.storageFatal++
        note('storage_fatal', { phase, message: e && e.message })
        texts.push({ where: 'createClient', value: e })
        break
      }
      errorEvents = []
      const state = { done: false, pending: [], stampede: null, fire: null }
      const arm = () => { state.stampede = new Promise((resolve) => { state.fire = () => { arm(); resolve() } }) }
      arm()
      const off = []
      off.push(client.on('error', (e) => { C.events.error++; errorEvents.push(e); texts.push({ where: 'event error', value: e }) }))
      for (const ev of ['refresh', 'login']) {
        off.push(client.on(ev, (p) => { C.events[ev][p && p.ok ? 'ok' : 'failed']++; texts.push({ where: 'event ' + ev, value: p }) }))
      }
      off.push(client.on('loginRequired', (p) => {
        C.events.loginRequired++
        // Rule 6: 'loginRequired' only for a refused login, never for a passing failure.
        if (C.events.loginRequired > C.refusedLogins) {
          C.loginRequiredAfterPassing++
          note('login_required_after_passing_failure', { event: 'loginRequired', reason: p && p.reason, lastLogin: authNow })
        }
        texts.push({ where: 'event loginRequired', value: p })
        // The app would open its login page; the user logs in and the page calls setSession().
        state.pending.push(sleep(30 + rnd.chaos() * 150).then(() => state.done ? null : setSessionFromPassword(client)))
      }))
      off.push(client.on('logout', (p) => { C.events.logout++; texts.push({ where: 'event logout', value: p }) }))

      const chaosDone = chaos(client, state)
      let phaseIssued = 0
      const callers = []
      const nCallers = Math.min(o.callers, quota)
      // Mean pause between one caller's requests, so that the phase spans about phaseMs.
      const think = Math.max(0, o.phaseMs / Math.max(1, quota / nCallers) - 80)
      for (let c = 0; c < nCallers; c++) {
        const r = mulberry32(Math.floor(rnd.callers() * 4294967296))
        callers.push((async () => {
          await sleep(r() * 800) // callers join over the first 0.8 s
          while (phaseIssued < quota) {
            phaseIssued++
            await oneRequest(client, r)
            // A pause, cut short when the chaos actor calls a stampede: every caller at once.
            await Promise.race([sleep(r() * 2 * think), state.stampede])
          }
        })())
      }
      await Promise.all(callers)
      state.done = true
      await chaosDone
      await Promise.all(state.pending)
      issued += phaseIssued
      // Let queued events (they fire after the drain) arrive, then reconcile them.
      await sleep(50)
      for (const e of errorEvents) {
        const en = e && typeof e === 'object' ? errToEntry.get(e) : undefined
        if (!en) { C.orphanErrorEvents++; note('orphan_error_event', { code: e && e.code }); continue }
        en.errorEvents++
      }
      C.sessionSnapshots.push(client.session())
      for (const f of off) f()
      if (!o.quiet) {
        const s = srvA.stats()
        out(`soak: phase ${phase}/${o.phases} requests=${issued} t=${((Date.now() - t0) / 1000).toFixed(1)}s refreshes=${s.refreshes.ok} logins=${s.logins.ok} maxAuthInFlight=${s.maxAuthInFlight}`)
      }
      // Between launches, sometimes a corrupt value replaces the stored session.
      if (rnd.chaos() < 0.5) baseWx.setStorageSync(o.storageKey, CORRUPT[Math.floor(rnd.chaos() * CORRUPT.length)]())
    }

    // ---- reconcile ----
    for (const e of entries.values()) {
      if (e.settles === 1) C.settled++
      if (e.settles > 1 || e.errorEvents > 1) { C.double++; note('double', { id: e.id, settles: e.settles, errorEvents: e.errorEvents }) }
      if (e.settles === 0 || e.hung) C.hung++
      if (e.outcome) C.outcome[e.outcome] = (C.outcome[e.outcome] || 0) + 1
      if (e.outcome === 'NOT_TOKENGATE' || e.outcome === 'THREW') { C.notTokenGateError++; note('not_tokengate_error', { id: e.id, message: e.error && e.error.message }) }
      if (e.settles === 1 && e.error && e.errorEvents === 0) { C.missingErrorEvent++; note('missing_error_event', { id: e.id, code: e.outcome }) }
      if (e.settledAt) {
        const ms = e.settledAt - e.start
        C.settleMs.push(ms)
        if (ms > C.maxSettleMs) C.maxSettleMs = ms
      }
    }
    C.double += C.orphanErrorEvents // an 'error' event for a promise that did not reject = a second settlement
    for (const s of C.sessionSnapshots) texts.push({ where: 'session()', value: s })
    for (const t of texts) {
      const strs = t.text != null ? [t.text] : stringsOf(t.value)
      const hits = new Set()
      for (const s of strs) for (const h of secrets.findIn(s)) hits.add(h)
      if (hits.size) { C.tokenInLogs += hits.size; note('token_in_logs', { where: t.where, count: hits.size }) }
    }
  } finally {
    for (const k of Object.keys(consoleOrig)) console[k] = consoleOrig[k]
    process.off('warning', onWarning)
  }

  const sA = srvA.stats()
  const sB = srvB.stats()
  C.overlappingRefreshes = sA.authOverlaps
  if (foreignServerSawAuth > C.foreignToken) C.foreignToken = foreignServerSawAuth
  baseWx.__close()
  await Promise.all([srvA.close(), srvB.close()])
  const durationMs = Date.now() - t0

  // ---- report ----
  const sorted = C.settleMs.slice().sort((a, b) => a - b)
  const pct = (q) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0
  const hist = (h) => Object.entries(h).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ')
  const extra = {
    auth_call_with_token: C.authCallWithToken + sA.authWithToken,
    sends_over_two: C.sendsOverTwo,
    auth_false_with_token: C.authFalseWithToken,
    not_tokengate_error: C.notTokenGateError,
    storage_fatal: C.storageFatal,
    missing_error_event: C.missingErrorEvent,
    token_used_after_logout: C.usedAfterLogout,
    sent_during_auth: C.sentDuringAuth,
    foreign_server_saw_auth: foreignServerSawAuth,
    exceed_max_task_count: C.exceedMaxTaskCount,
    login_required_after_passing_failure: C.loginRequiredAfterPassing
  }
  const lines = [
    '---- soak summary ----',
    `seed=${o.seed}${o.envelope ? ' envelope' : ''}${o.beforeRequest ? ' beforeRequest' : ''} requests=${C.requests} callers<=${o.callers} phases=${o.phases} timeout=${T}ms accessTtl=${o.accessTtl}ms wx.maxConcurrent=${o.maxConcurrent} bound=${BOUND}ms`,
    `duration=${(durationMs / 1000).toFixed(1)}s max_outstanding=${C.maxOutstanding} settle_ms p50=${pct(0.5)} p90=${pct(0.9)} p99=${pct(0.99)} max=${C.maxSettleMs}`,
    `outcomes: ${hist(C.outcome)}`,
    `kinds: ${hist(C.kinds)}`,
    `client: sends=${C.sends} replays=${C.replays} refresh_calls=${C.authCallsClientSide.refresh} login_calls=${C.authCallsClientSide.login} events refresh ok/failed=${C.events.refresh.ok}/${C.events.refresh.failed} login ok/failed=${C.events.login.ok}/${C.events.login.failed} loginRequired=${C.events.loginRequired} logout=${C.events.logout} error=${C.events.error}`,
    `ops rejected: ${hist(C.opRejections) || 'none'}`,
    `rule 6: passing login failures received ${hist(C.passingLogins) || 'none'}; refused logins received=${C.refusedLogins}; new login attempts after a passing failure=${C.reloginsAfterPassing}`,
    `server A: requests=${sA.requests} refreshes ok=${sA.refreshes.ok} rejected=${sA.refreshes.rejected} reused=${sA.refreshes.reused} hung=${sA.refreshes.hung} injected=${sA.refreshes.injectedFailures} logins ok=${sA.logins.ok} failed=${sA.logins.failed} injected_passing=${sA.logins.injectedPassing} password=${sA.passwordLogins.ok} api ok=${sA.api.ok} expired=${sA.api.expired} revoked=${sA.api.revoked} injected5xx=${sA.api.injected5xx} dropped=${sA.dropped} maxAuthInFlight=${sA.maxAuthInFlight} staleOnArrival=${sA.staleTokenRequests}`,
    `server B (foreign origin): requests=${sB.requests} with_authorization=${foreignServerSawAuth}`,
    `chaos: ${hist(C.chaos)}`,
    `info: superseded_tokens=${C.supersededTokens} sends_with_superseded_tokens=${JSON.stringify(C.supersededSends)} unknown_token_sends=${C.unknownTokenSends} client_side_auth_overlaps=${C.authOverlapClientSide} orphan_error_events=${C.orphanErrorEvents} texts_scanned=${texts.length} secrets=${secrets.set.size}`,
    `extra checks (all 0): ${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ')}`
  ]
  for (const f of findings) lines.push('finding: ' + JSON.stringify(f))
  const final = `soak: requests=${C.requests} settled=${C.settled} hung=${C.hung} double=${C.double} overlapping_refreshes=${C.overlappingRefreshes} stale_sends=${C.staleSends} foreign_token=${C.foreignToken} token_in_logs=${C.tokenInLogs}`
  const ok = C.settled === C.requests && C.requests >= 1 &&
    C.hung === 0 && C.double === 0 && C.overlappingRefreshes === 0 && C.staleSends === 0 &&
    C.foreignToken === 0 && C.tokenInLogs === 0 && Object.values(extra).every((v) => v === 0)
  return { ok, final, lines, counts: C, extra, findings, durationMs, serverA: sA, serverB: sB, options: o }
}

function parseArgs (argv) {
  const o = {}
  const num = (i, name) => {
    const v = Number(argv[i])
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} wants a number`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--seed') o.seed = num(++i, a)
    else if (a === '--requests') o.requests = num(++i, a)
    else if (a === '--callers') o.callers = num(++i, a)
    else if (a === '--phases') o.phases = Math.max(1, num(++i, a))
    else if (a === '--timeout') o.timeout = num(++i, a)
    else if (a === '--access-ttl') o.accessTtl = num(++i, a)
    else if (a === '--max-concurrent') o.maxConcurrent = num(++i, a)
    else if (a === '--phase-ms') o.phaseMs = num(++i, a)
    else if (a === '--quiet') o.quiet = true
    else if (a === '--envelope') o.envelope = true
    else if (a === '--before-request') o.beforeRequest = true
    else if (a === '--before-request-ms') { o.beforeRequest = true; o.beforeRequestMs = num(++i, a) }
    else if (a === '--passing-login') o.passingLogin = Math.min(1, num(++i, a))
    else if (a === '--help' || a === '-h') {
      process.stdout.write('node scripts/soak.js [--seed N] [--requests N] [--callers N] [--phases N] [--timeout MS] [--access-ttl MS] [--max-concurrent N] [--phase-ms MS] [--envelope] [--before-request] [--before-request-ms MS] [--passing-login P] [--quiet]\n')
      process.exit(0)
    } else throw new Error(`unknown flag '${a}'`)
  }
  return o
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const fs = require('node:fs')
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    process.stderr.write('soak: dist/index.js is missing; run npm run build first\n')
    process.exit(2)
  }
  const r = await runSoak(o)
  for (const l of r.lines) process.stdout.write(l + '\n')
  process.stdout.write(r.final + '\n')
  process.exit(r.ok ? 0 : 1)
}

module.exports = { runSoak, DEFAULTS, Secrets, stringsOf, mulberry32 }

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`soak: ${e && e.stack}\n`)
    process.exit(2)
  })
}
