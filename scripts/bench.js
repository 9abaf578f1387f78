'use strict'
// npm run bench: what tokengate costs per request, at launch and in memory, side by side with
// calling the platform directly and with a hand-written pure-JS gate (bench/baseline.js).
// Issue 7. Medians of RUNS runs in this one process (cold launches in child processes).
//
//   node scripts/bench.js [--runs N] [--quick]   (--quick: fewer requests, for a smoke run)
//
// Every request goes to bench/fake.js, a platform that answers on the next microtask with
// 200 (and a valid token set for login/refresh). "Overhead" is (time per request through the
// gate) - (time per request calling platform.request directly, wrapped in a promise), both
// measured in the same round; the figure is the median over the rounds.
const fs = require('fs')
const path = require('path')
const v8 = require('v8')
const vm = require('vm')
const { spawnSync } = require('child_process')
const { performance } = require('perf_hooks')
const { ROOT, main, fail } = require('./lib')
const { createPlatform, seed } = require('../bench/fake')
const { createBaseline } = require('../bench/baseline')

const DIST = path.join(ROOT, 'dist')
const BENCH = path.join(ROOT, 'bench')
const BASE = 'https://api.example.com'
const KEY = 'tokengate:session'
const BASE_KEY = 'baseline:session'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))

async function newClient(tg, expired) {
  const platform = createPlatform()
  seed(platform, KEY, expired)
  const client = tg.createClient({ platform, baseURL: BASE })
  await client.ready
  return { client, platform }
}

function newBaseline(expired) {
  const platform = createPlatform()
  seed(platform, BASE_KEY, expired, true)
  return { client: createBaseline({ platform, baseURL: BASE, storageKey: BASE_KEY }), platform }
}

function directCaller() {
  const platform = createPlatform()
  const url = BASE + '/api/item'
  return {
    request() {
      return new Promise((resolve, reject) => {
        platform.request({ url, success: (res) => resolve(res.data), fail: reject })
      })
    },
  }
}

async function sequential(c, n) {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await c.request({ url: '/api/item' })
  return performance.now() - t0
}

async function concurrent(c, n, batch) {
  const t0 = performance.now()
  const ps = new Array(batch)
  for (let done = 0; done < n; done += batch) {
    for (let i = 0; i < batch; i++) ps[i] = c.request({ url: '/api/item' })
    await Promise.all(ps)
  }
  return performance.now() - t0
}

async function perRequest(tg, runs, n, batch) {
  const kinds = {
    direct: directCaller(),
    tokengate: (await newClient(tg, false)).client,
    baseline: newBaseline(false).client,
  }
  const out = {}
  for (const mode of ['sequential', 'concurrent']) {
    const f = mode === 'sequential' ? (c) => sequential(c, n) : (c) => concurrent(c, n, batch)
    for (const k of Object.keys(kinds)) await f(kinds[k]) // warm-up
    const per = { direct: [], tokengate: [], baseline: [] }
    const over = { tokengate: [], baseline: [], ratio: [] }
    const order = Object.keys(kinds)
    for (let r = 0; r < runs; r++) {
      const t = {}
      for (let j = 0; j < order.length; j++) {
        const k = order[(j + r) % order.length] // rotate, so no kind always runs first
        gc()
        t[k] = ((await f(kinds[k])) * 1000) / n
        per[k].push(t[k])
      }
      over.tokengate.push(t.tokengate - t.direct)
      over.baseline.push(t.baseline - t.direct)
      over.ratio.push((t.tokengate - t.direct) / (t.baseline - t.direct))
    }
    out[mode] = {
      direct: median(per.direct),
      tokengate: median(per.tokengate),
      baseline: median(per.baseline),
      overTokengate: median(over.tokengate),
      overBaseline: median(over.baseline),
      ratio: median(over.ratio),
    }
  }
  return out
}

async function expiredBurst(tg, runs, n) {
  const res = { tokengate: { ms: [], refresh: [] }, baseline: { ms: [], refresh: [] } }
  for (let r = 0; r < runs; r++) {
    for (const k of ['tokengate', 'baseline']) {
      const { client, platform } = k === 'tokengate' ? await newClient(tg, true) : newBaseline(true)
      gc()
      const t0 = performance.now()
      const ps = []
      for (let i = 0; i < n; i++) ps.push(client.request({ url: '/api/item' }))
      await Promise.all(ps)
      res[k].ms.push(performance.now() - t0)
      res[k].refresh.push(platform.count.refresh + platform.count.login)
    }
  }
  return {
    tokengate: { ms: median(res.tokengate.ms), refresh: res.tokengate.refresh },
    baseline: { ms: median(res.baseline.ms), refresh: res.baseline.refresh },
  }
}

async function memory(tg, total, first, batch) {
  const glue = require(path.join(DIST, 'tokengate_glue.js'))
  const { client } = await newClient(tg, false)
  const snap = () => {
    gc()
    return { wasm: glue.memoryBytes(), heap: process.memoryUsage().heapUsed }
  }
  const before = snap()
  await concurrent(client, first, batch)
  const afterFirst = snap()
  await concurrent(client, total - first, batch)
  const after = snap()
  return { before, afterFirst, after }
}

