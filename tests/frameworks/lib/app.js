'use strict'
// Runs a mini-program code package (what "build npm" + the devtools' compile, or a framework's
// CLI, writes) in the mini-program sandbox of tests/sandbox (a Node vm context with no
// TextEncoder, TextDecoder, WebAssembly, fetch, queueMicrotask or eval) against the example
// auth server, and reports what happened on the wire and on the server.
//
// The sandbox gets, on top of tests/sandbox/miniprogram.js:
//   * App, Page, Component, Behavior, getApp, getCurrentPages, requirePlugin and `global`, as
//     the base library defines them (App() and Page() record their options; the app's onLaunch and
//     onShow run, then the first page's onLoad/onShow/onReady);
//   * the platform object of the runtime: `wx` (WeChat), `tt` (Douyin) or `my` (Alipay), made
//     over example-miniprogram/demo/wx.js (real HTTP to the server; login codes minted by the
//     server's dev endpoint, as the WeChat servers would);
//   * the runtime's WebAssembly object: WXWebAssembly (package paths), TTWebAssembly (the same
//     fake under Douyin's name), or none (Alipay's main thread; WeChat before 2.13).
//
// The app learns where the server is and how to report through getExtConfigSync():
// { baseURL, expireAccess(), report(err, result) } (see tests/frameworks/app-scenario.js).
const path = require('path')
const { createMiniProgram } = require('../../sandbox/miniprogram')
const { createAuthServer } = require('../../../example-miniprogram/server')
const { createWx } = require('../../../example-miniprogram/demo/wx')

// Alipay's API shape over the wx-shaped fake: my.request takes `headers` and answers
// `status`/`headers`; my.getAuthCode gives `authCode`; storage takes { key } and gives { data };
// failures carry `error`/`errorMessage`.
function alipayOf(wx) {
  const fail = (o, err, code) => o && typeof o.fail === 'function' && o.fail({ error: code, errorMessage: err && err.errMsg })
  return {
    request(o) {
      return wx.request({
        url: o.url,
        method: o.method,
        data: o.data,
        header: o.headers,
        dataType: o.dataType,
        timeout: o.timeout,
        success: (res) => o.success && o.success({ status: res.statusCode, headers: res.header, data: res.data }),
        fail: (err) => fail(o, err, 19),
        complete: o.complete,
      })
    },
    getAuthCode(o) {
      if (!o || o.scopes === undefined) throw new Error('my.getAuthCode: scopes is required')
      wx.login({ success: (r) => o.success && o.success({ authCode: r.code }), fail: (err) => fail(o, err, 11) })
    },
    getStorageSync(o) {
      const v = wx.getStorageSync(o && o.key)
      return { data: v === '' ? null : v }
    },
    setStorageSync(o) { wx.setStorageSync(o.key, o.data) },
    removeStorageSync(o) { wx.removeStorageSync(o.key) },
    getExtConfigSync: () => wx.getExtConfigSync(),
    getSystemInfoSync: () => ({ platform: 'devtools', version: '10.5.60', SDKVersion: '2.9.7', app: 'alipay' }),
  }
}

// Douyin's tt is wx-shaped; its environment comes from getEnvInfoSync.
function douyinOf(wx) {
  const tt = Object.assign({}, wx)
  delete tt.getAccountInfoSync
  tt.getEnvInfoSync = () => ({ microapp: { mpVersion: '', envType: 'development', appId: 'tt-test' }, common: { USER_DATA_PATH: 'ttfile://user' } })
  return tt
}

