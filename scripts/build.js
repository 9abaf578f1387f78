'use strict'
// npm run build: Rust -> wasm32 -> wasm-bindgen -> binaryen -> dist/
//
//   1. cargo build --release --target wasm32-unknown-unknown (setup.js picks the toolchain:
//      rustup's wasm32 std, or Debian's rustc 1.96 with -Zbuild-std; reference types and
//      multi-value off, see .cargo/config.toml)
//   2. wasm-bindgen --target nodejs (the version in Cargo.lock)
//   3. scripts/patch-glue.js -> dist/tokengate_glue.js (CommonJS for mini-program/JSC/Node)
//   4. binaryen: drop exported Globals, optimize for size (-Oz) with only the allowed
//      features, strip custom sections -> dist/tokengate_bg.wasm
//   5. scripts/check-wasm.js: fail if an exported Global, reference types or multi-value
//      (or any feature outside the allowed set) is left
//   6. brotli (Node's zlib, quality 11) -> dist/tokengate_bg.wasm.br
//   7. js/* -> dist/ (js/polyfill.js carries its own UTF-8 codec), minified with terser
//   8. smoke check: every import of the wasm is provided by the glue; then dist/ is swapped in
//
// Options: --skip-cargo (reuse target/'s .wasm), --no-opt (skip wasm-opt, for debugging),
//          --no-minify (ship js/ as written, for debugging),
//          --panic-abort (keep panic=abort instead of immediate-abort, Debian toolchain only)
const fs = require('fs')
const os = require('os')
const path = require('path')
const zlib = require('zlib')
const { ROOT, log, fail, run, main } = require('./lib')
const setup = require('./setup')
const { patchGlue } = require('./patch-glue')
const checkWasm = require('./check-wasm')

const NAME = 'tokengate'
const DIST = path.join(ROOT, 'dist')
const JS_DIR = path.join(ROOT, 'js')

function crateLibName() {
  const toml = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8')
  const lib = toml.match(/\[lib\][^[]*?\bname\s*=\s*"([^"]+)"/)
  const pkg = toml.match(/\[package\][^[]*?\bname\s*=\s*"([^"]+)"/)
  return (lib ? lib[1] : pkg[1]).replace(/-/g, '_')
}

