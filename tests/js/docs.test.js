'use strict'
// The documentation cannot rot:
// 1. every code block marked `<!-- snippet: <file>#<region> -->` in README.md, README.zh-CN.md
//    and docs/*.md equals that region of the file (between `// #region <name>` and
//    `// #endregion`, common indentation removed);
// 2. the example files in docs/examples/ run against the built dist/ with a fake wx, and do
//    what the docs say they do (and naive.js, the snippet the docs warn about, really has the
//    races they describe);
// 3. the two READMEs link each other and docs/API.md (the API reference); their options
//    tables name every option of docs/API.md; the options, error codes and events of
//    docs/API.md's tables are the package's (js/index.d.ts or README.md's tables) and include
//    every one the READMEs and this test list; no doc points outside the repository.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const vm = require('vm')
const { Server, fakeWx, sleep, outcome, DIST } = require('./client.fake')

const ROOT = path.join(__dirname, '..', '..')
const EXAMPLES = path.join(ROOT, 'docs', 'examples')
const DOCS = ['README.md', 'README.zh-CN.md', 'docs/architecture.md', 'docs/API.md']
const API = 'docs/API.md'
const CODES = ['NETWORK', 'TIMEOUT', 'HTTP', 'BUSINESS', 'UNAUTHORIZED', 'LOGIN_REQUIRED', 'ABORTED', 'CONFIG']
const EVENTS = ['refresh', 'login', 'loginRequired', 'logout', 'error']

// ---- 1. quoted snippets --------------------------------------------------------------------

function regions(file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')
  const out = {}
  let name = null
  let body = []
  for (const line of lines) {
    const open = line.match(/^\s*\/\/ #region (\S+)\s*$/)
    if (open) {
      assert.equal(name, null, `${file}: region ${open[1]} opened inside region ${name}`)
      name = open[1]
      body = []
      continue
    }
    if (/^\s*\/\/ #endregion\s*$/.test(line)) {
      assert.notEqual(name, null, `${file}: #endregion without #region`)
      out[name] = dedent(body)
      name = null
      continue
    }
    if (name !== null) body.push(line)
  }
  assert.equal(name, null, `${file}: region ${name} is not closed`)
  return out
}

function dedent(lines) {
  const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length)
  const n = indents.length ? Math.min(...indents) : 0
  return lines.map((l) => l.slice(n)).join('\n').replace(/\s+$/, '')
}

// Every `<!-- snippet: file#region -->` of a Markdown file, with the fenced block after it.
function snippets(doc) {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8')
  const re = /<!-- snippet: (\S+?)#(\S+?) -->/g
  const out = []
  let m
  while ((m = re.exec(text))) {
    const after = text.slice(m.index + m[0].length)
    const block = after.match(/^\s*\n```[a-z]*\n([\s\S]*?)\n```/)
    out.push({ doc, file: m[1], region: m[2], code: block ? block[1].replace(/\s+$/, '') : null })
  }
  return out
}

function existingDocs() {
  return DOCS.filter((d) => fs.existsSync(path.join(ROOT, d)))
}

test('every marked code block in the docs equals its region of the example file', () => {
  let n = 0
  for (const doc of existingDocs()) {
    for (const s of snippets(doc)) {
      n++
      assert.notEqual(s.code, null, `${doc}: the snippet marker for ${s.file}#${s.region} is not followed by a fenced code block`)
      assert.ok(fs.existsSync(path.join(ROOT, s.file)), `${doc}: ${s.file} does not exist`)
      const r = regions(s.file)
      assert.ok(s.region in r, `${doc}: ${s.file} has no region ${s.region}`)
      assert.equal(s.code, r[s.region], `${doc}: the block marked ${s.file}#${s.region} differs from the file`)
    }
  }
  assert.ok(n >= 10, `at least 10 marked snippets across the docs (found ${n})`)
})

test('both READMEs quote every region of docs/examples', () => {
  const files = []
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.js')) files.push(path.relative(ROOT, p).split(path.sep).join('/'))
    }
  }
  walk(EXAMPLES)
  assert.ok(files.length >= 5, 'the example files are there')
  for (const doc of ['README.md', 'README.zh-CN.md']) {
    const quoted = new Set(snippets(doc).map((s) => s.file + '#' + s.region))
    for (const f of files) {
      for (const name of Object.keys(regions(f))) {
        assert.ok(quoted.has(f + '#' + name), `${doc} quotes ${f}#${name}`)
      }
    }
  }
})

