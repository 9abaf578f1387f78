'use strict'
// createClient and the Client (shared/API.md). The session logic lives in the wasm core;
// this file validates options, keeps the request payloads and promises, carries out the
// core's commands (the shims object) and feeds results back. See docs/DESIGN.md.
//
// Rules kept here:
// * every call into wasm goes through `_call`, which guards re-entrancy: an input that
//   arrives while wasm is draining (a platform calling `success` synchronously, a throwing
//   shim) is queued and fed after the current call returns;
// * any exception out of a wasm call (a trap) makes the client unusable and rejects every
//   pending promise with a TokenGateError, so no promise is left pending;
// * user callbacks (events) run after the drain, never inside it;
// * payloads (data, headers, bodies) stay in JS; tokens never reach a message or a log.

var TokenGateError = require('./errors').TokenGateError
var platforms = require('./platform')

var hasOwn = Object.prototype.hasOwnProperty
var now = Date.now
function noop() {}

var DEFAULT_LOGIN = { url: '/auth/login', method: 'POST' }
var DEFAULT_REFRESH = { url: '/auth/refresh', method: 'POST', field: 'refreshToken' }

function configError(message) {
  return new TokenGateError('CONFIG', 'CONFIG: ' + message)
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function getPath(obj, path) {
  if (path === '' || path == null) return obj
  var parts = String(path).split('.')
  var cur = obj
  for (var i = 0; i < parts.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = cur[parts[i]]
  }
  return cur
}

// ---- options ------------------------------------------------------------------------

var URL_RE = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^\/?#:@\s\[\]]+)(:\d{1,5})?(?:[\/?#]|$)/i

function isLoopbackHost(host) {
  var h = host.toLowerCase().replace(/\.$/, '')
  if (h === 'localhost' || /\.localhost$/.test(h)) return true
  if (h === '[::1]' || h === '[0:0:0:0:0:0:0:1]') return true
  var m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h)
  return !!m && +m[1] <= 255 && +m[2] <= 255 && +m[3] <= 255
}

// Throws CONFIG when `url` is not an absolute http(s) URL allowed in `env`.
function checkAbsoluteURL(url, env, name) {
  var m = URL_RE.exec(url)
  if (!m) throw configError(name + ' is not a well-formed http(s) URL')
  if (m[1].toLowerCase() === 'http' && env !== 'develop' && !isLoopbackHost(m[2])) {
    throw configError(name + ': plain http: is refused outside develop unless the host is loopback')
  }
}

function checkString(v, name, nonEmpty) {
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw configError(name + ' must be a ' + (nonEmpty ? 'non-empty ' : '') + 'string')
  }
}

function checkWhen(v, name) {
  if (v == null) return
  if (!isObject(v)) throw configError(name + ' must be an object { status, code }')
  if (v.status != null) {
    if (!Array.isArray(v.status)) throw configError(name + '.status must be an array of HTTP statuses')
    for (var i = 0; i < v.status.length; i++) {
      var s = v.status[i]
      if (typeof s !== 'number' || s % 1 !== 0 || s < 100 || s > 999) throw configError(name + '.status must be an array of HTTP statuses')
    }
  }
  if (v.code != null) checkCodes(v.code, name + '.code')
}

function checkCodes(v, name) {
  if (!Array.isArray(v)) throw configError(name + ' must be an array of codes')
  for (var i = 0; i < v.length; i++) {
    var t = typeof v[i]
    if (t !== 'string' && t !== 'number' && t !== 'boolean') throw configError(name + ' must be an array of numbers or strings')
  }
}

function checkEndpoint(v, name, field) {
  if (v === false) return false
  if (v == null || v === true) return null
  if (!isObject(v)) throw configError(name + ' must be false or an object { url, method }')
  if (v.url != null) checkString(v.url, name + '.url', true)
  if (v.method != null) checkString(v.method, name + '.method', true)
  if (field && v.field != null) checkString(v.field, name + '.field', true)
  return v
}

function checkNumber(v, name, min) {
  if (typeof v !== 'number' || !isFinite(v) || v < min) {
    throw configError(name + ' must be a number of at least ' + min)
  }
}

