'use strict'
// A fake auth/business server and a fake wx platform with wx's real callback shapes, for the
// client tests (tests/js/client*.test.js). Not a test file itself.

const path = require('path')
// The body wx.request sends for a form content type (tests/oidc/form.js, shared with the
// interop tests against oidc-provider).
const { encodeForm, isFormContentType } = require('../oidc/form')

// TOKENGATE_DIST lets a developer point the tests at another build of dist/.
const DIST = process.env.TOKENGATE_DIST || path.join(__dirname, '..', '..', 'dist')

function dist() {
  return require(DIST)
}

// In-memory server: /auth/login exchanges a code, /auth/refresh rotates, everything else
// needs a valid `Authorization: Bearer <access>`. `routes[path](o, server)` may answer
// first (return undefined to fall through). An answer is { statusCode, data, header } or
// { fail: errMsg } or { hang: true }, with an optional `delay` (ms).
class Server {
  constructor(opts = {}) {
    this.expiresIn = opts.expiresIn === undefined ? 3600 : opts.expiresIn
    this.valid = new Set()
    this.refreshTokens = new Set()
    this.n = 0
    this.count = { login: 0, refresh: 0, api: 0 }
    this.routes = {}
    this.log = []
    this.authHeader = opts.authHeader || 'Authorization'
    this.scheme = opts.scheme === undefined ? 'Bearer ' : opts.scheme
  }

  issue() {
    this.n++
    const accessToken = 'acc-' + this.n
    const refreshToken = 'ref-' + this.n
    this.valid.add(accessToken)
    this.refreshTokens.add(refreshToken)
    const set = { accessToken, refreshToken }
    if (this.expiresIn !== null) set.expiresIn = this.expiresIn
    return set
  }

  // Install a session the client will read from storage.
  seed(storage, key = 'tokengate:session', { expiresAt = Date.now() + 3600e3, lifetime = 3600e3, valid = true } = {}) {
    this.n++
    const accessToken = 'acc-' + this.n
    const refreshToken = 'ref-' + this.n
    if (valid) this.valid.add(accessToken)
    this.refreshTokens.add(refreshToken)
    storage[key] = JSON.stringify({ accessToken, refreshToken, expiresAt, lifetime })
    return { accessToken, refreshToken }
  }

  handle(o) {
    const u = new URL(o.url)
    const p = u.pathname
    // A form body arrives as the text fakeWx sent (`a=1&b=2`); the server reads it back into
    // an object, as a real one would, and keeps the text as `body`.
    if (typeof o.data === 'string' && isFormContentType(o.header)) {
      o = Object.assign({}, o, { data: Object.fromEntries(new URLSearchParams(o.data)), body: o.data })
    }
    this.log.push({ path: p, header: o.header || {}, data: o.data, body: o.body, method: o.method })
    const route = this.routes[p]
    if (route) {
      const r = route(o, this)
      if (r !== undefined) return r
    }
    if (p === '/auth/login') {
      this.count.login++
      if (!o.data || typeof o.data.code !== 'string') return { statusCode: 400, data: { error: 'no code' } }
      return { statusCode: 200, data: this.issue() }
    }
    if (p === '/auth/refresh') {
      this.count.refresh++
      const rt = o.data && o.data.refreshToken
      if (!this.refreshTokens.has(rt)) return { statusCode: 401, data: { error: 'bad refresh token' } }
      this.refreshTokens.delete(rt)
      return { statusCode: 200, data: this.issue() }
    }
    this.count.api++
    const h = (o.header || {})[this.authHeader]
    const tok = typeof h === 'string' && h.startsWith(this.scheme) ? h.slice(this.scheme.length) : null
    if (!tok || !this.valid.has(tok)) return { statusCode: 401, data: { error: 'unauthorized' } }
    return { statusCode: 200, header: { 'content-type': 'application/json' }, data: { ok: true, path: p, token: tok, method: o.method || 'GET', body: o.data } }
  }

  expireAll() {
    this.valid.clear()
  }
}