// ---- 3. links and the options table ---------------------------------------------------------

test('README.md and README.zh-CN.md link each other', () => {
  const en = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const zh = fs.readFileSync(path.join(ROOT, 'README.zh-CN.md'), 'utf8')
  assert.match(en, /\]\(\.?\/?README\.zh-CN\.md\)/, 'README.md links README.zh-CN.md')
  assert.match(zh, /\]\(\.?\/?README\.md\)/, 'README.zh-CN.md links README.md')
  for (const [doc, text] of [['README.md', en], ['README.zh-CN.md', zh]]) {
    assert.match(text, /\]\(\.?\/?docs\/API\.md(#[^)]*)?\)/, `${doc} links docs/API.md`)
  }
})

// README*, docs/*.md and example-miniprogram/README.md: no path outside the repository, in
// the text or as a relative link.
test('no doc points outside the repository', () => {
  const docs = fs.readdirSync(ROOT).filter((f) => /^README.*\.md$/.test(f))
    .concat(fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => 'docs/' + f))
    .concat(['example-miniprogram/README.md'])
  for (const doc of docs) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8')
    for (const re of [/\.\.\/shared\b/, /\bshared\/(API|TOOLCHAIN)\.md/, /\/work\//]) {
      assert.doesNotMatch(text, re, `${doc} refers to a path outside the repository`)
    }
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].replace(/#.*$/, '')
      if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      const abs = path.resolve(ROOT, path.dirname(doc), target)
      assert.ok(!path.relative(ROOT, abs).startsWith('..') && !path.isAbsolute(target), `${doc}: the link ${m[1]} leaves the repository`)
    }
  }
})

// Names (first column, in backticks, quotes of an event name removed) of the first table
// whose header starts with one of `headers`: options, error codes or events.
function optionTable(text, headers) {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => headers.some((h) => new RegExp('^\\|\\s*' + h + '\\s*\\|').test(l)))
  if (start < 0) return null
  const names = []
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const m = lines[i].match(/^\|\s*`'?([A-Za-z_]+)'?`/)
    if (m) names.push(m[1])
  }
  return names
}

const readDoc = (doc) => fs.readFileSync(path.join(ROOT, doc), 'utf8')

// docs/API.md's three tables.
function apiTables() {
  const text = readDoc(API)
  const t = { options: optionTable(text, ['option']), codes: optionTable(text, ['code']), events: optionTable(text, ['event']) }
  assert.ok(t.options && t.options.length >= 15, `${API} has an options table (| option | ...)`)
  assert.ok(t.codes && t.codes.length >= 8, `${API} has an error code table (| code | ...)`)
  assert.ok(t.events && t.events.length >= 5, `${API} has an events table (| event | ...)`)
  return t
}

// Members of `export interface <name> {` or of `export type <name> =` in js/index.d.ts.
function declared(dts, name) {
  const iface = dts.match(new RegExp('export interface ' + name + '\\b[^{]*\\{([\\s\\S]*?)\\n\\}'))
  if (iface) return [...iface[1].matchAll(/^\s*(?:readonly\s+)?([A-Za-z_]+)\??\s*:/gm)].map((m) => m[1])
  const union = dts.match(new RegExp('export type ' + name + '\\s*=([\\s\\S]*?)(?:\\n\\s*\\n|\\nexport )'))
  if (union) return [...union[1].matchAll(/'([A-Za-z_]+)'/g)].map((m) => m[1])
  return []
}

test("both READMEs' options tables name every option of docs/API.md", () => {
  const wanted = apiTables().options
  for (const [doc, headers] of [['README.md', ['option']], ['README.zh-CN.md', ['选项', 'option']]]) {
    const got = optionTable(fs.readFileSync(path.join(ROOT, doc), 'utf8'), headers)
    assert.ok(got, `${doc} has an options table`)
    for (const name of wanted) assert.ok(got.includes(name), `${doc}: option ${name} is in the options table`)
  }
})