// Validates what can be validated without the wasm; returns the resolved settings.
function resolveOptions(options) {
  if (options == null) options = {}
  if (typeof options !== 'object') throw configError('options must be an object')
  var o = options
  if (o.platform != null && (typeof o.platform !== 'object' && typeof o.platform !== 'function')) {
    throw configError('platform must be an object with the wx API shape')
  }
  var adapter = platforms.pickPlatform(o.platform == null ? null : o.platform)
  if (!adapter) throw configError('no platform: pass options.platform (no wx, uni, my or tt found)')
  var raw = adapter.raw
  if (!raw || typeof raw.request !== 'function') throw configError('platform.request is missing')

  var env = 'release'
  try { env = adapter.envVersion() } catch (e) { env = 'release' }

  var baseURL = ''
  if (o.baseURL != null) {
    if (typeof o.baseURL === 'string') baseURL = o.baseURL
    else if (isObject(o.baseURL)) {
      var chosen = o.baseURL[env]
      if (typeof chosen !== 'string') throw configError('baseURL.' + env + ' is missing for this environment')
      baseURL = chosen
    } else throw configError('baseURL must be a string or { develop, trial, release }')
  }
  if (baseURL !== '') checkAbsoluteURL(baseURL, env, 'baseURL')

  var login = checkEndpoint(o.login, 'login', false)
  var refresh = checkEndpoint(o.refresh, 'refresh', true)
  if (o.tokenFields != null) {
    if (!isObject(o.tokenFields)) throw configError('tokenFields must be an object')
    var tfKeys = ['accessToken', 'refreshToken', 'expiresIn']
    for (var i = 0; i < tfKeys.length; i++) {
      if (o.tokenFields[tfKeys[i]] != null) checkString(o.tokenFields[tfKeys[i]], 'tokenFields.' + tfKeys[i], true)
    }
  }
  if (o.authHeader != null) checkString(o.authHeader, 'authHeader', true)
  if (o.authScheme != null) checkString(o.authScheme, 'authScheme', false)
  checkWhen(o.expiredWhen, 'expiredWhen')
  checkWhen(o.loginRequiredWhen, 'loginRequiredWhen')
  if (o.checkSession != null && typeof o.checkSession !== 'boolean') throw configError('checkSession must be a boolean')
  if (o.beforeRequest != null && typeof o.beforeRequest !== 'function') throw configError('beforeRequest must be a function')
  var envelope = null
  if (o.envelope != null && o.envelope !== false) {
    if (o.envelope === true) envelope = {}
    else if (isObject(o.envelope)) envelope = o.envelope
    else throw configError('envelope must be null or an object { code, message, data, success }')
    if (envelope.code != null) checkString(envelope.code, 'envelope.code', true)
    if (envelope.message != null) checkString(envelope.message, 'envelope.message', false)
    if (envelope.data != null) checkString(envelope.data, 'envelope.data', false)
    if (envelope.success != null) checkCodes(envelope.success, 'envelope.success')
  }
  if (o.refreshLeeway != null) checkNumber(o.refreshLeeway, 'refreshLeeway', 0)
  if (o.timeout != null) checkNumber(o.timeout, 'timeout', 1)
  if (o.storageKey != null) checkString(o.storageKey, 'storageKey', true)
  if (o.allowedOrigins != null) {
    if (!Array.isArray(o.allowedOrigins)) throw configError('allowedOrigins must be an array of origins')
    for (var j = 0; j < o.allowedOrigins.length; j++) {
      if (typeof o.allowedOrigins[j] !== 'string' || !URL_RE.test(o.allowedOrigins[j])) {
        throw configError('allowedOrigins must be an array of origins (https://host[:port])')
      }
    }
  }
  if (o.wasmPath != null) checkString(o.wasmPath, 'wasmPath', true)
  if (login) {
    if (login.url != null && baseURL === '' && /^https?:/i.test(login.url)) checkAbsoluteURL(login.url, env, 'login.url')
  }
  if (refresh) {
    if (refresh.url != null && baseURL === '' && /^https?:/i.test(refresh.url)) checkAbsoluteURL(refresh.url, env, 'refresh.url')
  }

  // What the core reads (Config::from_json): JSON without functions and platform, plus env.
  var core = { env: env, baseURL: baseURL }
  core.login = login === false ? false : { url: (login && login.url) || DEFAULT_LOGIN.url }
  core.refresh = refresh === false ? false : { url: (refresh && refresh.url) || DEFAULT_REFRESH.url }
  if (o.tokenFields != null) core.tokenFields = o.tokenFields
  if (o.expiredWhen != null) core.expiredWhen = o.expiredWhen
  if (o.loginRequiredWhen != null) core.loginRequiredWhen = o.loginRequiredWhen
  if (o.checkSession != null) core.checkSession = o.checkSession
  if (envelope) {
    core.envelope = { code: envelope.code || 'code' }
    if (envelope.success != null) core.envelope.success = envelope.success
  }
  if (o.refreshLeeway != null) core.refreshLeeway = o.refreshLeeway
  if (o.timeout != null) core.timeout = o.timeout
  if (o.allowedOrigins != null) core.allowedOrigins = o.allowedOrigins

  var json
  try { json = JSON.stringify(core) } catch (e) { throw configError('options cannot be serialised') }

  var expiredCodes = (o.expiredWhen && o.expiredWhen.code && o.expiredWhen.code.length) ||
    (o.loginRequiredWhen && o.loginRequiredWhen.code && o.loginRequiredWhen.code.length)
  return {
    adapter: adapter,
    env: env,
    json: json,
    loginMethod: (login && login.method) || DEFAULT_LOGIN.method,
    refreshMethod: (refresh && refresh.method) || DEFAULT_REFRESH.method,
    refreshField: (refresh && refresh.field) || DEFAULT_REFRESH.field,
    authHeader: o.authHeader != null ? o.authHeader : 'Authorization',
    authScheme: o.authScheme != null ? o.authScheme : 'Bearer',
    beforeRequest: o.beforeRequest || null,
    envelope: envelope
      ? {
        code: envelope.code || 'code',
        message: envelope.message != null ? envelope.message : 'message',
        data: envelope.data != null ? envelope.data : 'data'
      }
      : null,
    // Path of the code the core may look at in business bodies (envelope or *When.code).
    codePath: envelope ? envelope.code || 'code' : expiredCodes ? 'code' : null,
    storageKey: o.storageKey || 'tokengate:session',
    wasmPath: o.wasmPath || null
  }
}

