'use strict'
// TokenGateError: every rejection of the client is one of these (docs/API.md, "Errors").
// Messages never contain a token: they are built from fixed text, codes and server-given
// error messages only.

var MESSAGES = {
  NETWORK: 'the transport failed',
  TIMEOUT: 'the request timed out',
  HTTP: 'the server answered with an error status',
  BUSINESS: 'the server answered with a business error',
  UNAUTHORIZED: 'the access token was rejected again after a fresh token was obtained',
  LOGIN_REQUIRED: 'the session cannot be restored without the user',
  ABORTED: 'the request was aborted',
  CONFIG: 'bad options or a bad URL',
  INTERNAL: 'tokengate stopped after an internal failure'
}

function TokenGateError(code, message, extra) {
  var msg = message || MESSAGES[code] || String(code)
  var self
  if (this instanceof TokenGateError) {
    self = this
  } else {
    self = Object.create(TokenGateError.prototype)
  }
  var base = new Error(msg)
  self.message = msg
  if (base.stack) self.stack = 'TokenGateError: ' + msg + String(base.stack).replace(/^[^\n]*/, '')
  self.code = code
  if (extra) {
    for (var k in extra) {
      if (Object.prototype.hasOwnProperty.call(extra, k) && extra[k] !== undefined) self[k] = extra[k]
    }
  }
  return self
}
TokenGateError.prototype = Object.create(Error.prototype, {
  constructor: { value: TokenGateError, writable: true, configurable: true }
})
TokenGateError.prototype.name = 'TokenGateError'

module.exports = { TokenGateError: TokenGateError, MESSAGES: MESSAGES }
