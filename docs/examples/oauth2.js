// tokengate in front of a standard OAuth 2.0 authorization server (Keycloak, Spring
// Authorization Server, Auth0, oidc-provider, ...). Quoted in the section "Using a standard
// OAuth 2.0 server" of README.md / README.zh-CN.md; tests/js/oidc.test.js runs this file as it
// is against oidc-provider (the two origins mapped onto a loopback server).
// #region oauth2
const { createClient } = require('tokengate')

// Token endpoints take form bodies; with this content type wx.request sends `data` as
// a=1&b=2 instead of JSON.
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const TOKEN_URL = 'https://auth.example.com/token' // your server's token endpoint
const CLIENT_ID = 'tokengate-mp' // a public client: a mini-program holds no secret

const client = createClient({
  baseURL: 'https://api.example.com',
  // the token endpoint is on another origin: list both (the token goes to these only)
  allowedOrigins: ['https://api.example.com', 'https://auth.example.com'],
  // silent login: the wx.login code through a grant type of your own on the token endpoint
  // (it calls code2Session); the body is { code, grant_type, client_id }
  login: {
    url: TOKEN_URL,
    data: { grant_type: 'urn:tokengate:wechat-code', client_id: CLIENT_ID },
    header: FORM
  },
  // the standard refresh_token grant (RFC 6749 section 6), rotation welcome
  refresh: {
    url: TOKEN_URL,
    field: 'refresh_token',
    data: { grant_type: 'refresh_token', client_id: CLIENT_ID },
    header: FORM
  },
  // the token response of RFC 6749 section 5.1
  tokenFields: { accessToken: 'access_token', refreshToken: 'refresh_token', expiresIn: 'expires_in' }
})
// #endregion

module.exports = { client }