function cold(cmd, args, runs) {
  const rows = []
  for (let r = 0; r < runs; r++) {
    const p = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000 })
    if (p.error || p.status !== 0) return { error: p.error ? p.error.code || p.error.message : (p.stderr || p.stdout).trim().split('\n')[0] }
    const line = p.stdout.trim().split('\n').pop()
    try { rows.push(JSON.parse(line)) } catch (e) { return { error: line } }
  }
  return { require: median(rows.map((x) => x.require)), ready: median(rows.map((x) => x.ready)) }
}

async function bench(argv) {
  if (!fs.existsSync(path.join(DIST, 'index.js'))) fail('dist/ is not built: run `npm run build`')
  const quick = argv.includes('--quick')
  const ri = argv.indexOf('--runs')
  const runs = ri >= 0 ? Math.max(1, Number(argv[ri + 1]) || 5) : quick ? 3 : 5
  const N = quick ? 2000 : 20000
  const BATCH = 1000
  const tg = require(DIST)

  const nodeReady = cold(process.execPath, [path.join(BENCH, 'node-ready.js'), DIST], runs)
  const jscReady = cold('jsc', ['--useJIT=false', path.join(BENCH, 'jsc-ready.js'), '--', DIST, BENCH], runs)
  const per = await perRequest(tg, runs, N, BATCH)
  const burst = await expiredBurst(tg, runs, 1000)
  const mem = await memory(tg, quick ? 10000 : 100000, 1000, BATCH)
  const js = await require('../bench/wasm2js').benchWasm2js(quick ? ['--quick'] : ['--runs', String(runs)]) // the JS build (wasm2js)

  const kb = (b) => (b / 1024).toFixed(1) + ' KiB'
  const mb = (b) => (b / 1048576).toFixed(2) + ' MiB'
  const rows = [
    ['measure', 'tokengate', 'baseline', 'tokengate / baseline', 'target'],
    ['---', '---', '---', '---', '---'],
  ]
  for (const mode of ['sequential', 'concurrent']) {
    const m = per[mode]
    const what = mode === 'sequential' ? `${N} sequential requests` : `${N} concurrent requests (batches of ${BATCH})`
    rows.push([`overhead per request, ${what} (µs; direct call: ${fmt(m.direct)} µs)`, fmt(m.overTokengate), fmt(m.overBaseline), fmt(m.ratio), '≤ 2 µs, ≤ 1.2'])
  }
  const readyCell = (r) => (r.error ? `n/a (${r.error})` : `${fmt(r.ready, 1)} (require ${fmt(r.require, 1)})`)
  rows.push(['createClient → ready, Node, cold process (ms)', readyCell(nodeReady), '0 (no setup)', '', '≤ 10 ms'])
  rows.push(['createClient → ready, jsc --useJIT=false, cold (ms)', readyCell(jscReady), '0 (no setup)', '', '≤ 50 ms'])
  rows.push(['1,000 requests with an expired token: all settled (ms)', fmt(burst.tokengate.ms, 1), fmt(burst.baseline.ms, 1), fmt(burst.tokengate.ms / burst.baseline.ms), ''])
  rows.push(['… refresh/login calls per run', burst.tokengate.refresh.join(' '), burst.baseline.refresh.join(' '), '', '1'])
  const total = quick ? 10000 : 100000
  rows.push([`wasm memory: after ready → after 1,000 → after ${total.toLocaleString('en')} requests`, `${kb(mem.before.wasm)} → ${kb(mem.afterFirst.wasm)} → ${kb(mem.after.wasm)}`, '', '', 'no growth after 1,000'])
  rows.push([`JS heap (after gc): same points`, `${mb(mem.before.heap)} → ${mb(mem.afterFirst.heap)} → ${mb(mem.after.heap)}`, '', '', ''])
  rows.push([`per request on the JS build (wasm2js), sequential / concurrent, Node vm context (µs; the wasm there: ${fmt(js.wasm.sequential)} / ${fmt(js.wasm.concurrent)})`, `${fmt(js.js.sequential)} / ${fmt(js.js.concurrent)}`, '', `${fmt(js.js.sequential / js.wasm.sequential)} / ${fmt(js.js.concurrent / js.wasm.concurrent)} × the wasm`, ''])
  if (js.jsc && !js.jsc.error) rows.push([`per request on the JS build, jsc --useJIT=false, sequential (µs; the wasm there: ${fmt(js.jsc.wasm.perRequest)})`, fmt(js.jsc.wasm2js.perRequest), '', `${fmt(js.jsc.wasm2js.perRequest / js.jsc.wasm.perRequest)} × the wasm`, ''])
  console.log(`tokengate bench: Node ${process.version}, ${runs} runs, medians; ${new Date().toISOString().slice(0, 10)}`)
  console.log('')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
  const bad = []
  if (!burst.tokengate.refresh.every((x) => x === 1)) bad.push('the expired-token burst did not make exactly one refresh call')
  if (mem.after.wasm > mem.afterFirst.wasm) bad.push(`wasm memory grew after the first 1,000 requests: ${mem.afterFirst.wasm} -> ${mem.after.wasm} B`)
  if (bad.length) fail(bad.join('; '))
}

if (require.main === module) main(() => bench(process.argv.slice(2)))
module.exports = { bench }
