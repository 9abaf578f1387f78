'use strict'
// Installing what the frameworks layer needs, once: each app folder (tests/frameworks/<app>)
// has its package.json and package-lock.json in git; node_modules is installed on first use
// with `npm ci` (from the registry, like any user) and reinstalled when the lock changes.
// tokengate itself is put into node_modules/tokengate from dist/ at every run, as
// `npm install <this repository>` would lay it out (package.json + dist/), so a rebuilt dist/
// is what the app builds against.
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')

const FRAMEWORKS = path.resolve(__dirname, '..')
const ROOT = path.resolve(FRAMEWORKS, '..', '..')
const DIST = process.env.TOKENGATE_DIST ? path.resolve(process.env.TOKENGATE_DIST) : path.join(ROOT, 'dist')
const STAMP = '.tokengate-installed'

function hashOf(dir) {
  const h = crypto.createHash('sha256')
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) {
    const p = path.join(dir, f)
    h.update(f + '\0' + (fs.existsSync(p) ? fs.readFileSync(p) : '') + '\0')
  }
  return h.digest('hex')
}

// npm as the one running `npm test` (npm_execpath), else the npm on PATH.
function npm(args, cwd) {
  const cli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null
  const [cmd, argv] = cli ? [process.execPath, [cli, ...args]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args]
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: 30 * 60 * 1000, env: { ...process.env, npm_config_update_notifier: 'false' } })
  if (r.error || r.status !== 0) {
    throw new Error(`npm ${args.join(' ')} in ${path.relative(ROOT, cwd)} failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${(r.stderr || '').slice(-4000)}`)
  }
  return r
}

// node_modules of tests/frameworks/<app>, installed when missing or when package.json or the
// lock changed since. Returns { app, installed: boolean, secs }.
function ensureInstalled(app) {
  const dir = path.join(FRAMEWORKS, app)
  const stamp = path.join(dir, 'node_modules', STAMP)
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hashOf(dir)) return { app, installed: false, secs: 0 }
  const t0 = Date.now()
  // A lock in git: exactly it (npm ci), tried twice (a registry hiccup). Should npm ci still
  // refuse it (a platform-specific optional package that the registry no longer has), npm
  // install, which installs the locked versions it can; the lock in git is left as it was.
  // No lock yet (a new app): npm install writes it.
  const lockFile = path.join(dir, 'package-lock.json')
  const flags = ['--no-audit', '--no-fund', '--loglevel=error']
  if (!fs.existsSync(lockFile)) npm(['install', ...flags], dir)
  else {
    const lock = fs.readFileSync(lockFile)
    let err = null
    for (let i = 0; i < 2; i++) {
      try { npm(['ci', ...flags], dir); err = null; break } catch (e) { err = e }
    }
    if (err) {
      process.stderr.write(`${err.message.split('\n')[0]}; trying npm install\n`)
      try { npm(['install', ...flags], dir) } finally { fs.writeFileSync(lockFile, lock) }
    }
  }
  fs.writeFileSync(stamp, hashOf(dir))
  return { app, installed: true, secs: (Date.now() - t0) / 1000 }
}

// node_modules/tokengate in `dir` := the package as npm would install it from this
// repository: its package.json and dist/.
function installTokengate(dir) {
  if (!fs.existsSync(path.join(DIST, 'index.js'))) throw new Error(`${DIST} is not built: run npm run build`)
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const to = path.join(dir, 'node_modules', 'tokengate')
  fs.rmSync(to, { recursive: true, force: true })
  fs.mkdirSync(to, { recursive: true })
  const keep = {}
  for (const k of ['name', 'version', 'description', 'license', 'main', 'types', 'miniprogram', 'files', 'exports']) if (pkg[k] !== undefined) keep[k] = pkg[k]
  fs.writeFileSync(path.join(to, 'package.json'), JSON.stringify(keep, null, 2) + '\n')
  fs.cpSync(DIST, path.join(to, 'dist'), { recursive: true })
  return to
}

module.exports = { ensureInstalled, installTokengate, npm, FRAMEWORKS, ROOT, DIST }

// One frameworks run at a time per app folder, across processes (several `npm test` in one
// working tree): `npm ci` and the framework's build write into the folder. A lock left by a
// process that died is taken over.
async function withLock(name, fn, { waitMs = 45 * 60 * 1000 } = {}) {
  const dir = path.join(FRAMEWORKS, '.cache')
  fs.mkdirSync(dir, { recursive: true })
  const lock = path.join(dir, `${name}.lock`)
  const t0 = Date.now()
  for (;;) {
    try {
      fs.mkdirSync(lock)
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid))
      break
    } catch (e) {
      if (e.code !== 'EEXIST') throw e
      let pid = NaN
      try { pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) } catch (_) { /* being written */ }
      let alive = true
      if (pid > 0) { try { process.kill(pid, 0) } catch (err) { alive = err.code === 'EPERM' } }
      if (!alive) { fs.rmSync(lock, { recursive: true, force: true }); continue }
      if (Date.now() - t0 > waitMs) throw new Error(`${lock} is held by process ${pid} for over ${waitMs / 60000} min`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  try {
    return await fn()
  } finally {
    fs.rmSync(lock, { recursive: true, force: true })
  }
}

module.exports.withLock = withLock