test('both READMEs name every error code and every event', () => {
  const codes = CODES
  const events = EVENTS
  for (const doc of ['README.md', 'README.zh-CN.md']) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8')
    for (const c of codes) assert.ok(text.includes('`' + c + '`'), `${doc} names ${c}`)
    for (const e of events) assert.ok(text.includes("`'" + e + "'`"), `${doc} names the event '${e}'`)
  }
})

test("docs/API.md's options, error codes and events are the package's, and the READMEs' ones are in it", () => {
  const api = apiTables()
  const dts = fs.readFileSync(path.join(ROOT, 'js', 'index.d.ts'), 'utf8')
  const en = readDoc('README.md')
  const pkg = {
    options: declared(dts, 'ClientOptions'),
    codes: declared(dts, 'TokenGateErrorCode'),
    events: declared(dts, 'ClientEvents')
  }
  assert.ok(pkg.options.length >= 15 && pkg.codes.length >= 8 && pkg.events.length >= 5, 'read ClientOptions, TokenGateErrorCode and ClientEvents of js/index.d.ts')
  const readme = { options: optionTable(en, ['option']), codes: optionTable(en, ['code']), events: optionTable(en, ['event']) }
  for (const kind of ['options', 'codes', 'events']) {
    assert.ok(readme[kind], `README.md has a table of ${kind}`)
    // every name of docs/API.md is the package's: declared in index.d.ts or in README.md's table
    for (const name of api[kind]) {
      assert.ok(pkg[kind].includes(name) || readme[kind].includes(name), `${API}: ${kind} ${name} is in js/index.d.ts or README.md's table of ${kind}`)
    }
  }
  // and the other way: what the READMEs' tables, index.d.ts and this test list is in docs/API.md
  const zhOptions = optionTable(readDoc('README.zh-CN.md'), ['选项', 'option']) || []
  for (const name of new Set([...readme.options, ...zhOptions, ...pkg.options])) {
    assert.ok(api.options.includes(name), `option ${name} (README or index.d.ts) is in ${API}'s options table`)
  }
  for (const c of CODES) assert.ok(api.codes.includes(c), `${API}'s error table has ${c}`)
  for (const e of new Set([...EVENTS, ...pkg.events])) assert.ok(api.events.includes(e), `${API}'s events table has '${e}'`)
})

// ---- 2. the examples run --------------------------------------------------------------------

// A tiny mini-program module loader: `require('tokengate')` is dist/, relative requires load
// example files (each load of an app gets fresh modules), and `wx`, `Page` are in scope.
function miniApp(wx) {
  const cache = {}
  const pages = []
  function Page(def) {
    const page = Object.assign({}, def, { data: JSON.parse(JSON.stringify(def.data || {})) })
    page.setData = (patch) => Object.assign(page.data, patch)
    pages.push(page)
  }
  function load(file) {
    if (cache[file]) return cache[file].exports
    const mod = { exports: {} }
    cache[file] = mod
    const src = fs.readFileSync(file, 'utf8')
    const fn = vm.runInThisContext('(function (require, module, exports, wx, Page) {' + src + '\n})', { filename: file })
    const req = (id) => {
      if (id === 'tokengate') return require(DIST)
      if (id.startsWith('.')) return load(require.resolve(path.resolve(path.dirname(file), id)))
      throw new Error('the docs examples require only tokengate and each other: ' + id)
    }
    fn(req, mod, mod.exports, wx, Page)
    return mod.exports
  }
  return { load, pages }
}

// The fake wx of client.test.js plus the UI calls the examples make.
function docsWx(server, opts) {
  const wx = fakeWx(server, opts)
  // like wx, a missing success/fail callback is simply not called
  const noop = () => {}
  const request = wx.request
  const login = wx.login
  wx.request = (o) => request(Object.assign({ success: noop, fail: noop }, o))
  wx.login = (o) => login(Object.assign({ success: noop, fail: noop }, o))
  wx.toasts = []
  wx.navigations = []
  wx.showToast = (o) => wx.toasts.push(o.title)
  wx.navigateTo = (o) => wx.navigations.push(o.url)
  return wx
}

// `routes[path]` answers only requests carrying a valid token (else falls through to the
// fake server's 401).
function withToken(body) {
  return (o, server) => {
    const h = (o.header || {}).Authorization || ''
    if (!server.valid.has(h.replace(/^Bearer /, ''))) return undefined
    server.count.api++
    return { statusCode: 200, data: body }
  }
}

