'use strict'
// A mini-program-like runtime for the tests: a Node `vm` context that has what the iOS
// mini-program's JS thread has and nothing more.
//
// * No TextEncoder, TextDecoder, WebAssembly, fetch, queueMicrotask, process, Buffer, require
//   of Node modules; eval / new Function disabled (codeGeneration.strings = false).
// * A WXWebAssembly whose instantiate(path, imports) accepts only a string path inside the
//   code package, ending in .wasm or .wasm.br (decompressed here with zlib, as the base
//   library does from 2.14.0), and instantiates with the real engine captured outside the
//   context. Options choose the result shape ({ instance, module } or the instance) and
//   whether .br is refused (an older base library).
// * The code package is a temporary folder laid out as the devtools' "build npm" does:
//   dist/ copied to miniprogram_npm/tokengate/ (or under a subpackage root).
// * Modules are wrapped the way the mini-program wraps them: (require, module, exports,
//   window, document, self, ...) with window/self/document undefined, no __dirname.
const fs = require('fs')
const os = require('os')
const path = require('path')
const vm = require('vm')
const zlib = require('zlib')

const REAL_WEBASSEMBLY = WebAssembly
const DIST = path.resolve(__dirname, '..', '..', 'dist')

// A code package with dist/ at <root>/<npmRoot>/miniprogram_npm/tokengate/.
function makePackage({ npmRoot = '', extra = {} } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-mp-'))
  fs.cpSync(DIST, path.join(root, npmRoot, 'miniprogram_npm', 'tokengate'), { recursive: true })
  for (const [rel, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), text)
  }
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

// The WeChat module wrapper's parameters that shadow browser globals.
const SHADOWED = ['window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen', 'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter', 'webkit', 'WeixinJSCore']

function createMiniProgram({ root, shape = 'both', acceptBrotli = true, wx, log = [], nodeModules = false } = {}) {
  const calls = []
  const timers = new Set()

  const WXWebAssembly = {
    instantiate(p, imports) {
      calls.push(p)
      if (typeof p !== 'string') {
        return Promise.reject(new TypeError('WXWebAssembly.instantiate: path must be a string (code package path), got ' + Object.prototype.toString.call(p)))
      }
      if (!/\.wasm(\.br)?$/.test(p)) return Promise.reject(new Error(`WXWebAssembly.instantiate: not a .wasm/.wasm.br path: ${p}`))
      if (/\.br$/.test(p) && !acceptBrotli) return Promise.reject(new Error(`WXWebAssembly.instantiate: .wasm.br unsupported by this base library: ${p}`))
      const rel = p.replace(/^\/+/, '')
      const file = path.join(root, rel)
      if (rel.split('/').includes('..') || !fs.existsSync(file)) {
        return Promise.reject(new Error(`WXWebAssembly.instantiate: no file ${p} in the code package`))
      }
      let bytes = fs.readFileSync(file)
      if (/\.br$/.test(p)) bytes = zlib.brotliDecompressSync(bytes)
      return REAL_WEBASSEMBLY.instantiate(bytes, imports).then((r) => {
        if (shape === 'instance') return r.instance
        return { instance: r.instance, module: r.module }
      })
    },
  }

  const sandbox = {
    console: {
      log: (...a) => log.push(['log', a.join(' ')]),
      info: (...a) => log.push(['info', a.join(' ')]),
      warn: (...a) => log.push(['warn', a.join(' ')]),
      error: (...a) => log.push(['error', a.join(' ')]),
      debug: (...a) => log.push(['debug', a.join(' ')]),
    },
    setTimeout: (fn, ms, ...args) => {
      const t = setTimeout(() => { timers.delete(t); fn(...args) }, ms)
      timers.add(t)
      return t
    },
    clearTimeout: (t) => { timers.delete(t); clearTimeout(t) },
    setInterval: (fn, ms, ...args) => { const t = setInterval(fn, ms, ...args); timers.add(t); return t },
    clearInterval: (t) => { timers.delete(t); clearInterval(t) },
    WXWebAssembly,
  }
  if (wx) sandbox.wx = wx
  const context = vm.createContext(sandbox, { name: 'mini-program', codeGeneration: { strings: false, wasm: true } })
  // V8 gives every context its own WebAssembly; the mini-program has none.
  vm.runInContext('delete globalThis.WebAssembly', context)

  const cache = new Map()
  function load(file) {
    if (cache.has(file)) return cache.get(file).exports
    const src = fs.readFileSync(file, 'utf8')
    const module = { exports: {} }
    cache.set(file, module)
    const wrapper = vm.runInContext(`(function (require, module, exports, ${SHADOWED.join(', ')}) {${src}\n})`, context, { filename: file })
    try {
      wrapper.call(module.exports, makeRequire(path.dirname(file)), module, module.exports)
    } catch (e) {
      cache.delete(file)
      throw e
    }
    return module.exports
  }
  function makeRequire(dir) {
    return function require(id) {
      if (!/^\.{1,2}\//.test(id) && !id.startsWith('/')) {
        // The mini-program resolves bare names in miniprogram_npm only: a package's index.js,
        // or a file in it ('tokengate/wasm2js'). With nodeModules (Alipay), node_modules as
        // Node does: package.json's main, or the file named.
        const npm = path.join(root, 'miniprogram_npm', id)
        for (const f of [path.join(npm, 'index.js'), npm + '.js']) if (fs.existsSync(f)) return load(f)
        if (nodeModules) {
          const [name, ...rest] = id.split('/')
          const pkg = path.join(root, 'node_modules', name)
          if (!rest.length && fs.existsSync(path.join(pkg, 'package.json'))) {
            const main = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).main || 'index.js'
            return load(path.join(pkg, /\.js$/.test(main) ? main : main + '.js'))
          }
          const file = path.join(pkg, ...rest)
          for (const f of [file, file + '.js']) if (/\.js$/.test(f) && fs.existsSync(f)) return load(f)
        }
        throw new Error(`module '${id}' is not defined`)
      }
      let file = id.startsWith('/') ? path.join(root, id) : path.join(dir, id)
      if (!file.startsWith(root)) throw new Error(`module '${id}' is outside the code package`)
      if (!/\.js$/.test(file)) file += '.js'
      if (!fs.existsSync(file)) throw new Error(`module '${id}' is not defined (from ${path.relative(root, dir) || '/'})`)
      return load(file)
    }
  }

  return {
    context,
    calls,
    log,
    require: makeRequire(root),
    run: (code) => vm.runInContext(code, context),
    dispose: () => { for (const t of timers) clearTimeout(t); timers.clear() },
  }
}

module.exports = { createMiniProgram, makePackage, DIST }
