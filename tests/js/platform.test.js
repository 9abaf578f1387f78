'use strict'
// Platform adapters (wx, uni, my, tt) with fakes of each API's real callback shapes, and the
// default platform lookup (globalThis.wx, else uni, my, tt).
const test = require('node:test')
const assert = require('node:assert/strict')
const { Server, fakeWx, dist, sleep } = require('./client.fake')

// Alipay: my.request({ url, method, data, headers, dataType }) -> success({ status, headers,
// data }), fail({ error, errorMessage }); my.getAuthCode({ scopes }) -> success({ authCode });
// my.getStorageSync({ key }) -> { data }; my.setStorageSync({ key, data });
// my.removeStorageSync({ key }); my.uploadFile -> success({ data (string), statusCode, header });
// my.downloadFile -> success({ apFilePath }).
function fakeMy(server) {
  const store = {}
  const my = {
    store,
    requests: [],
    authCodes: 0,
    aborted: 0,
    request(o) {
      my.requests.push(o)
      const r = server.handle({ url: o.url, method: o.method, data: o.data, header: o.headers })
      const task = { abort() { my.aborted++ } }
      setTimeout(() => {
        if (r.fail) o.fail({ error: 12, errorMessage: r.fail })
        else o.success({ status: r.statusCode, headers: r.header || {}, data: r.data })
      }, 2)
      return task
    },
    uploadFile(o) {
      my.requests.push(o)
      const r = server.handle({ url: o.url, method: 'POST', data: o.formData, header: o.header })
      setTimeout(() => o.success({ statusCode: r.statusCode, header: {}, data: JSON.stringify(r.data) }), 2)
      return { abort() {} }
    },
    downloadFile(o) {
      my.requests.push(o)
      server.handle({ url: o.url, method: 'GET', header: o.header })
      setTimeout(() => o.success({ apFilePath: 'https://resource/apml1.jpg' }), 2)
      return { abort() {} }
    },
    getAuthCode(o) {
      my.authCodes++
      assert.equal(o.scopes, 'auth_base')
      setTimeout(() => o.success({ authCode: 'ali-' + my.authCodes, authSuccessScopes: ['auth_base'] }), 2)
    },
    getStorageSync(o) {
      assert.equal(typeof o, 'object', 'my.getStorageSync takes { key }')
      return Object.prototype.hasOwnProperty.call(store, o.key) ? { data: store[o.key] } : { data: null }
    },
    setStorageSync(o) {
      store[o.key] = o.data
    },
    removeStorageSync(o) {
      delete store[o.key]
    }
  }
  return my
}

// Douyin: tt mirrors wx (tt.request, tt.login({ success({ code, anonymousCode, isLogin }) })),
// and tells the environment with tt.getEnvInfoSync().microapp.envType.
function fakeTt(server, envType) {
  const tt = fakeWx(server)
  const login = tt.login
  tt.login = (o) => login({ success: (res) => o.success(Object.assign({ anonymousCode: 'anon', isLogin: true }, res)), fail: o.fail })
  tt.getEnvInfoSync = () => ({ microapp: { appId: 'tt1', envType: envType || 'production', mpVersion: '1.0.0' } })
  return tt
}

test('wx: explicit platform object', async () => {
  const server = new Server()
  const wx = fakeWx(server)
  const client = dist().createClient({ platform: wx, baseURL: 'https://api.example.com' })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
  assert.equal(wx.logins, 1)
})

test('my (Alipay): status/headers, getAuthCode, storage { key } / { data }', async () => {
  const server = new Server()
  const my = fakeMy(server)
  const client = dist().createClient({ platform: my, baseURL: 'https://api.example.com' })
  const r = await client.get('/me', undefined, { header: { 'X-A': '1' } })
  assert.equal(r.token, 'acc-1')
  assert.equal(my.authCodes, 1)
  const login = server.log.find((l) => l.path === '/auth/login')
  assert.equal(login.data.code, 'ali-1')
  const api = my.requests.find((o) => o.url.endsWith('/me'))
  assert.equal(api.headers.Authorization, 'Bearer acc-1', 'Alipay gets headers')
  assert.equal(api.headers['X-A'], '1')
  assert.equal(my.store['tokengate:session'].accessToken, 'acc-1', 'the session is stored as an object')
  const full = await client.request({ url: '/me', fullResponse: true })
  assert.equal(full.statusCode, 200)
  assert.equal(typeof full.header, 'object')
  // HTTP errors keep statusCode from `status`
  server.routes['/500'] = () => ({ statusCode: 500, data: { e: 1 } })
  const e = await client.get('/500').catch((x) => x)
  assert.equal(e.code, 'HTTP')
  assert.equal(e.statusCode, 500)
  // transport failure: errorMessage becomes errMsg
  server.routes['/net'] = () => ({ fail: 'network down' })
  const n = await client.get('/net').catch((x) => x)
  assert.equal(n.code, 'NETWORK')
  assert.equal(n.errMsg, 'network down')
  // upload / download
  const up = await client.upload({ url: '/up', filePath: 'a.png', fileName: 'file', formData: { q: 1 } })
  assert.deepEqual(up.body, { q: 1 })
  const down = await client.download({ url: '/f' })
  assert.equal(down.tempFilePath, 'https://resource/apml1.jpg')
  // a stored session is read back through { key } -> { data }
  const client2 = dist().createClient({ platform: my, baseURL: 'https://api.example.com' })
  await client2.ready
  assert.equal(client2.session().loggedIn, true)
})

