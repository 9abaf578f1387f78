'use strict'
// The shared scenario of the runtime tests (Node vm sandbox and JavaScriptCore): plain ES5,
// no console, no Node API, so it runs as it is in both. Loaded with their small CommonJS
// loaders.
//
// A fake `wx` whose storage holds a session with an expired access token, and a fake server
// behind wx.request that accepts only the current token. 20 requests are made at once:
// exactly one refresh call must go out, no login, no request with the expired token, and all
// 20 must resolve with the server's body.

var BASE = 'https://api.example.com'
var STORAGE_KEY = 'tokengate:session'

function makeWx(now, delay) {
  var store = {}
  var stats = { refresh: 0, login: 0, platformLogin: 0, business: 0, wrongToken: 0, refreshBodies: [] }
  var current = { access: 'A-old', refresh: 'R-1' }
  store[STORAGE_KEY] = JSON.stringify({
    accessToken: 'A-old',
    refreshToken: 'R-1',
    expiresAt: now - 60 * 1000,
    lifetime: 3600 * 1000
  })

  function parse(data) {
    if (typeof data === 'string') {
      try { return JSON.parse(data) } catch (e) { return data }
    }
    return data
  }

  function headerValue(header, name) {
    if (!header) return undefined
    for (var k in header) {
      if (Object.prototype.hasOwnProperty.call(header, k) && k.toLowerCase() === name.toLowerCase()) return header[k]
    }
    return undefined
  }

  var wx = {
    request: function (o) {
      var done = false
      var timer = setTimeout(function () {
        if (done) return
        done = true
        var url = String(o.url)
        var res
        if (/\/auth\/refresh$/.test(url)) {
          stats.refresh++
          var body = parse(o.data)
          stats.refreshBodies.push(body)
          if (headerValue(o.header, 'Authorization') !== undefined) stats.refreshWithToken = true
          if (!body || body.refreshToken !== current.refresh) {
            res = { statusCode: 401, data: { error: 'invalid refresh token' } }
          } else {
            current = { access: 'A-new', refresh: 'R-2' }
            res = { statusCode: 200, data: { accessToken: 'A-new', refreshToken: 'R-2', expiresIn: 3600 } }
          }
        } else if (/\/auth\/login$/.test(url)) {
          stats.login++
          current = { access: 'A-login', refresh: 'R-login' }
          res = { statusCode: 200, data: { accessToken: 'A-login', refreshToken: 'R-login', expiresIn: 3600 } }
        } else {
          stats.business++
          if (headerValue(o.header, 'Authorization') === 'Bearer ' + current.access) {
            res = { statusCode: 200, data: { ok: true, url: url } }
          } else {
            stats.wrongToken++
            res = { statusCode: 401, data: { error: 'token expired' } }
          }
        }
        res.header = { 'Content-Type': 'application/json' }
        res.errMsg = 'request:ok'
        if (o.success) o.success(res)
        if (o.complete) o.complete(res)
      }, delay)
      return {
        abort: function () {
          if (done) return
          done = true
          clearTimeout(timer)
          var res = { errMsg: 'request:fail abort' }
          if (o.fail) o.fail(res)
          if (o.complete) o.complete(res)
        }
      }
    },
    login: function (o) {
      setTimeout(function () {
        stats.platformLogin++
        var res = { code: 'code-' + stats.platformLogin, errMsg: 'login:ok' }
        if (o && o.success) o.success(res)
        if (o && o.complete) o.complete(res)
      }, delay)
    },
    getStorageSync: function (key) {
      return Object.prototype.hasOwnProperty.call(store, key) ? store[key] : ''
    },
    setStorageSync: function (key, value) { store[key] = value },
    removeStorageSync: function (key) { delete store[key] },
    getAccountInfoSync: function () {
      return { miniProgram: { appId: 'wx0000000000000000', envVersion: 'release', version: '' } }
    }
  }
  return { wx: wx, stats: stats, store: store }
}

// tokengate: the package's exports; wx: from makeWx; report(err, summary) once.
function concurrentExpired(tokengate, fake, report) {
  var N = 20
  var finished = false
  function finish(err, summary) {
    if (finished) return
    finished = true
    report(err, summary)
  }
  var guard = setTimeout(function () {
    finish(new Error('timed out after 10 s; stats: ' + JSON.stringify(fake.stats)))
  }, 10000)

  var client
  try {
    client = tokengate.createClient({ baseURL: BASE })
  } catch (e) {
    clearTimeout(guard)
    finish(e)
    return
  }
  var calls = []
  for (var i = 0; i < N; i++) calls.push(client.get('/items/' + i))
  Promise.all(calls).then(function (bodies) {
    clearTimeout(guard)
    try {
      verify(bodies)
    } catch (e) {
      finish(e)
    }
  }, function (err) {
    clearTimeout(guard)
    finish(new Error('a request rejected: ' + (err && (err.code + ' ' + err.message)) + '; stats: ' + JSON.stringify(fake.stats)))
  })

  function verify(bodies) {
    var s = fake.stats
    var problems = []
    if (s.refresh !== 1) problems.push('expected exactly 1 refresh call, saw ' + s.refresh)
    if (s.login !== 0 || s.platformLogin !== 0) problems.push('expected no login, saw ' + s.login + ' login calls and ' + s.platformLogin + ' wx.login calls')
    if (s.wrongToken !== 0) problems.push(s.wrongToken + ' requests reached the server with a stale token')
    if (s.business !== N) problems.push('expected ' + N + ' business requests, saw ' + s.business)
    if (s.refreshWithToken) problems.push('the refresh call carried an Authorization header')
    if (!s.refreshBodies[0] || s.refreshBodies[0].refreshToken !== 'R-1') problems.push('the refresh body was ' + JSON.stringify(s.refreshBodies[0]))
    for (var j = 0; j < N; j++) {
      if (!bodies[j] || bodies[j].ok !== true || bodies[j].url !== BASE + '/items/' + j) {
        problems.push('request ' + j + ' resolved with ' + JSON.stringify(bodies[j]))
        break
      }
    }
    var stored = fake.store[STORAGE_KEY]
    if (!stored || typeof stored !== 'object' || stored.accessToken !== 'A-new' || stored.refreshToken !== 'R-2') {
      problems.push('the stored session was not rotated to the new tokens')
    }
    var info = client.session()
    if (!info || info.loggedIn !== true) problems.push('session() is ' + JSON.stringify(info))
    if (problems.length) finish(new Error(problems.join('; ')))
    else finish(null, N + ' concurrent requests, ' + s.refresh + ' refresh call, 0 logins, all resolved')
  }
}

module.exports = { makeWx: makeWx, concurrentExpired: concurrentExpired, BASE: BASE, STORAGE_KEY: STORAGE_KEY }
