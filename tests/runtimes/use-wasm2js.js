'use strict'
// node --require tests/runtimes/use-wasm2js.js: this process becomes a runtime without
// WebAssembly whose package was loaded through its wasm2js entry, so every client the tests
// create runs on the JavaScript build of the core (dist/tokengate_bg.wasm.js). The runtimes
// layer runs tests/js/client.test.js so: the JS build passes the same client tests as the
// wasm. TOKENGATE_DIST points elsewhere, as tests/js/client.fake.js reads it.
const path = require('path')

const DIST = process.env.TOKENGATE_DIST || path.join(__dirname, '..', '..', 'dist')
require(path.join(DIST, 'wasm2js.js')) // registers the JS build with the loader; evaluates nothing else
delete globalThis.WebAssembly // Node's own modules keep theirs (captured at startup)
