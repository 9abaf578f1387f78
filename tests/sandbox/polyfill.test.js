'use strict'
// dist/polyfill.js (fast-text-encoding behind a wrapper) in a context without TextEncoder or
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
