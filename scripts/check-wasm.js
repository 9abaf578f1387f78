'use strict'
// Checks that a .wasm can run in the iOS mini-program engine:
//   * no exported Global (iOS's WXWebAssembly does not support them);
//   * valid with reference types and multi-value disabled (iOS rejects both), and with no
//     feature beyond those in ALLOWED_FEATURES;
//   * no import or export of a mutable Global, no second table or memory.
// Three independent opinions: our own section parser (exports, imports), binaryen's validator
// with the features restricted, and wabt's wasm-validate when it is installed.
//
// CLI: node scripts/check-wasm.js <file.wasm>

const fs = require('fs')
const { capture, which } = require('./lib')

// What rustc 1.96 emits for wasm32 with -reference-types,-multivalue and that the iOS
// engine of the supported WeChat versions runs (Safari 15 / iOS 15 has all of them).
const ALLOWED_FEATURES = ['MutableGlobals', 'SignExt', 'BulkMemory', 'BulkMemoryOpt', 'NontrappingFPToInt']

const KIND = ['func', 'table', 'memory', 'global', 'tag']

function readLeb(buf, pos) {
  let result = 0
  let shift = 0
  for (;;) {
    const b = buf[pos++]
    if (b === undefined) throw new Error('truncated LEB128')
    result += (b & 0x7f) * 2 ** shift
    shift += 7
    if ((b & 0x80) === 0) return [result, pos]
  }
}

function readName(buf, pos) {
  const [len, p] = readLeb(buf, pos)
  return [buf.subarray(p, p + len).toString('utf8'), p + len]
}

// Returns { exports: [{name, kind}], imports: [{module, name, kind, mutable?}], sections }.
function parse(buf) {
  buf = Buffer.from(buf)
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module (bad magic)')
  if (buf.readUInt32LE(4) !== 1) throw new Error(`unsupported wasm version ${buf.readUInt32LE(4)}`)
  const out = { exports: [], imports: [], sections: [] }
  let pos = 8
  while (pos < buf.length) {
    const id = buf[pos++]
    let size
    ;[size, pos] = readLeb(buf, pos)
    const end = pos + size
    if (id === 0) {
      const [name] = readName(buf, pos)
      out.sections.push({ id, name, size })
    } else {
      out.sections.push({ id, size })
    }
    if (id === 2) {
      let n
      let p = pos
      ;[n, p] = readLeb(buf, p)
      for (let i = 0; i < n; i++) {
        let module, name
        ;[module, p] = readName(buf, p)
        ;[name, p] = readName(buf, p)
        const kind = buf[p++]
        const imp = { module, name, kind: KIND[kind] || `kind ${kind}` }
        if (kind === 0) {
          ;[, p] = readLeb(buf, p)
        } else if (kind === 1) {
          p++ // reftype
          const flags = buf[p++]
          ;[, p] = readLeb(buf, p)
          if (flags & 1) [, p] = readLeb(buf, p)
        } else if (kind === 2) {
          const flags = buf[p++]
          ;[, p] = readLeb(buf, p)
          if (flags & 1) [, p] = readLeb(buf, p)
        } else if (kind === 3) {
          p++ // valtype
          imp.mutable = buf[p++] === 1
        } else {
          throw new Error(`import ${module}.${name} has unknown kind ${kind}`)
        }
        out.imports.push(imp)
      }
    } else if (id === 7) {
      let n
      let p = pos
      ;[n, p] = readLeb(buf, p)
      for (let i = 0; i < n; i++) {
        let name
        ;[name, p] = readName(buf, p)
        const kind = buf[p++]
        ;[, p] = readLeb(buf, p)
        out.exports.push({ name, kind: KIND[kind] || `kind ${kind}` })
      }
    }
    pos = end
  }
  return out
}

async function loadBinaryen() {
  return (await import('binaryen')).default
}

function featureMask(binaryen, names) {
  return names.reduce((m, n) => {
    if (binaryen.Features[n] === undefined) throw new Error(`binaryen has no feature ${n}`)
    return m | binaryen.Features[n]
  }, binaryen.Features.MVP)
}

