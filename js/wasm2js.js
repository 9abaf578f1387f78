'use strict'
// The package with the JavaScript build of its core, for runtimes that have no WebAssembly on
// their main thread: Alipay (MYWebAssembly runs in workers only), WeChat base libraries before
// 2.13 (no WXWebAssembly). Same exports as the main entry:
//
//   const { createClient } = require('tokengate/wasm2js')            // after "build npm"
//   const { createClient } = require('tokengate/dist/wasm2js.js')    // node_modules, bundlers
//
// Where WXWebAssembly, TTWebAssembly or WebAssembly is there, the loader still uses the wasm and
// tokengate_bg.wasm.js is never evaluated (its require below runs only when the loader falls
// through to it). A package that is loaded through the main entry only never references
// tokengate_bg.wasm.js, so a bundler leaves it out and "build npm" output can drop it
// (packOptions.ignore, or the devtools' filtering of unused files).
var tokengate = require('./index.js')

require('./loader.js').useJsBuild(function () {
  return require('./tokengate_bg.wasm.js')
})

module.exports = tokengate
