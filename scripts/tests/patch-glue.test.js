'use strict'
// The glue patcher: the real wasm-bindgen output patches and loads; any change of shape fails
// loudly instead of producing a half-patched glue.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { patchGlue, GluePatchError } = require('../patch-glue')

const ROOT = path.join(__dirname, '..', '..')
const WASM = path.join(ROOT, 'target', 'wasm32-unknown-unknown', 'release', 'tokengate.wasm')

// The real glue from wasm-bindgen, when the build has run on this machine.
function realGlue() {
  if (!fs.existsSync(WASM)) return null
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-glue-test-'))
  try {
    const r = spawnSync('wasm-bindgen', ['--target', 'nodejs', '--out-dir', out, '--out-name', 'tokengate', '--no-typescript', WASM], { encoding: 'utf8' })
    if (r.status !== 0) return null
    return fs.readFileSync(path.join(out, 'tokengate.js'), 'utf8')
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

const GLUE = realGlue()
const skip = GLUE ? false : 'no wasm in target/ or no wasm-bindgen (run npm run build)'

test('the real glue patches into CommonJS without Node or Web APIs', { skip }, () => {
  const out = patchGlue(GLUE)
  assert.match(out, /require\('\.\/polyfill\.js'\)/)
  assert.match(out, /exports\.__wbg_get_imports = __wbg_get_imports;/)
  assert.match(out, /exports\.__wbg_set_instance = __wbg_set_instance;/)
  assert.doesNotMatch(out, /readFileSync|new WebAssembly|__dirname|import\.meta/)
})

function mustFail(src, re) {
  assert.throws(() => patchGlue(src), (e) => e instanceof GluePatchError && re.test(e.message) && /update scripts\/patch-glue\.js/.test(e.message))
}

test('a changed tail fails loudly', { skip }, () => {
  mustFail(GLUE.replace('new WebAssembly.Instance(wasmModule, __wbg_get_imports())', 'new WebAssembly.Instance(wasmModule, imports)'), /tail/)
  mustFail(GLUE.replace("require('fs').readFileSync(wasmPath)", "require('fs').readFileSync(wasmPath, null)"), /tail/)
})

test('ES module output (another --target) fails loudly', { skip }, () => {
  mustFail('export function version() {}\n' + GLUE, /ES module/)
})

test('TextDecoder taken from util, or declared by the glue, fails loudly', { skip }, () => {
  mustFail("const { TextDecoder, TextEncoder } = require(`util`);\n" + GLUE, /declares TextEncoder|util/)
  mustFail(GLUE.replace('let cachedTextDecoder = new TextDecoder(', 'let cachedTextDecoder = new TextDecoder(1); let x = new TextDecoder('), /exactly one `new TextDecoder\(`/)
})

test('a second require or an eval left in the glue fails loudly', { skip }, () => {
  mustFail(GLUE.replace('function getObject(', "const os = require('os');\nfunction getObject("), /requires/)
  mustFail(GLUE.replace('function getObject(', 'const ev = eval;\nfunction getObject('), /eval/)
})

test('doc comments may mention fetch or WebAssembly', { skip }, () => {
  assert.doesNotThrow(() => patchGlue(GLUE.replace('function getObject(', '/** fetch the WebAssembly thing */\nfunction getObject(')))
})
