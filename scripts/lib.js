'use strict'
// Small helpers shared by the scripts: running commands, logging, failing loudly.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const ROOT = path.resolve(__dirname, '..')

function log(msg) {
  process.stdout.write(`[tokengate] ${msg}\n`)
}

class BuildError extends Error {}

function fail(msg) {
  throw new BuildError(msg)
}

// Run a command with inherited stdio; throws BuildError on a non-zero exit.
function run(cmd, args, opts = {}) {
  const shown = [cmd, ...args].join(' ')
  if (!opts.quiet) log(`$ ${shown}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts })
  if (r.error) fail(`could not run \`${shown}\`: ${r.error.message}`)
  if (r.status !== 0) fail(`\`${shown}\` exited with ${r.status === null ? r.signal : r.status}`)
  return r
}

// Run a command and capture its output; never throws (look at .status / .error).
function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...opts })
  return { status: r.error ? -1 : r.status, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error }
}

// Path of an executable on PATH (or in the given PATH string), or null.
function which(name, envPath = process.env.PATH) {
  for (const dir of (envPath || '').split(path.delimiter)) {
    if (!dir) continue
    const p = path.join(dir, name)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      if (fs.statSync(p).isFile()) return p
    } catch (_) { /* not here */ }
  }
  return null
}

// Entry-point wrapper: a BuildError prints its message alone, anything else its stack.
function main(fn) {
  Promise.resolve()
    .then(fn)
    .then((code) => { if (typeof code === 'number') process.exitCode = code })
    .catch((e) => {
      if (e instanceof BuildError) process.stderr.write(`\n[tokengate] ERROR: ${e.message}\n`)
      else process.stderr.write(`\n[tokengate] ERROR: ${e && e.stack ? e.stack : e}\n`)
      process.exitCode = 1
    })
}

module.exports = { ROOT, log, fail, run, capture, which, main, BuildError }
