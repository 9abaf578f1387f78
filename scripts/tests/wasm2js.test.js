'use strict'
// The JS build (scripts/wasm2js.js): binaryen's wasm2js output becomes CommonJS
// `{ instantiate(imports) -> { exports } }`, and its memory keeps wasm's growth semantics for
// wasm-bindgen's glue: within the reserve the buffer stays the same; beyond it the old buffer
// is detached (the glue renews its views on byteLength 0), or the grow fails (-1) where the
// engine cannot detach; never a silent copy.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const vm = require('vm')
const { wasm2js, esModule, toCommonJs, JS_NAME } = require('../wasm2js')
const { loadBinaryen } = require('../check-wasm')

// One page of memory; grow/size/store/load exported, one import (wasm2js frames imports).
const WAT = `(module
  (import "./tokengate_bg.js" "note" (func $note (param i32)))
  (memory 1)
  (func $grow (param i32) (result i32) (memory.grow (local.get 0)))
  (func $size (result i32) (memory.size))
  (func $store (param i32 i32) (i32.store (local.get 0) (local.get 1)) (call $note (local.get 1)))
  (func $load (param i32) (result i32) (i32.load (local.get 0)))
  (export "memory" (memory 0))
  (export "grow" (func $grow))
  (export "size" (func $size))
  (export "store" (func $store))
  (export "load" (func $load)))`

let dir
test.before(async () => {
  const binaryen = await loadBinaryen()
  const m = binaryen.parseText(WAT)
  m.setFeatures(binaryen.Features.MVP)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-wasm2js-test-'))
  fs.writeFileSync(path.join(dir, 'tokengate_bg.wasm'), Buffer.from(m.emitBinary()))
  m.dispose()
  await wasm2js(dir, { reserve: 3 * 65536 }) // 3 pages reserved
})
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

// The generated module in a fresh context (with the host's structuredClone, which a vm
// context lacks); `setup` runs there first (to take an API away).
function instantiate(setup) {
  const module = { exports: {} }
  const ctx = vm.createContext({ module, exports: module.exports, structuredClone })
  if (setup) vm.runInContext(setup, ctx)
  vm.runInContext(fs.readFileSync(path.join(dir, JS_NAME), 'utf8'), ctx)
  const notes = []
  const inst = module.exports.instantiate({ './tokengate_bg.js': { note: (v) => notes.push(v) } })
  return { e: inst.exports, notes }
}

test('CommonJS with instantiate(imports) -> { exports }, reading the same import object as the wasm', () => {
  const { e, notes } = instantiate()
  assert.deepEqual(Object.keys(e).sort(), ['grow', 'load', 'memory', 'size', 'store'])
  e.store(8, 1234)
  assert.equal(e.load(8), 1234)
  assert.deepEqual(notes, [1234])
  assert.equal(e.size(), 1)
})

test('a grow within the reserve keeps the buffer (the glue\'s views stay valid)', () => {
  const { e } = instantiate()
  const before = e.memory.buffer
  const view = new Uint8Array(before)
  assert.equal(e.grow(2), 1)
  assert.equal(e.size(), 3)
  assert.equal(e.memory.buffer, before)
  e.store(2 * 65536 + 4, 77)
  assert.equal(view[2 * 65536 + 4], 77, 'an old view sees the write')
})

test('beyond the reserve the old buffer is detached, as wasm memory.grow leaves it', () => {
  const { e } = instantiate()
  e.store(16, 42)
  const before = e.memory.buffer
  const view = new Uint8Array(before)
  assert.equal(e.grow(3), 1)
  assert.equal(e.size(), 4)
  assert.notEqual(e.memory.buffer, before)
  assert.equal(view.byteLength, 0, 'the old view is detached: the glue renews it')
  assert.ok(e.memory.buffer.byteLength >= 4 * 65536)
  assert.equal(e.load(16), 42, 'the contents moved')
})

test('beyond the reserve, with neither ArrayBuffer.prototype.transfer nor structuredClone: -1, nothing moves', () => {
  const { e } = instantiate('delete ArrayBuffer.prototype.transfer; delete globalThis.structuredClone')
  e.store(16, 42)
  const before = e.memory.buffer
  assert.equal(e.grow(3), -1)
  assert.equal(e.size(), 1)
  assert.equal(e.memory.buffer, before)
  assert.equal(e.load(16), 42)
})

test('binaryen output of another shape is refused, not half-patched', async () => {
  const good = (await esModule(path.join(dir, 'tokengate_bg.wasm'))).src
  assert.ok(toCommonJs(good).code.includes('exports.instantiate'))
  assert.throws(() => toCommonJs(good.replace('function __wasm_memory_grow(pagesToAdd) {', 'function grow_memory(pagesToAdd) {')), /__wasm_memory_grow/)
  assert.throws(() => toCommonJs(good.replace(/^import \* as .*\n/m, '')), /import/)
  assert.throws(() => toCommonJs(good.replace('var retasmFunc = asmFunc(', 'var r = asmFunc(')), /retasmFunc/)
})
