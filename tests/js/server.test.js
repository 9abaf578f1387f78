'use strict'
// The example auth server (example-miniprogram/server): node --test tests/js/server.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const { spawn } = require('node:child_process')

const SERVER_DIR = path.join(__dirname, '..', '..', 'example-miniprogram', 'server')
const { createAuthServer, loopbackHost, loopbackOrigin, LOGIN_ERROR_KINDS } = require(SERVER_DIR)
const { parseArgs } = require(path.join(SERVER_DIR, 'cli.js'))

function call (base, method, urlPath, { body, raw, headers, token } = {}) {
  return new Promise((resolve, reject) => {
    const b = new URL(base)
    // The path goes out exactly as given (no URL normalisation), so odd paths reach the server.
    const u = { hostname: b.hostname, port: b.port, path: urlPath }
    const h = Object.assign({}, headers)
    let payload = null
    if (raw != null) payload = Buffer.from(raw)
    else if (body !== undefined) { payload = Buffer.from(JSON.stringify(body)); h['Content-Type'] = 'application/json' }
    if (payload) h['Content-Length'] = payload.length
    if (token) h.Authorization = `Bearer ${token}`
    const req = http.request({ host: u.hostname, port: u.port, path: u.path, method, headers: h, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let data = text
        try { data = JSON.parse(text) } catch (_) {}
        resolve({ status: res.statusCode, data, headers: res.headers })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

async function withServer (options, fn) {
  const lines = []
  const srv = createAuthServer(Object.assign({ log: (l) => lines.push(l) }, options))
  await srv.listen(0)
  try {
    await fn(srv, srv.url, lines)
  } finally {
    await srv.close()
  }
}

async function login (srv, base) {
  const r = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u1') } })
  assert.equal(r.status, 200)
  return r.data
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

test('binds to 127.0.0.1 only', async () => {
  await withServer({}, async (srv) => {
    assert.equal(srv.server.address().address, '127.0.0.1')
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })
})

test('login: a minted code gives a token set once; reused, unknown and expired codes are refused', async () => {
  await withServer({ codeTtl: 500 }, async (srv, base) => {
    const code = srv.mintCode('u1')
    const r = await call(base, 'POST', '/auth/login', { body: { code } })
    assert.equal(r.status, 200)
    assert.equal(typeof r.data.accessToken, 'string')
    assert.equal(typeof r.data.refreshToken, 'string')
    assert.equal(r.data.expiresIn, 60)
    const again = await call(base, 'POST', '/auth/login', { body: { code } })
    assert.equal(again.status, 401)
    assert.equal(again.data.error, 'code_used')
    const unknown = await call(base, 'POST', '/auth/login', { body: { code: 'nope' } })
    assert.equal(unknown.status, 401)
    assert.equal(unknown.data.error, 'invalid_code')
    const missing = await call(base, 'POST', '/auth/login', { body: {} })
    assert.equal(missing.status, 400)
    const late = srv.mintCode('u1')
    await sleep(550)
    const expired = await call(base, 'POST', '/auth/login', { body: { code: late } })
    assert.equal(expired.status, 401)
    assert.equal(expired.data.error, 'code_expired')
  })
})

test('dev code endpoint mints codes the login accepts', async () => {
  await withServer({ dev: true }, async (srv, base) => {
    const c = await call(base, 'POST', '/__dev/code', { body: { openid: 'dev-user' } })
    assert.equal(c.status, 200)
    assert.equal(c.data.expiresIn, 300)
    const r = await call(base, 'POST', '/auth/login', { body: { code: c.data.code } })
    assert.equal(r.status, 200)
    const p = await call(base, 'GET', '/api/profile', { token: r.data.accessToken })
    assert.equal(p.data.openid, 'dev-user')
  })
  await withServer({ dev: false }, async (srv, base) => {
    const c = await call(base, 'POST', '/__dev/code', { body: {} })
    assert.equal(c.status, 404)
    assert.equal((await call(base, 'GET', '/__stats')).status, 404)
  })
})

test('protected routes: missing, unknown and expired tokens get 401; public routes need none', async () => {
  await withServer({ accessTtl: 1000 }, async (srv, base) => {
    const t = await login(srv, base)
    assert.equal((await call(base, 'GET', '/api/items', { token: t.accessToken })).status, 200)
    const item = await call(base, 'GET', '/api/items/3', { token: t.accessToken })
    assert.equal(item.data.id, 3)
    assert.equal((await call(base, 'GET', '/api/items/999', { token: t.accessToken })).status, 404)
    const none = await call(base, 'GET', '/api/items')
    assert.equal(none.status, 401)
    assert.equal(none.data.error, 'missing_token')
    assert.match(none.headers['www-authenticate'], /^Bearer /)
    const bad = await call(base, 'GET', '/api/items', { token: 'garbage' })
    assert.equal(bad.data.error, 'invalid_token')
    assert.equal((await call(base, 'GET', '/public/notice')).status, 200)
    await sleep(1050)
    const exp = await call(base, 'GET', '/api/items', { token: t.accessToken })
    assert.equal(exp.status, 401)
    assert.equal(exp.data.error, 'token_expired')
    assert.equal(srv.stats().api.expired, 1)
  })
})

test('refresh rotates; reusing a rotated refresh token revokes the whole family', async () => {
  await withServer({}, async (srv, base) => {
    const t1 = await login(srv, base)
    const r = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t1.refreshToken } })
    assert.equal(r.status, 200)
    const t2 = r.data
    assert.notEqual(t2.accessToken, t1.accessToken)
    assert.notEqual(t2.refreshToken, t1.refreshToken)
    // The old access token still works until it expires, but counts as stale.
    assert.equal((await call(base, 'GET', '/api/profile', { token: t1.accessToken })).status, 200)
    assert.equal(srv.stats().staleTokenRequests, 1)
    assert.equal((await call(base, 'GET', '/api/echo', { token: t2.accessToken })).data.tokenGen, 2)

    const reuse = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t1.refreshToken } })
    assert.equal(reuse.status, 401)
    assert.equal(reuse.data.error, 'refresh_reused')
    // The family is gone: the newest access and refresh tokens are refused too.
    const a = await call(base, 'GET', '/api/profile', { token: t2.accessToken })
    assert.equal(a.status, 401)
    assert.equal(a.data.error, 'token_revoked')
    const b = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t2.refreshToken } })
    assert.equal(b.status, 401)
    assert.equal(b.data.error, 'refresh_revoked')
    const s = srv.stats()
    assert.equal(s.reuseDetections, 1)
    assert.equal(s.familiesRevoked, 1)
    // Another family is untouched.
    const other = await login(srv, base)
    assert.equal((await call(base, 'GET', '/api/profile', { token: other.accessToken })).status, 200)
  })
})

