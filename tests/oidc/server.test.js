'use strict'
// The oidc-provider authorization server of the interop tests, driven over plain HTTP the way
// tokengate will drive it (form bodies, snake_case answers), and the wx.request form encoder.
//   node --test tests/oidc/

const test = require('node:test')
const assert = require('node:assert/strict')
const { startAuthServer, CLIENT_ID, GRANT_TYPE } = require('./server')
const { encodeForm, isFormContentType } = require('./form')

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function postForm (srv, data, header = FORM) {
  const res = await fetch(srv.tokenURL, { method: 'POST', headers: header, body: encodeForm(data) })
  const text = await res.text()
  let body = text
  try { body = JSON.parse(text) } catch (_) {}
  return { status: res.status, body, headers: res.headers }
}

// What tokengate sends for a silent login / a refresh, given the options of the server.
function loginBody (srv, code) { return Object.assign({ code }, srv.clientOptions().login.data) }
function refreshBody (srv, refreshToken) {
  const { refresh } = srv.clientOptions()
  return Object.assign({ [refresh.field]: refreshToken }, refresh.data)
}

async function login (srv, openid) {
  const r = await postForm(srv, loginBody(srv, srv.mintCode(openid)))
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body
}

async function refresh (srv, refreshToken) {
  return postForm(srv, refreshBody(srv, refreshToken))
}

async function me (srv, accessToken) {
  const headers = accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }
  const res = await fetch(srv.apiURL, { headers })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

// ---- the form body of wx.request -------------------------------------------------------------

test('encodeForm: encodeURIComponent(k)=encodeURIComponent(v) joined with &, in key order', () => {
  assert.equal(encodeForm({ a: 1, b: 2 }), 'a=1&b=2')
  assert.equal(encodeForm({ grant_type: 'refresh_token', client_id: 'tokengate-mp' }), 'grant_type=refresh_token&client_id=tokengate-mp')
  // encodeURIComponent, not the HTML form rules: a space is %20 (never +), reserved characters
  // and non-ASCII are percent-encoded, the unreserved marks of encodeURIComponent stay.
  assert.equal(encodeForm({ 'a b': 'c d' }), 'a%20b=c%20d')
  assert.equal(encodeForm({ q: 'x&y=z+1/2?#%' }), 'q=x%26y%3Dz%2B1%2F2%3F%23%25')
  assert.equal(encodeForm({ name: '微信' }), 'name=%E5%BE%AE%E4%BF%A1')
  assert.equal(encodeForm({ m: "-_.!~*'()" }), "m=-_.!~*'()")
  assert.equal(encodeForm({ z: 1, y: 2, x: 3 }), 'z=1&y=2&x=3')
  assert.equal(encodeForm({ n: 0, t: true, f: false, e: '' }), 'n=0&t=true&f=false&e=')
  // Whatever a server's form parser does, the values come back as the strings that were sent.
  const data = { code: 'a+b/c=', grant_type: GRANT_TYPE, note: 'x & y', zh: '登录' }
  assert.deepEqual(Object.fromEntries(new URLSearchParams(encodeForm(data))), data)
})

test('encodeForm: values are turned into text by encodeURIComponent itself, as WeChat documents', () => {
  // WeChat documents nothing for nested values; the documented rule applied literally.
  assert.equal(encodeForm({ o: { a: 1 } }), 'o=%5Bobject%20Object%5D')
  assert.equal(encodeForm({ arr: [1, 2] }), 'arr=1%2C2')
  assert.equal(encodeForm({ n: null, u: undefined }), 'n=null&u=undefined')
  // Only own enumerable string keys.
  const proto = { inherited: 1 }
  const obj = Object.create(proto)
  obj.own = 2
  Object.defineProperty(obj, 'hidden', { value: 3, enumerable: false })
  obj[Symbol('s')] = 4
  assert.equal(encodeForm(obj), 'own=2')
  assert.equal(encodeForm({}), '')
})