// The default platform is globalThis.wx, as in a mini-program.
async function withGlobalWx(wx, fn) {
  const had = Object.prototype.hasOwnProperty.call(globalThis, 'wx')
  const old = globalThis.wx
  globalThis.wx = wx
  try {
    return await fn()
  } finally {
    if (had) globalThis.wx = old
    else delete globalThis.wx
  }
}

function quickstartServer() {
  const server = new Server()
  server.routes['/api/profile'] = withToken({ nickName: 'Ada' })
  server.routes['/api/orders'] = withToken({ items: [{ id: 1 }, { id: 2 }] })
  server.routes['/public/notice'] = () => ({ statusCode: 200, data: { text: 'Open 9-18' } })
  return server
}

test('quickstart: the page gets its data on first launch with one silent login and no refresh', async () => {
  const server = quickstartServer()
  const wx = docsWx(server)
  await withGlobalWx(wx, async () => {
    const app = miniApp(wx)
    app.load(path.join(EXAMPLES, 'quickstart', 'pages', 'index', 'index.js'))
    assert.equal(app.pages.length, 1)
    const page = app.pages[0]
    await page.onLoad()
    assert.deepEqual(page.data, { profile: { nickName: 'Ada' }, orders: [{ id: 1 }, { id: 2 }], notice: 'Open 9-18' })
    assert.equal(wx.logins, 1, 'one wx.login')
    assert.equal(server.count.login, 1, 'one POST /auth/login')
    assert.equal(server.count.refresh, 0)
    const sent = (p) => server.log.filter((l) => l.path === p)
    assert.equal(sent('/api/profile').length, 1, 'sent once, after the login, with its token')
    assert.equal(sent('/api/orders')[0].header.Authorization, 'Bearer acc-1')
    assert.equal(sent('/public/notice')[0].header.Authorization, undefined, 'auth: false carries no token')
    assert.deepEqual(wx.toasts, [])
    assert.equal(wx.storage['tokengate:session'].accessToken, 'acc-1', 'the session is kept (as an object) for the next launch')

    // the next launch (a new app on the same storage) needs no login at all
    const again = miniApp(wx)
    again.load(path.join(EXAMPLES, 'quickstart', 'pages', 'index', 'index.js'))
    await again.pages[0].onLoad()
    assert.equal(again.pages[0].data.profile.nickName, 'Ada')
    assert.equal(wx.logins, 1, 'still one wx.login')
  })
})

test("quickstart: silent login refused -> 'loginRequired' opens the login page once, the page shows nothing", async () => {
  const server = quickstartServer()
  server.routes['/auth/login'] = () => ({ statusCode: 403, data: { error: 'this user may not log in silently' } })
  const wx = docsWx(server)
  await withGlobalWx(wx, async () => {
    const app = miniApp(wx)
    app.load(path.join(EXAMPLES, 'quickstart', 'pages', 'index', 'index.js'))
    await app.pages[0].onLoad()
    await new Promise((r) => setTimeout(r, 5)) // listeners run after a turn of the event loop
    assert.deepEqual(wx.navigations, ['/pages/login/login'], 'navigated once for two waiting requests')
    assert.deepEqual(wx.toasts, [], 'LOGIN_REQUIRED shows no toast')
    assert.equal(app.pages[0].data.profile, null)
  })
})

