// The migration target: what replaces naive.js. Quoted in the migration section of
// README.md / README.zh-CN.md; tests/js/docs.test.js runs it through the races naive.js fails.
// #region after
const { createClient } = require('tokengate')

const client = createClient({
  platform: wx,
  baseURL: 'https://api.example.com', // was: BASE + opts.url
  // was: header: { Authorization: 'Bearer ' + wx.getStorageSync('token') }
  authHeader: 'Authorization',
  authScheme: 'Bearer',
  // was: if (res.statusCode !== 401) ...
  expiredWhen: { status: [401] },
  // was: refreshToken(): POST { refreshToken } to /auth/refresh, then save()
  refresh: { url: '/auth/refresh', field: 'refreshToken' },
  tokenFields: { accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: 'expiresIn' },
  // was: wx.login() + POST { code } to /auth/login when the refresh is rejected
  login: { url: '/auth/login' },
  // was: wx.setStorageSync('token' / 'refreshToken', ...)
  storageKey: 'tokengate:session'
})

// was: isRefreshing, subscribers and the replay: gone. Same signature as before.
function request (opts) {
  return client.request(opts)
}
// #endregion

module.exports = { request, client }