// ---- the wasm module ----------------------------------------------------------------

// js/loader.js: load({ wasmPath }) -> Promise<glue>; it instantiates the module once and
// shares it between clients (a failed load is retried by the next call).
function loadGlue(wasmPath) {
  return Promise.resolve().then(function () {
    var loader = require('./loader')
    return loader.load(wasmPath ? { wasmPath: wasmPath } : {})
  }).then(function (glue) {
    if (!glue || typeof glue.Gate !== 'function') throw new Error('the wasm module has no Gate export')
    return glue
  })
}

// ---- the client ---------------------------------------------------------------------

var REQUEST_OWN = { auth: 1, fullResponse: 1, success: 1, fail: 1, complete: 1, url: 1, header: 1, timeout: 1 }

function Client(settings) {
  var self = this
  this._s = settings
  this._p = settings.adapter
  this._glue = null
  this._gate = null
  this._dead = null
  this._busy = false
  this._queue = []
  this._preReady = []
  this._events = []
  this._entries = new Map() // request id -> entry (payload, promise, last response)
  this._tasks = new Map() // request id -> RequestTask in flight
  this._authTasks = new Map() // auth call id -> RequestTask in flight
  this._ops = [] // setSession/logout promises not yet fed (rejected if the client dies)
  this._token = null // the access token of the last send (see the send shim)
  this._url = null // the URL of the last send shim call (a send Gate.submit hands back is made to it)
  this._timer = null
  this._timerAt = 0
  this._wanted = -1
  this._nextId = 1
  this._listeners = {}
  this._readyDone = false
  this._lastSession = { loggedIn: false, expiresAt: null }
  this._shims = this._makeShims()

  var readyResolve, readyReject
  this.ready = new Promise(function (res, rej) { readyResolve = res; readyReject = rej })
  this.ready.then(null, noop) // a client nobody awaits must not raise unhandled rejections
  this._readyReject = readyReject

  loadGlue(settings.wasmPath).then(function (glue) {
    if (self._dead) return
    var gate
    try {
      gate = new glue.Gate(settings.json, self._shims)
      gate.hand_back() // submit/response hand their steady-state command back (see _submitIn)
    } catch (e) {
      var err = typeof e === 'string' ? configError(e.replace(/^CONFIG: /, '')) : internalError(e)
      self._die(err)
      return
    }
    self._glue = glue
    self._gate = gate
    var stored = self._readStorage()
    var pending = self._preReady
    self._preReady = []
    self._queue.push(function (g) { g.stored(now(), stored) })
    for (var i = 0; i < pending.length; i++) self._queue.push(pending[i])
    self._readyDone = true
    self._run()
    if (!self._dead) readyResolve()
  }, function (e) {
    self._die(internalError(e, 'the wasm module could not be loaded'))
  })
}

function internalError(e, what) {
  var detail = e && typeof e.message === 'string' ? ': ' + e.message : ''
  return new TokenGateError('INTERNAL', 'INTERNAL: ' + (what || 'the wasm core failed') + detail)
}

Client.prototype._readStorage = function () {
  var v
  try {
    v = this._p.getStorage(this._s.storageKey)
  } catch (e) {
    return undefined
  }
  if (typeof v === 'string') return v === '' ? undefined : v
  if (v !== null && typeof v === 'object') {
    try { return JSON.stringify(v) } catch (e) { return undefined }
  }
  return undefined
}

