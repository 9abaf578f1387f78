'use strict'
// Type tests of the shipped declarations (dist/index.d.ts):
//   good.ts must type-check (tsc --noEmit, with miniprogram-api-typings for `wx`);
//   bad.ts must fail, with an error on every line marked WRONG and on no other line.
// Exit code 0 when both hold. Run after `npm run build`.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const here = __dirname
const root = path.join(here, '..', '..')
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] })
const dts = path.join(root, 'dist', 'index.d.ts')
if (!fs.existsSync(dts)) {
  console.error('types: ' + dts + ' is missing; run `npm run build` first')
  process.exit(1)
}

function check(file) {
  const cfg = JSON.parse(fs.readFileSync(path.join(here, 'tsconfig.json'), 'utf8'))
  cfg.files = [file]
  const tmp = path.join(here, '.tsconfig.' + path.basename(file, '.ts') + '.json')
  fs.writeFileSync(tmp, JSON.stringify(cfg))
  try {
    const r = spawnSync(process.execPath, [tsc, '-p', tmp, '--pretty', 'false'], { cwd: here, encoding: 'utf8' })
    return { status: r.status, out: (r.stdout || '') + (r.stderr || '') }
  } finally {
    fs.unlinkSync(tmp)
  }
}

let failed = false

const good = check('good.ts')
if (good.status !== 0) {
  failed = true
  console.error('types: good.ts must type-check but did not:\n' + good.out)
} else {
  console.log('types: good.ts type-checks')
}

const bad = check('bad.ts')
const src = fs.readFileSync(path.join(here, 'bad.ts'), 'utf8').split('\n')
const wrong = new Set()
src.forEach((line, i) => { if (/\/\/ WRONG\s*$/.test(line)) wrong.add(i + 1) })
const errLines = new Set()
for (const m of bad.out.matchAll(/bad\.ts\((\d+),\d+\): error TS\d+/g)) errLines.add(Number(m[1]))
const missed = [...wrong].filter((l) => !errLines.has(l))
const extra = [...errLines].filter((l) => !wrong.has(l))
if (bad.status === 0) {
  failed = true
  console.error('types: bad.ts must fail to type-check but passed')
} else if (missed.length || extra.length) {
  failed = true
  if (missed.length) console.error('types: bad.ts lines accepted although wrong: ' + missed.map((l) => l + ': ' + src[l - 1].trim()).join('\n  '))
  if (extra.length) console.error('types: bad.ts unexpected errors on lines ' + extra.join(', ') + ':\n' + bad.out)
} else {
  console.log('types: bad.ts fails on each of its ' + wrong.size + ' wrong uses and nowhere else')
}
process.exit(failed ? 1 : 0)