// Returns a list of problems (empty when the module is fine).
async function check(bytes, { wabt = true } = {}) {
  const problems = []
  const info = parse(bytes)
  for (const e of info.exports) {
    if (e.kind === 'global') problems.push(`exports a Global "${e.name}" (iOS's WXWebAssembly rejects exported Globals)`)
    if (e.kind !== 'func' && e.kind !== 'memory' && e.kind !== 'global' && e.kind !== 'table') problems.push(`exports a ${e.kind} "${e.name}"`)
  }
  for (const i of info.imports) {
    if (i.kind === 'global') problems.push(`imports a Global ${i.module}.${i.name}`)
  }
  if (info.exports.filter((e) => e.kind === 'memory').length > 1) problems.push('exports more than one memory')

  const binaryen = await loadBinaryen()
  const mod = binaryen.readBinary(new Uint8Array(bytes))
  try {
    mod.setFeatures(featureMask(binaryen, ALLOWED_FEATURES))
    // binaryen prints the validator's messages itself; keep them off our stdout unless it fails.
    const captured = []
    const write = process.stdout.write
    process.stdout.write = (chunk, ...rest) => { captured.push(String(chunk)); return true }
    let ok
    try {
      ok = mod.validate()
    } finally {
      process.stdout.write = write
    }
    if (!ok) {
      const first = captured.join('').split('\n').filter((l) => /error|require/.test(l)).slice(0, 5)
      problems.push(`binaryen: not valid with only MVP + ${ALLOWED_FEATURES.join(', ')} enabled:\n    ${first.join('\n    ')}`)
    }
  } finally {
    mod.dispose()
  }

  if (wabt && which('wasm-validate')) {
    const tmp = require('path').join(require('os').tmpdir(), `tokengate-check-${process.pid}-${Date.now()}.wasm`)
    fs.writeFileSync(tmp, bytes)
    try {
      const r = capture('wasm-validate', ['--disable-reference-types', '--disable-multi-value', tmp])
      if (r.status !== 0) problems.push(`wasm-validate --disable-reference-types --disable-multi-value: ${(r.stderr + r.stdout).trim().split('\n').slice(0, 5).join('\n    ')}`)
    } finally {
      fs.unlinkSync(tmp)
    }
  }
  return problems
}

// Which of ALLOWED_FEATURES a binaryen module needs: those without which it no longer
// validates. Leaves the module's features set to exactly those.
function neededFeatures(binaryen, mod) {
  const write = process.stdout.write
  process.stdout.write = () => true // the validator prints every error
  try {
    const need = ALLOWED_FEATURES.filter((f) => {
      mod.setFeatures(featureMask(binaryen, ALLOWED_FEATURES.filter((g) => g !== f)))
      return !mod.validate()
    })
    mod.setFeatures(featureMask(binaryen, need))
    return need
  } finally {
    process.stdout.write = write
  }
}

async function usedFeatures(bytes) {
  const binaryen = await loadBinaryen()
  const mod = binaryen.readBinary(new Uint8Array(bytes))
  try {
    return neededFeatures(binaryen, mod)
  } finally {
    mod.dispose()
  }
}

module.exports = { check, parse, usedFeatures, neededFeatures, ALLOWED_FEATURES, featureMask, loadBinaryen }

if (require.main === module) {
  const file = process.argv[2]
  if (!file) {
    process.stderr.write('usage: node scripts/check-wasm.js <file.wasm>\n')
    process.exit(2)
  }
  check(fs.readFileSync(file)).then((problems) => {
    if (problems.length) {
      process.stderr.write(`${file} cannot run in the iOS mini-program engine:\n  - ${problems.join('\n  - ')}\n`)
      process.exit(1)
    }
    const info = parse(fs.readFileSync(file))
    process.stdout.write(`${file}: ok (${info.exports.length} exports, no Global; valid with MVP + ${ALLOWED_FEATURES.join(', ')}${which('wasm-validate') ? '; wasm-validate ok' : ''})\n`)
  }, (e) => {
    process.stderr.write(`${e.stack || e}\n`)
    process.exit(1)
  })
}
