'use strict'
// The baseline of `npm run bench`: the token gate a mini-program developer writes by hand
// (issue 7). An `isRefreshing` flag, a promise that waiters await, the token in storage,
// read on every request; a 401 refreshes once and replays. It has the usual races (see
// README, "The problem"); it is here only as the speed a hand-written gate costs.
function createBaseline(options) {
  var wx = options.platform
  var baseURL = options.baseURL || ''
  var key = options.storageKey || 'tokengate:session'
  var leeway = 60e3
  var isRefreshing = false
  var refreshPromise = null

  function call(o) {
    return new Promise(function (resolve, reject) {
      o.success = resolve
      o.fail = reject
      wx.request(o)
    })
  }

  function stored() {
    var raw = wx.getStorageSync(key)
    if (!raw) return null
    try { return typeof raw === 'string' ? JSON.parse(raw) : raw } catch (e) { return null }
  }

  function refresh() {
    if (isRefreshing) return refreshPromise
    isRefreshing = true
    var s = stored()
    refreshPromise = call({ url: baseURL + '/auth/refresh', method: 'POST', data: { refreshToken: s && s.refreshToken } })
      .then(function (res) {
        if (res.statusCode !== 200 || !res.data || !res.data.accessToken) throw new Error('refresh failed')
        var d = res.data
        wx.setStorageSync(key, {
          accessToken: d.accessToken,
          refreshToken: d.refreshToken || (s && s.refreshToken),
          expiresAt: Date.now() + d.expiresIn * 1000
        })
        return d.accessToken
      })
      .finally(function () { isRefreshing = false })
    return refreshPromise
  }

  function token() {
    var s = stored()
    if (s && s.accessToken && s.expiresAt - leeway > Date.now()) return Promise.resolve(s.accessToken)
    return refresh()
  }

  function send(opts, tok) {
    var header = Object.assign({}, opts.header, { Authorization: 'Bearer ' + tok })
    return call(Object.assign({}, opts, { url: baseURL + opts.url, header: header }))
  }

  function request(opts) {
    return token().then(function (tok) {
      return send(opts, tok).then(function (res) {
        if (res.statusCode !== 401) return res
        return refresh().then(function (t2) { return send(opts, t2) })
      })
    }).then(function (res) {
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error('HTTP ' + res.statusCode)
      return res.data
    })
  }

  return { request: request }
}

module.exports = { createBaseline: createBaseline }
