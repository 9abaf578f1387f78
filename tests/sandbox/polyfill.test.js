'use strict'
// dist/polyfill.js (its own small UTF-8 codec; fast-text-encoding before) in a context without TextEncoder or
// TextDecoder: what wasm-bindgen's glue asks of it, and UTF-8 edge cases.
const test = require('node:test')
const assert = require('node:assert/strict')
const { createMiniProgram, makePackage } = require('./miniprogram')

function withPolyfill(fn) {
  return () => {
    const pkg = makePackage()
    const mp = createMiniProgram({ root: pkg.root })
    try {
      assert.equal(mp.run('typeof TextEncoder + typeof TextDecoder'), 'undefinedundefined')
      const poly = mp.require('/miniprogram_npm/tokengate/polyfill.js')
      fn(poly, mp)
    } finally {
      mp.dispose()
      pkg.cleanup()
    }
  }
}

const SAMPLES = ['', 'ascii', 'é ü ß', '令牌刷新', '🎫🔑 astral', 'mixed é 令 🎫 end', '\u0000nul', 'x'.repeat(70000) + '令']

test('round-trips UTF-8 like Node does', withPolyfill((poly) => {
  const enc = new poly.TextEncoder()
  const dec = new poly.TextDecoder('utf-8', { ignoreBOM: true, fatal: true })
  for (const s of SAMPLES) {
    const bytes = enc.encode(s)
    assert.deepEqual(Buffer.from(bytes), Buffer.from(s, 'utf8'), `encode ${JSON.stringify(s.slice(0, 20))}`)
    assert.equal(dec.decode(bytes), s)
    assert.equal(dec.decode(new Uint8Array(Buffer.from(s, 'utf8'))), s)
  }
}))

test('what the glue does: decode() without input, subarray views, encodeInto absent', withPolyfill((poly) => {
  const dec = new poly.TextDecoder('utf-8', { ignoreBOM: true, fatal: true })
  assert.equal(dec.decode(), '')
  const mem = new Uint8Array(64)
  mem.set(Buffer.from('héllo', 'utf8'), 10)
  assert.equal(dec.decode(mem.subarray(10, 16)), 'héllo')
  assert.equal(typeof new poly.TextEncoder().encode('a').length, 'number')
}))

test('a BOM is kept with ignoreBOM and dropped without', withPolyfill((poly) => {
  const bytes = Buffer.from('\ufeffabc', 'utf8')
  assert.equal(new poly.TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), '\ufeffabc')
  assert.equal(new poly.TextDecoder().decode(bytes), 'abc')
}))

test('labels other than UTF-8 are refused', withPolyfill((poly) => {
  assert.throws(() => new poly.TextDecoder('latin1'), { name: 'RangeError' }) // the context's RangeError
  assert.equal(new poly.TextDecoder('UTF8').encoding, 'utf-8')
}))

test('installs itself on the global object when it has none', withPolyfill((poly, mp) => {
  assert.equal(mp.run('TextEncoder') , poly.TextEncoder)
  assert.equal(mp.run('TextDecoder'), poly.TextDecoder)
}))

test('uses the native classes where they exist (Node)', () => {
  const poly = require('../../dist/polyfill.js')
  assert.equal(poly.TextEncoder, globalThis.TextEncoder)
  assert.equal(poly.TextDecoder, globalThis.TextDecoder)
})

test('agrees with Node\'s native codec on 2,500 random strings (lone surrogates included)', withPolyfill((poly) => {
  // A seeded xorshift so a failure names a reproducible case.
  let seed = 0x2545f491
  const next = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0 }
  const pick = () => {
    const r = next() % 10
    if (r < 3) return next() % 0x80 // ASCII
    if (r < 5) return 0x80 + (next() % 0x780) // two bytes
    if (r < 7) return 0x800 + (next() % 0xf800) // three bytes, lone surrogates included
    return 0x10000 + (next() % 0x100000) // astral
  }
  const enc = new poly.TextEncoder()
  const dec = new poly.TextDecoder('utf-8', { ignoreBOM: true, fatal: true })
  const nativeDec = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true })
  for (let i = 0; i < 2500; i++) {
    let s = ''
    for (let n = next() % 24; n > 0; n--) s += String.fromCodePoint(pick())
    const want = new TextEncoder().encode(s) // lone surrogates become U+FFFD
    assert.deepEqual(Buffer.from(enc.encode(s)), Buffer.from(want), `encode case ${i}`)
    assert.equal(dec.decode(want), nativeDec.decode(want), `decode case ${i}`)
  }
  // Malformed bytes never come from Rust (its strings are valid UTF-8): the polyfill accepts
  // `fatal` without checking and does not replace them the way Node does (it collapses a bad
  // run into fewer U+FFFD), which is why they are not compared here.
}))
