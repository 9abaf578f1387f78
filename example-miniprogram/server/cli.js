'use strict'
// Command line of the example auth server:  node example-miniprogram/server [flags]

const { createAuthServer, HOST, DEFAULTS, DEV_ENV, LOGIN_ERROR_KINDS } = require('./index')

const HELP = `tokengate example auth server (loopback only: ${HOST})

usage: node example-miniprogram/server [flags]

  --port N              port on ${HOST} (default ${DEFAULTS.port}; 0 picks a free one)
  --access-ttl S        access token lifetime in seconds (default ${DEFAULTS.accessTtl / 1000}; decimals allowed)
  --refresh-ttl S       refresh token lifetime in seconds (default ${DEFAULTS.refreshTtl / 1000})
  --code-ttl S          login code lifetime in seconds (default ${DEFAULTS.codeTtl / 1000}, like wx.login)
  --envelope            wrap bodies as { code, message, data }; token errors are HTTP 200, code 40101
  --max-body BYTES      larger request bodies get 413 (default ${DEFAULTS.maxBody})
  --user NAME:PASS      an account for POST /auth/password (repeatable; default demo:demo)
  --dev                 enable /__dev/code, /__stats and /__admin/* (off by default; also on with
                        ${DEV_ENV}=1); they answer only requests whose Host is loopback and
                        whose Origin, if any, is loopback: 127.0.0.1, localhost, [::1], any port
  --no-dev              keep them off even when ${DEV_ENV}=1
  --quiet               no access log

fault injection (also at run time: POST /__admin/faults with the same names in camelCase):
  --latency MS|MIN-MAX  delay before every handler (default 0)
  --api-latency MS|MIN-MAX  extra delay before /api/* handlers only (the token is judged after it)
  --error-rate P        answer /api/* with 500 with probability P (0..1)
  --burst-5xx LEN[@N]   the next LEN /api/* requests get 503; with @N, again every N requests
  --hang-refresh N|all  never answer the next N refresh calls (the token is not consumed)
  --fail-refresh N|all  answer the next N refresh calls with 503
  --fail-login N|all    the next N logins fail as if code2Session failed (401: a refused login)
  --login-error N|all   the next N logins fail in a passing way, as --login-error-kind says
  --login-error-kind K  ${LOGIN_ERROR_KINDS.join('|')} (default 503): the status answered, the
                        connection reset, a 200 without a token, or no answer at all
  --login-down MS       the login endpoint is down for MS from the start (--login-error-kind)
`

function parseArgs (argv) {
  const o = { faults: {}, users: null, quiet: false, help: false }
  const need = (i, name) => {
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`)
    return argv[i + 1]
  }
  const num = (v, name, min) => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < (min || 0)) throw new Error(`${name}: bad number '${v}'`)
    return n
  }
  const cnt = (v, name) => (v === 'all' ? 'all' : num(v, name))
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    switch (a) {
      case '--help': case '-h': o.help = true; break
      case '--port': o.port = num(need(i, a), a); i++; break
      case '--access-ttl': o.accessTtl = Math.round(num(need(i, a), a, 0.001) * 1000); i++; break
      case '--refresh-ttl': o.refreshTtl = Math.round(num(need(i, a), a, 0.001) * 1000); i++; break
      case '--code-ttl': o.codeTtl = Math.round(num(need(i, a), a, 0.001) * 1000); i++; break
      case '--envelope': o.envelope = true; break
      case '--max-body': o.maxBody = num(need(i, a), a, 1); i++; break
      case '--dev': o.dev = true; break
      case '--no-dev': o.dev = false; break
      case '--quiet': o.quiet = true; break
      case '--user': {
        const v = need(i, a); i++
        const k = v.indexOf(':')
        if (k < 1) throw new Error('--user wants NAME:PASS')
        o.users = o.users || {}
        o.users[v.slice(0, k)] = v.slice(k + 1)
        break
      }
      case '--latency': case '--api-latency': {
        const v = need(i, a); i++
        const m = /^(\d+)(?:-(\d+))?$/.exec(v)
        if (!m) throw new Error(`${a} wants MS or MIN-MAX`)
        o.faults[a === '--latency' ? 'latency' : 'apiLatency'] = [Number(m[1]), Number(m[2] || m[1])]
        break
      }
      case '--error-rate': o.faults.errorRate = num(need(i, a), a); i++; break
      case '--hang-refresh': o.faults.hangRefresh = cnt(need(i, a), a); i++; break
      case '--fail-refresh': o.faults.failRefresh = cnt(need(i, a), a); i++; break
      case '--fail-login': o.faults.failLogin = cnt(need(i, a), a); i++; break
      case '--login-error': o.faults.loginError = cnt(need(i, a), a); i++; break
      case '--login-error-kind': {
        const v = need(i, a); i++
        if (!LOGIN_ERROR_KINDS.includes(v)) throw new Error(`${a} wants one of ${LOGIN_ERROR_KINDS.join(', ')}`)
        o.faults.loginErrorKind = v
        break
      }
      case '--login-down': o.faults.loginDownMs = num(need(i, a), a); i++; break
      case '--burst-5xx': {
        const v = need(i, a); i++
        const m = /^(\d+)(?:@(\d+))?$/.exec(v)
        if (!m) throw new Error('--burst-5xx wants LEN or LEN@EVERY')
        if (m[2]) { o.faults.burstLen = Number(m[1]); o.faults.burstEvery = Number(m[2]) } else o.faults.burst5xx = Number(m[1])
        break
      }
      default: throw new Error(`unknown flag '${a}' (try --help)`)
    }
  }
  if (o.users == null) delete o.users
  return o
}

async function main (argv) {
  let o
  try { o = parseArgs(argv) } catch (e) {
    process.stderr.write(`${e.message}\n`)
    process.exit(2)
  }
  if (o.help) { process.stdout.write(HELP); return }
  const log = o.quiet ? null : (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)
  const srv = createAuthServer(Object.assign({}, o, { log }))
  // The server never throws out of a handler; this is the last line of defence for the CLI.
  process.on('uncaughtException', (e) => process.stderr.write(`uncaught: ${e && e.message}\n`))
  process.on('unhandledRejection', (e) => process.stderr.write(`unhandled: ${e && e.message}\n`))
  try { await srv.listen(o.port) } catch (e) {
    process.stderr.write(`cannot listen on ${HOST}:${o.port}: ${e.code || e.message}\n`)
    process.exit(1)
  }
  const s = srv.options
  process.stdout.write(`listening on ${srv.url} (access ${s.accessTtl / 1000}s, refresh ${s.refreshTtl / 1000}s, ` +
    `envelope ${s.envelope ? 'on' : 'off'}, dev endpoints ${s.dev ? 'on' : 'off'})\n`)
  const stop = () => { srv.close().then(() => process.exit(0)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

module.exports = { parseArgs, main, HELP }

if (require.main === module) main(process.argv.slice(2))
