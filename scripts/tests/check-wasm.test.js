'use strict'
// The wasm checker catches what the iOS engine rejects, and passes what it runs.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { check, parse, loadBinaryen } = require('../check-wasm')

async function wasm(wat) {
  const binaryen = await loadBinaryen()
  const m = binaryen.parseText(wat)
  try {
    m.setFeatures(binaryen.Features.All)
    return Buffer.from(m.emitBinary())
  } finally {
    m.dispose()
  }
}

test('an MVP module with functions and a memory passes', async () => {
  const bytes = await wasm('(module (memory 1) (func $f (param i32) (result i32) (local.get 0)) (export "f" (func $f)) (export "memory" (memory 0)))')
  assert.deepEqual(await check(bytes), [])
  assert.deepEqual(parse(bytes).exports, [{ name: 'f', kind: 'func' }, { name: 'memory', kind: 'memory' }])
})

test('an exported Global fails', async () => {
  const bytes = await wasm('(module (global $g (mut i32) (i32.const 0)) (export "__abort_handler" (global $g)))')
  const problems = await check(bytes)
  assert.ok(problems.some((p) => /exports a Global "__abort_handler"/.test(p)), problems.join('\n'))
})

test('multi-value fails', async () => {
  const bytes = await wasm('(module (func $f (result i32 i32) (i32.const 1) (i32.const 2)) (export "f" (func $f)))')
  const problems = await check(bytes)
  assert.ok(problems.length > 0)
  assert.ok(problems.some((p) => /binaryen|wasm-validate/.test(p)), problems.join('\n'))
})

test('reference types fail', async () => {
  const bytes = await wasm('(module (func $f (result funcref) (ref.null func)) (export "f" (func $f)))')
  const problems = await check(bytes)
  assert.ok(problems.length > 0)
})

test('SIMD (a feature outside the allowed set) fails', async () => {
  const bytes = await wasm('(module (func $f (result v128) (v128.const i32x4 0 0 0 0)) (export "f" (func $f)))')
  assert.ok((await check(bytes)).length > 0)
})

test('the built dist/tokengate_bg.wasm passes', { skip: !fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'tokengate_bg.wasm')) && 'dist/ not built' }, async () => {
  const bytes = fs.readFileSync(path.join(__dirname, '..', '..', 'dist', 'tokengate_bg.wasm'))
  assert.deepEqual(await check(bytes), [])
  assert.ok(!parse(bytes).exports.some((e) => e.kind === 'global'))
})
