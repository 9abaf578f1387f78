'use strict'
// Builds one framework app of tests/frameworks with its own CLI, after installing it (first use)
// and putting the current dist/ into its node_modules/tokengate; returns a private copy of the
// output (the code package) for the sandbox, so the app folder is free for the next run.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { ensureInstalled, installTokengate, withLock, FRAMEWORKS } = require('./install')

// The CLI script behind node_modules/.bin/<name>, run with this Node.
function bin(dir, name) {
  return fs.realpathSync(path.join(dir, 'node_modules', '.bin', name))
}

const APPS = {
  // Taro 4 (React, webpack 5): copy.patterns in config/index.js puts the .wasm.br at
  // dist/miniprogram_npm/tokengate/, the loader's default path.
  taro: {
    out: 'dist',
    clean: ['dist'],
    prepare() {},
    cmd: (dir) => [bin(dir, 'taro'), 'build', '--type', 'weapp'],
  },
  // uni-app (Vue 3, vite): only tokengate_bg.wasm.br goes to src/static/ (copied verbatim);
  // the app passes wasmPath '/static/tokengate_bg.wasm.br'.
  uniapp: {
    out: 'dist/build/mp-weixin',
    clean: ['dist'],
    prepare(dir) {
      fs.mkdirSync(path.join(dir, 'src', 'static'), { recursive: true })
      fs.copyFileSync(path.join(dir, 'node_modules', 'tokengate', 'dist', 'tokengate_bg.wasm.br'), path.join(dir, 'src', 'static', 'tokengate_bg.wasm.br'))
    },
    cmd: (dir) => [bin(dir, 'uni'), 'build', '-p', 'mp-weixin'],
  },
}

async function buildApp(app) {
  const spec = APPS[app]
  const dir = path.join(FRAMEWORKS, app)
  return withLock(app, () => {
    const install = ensureInstalled(app)
    installTokengate(dir)
    for (const c of spec.clean) fs.rmSync(path.join(dir, c), { recursive: true, force: true })
    spec.prepare(dir)
    const t0 = Date.now()
    const r = spawnSync(process.execPath, spec.cmd(dir), {
      cwd: dir,
      encoding: 'utf8',
      timeout: 10 * 60 * 1000,
      env: { ...process.env, NODE_ENV: 'production', CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
    })
    const buildSecs = (Date.now() - t0) / 1000
    const output = (r.stdout || '') + (r.stderr || '')
    if (r.error || r.status !== 0) throw new Error(`${app} build failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${output.slice(-6000)}`)
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `tokengate-${app}-out-`))
    fs.cpSync(path.join(dir, spec.out), out, { recursive: true })
    return { out, install, buildSecs, output }
  })
}

// Every file of a code package, relative, sorted.
function listFiles(dir, base = '') {
  const out = []
  for (const e of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...listFiles(dir, rel))
    else out.push(rel)
  }
  return out.sort()
}

module.exports = { buildApp, listFiles }
