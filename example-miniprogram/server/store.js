'use strict'
// In-memory state of the example auth server: login codes (the code2Session stand-in),
// token families with refresh-token rotation and reuse detection, and access tokens.
//
// Only sha256 hashes of tokens and codes are kept as keys; the raw values leave this module
// once, in the response that issues them.

const crypto = require('node:crypto')

function randomToken (bytes) {
  return crypto.randomBytes(bytes).toString('base64url')
}

function hashOf (value) {
  return crypto.createHash('sha256').update(String(value)).digest('hex')
}

/** Short, non-reversible label of a token for logs and timelines (first 6 hex of sha256). */
function shortHash (token) {
  return hashOf(token).slice(0, 6)
}

class Store {
  /**
   * @param {object} o
   * @param {number} o.accessTtl   access token lifetime, ms
   * @param {number} o.refreshTtl  refresh token lifetime, ms
   * @param {number} o.codeTtl     login code lifetime, ms (wx.login codes: 5 minutes)
   * @param {() => number} [o.now]
   */
  constructor ({ accessTtl, refreshTtl, codeTtl, now }) {
    this.accessTtl = accessTtl
    this.refreshTtl = refreshTtl
    this.codeTtl = codeTtl
    this.now = now || Date.now
    this.codes = new Map() // hash(code) -> { openid, exp, used }
    this.access = new Map() // hash(token) -> { family, gen, exp }
    this.refresh = new Map() // hash(token) -> { family, gen, exp, used }
    this.families = new Map() // id -> { id, openid, gen, revoked, revokedReason, created }
    this.nextFamily = 1
    this.ops = 0
  }

  // ---- login codes -----------------------------------------------------------------------

  mintCode (openid) {
    const code = randomToken(18)
    this.codes.set(hashOf(code), { openid: String(openid), exp: this.now() + this.codeTtl, used: false })
    this.tick()
    return code
  }

  /** The openid a code was minted for, without using the code (for concurrency stats). */
  peekCode (code) {
    if (typeof code !== 'string' || code.length === 0 || code.length > 256) return null
    const rec = this.codes.get(hashOf(code))
    return rec ? rec.openid : null
  }

  /** Single use, expires after codeTtl. Returns { openid } or { error }. */
  exchangeCode (code) {
    if (typeof code !== 'string' || code.length === 0 || code.length > 256) return { error: 'invalid_code' }
    const rec = this.codes.get(hashOf(code))
    if (!rec) return { error: 'invalid_code' }
    if (rec.used) return { error: 'code_used' }
    if (this.now() >= rec.exp) return { error: 'code_expired' }
    rec.used = true
    return { openid: rec.openid }
  }

  // ---- token families --------------------------------------------------------------------

  /** A new session (login): a new family, generation 1. */
  newFamily (openid, via) {
    const id = this.nextFamily++
    const fam = { id, openid: String(openid), via, gen: 0, revoked: false, revokedReason: null, created: this.now() }
    this.families.set(id, fam)
    return this.issue(fam)
  }

  issue (fam) {
    fam.gen += 1
    const now = this.now()
    const accessToken = randomToken(24)
    const refreshToken = randomToken(32)
    this.access.set(hashOf(accessToken), { family: fam.id, gen: fam.gen, exp: now + this.accessTtl })
    this.refresh.set(hashOf(refreshToken), { family: fam.id, gen: fam.gen, exp: now + this.refreshTtl, used: false })
    this.tick()
    return {
      family: fam.id,
      gen: fam.gen,
      tokens: {
        accessToken,
        refreshToken,
        expiresIn: this.accessTtl / 1000,
        refreshExpiresIn: this.refreshTtl / 1000,
        tokenType: 'Bearer'
      }
    }
  }

  /** Looks a refresh token up without consuming it (for concurrency stats). */
  peekRefresh (token) {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return null
    return this.refresh.get(hashOf(token)) || null
  }

  /**
   * Rotation with reuse detection (OAuth 2.0 Security BCP, 4.14.2): a refresh token is good
   * once; presenting a used one revokes the whole family, access tokens included.
   * Returns { family, gen, tokens } or { error, reused? }.
   */
  rotate (token) {
    const rec = this.peekRefresh(token)
    if (!rec) return { error: 'invalid_grant' }
    const fam = this.families.get(rec.family)
    if (!fam) return { error: 'invalid_grant' }
    if (fam.revoked) return { error: 'refresh_revoked', family: fam.id }
    if (rec.used) {
      this.revokeFamily(fam, 'refresh_reuse')
      return { error: 'refresh_reused', reused: true, family: fam.id }
    }
    if (this.now() >= rec.exp) return { error: 'refresh_expired', family: fam.id }
    rec.used = true
    return this.issue(fam)
  }

  /** Returns { family, gen, stale, openid } or { error } (token_expired, token_revoked, invalid_token). */
  checkAccess (token) {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return { error: 'invalid_token' }
    const rec = this.access.get(hashOf(token))
    if (!rec) return { error: 'invalid_token' }
    const fam = this.families.get(rec.family)
    if (!fam) return { error: 'invalid_token' }
    const stale = rec.gen < fam.gen
    if (fam.revoked) return { error: 'token_revoked', stale, family: fam.id, gen: rec.gen }
    if (this.now() >= rec.exp) return { error: 'token_expired', stale, family: fam.id, gen: rec.gen }
    return { family: fam.id, gen: rec.gen, stale, openid: fam.openid }
  }

  revokeFamily (fam, reason) {
    if (fam.revoked) return false
    fam.revoked = true
    fam.revokedReason = reason
    return true
  }

  /** Revokes every live family (or those of one openid). Returns how many. */
  revokeAll (openid, reason) {
    let n = 0
    for (const fam of this.families.values()) {
      if (openid != null && fam.openid !== String(openid)) continue
      if (this.revokeFamily(fam, reason || 'admin')) n++
    }
    return n
  }

  // ---- housekeeping: memory stays bounded under a soak test -------------------------------

  tick () {
    this.ops++
    if (this.ops % 256 === 0) this.prune()
  }

  prune () {
    const now = this.now()
    // Expired access tokens are kept a while so a late request still reads "token_expired".
    const accessGrace = Math.max(60000, this.accessTtl)
    for (const [k, rec] of this.codes) if (now >= rec.exp) this.codes.delete(k)
    for (const [k, rec] of this.access) if (now >= rec.exp + accessGrace) this.access.delete(k)
    // Used refresh tokens stay until they expire: reuse must still be detected until then.
    for (const [k, rec] of this.refresh) if (now >= rec.exp) this.refresh.delete(k)
    const live = new Set()
    for (const rec of this.access.values()) live.add(rec.family)
    for (const rec of this.refresh.values()) live.add(rec.family)
    for (const id of this.families.keys()) if (!live.has(id)) this.families.delete(id)
  }

  counts () {
    let revoked = 0
    for (const f of this.families.values()) if (f.revoked) revoked++
    return {
      families: this.families.size,
      familiesRevoked: revoked,
      accessTokens: this.access.size,
      refreshTokens: this.refresh.size,
      codes: this.codes.size
    }
  }
}

module.exports = { Store, hashOf, shortHash, randomToken }