test('errors example: what each error code shows', async () => {
  const { TokenGateError } = require(DIST)
  const wx = docsWx(new Server())
  const { showError } = miniApp(wx).load(path.join(EXAMPLES, 'quickstart', 'utils', 'errors.js'))
  const err = (code, extra) => new TokenGateError(code, 'x', extra)
  assert.equal(showError(err('ABORTED')), null)
  assert.equal(showError(err('LOGIN_REQUIRED', { reason: 'loginFailed' })), null)
  assert.equal(showError(err('NETWORK', { errMsg: 'request:fail' })), 'Network problem, pull down to retry')
  assert.equal(showError(err('TIMEOUT')), 'Network problem, pull down to retry')
  assert.equal(showError(new TokenGateError('BUSINESS', 'Out of stock', { bizCode: '1001' })), 'Out of stock')
  assert.equal(showError(err('HTTP', { statusCode: 503 })), 'Server busy, try again later')
  assert.equal(showError(err('HTTP', { statusCode: 404 })), 'Request refused')
  assert.equal(showError(err('UNAUTHORIZED', { statusCode: 401 })), 'You do not have access to this')
  const logged = []
  const orig = console.error
  console.error = (e) => logged.push(e.code)
  try {
    assert.equal(showError(err('CONFIG')), 'Something went wrong')
  } finally {
    console.error = orig
  }
  assert.deepEqual(logged, ['CONFIG'])
  assert.equal(wx.toasts.length, 7)

  // and the codes are what the client really rejects with
  const server = new Server()
  server.routes['/api/gone'] = () => ({ statusCode: 404, data: {} })
  server.routes['/api/down'] = () => ({ fail: 'request:fail timeout' })
  const wx2 = docsWx(server)
  const client = require(DIST).createClient({ platform: wx2, baseURL: 'https://api.example.com' })
  const gone = await outcome(client.get('/api/gone'))
  assert.equal(gone.error.code, 'HTTP')
  const down = await outcome(client.get('/api/down'))
  assert.equal(down.error.code, 'NETWORK')
  assert.equal(showError(gone.error), 'Request refused')
  assert.equal(showError(down.error), 'Network problem, pull down to retry')
})

// naive.js against migration.js: each race of the "why" section.

function loadPair(server, opts = {}) {
  const wx = docsWx(server, opts)
  const t = server.issue()
  wx.storage.token = t.accessToken
  wx.storage.refreshToken = t.refreshToken
  server.seed(wx.storage)
  const naive = miniApp(wx).load(path.join(EXAMPLES, 'naive.js'))
  const after = miniApp(wx).load(path.join(EXAMPLES, 'migration.js'))
  return { wx, naive, after }
}

// Settled within `ms`, or 'pending'.
function within(p, ms) {
  return Promise.race([outcome(p), sleep(ms).then(() => 'pending')])
}

test('race 1: a 401 that lands after the refresh -> the snippet refreshes twice, tokengate once', async () => {
  for (const which of ['naive', 'after']) {
    const server = new Server()
    const pair = loadPair(server)
    await pair.after.client.ready
    server.expireAll()
    // one slow request: its 401 arrives after the others' refresh has finished
    const slowAnswer = server.handle.bind(server)
    server.handle = (o) => {
      const r = slowAnswer(o)
      if (new URL(o.url).pathname === '/api/slow' && r.statusCode === 401) r.delay = 40
      return r
    }
    const client = pair[which]
    const before = server.count.refresh
    const rs = await Promise.all([client.request({ url: '/api/slow' }), ...[1, 2, 3].map((i) => client.request({ url: '/api/x' + i }))])
    assert.equal(rs.length, 4)
    assert.equal(server.count.refresh - before, which === 'naive' ? 2 : 1, which + ': refresh calls')
  }
})

test('race 2: a request issued while the refresh is out -> the snippet sends the old token, tokengate waits', async () => {
  for (const which of ['naive', 'after']) {
    const server = new Server()
    const pair = loadPair(server)
    await pair.after.client.ready
    const oldTokens = new Set(server.valid)
    server.expireAll()
    const client = pair[which]
    let late = null
    server.routes['/auth/refresh'] = () => {
      // the refresh is on the wire: the user taps a button
      if (!late) late = client.request({ url: '/api/tap' })
      return undefined
    }
    await client.request({ url: '/api/first' })
    await late
    const tapSends = server.log.filter((l) => l.path === '/api/tap')
    const withOld = tapSends.filter((l) => oldTokens.has((l.header.Authorization || '').replace(/^Bearer /, '')))
    if (which === 'naive') assert.ok(withOld.length >= 1, 'naive: the tap went out with the old token')
    else {
      assert.equal(withOld.length, 0, 'tokengate: never with the old token')
      assert.equal(tapSends.length, 1, 'tokengate: sent once, after the refresh')
    }
  }
})