// The wasm32 rustflags of .cargo/config.toml (reference types and multi-value off): the one
// place they are written down.
function configRustflags() {
  const toml = fs.readFileSync(path.join(ROOT, '.cargo', 'config.toml'), 'utf8')
  const m = toml.match(/\[target\.wasm32-unknown-unknown\][^[]*?rustflags\s*=\s*\[([^\]]*)\]/)
  if (!m) fail('.cargo/config.toml has no [target.wasm32-unknown-unknown] rustflags')
  const flags = []
  const re = /"([^"]*)"|'([^']*)'/g
  let t
  while ((t = re.exec(m[1].replace(/#.*$/gm, '')))) flags.push(t[1] !== undefined ? t[1] : t[2])
  // The getrandom cfg is for wasm-pack test's dev-dependencies only (see the config's comment).
  const out = []
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '--cfg' && /^getrandom_backend=/.test(flags[i + 1] || '')) i++
    else out.push(flags[i])
  }
  return out
}

function cargoBuild(tc, { immediateAbort }) {
  const args = ['build', '--release', '--target', setup.TARGET, '--lib']
  const env = { ...tc.env }
  if (immediateAbort && tc.kind === 'debian') {
    // std is rebuilt anyway (-Zbuild-std), so it can be rebuilt with the immediate-abort panic
    // strategy: a panic traps at once instead of formatting a message that wasm32 has nowhere
    // to print (no hook is installed). It drops the formatting machinery: measured
    // 119644 -> 97703 B optimized, 54536 -> 45479 B brotli. RUSTFLAGS replaces the config's
    // rustflags, so they are repeated here. wasm-pack test keeps panic=abort (messages in tests).
    env.RUSTFLAGS = [...configRustflags(), '-Zunstable-options', '-Cpanic=immediate-abort'].join(' ')
    log(`build: RUSTFLAGS=${env.RUSTFLAGS}`)
  }
  run(tc.cargo, args, { env })
  const out = path.join(ROOT, 'target', setup.TARGET, 'release', `${crateLibName()}.wasm`)
  if (!fs.existsSync(out)) fail(`cargo build finished but ${path.relative(ROOT, out)} is missing`)
  return out
}

function wasmBindgen(input, outDir) {
  run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', outDir, '--out-name', NAME, '--no-typescript', input])
  const glue = path.join(outDir, `${NAME}.js`)
  const wasm = path.join(outDir, `${NAME}_bg.wasm`)
  for (const f of [glue, wasm]) if (!fs.existsSync(f)) fail(`wasm-bindgen did not write ${path.basename(f)}`)
  return { glue, wasm }
}

async function optimize(bytes, { opt = true } = {}) {
  const binaryen = await checkWasm.loadBinaryen()
  const mod = binaryen.readBinary(new Uint8Array(bytes))
  try {
    const removed = []
    for (let i = mod.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i))
      if (info.kind === binaryen.ExternalGlobal) {
        mod.removeExport(info.name)
        removed.push(info.name)
      }
    }
    if (removed.length) log(`build: removed exported Globals: ${removed.join(', ')}`)
    mod.setFeatures(checkWasm.featureMask(binaryen, checkWasm.ALLOWED_FEATURES))
    if (!mod.validate()) {
      fail('the wasm from wasm-bindgen is not valid with only MVP + ' + checkWasm.ALLOWED_FEATURES.join(', ') +
        ' (see binaryen\'s messages above): reference types or multi-value are probably still on. ' +
        'Check RUSTFLAGS/.cargo/config.toml (-C target-feature=-reference-types,-multivalue) and that std was rebuilt.')
    }
    // Optimize with only the features the input already uses, so that binaryen does not
    // introduce new ones (it would turn shift pairs into sign-extension ops, for example).
    const need = checkWasm.neededFeatures(binaryen, mod)
    log(`build: wasm from wasm-bindgen uses, beyond MVP: ${need.length ? need.join(', ') : 'nothing'}`)
    if (opt) {
      binaryen.setOptimizeLevel(2)
      binaryen.setShrinkLevel(2) // -Oz
      binaryen.setDebugInfo(false)
      // -Oz until it stops paying: a second and third run still find work (measured -70 B).
      for (let i = 0, prev = Infinity; i < 4; i++) {
        mod.optimize()
        const n = mod.emitBinary().length
        if (n >= prev) break
        prev = n
      }
      mod.runPasses(['strip-debug', 'strip-producers', 'strip-target-features'])
    }
    return { bytes: Buffer.from(mod.emitBinary()), removed }
  } finally {
    mod.dispose()
  }
}

function brotli(buf) {
  return zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  })
}

// Every .js in dist/ minified with terser (compress + mangle, ES5 output, no comments but
// each file's license line), in place: js/ keeps the readable sources. Nothing terser emits
// needs eval or new Function (the mini-program runtime has neither); the sandbox and jsc
// layers run the minified files. Measured on the JS of dist/: see README, "Size".
async function minifyJs(dir) {
  const { minify } = require('terser')
  let before = 0
  let after = 0
  for (const f of fs.readdirSync(dir).filter((n) => /\.js$/.test(n)).sort()) {
    const file = path.join(dir, f)
    const src = fs.readFileSync(file, 'utf8')
    const out = await minify(src, {
      ecma: 5,
      toplevel: true, // CommonJS: every module runs inside the loader's function wrapper
      compress: { passes: 2 },
      mangle: true,
      format: { ecma: 5, comments: /^!|@license|\bMIT\b/ },
    })
    if (typeof out.code !== 'string') fail(`terser gave no code for ${f}`)
    fs.writeFileSync(file, out.code + '\n')
    before += Buffer.byteLength(src)
    after += Buffer.byteLength(out.code) + 1
  }
  log(`build: JS minified ${before} B -> ${after} B (raw)`)
}

