#!/usr/bin/env node
// npm run mutants [-- <cargo-mutants arguments>]
//
// Mutation testing of the sans-IO core (src/core) with cargo-mutants, pinned: installs
// cargo-mutants 27.1.0 on first use (skipped when that version is on PATH), runs it on
// every file of src/core with plain `cargo test` (property tests at full strength), two
// jobs, and prints
//
//   mutants: caught=N missed=N timeout=N unviable=N score=P%
//
// (score: caught by an assertion / viable, where viable = caught + missed + timeout), the
// figures per file, and the missed and timed-out mutants. Not part of `npm test`: it takes
// tens of minutes. Nothing is excluded: no `--exclude`, no config file (`--no-config`), and
// the number of `mutants::skip` attributes in src/core is printed. docs/MUTANTS.md keeps
// the latest figures and a reason for every survivor.
//
// Extra arguments go to cargo-mutants: `--file src/core/session.rs` (instead of all of
// src/core), `--iterate` (test again only what was not caught last time), `-j 1`, ...
// Output: target/mutants/mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt,
// outcomes.json, log/).
'use strict'

const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const VERSION = '27.1.0'
const root = path.resolve(__dirname, '..')
const outDir = path.join(root, 'target', 'mutants')
const outcomes = path.join(outDir, 'mutants.out')

function onPath() {
  const r = spawnSync('cargo', ['mutants', '--version'], { encoding: 'utf8' })
  return r.status === 0 && r.stdout.trim() === `cargo-mutants ${VERSION}`
}

function install() {
  if (onPath()) return
  // --locked builds with the versions cargo-mutants was released with; if that fails on
  // this toolchain, let cargo resolve them.
  for (const extra of [['--locked'], []]) {
    console.log(`mutants: cargo install cargo-mutants --version ${VERSION} ${extra.join(' ')}`)
    const r = spawnSync('cargo', ['install', 'cargo-mutants', '--version', VERSION, ...extra], { stdio: 'inherit' })
    if (r.status === 0 && onPath()) return
  }
  console.error(`mutants: could not install cargo-mutants ${VERSION}`)
  process.exit(2)
}

function skipAttributes() {
  let n = 0
  for (const f of fs.readdirSync(path.join(root, 'src', 'core'))) {
    if (!f.endsWith('.rs')) continue
    const text = fs.readFileSync(path.join(root, 'src', 'core', f), 'utf8')
    n += (text.match(/mutants::skip/g) || []).length
  }
  return n
}

function lines(name) {
  const p = path.join(outcomes, name)
  if (!fs.existsSync(p)) return []
  return fs.readFileSync(p, 'utf8').split('\n').filter(Boolean)
}

function fileOf(line) {
  return line.slice(0, line.indexOf(':'))
}

function pct(caught, viable) {
  return viable ? ((100 * caught) / viable).toFixed(1) : '100.0'
}

function report(status) {
  // With --iterate, cargo-mutants tests only what was not caught before; the rest (caught
  // or unviable, one list) is in previously_caught.txt and is not counted below.
  const previously = lines('previously_caught.txt').length
  const kinds = {
    caught: lines('caught.txt'),
    missed: lines('missed.txt'),
    timeout: lines('timeout.txt'),
    unviable: lines('unviable.txt'),
  }
  const files = {}
  for (const [kind, list] of Object.entries(kinds)) {
    for (const l of list) {
      const f = fileOf(l)
      files[f] = files[f] || { caught: 0, missed: 0, timeout: 0, unviable: 0 }
      files[f][kind]++
    }
  }
  const n = (k) => kinds[k].length
  const viable = n('caught') + n('missed') + n('timeout')
  console.log('')
  console.log('per file:')
  for (const f of Object.keys(files).sort()) {
    const c = files[f]
    const v = c.caught + c.missed + c.timeout
    console.log(`  ${f}: caught=${c.caught} missed=${c.missed} timeout=${c.timeout} unviable=${c.unviable} score=${pct(c.caught, v)}%`)
  }
  if (n('missed')) {
    console.log('missed:')
    for (const l of kinds.missed) console.log(`  ${l}`)
  }
  if (n('timeout')) {
    console.log('timeout (not caught by an assertion):')
    for (const l of kinds.timeout) console.log(`  ${l}`)
  }
  const note = previously ? ` (this iteration; ${previously} previously caught or unviable not tested again)` : ''
  console.log(`mutants: caught=${n('caught')} missed=${n('missed')} timeout=${n('timeout')} unviable=${n('unviable')} score=${pct(n('caught'), viable)}%${note}`)
  // cargo-mutants exits 2 when a mutant was missed, 3 on timeouts: a report, not a crash.
  process.exit([0, 2, 3].includes(status) ? 0 : status || 1)
}

install()
const extra = process.argv.slice(2)
const args = ['mutants', '--no-config', '-j', '2', '--output', outDir]
if (!extra.some((a) => a === '-f' || a.startsWith('--file'))) args.push('--file', 'src/core/**')
args.push(...extra)
console.log(`mutants: mutants::skip attributes in src/core: ${skipAttributes()}`)
console.log(`mutants: cargo ${args.join(' ')}`)
fs.mkdirSync(outDir, { recursive: true })
// Each scratch copy builds in its own target directory.
const env = { ...process.env }
delete env.CARGO_TARGET_DIR
const r = spawnSync('cargo', args, { cwd: root, stdio: 'inherit', env })
report(r.status)
