'use strict'
// Runs tests/jsc/harness.js in JavaScriptCore with the JIT off (as on iOS) against dist/,
// prints its output, and fails unless it closes with "jsc: N passed, 0 failed".
//   node tests/jsc/run.js [dist dir]
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const dist = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'dist'))
const harness = path.join(__dirname, 'harness.js')
const scenario = path.resolve(__dirname, '..', 'sandbox', 'scenario.js')
const cjs = path.join(__dirname, 'cjs.js')

if (!fs.existsSync(path.join(dist, 'index.js'))) {
  console.error(`jsc: ${dist} is not built (run npm run build)`)
  process.exit(1)
}
const r = spawnSync('jsc', ['--useJIT=false', harness, '--', dist, scenario, cjs], { encoding: 'utf8', timeout: 120000 })
if (r.error) {
  console.error(`jsc: could not run jsc (${r.error.code === 'ENOENT' ? 'not installed: apt-get install libjavascriptcoregtk-4.0-bin, or npm run setup' : r.error.message})`)
  process.exit(1)
}
process.stdout.write(r.stdout)
process.stderr.write(r.stderr)
const m = r.stdout.match(/^jsc: (\d+) passed, (\d+) failed$/m)
if (r.status !== 0 || !m || Number(m[2]) !== 0 || Number(m[1]) === 0) {
  console.error(`jsc: FAILED (exit ${r.status === null ? r.signal : r.status}${m ? '' : ', no closing summary line'})`)
  process.exit(1)
}
