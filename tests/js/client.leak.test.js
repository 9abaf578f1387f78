'use strict'
// Leak test: after 100,000 requests (with refreshes), wasm memory has not grown since the
// warm-up and the JS heap is back near where it started. Runs client.leak-run.js in a child
// with --expose-gc and prints its figures.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('child_process')
const path = require('path')

test('100,000 requests: wasm memory and JS heap back where they started', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'client.leak-run.js')], { encoding: 'utf8', timeout: 300000, env: process.env })
  assert.equal(r.status, 0, r.stderr)
  const line = r.stdout.trim().split('\n').pop()
  const f = JSON.parse(line)
  console.log('# leak figures: ' + line)
  assert.equal(f.requests, 100000)
  assert.ok(f.refreshes >= 9, 'refreshes ran during the run')
  assert.equal(f.wasmAfter, f.wasmBefore, 'wasm memory did not grow after the warm-up')
  assert.ok(f.heapGrowth < 5 * 1024 * 1024, 'JS heap growth ' + f.heapGrowth + ' B < 5 MB')
})
