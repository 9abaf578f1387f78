'use strict'
// The JavaScript build of the core in JavaScriptCore with the JIT off (tests/runtimes/jsc-wasm2js.js):
// no WebAssembly of any kind, the package through its wasm2js entry, tests/sandbox/scenario.js.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { spawnSync } = require('child_process')
const { DIST } = require('../frameworks/lib/install')

test('jsc --useJIT=false, no WebAssembly: the JS build runs the concurrent expired-token scenario', (t) => {
  const r = spawnSync('jsc', ['--useJIT=false', path.join(__dirname, 'jsc-wasm2js.js'), '--', DIST, path.join(__dirname, '..', 'sandbox', 'scenario.js'), path.join(__dirname, '..', 'jsc', 'cjs.js')], { encoding: 'utf8', timeout: 120000 })
  if (r.error) throw new Error(r.error.code === 'ENOENT' ? 'jsc is not installed (apt-get install libjavascriptcoregtk-4.0-bin, or npm run setup)' : r.error.message)
  for (const line of r.stdout.trim().split('\n')) t.diagnostic(line)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^jsc: [1-9]\d* passed, 0 failed$/m, r.stdout + r.stderr)
})