// What WeChat's base library has that framework runtimes read at launch.
function wechatExtras(wx) {
  const info = { platform: 'devtools', SDKVersion: '3.3.4', version: '8.0.50', system: 'node', language: 'en', pixelRatio: 2, windowWidth: 375, windowHeight: 667, screenWidth: 375, screenHeight: 667, statusBarHeight: 20, brand: 'devtools', model: 'node' }
  return Object.assign(wx, {
    getSystemInfoSync: () => Object.assign({}, info),
    getWindowInfo: () => Object.assign({}, info),
    getDeviceInfo: () => Object.assign({}, info),
    getAppBaseInfo: () => Object.assign({}, info),
    getSystemSetting: () => ({}),
    getAppAuthorizeSetting: () => ({}),
    getLaunchOptionsSync: () => ({ path: '', query: {}, scene: 1001, referrerInfo: {} }),
    getEnterOptionsSync: () => ({ path: '', query: {}, scene: 1001, referrerInfo: {} }),
    canIUse: () => true,
    nextTick: (fn) => setTimeout(fn, 0),
    onAppShow() {}, onAppHide() {}, offAppShow() {}, offAppHide() {}, onError() {}, onUnhandledRejection() {},
    onPageNotFound() {}, onThemeChange() {}, onMemoryWarning() {}, onNetworkStatusChange() {},
    reportAnalytics() {}, preloadAssets(o) { if (o && typeof o.success === 'function') setTimeout(() => o.success({}), 0) }, getUpdateManager: () => ({ onCheckForUpdate() {}, onUpdateReady() {}, onUpdateFailed() {}, applyUpdate() {} }),
    createSelectorQuery: () => ({ select() { return this }, selectAll() { return this }, boundingClientRect() { return this }, exec() {} }),
  })
}

/**
 * @param {object} o
 * @param {string} o.root        the code package
 * @param {'wx'|'tt'|'my'} [o.runtime]
 * @param {boolean} [o.acceptBrotli]  the (WX|TT)WebAssembly accepts .wasm.br paths
 * @param {'none'} [o.wasm]           no WebAssembly object at all (WeChat < 2.13; always so for 'my')
 * @param {boolean} [o.nodeModules]    bare names also resolve in node_modules (Alipay)
 * @param {number} [o.timeoutMs]
 * @param {(ctx) => Promise} [o.drive]  runs the app's part instead of waiting for ext.report
 * @returns {Promise<{ result, error, wire, stats, calls, log, pageKind, globals }>}
 */