test('encodeForm: a string or binary body is sent as it is; no data sends an empty body', () => {
  assert.equal(encodeForm('a=1&b=%20'), 'a=1&b=%20')
  const buf = new ArrayBuffer(2)
  assert.equal(encodeForm(buf), buf)
  const view = new Uint8Array([1, 2])
  assert.equal(encodeForm(view), view)
  assert.equal(encodeForm(undefined), '')
  assert.equal(encodeForm(null), '')
  assert.equal(encodeForm(42), '42')
})

test('isFormContentType: the content-type header in any letter case, with parameters', () => {
  assert.equal(isFormContentType({ 'content-type': 'application/x-www-form-urlencoded' }), true)
  assert.equal(isFormContentType({ 'Content-Type': 'Application/X-WWW-Form-URLEncoded; charset=UTF-8' }), true)
  assert.equal(isFormContentType({ 'content-type': 'application/json' }), false)
  assert.equal(isFormContentType({ accept: 'application/x-www-form-urlencoded' }), false)
  assert.equal(isFormContentType({}), false)
  assert.equal(isFormContentType(undefined), false)
})

// ---- the authorization server ----------------------------------------------------------------

test('oidc-provider as the authorization server', async (t) => {
  const srv = await startAuthServer()
  t.after(() => srv.close())

  await t.test('listens on 127.0.0.1 only; the provider publishes both grants at /token', async () => {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(srv.issuer, srv.url)
    const res = await fetch(`${srv.url}/.well-known/openid-configuration`)
    assert.equal(res.status, 200)
    const meta = await res.json()
    assert.equal(meta.issuer, srv.issuer)
    assert.equal(meta.token_endpoint, `${srv.url}/token`)
    assert.ok(meta.grant_types_supported.includes(GRANT_TYPE), meta.grant_types_supported.join(' '))
    assert.ok(meta.grant_types_supported.includes('refresh_token'))
    assert.deepEqual(srv.clientOptions(), {
      baseURL: srv.url,
      login: { url: '/token', data: { grant_type: GRANT_TYPE, client_id: CLIENT_ID }, header: FORM },
      refresh: { url: '/token', field: 'refresh_token', data: { grant_type: 'refresh_token', client_id: CLIENT_ID }, header: FORM },
      tokenFields: { accessToken: 'access_token', refreshToken: 'refresh_token', expiresIn: 'expires_in' }
    })
  })

  await t.test('the custom grant exchanges a wx.login code for a standard token response', async () => {
    srv.resetStats()
    const r = await postForm(srv, loginBody(srv, srv.mintCode('openid-a')))
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    assert.equal(typeof r.body.access_token, 'string')
    assert.equal(typeof r.body.refresh_token, 'string')
    assert.notEqual(r.body.access_token, r.body.refresh_token)
    assert.equal(r.body.expires_in, 60)
    assert.equal(r.body.token_type, 'Bearer')
    assert.equal(srv.stats.codeExchanges.ok, 1)
    assert.deepEqual(srv.stats.token.ok, { [GRANT_TYPE]: 1 })

    const m = await me(srv, r.body.access_token)
    assert.equal(m.status, 200)
    assert.deepEqual(m.body, { sub: 'openid-a', n: 1 })
    assert.deepEqual((await me(srv, r.body.access_token)).body, { sub: 'openid-a', n: 2 })
  })

  await t.test('a wx.login code is single use; bad requests are OAuth errors', async () => {
    srv.resetStats()
    const code = srv.mintCode('openid-b')
    assert.equal((await postForm(srv, loginBody(srv, code))).status, 200)
    const again = await postForm(srv, loginBody(srv, code))
    assert.equal(again.status, 400)
    assert.equal(again.body.error, 'invalid_grant')
    const unknown = await postForm(srv, loginBody(srv, 'no-such-code'))
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.error, 'invalid_grant')
    assert.deepEqual(srv.stats.codeExchanges, { ok: 1, rejected: 2 })

    const missing = await postForm(srv, srv.clientOptions().login.data)
    assert.equal(missing.status, 400)
    assert.equal(missing.body.error, 'invalid_request')

    // oidc-provider takes form bodies only: a JSON body (wx.request's default) is refused,
    // which is why login and refresh need their `header`.
    const json = await fetch(srv.tokenURL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(loginBody(srv, srv.mintCode('openid-b')))
    })
    assert.equal(json.status, 400)
    assert.equal((await json.json()).error, 'invalid_request')

    const otherClient = await postForm(srv, Object.assign(loginBody(srv, srv.mintCode('openid-b')), { client_id: 'someone-else' }))
    assert.equal(otherClient.status, 401)
    assert.equal(otherClient.body.error, 'invalid_client')

    const noGrantType = await postForm(srv, { code: srv.mintCode('openid-b'), client_id: CLIENT_ID })
    assert.equal(noGrantType.status, 400)
    assert.equal(noGrantType.body.error, 'invalid_request')

    assert.equal(srv.stats.invalidGrant, 2)
    assert.deepEqual(srv.stats.invalidGrantBy, { [GRANT_TYPE]: 2 })
    assert.equal(srv.stats.token.requests[GRANT_TYPE], 5)
  })

  await t.test('a code expires after codeTTL', async () => {
    const short = await startAuthServer({ codeTTL: 0.05 })
    try {
      const code = short.mintCode('openid-c')
      await sleep(80)
      const r = await postForm(short, loginBody(short, code))
      assert.equal(r.status, 400)
      assert.equal(r.body.error, 'invalid_grant')
    } finally {
      await short.close()
    }
  })

  await t.test('/api/me: 401 without a valid bearer token, with an RFC 6750 challenge', async () => {
    srv.resetStats()
    const none = await me(srv)
    assert.equal(none.status, 401)
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tokengate-oidc"')
    const bogus = await me(srv, 'not-a-token')
    assert.equal(bogus.status, 401)
    assert.match(bogus.headers.get('www-authenticate'), /^Bearer realm="tokengate-oidc", error="invalid_token"/)
    assert.equal(bogus.body.error, 'invalid_token')
    // A refresh token is not an access token.
    const tokens = await login(srv, 'openid-d')
    assert.equal((await me(srv, tokens.refresh_token)).status, 401)
    const scheme = await fetch(srv.apiURL, { headers: { authorization: `Basic ${tokens.access_token}` } })
    assert.equal(scheme.status, 401)
    assert.equal(srv.stats.api.unauthorized, 4)
    assert.equal(srv.stats.unauthorized, 4)
  })

  await t.test('refresh rotates; a reused refresh token is invalid_grant and revokes the grant', async () => {
    srv.resetStats()
    const first = await login(srv, 'openid-e')
    const bystander = await login(srv, 'openid-f')

    const r1 = await refresh(srv, first.refresh_token)
    assert.equal(r1.status, 200, JSON.stringify(r1.body))
    assert.notEqual(r1.body.refresh_token, first.refresh_token, 'a new refresh token (rotation)')
    assert.notEqual(r1.body.access_token, first.access_token)
    assert.equal(r1.body.expires_in, 60)
    assert.equal(r1.body.token_type, 'Bearer')
    assert.deepEqual((await me(srv, r1.body.access_token)).body.sub, 'openid-e')
    // Rotation does not revoke the access token issued before it: it lives until it expires.
    assert.equal((await me(srv, first.access_token)).status, 200)

    const r2 = await refresh(srv, r1.body.refresh_token)
    assert.equal(r2.status, 200)
    assert.notEqual(r2.body.refresh_token, r1.body.refresh_token)

    // The stolen-token case: the rotated-away refresh token comes back.
    const reused = await refresh(srv, r1.body.refresh_token)
    assert.equal(reused.status, 400)
    assert.equal(reused.body.error, 'invalid_grant')
    assert.equal(srv.stats.token.details['refresh token already used'], 1)
    assert.equal(srv.stats.grantsRevoked, 1)

    // oidc-provider revoked the whole grant: the newest refresh token and every access token.
    const latest = await refresh(srv, r2.body.refresh_token)
    assert.equal(latest.status, 400)
    assert.equal(latest.body.error, 'invalid_grant')
    assert.equal(srv.stats.token.details['refresh token not found'], 1)
    for (const at of [first.access_token, r1.body.access_token, r2.body.access_token]) {
      assert.equal((await me(srv, at)).status, 401)
    }
    // Another login's grant is untouched.
    assert.equal((await me(srv, bystander.access_token)).status, 200)
    assert.equal((await refresh(srv, bystander.refresh_token)).status, 200)

    // A new silent login starts a new grant.
    const again = await login(srv, 'openid-e')
    assert.equal((await me(srv, again.access_token)).status, 200)

    assert.deepEqual(srv.stats.token.requests, { [GRANT_TYPE]: 3, refresh_token: 5 })
    assert.deepEqual(srv.stats.token.ok, { [GRANT_TYPE]: 3, refresh_token: 3 })
    assert.equal(srv.stats.invalidGrant, 2)
    assert.deepEqual(srv.stats.invalidGrantBy, { refresh_token: 2 })
    assert.equal(srv.stats.unauthorized, 3)
    assert.deepEqual(srv.events.filter((e) => e.kind === 'token').map((e) => `${e.grantType} ${e.status}`), [
      `${GRANT_TYPE} 200`, `${GRANT_TYPE} 200`,
      'refresh_token 200', 'refresh_token 200', 'refresh_token 400', 'refresh_token 400',
      'refresh_token 200', `${GRANT_TYPE} 200`
    ])
    assert.ok(!JSON.stringify(srv.events).includes(first.refresh_token), 'no token in the event log')
  })

  await t.test('an expired access token is 401; the refresh token still gets a fresh one', async () => {
    srv.setAccessTokenTTL(1)
    try {
      srv.resetStats()
      const tokens = await login(srv, 'openid-g')
      assert.equal(tokens.expires_in, 1)
      assert.equal((await me(srv, tokens.access_token)).status, 200)
      // Lifetimes count in whole seconds (clockTolerance 0): expired within 1 s.
      const deadline = Date.now() + 2500
      let status = 200
      while (status === 200 && Date.now() < deadline) {
        await sleep(100)
        status = (await me(srv, tokens.access_token)).status
      }
      assert.equal(status, 401)
      const r = await refresh(srv, tokens.refresh_token)
      assert.equal(r.status, 200)
      assert.equal(r.body.expires_in, 1)
      assert.equal((await me(srv, r.body.access_token)).status, 200)
      assert.equal(srv.stats.api.unauthorized, 1)
    } finally {
      srv.setAccessTokenTTL(60)
    }
  })

  await t.test('20 concurrent API calls with one token; servers do not share tokens', async () => {
    const tokens = await login(srv, 'openid-h')
    const answers = await Promise.all(Array.from({ length: 20 }, () => me(srv, tokens.access_token)))
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200))
    assert.deepEqual(new Set(answers.map((a) => a.body.n)).size, 20)

    const other = await startAuthServer()
    try {
      assert.equal((await me(other, tokens.access_token)).status, 401)
      assert.equal((await refresh(other, tokens.refresh_token)).status, 400)
    } finally {
      await other.close()
    }
    assert.equal((await me(srv, tokens.access_token)).status, 200)
  })

  await t.test('no server error along the way', () => {
    assert.equal(srv.lastServerError(), null)
  })
})

test('close() releases the port, keep-alive connections included', async () => {
  const srv = await startAuthServer()
  const tokens = await login(srv, 'openid-z')
  assert.equal((await me(srv, tokens.access_token)).status, 200)
  await srv.close()
  await srv.close() // idempotent
  await assert.rejects(fetch(srv.apiURL))
})
