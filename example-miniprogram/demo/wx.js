'use strict'
// A `wx` for running the example mini-program in Node:
//   * request really goes over HTTP (node:http), with wx.request's shape: `success` for every
//     HTTP status, `fail` only for transport errors / timeout / abort, a RequestTask with
//     abort(); as in WeChat, request, uploadFile and downloadFile share a limit of 10 tasks
//     in flight, and a call made while 10 are in flight fails at once
//     (`request:fail exceed max task count`) instead of waiting;
//   * login gives a fresh single-use code, minted by the server's dev endpoint (a stand-in
//     for the WeChat servers: the auth server exchanges it as it would with code2Session);
//   * storage persists to a JSON file, so a session survives a relaunch of the runner;
//   * navigation is handed to the runtime (runtime.js).

const http = require('node:http')
const https = require('node:https')
const fs = require('node:fs')
const path = require('node:path')

const MAX_CONCURRENT = 10

function later (fn) { setImmediate(fn) }

// The body wx.request sends for header['content-type'] application/x-www-form-urlencoded, as
// WeChat documents it: encodeURIComponent(k)=encodeURIComponent(v) joined with '&', over the
// object's own keys in order, each value turned into text by encodeURIComponent itself.
// Copied from the repository's tests/oidc/form.js (encodeForm, isFormContentType) so that the
// example mini-program stays self-contained; keep the two alike.
function encodeForm (data) {
  return Object.keys(data)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(data[k])}`)
    .join('&')
}

// The content-type header in any letter case, parameters such as '; charset=utf-8' allowed.
function isFormContentType (header) {
  for (const name of Object.keys(header)) {
    if (name.toLowerCase() !== 'content-type') continue
    const type = String(header[name]).split(';')[0].trim().toLowerCase()
    if (type === 'application/x-www-form-urlencoded') return true
  }
  return false
}

function call (opts, name, arg) {
  if (opts && typeof opts[name] === 'function') {
    try { opts[name](arg) } catch (e) { process.nextTick(() => { throw e }) }
  }
}

function settle (opts, ok, res) {
  later(() => {
    call(opts, ok ? 'success' : 'fail', res)
    call(opts, 'complete', res)
  })
}

class FileStorage {
  constructor (file) {
    this.file = file
    this.data = {}
    if (file) {
      try {
        const v = JSON.parse(fs.readFileSync(file, 'utf8'))
        if (v && typeof v === 'object' && !Array.isArray(v)) this.data = v
      } catch (_) { /* missing or unreadable: empty storage */ }
    }
  }

  flush () {
    if (!this.file) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 })
    fs.renameSync(tmp, this.file)
  }

  get (key) { return Object.prototype.hasOwnProperty.call(this.data, key) ? this.data[key] : '' }
  set (key, value) {
    if (value === undefined) throw new Error('setStorageSync:fail parameter error: data is undefined')
    this.data[key] = JSON.parse(JSON.stringify(value))
    this.flush()
  }

  remove (key) { delete this.data[key]; this.flush() }
  clear () { this.data = {}; this.flush() }
}

/**
 * @param {object} o
 * @param {string} o.codeURL       the server's POST endpoint that mints a login code
 * @param {string} [o.openid]      the WeChat user this "device" belongs to
 * @param {string} [o.storageFile] where storage persists
 * @param {object} [o.extConfig]   what wx.getExtConfigSync() returns
 * @param {(ev) => void} [o.onWire] told about every request on the wire, when it ends
 * @param {object} [o.nav]         { navigateTo, navigateBack, redirectTo, reLaunch }
 * @param {(line: string) => void} [o.note] for toasts and the like
 * @param {number} [o.maxConcurrent] tasks in flight at once (default 10, as in WeChat); a
 *   request/uploadFile/downloadFile past it fails with '<api>:fail exceed max task count'
 */
function createWx (o) {
  const storage = new FileStorage(o.storageFile)
  const agent = new http.Agent({ keepAlive: true })
  const onWire = o.onWire || (() => {})
  const nav = o.nav || {}
  const note = o.note || (() => {})
  const maxConcurrent = Number(o.maxConcurrent) > 0 ? Math.floor(Number(o.maxConcurrent)) : MAX_CONCURRENT
  // Tasks in flight: a task counts from its call until its callbacks have been called, so a
  // caller that starts a new task from a success/fail/complete callback finds the slot free,
  // and one that starts it right after abort() (before the fail callback) does not.
  let active = 0
  let exceeded = 0
  let seq = 0
  const faults = { loginFail: false }

  /** WeChat's limit: true (and `fail` called) when `maxConcurrent` tasks are in flight. */
  function overLimit (api, opts) {
    if (active < maxConcurrent) return false
    exceeded++
    settle(opts, false, { errMsg: `${api}:fail exceed max task count` })
    return true
  }

  function encodeBody (method, data, header) {
    if (data == null) return null
    if (method === 'GET' || method === 'HEAD') return null
    if (Buffer.isBuffer(data)) return data
    if (data instanceof ArrayBuffer) return Buffer.from(data)
    if (typeof data === 'string') return Buffer.from(data)
    if (isFormContentType(header)) return Buffer.from(encodeForm(data))
    return Buffer.from(JSON.stringify(data))
  }

  function request (opts) {
    opts = opts || {}
    const id = ++seq
    const method = String(opts.method || 'GET').toUpperCase()
    const header = Object.assign({}, opts.header)
    if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) header['content-type'] = 'application/json'
    let url
    try {
      url = new URL(String(opts.url))
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol')
    } catch (_) {
      settle(opts, false, { errMsg: 'request:fail invalid url' })
      return { abort () {}, onHeadersReceived () {}, offHeadersReceived () {} }
    }
    if ((method === 'GET' || method === 'HEAD') && opts.data != null && typeof opts.data === 'object') {
      for (const [k, v] of Object.entries(opts.data)) if (v !== undefined) url.searchParams.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v))
    }
    if (overLimit('request', opts)) return { abort () {}, onHeadersReceived () {}, offHeadersReceived () {}, onChunkReceived () {}, offChunkReceived () {} }
    const body = encodeBody(method, opts.data, header)
    const timeout = Number(opts.timeout) > 0 ? Number(opts.timeout) : 60000
    const wire = { id, method, url: url.href, path: url.pathname + url.search, reqHeader: header, reqBody: opts.data, queuedAt: Date.now() }
    let req = null
    let timer = null
    let finished = false
    let aborted = false
    active++

    const finish = (ok, res) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      wire.endedAt = Date.now()
      if (ok) { wire.statusCode = res.statusCode; wire.resBody = res.data } else wire.errMsg = res.errMsg
      try { onWire(wire) } catch (_) {}
      // The slot is given back as the callbacks run, not before.
      later(() => {
        active--
        call(opts, ok ? 'success' : 'fail', res)
        call(opts, 'complete', res)
      })
    }

    const start = () => {
      if (finished) return // aborted before it started
      wire.startedAt = Date.now()
      const h = Object.assign({}, header)
      if (body) h['content-length'] = body.length
      const lib = url.protocol === 'https:' ? https : http
      req = lib.request(url, { method, headers: h, agent: url.protocol === 'http:' ? agent : undefined }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', (e) => finish(false, { errMsg: `request:fail ${e.code || e.message}` }))
        res.on('end', () => {
          const buf = Buffer.concat(chunks)
          let data
          if (opts.responseType === 'arraybuffer') data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)
          else {
            data = buf.toString('utf8')
            if ((opts.dataType || 'json') === 'json') { try { data = JSON.parse(data) } catch (_) {} }
          }
          finish(true, { data, statusCode: res.statusCode, header: Object.assign({}, res.headers), cookies: [], errMsg: 'request:ok' })
        })
      })
      req.on('error', (e) => finish(false, { errMsg: `request:fail ${aborted ? 'abort' : (e.code || e.message)}` }))
      timer = setTimeout(() => {
        finish(false, { errMsg: 'request:fail timeout' })
        req.destroy()
      }, timeout)
      req.end(body || undefined)
    }

    later(start)
    return {
      abort () {
        if (finished) return
        aborted = true
        finish(false, { errMsg: 'request:fail abort' })
        if (req) req.destroy()
      },
      onHeadersReceived () {},
      offHeadersReceived () {},
      onChunkReceived () {},
      offChunkReceived () {}
    }
  }

  function login (opts) {
    opts = opts || {}
    if (faults.loginFail) return settle(opts, false, { errMsg: 'login:fail network error' })
    const payload = Buffer.from(JSON.stringify({ openid: o.openid || 'openid-demo' }))
    const req = http.request(o.codeURL, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        let code = null
        try { code = JSON.parse(Buffer.concat(chunks).toString('utf8')).code } catch (_) {}
        if (res.statusCode === 200 && typeof code === 'string') settle(opts, true, { code, errMsg: 'login:ok' })
        else settle(opts, false, { errMsg: `login:fail ${res.statusCode}` })
      })
    })
    req.on('error', (e) => settle(opts, false, { errMsg: `login:fail ${e.code || e.message}` }))
    req.end(payload)
  }

  const wx = {
    request,
    login,
    checkSession (opts) { settle(opts, true, { errMsg: 'checkSession:ok' }) },
    getStorageSync: (key) => storage.get(key),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: (key) => storage.remove(key),
    clearStorageSync: () => storage.clear(),
    getStorageInfoSync: () => ({ keys: Object.keys(storage.data), currentSize: 0, limitSize: 10240 }),
    getStorage (opts) { settle(opts, true, { data: storage.get(opts.key), errMsg: 'getStorage:ok' }) },
    setStorage (opts) { storage.set(opts.key, opts.data); settle(opts, true, { errMsg: 'setStorage:ok' }) },
    removeStorage (opts) { storage.remove(opts.key); settle(opts, true, { errMsg: 'removeStorage:ok' }) },
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
    getExtConfigSync: () => Object.assign({}, o.extConfig),
    getSystemInfoSync: () => ({ platform: 'devtools', SDKVersion: '3.3.4', system: 'node', language: 'en' }),
    // Not carried out here, but held to the same limit: past it they fail as WeChat's do.
    uploadFile (opts) {
      if (!overLimit('uploadFile', opts)) settle(opts, false, { errMsg: 'uploadFile:fail not available in the headless runner' })
      return { abort () {}, onProgressUpdate () {}, offProgressUpdate () {} }
    },
    downloadFile (opts) {
      if (!overLimit('downloadFile', opts)) settle(opts, false, { errMsg: 'downloadFile:fail not available in the headless runner' })
      return { abort () {}, onProgressUpdate () {}, offProgressUpdate () {} }
    },
    navigateTo (opts) { return navCall('navigateTo', opts) },
    redirectTo (opts) { return navCall('redirectTo', opts) },
    reLaunch (opts) { return navCall('reLaunch', opts) },
    switchTab (opts) { return navCall('reLaunch', opts) },
    navigateBack (opts) { return navCall('navigateBack', opts || {}) },
    stopPullDownRefresh () {},
    showToast (opts) { note(`toast: ${opts && opts.title}`); settle(opts, true, { errMsg: 'showToast:ok' }) },
    showLoading (opts) { settle(opts, true, { errMsg: 'showLoading:ok' }) },
    hideLoading (opts) { settle(opts, true, { errMsg: 'hideLoading:ok' }) },
    showModal (opts) { note(`modal: ${opts && opts.title}`); settle(opts, true, { confirm: true, cancel: false, errMsg: 'showModal:ok' }) },
    // runner controls, not part of wx
    __faults: faults,
    __tasks: () => active, // request/uploadFile/downloadFile tasks in flight
    __exceeded: () => exceeded, // calls failed with 'exceed max task count'
    __close () { agent.destroy() },
    __storage: storage
  }

  function navCall (kind, opts) {
    if (typeof nav[kind] !== 'function') return settle(opts, false, { errMsg: `${kind}:fail not supported` })
    Promise.resolve().then(() => nav[kind](opts || {})).then(
      () => settle(opts, true, { errMsg: `${kind}:ok` }),
      (e) => settle(opts, false, { errMsg: `${kind}:fail ${e && e.message}` })
    )
  }

  return wx
}

module.exports = { createWx, FileStorage, MAX_CONCURRENT }
