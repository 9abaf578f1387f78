'use strict'
// The example auth server under its own abuse (issue 6, "Server side"): malformed JSON, huge
// bodies and headers, garbage bytes, slowloris-style partial requests and 1,000 concurrent
// connections on loopback. After each, it is still up and answers. Everything is bounded and
// stops by itself: node --test tests/js/server-abuse.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const http = require('node:http')
const path = require('node:path')

const { createAuthServer } = require(path.join(__dirname, '..', '..', 'example-miniprogram', 'server'))

// Short timeouts so the slow-client cases end quickly (the defaults are 10 s / 30 s / 5 s).
const OPTS = { port: 0, accessTtl: 60000, headersTimeout: 1000, requestTimeout: 2000, keepAliveTimeout: 1000, checkInterval: 200 }

async function withServer (fn, extra) {
  const srv = createAuthServer(Object.assign({}, OPTS, extra))
  await srv.listen(0)
  try { return await fn(srv) } finally { await srv.close() }
}

/** One HTTP exchange over its own connection. Resolves { status, body } or { error }. */
function req (srv, method, p, body, headers, timeoutMs) {
  return new Promise((resolve) => {
    const payload = body == null ? null : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const h = Object.assign({ connection: 'close' }, headers)
    if (payload) h['content-length'] = payload.length
    const r = http.request({ host: '127.0.0.1', port: srv.port, method, path: p, headers: h, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json = null
        try { json = JSON.parse(text) } catch (_) {}
        resolve({ status: res.statusCode, body: json, text })
      })
      res.on('error', (e) => resolve({ error: e.code || e.message }))
    })
    r.setTimeout(timeoutMs || 5000, () => { r.destroy(new Error('client timeout')) })
    r.on('error', (e) => resolve({ error: e.code || e.message }))
    r.end(payload || undefined)
  })
}

async function assertAlive (srv, what) {
  const r = await req(srv, 'GET', '/health')
  assert.equal(r.status, 200, `server answers /health after ${what}: ${JSON.stringify(r)}`)
  const code = srv.mintCode('openid-alive')
  const login = await req(srv, 'POST', '/auth/login', { code }, { 'content-type': 'application/json' })
  assert.equal(login.status, 200, `login still works after ${what}`)
  const prof = await req(srv, 'GET', '/api/profile', null, { authorization: 'Bearer ' + login.body.accessToken })
  assert.equal(prof.status, 200, `a protected route still works after ${what}`)
}

/** A raw socket: write `chunks` (strings/Buffers, or functions of the socket), report how it ended. */
function raw (srv, write, limitMs) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const s = net.connect(srv.port, '127.0.0.1')
    const got = []
    let done = false
    const finish = (how) => {
      if (done) return
      done = true
      clearTimeout(timer)
      s.destroy()
      resolve({ how, ms: Date.now() - t0, data: Buffer.concat(got).toString('latin1') })
    }
    const timer = setTimeout(() => finish('still-open'), limitMs || 5000)
    s.on('data', (c) => got.push(c))
    s.on('end', () => finish('closed-by-server'))
    s.on('close', () => finish('closed-by-server'))
    s.on('error', () => finish('closed-by-server'))
    s.on('connect', () => write(s))
  })
}

test('malformed JSON and odd bodies get 4xx, never a crash', { timeout: 30000 }, async () => {
  await withServer(async (srv) => {
    const bodies = [
      '{', '}', '{"code":', 'null', '[]', '"str"', '42', 'true', '{"code": 1e999999}',
      '{"code": "\\ud800"}', '{"__proto__": {"polluted": 1}, "code": "x"}',
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), '\u0000\u0001\u0002',
      '['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
      '{"refreshToken": ["array"]}', '{"refreshToken": {"$ne": null}}', '{"code": ""}'
    ]
    const routes = ['/auth/login', '/auth/refresh', '/auth/password', '/auth/logout', '/api/echo', '/__admin/faults', '/__dev/code']
    for (const route of routes) {
      for (const b of bodies) {
        const r = await req(srv, route === '/api/echo' ? 'PUT' : 'POST', route, b, { 'content-type': 'application/json' })
        assert.ok(!r.error, `${route} ${JSON.stringify(String(b).slice(0, 30))}: ${r.error}`)
        assert.ok(r.status < 500, `${route} ${JSON.stringify(String(b).slice(0, 30))} -> ${r.status}`)
      }
    }
    assert.equal({}.polluted, undefined, 'no prototype pollution')
    assert.equal(srv.stats().serverErrors, 0)
    assert.ok(srv.stats().malformed > 20)
    await assertAlive(srv, 'malformed bodies')
  })
})

