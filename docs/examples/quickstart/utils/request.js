// The five-minute start, file 1 of 3: utils/request.js of a mini-program.
// Quoted in README.md and README.zh-CN.md; tests/js/docs.test.js runs it with a fake wx.
// #region request
// utils/request.js: the one client of the whole mini-program
const { createClient } = require('tokengate')

const client = createClient({
  baseURL: 'https://api.example.com'
  // platform defaults to wx; login POSTs { code } to /auth/login and
  // refresh POSTs { refreshToken } to /auth/refresh (see the options table)
})

// Silent login failed, or the server ended the session: the user has to log in.
// Fires once, however many requests were waiting.
client.on('loginRequired', () => {
  wx.navigateTo({ url: '/pages/login/login' })
})

module.exports = client
// #endregion