// A wx-shaped platform over `server`. `opts.sync`: call success/fail synchronously.
function fakeWx(server, opts = {}) {
  const delay = opts.delay === undefined ? 2 : opts.delay
  const p = {
    storage: opts.storage || {},
    requests: [],
    aborted: 0,
    logins: 0,
    loginFails: false,
    loginHang: false,
    sessionOk: true,
    checkSessions: 0,
    request(o) {
      p.requests.push(o)
      // As wx.request: a body for application/x-www-form-urlencoded (any case, parameters
      // allowed) is sent as encodeURIComponent(k)=encodeURIComponent(v)&..., not as an object.
      const sent = isFormContentType(o.header) ? Object.assign({}, o, { data: encodeForm(o.data) }) : o
      return answer(o, () => server.handle(sent))
    },
    uploadFile(o) {
      p.requests.push(o)
      return answer(o, () => {
        const r = server.handle(Object.assign({}, o, { data: o.formData }))
        if (r.data !== undefined && typeof r.data !== 'string') r.data = JSON.stringify(r.data)
        return r
      })
    },
    downloadFile(o) {
      p.requests.push(o)
      return answer(o, () => {
        const r = server.handle(o)
        if (r.fail || r.hang) return r
        return { statusCode: r.statusCode, tempFilePath: 'wxfile://tmp/' + r.statusCode, delay: r.delay }
      })
    },
    login(o) {
      p.logins++
      if (p.loginHang) return
      const fire = () => {
        if (p.loginFails) o.fail({ errMsg: 'login:fail auth deny' })
        else o.success({ code: 'code-' + p.logins, errMsg: 'login:ok' })
      }
      if (opts.sync) fire()
      else setTimeout(fire, delay)
    },
    getStorageSync(k) {
      return Object.prototype.hasOwnProperty.call(p.storage, k) ? p.storage[k] : ''
    },
    setStorageSync(k, v) {
      p.storage[k] = v
    },
    removeStorageSync(k) {
      delete p.storage[k]
    },
    checkSession(o) {
      p.checkSessions++
      setTimeout(() => (p.sessionOk ? o.success({ errMsg: 'checkSession:ok' }) : o.fail({ errMsg: 'checkSession:fail' })), delay)
    }
  }
  if (opts.env) p.getAccountInfoSync = () => ({ miniProgram: { appId: 'wx1', envVersion: opts.env } })

  function answer(o, compute) {
    let done = false
    const task = {
      aborted: false,
      abort() {
        p.aborted++
        task.aborted = true
        if (done) return
        done = true
        if (o.fail) o.fail({ errMsg: 'request:fail abort' })
      }
    }
    const r = compute()
    const run = () => {
      if (done) return
      done = true
      if (r.fail) o.fail({ errMsg: r.fail })
      else {
        const res = { statusCode: r.statusCode, header: r.header || {}, data: r.data, errMsg: 'request:ok' }
        if (r.tempFilePath) res.tempFilePath = r.tempFilePath
        if (r.noStatus) delete res.statusCode
        o.success(res)
      }
    }
    if (!r.hang) {
      const d = r.delay === undefined ? delay : r.delay
      if (opts.sync && r.delay === undefined) run()
      else setTimeout(run, d)
    }
    return task
  }
  return p
}

function setup(options = {}, fakeOpts = {}, serverOpts = {}) {
  const server = new Server(serverOpts)
  const wx = fakeWx(server, fakeOpts)
  if (fakeOpts.seed) server.seed(wx.storage, options.storageKey, fakeOpts.seed === true ? {} : fakeOpts.seed)
  const { createClient } = dist()
  const client = createClient(Object.assign({ platform: wx, baseURL: 'https://api.example.com' }, options))
  return { server, wx, client }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// The settled outcome of a promise, for assertions.
function outcome(p) {
  return p.then((v) => ({ ok: true, value: v }), (e) => ({ ok: false, error: e }))
}

module.exports = { Server, fakeWx, setup, sleep, outcome, dist, DIST }
