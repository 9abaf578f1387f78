'use strict'
// Run by client.leak.test.js as `node --expose-gc client.leak-run.js`: 100,000 requests
// through one client (with a token refresh every 10,000), then the wasm memory and the JS
// heap against their figures after a warm-up. Also times the per-request overhead of the
// client over calling the same fake platform directly. Prints one JSON line.
const path = require('path')
const DIST = process.env.TOKENGATE_DIST || path.join(__dirname, '..', '..', 'dist')
const { createClient } = require(DIST)

const TOTAL = Number(process.env.LEAK_TOTAL || 100000)
const BATCH = Number(process.env.LEAK_BATCH || 500)

let valid = 'acc-0'
let n = 0
const storage = {}
const ok = { statusCode: 200, header: {}, data: { ok: true } }
const unauthorized = { statusCode: 401, header: {}, data: {} }
const task = { abort() {} }
const wx = {
  request(o) {
    let res
    if (o.url.endsWith('/auth/refresh') || o.url.endsWith('/auth/login')) {
      n++
      valid = 'acc-' + n
      res = { statusCode: 200, header: {}, data: { accessToken: valid, refreshToken: 'ref-' + n, expiresIn: 3600 } }
    } else {
      res = o.header.Authorization === 'Bearer ' + valid ? ok : unauthorized
    }
    Promise.resolve().then(() => o.success(res))
    return task
  },
  login(o) { Promise.resolve().then(() => o.success({ code: 'c' })) },
  getStorageSync(k) { return storage[k] || '' },
  setStorageSync(k, v) { storage[k] = v },
  removeStorageSync(k) { delete storage[k] }
}

function gc() {
  for (let i = 0; i < 4; i++) global.gc()
}

async function run(client, count) {
  for (let done = 0; done < count; done += BATCH) {
    if (done > 0 && done % 10000 === 0) valid = 'expired' // the next requests get 401 -> one refresh
    const ps = new Array(BATCH)
    for (let i = 0; i < BATCH; i++) ps[i] = client.get('/item')
    await Promise.all(ps)
  }
}

// The same number of calls to the fake platform, promise-wrapped, without tokengate.
async function baseline(count) {
  const t0 = process.hrtime.bigint()
  for (let done = 0; done < count; done += BATCH) {
    const ps = new Array(BATCH)
    for (let i = 0; i < BATCH; i++) {
      ps[i] = new Promise((resolve, reject) => {
        wx.request({ url: 'https://api.example.com/item', header: { Authorization: 'Bearer ' + valid }, success: (r) => resolve(r.data), fail: reject })
      })
    }
    await Promise.all(ps)
  }
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function main() {
  const client = createClient({ platform: wx, baseURL: 'https://api.example.com' })
  await client.ready
  // Warm-up through two refresh bursts (at 10,000 and 20,000): the queue of requests waiting
  // for a token and the maxConcurrent backlog reach their high-water marks there, and the
  // allocator settles after the second (with one burst, memory still grew by 2 pages once,
  // whatever the number of requests after it: 20,000 or 300,000).
  await run(client, 25000)
  gc()
  const wasm0 = client._wasmMemoryBytes()
  const heap0 = process.memoryUsage().heapUsed
  const refresh0 = n
  const t0 = process.hrtime.bigint()
  await run(client, TOTAL)
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  gc()
  const wasm1 = client._wasmMemoryBytes()
  const heap1 = process.memoryUsage().heapUsed
  const base = await baseline(TOTAL)
  console.log(JSON.stringify({
    requests: TOTAL,
    refreshes: n - refresh0,
    wasmBefore: wasm0,
    wasmAfter: wasm1,
    heapBefore: heap0,
    heapAfter: heap1,
    heapGrowth: heap1 - heap0,
    clientMs: Math.round(ms),
    baselineMs: Math.round(base),
    usPerRequest: +((ms * 1000) / TOTAL).toFixed(3),
    overheadUsPerRequest: +(((ms - base) * 1000) / TOTAL).toFixed(3)
  }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
