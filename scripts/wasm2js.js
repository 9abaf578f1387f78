'use strict'
// The JavaScript build of the core: the optimized wasm turned into plain JS by binaryen's
// wasm2js (the tool in the npm `binaryen` package, node_modules/binaryen/bin/wasm2js), for
// runtimes that have no WebAssembly on their main thread (Alipay: MYWebAssembly runs in
// workers only; WeChat base libraries before 2.13: no WXWebAssembly). Same core, same glue,
// no second implementation: js/loader.js hands it the glue's import object and gives the
// glue an instance-like `{ exports }`.
//
//   wasm2js(dir) reads <dir>/tokengate_bg.wasm, writes <dir>/tokengate_bg.wasm.js
//   node scripts/wasm2js.js <in.wasm> <out.js>
//
// What the generated module looks like:
//
//   module.exports = { instantiate(imports) -> { exports } }   // imports: __wbg_get_imports()
//
// wasm2js writes an ES module (`import * as X from './tokengate_bg.js'`, `export var ...`);
// that frame is replaced by the CommonJS one above, and the memory is patched:
//
// * wasm2js grows memory by copying into a new ArrayBuffer and leaves the old one intact.
//   wasm-bindgen's glue caches a Uint8Array of the memory and renews it only when that view's
//   byteLength is 0 (a detached buffer, which is what a real wasm memory.grow leaves). With
//   wasm2js's growth the glue would keep writing strings into the old copy after the
//   allocator grew the memory. So the JS build reserves RESERVE bytes up front and a grow
//   within them only moves the page count (views stay valid); beyond them the buffer is moved
//   with ArrayBuffer.prototype.transfer or structuredClone's transfer, which detach the old
//   buffer as wasm does, and where the engine has neither the grow fails (-1), which the
//   core's allocator turns into a trap, never into a silent write to a stale copy.
// * memory.size answers the pages the module has grown to, not the reserved bytes.
//
// Every shape relied on is asserted; a binaryen version that writes something else fails the
// build here instead of shipping a half-patched module.
const fs = require('fs')
const os = require('os')
const path = require('path')
const vm = require('vm')
const { spawnSync } = require('child_process')
const { ROOT, log, fail } = require('./lib')
const checkWasm = require('./check-wasm')

const WASM_NAME = 'tokengate_bg.wasm'
const JS_NAME = 'tokengate_bg.wasm.js'
const TOOL = path.join(ROOT, 'node_modules', 'binaryen', 'bin', 'wasm2js')
// Reserved memory: the module's initial memory (17 pages: 1 MiB of stack, then data) plus
// heap. npm run bench measured 30 pages (1,920 KiB) after ready and the same after 10,000
// requests (2026-12-02; the core before the serde boundary: 19 pages); 8 MiB (128 pages) leaves
// four times that. Past it the memory still grows where the engine can detach a buffer
// (ArrayBuffer.prototype.transfer: iOS 17.4+, Node 21+; structuredClone: Node 17+); older
// engines then trap instead.
const RESERVE = 8 * 1024 * 1024

// binaryen feature names (check-wasm's) -> wasm2js flags.
const FLAGS = {
  MutableGlobals: '--enable-mutable-globals',
  SignExt: '--enable-sign-ext',
  BulkMemory: '--enable-bulk-memory',
  BulkMemoryOpt: '--enable-bulk-memory-opt',
  NontrappingFPToInt: '--enable-nontrapping-float-to-int',
}

function expect(cond, what) {
  if (!cond) {
    fail(`wasm2js: binaryen's output no longer has the expected shape: ${what}. ` +
      'Look at the output of node_modules/binaryen/bin/wasm2js and update scripts/wasm2js.js.')
  }
}

