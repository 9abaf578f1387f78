'use strict'
// A small headless mini-program runtime: loads app.json, app.js and pages as the WeChat
// runtime would (CommonJS modules with App, Page, getApp, getCurrentPages and wx in scope),
// keeps a page stack, and runs lifecycle hooks (onLaunch, onShow, onLoad, onReady, onUnload).
// There is no rendering; setData updates `data` and calls its callback.
//
// Module resolution: relative and root-absolute paths load from the project; 'tokengate' is
// what "Build npm" would put in miniprogram_npm/tokengate, i.e. the package's dist/ - here
// the runner hands it in (resolveNpm), from the repository's dist/.

const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')

const PARAMS = ['require', 'module', 'exports', '__filename', '__dirname',
  'wx', 'App', 'Page', 'Component', 'Behavior', 'getApp', 'getCurrentPages', 'console']

function parseUrl (url) {
  const [p, q] = String(url).split('?')
  const query = {}
  if (q) {
    for (const part of q.split('&')) {
      if (!part) continue
      const i = part.indexOf('=')
      const k = decodeURIComponent(i < 0 ? part : part.slice(0, i))
      query[k] = i < 0 ? '' : decodeURIComponent(part.slice(i + 1))
    }
  }
  return { route: p.replace(/^\//, ''), query }
}

function setPath (obj, key, value) {
  // 'a.b[2].c' -> nested assignment, as setData supports.
  const parts = []
  key.replace(/[^.[\]]+|\[(\d+)\]/g, (m, idx) => { parts.push(idx !== undefined ? Number(idx) : m); return m })
  let cur = obj
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof parts[i + 1] === 'number' ? [] : {}
    cur = cur[k]
  }
  cur[parts[parts.length - 1]] = value
}

class Runtime {
  /**
   * @param {object} o
   * @param {string} o.root            the mini-program project folder
   * @param {(nav) => object} o.makeWx  builds the wx object, given the navigation functions
   * @param {(name: string) => any} o.resolveNpm  module for a bare name ('tokengate')
   * @param {(kind, page, text) => void} o.log
   */
  constructor (o) {
    this.root = o.root
    this.resolveNpm = o.resolveNpm
    this.log = o.log || (() => {})
    this.cache = new Map()
    this.pageDefs = new Map()
    this.stack = []
    this.app = null
    this.appConfig = JSON.parse(fs.readFileSync(path.join(this.root, 'app.json'), 'utf8'))
    this.wx = o.makeWx({
      navigateTo: (opts) => this.navigateTo(opts.url),
      redirectTo: (opts) => this.redirectTo(opts.url),
      reLaunch: (opts) => this.reLaunch(opts.url),
      navigateBack: (opts) => this.navigateBack(opts.delta)
    })
    const self = this
    this.console = {
      log: (...a) => self.log('console', self.currentRoute(), a.join(' ')),
      info: (...a) => self.log('console', self.currentRoute(), a.join(' ')),
      warn: (...a) => self.log('console', self.currentRoute(), a.join(' ')),
      error: (...a) => self.log('console', self.currentRoute(), a.join(' ')),
      debug: () => {}
    }
    this.pending = new Set() // promises returned by lifecycle hooks and handlers
  }

  currentRoute () {
    const top = this.stack[this.stack.length - 1]
    return top ? top.route : 'app'
  }

  // ---- modules -----------------------------------------------------------------------------

  resolveFile (spec, fromDir) {
    let base
    if (spec.startsWith('/')) base = path.join(this.root, spec)
    else base = path.resolve(fromDir, spec)
    const candidates = [base, base + '.js', path.join(base, 'index.js')]
    for (const c of candidates) {
      if (!path.resolve(c).startsWith(path.resolve(this.root) + path.sep)) continue
      try { if (fs.statSync(c).isFile()) return c } catch (_) {}
    }
    throw new Error(`module '${spec}' not found from ${path.relative(this.root, fromDir) || '.'}`)
  }

  require (spec, fromDir) {
    if (!spec.startsWith('.') && !spec.startsWith('/')) return this.resolveNpm(spec)
    return this.load(this.resolveFile(spec, fromDir))
  }

  load (file) {
    if (this.cache.has(file)) return this.cache.get(file).exports
    const module = { exports: {} }
    this.cache.set(file, module)
    const code = fs.readFileSync(file, 'utf8')
    const fn = vm.compileFunction(code, PARAMS, { filename: file })
    const dir = path.dirname(file)
    const req = (spec) => this.require(spec, dir)
    const self = this
    fn.call(module.exports, req, module, module.exports, file, dir, this.wx,
      (def) => self.registerApp(def),
      (def) => self.registerPage(file, def),
      () => { throw new Error('Component() is not supported by the headless runner') },
      (def) => def,
      () => self.app,
      () => self.stack.slice(),
      this.console)
    return module.exports
  }

  // ---- App and Page ------------------------------------------------------------------------

  registerApp (def) {
    if (this.app) throw new Error('App() called twice')
    this.app = Object.assign({}, def)
    if (!this.app.globalData) this.app.globalData = {}
  }

  registerPage (file, def) {
    const route = path.relative(this.root, file).replace(/\\/g, '/').replace(/\.js$/, '')
    this.pageDefs.set(route, def || {})
  }

  hook (target, name, arg, route) {
    if (!target || typeof target[name] !== 'function') return undefined
    const r = target[name](arg)
    if (r && typeof r.then === 'function') {
      const p = Promise.resolve(r).catch((e) => this.log('error', route, `${name} threw: ${e && e.message}`))
      this.pending.add(p)
      p.finally(() => this.pending.delete(p))
    }
    return r
  }

  launch () {
    this.load(path.join(this.root, 'app.js'))
    if (!this.app) throw new Error('app.js did not call App()')
    const first = this.appConfig.pages[0]
    const opts = { path: first, query: {}, scene: 1001, referrerInfo: {} }
    this.log('nav', 'app', 'onLaunch')
    this.hook(this.app, 'onLaunch', opts, 'app')
    this.hook(this.app, 'onShow', opts, 'app')
    return this.openPage(first, {})
  }

  openPage (route, query) {
    if (!this.appConfig.pages.includes(route)) throw new Error(`page '${route}' is not in app.json`)
    if (!this.pageDefs.has(route)) this.load(path.join(this.root, route + '.js'))
    const def = this.pageDefs.get(route)
    if (!def) throw new Error(`${route}.js did not call Page()`)
    const page = {}
    for (const [k, v] of Object.entries(def)) if (k !== 'data') page[k] = v
    page.data = JSON.parse(JSON.stringify(def.data || {}))
    page.route = route
    page.options = query
    page.setData = (obj, cb) => {
      for (const [k, v] of Object.entries(obj || {})) setPath(page.data, k, v === undefined ? undefined : JSON.parse(JSON.stringify(v)))
      if (typeof cb === 'function') setImmediate(cb)
    }
    const prev = this.stack[this.stack.length - 1]
    if (prev) this.hook(prev, 'onHide', undefined, prev.route)
    this.stack.push(page)
    const q = Object.keys(query).length ? '?' + Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&') : ''
    this.log('nav', route, `onLoad${q}`)
    const r = this.hook(page, 'onLoad', query, route)
    this.hook(page, 'onShow', undefined, route)
    setImmediate(() => this.hook(page, 'onReady', undefined, route))
    return r
  }

  navigateTo (url) {
    if (this.stack.length >= 10) throw new Error('page stack limit (10) reached')
    const { route, query } = parseUrl(url)
    return this.openPage(route, query)
  }

  redirectTo (url) {
    const top = this.stack.pop()
    if (top) { this.log('nav', top.route, 'onUnload'); this.hook(top, 'onUnload', undefined, top.route) }
    const { route, query } = parseUrl(url)
    return this.openPage(route, query)
  }

  reLaunch (url) {
    while (this.stack.length) {
      const top = this.stack.pop()
      this.hook(top, 'onUnload', undefined, top.route)
    }
    const { route, query } = parseUrl(url)
    return this.openPage(route, query)
  }

  navigateBack (delta) {
    const n = Math.max(1, Number(delta) || 1)
    for (let i = 0; i < n && this.stack.length > 1; i++) {
      const top = this.stack.pop()
      this.log('nav', top.route, 'onUnload (navigateBack)')
      this.hook(top, 'onUnload', undefined, top.route)
    }
    const top = this.stack[this.stack.length - 1]
    this.log('nav', top.route, 'onShow')
    return this.hook(top, 'onShow', undefined, top.route)
  }

  /** The page on top of the stack. */
  top () { return this.stack[this.stack.length - 1] }

  /** Calls a page's handler as a tap/input would; returns what it returns. */
  fire (handler, event) {
    const page = this.top()
    if (!page || typeof page[handler] !== 'function') throw new Error(`${page && page.route} has no handler ${handler}`)
    this.log('user', page.route, handler + (event && event.__label ? ` ${event.__label}` : ''))
    return this.hook(page, handler, event, page.route)
  }
}

module.exports = { Runtime, parseUrl }
