'use strict'
// npm test: installs what is missing (scripts/setup.js), builds dist/, runs every test layer,
// prints each runner's own output (and so its summary line) and a table at the end; exits
// non-zero when any layer fails. Every layer runs even after an earlier one failed, except
// those that need dist/ when the build failed.
//
//   npm test                       all layers
//   npm test -- cargo sandbox      only the named layers (the build runs when one needs dist/)
//
// Layers: pipeline (scripts/tests), cargo (native core), wasm (wasm-pack test --node, when
// tests/wasm_*.rs exist), js (node --test tests/js and tests/oidc), types (tests/types/run.js:
// tsc on the shipped declarations), sandbox (mini-program vm), jsc (JavaScriptCore, JIT off),
// runtimes (the sandbox as Douyin, Alipay and WeChat < 2.13; the JS build of the core in jsc and
// under tests/js/client.test.js), frameworks (miniprogram-ci, Taro and uni-app builds run in the
// sandbox; their tools are installed from npm on first use into tests/frameworks/<app>/).
const fs = require('fs')
const path = require('path')
const { spawn } = require('child_process')
const { ROOT, log, fail, main } = require('./lib')
const setup = require('./setup')
const { build } = require('./build')

const LAYERS = ['pipeline', 'cargo', 'wasm', 'js', 'types', 'sandbox', 'jsc', 'runtimes', 'frameworks']
const NEEDS_DIST = new Set(['js', 'types', 'sandbox', 'jsc', 'runtimes', 'frameworks'])

function listTests(dir, re) {
  const abs = path.join(ROOT, dir)
  if (!fs.existsSync(abs)) return []
  return fs.readdirSync(abs).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f))
}

// Runs a command with its stdout passed through as it comes (and kept, to count tests);
// stdin and stderr are the terminal's.
function exec(cmd, args, env) {
  process.stdout.write(`[tokengate] $ ${[cmd, ...args].join(' ')}\n`)
  return new Promise((resolve) => {
    let out = ''
    let child
    try {
      child = spawn(cmd, args, { cwd: ROOT, stdio: ['inherit', 'pipe', 'inherit'], env: env || process.env })
    } catch (e) {
      resolve({ ok: false, note: `could not run ${cmd}: ${e.message}`, out })
      return
    }
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk)
      out += chunk
    })
    child.on('error', (e) => resolve({ ok: false, note: `could not run ${cmd}: ${e.message}`, out }))
    child.on('close', (code, signal) => {
      resolve({ ok: code === 0, note: code === 0 ? '' : `exit ${code === null ? signal : code}`, out })
    })
  })
}