function count(src, re) {
  return (src.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')) || []).length
}

// ES module from wasm2js -> CommonJS `{ instantiate(imports) }` with the memory patched.
function toCommonJs(src, { reserve = RESERVE } = {}) {
  // The frame: one namespace import, asmFunc, the call, the exports.
  const imp = src.match(/^import \* as (\$?[\w$]+) from '([^']+)';\n/m)
  expect(imp && count(src, /^import /m) === 1, 'one `import * as X from "..."` line')
  expect(count(src, /^function asmFunc\(imports\) \{$/m) === 1, 'one `function asmFunc(imports) {`')
  const call = src.indexOf('\nvar retasmFunc = asmFunc(')
  expect(call > 0, 'the `var retasmFunc = asmFunc({...})` call')
  expect(/^export var memory = retasmFunc\.memory;$/m.test(src.slice(call)), 'an exported memory')
  let body = src.slice(0, call).replace(imp[0], '')
  expect(body.includes(`imports["${imp[2]}"]`), `asmFunc reads imports["${imp[2]}"]`)
  expect(!/^\s*(import|export)\s/m.test(body), 'no other import/export statement')

  // The memory: one buffer, memory.size from its byteLength, grow by copying.
  const init = body.match(/^ var buffer = new ArrayBuffer\((\d+)\);$/m)
  expect(init && count(body, /^ var buffer = new ArrayBuffer\(\d+\);$/m) === 1, 'one `var buffer = new ArrayBuffer(N)` in asmFunc')
  const initial = Number(init[1])
  expect(initial % 65536 === 0, 'initial memory in whole pages')
  const size = /^ function __wasm_memory_size\(\) \{\n  return buffer\.byteLength >> 16;\n \}$/m
  expect(size.test(body), '__wasm_memory_size() returning buffer.byteLength >> 16')
  const grow = body.match(/^ function __wasm_memory_grow\(pagesToAdd\) \{\n[\s\S]*?\n  return oldPages;\n \}$/m)
  expect(grow, '__wasm_memory_grow(pagesToAdd) { ... return oldPages; }')
  const views = [...grow[0].matchAll(/^ {3}(HEAP\w+) = new (\w+Array)\(newBuffer\);$/gm)].map((m) => [m[1], m[2]])
  expect(views.length >= 2 && views.some((v) => v[0] === 'HEAPU8'), 'the grow renews the HEAP* views (HEAPU8 among them)')
  expect(/^ {3}var newBuffer = new ArrayBuffer\(/m.test(grow[0]) && /^ {3}buffer = newBuffer;$/m.test(grow[0]),
    'the grow copies into a new ArrayBuffer and sets buffer')
  // bufferView (the view the data segments are written through) exists when there are some.
  const bufferView = /^ {3}bufferView = HEAPU8;$/m.test(grow[0])
  expect(!/[^.\w]buffer = /.test(body.replace(grow[0], '').replace(init[0], '')), 'no other assignment of buffer')
  const maxPages = 65535

  const reserved = Math.max(initial, Math.ceil(reserve / 65536) * 65536)
  body = body.replace(init[0], ` var __tg_pages = ${initial / 65536};\n var buffer = new ArrayBuffer(${reserved});`)
  body = body.replace(size, ' function __wasm_memory_size() {\n  return __tg_pages;\n }')
  body = body.replace(grow[0], [
    ' function __wasm_memory_grow(pagesToAdd) {',
    '  pagesToAdd = pagesToAdd | 0;',
    '  var oldPages = __tg_pages;',
    '  var newPages = oldPages + pagesToAdd;',
    `  if (pagesToAdd < 0 || newPages > ${maxPages}) return -1;`,
    '  if (newPages * 65536 > buffer.byteLength) {',
    '   var newBuffer = __tg_move(buffer, Math.min(Math.max(newPages * 65536, buffer.byteLength * 2), ' + maxPages * 65536 + '));',
    '   if (!newBuffer) return -1;',
    ...views.map(([name, type]) => `   ${name} = new ${type}(newBuffer);`),
    '   buffer = newBuffer;',
    ...(bufferView ? ['   bufferView = HEAPU8;'] : []),
    '  }',
    '  __tg_pages = newPages;',
    '  return oldPages;',
    ' }',
  ].join('\n'))

  const header = [
    '// Generated by scripts/wasm2js.js from tokengate_bg.wasm (binaryen wasm2js). Do not edit.',
    '// The JavaScript build of the core, for runtimes without WebAssembly on their main thread;',
    '// loaded by ./loader.js only there (see ./wasm2js.js). instantiate(imports) -> { exports }.',
    '',
  ].join('\n')
  const move = [
    '',
    '// The memory outgrew its reserve: a new buffer with the contents, the old one detached (as',
    '// wasm memory.grow leaves it, so the glue renews its views), or null where the engine cannot',
    '// detach a buffer.',
    'function __tg_move(old, bytes) {',
    "  if (typeof old.transfer === 'function') return old.transfer(bytes);",
    "  if (typeof structuredClone !== 'function') return null;",
    '  var moved = structuredClone(old, { transfer: [old] });',
    '  var fresh = new ArrayBuffer(bytes);',
    '  new Uint8Array(fresh).set(new Uint8Array(moved));',
    '  return fresh;',
    '}',
    '',
    'exports.instantiate = function (imports) {',
    '  return { exports: asmFunc(imports) };',
    '};',
    '',
  ].join('\n')
  return { code: `'use strict';\n${header}${body}${move}`, initial, reserved }
}

function features(bytes) {
  return checkWasm.usedFeatures(bytes).then((used) => used.map((f) => {
    if (!FLAGS[f]) fail(`wasm2js: no flag known for feature ${f}`)
    return FLAGS[f]
  }))
}

// Loads the generated module in a fresh context and instantiates it with an import object
// that has every import the wasm declares: the JS build must read the same imports and give
// the same exports as the wasm.
function smokeCheck(code, bytes) {
  const mod = new WebAssembly.Module(bytes)
  const imports = {}
  for (const i of WebAssembly.Module.imports(mod)) {
    if (i.kind !== 'function') fail(`wasm2js: the wasm imports a ${i.kind} (${i.module}.${i.name}); the loader hands over functions only`)
    imports[i.module] = imports[i.module] || {}
    imports[i.module][i.name] = function () { throw new Error(`${i.module}.${i.name} called during instantiation`) }
  }
  const module = { exports: {} }
  const ctx = vm.createContext({ module, exports: module.exports })
  vm.runInContext(code, ctx, { filename: JS_NAME })
  const inst = module.exports.instantiate(imports)
  const want = WebAssembly.Module.exports(mod).map((e) => e.name).sort()
  const got = Object.keys(inst.exports).sort()
  if (want.join() !== got.join()) fail(`wasm2js: the JS build exports ${got.join(', ')}; the wasm exports ${want.join(', ')}`)
  if (Object.prototype.toString.call(inst.exports.memory.buffer) !== '[object ArrayBuffer]') fail('wasm2js: memory.buffer is not an ArrayBuffer')
}

// binaryen's wasm2js on a .wasm file: the ES module it writes, as text.
async function esModule(input) {
  if (!fs.existsSync(TOOL)) fail(`wasm2js: ${path.relative(ROOT, TOOL)} is missing (npm ci installs binaryen)`)
  const flags = await features(fs.readFileSync(input))
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-wasm2js-'))
  try {
    const out = path.join(tmp, 'out.mjs')
    // -Oz: binaryen's size passes, then its JS-level cleanup; --mvp-features plus the
    // features the wasm already uses (none with the Debian toolchain), as the wasm build does.
    const args = [TOOL, input, '-Oz', '--mvp-features', ...flags, '-o', out]
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
    if (r.error || r.status !== 0) fail(`wasm2js failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${r.stderr}`)
    return { src: fs.readFileSync(out, 'utf8'), flags }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// <dir>/tokengate_bg.wasm -> <dir>/tokengate_bg.wasm.js (not minified: the build minifies
// every .js in the stage).
async function wasm2js(dir, { reserve = RESERVE } = {}) {
  const t0 = Date.now()
  const input = path.join(dir, WASM_NAME)
  const { src, flags } = await esModule(input)
  const { code, initial, reserved } = toCommonJs(src, { reserve })
  smokeCheck(code, fs.readFileSync(input))
  fs.writeFileSync(path.join(dir, JS_NAME), code)
  log(`build: ${JS_NAME} (wasm2js ${flags.length ? flags.join(' ') : 'MVP'}): ${Buffer.byteLength(code)} B before minifying; ` +
    `memory ${initial / 65536} pages, ${reserved / 65536} reserved (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  return { file: path.join(dir, JS_NAME), bytes: Buffer.byteLength(code) }
}

module.exports = { wasm2js, esModule, toCommonJs, JS_NAME, RESERVE }

if (require.main === module) {
  const { main } = require('./lib')
  const [input, output] = process.argv.slice(2)
  if (!input || !output) {
    process.stderr.write('usage: node scripts/wasm2js.js <in.wasm> <out.js>\n')
    process.exit(2)
  }
  main(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-wasm2js-cli-'))
    try {
      fs.copyFileSync(input, path.join(dir, WASM_NAME))
      await wasm2js(dir)
      fs.copyFileSync(path.join(dir, JS_NAME), output)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
