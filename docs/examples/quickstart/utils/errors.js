// The five-minute start, file 2 of 3: utils/errors.js, what a page does with each error code.
// Quoted in README.md and README.zh-CN.md; tests/js/docs.test.js calls it with every code.
// #region errors
// utils/errors.js: one place that turns a TokenGateError into what the user sees.
// Returns the text shown, or null when nothing should be shown.
function showError (err) {
  let title = null
  switch (err && err.code) {
    case 'ABORTED': // the page aborted the request itself (onUnload): nothing to say
    case 'LOGIN_REQUIRED': // the 'loginRequired' listener already opened the login page
      return null
    case 'NETWORK': // no connection, DNS, TLS, cut connection
    case 'TIMEOUT': // the request (or the refresh it waited for) took too long
      title = 'Network problem, pull down to retry'
      break
    case 'BUSINESS': // your server's envelope code: its message is meant for users
      title = err.message || 'Something went wrong'
      break
    case 'HTTP': // 4xx/5xx that is not a token rejection; err.statusCode, err.data
      title = err.statusCode >= 500 ? 'Server busy, try again later' : 'Request refused'
      break
    case 'UNAUTHORIZED': // rejected even with a brand-new token: a permission problem
      title = 'You do not have access to this'
      break
    default: // CONFIG: a bug in the options or the URL; fix it in development
      console.error(err)
      title = 'Something went wrong'
  }
  wx.showToast({ title, icon: 'none' })
  return title
}

module.exports = { showError }
// #endregion