test('refresh tokens expire; unknown ones are refused', async () => {
  await withServer({ refreshTtl: 150 }, async (srv, base) => {
    const t = await login(srv, base)
    const unknown = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: 'x' } })
    assert.equal(unknown.data.error, 'invalid_grant')
    await sleep(200)
    const r = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } })
    assert.equal(r.status, 401)
    assert.equal(r.data.error, 'refresh_expired')
  })
})

test('malformed JSON, non-object bodies and oversized bodies get 4xx; the server keeps serving', async () => {
  await withServer({ maxBody: 1024 }, async (srv, base) => {
    const bad = await call(base, 'POST', '/auth/refresh', { raw: '{"refreshToken": ', headers: { 'Content-Type': 'application/json' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.data.error, 'malformed_json')
    const arr = await call(base, 'POST', '/auth/login', { raw: '[1,2]' })
    assert.equal(arr.status, 400)
    const big = await call(base, 'POST', '/auth/login', { raw: JSON.stringify({ code: 'x'.repeat(5000) }) })
    assert.equal(big.status, 413)
    // Chunked, no Content-Length: the limit still applies while streaming.
    const chunked = await new Promise((resolve, reject) => {
      const req = http.request(new URL('/auth/refresh', base), { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      })
      req.on('error', reject)
      for (let i = 0; i < 8; i++) req.write('a'.repeat(512))
      req.end()
    })
    assert.equal(chunked, 413)
    // Garbage that is not HTTP at all.
    await new Promise((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.end('NOT HTTP\r\n\r\n'))
      s.on('data', () => {})
      s.on('close', resolve)
      s.on('error', resolve)
    })
    const st = srv.stats()
    assert.equal(st.malformed, 2)
    assert.equal(st.oversized, 2)
    assert.equal((await call(base, 'GET', '/health')).status, 200)
    assert.equal((await call(base, 'GET', '/nope')).status, 404)
    assert.equal((await call(base, 'GET', '/auth/login')).status, 405)
  })
})

test('envelope mode: { code, message, data }, token errors are HTTP 200 with code 40101', async () => {
  await withServer({ envelope: true }, async (srv, base) => {
    const r = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })
    assert.equal(r.status, 200)
    assert.equal(r.data.code, 0)
    assert.equal(typeof r.data.data.accessToken, 'string')
    const ok = await call(base, 'GET', '/api/items/2', { token: r.data.data.accessToken })
    assert.deepEqual([ok.status, ok.data.code, ok.data.data.id], [200, 0, 2])
    const rej = await call(base, 'GET', '/api/items/2', { token: 'wrong' })
    assert.deepEqual([rej.status, rej.data.code], [200, 40101])
    const used = await call(base, 'POST', '/auth/login', { body: { code: 'wrong' } })
    assert.deepEqual([used.status, used.data.code], [200, 40102])
    assert.equal(used.data.data, undefined)
    const bad = await call(base, 'POST', '/auth/refresh', { raw: 'nope' })
    assert.deepEqual([bad.status, bad.data.code], [400, 40000])
    const ref = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: r.data.data.refreshToken } })
    assert.equal(ref.data.code, 0)
    const reuse = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: r.data.data.refreshToken } })
    assert.deepEqual([reuse.status, reuse.data.code], [200, 40101])
  })
})

