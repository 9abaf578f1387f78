'use strict'
// The platform fake of `npm run bench`: wx's request/login/storage shapes, answering every
// request on the next microtask (as fast as an answer can be without being synchronous).
// Business requests get 200 { ok: true }; /auth/login and /auth/refresh give a fresh token
// set valid for `expiresIn` seconds. No token is checked: the token is always valid.
var RES = { statusCode: 200, data: { ok: true }, header: {} }
var TASK = { abort: function () {} }
// jsc and iOS have no queueMicrotask.
var defer = typeof queueMicrotask === 'function' ? queueMicrotask : function (fn) { Promise.resolve().then(fn) }

function createPlatform(opts) {
  var expiresIn = (opts && opts.expiresIn) || 3600
  var storage = new Map()
  var count = { login: 0, refresh: 0, api: 0 }
  var n = 0
  function tokenSet() {
    n++
    return { statusCode: 200, header: {}, data: { accessToken: 'acc-' + n, refreshToken: 'ref-' + n, expiresIn: expiresIn } }
  }
  var platform = {
    count: count,
    storage: storage,
    request: function (o) {
      var url = o.url
      var res
      if (/\/auth\/refresh$/.test(url)) { count.refresh++; res = tokenSet() }
      else if (/\/auth\/login$/.test(url)) { count.login++; res = tokenSet() }
      else { count.api++; res = RES }
      defer(function () { o.success(res) })
      return TASK
    },
    login: function (o) { defer(function () { o.success({ code: 'code-' + (++n), errMsg: 'login:ok' }) }) },
    getStorageSync: function (k) { var v = storage.get(k); return v === undefined ? '' : v },
    setStorageSync: function (k, v) { storage.set(k, v) },
    removeStorageSync: function (k) { storage.delete(k) }
  }
  return platform
}

// A stored session the client reads at launch: valid for an hour, or already expired.
// `asObject`: stored as the object itself (what a hand-written gate does with wx storage).
function seed(platform, key, expired, asObject) {
  var now = Date.now()
  var s = { accessToken: 'acc-seed', refreshToken: 'ref-seed', expiresAt: expired ? now - 1000 : now + 3600e3, lifetime: 3600e3 }
  platform.storage.set(key, asObject ? s : JSON.stringify(s))
  return s
}

module.exports = { createPlatform: createPlatform, seed: seed }
