#!/usr/bin/env node
'use strict'
// npm run demo: build dist/ if needed, start the example auth server on a free loopback port,
// run the example mini-program headlessly through the demo script, print the timeline and
//   summary: requests=<n> ok=<n> failed=<n> refreshes=<n> logins=<n> hung=<n>
// Exit status 0 only when every expectation of the script held.
//
//   node example-miniprogram/demo/run.js [--envelope] [--access-ttl SECONDS] [--storage FILE]
// --envelope: the server wraps bodies as { code, message, data } and the app is configured for it.
// --storage: where wx storage persists (default demo/.data/storage.json; emptied at start).

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const REPO = path.join(__dirname, '..', '..')
const DIST = path.join(REPO, 'dist')
const STORAGE = path.join(__dirname, '.data', 'storage.json')
const WATCHDOG_MS = 90000

function parseArgs (argv) {
  const o = { envelope: false, accessTtl: 4000, storage: STORAGE }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--envelope') o.envelope = true
    else if (argv[i] === '--storage') {
      o.storage = path.resolve(String(argv[++i] || ''))
      if (!argv[i]) throw new Error('--storage wants a file path')
    }
    else if (argv[i] === '--access-ttl') {
      o.accessTtl = Math.round(Number(argv[++i]) * 1000)
      if (!(o.accessTtl >= 2000 && o.accessTtl <= 60000)) throw new Error('--access-ttl wants 2..60 seconds')
    } else throw new Error(`unknown flag '${argv[i]}'`)
  }
  return o
}

function ensureDist () {
  if (fs.existsSync(path.join(DIST, 'index.js'))) return
  process.stderr.write('dist/index.js is missing: running npm run build\n')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['run', 'build'], { cwd: REPO, stdio: ['ignore', process.stderr, process.stderr] })
  if (r.status !== 0 || !fs.existsSync(path.join(DIST, 'index.js'))) {
    process.stderr.write('npm run build did not produce dist/index.js\n')
    process.exit(1)
  }
}

async function main () {
  let args
  try { args = parseArgs(process.argv.slice(2)) } catch (e) {
    process.stderr.write(e.message + '\n')
    process.exit(2)
  }
  ensureDist()

  // Everything written to stdout/stderr is kept, to check afterwards that no token leaked.
  let written = ''
  for (const stream of [process.stdout, process.stderr]) {
    const orig = stream.write.bind(stream)
    stream.write = (chunk, ...rest) => { written += String(chunk); return orig(chunk, ...rest) }
  }

  const { createAuthServer } = require('../server')
  const { runDemo } = require('./script')
  // A fresh install: no stored session (step 6 of the script shows the storage surviving a relaunch).
  fs.rmSync(args.storage, { force: true })

  // dev: the runner's wx.login mints its codes at /__dev/code, and the script uses the fault
  // switches; those routes are off unless a server is started this way (or with --dev).
  const server = createAuthServer({ accessTtl: args.accessTtl, refreshTtl: 60000, envelope: args.envelope, dev: true })
  await server.listen(0)
  const hooks = {}
  const out = (l) => process.stdout.write(l + '\n')

  let finished = false
  const finish = (summary, failures) => {
    if (finished) return
    finished = true
    const leaked = [...(hooks.secrets || [])].filter((s) => s && written.includes(s))
    if (leaked.length) failures.push(`${leaked.length} token(s) or code(s) appeared in the output`)
    if (summary.unexpected) failures.push(`${summary.unexpected} request(s) failed unexpectedly`)
    out(`summary: requests=${summary.requests} ok=${summary.ok} failed=${summary.failed} refreshes=${summary.refreshes} logins=${summary.logins} hung=${summary.hung}`)
    if (failures.length) {
      process.stderr.write(`demo FAILED (${failures.length}):\n${failures.map((f) => '  - ' + f).join('\n')}\n`)
    }
    server.close().finally(() => process.exit(failures.length ? 1 : 0))
    setTimeout(() => process.exit(failures.length ? 1 : 0), 1000).unref()
  }

  const watchdog = setTimeout(() => {
    const failures = (hooks.failures || []).slice()
    failures.push(`the demo did not finish within ${WATCHDOG_MS / 1000}s`)
    const summary = hooks.summarize ? hooks.summarize() : { requests: 0, ok: 0, failed: 0, refreshes: 0, logins: 0, hung: 0, unexpected: 0 }
    finish(summary, failures)
  }, WATCHDOG_MS)

  try {
    const { summary, failures } = await runDemo({
      server,
      storageFile: args.storage,
      loadTokengate: () => require(DIST),
      envelope: args.envelope,
      accessTtl: args.accessTtl,
      out,
      hooks
    })
    clearTimeout(watchdog)
    finish(summary, failures)
  } catch (e) {
    clearTimeout(watchdog)
    process.stderr.write(`demo crashed: ${e && e.stack}\n`)
    const summary = hooks.summarize ? hooks.summarize() : { requests: 0, ok: 0, failed: 0, refreshes: 0, logins: 0, hung: 0, unexpected: 0 }
    finish(summary, (hooks.failures || []).concat([`crash: ${e && e.message}`]))
  }
}

main()