test('lifetime flags: parseArgs and the CLI on a free port', async () => {
  const o = parseArgs(['--access-ttl', '1.5', '--refresh-ttl', '30', '--code-ttl', '10', '--envelope', '--port', '0',
    '--latency', '5-10', '--hang-refresh', 'all', '--burst-5xx', '3@50', '--fail-login', '2', '--user', 'a:b'])
  assert.equal(o.accessTtl, 1500)
  assert.equal(o.refreshTtl, 30000)
  assert.equal(o.codeTtl, 10000)
  assert.equal(o.envelope, true)
  assert.deepEqual(o.faults, { latency: [5, 10], hangRefresh: 'all', burstLen: 3, burstEvery: 50, failLogin: 2 })
  assert.deepEqual(o.users, { a: 'b' })
  assert.throws(() => parseArgs(['--access-ttl', 'x']))
  assert.throws(() => parseArgs(['--bogus']))

  const child = spawn(process.execPath, [SERVER_DIR, '--dev', '--port', '0', '--access-ttl', '1', '--refresh-ttl', '5'], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    let out = ''
    const url = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server did not start: ' + out)), 5000)
      child.stdout.on('data', (c) => {
        out += c
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
        if (m) { clearTimeout(t); resolve(m[1]) }
      })
    })
    const c = await call(url, 'POST', '/__dev/code', { body: {} })
    const r = await call(url, 'POST', '/auth/login', { body: { code: c.data.code } })
    assert.equal(r.data.expiresIn, 1)
    assert.equal(r.data.refreshExpiresIn, 5)
    assert.equal((await call(url, 'GET', '/api/profile', { token: r.data.accessToken })).status, 200)
    await sleep(1100)
    assert.equal((await call(url, 'GET', '/api/profile', { token: r.data.accessToken })).data.error, 'token_expired')
    // The access log carries neither the token nor the code.
    assert.ok(!out.includes(r.data.accessToken) && !out.includes(r.data.refreshToken) && !out.includes(c.data.code))
    assert.match(out, /POST \/auth\/login 200/)
  } finally {
    child.kill('SIGTERM')
  }
})