async function runApp(o) {
  const runtime = o.runtime || 'wx'
  const server = createAuthServer({ accessTtl: 60000, dev: true }) // dev: wx.login mints codes at /__dev/code
  await server.listen(0)
  const wire = []
  const log = []
  let mp = null
  let platform = null
  try {
    let settle
    const done = new Promise((resolve) => { settle = resolve })
    const ext = {
      baseURL: server.url,
      // The server now rejects every access token it gave out; the client does not know.
      expireAccess() {
        for (const rec of server.store.access.values()) rec.exp = Date.now() - 1
      },
      report(err, result) { settle({ err, result }) },
    }
    const wx = wechatExtras(createWx({ codeURL: server.url + '/__dev/code', extConfig: ext, onWire: (w) => wire.push(w) }))
    platform = wx
    mp = createMiniProgram({ root: o.root, acceptBrotli: o.acceptBrotli !== false, log, nodeModules: !!o.nodeModules })
    const WXWebAssembly = mp.context.WXWebAssembly
    delete mp.context.WXWebAssembly
    if (runtime === 'wx') mp.context.wx = wx
    if (runtime === 'tt') {
      mp.context.tt = douyinOf(wx)
      mp.context.TTWebAssembly = WXWebAssembly
    }
    if (runtime === 'my') mp.context.my = alipayOf(wx)
    if (o.wasm === 'none') delete mp.context.TTWebAssembly
    else if (runtime === 'wx') mp.context.WXWebAssembly = WXWebAssembly

    // The base library's registration functions.
    let appDef = null
    const pages = new Map()
    const stack = []
    let current = null
    Object.assign(mp.context, {
      App(def) { if (appDef) throw new Error('App() called twice'); appDef = def },
      Page(def) { pages.set(current, { kind: 'Page', def }) },
      Component(def) { pages.set(current, { kind: 'Component', def }) },
      Behavior: (def) => def,
      getApp: () => appDef,
      getCurrentPages: () => stack.slice(),
      requirePlugin() { throw new Error('no plugins in the sandbox') },
      // The base library's `global`: an object shared by every module, not the global object.
      global: {},
    })
    const appJson = JSON.parse(require('fs').readFileSync(path.join(o.root, 'app.json'), 'utf8'))
    mp.require('/app.js')
    if (!appDef) throw new Error('app.js did not call App()')
    const launch = { path: appJson.pages[0], query: {}, scene: 1001, referrerInfo: {} }
    if (typeof appDef.onLaunch === 'function') appDef.onLaunch.call(appDef, launch)
    if (typeof appDef.onShow === 'function') appDef.onShow.call(appDef, launch)

    // The first page, as the base library would open it (its JS must at least load and register).
    current = appJson.pages[0]
    mp.require('/' + current + '.js')
    const page = pages.get(current)
    if (!page) throw new Error(`${current}.js registered no Page() or Component()`)
    let instance = null
    let loaded = null
    if (page.kind === 'Page') {
      // A Page() instance: the options' members, a copy of data, setData; onLoad, onShow, onReady.
      instance = {}
      for (const [k, v] of Object.entries(page.def)) if (k !== 'data') instance[k] = v
      instance.data = JSON.parse(JSON.stringify(page.def.data || {}))
      instance.route = current
      instance.options = {}
      instance.setData = (obj, cb) => {
        Object.assign(instance.data, JSON.parse(JSON.stringify(obj || {})))
        if (typeof cb === 'function') setTimeout(cb, 0)
      }
      stack.push(instance)
      if (typeof instance.onLoad === 'function') loaded = instance.onLoad({})
      if (typeof instance.onShow === 'function') instance.onShow()
      if (typeof instance.onReady === 'function') setTimeout(() => instance.onReady(), 0)
    }
    // A driver of the app's own (the example mini-program has no report): it gets the page and
    // says when the run is over.
    if (o.drive) {
      Promise.resolve()
        .then(() => o.drive({ app: appDef, page: instance, loaded, ext, server }))
        .then((result) => settle({ err: null, result }), (e) => settle({ err: { code: 'DRIVER', message: e && e.stack ? e.stack : String(e) } }))
    }

    const timeoutMs = o.timeoutMs || 20000
    const timer = setTimeout(() => settle({ err: { code: 'TIMEOUT', message: `the app did not report within ${timeoutMs} ms` } }), timeoutMs)
    const { err, result } = await done
    clearTimeout(timer)
    const globals = mp.run("['WebAssembly', 'WXWebAssembly', 'TTWebAssembly', 'wx', 'tt', 'my'].filter(function (n) { return typeof globalThis[n] !== 'undefined' }).join()")
    return { result, error: err || null, wire, stats: server.stats(), calls: mp.calls, log, pageKind: page.kind, globals: globals.split(',') }
  } finally {
    if (mp) mp.dispose()
    if (platform) platform.__close()
    await server.close()
  }
}

// What every run must show: one silent login, the first /api/profile with it; /api/items
// rejected once (the access token the server expired) and replayed once after one refresh.
function checkRun(assert, run) {
  assert.equal(run.error, null, `the app reported an error: ${JSON.stringify(run.error)}\n${run.log.map((l) => l.join(' ')).join('\n')}`)
  assert.ok(run.result && run.result.profile && run.result.profile.openid, 'the profile came back')
  assert.equal(run.result.items, 10)
  assert.equal(run.result.session.loggedIn, true)
  const s = run.stats
  assert.equal(s.logins.ok, 1, 'one silent login')
  assert.equal(s.refreshes.ok, 1, 'one refresh')
  assert.equal(s.api.expired, 1, 'one request rejected with the expired token')
  assert.equal(s.api.ok, 2, 'two requests answered')
  const items = run.wire.filter((w) => /^\/api\/items/.test(w.path))
  assert.deepEqual(items.map((w) => w.statusCode), [401, 200], '/api/items: rejected, then replayed')
  const auth = (w) => w.reqHeader && (w.reqHeader.Authorization || w.reqHeader.authorization)
  assert.ok(auth(items[0]) && auth(items[1]) && auth(items[0]) !== auth(items[1]), 'the replay carries the refreshed token')
  const order = run.wire.map((w) => w.path.split('?')[0])
  assert.deepEqual(order, ['/auth/login', '/api/profile', '/api/items', '/auth/refresh', '/api/items'])
}

module.exports = { runApp, checkRun, alipayOf, douyinOf }
