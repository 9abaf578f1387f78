'use strict'
// A real OAuth 2.0 authorization server for the interop tests: oidc-provider (npm, the certified
// OpenID Connect provider for Node), configured, not rewritten. Loopback only, no outbound calls.
//
//   POST /token   grant_type=urn:tokengate:wechat-code  code=<wx.login code>  client_id=...
//                 the WeChat code exchange, a custom grant registered with
//                 provider.registerGrantType (oidc-provider's documented extension point)
//                 against a fake code2Session; answers access_token, refresh_token, expires_in,
//                 token_type, scope
//   POST /token   grant_type=refresh_token  refresh_token=...  client_id=...
//                 oidc-provider's own refresh grant, rotation on: a rotated-away refresh token
//                 presented again is answered 400 invalid_grant and its whole grant is revoked
//                 (every access and refresh token of that login), by oidc-provider itself
//   GET  /api/me  a protected resource: Authorization: Bearer <access_token>, checked against
//                 the provider (provider.AccessToken.find); 200 { sub, n }, 401 otherwise
//
// Both bodies of /token must be application/x-www-form-urlencoded (oidc-provider refuses JSON).
//
// Written against oidc-provider 8.8.1 (the devDependency: the last line whose supported runtimes
// include Node 18 and 20); it runs unchanged on 9.x, which wants Node 22 or later.
//
//   const { startAuthServer } = require('./tests/oidc/server')
//   const srv = await startAuthServer({ accessTokenTTL: 2 })
//   srv.mintCode('openid-1')   // what wx.login gives, for code2Session to accept once
//   ...
//   await srv.close()

const http = require('node:http')
const crypto = require('node:crypto')

const HOST = '127.0.0.1'
const CLIENT_ID = 'tokengate-mp'
const GRANT_TYPE = 'urn:tokengate:wechat-code'
const SCOPE = 'api'

const DEFAULTS = {
  clientId: CLIENT_ID,
  grantType: GRANT_TYPE,
  accessTokenTTL: 60, // seconds
  refreshTokenTTL: 7 * 24 * 3600, // seconds, each rotation starts a new one
  grantTTL: 30 * 24 * 3600, // seconds: the login, every token of it dies with it
  codeTTL: 300, // seconds a wx.login code stays valid (WeChat: 5 minutes), single use
  log: null // function (line) or null; lines never carry a token or a code
}

const LOG_LIMIT = 10000

// The adapter: oidc-provider's own MemoryAdapter is one LRU of 1000 entries shared by every
// provider in the process (it evicts tokens under load, and two servers see each other's
// data) and prints a warning. This one is a Map per server, expiring as the provider asks.
function memoryAdapterFactory () {
  const store = new Map() // key -> { payload, exp }
  const byGrant = new Map() // grantId -> Set of keys
  const byUid = new Map() // session uid -> id
  const byUserCode = new Map()
  const live = (key) => {
    const e = store.get(key)
    if (!e) return undefined
    if (e.exp !== null && Date.now() >= e.exp) { store.delete(key); return undefined }
    return e.payload
  }
  return class Adapter {
    constructor (name) { this.name = name }
    key (id) { return `${this.name}:${id}` }
    async upsert (id, payload, expiresIn) {
      const key = this.key(id)
      store.set(key, { payload, exp: expiresIn ? Date.now() + expiresIn * 1000 : null })
      if (payload.grantId && this.name !== 'Grant') {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set())
        byGrant.get(payload.grantId).add(key)
      }
      if (this.name === 'Session' && payload.uid) byUid.set(payload.uid, id)
      if (payload.userCode) byUserCode.set(payload.userCode, id)
    }
    async find (id) { return live(this.key(id)) }
    async findByUid (uid) { const id = byUid.get(uid); return id === undefined ? undefined : this.find(id) }
    async findByUserCode (code) { const id = byUserCode.get(code); return id === undefined ? undefined : this.find(id) }
    async consume (id) {
      const p = live(this.key(id))
      if (p) p.consumed = Math.floor(Date.now() / 1000)
    }
    async destroy (id) { store.delete(this.key(id)) }
    async revokeByGrantId (grantId) {
      const keys = byGrant.get(grantId)
      if (keys) for (const k of keys) store.delete(k)
      byGrant.delete(grantId)
    }
  }
}

