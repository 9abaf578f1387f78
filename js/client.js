'use strict'
// createClient: the facade over the Rust client (src/wasm). It finds the platform and turns
// it into the host the Rust driver calls (promise-returning shims), loads the wasm, holds the
// calls made before it is ready, puts abort() (and onProgressUpdate()) on the promises and
// runs the listeners. Options are read and checked by Rust, once; tokens never reach this
// file. State lives in a WeakMap, so nothing the client hands out leads to it.

var TokenGateError = require('./errors').TokenGateError
var platforms = require('./platform')

var internals = new WeakMap()
var EVENTS = { refresh: 1, login: 1, loginRequired: 1, logout: 1, error: 1 }

function error(code, message) {
  return new TokenGateError(code, code + ': ' + message)
}

function copy(e) {
  var c = new TokenGateError(e.code, e.message)
  for (var k in e) if (Object.prototype.hasOwnProperty.call(e, k) && !(k in c)) c[k] = e[k]
  return c
}

// Listeners run later, one at a time, each in its own try: a listener that throws or calls
// the client again changes nothing for the client or for the other listeners.
function emitter() {
  var listeners = {}
  var queue = []
  var scheduled = false
  function flush() {
    scheduled = false
    var batch = queue
    queue = []
    for (var i = 0; i < batch.length; i++) {
      var list = (listeners[batch[i][0]] || []).slice()
      for (var j = 0; j < list.length; j++) {
        try { list[j](batch[i][1]) } catch (e) {}
      }
    }
  }
  return {
    listeners: listeners,
    emit: function (name, payload) {
      queue.push([name, payload])
      if (!scheduled) {
        scheduled = true
        setTimeout(flush, 0)
      }
    }
  }
}

// The host object of src/wasm/host.rs: the adapter's callbacks turned into promises, one
// timer, storage, events. `progress[id]`: the onProgressUpdate listeners of upload/download
// `id`, fed by every task of that request (a replay included).
function makeHost(adapter, events, progress) {
  var timer = null
  return {
    env: adapter.envVersion(),
    Error: TokenGateError,
    request: function (kind, o, id) {
      var task
      var p = new Promise(function (resolve, reject) {
        o.success = resolve
        o.fail = reject
        task = (kind === 'upload' ? adapter.uploadFile : kind === 'download' ? adapter.downloadFile : adapter.request)(o)
      })
      p.abort = function () {
        try { if (task && typeof task.abort === 'function') task.abort() } catch (e) {}
      }
      var fns = progress[id]
      if (fns && task && typeof task.onProgressUpdate === 'function') {
        try {
          task.onProgressUpdate(function (r) {
            for (var i = 0; i < fns.length; i++) try { fns[i](r) } catch (e) {}
          })
        } catch (e) {}
      }
      return p
    },
    login: function () {
      return new Promise(function (resolve, reject) { adapter.login(resolve, reject) })
    },
    checkSession: function () {
      if (!adapter.checkSession) return Promise.resolve(false)
      return new Promise(function (resolve) {
        adapter.checkSession(function () { resolve(true) }, function () { resolve(false) })
      })
    },
    getStorage: function (key) { return adapter.getStorage(key) },
    setStorage: function (key, value) { adapter.setStorage(key, value) },
    removeStorage: function (key) { adapter.removeStorage(key) },
    supports: function (kind) { return !!(kind === 'upload' ? adapter.uploadFile : adapter.downloadFile) },
    emit: events.emit,
    // One timer, coalesced: a timer that fires no later than asked is kept (the driver then
    // keeps waiting on its promise; an early fire only makes the core look again), and an
    // idle one is left to fire, unref'd in Node so it never holds a process open.
    arm: function (delay) {
      if (timer && !(delay >= 0)) {
        if (typeof timer.id === 'object' && timer.id.unref) timer.id.unref()
        return undefined
      }
      if (!(delay >= 0)) return undefined
      var at = Date.now() + delay
      if (timer && timer.at <= at) {
        if (typeof timer.id === 'object' && timer.id.ref) timer.id.ref()
        return undefined
      }
      if (timer) {
        clearTimeout(timer.id)
        timer.resolve(false)
      }
      return new Promise(function (resolve) {
        var t = { resolve: resolve, at: at, id: 0 }
        t.id = setTimeout(function () {
          if (timer === t) timer = null
          resolve(true)
        }, Math.min(delay, 2147483647))
        timer = t
      })
    }
  }
}