test('fault injection: failed logins, 5xx bursts, failing and hanging refresh', async () => {
  await withServer({ dev: true, faults: { failLogin: 1, burst5xx: 2 } }, async (srv, base) => {
    const f = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })
    assert.equal(f.status, 401)
    assert.equal(f.data.error, 'login_failed')
    const t = await login(srv, base)
    assert.equal((await call(base, 'GET', '/api/items', { token: t.accessToken })).status, 503)
    assert.equal((await call(base, 'GET', '/api/items', { token: t.accessToken })).status, 503)
    assert.equal((await call(base, 'GET', '/api/items', { token: t.accessToken })).status, 200)

    srv.setFaults({ failRefresh: 1 })
    assert.equal((await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } })).status, 503)
    // A hanging refresh is never answered and does not consume the token.
    const adm = await call(base, 'POST', '/__admin/faults', { body: { hangRefresh: 1 } })
    assert.equal(adm.data.hangRefresh, 1)
    const hung = await Promise.race([
      call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } }).then(() => 'answered', () => 'error'),
      sleep(300).then(() => 'hung')
    ])
    assert.equal(hung, 'hung')
    assert.equal(srv.stats().refreshInFlight, 1)
    const r = await call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } })
    assert.equal(r.status, 200)
    assert.equal(srv.stats().maxRefreshInFlight, 2)
    assert.equal(srv.stats().refreshes.hung, 1)
  })
  await withServer({ faults: { burstLen: 1, burstEvery: 3 } }, async (srv, base) => {
    const t = await login(srv, base)
    const got = []
    for (let i = 0; i < 6; i++) got.push((await call(base, 'GET', '/public/notice')).status, (await call(base, 'GET', '/api/items', { token: t.accessToken })).status)
    assert.deepEqual(got.filter((_, i) => i % 2 === 1), [200, 200, 503, 200, 200, 503])
  })
})

test('latency and ?delay= hold a request before its token is judged; admin revoke and stats reset', async () => {
  await withServer({ dev: true, accessTtl: 150, faults: { latency: 20 } }, async (srv, base) => {
    const t = await login(srv, base)
    const t0 = Date.now()
    const r = await call(base, 'GET', '/api/items?delay=200', { token: t.accessToken })
    assert.ok(Date.now() - t0 >= 200)
    assert.equal(r.data.error, 'token_expired') // valid on arrival, expired when handled
    const t2 = await login(srv, base)
    const rv = await call(base, 'POST', '/__admin/revoke', { body: {} })
    assert.equal(rv.data.revoked, 2)
    assert.equal((await call(base, 'GET', '/api/items', { token: t2.accessToken })).data.error, 'token_revoked')
    await call(base, 'POST', '/__stats/reset', { body: {} })
    assert.equal(srv.stats().api.rejected, 0)
  })
})

test('concurrency stats: overlapping login/refresh calls, per family', async () => {
  await withServer({ faults: { latency: 250 } }, async (srv, base) => {
    const t = await login(srv, base)
    const u = await login(srv, base)
    await Promise.all([
      call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } }),
      call(base, 'POST', '/auth/refresh', { body: { refreshToken: t.refreshToken } }),
      call(base, 'POST', '/auth/refresh', { body: { refreshToken: u.refreshToken } }),
      call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('z') } })
    ])
    const s = srv.stats()
    assert.equal(s.maxRefreshInFlight, 3)
    assert.equal(s.maxRefreshInFlightPerFamily, 2)
    assert.equal(s.maxAuthInFlight, 4)
    assert.equal(s.authInFlight, 0)
    assert.equal(s.reuseDetections, 1) // the second refresh of the same token
  })
})

test('password login for the login page; logout revokes the family; no token in the log', async () => {
  await withServer({}, async (srv, base, lines) => {
    const bad = await call(base, 'POST', '/auth/password', { body: { username: 'demo', password: 'x' } })
    assert.equal(bad.status, 401)
    const r = await call(base, 'POST', '/auth/password', { body: { username: 'demo', password: 'demo' } })
    assert.equal(r.status, 200)
    assert.equal((await call(base, 'GET', '/api/profile', { token: r.data.accessToken })).data.openid, 'user:demo')
    await call(base, 'POST', '/auth/logout', { body: { refreshToken: r.data.refreshToken } })
    assert.equal((await call(base, 'GET', '/api/profile', { token: r.data.accessToken })).data.error, 'token_revoked')
    const all = lines.join('\n')
    assert.ok(lines.length >= 4)
    assert.ok(!all.includes(r.data.accessToken) && !all.includes(r.data.refreshToken))
  })
})

