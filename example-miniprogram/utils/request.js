// The one tokengate client of the app. Pages use api(this) to make requests.
// `require('tokengate')` resolves to miniprogram_npm/tokengate after "Build npm".
const { createClient } = require('tokengate')
const config = require('./config')

const options = {
  platform: wx,
  baseURL: config.baseURL,
  login: { url: '/auth/login', method: 'POST' },
  refresh: { url: '/auth/refresh', method: 'POST', field: 'refreshToken' },
  timeout: 10000
}

if (config.envelope) {
  // The server wraps every body as { code, message, data }; token problems are HTTP 200 with
  // code 40101, a login it refuses is code 40102 (any other non-success code of a login is a
  // passing failure: the next request tries again), and the tokens of /auth/login and
  // /auth/refresh are under data.
  Object.assign(options, {
    envelope: { code: 'code', message: 'message', data: 'data', success: [0] },
    tokenFields: { accessToken: 'data.accessToken', refreshToken: 'data.refreshToken', expiresIn: 'data.expiresIn' },
    expiredWhen: { status: [401], code: [40101] },
    loginRequiredWhen: { code: [40102] }
  })
}

const client = createClient(options)

// Request ids are unique across launches: <launch>-<page>-<n>.
const launch = Date.now().toString(36)
let seq = 0

// Request helpers bound to a page: every request says which page sent it (X-Page) and carries
// an id (X-Request-Id) that a replay after a refresh keeps, so server logs can pair them up.
function api (page) {
  const route = (page && page.route) || 'app'
  function request (opts) {
    seq += 1
    const header = Object.assign({ 'X-Page': route, 'X-Request-Id': `${launch}-${route.split('/').pop()}-${seq}` }, opts.header)
    return client.request(Object.assign({}, opts, { header }))
  }
  return {
    request,
    get: (url, data, opts) => request(Object.assign({ url, method: 'GET', data }, opts)),
    post: (url, data, opts) => request(Object.assign({ url, method: 'POST', data }, opts))
  }
}

// Promise.allSettled is missing on older base libraries / iOS engines.
function settleAll (promises) {
  return Promise.all(promises.map((p) => Promise.resolve(p).then(
    (value) => ({ status: 'fulfilled', value }),
    (reason) => ({ status: 'rejected', reason })
  )))
}

module.exports = { client, api, config, settleAll }