// Feed one input (fn(gate)) now, or after the current drain, or after the wasm is ready.
Client.prototype._call = function (fn) {
  if (this._dead) return false
  if (!this._gate) {
    this._preReady.push(fn)
    return true
  }
  this._queue.push(fn)
  if (!this._busy) this._run()
  return true
}

Client.prototype._run = function () {
  if (this._busy) return
  this._busy = true
  var q = this._queue
  try {
    while (q.length > 0 && !this._dead) {
      var fn = q.shift()
      fn(this._gate)
    }
  } catch (e) {
    this._busy = false
    this._die(internalError(e))
    return
  }
  this._busy = false
  if (this._events.length > 0) this._flushEvents()
}

// For the hot path: the Gate when an input can be fed right now (ready, not inside a
// drain, queue empty), else null (then use _call). Pair with _leave / _fail.
Client.prototype._enter = function () {
  if (this._busy || this._gate === null || this._dead || this._queue.length !== 0) return null
  this._busy = true
  return this._gate
}

Client.prototype._leave = function () {
  this._busy = false
  if (this._queue.length !== 0) this._run()
  else if (this._events.length !== 0) this._flushEvents()
}

Client.prototype._fail = function (e) {
  this._busy = false
  this._die(internalError(e))
}

Client.prototype._flushEvents = function () {
  var evs = this._events
  this._events = []
  for (var i = 0; i < evs.length; i++) this._fire(evs[i][0], evs[i][1])
}

Client.prototype._fire = function (name, payload) {
  var list = this._listeners[name]
  if (!list || list.length === 0) return
  list = list.slice()
  for (var i = 0; i < list.length; i++) {
    try { list[i](payload) } catch (e) {}
  }
}

Client.prototype._die = function (err) {
  if (this._dead) return
  this._dead = err
  this._token = null
  this._queue = []
  this._preReady = []
  if (this._timer !== null) { clearTimeout(this._timer); this._timer = null }
  this._gate = null
  var entries = this._entries
  this._entries = new Map()
  var tasks = this._tasks
  this._tasks = new Map()
  var auth = this._authTasks
  this._authTasks = new Map()
  tasks.forEach(function (t) { abortTask(t) })
  auth.forEach(function (t) { abortTask(t) })
  var self = this
  entries.forEach(function (entry) {
    var e = copyError(err)
    entry.reject(e)
    if (entry.kind !== 'login') self._events.push(['error', e])
  })
  var ops = this._ops
  this._ops = []
  for (var i = 0; i < ops.length; i++) ops[i].reject(copyError(err))
  this._readyReject(copyError(err))
  this._flushEvents()
}

function copyError(err) {
  return new TokenGateError(err.code, err.message)
}

function abortTask(t) {
  try { if (t && typeof t.abort === 'function') t.abort() } catch (e) {}
}

// ---- the shims: the core's commands -------------------------------------------------

Client.prototype._makeShims = function () {
  var self = this
  return {
    send: function (id, url, tokenState, token, generation) {
      // tokenState: 0 no token, 1 the token of the last send, 2 a new token (kept here).
      self._url = url
      if (tokenState === 2) self._token = token
      self._send(id, url, tokenState === 0 ? null : self._token, generation)
    },
    abort_send: function (id) {
      var t = self._tasks.get(id)
      if (t !== undefined) {
        self._tasks.delete(id)
        abortTask(t)
      }
    },
    check_session: function () {
      var p = self._p
      var answered = false
      function done(ok) {
        if (answered) return
        answered = true
        self._call(function (g) { g.check_session_done(now(), ok) })
      }
      if (!p.checkSession) return done(false)
      try {
        p.checkSession(function () { done(true) }, function () { done(false) })
      } catch (e) { done(false) }
    },
    platform_login: function (call) {
      var answered = false
      function done(ok, v) {
        if (answered) return
        answered = true
        self._call(function (g) { g.platform_login_done(now(), call, ok, String(v)) })
      }
      try {
        self._p.login(function (code) { done(true, code) }, function (msg) { done(false, msg) })
      } catch (e) {
        done(false, 'login:fail ' + (e && e.message ? e.message : 'threw'))
      }
    },
    post_auth: function (call, refresh, url, value) { self._postAuth(call, refresh, url, value) },
    abort_auth: function (call) {
      var t = self._authTasks.get(call)
      if (t !== undefined) {
        self._authTasks.delete(call)
        abortTask(t)
      }
    },
    store: function (value) {
      try {
        if (value == null) {
          self._token = null
          self._p.removeStorage(self._s.storageKey)
        }
        else self._p.setStorage(self._s.storageKey, value)
      } catch (e) {}
    },
    settle: function (id, code, status, detail, withResponse) {
      self._settle(id, code, status, detail, withResponse)
    },
    emit: function (name, ok, reason) {
      var payload
      if (name === 'refresh' || name === 'login') payload = { ok: ok }
      else if (name === 'loginRequired') payload = { reason: reason }
      self._events.push([name, payload])
    },
    arm_timer: function (at) {
      self._armTimer(at)
    }
  }
}

