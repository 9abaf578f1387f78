'use strict'
// Installs what the build and the tests need, once; every later run finds it and skips it.
//
//   node scripts/setup.js            everything `npm test` needs
//   require('./setup').ensure([...]) only the named parts (build.js, test.js, demo.js)
//
// Parts:
//   node          npm devDependencies (npm ci, or npm install without a lock file)
//   rust          a Rust toolchain that builds wasm32-unknown-unknown: rustup's, when its
//                 wasm32 std is installed (a developer's laptop); else Debian's rustc-web 1.96
//                 with its std source (-Zbuild-std) and wasm-ld-19 (apt)
//   wabt          wasm-validate / wasm-objdump, a second opinion on the final .wasm (apt)
//   jsc           JavaScriptCore's shell, the engine of iOS (apt libjavascriptcoregtk-4.0-bin)
//   wasm-bindgen  wasm-bindgen-cli of exactly the version in Cargo.lock (cargo install)
//   wasm-pack     for `wasm-pack test --node --mode no-install` (cargo install)
const fs = require('fs')
const os = require('os')
const path = require('path')
const { ROOT, log, fail, run, capture, which, main } = require('./lib')

const TARGET = 'wasm32-unknown-unknown'
const DEBIAN_RUST = ['rustc-web', 'cargo-web', 'rust-web-src', 'lld-19']
const DEBIAN_STD_SRC = '/usr/lib/rustlib/src/rust/library/std'
const CARGO_BIN = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin')

// cargo-installed binaries live in ~/.cargo/bin; make sure this process (and its children) see them.
if (!(process.env.PATH || '').split(path.delimiter).includes(CARGO_BIN)) {
  process.env.PATH = `${process.env.PATH}${path.delimiter}${CARGO_BIN}`
}

// ---------------------------------------------------------------- node

function ensureNode() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const wanted = { ...(pkg.dependencies || {}), ...(pkg.devDependencies || {}) }
  const missing = Object.keys(wanted).filter((name) => {
    try {
      const got = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'))
      // Exact pins must match; ranges are left to npm.
      return /^\d+\.\d+\.\d+$/.test(wanted[name]) && got.version !== wanted[name]
    } catch (_) {
      return true
    }
  })
  if (missing.length === 0) {
    log(`setup: npm packages present (${Object.keys(wanted).join(', ')}), skipped`)
    return
  }
  log(`setup: npm packages missing or stale: ${missing.join(', ')}`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const flags = ['--no-audit', '--no-fund']
  if (fs.existsSync(path.join(ROOT, 'package-lock.json'))) {
    try {
      run(npm, ['ci', ...flags])
      return
    } catch (e) {
      log(`setup: npm ci failed (${e.message}); trying npm install`)
    }
  }
  run(npm, ['install', ...flags])
}

// ---------------------------------------------------------------- apt

let aptUpdated = false
function aptInstall(packages, why) {
  if (packages.length === 0) return
  if (!which('apt-get')) {
    fail(`${why} needs the Debian packages ${packages.join(' ')}, and this machine has no apt-get. ` +
      'Install the equivalent by hand (see README.md, "Build").')
  }
  const sudo = process.getuid && process.getuid() !== 0 ? (which('sudo') ? ['sudo', '-n'] : null) : []
  if (sudo === null) fail(`${why} needs \`apt-get install ${packages.join(' ')}\` as root (no sudo here)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const cmd = (args) => (sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], { env }) : run('apt-get', args, { env }))
  if (!aptUpdated) {
    cmd(['update', '-q'])
    aptUpdated = true
  }
  log(`setup: installing ${packages.join(' ')} (${why})`)
  cmd(['install', '-y', '-q', '--no-install-recommends', ...packages])
}

// ---------------------------------------------------------------- rust

function hasStd(libdir) {
  try {
    return fs.readdirSync(libdir).some((f) => /^libstd-.*\.rlib$/.test(f))
  } catch (_) {
    return false
  }
}

// The rustup (or whatever `rustc` is first on PATH) toolchain, if its wasm32 std is installed.
function rustupToolchain() {
  if (!which('rustc') || !which('cargo')) return null
  const r = capture('rustc', ['--print', 'target-libdir', '--target', TARGET])
  if (r.status !== 0 || !hasStd(r.stdout.trim())) return null
  return {
    kind: 'rustup',
    describe: `${capture('rustc', ['--version']).stdout.trim()} with its ${TARGET} std`,
    cargo: 'cargo',
    env: { ...process.env },
  }
}

function debianMissing() {
  const missing = []
  if (!fs.existsSync('/usr/bin/rustc')) missing.push('rustc-web')
  if (!fs.existsSync('/usr/bin/cargo')) missing.push('cargo-web')
  if (!fs.existsSync(DEBIAN_STD_SRC)) missing.push('rust-web-src')
  if (!which('wasm-ld-19')) missing.push('lld-19')
  return missing
}

function debianToolchain() {
  const envPath = ['/usr/bin', CARGO_BIN, process.env.PATH].join(path.delimiter)
  return {
    kind: 'debian',
    describe: `${capture('/usr/bin/rustc', ['--version']).stdout.trim()} (Debian) building std from source`,
    cargo: '/usr/bin/cargo',
    env: {
      ...process.env,
      PATH: envPath,
      RUSTC: '/usr/bin/rustc',
      RUSTDOC: '/usr/bin/rustdoc',
      RUSTC_BOOTSTRAP: '1',
      CARGO_UNSTABLE_BUILD_STD: 'std,panic_abort',
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER: 'wasm-ld-19',
    },
  }
}

let cachedToolchain = null
// Which toolchain builds wasm32 here; installs Debian's when there is none.
function toolchain(install = true) {
  if (cachedToolchain) return cachedToolchain
  let tc = rustupToolchain()
  if (!tc) {
    const missing = debianMissing()
    if (missing.length) {
      if (!install) return null
      log(`setup: no ${TARGET} std for rustup's toolchain; installing Debian's Rust`)
      aptInstall(DEBIAN_RUST, 'the wasm32 build')
      if (debianMissing().length) fail(`Debian's Rust toolchain is still incomplete: ${debianMissing().join(', ')}`)
    }
    tc = debianToolchain()
  }
  cachedToolchain = tc
  return tc
}

