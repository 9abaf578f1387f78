'use strict'
// One cold launch in a fresh Node process: require(dist) and createClient() -> ready, in ms.
//   node bench/node-ready.js <dist dir>   prints JSON { require, ready }
const { performance } = require('perf_hooks')
const { createPlatform, seed } = require('./fake')
const dist = process.argv[2]
const platform = createPlatform()
seed(platform, 'tokengate:session', false)
const t0 = performance.now()
const tg = require(dist)
const t1 = performance.now()
const client = tg.createClient({ platform, baseURL: 'https://api.example.com' })
client.ready.then(() => {
  const t2 = performance.now()
  process.stdout.write(JSON.stringify({ require: t1 - t0, ready: t2 - t1 }) + '\n')
}, (e) => { console.error(e); process.exit(1) })