function freshStats () {
  return {
    token: {
      requests: {}, // grant_type -> POST /token requests ('(none)' when it has none)
      ok: {}, // grant_type -> 200 answers
      errors: {}, // OAuth error code -> 4xx/5xx answers (invalid_grant, invalid_request, ...)
      details: {} // oidc-provider's error detail -> count ('refresh token already used', ...)
    },
    invalidGrant: 0, // 400 invalid_grant answers of /token, all grant types
    invalidGrantBy: {}, // grant_type -> 400 invalid_grant answers
    codeExchanges: { ok: 0, rejected: 0 }, // the fake code2Session
    grantsRevoked: 0, // grants oidc-provider revoked (reuse detection)
    api: { ok: 0, unauthorized: 0 }, // GET /api/... answers
    unauthorized: 0, // every 401 the server gave (the same as api.unauthorized)
    serverErrors: 0
  }
}

function resetInPlace (target, fresh) {
  for (const k of Object.keys(target)) delete target[k]
  Object.assign(target, fresh)
}

function listen (server) {
  return new Promise((resolve, reject) => {
    const onError = (e) => reject(e)
    server.once('error', onError)
    server.listen(0, HOST, () => { server.off('error', onError); resolve() })
  })
}

async function startAuthServer (opts = {}) {
  const o = Object.assign({}, DEFAULTS, opts)
  // oidc-provider is an ES module only: import(), not require().
  const oidcProvider = await import('oidc-provider')
  const server = http.createServer()
  server.keepAliveTimeout = 1000 // never keep a test process alive for long
  // The port first: the issuer (and so the provider) needs it.
  await listen(server)
  try {
    return await configure(server, o, oidcProvider)
  } catch (err) {
    server.close()
    throw err
  }
}

