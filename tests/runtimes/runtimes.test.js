'use strict'
// The package on the other mini-program runtimes, in the mini-program sandbox (tests/sandbox)
// against the example server, with a small native app (tests/frameworks/app-scenario.js at
// launch: a silent login, then the server expires the access token: one refresh, one replay):
//
// * Douyin: `tt` and TTWebAssembly (a package path, as WeChat's), "npm 构建" layout
//   (miniprogram_npm/); with and without .wasm.br support (base library 2.92.0.0);
// * Alipay: `my` and no WebAssembly of any kind on the page's thread: the JavaScript build of
//   the core through the wasm2js entry, from node_modules as Alipay resolves packages;
// * WeChat before base library 2.13 (no WXWebAssembly): the same JS build, "build npm" layout;
// * WeChat with WXWebAssembly and the wasm2js entry: the JS build is never evaluated.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { runApp, checkRun } = require('../frameworks/lib/app')
const { installTokengate, DIST } = require('../frameworks/lib/install')

const SCENARIO = fs.readFileSync(path.join(__dirname, '..', 'frameworks', 'app-scenario.js'), 'utf8')
  .replace(/^export function run\(/m, 'exports.run = run\nfunction run(')
const BR = '/miniprogram_npm/tokengate/tokengate_bg.wasm.br'

if (!fs.existsSync(path.join(DIST, 'tokengate_bg.wasm.js'))) throw new Error(`${DIST} has no tokengate_bg.wasm.js: run npm run build`)

// A native code package: app.js requires `entry`, creates the client (default platform) and
// runs the scenario at launch. layout: 'miniprogram_npm' (build npm) or 'node_modules'.
function makeApp({ entry, layout = 'miniprogram_npm', edit } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-runtime-'))
  const files = {
    'app.json': JSON.stringify({ pages: ['pages/index/index'] }),
    'app.js': [
      `var tg = require('${entry}')`,
      "var scenario = require('./scenario.js')",
      "var platform = typeof wx !== 'undefined' ? wx : typeof tt !== 'undefined' ? tt : my",
      'var ext = platform.getExtConfigSync()',
      'var client = tg.createClient({ baseURL: ext.baseURL })',
      'App({ onLaunch: function () { scenario.run(client, ext) } })',
      '',
    ].join('\n'),
    'pages/index/index.js': 'Page({})\n',
    'scenario.js': SCENARIO,
  }
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), text)
  }
  let pkg
  if (layout === 'node_modules') pkg = path.join(installTokengate(root), 'dist')
  else {
    pkg = path.join(root, 'miniprogram_npm', 'tokengate')
    fs.cpSync(DIST, pkg, { recursive: true })
  }
  if (edit) edit(pkg)
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

async function withApp(appOpts, runOpts, fn) {
  const app = makeApp(appOpts)
  try {
    return await fn(await runApp({ root: app.root, ...runOpts }))
  } finally {
    app.cleanup()
  }
}

test('Douyin: tt + TTWebAssembly with the package path (.wasm.br)', () =>
  withApp({ entry: 'tokengate' }, { runtime: 'tt' }, (run) => {
    checkRun(assert, run)
    assert.deepEqual(run.globals, ['TTWebAssembly', 'tt'])
    assert.deepEqual(run.calls, [BR])
  }))

test('Douyin before base library 2.92.0.0: .wasm.br refused, the .wasm beside it', () =>
  withApp({ entry: 'tokengate' }, { runtime: 'tt', acceptBrotli: false }, (run) => {
    checkRun(assert, run)
    assert.deepEqual(run.calls, [BR, BR.replace(/\.br$/, '')])
  }))

test('Douyin with no wasm in the package: the error says where it looked and what to set', () =>
  withApp({ entry: 'tokengate', edit: (pkg) => { fs.rmSync(path.join(pkg, 'tokengate_bg.wasm.br')); fs.rmSync(path.join(pkg, 'tokengate_bg.wasm')) } }, { runtime: 'tt' }, (run) => {
    assert.ok(run.error)
    assert.match(run.error.message, /TTWebAssembly/)
    assert.match(run.error.message, /\/miniprogram_npm\/tokengate\/tokengate_bg\.wasm\.br/)
    assert.match(run.error.message, /wasmPath/)
  }))

test('Alipay: my, no WebAssembly at all: the JS build through tokengate/dist/wasm2js.js', () =>
  withApp({ entry: 'tokengate/dist/wasm2js.js', layout: 'node_modules' }, { runtime: 'my', nodeModules: true }, (run) => {
    checkRun(assert, run)
    assert.deepEqual(run.globals, ['my'])
    assert.deepEqual(run.calls, [])
  }))

test('Alipay through the main entry: the error names the wasm2js entry', () =>
  withApp({ entry: 'tokengate', layout: 'node_modules' }, { runtime: 'my', nodeModules: true }, (run) => {
    assert.ok(run.error)
    assert.match(run.error.message, /no WXWebAssembly, TTWebAssembly or WebAssembly/)
    assert.match(run.error.message, /tokengate\/dist\/wasm2js\.js/)
  }))

test('WeChat before base library 2.13 (no WXWebAssembly): the JS build through tokengate/wasm2js', () =>
  withApp({ entry: 'tokengate/wasm2js' }, { runtime: 'wx', wasm: 'none' }, (run) => {
    checkRun(assert, run)
    assert.deepEqual(run.globals, ['wx'])
  }))

test('WeChat with WXWebAssembly and the wasm2js entry: the wasm loads, the JS build is never evaluated', () =>
  withApp({ entry: 'tokengate/wasm2js', edit: (pkg) => fs.writeFileSync(path.join(pkg, 'tokengate_bg.wasm.js'), "throw new Error('tokengate_bg.wasm.js evaluated')\n") }, { runtime: 'wx' }, (run) => {
    checkRun(assert, run)
    assert.deepEqual(run.calls, [BR])
  }))