test('never crashes: 300 random requests (methods, paths, bodies, headers), then it still serves', async () => {
  await withServer({ maxBody: 2048 }, async (srv, base) => {
    let seed = 12345
    const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']
    const paths = ['/auth/login', '/auth/refresh', '/auth/password', '/auth/logout', '/api/items', '/api/items/1',
      '/api/items/x/like', '/api/echo?delay=abc', '/public/x', '/__dev/code', '/__admin/faults', '/__admin/revoke',
      '/__stats', '/%zz', '//api//items', '/api/', '/api/items/1/stock?delay=-5']
    const bodies = ['', '{', 'null', '[]', '"s"', '{"code":123}', '{"refreshToken":{}}', '{"code":"' + 'x'.repeat(300) + '"}',
      '{"latency":"a","hangRefresh":-1}', '{"username":1,"password":null}', 'x'.repeat(3000), '\u0000\uffff']
    const jobs = []
    for (let i = 0; i < 300; i++) {
      const method = methods[rnd(methods.length)]
      const headers = {}
      if (rnd(2)) headers.Authorization = ['Bearer', 'Bearer ', 'Basic x', 'Bearer ' + 'a'.repeat(600), 'bearer x y'][rnd(5)]
      const raw = method === 'GET' || method === 'HEAD' ? undefined : bodies[rnd(bodies.length)]
      jobs.push(call(base, method, paths[rnd(paths.length)], { raw, headers }).then((r) => r.status, (e) => e.code))
    }
    const statuses = await Promise.all(jobs)
    assert.ok(statuses.every((s) => typeof s === 'number' && s < 500), `statuses: ${[...new Set(statuses)]}`)
    assert.equal(srv.stats().serverErrors, 0)
    assert.equal((await call(base, 'GET', '/health')).status, 200)
    assert.equal((await login(srv, base)).tokenType, 'Bearer')
  })
})

// ---- dev routes: off by default, loopback only (issue 12, point 5) ---------------------------

const DEV_ENV = 'TOKENGATE_EXAMPLE_DEV'

async function withEnv (value, fn) {
  const old = process.env[DEV_ENV]
  if (value === undefined) delete process.env[DEV_ENV]
  else process.env[DEV_ENV] = value
  try { return await fn() } finally {
    if (old === undefined) delete process.env[DEV_ENV]
    else process.env[DEV_ENV] = old
  }
}

test('dev routes are off unless the option, --dev or TOKENGATE_EXAMPLE_DEV=1 turns them on', async () => {
  const devStatus = async (options) => {
    let got
    await withServer(options, async (srv, base) => {
      got = [(await call(base, 'POST', '/__dev/code', { body: {} })).status,
        (await call(base, 'POST', '/__admin/faults', { body: { hangRefresh: 'all' } })).status,
        (await call(base, 'GET', '/__stats')).status,
        srv.faults().hangRefresh]
    })
    return got
  }
  await withEnv(undefined, async () => {
    assert.deepEqual(await devStatus({}), [404, 404, 404, 0], 'off by default')
    assert.deepEqual(await devStatus({ dev: true }), [200, 200, 200, 'all'])
  })
  await withEnv('1', async () => {
    assert.deepEqual(await devStatus({}), [200, 200, 200, 'all'], 'on with TOKENGATE_EXAMPLE_DEV=1')
    assert.deepEqual(await devStatus({ dev: false }), [404, 404, 404, 0], 'dev: false wins over the environment')
  })
  await withEnv('0', async () => {
    assert.deepEqual(await devStatus({}), [404, 404, 404, 0])
  })
  assert.equal(parseArgs(['--dev']).dev, true)
  assert.equal(parseArgs(['--no-dev']).dev, false)
  assert.equal(parseArgs([]).dev, undefined)
})

