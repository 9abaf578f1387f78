// The usual hand-written refresh snippet, quoted in the "why" and "migration" sections of
// README.md / README.zh-CN.md. It is here so that tests/js/docs.test.js can show each of its
// races against a fake server (and tokengate's migration.js surviving the same ones).
// Do not use it.
const BASE = 'https://api.example.com'

// #region before
let isRefreshing = false
let subscribers = []

function request (opts) {
  return new Promise((resolve, reject) => {
    wx.request(Object.assign({}, opts, {
      url: BASE + opts.url,
      header: { Authorization: 'Bearer ' + wx.getStorageSync('token') },
      success (res) {
        if (res.statusCode !== 401) return resolve(res.data)
        // queue a replay, then refresh unless a refresh is running
        subscribers.push(() => request(opts).then(resolve, reject))
        if (isRefreshing) return
        isRefreshing = true
        refreshToken().then(() => {
          isRefreshing = false
          subscribers.forEach((replay) => replay())
          subscribers = []
        })
      },
      fail: reject
    }))
  })
}

function refreshToken () {
  return new Promise((resolve) => {
    wx.request({
      url: BASE + '/auth/refresh',
      method: 'POST',
      data: { refreshToken: wx.getStorageSync('refreshToken') },
      success (res) {
        if (res.statusCode === 200) return resolve(save(res.data))
        // refresh token rejected: log in again
        wx.login({
          success ({ code }) {
            wx.request({
              url: BASE + '/auth/login',
              method: 'POST',
              data: { code },
              success: (r) => resolve(save(r.data))
            })
          }
        })
      }
    })
  })
}

function save (tokens) {
  wx.setStorageSync('token', tokens.accessToken)
  wx.setStorageSync('refreshToken', tokens.refreshToken)
}
// #endregion

module.exports = { request }