// Every import of the wasm must be provided by the glue, and the glue must load in Node.
async function smokeCheck(dir) {
  const gluePath = path.join(dir, `${NAME}_glue.js`)
  delete require.cache[gluePath]
  const glue = require(gluePath)
  const imports = glue.__wbg_get_imports()
  const mod = await WebAssembly.compile(fs.readFileSync(path.join(dir, `${NAME}_bg.wasm`)))
  const missing = WebAssembly.Module.imports(mod).filter((i) => !(imports[i.module] && i.name in imports[i.module]))
  if (missing.length) fail(`the glue does not provide these wasm imports: ${missing.map((i) => `${i.module}.${i.name}`).join(', ')}`)
  await WebAssembly.instantiate(mod, imports)
}

// ctx: what setup.ensure() returned when the caller (scripts/test.js) has run it already.
async function build(argv = [], ctx = null) {
  const t0 = Date.now()
  const skipCargo = argv.includes('--skip-cargo')
  const opt = !argv.includes('--no-opt')
  const { toolchain } = ctx && ctx.toolchain ? ctx : setup.ensure(['node', 'rust', 'wabt', 'wasm-bindgen'])

  let input
  if (skipCargo) {
    input = path.join(ROOT, 'target', setup.TARGET, 'release', `${crateLibName()}.wasm`)
    if (!fs.existsSync(input)) fail('--skip-cargo: no wasm in target/ yet')
  } else {
    input = cargoBuild(toolchain, { immediateAbort: !argv.includes('--panic-abort') })
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-build-'))
  fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true })
  const stage = fs.mkdtempSync(path.join(ROOT, 'target', 'dist-stage-')) // same filesystem as dist/, ignored by git
  try {
    const bg = wasmBindgen(input, tmp)
    fs.writeFileSync(path.join(stage, `${NAME}_glue.js`), patchGlue(fs.readFileSync(bg.glue, 'utf8'), { name: NAME }))

    const before = fs.statSync(bg.wasm).size
    const { bytes } = await optimize(fs.readFileSync(bg.wasm), { opt })
    const problems = await checkWasm.check(bytes)
    if (problems.length) {
      fail(`the final ${NAME}_bg.wasm cannot run in the iOS mini-program engine:\n  - ${problems.join('\n  - ')}`)
    }
    const used = await checkWasm.usedFeatures(bytes)
    log(`build: ${NAME}_bg.wasm checked: no exported Global; features beyond MVP: ${used.length ? used.join(', ') : 'none'}`)
    fs.writeFileSync(path.join(stage, `${NAME}_bg.wasm`), bytes)
    const br = brotli(bytes)
    fs.writeFileSync(path.join(stage, `${NAME}_bg.wasm.br`), br)
    await require('./wasm2js').wasm2js(stage) // tokengate_bg.wasm.js: the same wasm as JS (binaryen wasm2js)
    log(`build: wasm ${before} B from wasm-bindgen -> ${bytes.length} B optimized -> ${br.length} B brotli`)

    if (!fs.existsSync(JS_DIR)) fail('js/ is missing')
    fs.cpSync(JS_DIR, stage, { recursive: true })
    for (const need of ['index.js', 'loader.js', 'polyfill.js']) {
      if (!fs.existsSync(path.join(stage, need))) fail(`js/${need} is missing; dist/ needs it`)
    }
    if (!fs.existsSync(path.join(stage, 'index.d.ts'))) log('build: WARNING js/index.d.ts is missing; dist/ ships no TypeScript declarations')

    if (!argv.includes('--no-minify')) await minifyJs(stage)
    await smokeCheck(stage)

    // Swap dist/ in one rename, so a concurrent reader never sees half a package.
    const old = `${DIST}.old-${process.pid}`
    if (fs.existsSync(DIST)) fs.renameSync(DIST, old)
    fs.chmodSync(stage, 0o755) // mkdtemp makes it 0700
    fs.renameSync(stage, DIST)
    fs.rmSync(old, { recursive: true, force: true })
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
    fs.rmSync(stage, { recursive: true, force: true })
  }
  log(`build: dist/ written in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

module.exports = { build }

if (require.main === module) main(() => build(process.argv.slice(2)))
