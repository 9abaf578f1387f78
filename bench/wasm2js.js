'use strict'
// What a request costs on the JavaScript build of the core (dist/tokengate_bg.wasm.js, binaryen
// wasm2js) next to the wasm build, for `npm run bench` and on its own:
//
//   node bench/wasm2js.js [--runs N] [--quick] [--no-jsc]
//
// Each build runs in its own Node `vm` context shaped like a mini-program (no WebAssembly; the
// wasm build gets a WXWebAssembly that instantiates dist/tokengate_bg.wasm, the JS build gets
// nothing and loads through dist/wasm2js.js), with bench/fake.js as the platform. Printed:
// microseconds per request (sequential, and concurrent in batches of 1,000; medians over the
// runs) and createClient -> ready. With jsc on PATH the same is measured in JavaScriptCore
// with the JIT off (bench/jsc-request.js), as iOS runs mini-programs.
const fs = require('fs')
const path = require('path')
const vm = require('vm')
const { spawnSync } = require('child_process')
const { performance } = require('perf_hooks')

const ROOT = path.resolve(__dirname, '..')
const DIST = path.join(ROOT, 'dist')
const BASE = 'https://api.example.com'
const REAL_WEBASSEMBLY = WebAssembly

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// dist/ loaded in a fresh context: `kind` 'wasm' (WXWebAssembly over the real engine) or
// 'wasm2js' (no WebAssembly of any kind; the wasm2js entry).
function loadPackage(kind) {
  const sandbox = { console, setTimeout, clearTimeout, setInterval, clearInterval }
  if (kind === 'wasm') {
    sandbox.WXWebAssembly = {
      instantiate: (p, imports) => REAL_WEBASSEMBLY.instantiate(fs.readFileSync(path.join(DIST, 'tokengate_bg.wasm')), imports),
    }
  }
  const ctx = vm.createContext(sandbox)
  vm.runInContext('delete globalThis.WebAssembly', ctx)
  const cache = new Map()
  function load(file) {
    if (cache.has(file)) return cache.get(file).exports
    const module = { exports: {} }
    cache.set(file, module)
    const fn = vm.runInContext(`(function (require, module, exports) {${fs.readFileSync(file, 'utf8')}\n})`, ctx, { filename: file })
    fn.call(module.exports, (id) => load(path.join(path.dirname(file), /\.js$/.test(id) ? id : id + '.js')), module, module.exports)
    return module.exports
  }
  const t0 = performance.now()
  const tg = load(path.join(DIST, kind === 'wasm' ? 'index.js' : 'wasm2js.js'))
  return { tg, requireMs: performance.now() - t0 }
}

async function measure(kind, { runs, n, batch }) {
  const { createPlatform, seed } = require('./fake')
  const { tg, requireMs } = loadPackage(kind)
  const platform = createPlatform()
  seed(platform, 'tokengate:session', false)
  const t0 = performance.now()
  const client = tg.createClient({ platform, baseURL: BASE })
  await client.ready
  const readyMs = performance.now() - t0
  const seq = async () => {
    const t = performance.now()
    for (let i = 0; i < n; i++) await client.request({ url: '/api/item' })
    return ((performance.now() - t) * 1000) / n
  }
  const conc = async () => {
    const t = performance.now()
    const ps = new Array(batch)
    for (let done = 0; done < n; done += batch) {
      for (let i = 0; i < batch; i++) ps[i] = client.request({ url: '/api/item' })
      await Promise.all(ps)
    }
    return ((performance.now() - t) * 1000) / n
  }
  await seq()
  await conc() // warm-up
  const s = []
  const c = []
  for (let r = 0; r < runs; r++) {
    s.push(await seq())
    c.push(await conc())
  }
  if (platform.count.api < n * (2 * runs + 2)) throw new Error(`${kind}: only ${platform.count.api} requests reached the platform`)
  return { sequential: median(s), concurrent: median(c), readyMs, requireMs }
}

// The same in jsc --useJIT=false: { wasm: { sequential, ready }, wasm2js: {...} } or { error }.
function measureJsc(n) {
  const out = {}
  for (const kind of ['wasm', 'wasm2js']) {
    const r = spawnSync('jsc', ['--useJIT=false', path.join(__dirname, 'jsc-request.js'), '--', DIST, __dirname, kind, String(n)], { encoding: 'utf8', timeout: 300000 })
    if (r.error) return { error: r.error.code === 'ENOENT' ? 'no jsc on PATH' : r.error.message }
    const line = (r.stdout || '').trim().split('\n').pop()
    try {
      out[kind] = JSON.parse(line)
    } catch (_) {
      return { error: `${kind}: ${line || (r.stderr || '').trim().split('\n')[0]}` }
    }
  }
  return out
}

async function benchWasm2js(argv = []) {
  if (!fs.existsSync(path.join(DIST, 'tokengate_bg.wasm.js'))) throw new Error('dist/tokengate_bg.wasm.js is missing: run `npm run build`')
  const quick = argv.includes('--quick')
  const ri = argv.indexOf('--runs')
  const runs = ri >= 0 ? Math.max(1, Number(argv[ri + 1]) || 5) : quick ? 3 : 5
  const n = quick ? 2000 : 10000
  const opts = { runs, n, batch: 1000 }
  const wasm = await measure('wasm', opts)
  const js = await measure('wasm2js', opts)
  const jsc = argv.includes('--no-jsc') ? null : measureJsc(quick ? 200 : 1000)
  return { runs, n, wasm, js, jsc }
}

function format(r) {
  const f = (x) => x.toFixed(2)
  const lines = [
    `per request, Node vm context (${r.n} requests, ${r.runs} runs, medians): ` +
      `wasm ${f(r.wasm.sequential)} µs sequential / ${f(r.wasm.concurrent)} µs concurrent; ` +
      `wasm2js ${f(r.js.sequential)} / ${f(r.js.concurrent)} µs (${f(r.js.sequential / r.wasm.sequential)}x / ${f(r.js.concurrent / r.wasm.concurrent)}x)`,
    `createClient -> ready, Node (warm process): wasm ${f(r.wasm.readyMs)} ms; wasm2js ${f(r.js.readyMs)} ms (require ${f(r.js.requireMs)} ms)`,
  ]
  if (r.jsc && r.jsc.error) lines.push(`jsc --useJIT=false: n/a (${r.jsc.error})`)
  else if (r.jsc) {
    lines.push(`per request, jsc --useJIT=false (${r.jsc.wasm.n} sequential requests): wasm ${f(r.jsc.wasm.perRequest)} µs; ` +
      `wasm2js ${f(r.jsc.wasm2js.perRequest)} µs (${f(r.jsc.wasm2js.perRequest / r.jsc.wasm.perRequest)}x); ` +
      `ready: wasm ${f(r.jsc.wasm.ready)} ms, wasm2js ${f(r.jsc.wasm2js.ready)} ms (require ${f(r.jsc.wasm2js.require)} ms)`)
  }
  return lines
}

module.exports = { benchWasm2js, format }

if (require.main === module) {
  benchWasm2js(process.argv.slice(2)).then((r) => {
    for (const l of format(r)) console.log(l)
  }, (e) => {
    console.error(e && e.stack ? e.stack : e)
    process.exitCode = 1
  })
}
