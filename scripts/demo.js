'use strict'
// npm run demo: builds dist/ when it is missing or older than its sources, then runs the
// example mini-program's demo (example-miniprogram/demo/run.js) against the local auth server.
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const { ROOT, log, fail, main } = require('./lib')
const { build } = require('./build')

const DEMO = path.join(ROOT, 'example-miniprogram', 'demo', 'run.js')
const INPUTS = ['src', 'js', 'Cargo.toml', 'Cargo.lock', '.cargo', 'package-lock.json', 'scripts/build.js', 'scripts/patch-glue.js', 'scripts/check-wasm.js']

function newest(p) {
  if (!fs.existsSync(p)) return 0
  const st = fs.statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  return fs.readdirSync(p).reduce((m, f) => Math.max(m, newest(path.join(p, f))), st.mtimeMs)
}

async function demo(argv) {
  const stamp = path.join(ROOT, 'dist', 'tokengate_glue.js')
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0
  const src = Math.max(...INPUTS.map((p) => newest(path.join(ROOT, p))))
  if (argv.includes('--build') || src > built) {
    log(built ? 'demo: dist/ is older than its sources; building' : 'demo: dist/ is not built; building')
    await build([])
  } else {
    log('demo: dist/ is up to date')
  }
  if (!fs.existsSync(DEMO)) {
    fail('the demo is not there yet: example-miniprogram/demo/run.js is missing (it belongs to the example mini-program)')
  }
  // The example server's dev routes (/__dev/code, /__admin/*) are off unless turned on; the
  // demo needs them (run.js also asks for them itself).
  const env = Object.assign({}, process.env, { TOKENGATE_EXAMPLE_DEV: '1' })
  const r = spawnSync(process.execPath, [DEMO, ...argv.filter((a) => a !== '--build')], { cwd: ROOT, stdio: 'inherit', env })
  if (r.error) fail(`could not run the demo: ${r.error.message}`)
  return r.status === null ? 1 : r.status
}

if (require.main === module) main(() => demo(process.argv.slice(2)))
