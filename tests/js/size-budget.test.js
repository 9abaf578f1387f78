'use strict'
// The shipped-size budget (issue 7): the brotli total of what a mini-program loads from dist/
// (every JS file and the .wasm.br; see scripts/size.js) must not grow past BUDGET. Bytes, not
// time: no flakiness. Raise the budget only with a README "Size" entry saying what bought it.
const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const path = require('path')
const { measure, BUDGET, BUDGET_TARGET } = require('../../scripts/size')

const DIST = process.env.TOKENGATE_DIST || path.join(__dirname, '..', '..', 'dist')

test('the mini-program package (JS + .wasm.br, brotli) stays within the size budget', (t) => {
  assert.ok(fs.existsSync(path.join(DIST, 'index.js')), 'dist/ is not built: run `npm run build`')
  assert.ok(fs.existsSync(path.join(DIST, 'tokengate_bg.wasm.br')), 'dist/ has no tokengate_bg.wasm.br')
  const { rows, miniProgram } = measure(DIST)
  const detail = rows.filter((r) => r.role === 'mini-program').map((r) => `${r.rel} ${r.br} B`).join(', ')
  assert.ok(miniProgram <= BUDGET, `shipped ${miniProgram} B brotli > budget ${BUDGET} B (${detail})`)
  if (miniProgram > BUDGET_TARGET) {
    t.diagnostic(`shipped ${miniProgram} B brotli: ${miniProgram - BUDGET_TARGET} B over the ${BUDGET_TARGET} B target`)
  }
})

test('the JS in dist/ is minified (readable sources stay in js/)', () => {
  const client = fs.readFileSync(path.join(DIST, 'client.js'), 'utf8')
  const src = fs.readFileSync(path.join(__dirname, '..', '..', 'js', 'client.js'), 'utf8')
  assert.ok(client.length < src.length * 0.8, `dist/client.js is ${client.length} B, js/client.js ${src.length} B`)
})