test('uni: wx-shaped', async () => {
  const server = new Server()
  const uni = fakeWx(server)
  const client = dist().createClient({ platform: uni, baseURL: 'https://api.example.com' })
  assert.equal((await client.get('/me')).token, 'acc-1')
})

test('tt (Douyin): wx-shaped login; envType development allows http:', async () => {
  const server = new Server()
  const tt = fakeTt(server, 'development')
  const client = dist().createClient({ platform: tt, baseURL: 'http://dev.example.com' })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-1')
  const prod = dist().createClient({ platform: fakeTt(server, 'production'), baseURL: 'http://dev.example.com' })
  await assert.rejects(prod.ready, (e) => e.code === 'CONFIG' && /baseURL/.test(e.message))
})

test('default platform: globalThis.wx, else uni, my, tt; none -> CONFIG', async () => {
  const { createClient } = dist()
  const names = ['wx', 'uni', 'my', 'tt']
  const saved = {}
  for (const n of names) { saved[n] = globalThis[n]; delete globalThis[n] }
  try {
    assert.throws(() => createClient({ baseURL: 'https://api.example.com' }), (e) => e.code === 'CONFIG')

    const sMy = new Server()
    globalThis.tt = fakeTt(new Server())
    globalThis.my = fakeMy(sMy)
    const c1 = createClient({ baseURL: 'https://api.example.com' })
    assert.equal((await c1.get('/me')).token, 'acc-1')
    assert.equal(globalThis.my.authCodes, 1, 'my is preferred over tt')

    const sUni = new Server()
    globalThis.uni = fakeWx(sUni)
    const c2 = createClient({ baseURL: 'https://api.example.com' })
    await c2.get('/me')
    assert.equal(globalThis.uni.logins, 1, 'uni is preferred over my')

    const sWx = new Server()
    globalThis.wx = fakeWx(sWx)
    const c3 = createClient({ baseURL: 'https://api.example.com' })
    await c3.get('/me')
    assert.equal(globalThis.wx.logins, 1, 'wx first')
    assert.equal(globalThis.uni.logins, 1)
  } finally {
    for (const n of names) { if (saved[n] === undefined) delete globalThis[n]; else globalThis[n] = saved[n] }
  }
})

test('a platform without getAccountInfoSync is release: http: refused unless loopback', async () => {
  const { createClient } = dist()
  const wx = fakeWx(new Server())
  const origError = console.error
  console.error = () => {}
  try {
    await assert.rejects(createClient({ platform: wx, baseURL: 'http://api.example.com' }).ready, (e) => e.code === 'CONFIG')
  } finally {
    console.error = origError
  }
  await createClient({ platform: wx, baseURL: 'http://[::1]:8080' }).ready
})

test('a platform without uploadFile/downloadFile rejects upload/download with CONFIG', async () => {
  const server = new Server()
  const wx = fakeWx(server)
  delete wx.uploadFile
  delete wx.downloadFile
  const client = dist().createClient({ platform: wx, baseURL: 'https://api.example.com' })
  assert.equal((await client.upload({ url: '/u', filePath: 'x', name: 'f' }).catch((e) => e)).code, 'CONFIG')
  assert.equal((await client.download({ url: '/d' }).catch((e) => e)).code, 'CONFIG')
  await sleep(1)
})

test('a platform without checkSession: checkSession:true means login first', async () => {
  const server = new Server()
  const wx = fakeWx(server)
  delete wx.checkSession
  server.seed(wx.storage)
  const client = dist().createClient({ platform: wx, baseURL: 'https://api.example.com', checkSession: true })
  const r = await client.get('/me')
  assert.equal(r.token, 'acc-2')
  assert.equal(wx.logins, 1)
})
