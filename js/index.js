'use strict'
// The CommonJS entry of tokengate (docs/API.md). The polyfills (TextEncoder/TextDecoder
// for wasm-bindgen's glue on runtimes without them) must be installed before anything else.
require('./polyfill')

var client = require('./client')

module.exports = {
  createClient: client.createClient,
  TokenGateError: client.TokenGateError
}