// One platform timer for the core's next deadline, coalesced: a timer that fires no later
// than the new deadline is kept (when it fires early, it is re-armed for the deadline
// without entering wasm), so a steady stream of requests does not set and clear a timer
// per request. An idle timer is unref'd in Node so it never keeps a process alive.
Client.prototype._armTimer = function (at) {
  if (this._dead) return
  this._wanted = at
  var t = this._timer
  if (at < 0) {
    if (t !== null && typeof t === 'object' && typeof t.unref === 'function') t.unref()
    return
  }
  if (t !== null) {
    if (this._timerAt <= at) {
      if (typeof t === 'object' && typeof t.ref === 'function') t.ref()
      return
    }
    clearTimeout(t)
  }
  this._setTimer(at)
}

Client.prototype._setTimer = function (at) {
  var self = this
  var delay = at - now()
  if (delay < 0) delay = 0
  if (delay > 2147483647) delay = 2147483647
  this._timerAt = at
  this._timer = setTimeout(function () { self._onTimer() }, delay)
}

Client.prototype._onTimer = function () {
  this._timer = null
  var at = this._wanted
  if (at < 0 || this._dead) return
  if (at > now()) {
    this._setTimer(at)
    return
  }
  this._call(function (g) { g.timeout(now()) })
}

Client.prototype._send = function (id, url, token, generation) {
  var entry = this._entries.get(id)
  if (entry === undefined) return
  var seq = ++entry.seq
  var opts = entry.opts
  var o = {}
  for (var k in opts) {
    if (hasOwn.call(opts, k) && !hasOwn.call(REQUEST_OWN, k)) o[k] = opts[k]
  }
  o.url = url
  var header = {}
  var h = opts.header
  if (h !== null && typeof h === 'object') {
    for (var hk in h) if (hasOwn.call(h, hk)) header[hk] = h[hk]
  }
  if (token != null) {
    var s = this._s
    header[s.authHeader] = s.authScheme === '' ? token : s.authScheme + ' ' + token
  }
  o.header = header
  var br = this._s.beforeRequest
  if (br === null) return this._dispatch(entry, seq, o)
  var self = this
  var r
  try {
    r = br(o)
  } catch (e) {
    return this._transportFailed(entry, seq, 'beforeRequest threw: ' + errText(e))
  }
  if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
    r.then(function (o2) {
      var final = o2 && typeof o2 === 'object' ? o2 : o
      if (token === null) return self._dispatch(entry, seq, final)
      // The session may have changed while the hook ran: a replaced or forgotten token must
      // not go out. The Gate checks, and when it changed the core replays or settles.
      if (!self._current(entry, seq)) return
      self._call(function (g) {
        if (g.sendable(now(), entry.id, generation)) self._dispatch(entry, seq, final)
      })
    }, function (e) {
      self._transportFailed(entry, seq, 'beforeRequest failed: ' + errText(e))
    })
  } else {
    this._dispatch(entry, seq, r && typeof r === 'object' ? r : o)
  }
}

function errText(e) {
  if (e && typeof e.message === 'string') return e.message
  if (typeof e === 'string') return e
  return 'unknown error'
}

Client.prototype._current = function (entry, seq) {
  return this._entries.get(entry.id) === entry && entry.seq === seq
}

Client.prototype._transportFailed = function (entry, seq, msg) {
  if (!this._current(entry, seq)) return
  var id = entry.id
  this._call(function (g) { g.transport_failed(now(), id, msg) })
}

Client.prototype._dispatch = function (entry, seq, o) {
  if (!this._current(entry, seq)) return
  var self = this
  var id = entry.id
  var done = false
  var task
  o.success = function (res) {
    if (done) return
    done = true
    if (self._tasks.get(id) === task) self._tasks.delete(id)
    self._onResponse(entry, seq, res)
  }
  o.fail = function (err) {
    if (done) return
    done = true
    if (self._tasks.get(id) === task) self._tasks.delete(id)
    self._transportFailed(entry, seq, platforms.errMsgOf(err, 'request:fail'))
  }
  var p = this._p
  try {
    if (entry.kind === 'request') task = p.request(o)
    else if (entry.kind === 'upload') task = p.uploadFile(o)
    else task = p.downloadFile(o)
  } catch (e) {
    if (!done) {
      done = true
      this._transportFailed(entry, seq, 'request:fail ' + errText(e))
    }
    return
  }
  if (!done && task != null) this._tasks.set(id, task)
}