test('garbage bytes and malformed HTTP get 400 or a closed socket', { timeout: 30000 }, async () => {
  await withServer(async (srv) => {
    const junk = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n',
      'GET /\u0000 HTTP/1.1\r\n\r\n',
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))
    ]
    for (const j of junk) {
      const r = await raw(srv, (s) => s.write(j), 5000)
      assert.notEqual(r.how, 'still-open', `socket left open for ${JSON.stringify(String(j).slice(0, 40))}`)
      if (r.data) assert.match(r.data, /^HTTP\/1\.1 4\d\d /, `answer to ${JSON.stringify(String(j).slice(0, 40))}`)
    }
    // request line and headers over Node's 16 KB limit: 431 or a 400, then closed
    const big = await raw(srv, (s) => s.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`), 5000)
    assert.notEqual(big.how, 'still-open')
    assert.match(big.data, /^HTTP\/1\.1 431 /)
    const url = await req(srv, 'GET', '/api/' + 'x'.repeat(64 * 1024))
    assert.ok(url.error || url.status === 431 || url.status === 400 || url.status === 401, JSON.stringify(url).slice(0, 200))
    await assertAlive(srv, 'garbage bytes')
  })
})

test('huge bodies: 413 without buffering them, the server stays up', { timeout: 60000 }, async () => {
  await withServer(async (srv) => {
    const rss0 = process.memoryUsage().rss
    // declared huge: refused from the header, connection cut after a bounded drain
    const declared = await raw(srv, (s) => {
      s.write('POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n')
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      let sent = 0
      const pump = () => {
        while (!s.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length
          if (!s.write(chunk)) return s.once('drain', pump)
        }
      }
      s.on('error', () => {})
      pump()
    }, 20000)
    assert.match(declared.data, /^HTTP\/1\.1 413 /)
    assert.equal(declared.how, 'closed-by-server', 'the server cuts a body it will not read')
    // chunked, no length: counted as it comes, 413 past maxBody
    const chunked = await raw(srv, (s) => {
      s.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
      const piece = 'a'.repeat(32 * 1024)
      let n = 0
      const pump = () => {
        while (!s.destroyed && n < 1024) {
          n++
          if (!s.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)) return s.once('drain', pump)
        }
      }
      s.on('error', () => {})
      pump()
    }, 20000)
    assert.notEqual(chunked.how, 'still-open')
    // just over the limit through a normal client: a clean 413
    const over = await req(srv, 'POST', '/auth/refresh', JSON.stringify({ refreshToken: 'x'.repeat(20 * 1024) }), { 'content-type': 'application/json' })
    assert.ok(over.status === 413 || over.error, JSON.stringify(over).slice(0, 200))
    // many large bodies at once
    const many = await Promise.all(Array.from({ length: 50 }, () => req(srv, 'POST', '/auth/login', Buffer.alloc(256 * 1024, 0x7b), { 'content-type': 'application/json' }, 15000)))
    for (const r of many) assert.ok(r.status === 413 || r.error, JSON.stringify(r).slice(0, 200))
    assert.ok(srv.stats().oversized >= 50)
    const grown = (process.memoryUsage().rss - rss0) / 1048576
    if (process.env.ABUSE_VERBOSE) console.log(`rss growth: ${grown.toFixed(1)} MB`)
    assert.ok(grown < 200, `memory grew by ${grown.toFixed(0)} MB`)
    await assertAlive(srv, 'huge bodies')
  })
})

test('slowloris: partial headers and trickled bodies are cut by the server; others are served meanwhile', { timeout: 60000 }, async () => {
  await withServer(async (srv) => {
    const N = 200
    const trickle = (first, byte) => (s) => {
      s.write(first)
      const iv = setInterval(() => { if (s.destroyed) clearInterval(iv); else s.write(byte) }, 150)
      s.on('close', () => clearInterval(iv))
    }
    const t0 = Date.now()
    const slowHeaders = Array.from({ length: N }, () => raw(srv, trickle('GET /health HTTP/1.1\r\nHost: x\r\nX-A: ', 'a'), 8000))
    const slowBodies = Array.from({ length: 50 }, () => raw(srv, trickle('POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', ' '), 8000))
    const silent = Array.from({ length: 50 }, () => raw(srv, () => {}, 8000)) // connect, say nothing
    // while they hang on, normal clients are served promptly
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (let i = 0; i < 5; i++) {
      const t = Date.now()
      const r = await req(srv, 'GET', '/health')
      assert.equal(r.status, 200)
      assert.ok(Date.now() - t < 1000, 'health answered quickly during the slowloris')
    }
    const results = await Promise.all([...slowHeaders, ...slowBodies, ...silent])
    const open = results.filter((r) => r.how === 'still-open').length
    assert.equal(open, 0, `${open} slow connections were never cut`)
    const answered = results.map((r) => r.data.slice(0, 12)).filter((d) => d)
    for (const d of answered) assert.equal(d, 'HTTP/1.1 408', 'a cut slow request gets 408')
    const latest = Math.max(...results.map((r) => r.ms))
    if (process.env.ABUSE_VERBOSE) console.log(`slowest cut: ${latest} ms`)
    assert.ok(latest < 6000, `the last slow connection was cut after ${latest} ms`)
    assert.ok(Date.now() - t0 < 10000)
    // an idle keep-alive connection is closed after keepAliveTimeout
    const idle = await raw(srv, (s) => s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'), 5000)
    assert.equal(idle.how, 'closed-by-server')
    assert.match(idle.data, /^HTTP\/1\.1 200 /)
    await assertAlive(srv, 'slowloris')
  })
})

test('1,000 concurrent connections on loopback: all answered, the server stays up', { timeout: 90000 }, async () => {
  await withServer(async (srv) => {
    const N = 1000
    const codes = Array.from({ length: 100 }, (_, i) => srv.mintCode('openid-c' + i))
    const login = await req(srv, 'POST', '/auth/login', { code: srv.mintCode('openid-x') }, { 'content-type': 'application/json' })
    const token = login.body.accessToken
    // Open all 1,000 first, then send one request on each, so they are concurrent for real.
    const sockets = await Promise.all(Array.from({ length: N }, () => new Promise((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1')
      s.once('connect', () => resolve(s))
      s.once('error', (e) => resolve({ error: e.code }))
    })))
    const failedConnects = sockets.filter((s) => s.error).length
    assert.equal(failedConnects, 0, `${failedConnects} connections refused`)
    const answers = await Promise.all(sockets.map((s, i) => new Promise((resolve) => {
      let lines
      if (i < 100) {
        const b = JSON.stringify({ code: codes[i] })
        lines = `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n${b}`
      } else if (i % 3 === 0) {
        lines = `GET /api/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`
      } else if (i % 3 === 1) {
        lines = 'GET /api/profile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' // no token: 401
      } else {
        lines = 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
      }
      const chunks = []
      const timer = setTimeout(() => { s.destroy(); resolve('timeout') }, 30000)
      s.on('data', (c) => chunks.push(c))
      s.on('error', () => {})
      s.on('close', () => {
        clearTimeout(timer)
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(Buffer.concat(chunks).toString('latin1'))
        resolve(m ? Number(m[1]) : 'no-answer')
      })
      s.write(lines)
    })))
    const hist = {}
    for (const a of answers) hist[a] = (hist[a] || 0) + 1
    assert.equal((hist[200] || 0) + (hist[401] || 0), N, `every connection answered: ${JSON.stringify(hist)}`)
    assert.equal(hist[401], answers.filter((_, i) => i >= 100 && i % 3 === 1).length, 'only the token-less ones were refused')
    const s = srv.stats()
    assert.equal(s.logins.ok, 100 + 1)
    assert.equal(s.serverErrors, 0)
    assert.ok(s.maxInFlight >= 1)
    await assertAlive(srv, '1,000 concurrent connections')
  }, { headersTimeout: 20000, requestTimeout: 30000 }) // the defaults' order; slowloris has its own test
})