// ---------------------------------------------------------------- cargo-installed tools

function lockedVersion(crate) {
  const lock = fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8')
  const re = new RegExp(`\\[\\[package\\]\\]\\nname = "${crate}"\\nversion = "([^"]+)"`)
  const m = lock.match(re)
  if (!m) fail(`Cargo.lock has no entry for ${crate}`)
  return m[1]
}

function toolVersion(bin) {
  if (!which(bin)) return null
  const r = capture(bin, ['--version'])
  const m = r.status === 0 && r.stdout.match(/(\d+\.\d+\.\d+)/)
  return m ? m[1] : null
}

function cargoInstall(crate, version) {
  const base = ['install', crate]
  if (version) base.push('--version', version)
  // --locked first (reproducible); a registry mirror that lacks a locked dependency
  // version makes it fail early, and then the plain resolution is used.
  try {
    run('cargo', [...base, '--locked'])
  } catch (e) {
    log(`setup: \`cargo install ${crate} --locked\` failed; retrying without --locked`)
    run('cargo', base)
  }
}

function ensureWasmBindgen() {
  const want = lockedVersion('wasm-bindgen')
  const have = toolVersion('wasm-bindgen')
  const runner = toolVersion('wasm-bindgen-test-runner')
  if (have === want && runner === want) {
    log(`setup: wasm-bindgen ${want} present (matches Cargo.lock), skipped`)
    return
  }
  log(`setup: wasm-bindgen ${have || 'missing'}, Cargo.lock wants ${want}; cargo install (about 7 minutes)`)
  cargoInstall('wasm-bindgen-cli', want)
  if (toolVersion('wasm-bindgen') !== want) fail(`wasm-bindgen on PATH is not ${want} after installing it (is ${CARGO_BIN} first on PATH?)`)
}

function ensureWasmPack() {
  const have = toolVersion('wasm-pack')
  if (have) {
    log(`setup: wasm-pack ${have} present, skipped`)
    return
  }
  log('setup: wasm-pack missing; cargo install (about 7 minutes)')
  cargoInstall('wasm-pack')
}

// ---------------------------------------------------------------- apt-only tools

function ensureWabt() {
  if (which('wasm-validate') && which('wasm-objdump')) {
    log('setup: wabt present, skipped')
    return
  }
  aptInstall(['wabt'], 'checking the final .wasm')
}

function ensureJsc() {
  if (which('jsc')) {
    log('setup: jsc present, skipped')
    return
  }
  aptInstall(['libjavascriptcoregtk-4.0-bin'], 'the JavaScriptCore test')
  if (!which('jsc')) fail('libjavascriptcoregtk-4.0-bin is installed but `jsc` is not on PATH')
}

// ---------------------------------------------------------------- entry

const PARTS = ['node', 'rust', 'wabt', 'jsc', 'wasm-bindgen', 'wasm-pack']

function ensure(parts = PARTS) {
  // apt packages first, in one go, then the slow cargo installs.
  const apt = []
  if (parts.includes('rust') && !rustupToolchain()) {
    for (const p of debianMissing().length ? DEBIAN_RUST : []) apt.push(p)
  }
  if (parts.includes('wabt') && !(which('wasm-validate') && which('wasm-objdump'))) apt.push('wabt')
  if (parts.includes('jsc') && !which('jsc')) apt.push('libjavascriptcoregtk-4.0-bin')
  if (apt.length) aptInstall(apt, parts.join(', '))

  const out = {}
  if (parts.includes('node')) ensureNode()
  if (parts.includes('rust')) {
    out.toolchain = toolchain()
    log(`setup: wasm32 toolchain: ${out.toolchain.describe}`)
  }
  if (parts.includes('wabt')) ensureWabt()
  if (parts.includes('jsc')) ensureJsc()
  if (parts.includes('wasm-bindgen')) ensureWasmBindgen()
  if (parts.includes('wasm-pack')) ensureWasmPack()
  return out
}

module.exports = { ensure, toolchain, lockedVersion, TARGET }

if (require.main === module) {
  main(() => {
    const want = process.argv.slice(2)
    const bad = want.filter((p) => !PARTS.includes(p))
    if (bad.length) fail(`unknown setup part(s) ${bad.join(', ')}; known: ${PARTS.join(', ')}`)
    ensure(want.length ? want : PARTS)
    log('setup: done')
  })
}
