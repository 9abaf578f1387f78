// Uses the whole public API (docs/API.md) against the shipped declarations (dist/index.d.ts),
// with `wx` typed by miniprogram-api-typings. Must type-check: see run.js.
import { createClient, TokenGateError } from 'tokengate'
import type {
  Client,
  ClientOptions,
  RequestOptions,
  SessionInfo,
  TokenGateErrorCode,
  FullResponse,
  RequestPromise,
  DownloadResult
} from 'tokengate'

const options: ClientOptions = {
  platform: wx,
  baseURL: { develop: 'http://dev.example.com', trial: 'https://trial.example.com', release: 'https://api.example.com' },
  login: { url: '/auth/login', method: 'POST' },
  refresh: { url: '/auth/refresh', method: 'POST', field: 'refreshToken' },
  tokenFields: { accessToken: 'data.accessToken', refreshToken: 'data.refreshToken', expiresIn: 'data.expiresIn' },
  authHeader: 'Authorization',
  authScheme: 'Bearer',
  expiredWhen: { status: [401], code: [40101, 'TOKEN_EXPIRED'] },
  loginRequiredWhen: { status: [403], code: [] },
  checkSession: true,
  beforeRequest: async (opts) => {
    opts.header = Object.assign({}, opts.header, { 'X-Ts': String(Date.now()) })
    return opts
  },
  envelope: { code: 'code', message: 'message', data: 'data', success: [0] },
  refreshLeeway: 60,
  timeout: 15000,
  storageKey: 'tokengate:session',
  allowedOrigins: ['https://api.example.com'],
  wasmPath: '/miniprogram_npm/tokengate/tokengate_bg.wasm.br'
}

const client: Client = createClient(options)
createClient()
createClient({ login: false, refresh: false, envelope: null, beforeRequest: (o) => o })
createClient({ platform: { request: (o: any) => ({ abort() {} }) } })

interface User { id: number; name: string }

async function main(): Promise<void> {
  await client.ready
  const user: User = await client.request<User>({ url: '/me', method: 'GET', header: { 'X-A': '1' }, timeout: 5000, dataType: 'json', responseType: 'text', auth: true })
  const full: FullResponse<User> = await client.request<User>({ url: '/me', fullResponse: true })
  const code: number = full.statusCode
  const p: RequestPromise<User[]> = client.get<User[]>('/users', { page: 1 })
  p.abort()
  await client.post('/users', { name: 'a' }, { header: { 'X-B': '2' } })
  await client.put('/users/1', { name: 'b' })
  await client.delete('/users/1')
  await client.get('/public', undefined, { auth: false })
  const up = client.upload<{ url: string }>({ url: '/upload', filePath: 'wxfile://a.png', name: 'file', formData: { k: 'v' } })
  up.abort()
  const down: DownloadResult = await client.download({ url: '/file.pdf' })
  const tmp: string = down.tempFilePath
  await client.login()
  await client.setSession({ accessToken: 'a', refreshToken: 'r', expiresIn: 7200 })
  await client.setSession({ accessToken: 'a' })
  await client.logout()
  const s: SessionInfo = client.session()
  const at: number | null = s.expiresAt
  const li: boolean = s.loggedIn
  const offs: Array<() => void> = [
    client.on('refresh', (e) => { const ok: boolean = e.ok }),
    client.on('login', (e) => { const ok: boolean = e.ok }),
    client.on('loginRequired', (e) => { const r: string = e.reason }),
    client.on('logout', () => {}),
    client.on('error', (err) => { const c: TokenGateErrorCode = err.code })
  ]
  offs.forEach((off) => off())
  try {
    await client.get('/x')
  } catch (e) {
    if (e instanceof TokenGateError) {
      const c: TokenGateErrorCode = e.code
      switch (e.code) {
        case 'NETWORK': { const m: string | undefined = e.errMsg; break }
        case 'HTTP': { const st: number | undefined = e.statusCode; const d: any = e.data; break }
        case 'BUSINESS': { const b = e.bizCode; const m: string = e.message; break }
        case 'UNAUTHORIZED': { const st = e.statusCode; break }
        case 'LOGIN_REQUIRED': { const r = e.reason; break }
        case 'TIMEOUT': case 'ABORTED': case 'CONFIG': case 'INTERNAL': break
      }
      const n: 'TokenGateError' = e.name
      const err: Error = e
    }
  }
  const ro: RequestOptions = { url: '/a' }
  void [user, code, tmp, at, li, ro]
}

async function issue12() {
  const c = createClient({
    header: { 'X-App': 'shop' },
    maxConcurrent: 6,
    login: { url: '/token', data: async ({ code }) => ({ grant_type: 'wechat', code }), header: { 'content-type': 'application/x-www-form-urlencoded' } },
    refresh: { url: '/token', field: 'refresh_token', data: { grant_type: 'refresh_token' } },
  })
  const profile = await c.login<{ user: { nick: string } }>()
  const nick: string | undefined = profile && profile.user.nick
  const up = c.upload({ url: '/u', filePath: 'x', name: 'f' }).onProgressUpdate((u) => { const p: number = u.progress; void p })
  up.abort()
  void nick
}
void issue12

const made = new TokenGateError('CONFIG', 'bad', { statusCode: 1 })
void made
void main