function Client(options) {
  var given = options != null && typeof options === 'object' ? options.platform : undefined
  var adapter = platforms.pickPlatform(given == null ? null : given)
  if (!adapter || !adapter.raw || typeof adapter.raw.request !== 'function') {
    throw error('CONFIG', 'no platform: pass options.platform (no wx, uni, my or tt with a request function was found)')
  }
  var events = emitter()
  var progress = {}
  var st = { inner: null, failed: null, waiting: [], nextId: 1, events: events, progress: progress, host: makeHost(adapter, events, progress) }
  internals.set(this, st)
  var wasmPath = options != null && typeof options.wasmPath === 'string' && options.wasmPath ? options.wasmPath : undefined
  this.ready = require('./loader').load(wasmPath ? { wasmPath: wasmPath } : {}).then(function (glue) {
    st.inner = new glue.Client(options == null ? {} : options, st.host)
    st.glue = glue
  }, function (e) {
    var msg = e && typeof e.message === 'string' ? e.message : String(e)
    st.failed = error('INTERNAL', 'the wasm module could not be loaded: ' + msg)
  }).then(function () {
    var waiting = st.waiting
    st.waiting = []
    for (var i = 0; i < waiting.length; i++) waiting[i].run()
    if (st.failed) throw copy(st.failed)
    return st.inner.ready
  }).then(function () {})
  this.ready.then(null, function () {}) // a client nobody awaits raises no unhandled rejection
}

// Run fn(inner) now, or once the wasm is loaded. When it could not be loaded, reject with
// INTERNAL (and, for a request, say so to the 'error' listeners). Gives { promise, entry }:
// `entry` is the place in the pre-ready queue (null when fn ran at once), for abort().
function later(st, fn, isRequest) {
  function failed() {
    var e = copy(st.failed)
    if (isRequest) st.events.emit('error', e)
    return e
  }
  if (st.inner) return { promise: fn(st.inner), entry: null }
  if (st.failed) return { promise: Promise.reject(failed()), entry: null }
  var entry = { run: null, reject: null }
  var p = new Promise(function (resolve, reject) {
    entry.reject = reject
    entry.run = function () {
      if (st.failed) reject(failed())
      else fn(st.inner).then(resolve, reject)
    }
  })
  st.waiting.push(entry)
  return { promise: p, entry: entry }
}

function nextId(st) {
  var id = st.nextId
  st.nextId = id >= 0xfffffffe ? 1 : id + 1
  return id
}

function submit(client, kind, opts) {
  var st = internals.get(client)
  var id = nextId(st)
  var fns = []
  if (kind !== 'request') st.progress[id] = fns
  var r = later(st, function (inner) { return inner.request(id, kind, opts) }, true)
  var entry = r.entry
  var p = r.promise
  if (kind !== 'request') {
    p = p.then(function (v) { delete st.progress[id]; return v }, function (e) { delete st.progress[id]; throw e })
    p.onProgressUpdate = function (fn) {
      if (typeof fn === 'function') fns.push(fn)
      return p
    }
  }
  p.abort = function () {
    if (st.inner) return st.inner.abort(id)
    var i = entry ? st.waiting.indexOf(entry) : -1
    if (i >= 0) {
      st.waiting.splice(i, 1)
      var e = error('ABORTED', 'the request was aborted')
      st.events.emit('error', e)
      entry.reject(e)
    }
  }
  return p
}

Client.prototype.request = function (opts) { return submit(this, 'request', opts) }
Client.prototype.upload = function (opts) { return submit(this, 'upload', opts) }
Client.prototype.download = function (opts) { return submit(this, 'download', opts) }

function shorthand(method) {
  return function (url, data, opts) {
    var o = {}
    if (opts !== null && typeof opts === 'object') for (var k in opts) if (Object.prototype.hasOwnProperty.call(opts, k)) o[k] = opts[k]
    o.url = url
    if (data !== undefined) o.data = data
    o.method = method
    return submit(this, 'request', o)
  }
}
Client.prototype.get = shorthand('GET')
Client.prototype.post = shorthand('POST')
Client.prototype.put = shorthand('PUT')
Client.prototype['delete'] = shorthand('DELETE')

Client.prototype.login = function () {
  var st = internals.get(this)
  var id = nextId(st)
  return later(st, function (inner) { return inner.login(id) }).promise
}

Client.prototype.setSession = function (tokenSet) {
  return later(internals.get(this), function (inner) { return inner.setSession(tokenSet) }).promise
}

Client.prototype.logout = function () {
  return later(internals.get(this), function (inner) { return inner.logout() }).promise
}

Client.prototype.session = function () {
  var st = internals.get(this)
  return st.inner ? st.inner.session() : { loggedIn: false, expiresAt: null }
}

Client.prototype.on = function (event, fn) {
  if (!Object.prototype.hasOwnProperty.call(EVENTS, event)) throw error('CONFIG', 'unknown event ' + String(event))
  if (typeof fn !== 'function') throw error('CONFIG', 'the listener must be a function')
  var listeners = internals.get(this).events.listeners
  var list = listeners[event] || (listeners[event] = [])
  list.push(fn)
  var on = true
  return function unsubscribe() {
    if (!on) return
    on = false
    var i = list.indexOf(fn)
    if (i >= 0) list.splice(i, 1)
  }
}

// Diagnostics for tests: bytes of wasm linear memory (0 before the wasm is loaded).
Object.defineProperty(Client.prototype, '_wasmMemoryBytes', {
  value: function () {
    var st = internals.get(this)
    return st.glue ? st.glue.memoryBytes() : 0
  }
})

function createClient(options) {
  return new Client(options)
}

module.exports = { createClient: createClient, Client: Client, TokenGateError: TokenGateError }