// Tests counted from the runners' own summary lines: cargo / wasm-bindgen-test
// ("test result: ok. N passed; M failed"), node --test (TAP "# pass N" / spec "ℹ pass N"),
// and the JavaScriptCore harness ("jsc: N passed, M failed").
function countTests(out) {
  let passed = 0
  let failed = 0
  let found = false
  const add = (p, f) => { passed += Number(p); failed += Number(f); found = true }
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) add(m[1], m[2])
  const tapPass = [...out.matchAll(/^# pass (\d+)$/gm)]
  const tapFail = [...out.matchAll(/^# fail (\d+)$/gm)]
  tapPass.forEach((m, i) => add(m[1], tapFail[i] ? tapFail[i][1] : 0))
  const specPass = [...out.matchAll(/^ℹ pass (\d+)$/gm)]
  const specFail = [...out.matchAll(/^ℹ fail (\d+)$/gm)]
  specPass.forEach((m, i) => add(m[1], specFail[i] ? specFail[i][1] : 0))
  for (const m of out.matchAll(/^jsc: (\d+) passed, (\d+) failed$/gm)) add(m[1], m[2])
  return found ? { passed, failed } : null
}

function nodeTest(files) {
  // Node's own runner: spec report on a terminal, TAP otherwise; both close with pass/fail counts.
  return exec(process.execPath, ['--test', ...files])
}

const RUN = {
  pipeline() {
    const files = listTests('scripts/tests', /\.test\.js$/)
    if (!files.length) return { skip: 'no scripts/tests/*.test.js' }
    return nodeTest(files)
  },
  cargo() {
    // Native build of the core with the default cargo (rustup's), no wasm flags.
    return exec('cargo', ['test'])
  },
  wasm(ctx) {
    const files = listTests('tests', /^wasm_.*\.rs$/)
    if (!files.length) return { skip: 'no tests/wasm_*.rs yet' }
    setup.ensure(['wasm-pack'])
    // Only the wasm_* test targets run under Node. wasm-pack still compiles every test target
    // and the dev-dependencies for wasm32 first (`cargo build --tests`): native-only tests
    // must compile there (or be `#![cfg(not(target_arch = "wasm32"))]`), and proptest's
    // getrandom gets a backend from .cargo/config.toml.
    const select = files.flatMap((f) => ['--test', path.basename(f, '.rs')])
    return exec('wasm-pack', ['test', '--node', '--mode', 'no-install', '--', ...select], ctx.toolchain.env)
  },
  js() {
    // tests/oidc: the authorization server (oidc-provider) that tests/js/oidc.test.js runs against
    const files = listTests('tests/js', /\.test\.js$/).concat(listTests('tests/oidc', /\.test\.js$/))
    if (!files.length) return { skip: 'no tests/js/*.test.js' }
    return nodeTest(files)
  },
  types() {
    // tests/types/run.js: dist/index.d.ts type-checks good.ts and rejects bad.ts (tsc).
    if (!fs.existsSync(path.join(ROOT, 'tests', 'types', 'run.js'))) return { skip: 'no tests/types/run.js' }
    return exec(process.execPath, [path.join('tests', 'types', 'run.js')])
  },
  sandbox() {
    return nodeTest(listTests('tests/sandbox', /\.test\.js$/))
  },
  jsc() {
    return exec(process.execPath, [path.join('tests', 'jsc', 'run.js')])
  },
  async runtimes() {
    const a = await nodeTest(listTests('tests/runtimes', /\.test\.js$/))
    // The client tests again, every client on the JS build (tests/runtimes/use-wasm2js.js);
    // less the one about a wasm file that cannot be loaded, which the JS build never reads
    // (Node 20 has no --test-skip-pattern; the pattern lets the runner's root, "<root>", pass).
    const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${JSON.stringify(path.join(ROOT, 'tests', 'runtimes', 'use-wasm2js.js'))}`.trim() }
    const b = await exec(process.execPath, ['--test', '--test-name-pattern=^(?!a wasm that cannot be loaded|<root>)', path.join('tests', 'js', 'client.test.js')], env)
    return { ok: a.ok && b.ok, note: [a.note, b.note && `client tests on the JS build: ${b.note}`].filter(Boolean).join('; '), out: a.out + b.out }
  },
  frameworks() {
    return nodeTest(listTests('tests/frameworks', /\.test\.js$/))
  },
}

async function test(argv) {
  const only = argv.filter((a) => !a.startsWith('-'))
  const bad = only.filter((l) => !LAYERS.includes(l))
  if (bad.length) fail(`unknown layer(s) ${bad.join(', ')}; layers: ${LAYERS.join(', ')}`)
  const layers = only.length ? LAYERS.filter((l) => only.includes(l)) : LAYERS
  const t0 = Date.now()
  const results = []

  const parts = ['node', 'rust', 'wabt', 'wasm-bindgen']
  if (layers.includes('jsc') || layers.includes('runtimes')) parts.push('jsc')
  if (layers.includes('wasm') && listTests('tests', /^wasm_.*\.rs$/).length) parts.push('wasm-pack')
  const ctx = setup.ensure(parts)

  let built = true
  if (layers.some((l) => NEEDS_DIST.has(l))) {
    process.stdout.write('\n[tokengate] ==> build\n')
    const t = Date.now()
    try {
      await build([], ctx)
      results.push({ layer: 'build', status: 'ok', secs: (Date.now() - t) / 1000 })
    } catch (e) {
      built = false
      process.stderr.write(`[tokengate] build FAILED: ${e.message}\n`)
      results.push({ layer: 'build', status: 'FAILED', secs: (Date.now() - t) / 1000, note: e.message.split('\n')[0] })
    }
  }

  for (const layer of layers) {
    process.stdout.write(`\n[tokengate] ==> ${layer}\n`)
    const t = Date.now()
    let r
    if (NEEDS_DIST.has(layer) && !built) r = { ok: false, note: 'not run: the build failed' }
    else {
      try {
        r = await RUN[layer](ctx)
      } catch (e) {
        r = { ok: false, note: e.message.split('\n')[0] }
      }
    }
    const status = r.skip ? 'skipped' : r.ok ? 'ok' : 'FAILED'
    if (r.skip) process.stdout.write(`[tokengate] ${layer}: skipped (${r.skip})\n`)
    const counts = r.out ? countTests(r.out) : null
    results.push({ layer, status, secs: (Date.now() - t) / 1000, note: r.skip || r.note || '', counts })
  }

  const failed = results.filter((r) => r.status === 'FAILED')
  process.stdout.write('\n[tokengate] test layers:\n')
  let passed = 0
  let failedTests = 0
  for (const r of results) {
    const c = r.counts ? `${r.counts.passed} passed, ${r.counts.failed} failed` : ''
    process.stdout.write(`  ${r.layer.padEnd(10)} ${r.status.padEnd(8)} ${r.secs.toFixed(1).padStart(6)} s  ${c.padEnd(22)} ${r.note || ''}\n`)
    if (r.counts) {
      passed += r.counts.passed
      failedTests += r.counts.failed
    }
    // A layer that failed without a failing test (a build error, a crash) counts as one.
    if (r.status === 'FAILED' && !(r.counts && r.counts.failed)) failedTests += 1
  }
  const total = ((Date.now() - t0) / 1000).toFixed(1)
  if (failed.length) log(`npm test FAILED: ${failed.map((r) => r.layer).join(', ')} (${total} s)`)
  else log(`npm test passed: ${results.filter((r) => r.status === 'ok').length} layers ok, ${results.filter((r) => r.status === 'skipped').length} skipped (${total} s)`)
  process.stdout.write(`total: ${passed} passed, ${failedTests} failed\n`)
  return failed.length ? 1 : 0
}

if (require.main === module) main(() => test(process.argv.slice(2)))