Client.prototype._onResponse = function (entry, seq, res) {
  if (!this._current(entry, seq)) return
  var status = res != null ? res.statusCode : undefined
  if (typeof status !== 'number' || !(status >= 0)) {
    return this._transportFailed(entry, seq, 'request:fail malformed response (no statusCode)')
  }
  var data = res.data
  if (entry.kind === 'upload' && typeof data === 'string') data = parseMaybeJSON(data)
  entry.last = res
  entry.data = data
  var code = null
  var path = this._s.codePath
  if (path !== null && data !== null && typeof data === 'object') {
    var c = getPath(data, path)
    var t = typeof c
    if (t === 'string' || t === 'number' || t === 'boolean') code = String(c)
  }
  var id = entry.id
  var g = this._enter()
  if (g !== null) {
    // One crossing: when the core's only answer is "settle this one with success", it is
    // handed back (1) instead of going through the settle shim.
    var r
    try {
      r = g.response(now(), id, status, code)
    } catch (e) {
      this._fail(e)
      return
    }
    if (r === 1) this._settle(id, null, 0, null, true)
    this._leave()
  } else {
    var self = this
    this._call(function (g) {
      if (g.response(now(), id, status, code) === 1) self._settle(id, null, 0, null, true)
    })
  }
}

function parseMaybeJSON(text) {
  try { return JSON.parse(text) } catch (e) { return text }
}

Client.prototype._postAuth = function (call, refresh, url, value) {
  var self = this
  var s = this._s
  var body = {}
  if (refresh) body[s.refreshField] = value
  else body.code = value
  var done = false
  var task
  function finish() {
    done = true
    if (self._authTasks.get(call) === task) self._authTasks.delete(call)
  }
  var o = {
    url: url,
    method: refresh ? s.refreshMethod : s.loginMethod,
    data: body,
    header: { 'content-type': 'application/json' },
    dataType: 'json',
    success: function (res) {
      if (done) return
      finish()
      var status = res != null ? res.statusCode : undefined
      if (typeof status !== 'number' || !(status >= 0)) {
        self._call(function (g) { g.auth_transport_failed(now(), call, 'request:fail malformed response') })
        return
      }
      var data = res.data
      var text
      if (typeof data === 'string') text = data
      else if (data === undefined || data === null) text = ''
      else {
        try { text = JSON.stringify(data) } catch (e) { text = '' }
        if (typeof text !== 'string') text = ''
      }
      self._call(function (g) { g.auth_reply(now(), call, status, text) })
    },
    fail: function (err) {
      if (done) return
      finish()
      var msg = platforms.errMsgOf(err, 'request:fail')
      self._call(function (g) { g.auth_transport_failed(now(), call, msg) })
    }
  }
  try {
    task = this._p.request(o)
  } catch (e) {
    if (!done) {
      done = true
      var m = 'request:fail ' + errText(e)
      this._call(function (g) { g.auth_transport_failed(now(), call, m) })
    }
    return
  }
  if (!done && task != null) this._authTasks.set(call, task)
}

Client.prototype._settle = function (id, code, status, detail, withResponse) {
  var entry = this._entries.get(id)
  if (entry === undefined) return
  this._entries.delete(id)
  if (code == null) {
    entry.resolve(this._value(entry))
    return
  }
  var err = this._error(entry, code, status, detail, withResponse)
  entry.reject(err)
  if (entry.kind !== 'login') this._events.push(['error', err])
}

Client.prototype._value = function (entry) {
  if (entry.kind === 'login') return undefined
  var res = entry.last
  if (res == null) return undefined
  if (entry.kind === 'download') return res
  var data = entry.data
  if (entry.opts.fullResponse === true) {
    return { statusCode: res.statusCode, header: res.header, data: data }
  }
  var env = this._s.envelope
  if (env !== null && data !== null && typeof data === 'object') return getPath(data, env.data)
  return data
}