test('race 3: a second 401 with a fresh token -> the snippet loops, tokengate rejects UNAUTHORIZED', async () => {
  for (const which of ['naive', 'after']) {
    const server = new Server()
    server.routes['/api/admin'] = () => ({ statusCode: 401, data: { error: 'not an admin' } })
    const pair = loadPair(server, { delay: 1 })
    await pair.after.client.ready
    // stop the loop after 40 calls: the platform no longer answers
    let calls = 0
    const req = pair.wx.request
    pair.wx.request = (o) => (++calls > 40 ? { abort () {} } : req(o))
    const r = await within(pair[which].request({ url: '/api/admin' }), 300)
    if (which === 'naive') {
      assert.equal(r, 'pending')
      assert.ok(server.count.refresh >= 15, `naive: ${server.count.refresh} refreshes and counting`)
    } else {
      assert.equal(r.error.code, 'UNAUTHORIZED')
      assert.equal(server.count.refresh, 1, 'tokengate: one refresh, one replay')
      assert.equal(server.log.filter((l) => l.path === '/api/admin').length, 2)
    }
  }
})

test('race 4: the refresh call fails -> the snippet hangs every waiting promise, tokengate rejects them', async () => {
  for (const which of ['naive', 'after']) {
    const server = new Server()
    server.routes['/auth/refresh'] = () => ({ fail: 'request:fail timeout' })
    const pair = loadPair(server)
    await pair.after.client.ready
    server.expireAll()
    const ps = [1, 2, 3].map((i) => within(pair[which].request({ url: '/api/p' + i }), 300))
    const rs = await Promise.all(ps)
    if (which === 'naive') assert.deepEqual(rs, ['pending', 'pending', 'pending'])
    else for (const r of rs) assert.equal(r.error.code, 'NETWORK')
  }
})

// ---- docs/architecture.md names real tests and functions -----------------------------------

test('docs/architecture.md: every test it names exists', () => {
  const arch = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8')
  const read = (dir) => fs.readdirSync(path.join(ROOT, dir)).filter((f) => /\.(rs|js)$/.test(f)).map((f) => fs.readFileSync(path.join(ROOT, dir, f), 'utf8')).join('\n')
  const rust = read('tests') + read('src/core')
  const js = read('tests/js') + read('tests/sandbox')
  // Rust test functions: `snake_case_names` with at least three parts.
  const fns = [...arch.matchAll(/`([a-z0-9]+(?:_[a-z0-9]+){2,})`/g)].map((m) => m[1])
  assert.ok(fns.length >= 25, `found ${fns.length} Rust test names`)
  // (or a counter of the soak, named where it is counted)
  const soak = fs.readFileSync(path.join(ROOT, 'scripts', 'soak.js'), 'utf8')
  for (const f of fns) assert.ok(new RegExp('fn ' + f + '\\b').test(rust) || soak.includes(f), `fn ${f} (or soak counter) exists`)
  // JS test titles: "quoted" (a trailing … means a prefix).
  const titles = [...arch.matchAll(/"([^"\n]{12,}?)"/g)].map((m) => m[1])
  assert.ok(titles.length >= 10, `found ${titles.length} JS test titles`)
  for (const t of titles) {
    const prefix = t.replace(/…$/, '')
    assert.ok(js.includes("test('" + prefix) || js.includes('test("' + prefix) || js.includes('test(`' + prefix) || js.includes("'" + prefix), `JS test "${t}" exists`)
  }
  // Functions of the core it names.
  const session = fs.readFileSync(path.join(ROOT, 'src', 'core', 'session.rs'), 'utf8')
  for (const f of ['dispatch', 'enqueue', 'install', 'resume', 'reject_waiters', 'on_response', 'settle', 'start_refresh', 'start_login', 'login_failed', 'enter_login_required', 'on_auth_reply', 'on_timeout', 'on_submit', 'on_stored']) {
    assert.match(session, new RegExp('fn ' + f + '\\b'), `session.rs has fn ${f}`)
  }
  const client = fs.readFileSync(path.join(ROOT, 'js', 'client.js'), 'utf8')
  const driver = fs.readFileSync(path.join(ROOT, 'src', 'wasm', 'driver.rs'), 'utf8')
  for (const f of ['feed', 'exec', 'after', 'send', 'post_auth', 'read_storage', 'settle']) assert.match(driver, new RegExp('fn ' + f + '\\b'), `driver.rs has fn ${f}`)
  for (const f of ['submit', 'makeHost', 'later']) assert.ok(client.includes('function ' + f + '('), `client.js has ${f}`)
})