async function configure (server, o, { default: Provider, errors }) {
  const settings = { accessTokenTTL: o.accessTokenTTL }
  const log = typeof o.log === 'function' ? o.log : () => {}
  const { port } = server.address()
  const url = `http://${HOST}:${port}`
  const issuer = url
  const resource = `${url}/api` // the audience of every access token this server issues

  const stats = freshStats()
  const events = [] // { at, kind: 'token'|'api', grantType?, path?, status, error?, detail? }
  const record = (e) => {
    e.at = Date.now()
    events.push(e)
    if (events.length > LOG_LIMIT) events.splice(0, events.length - LOG_LIMIT)
  }
  const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1 }

  // The fake code2Session: codes that wx.login would give, single use, codeTTL seconds.
  const codes = new Map() // code -> { openid, exp }
  function mintCode (openid) {
    if (typeof openid !== 'string' || openid === '') throw new TypeError('mintCode(openid): a non-empty string')
    const code = crypto.randomBytes(16).toString('base64url')
    codes.set(code, { openid, exp: Date.now() + o.codeTTL * 1000 })
    return code
  }
  function code2Session (code) {
    const entry = codes.get(code)
    codes.delete(code) // used once, accepted or not
    if (!entry || Date.now() >= entry.exp) return null
    return entry.openid
  }

  // A signing key made here (oidc-provider would otherwise fall back to its published dev
  // keys); nothing this server issues is signed (opaque tokens, no id_token), but the
  // provider wants a keystore.
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = Object.assign(privateKey.export({ format: 'jwk' }), { use: 'sig', alg: 'ES256' })

  // Every openid is an account (what code2Session vouched for).
  async function findAccount (ctx, sub) {
    return { accountId: sub, async claims () { return { sub } } }
  }

  const resourceServerInfo = () => ({
    scope: SCOPE,
    audience: resource,
    accessTokenFormat: 'opaque',
    accessTokenTTL: settings.accessTokenTTL
  })

  const provider = new Provider(issuer, {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    clients: [{
      client_id: o.clientId,
      token_endpoint_auth_method: 'none', // a public client: a mini-program holds no secret
      grant_types: ['refresh_token', o.grantType],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'ES256'
    }],
    // oidc-provider switches the refresh_token grant on only when `scopes` has offline_access
    // (the default scopes do) or this helper is not its default; set, so that it does not hinge
    // on the scopes list. (The grants of this server issue their refresh tokens themselves.)
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Always a new refresh token on refresh; the old one is consumed, and presenting it again
    // makes the provider revoke the whole grant (its reuse detection).
    rotateRefreshToken: true,
    // Token lifetimes are checked to the second; the default tolerance of 15 s would keep an
    // expired access token working for 15 more seconds.
    clockTolerance: 0,
    ttl: {
      AccessToken: () => settings.accessTokenTTL,
      RefreshToken: () => o.refreshTokenTTL,
      Grant: () => o.grantTTL,
      Session: () => o.grantTTL,
      Interaction: () => 600,
      IdToken: () => 600,
      ClientCredentials: () => 600
    },
    findAccount,
    clientBasedCORS: () => false, // no browser calls this server
    features: {
      devInteractions: { enabled: false },
      // Every access token is for the API of this server (audience `resource`), opaque; the
      // client never sends `resource`: the grants below and the refresh grant put it there.
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget()
          return resourceServerInfo()
        }
      }
    }
  })

  // The WeChat code exchange as a grant type of the provider. The parameters named here are
  // the ones the token endpoint keeps for it (grant_type and client_id always).
  provider.registerGrantType(o.grantType, async function wechatCodeGrant (ctx, next) {
    const { client, params } = ctx.oidc
    if (typeof params.code !== 'string' || params.code === '') {
      throw new errors.InvalidRequest("missing required parameter 'code'")
    }
    const openid = code2Session(params.code)
    if (!openid) {
      stats.codeExchanges.rejected++
      throw new errors.InvalidGrant('wx.login code is invalid, expired or already used')
    }
    stats.codeExchanges.ok++

    ctx.oidc.entity('Account', await findAccount(ctx, openid))

    const grant = new provider.Grant({ accountId: openid, clientId: client.clientId })
    grant.addResourceScope(resource, SCOPE)
    const grantId = await grant.save()
    ctx.oidc.entity('Grant', grant)

    const at = new provider.AccessToken({
      accountId: openid,
      client,
      expiresWithSession: false,
      grantId,
      gty: o.grantType,
      scope: SCOPE
    })
    at.resourceServer = new provider.ResourceServer(resource, resourceServerInfo())
    ctx.oidc.entity('AccessToken', at)
    const accessToken = await at.save()

    const rt = new provider.RefreshToken({
      accountId: openid,
      client,
      expiresWithSession: false,
      grantId,
      gty: o.grantType,
      resource,
      rotations: 0,
      scope: SCOPE
    })
    ctx.oidc.entity('RefreshToken', rt)
    const refreshToken = await rt.save()

    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      refresh_token: refreshToken,
      scope: at.scope,
      token_type: at.tokenType
    }
    if (typeof next === 'function') await next()
  }, ['code'])

  // oidc-provider checks a static client's metadata on first use; check it now, so a bad
  // configuration fails here and not as a 400 invalid_client_metadata on the first /token call.
  try {
    await provider.Client.find(o.clientId)
  } catch (err) {
    throw new Error(`oidc-provider refuses the client: ${err.error_description || err.message}`)
  }

  // Counting, around every request the provider serves (koa middleware before its own).
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.method !== 'POST' || ctx.path !== '/token') return
    const gty = (ctx.oidc && ctx.oidc.params && ctx.oidc.params.grant_type) || '(none)'
    bump(stats.token.requests, gty)
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {}
    if (ctx.status === 200) {
      bump(stats.token.ok, gty)
      record({ kind: 'token', grantType: gty, status: 200 })
      log(`token ${gty} 200`)
      return
    }
    const error = body.error || `http_${ctx.status}`
    bump(stats.token.errors, error)
    if (error === 'invalid_grant') {
      stats.invalidGrant++
      bump(stats.invalidGrantBy, gty)
    }
    const detail = ctx.state.tokengateDetail
    record({ kind: 'token', grantType: gty, status: ctx.status, error, detail })
    log(`token ${gty} ${ctx.status} ${error}${detail ? ` (${detail})` : ''}`)
  })
  provider.on('grant.error', (ctx, err) => {
    const detail = err && (err.error_detail || err.error_description)
    if (detail) {
      bump(stats.token.details, detail)
      ctx.state.tokengateDetail = detail
    }
  })
  provider.on('grant.revoked', () => { stats.grantsRevoked++ })
  let lastServerError = null
  provider.on('server_error', (ctx, err) => {
    stats.serverErrors++
    lastServerError = err
    log(`server_error ${err && err.message}`)
  })

  // The protected resource: the API of the same origin, so one tokengate baseURL serves both.
  async function api (req, res) {
    const path = req.url.split('?')[0]
    const send = (status, body, headers = {}) => {
      const text = JSON.stringify(body)
      res.writeHead(status, Object.assign({
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store'
      }, headers))
      res.end(text)
    }
    const unauthorized = (error, description) => {
      stats.api.unauthorized++
      stats.unauthorized++
      record({ kind: 'api', path, status: 401, error: error || 'missing_token' })
      log(`api ${req.method} ${path} 401 ${error || 'missing_token'}`)
      // RFC 6750 section 3: no error code when the request carried no token at all.
      const challenge = error
        ? `Bearer realm="tokengate-oidc", error="${error}", error_description="${description}"`
        : 'Bearer realm="tokengate-oidc"'
      send(401, { error: error || 'invalid_request', error_description: description || 'no access token' }, { 'WWW-Authenticate': challenge })
    }
    if (req.method !== 'GET' || path !== '/api/me') {
      return send(404, { error: 'not_found' })
    }
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization || '')
    if (!m) return unauthorized(null, null)
    let token
    try {
      token = await provider.AccessToken.find(m[1])
    } catch (_) {
      token = undefined
    }
    // find() answers nothing for an unknown, expired, revoked (its grant revoked) or malformed
    // token. The audience and scope are this API's, and only this client's tokens count.
    if (!token || token.aud !== resource || !token.scopes.has(SCOPE) || token.clientId !== o.clientId) {
      return unauthorized('invalid_token', 'the access token is invalid, expired or revoked')
    }
    stats.api.ok++
    record({ kind: 'api', path, status: 200 })
    log(`api ${req.method} ${path} 200`)
    send(200, { sub: token.accountId, n: stats.api.ok })
  }

  const oidc = provider.callback()
  server.on('request', (req, res) => {
    if (req.url === '/api' || req.url.startsWith('/api/') || req.url.startsWith('/api?')) {
      api(req, res).catch((err) => {
        stats.serverErrors++
        lastServerError = err
        if (!res.headersSent) { res.writeHead(500); res.end() } else res.destroy()
      })
      return
    }
    oidc(req, res)
  })

  let closing = null
  function close () {
    if (!closing) {
      closing = new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
    return closing
  }

  return {
    url, // the origin: tokengate's baseURL
    issuer, // the same, as oidc-provider knows it
    tokenPath: '/token',
    tokenURL: `${url}/token`,
    apiURL: `${url}/api/me`,
    resource, // the audience of the access tokens
    clientId: o.clientId,
    grantType: o.grantType,
    scope: SCOPE,
    provider, // the oidc-provider instance, for tests that look inside
    stats, // live counters (see freshStats); resetStats() zeroes them in place
    events, // the last 10000 /token and /api answers, in order, without tokens
    mintCode,
    // The tokengate options for this server (plain data; `url`s relative to baseURL = url).
    clientOptions () {
      const header = { 'content-type': 'application/x-www-form-urlencoded' }
      return {
        baseURL: url,
        login: { url: '/token', data: { grant_type: o.grantType, client_id: o.clientId }, header: Object.assign({}, header) },
        refresh: { url: '/token', field: 'refresh_token', data: { grant_type: 'refresh_token', client_id: o.clientId }, header: Object.assign({}, header) },
        tokenFields: { accessToken: 'access_token', refreshToken: 'refresh_token', expiresIn: 'expires_in' }
      }
    },
    setAccessTokenTTL (seconds) {
      if (!Number.isInteger(seconds) || seconds < 1) throw new TypeError('setAccessTokenTTL(seconds): an integer >= 1')
      settings.accessTokenTTL = seconds
    },
    resetStats () {
      resetInPlace(stats, freshStats())
      events.length = 0
    },
    lastServerError: () => lastServerError,
    close
  }
}

module.exports = { startAuthServer, CLIENT_ID, GRANT_TYPE, DEFAULTS }