Client.prototype._error = function (entry, code, status, detail, withResponse) {
  var res = withResponse ? entry.last : null
  var data = res ? entry.data : undefined
  var extra
  var message
  switch (code) {
    case 'NETWORK':
      extra = { errMsg: detail || 'request:fail' }
      message = 'NETWORK: ' + extra.errMsg
      break
    case 'HTTP':
      extra = { statusCode: status || (res ? res.statusCode : undefined), data: data }
      message = 'HTTP: status ' + extra.statusCode
      break
    case 'UNAUTHORIZED':
      extra = { statusCode: status || (res ? res.statusCode : undefined) }
      message = 'UNAUTHORIZED: rejected again with a fresh token (status ' + extra.statusCode + ')'
      break
    case 'BUSINESS': {
      var env = this._s.envelope || { code: 'code', message: 'message', data: 'data' }
      var isObj = data !== null && typeof data === 'object'
      var biz = isObj ? getPath(data, env.code) : undefined
      var msg = isObj ? getPath(data, env.message) : undefined
      extra = { bizCode: biz !== undefined ? biz : detail, data: isObj ? getPath(data, env.data) : data }
      message = typeof msg === 'string' && msg !== '' ? msg : 'BUSINESS: code ' + String(extra.bizCode)
      break
    }
    case 'LOGIN_REQUIRED':
      extra = { reason: detail || undefined }
      message = 'LOGIN_REQUIRED: ' + (detail || 'the session cannot be restored without the user')
      break
    case 'CONFIG':
      message = 'CONFIG: ' + (detail ? String(detail).replace(/^CONFIG: /, '') : 'bad URL')
      break
    case 'TIMEOUT':
      message = 'TIMEOUT: the request, or the refresh/login it waited for, ran past timeout'
      break
    case 'ABORTED':
      message = 'ABORTED: the request was aborted'
      break
    default:
      message = code
  }
  return new TokenGateError(code, message, extra)
}

// ---- public API ---------------------------------------------------------------------

Client.prototype._newEntry = function (kind, opts) {
  var entry = { id: 0, kind: kind, opts: opts, seq: 0, last: null, data: undefined, resolve: null, reject: null }
  var p = new Promise(function (res, rej) { entry.resolve = res; entry.reject = rej })
  var id = this._nextId
  this._nextId = id >= 0xfffffffe ? 1 : id + 1
  entry.id = id
  entry.promise = p
  return entry
}

Client.prototype._rejectNow = function (entry, err) {
  entry.reject(err)
  if (entry.kind !== 'login') {
    this._events.push(['error', err])
    if (!this._busy) this._flushEvents()
  }
}

Client.prototype._submit = function (kind, opts) {
  var self = this
  var entry = this._newEntry(kind, opts)
  var p = entry.promise
  p.abort = function () { self._abort(entry) }
  if (this._dead) {
    this._rejectNow(entry, copyError(this._dead))
    return p
  }
  if (opts === null || typeof opts !== 'object') {
    this._rejectNow(entry, configError('request options must be an object'))
    return p
  }
  if (typeof opts.url !== 'string' || opts.url === '') {
    this._rejectNow(entry, configError('url must be a non-empty string'))
    return p
  }
  if (kind === 'upload' && !this._p.uploadFile) {
    this._rejectNow(entry, configError('the platform has no uploadFile'))
    return p
  }
  if (kind === 'download' && !this._p.downloadFile) {
    this._rejectNow(entry, configError('the platform has no downloadFile'))
    return p
  }
  var t = opts.timeout
  var timeout = typeof t === 'number' && t >= 0 && isFinite(t) ? t : -1
  var auth = opts.auth !== false
  var id = entry.id
  var url = opts.url
  this._entries.set(id, entry)
  var g = this._enter()
  if (g !== null) {
    // Fast path (not inside a drain): no closure, no queue, one crossing (see _submitIn).
    try {
      this._submitIn(g, id, url, auth, timeout)
    } catch (e) {
      this._fail(e)
      return p
    }
    this._leave()
  } else {
    this._call(function (g) { self._submitIn(g, id, url, auth, timeout) })
  }
  return p
}

// Gate.submit, inside a drain: when the core's only command is the steady-state send of this
// request (same token, same URL as the last send shim call), the Gate returns the token
// generation instead of calling the send shim, and the request is sent from here.
Client.prototype._submitIn = function (g, id, url, auth, timeout) {
  var r = g.submit(now(), id, url, auth, timeout)
  if (r >= 0) {
    try {
      this._send(id, this._url, this._token, r)
    } catch (e) {
      // As when the send shim throws: a transport failure, fed after this call.
      var m = errText(e)
      this._queue.push(function (g2) { g2.transport_failed(now(), id, m) })
    }
  }
}

Client.prototype._abort = function (entry) {
  if (this._entries.get(entry.id) !== entry) return
  var id = entry.id
  this._call(function (g) { g.abort(now(), id) })
}

Client.prototype.request = function (opts) {
  return this._submit('request', opts)
}