test('dev routes refuse a cross-origin text/plain POST (CSRF): fault flags and codes stay as they were', async () => {
  await withServer({ dev: true }, async (srv, base) => {
    const codesBefore = srv.store.codes.size
    for (const origin of ['http://evil.example', 'https://attacker.test:3000', 'null', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example:3000', 'file://']) {
      const f = await call(base, 'POST', '/__admin/faults', {
        raw: JSON.stringify({ hangRefresh: 'all', failLogin: 'all', loginDownMs: 60000 }),
        headers: { 'Content-Type': 'text/plain', Origin: origin }
      })
      assert.equal(f.status, 403, `faults from Origin ${origin}`)
      assert.equal(f.data.error, 'forbidden')
      const c = await call(base, 'POST', '/__dev/code', { raw: '{"openid":"victim"}', headers: { 'Content-Type': 'text/plain', Origin: origin } })
      assert.equal(c.status, 403, `code from Origin ${origin}`)
      assert.equal(c.data.code, undefined)
      assert.equal((await call(base, 'POST', '/__admin/revoke', { body: {}, headers: { Origin: origin } })).status, 403)
      assert.equal((await call(base, 'POST', '/__stats/reset', { body: {}, headers: { Origin: origin } })).status, 403)
    }
    const f = srv.faults()
    assert.deepEqual([f.hangRefresh, f.failLogin, f.loginDownMs], [0, 0, 0], 'no fault flag changed')
    assert.equal(srv.store.codes.size, codesBefore, 'no code minted')
    assert.ok(srv.stats().devRefused >= 24)
    // The guard is for the dev routes only: the auth and API routes serve the mini-program.
    assert.equal((await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') }, headers: { Origin: 'http://evil.example' } })).status, 200)
  })
})

test('dev routes refuse a Host that is not loopback (DNS rebinding), whatever the Origin', async () => {
  await withServer({ dev: true }, async (srv, base) => {
    const port = srv.port
    for (const host of [`rebind.evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `10.0.0.1:${port}`, `[::2]:${port}`]) {
      // a rebound page is same-origin with itself: its Origin names the same evil host
      const c = await call(base, 'POST', '/__dev/code', { body: { openid: 'victim' }, headers: { Host: host, Origin: `http://${host}` } })
      assert.equal(c.status, 403, `Host ${host}`)
      assert.equal(c.data.code, undefined)
      const g = await call(base, 'GET', '/__stats', { headers: { Host: host } })
      assert.equal(g.status, 403, `GET /__stats, Host ${host}`)
      assert.equal((await call(base, 'POST', '/__admin/faults', { body: { hangRefresh: 'all' }, headers: { Host: host } })).status, 403)
    }
    assert.equal(srv.faults().hangRefresh, 0)
    // loopback names, any port, with or without a loopback Origin: allowed
    for (const [host, origin] of [[`127.0.0.1:${port}`, undefined], ['127.0.0.1', undefined], [`localhost:${port}`, `http://localhost:5173`],
      [`LOCALHOST:${port}`, undefined], [`[::1]:${port}`, `http://[::1]:8080`], ['[::1]', `https://127.0.0.1:${port}`]]) {
      const headers = { Host: host }
      if (origin) headers.Origin = origin
      const c = await call(base, 'POST', '/__dev/code', { body: { openid: 'dev' }, headers })
      assert.equal(c.status, 200, `Host ${host} Origin ${origin}`)
      assert.equal(typeof c.data.code, 'string')
    }
  })
})

test('loopback checks of Host and Origin values', () => {
  for (const h of ['127.0.0.1', '127.0.0.1:3000', 'localhost', 'localhost:1', 'LocalHost:65535', '[::1]', '[::1]:3000']) assert.equal(loopbackHost(h), true, h)
  for (const h of [undefined, '', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:3000', '127.0.0.2:3000',
    '::1', '[::1]x', 'localhost:3000:1', 'localhost:abc', 'user@localhost', '[::2]:80', '0.0.0.0:3000']) assert.equal(loopbackHost(h), false, String(h))
  for (const o of ['http://127.0.0.1:3000', 'http://localhost', 'https://localhost:8443', 'http://[::1]:8080']) assert.equal(loopbackOrigin(o), true, o)
  for (const o of [undefined, '', 'null', 'http://evil.example', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example', 'file://', 'http://10.0.0.1']) assert.equal(loopbackOrigin(o), false, String(o))
})

// ---- passing login failures (rule 6): 5xx, 408, 429, reset, 2xx without a token, no answer --

test('login faults that are no refusal: loginError by kind; the code is not used up', async () => {
  assert.deepEqual(LOGIN_ERROR_KINDS.slice().sort(), ['408', '429', '500', '502', '503', '504', 'empty', 'hang', 'reset'])
  await withServer({}, async (srv, base) => {
    const code = srv.mintCode('u1')
    for (const [kind, status, error] of [['503', 503, 'unavailable'], ['500', 500, 'unavailable'], ['408', 408, 'request_timeout'], ['429', 429, 'too_many_requests']]) {
      srv.setFaults({ loginError: 1, loginErrorKind: kind })
      const r = await call(base, 'POST', '/auth/login', { body: { code } })
      assert.deepEqual([r.status, r.data.error, r.data.accessToken], [status, error, undefined], kind)
      if (status === 429 || status === 503) assert.equal(r.headers['retry-after'], '1')
    }
    srv.setFaults({ loginError: 1, loginErrorKind: 'empty' })
    const empty = await call(base, 'POST', '/auth/login', { body: { code } })
    assert.equal(empty.status, 200)
    assert.equal(empty.data.accessToken, undefined, 'a 2xx without a token')
    srv.setFaults({ loginError: 1, loginErrorKind: 'reset' })
    await assert.rejects(call(base, 'POST', '/auth/login', { body: { code } }), (e) => /ECONNRESET|socket hang up/.test(e.code + ' ' + e.message))
    srv.setFaults({ loginError: 1, loginErrorKind: 'hang' })
    const hung = await Promise.race([call(base, 'POST', '/auth/login', { body: { code } }).then(() => 'answered', () => 'error'), sleep(300).then(() => 'hung')])
    assert.equal(hung, 'hung')
    // an unknown kind is ignored; the counter ran out: the same code now logs in
    srv.setFaults({ loginErrorKind: 'teapot' })
    assert.equal(srv.faults().loginErrorKind, 'hang')
    const r = await call(base, 'POST', '/auth/login', { body: { code } })
    assert.equal(r.status, 200)
    assert.equal(typeof r.data.accessToken, 'string')
    const st = srv.stats()
    assert.equal(st.logins.injectedPassing, 7)
    assert.equal(st.logins.ok, 1)
  })
})

test('loginDownMs: the login endpoint is down for a while, then answers again', async () => {
  await withServer({ envelope: true }, async (srv, base) => {
    srv.setFaults({ loginDownMs: 400, loginErrorKind: '503' })
    assert.ok(srv.faults().loginDownMs > 300 && srv.faults().loginDownMs <= 400)
    for (let i = 0; i < 3; i++) {
      const r = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })
      assert.deepEqual([r.status, r.data.code], [503, 50300])
    }
    await sleep(450)
    assert.equal(srv.faults().loginDownMs, 0)
    const ok = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })
    assert.deepEqual([ok.status, ok.data.code, typeof ok.data.data.accessToken], [200, 0, 'string'])
    // envelope mode: a 2xx without a token is { code: 0, data } with no token in data
    srv.setFaults({ loginError: 1, loginErrorKind: 'empty' })
    const empty = await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })
    assert.deepEqual([empty.status, empty.data.code, empty.data.data.accessToken], [200, 0, undefined])
    // loginDownMs: 0 ends an outage at once; reset clears it
    srv.setFaults({ loginDownMs: 60000 })
    srv.setFaults({ loginDownMs: 0 })
    assert.equal((await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })).status, 200)
    srv.setFaults({ loginDownMs: 60000 })
    srv.setFaults({ reset: true })
    assert.equal((await call(base, 'POST', '/auth/login', { body: { code: srv.mintCode('u') } })).status, 200)
  })
  const o = parseArgs(['--login-error', 'all', '--login-error-kind', 'reset', '--login-down', '2000'])
  assert.deepEqual(o.faults, { loginError: 'all', loginErrorKind: 'reset', loginDownMs: 2000 })
  assert.throws(() => parseArgs(['--login-error-kind', '418']), /--login-error-kind/)
})