function shorthand(method) {
  return function (url, data, opts) {
    var o = {}
    if (opts !== null && typeof opts === 'object') {
      for (var k in opts) if (hasOwn.call(opts, k)) o[k] = opts[k]
    }
    o.url = url
    if (data !== undefined) o.data = data
    o.method = method
    return this._submit('request', o)
  }
}
Client.prototype.get = shorthand('GET')
Client.prototype.post = shorthand('POST')
Client.prototype.put = shorthand('PUT')
Client.prototype['delete'] = shorthand('DELETE')

Client.prototype.upload = function (opts) {
  return this._submit('upload', opts)
}

Client.prototype.download = function (opts) {
  return this._submit('download', opts)
}

Client.prototype.login = function () {
  var entry = this._newEntry('login', null)
  if (this._dead) {
    entry.reject(copyError(this._dead))
    return entry.promise
  }
  var id = entry.id
  this._entries.set(id, entry)
  this._call(function (g) { g.login(now(), id) })
  return entry.promise
}

// Feed an input that has no id of its own; the promise settles once it was fed.
Client.prototype._op = function (fn) {
  var self = this
  return new Promise(function (resolve, reject) {
    if (self._dead) return reject(copyError(self._dead))
    var op = { reject: reject }
    self._ops.push(op)
    self._call(function (g) {
      var i = self._ops.indexOf(op)
      if (i >= 0) self._ops.splice(i, 1)
      fn(g)
      resolve()
    })
  })
}

Client.prototype.setSession = function (tokenSet) {
  if (!isObject(tokenSet) || typeof tokenSet.accessToken !== 'string' || tokenSet.accessToken === '') {
    return Promise.reject(configError('setSession needs { accessToken, refreshToken?, expiresIn? }'))
  }
  // The core refuses a token that cannot go into a header (CR/LF would split it); say so
  // here instead of resolving with no session installed.
  if (/[\u0000-\u001f\u007f]/.test(tokenSet.accessToken)) {
    return Promise.reject(configError('accessToken has control characters'))
  }
  var rt = tokenSet.refreshToken
  if (rt != null && typeof rt !== 'string') return Promise.reject(configError('refreshToken must be a string'))
  var ei = tokenSet.expiresIn
  if (ei != null && (typeof ei !== 'number' || !isFinite(ei) || ei < 0)) {
    return Promise.reject(configError('expiresIn must be a non-negative number of seconds'))
  }
  var access = tokenSet.accessToken
  var refresh = rt == null || rt === '' ? undefined : rt
  var expiresIn = ei == null ? -1 : ei
  return this._op(function (g) { g.set_session(now(), access, refresh, expiresIn) })
}

Client.prototype.logout = function () {
  return this._op(function (g) { g.logout(now()) })
}

Client.prototype.session = function () {
  var g = this._gate
  // Inside a drain (a synchronous platform callback or beforeRequest) the Gate is borrowed:
  // the last known value is given.
  if (g !== null && !this._dead && !this._busy) {
    try {
      var v = g.session(now())
      this._lastSession = v === -2 ? { loggedIn: false, expiresAt: null } : { loggedIn: true, expiresAt: v === -1 ? null : v }
    } catch (e) {
      // Not inside a drain, so this is a trap: the client is unusable from now on.
      this._die(internalError(e))
      this._lastSession = { loggedIn: false, expiresAt: null }
    }
  } else if (g === null || this._dead) {
    this._lastSession = { loggedIn: false, expiresAt: null }
  }
  return { loggedIn: this._lastSession.loggedIn, expiresAt: this._lastSession.expiresAt }
}

var EVENTS = { refresh: 1, login: 1, loginRequired: 1, logout: 1, error: 1 }

Client.prototype.on = function (event, fn) {
  if (!hasOwn.call(EVENTS, event)) throw configError('unknown event ' + String(event))
  if (typeof fn !== 'function') throw configError('the listener must be a function')
  var list = this._listeners[event] || (this._listeners[event] = [])
  list.push(fn)
  var self = this
  var on = true
  return function unsubscribe() {
    if (!on) return
    on = false
    var l = self._listeners[event]
    var i = l ? l.indexOf(fn) : -1
    if (i >= 0) l.splice(i, 1)
  }
}

// Diagnostics for tests: bytes of wasm linear memory (0 before the wasm is loaded).
Object.defineProperty(Client.prototype, '_wasmMemoryBytes', {
  value: function () {
    return this._glue && typeof this._glue.memory_bytes === 'function' ? this._glue.memory_bytes() : 0
  }
})

function createClient(options) {
  return new Client(resolveOptions(options))
}

module.exports = { createClient: createClient, Client: Client, TokenGateError: TokenGateError }
