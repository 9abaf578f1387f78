// Type declarations of tokengate's public API (docs/API.md).
// They need nothing else: `miniprogram-api-typings` is not required, but a `wx` typed by it
// is accepted as `platform`.

/** The callback-style request options of `wx.request` that tokengate passes through. */
export interface PlatformRequestOptions {
  url: string
  method?: string
  data?: any
  header?: Record<string, any>
  dataType?: string
  responseType?: string
  success?: (res: any) => void
  fail?: (err: any) => void
  [key: string]: any
}

/** What a platform's `request`/`uploadFile`/`downloadFile` returns. */
export interface PlatformTask {
  abort(): void
}

/**
 * An object with the wx API shape: `wx`, `uni`, `tt`, Alipay's `my`, or a fake.
 * Only `request` is required here; silent login needs `login` (or Alipay's `getAuthCode`),
 * the session is persisted with the storage functions.
 */
export interface Platform {
  request(options: any): any
  login?(options: any): any
  getAuthCode?(options: any): any
  getStorageSync?(key: any): any
  setStorageSync?(key: any, value?: any): any
  removeStorageSync?(key: any): any
  checkSession?(options: any): any
  getAccountInfoSync?(): any
  uploadFile?(options: any): any
  downloadFile?(options: any): any
}

export type EnvVersion = 'develop' | 'trial' | 'release'

export interface EndpointOptions {
  /** Relative to `baseURL`, or absolute; on an origin of `allowedOrigins`. */
  url?: string
  /** Default `'POST'`. */
  method?: string
  /** Extra body fields (an app id, a timestamp, a signature): an object, or a function of
   * `{ code }` returning one or a promise of one, called for every login. */
  data?: Record<string, any> | ((arg: { code: string }) => Record<string, any> | PromiseLike<Record<string, any>>)
  /** Headers of this call, over the client's `header`; a form content type makes the
   * platform send the body as a form. */
  header?: Record<string, string>
}

export interface RefreshOptions extends Omit<EndpointOptions, 'data'> {
  /** Body field that carries the refresh token. Default `'refreshToken'`. */
  field?: string
  /** Extra body fields: an object, or a function of `{ refreshToken }` (whatever `field` is). */
  data?: Record<string, any> | ((arg: { refreshToken: string }) => Record<string, any> | PromiseLike<Record<string, any>>)
}

export interface TokenFields {
  /** Dotted path of the access token in a login/refresh body. Default `'accessToken'`. */
  accessToken?: string
  /** Default `'refreshToken'`. */
  refreshToken?: string
  /** Seconds from receipt. Default `'expiresIn'`. */
  expiresIn?: string
}

export interface WhenOptions {
  /** HTTP statuses. */
  status?: number[]
  /** Envelope codes (compared as `String(code)`). */
  code?: Array<string | number>
}

export interface EnvelopeOptions {
  /** Dotted path of the business code. Default `'code'`. */
  code?: string
  /** Default `'message'`. */
  message?: string
  /** Default `'data'`. */
  data?: string
  /** Codes that mean success. Default `[0]`. */
  success?: Array<string | number>
}

export interface ClientOptions {
  /** Default `globalThis.wx`, else `uni`, `my`, `tt`. */
  platform?: Platform
  /** Default `''`. A string, or one per environment (`getAccountInfoSync().miniProgram.envVersion`). */
  baseURL?: string | { develop?: string; trial?: string; release?: string }
  /** Silent login. Default `{ url: '/auth/login', method: 'POST' }`; `false` disables it. */
  login?: EndpointOptions | false
  /** Default `{ url: '/auth/refresh', method: 'POST', field: 'refreshToken' }`; `false` disables it. */
  refresh?: RefreshOptions | false
  /** Headers of every call the client makes, login and refresh included; a request's own
   * header wins; the auth header is always the client's. Default `{}`. */
  header?: Record<string, string>
  /** Platform network calls in flight at most (WeChat allows 10). Default `10`. */
  maxConcurrent?: number
  tokenFields?: TokenFields
  /** Default `'Authorization'`. */
  authHeader?: string
  /** Default `'Bearer'`; `''` sends the bare token. */
  authScheme?: string
  /** Default `{ status: [401], code: [] }`. */
  expiredWhen?: WhenOptions
  /** Default `{ status: [], code: [] }`. */
  loginRequiredWhen?: WhenOptions
  /** Default `false`. */
  checkSession?: boolean
  /** Applied to every business request (replays included), never to login or refresh. */
  beforeRequest?: (options: RequestOptions) => RequestOptions | PromiseLike<RequestOptions>
  /** Default `null`. */
  envelope?: EnvelopeOptions | null
  /** Seconds. Default `60`. */
  refreshLeeway?: number
  /** Milliseconds, for every request, login and refresh. Default `15000`. */
  timeout?: number
  /** Default `'tokengate:session'`. */
  storageKey?: string
  /** Default: the origin of `baseURL`. */
  allowedOrigins?: string[]
  /** Where the `.wasm`/`.wasm.br` file is. */
  wasmPath?: string
}

export type HttpMethod =
  | 'OPTIONS' | 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT' | 'PATCH'

/** `wx.request` options plus `auth` and `fullResponse`. */
/** The client returns a promise: callbacks are refused (CONFIG). */
interface NoCallbacks {
  success?: never
  fail?: never
  complete?: never
}

export interface RequestOptions extends NoCallbacks {
  url: string
  method?: HttpMethod | string
  data?: string | Record<string, any> | ArrayBuffer | any[]
  header?: Record<string, any>
  /** Milliseconds; default the client's `timeout`. */
  timeout?: number
  dataType?: 'json' | string
  responseType?: 'text' | 'arraybuffer' | string
  /** Default `true`; `false` sends no token and never triggers a refresh. */
  auth?: boolean
  /** Default `false`; `true` resolves with `{ statusCode, header, data }`. */
  fullResponse?: boolean
  [key: string]: any
}

export interface FullResponse<T = any> {
  statusCode: number
  header: Record<string, any>
  data: T
}

export interface UploadOptions extends NoCallbacks {
  url: string
  filePath: string
  name?: string
  header?: Record<string, any>
  formData?: Record<string, any>
  timeout?: number
  auth?: boolean
  fullResponse?: boolean
  [key: string]: any
}

export interface DownloadOptions extends NoCallbacks {
  url: string
  header?: Record<string, any>
  filePath?: string
  timeout?: number
  auth?: boolean
  [key: string]: any
}

export interface DownloadResult {
  tempFilePath: string
  filePath?: string
  statusCode: number
  [key: string]: any
}

/** A request's promise: `abort()` removes a waiting request or aborts its RequestTask. */
export interface RequestPromise<T> extends Promise<T> {
  abort(): void
}

/** What the platform's upload/download task reports. */
export interface ProgressUpdate {
  progress: number
  totalBytesSent?: number
  totalBytesExpectedToSend?: number
  totalBytesWritten?: number
  totalBytesExpectedToWrite?: number
}

/** An upload's or download's promise: also `onProgressUpdate`, kept across a replay. */
export interface TransferPromise<T> extends RequestPromise<T> {
  onProgressUpdate(listener: (update: ProgressUpdate) => void): TransferPromise<T>
}

export interface TokenSet {
  accessToken: string
  refreshToken?: string
  /** Seconds from now. */
  expiresIn?: number
}

export interface SessionInfo {
  loggedIn: boolean
  /** Milliseconds since the epoch, or `null` when unknown. */
  expiresAt: number | null
}

export type LoginRequiredReason = 'loginDisabled' | 'loginFailed' | 'sessionEnded' | 'logout' | (string & {})

export interface ClientEvents {
  refresh: { ok: boolean }
  login: { ok: boolean }
  loginRequired: { reason: LoginRequiredReason }
  logout: undefined
  error: TokenGateError
}

export type ClientEventName = keyof ClientEvents

export interface Client {
  /** Settles when the wasm is loaded and the stored session (if any) is read. */
  readonly ready: Promise<void>
  request<T = any>(options: RequestOptions & { fullResponse: true }): RequestPromise<FullResponse<T>>
  request<T = any>(options: RequestOptions): RequestPromise<T>
  get<T = any>(url: string, data?: RequestOptions['data'], options?: Partial<RequestOptions>): RequestPromise<T>
  post<T = any>(url: string, data?: RequestOptions['data'], options?: Partial<RequestOptions>): RequestPromise<T>
  put<T = any>(url: string, data?: RequestOptions['data'], options?: Partial<RequestOptions>): RequestPromise<T>
  delete<T = any>(url: string, data?: RequestOptions['data'], options?: Partial<RequestOptions>): RequestPromise<T>
  upload<T = any>(options: UploadOptions): TransferPromise<T>
  download(options: DownloadOptions): TransferPromise<DownloadResult>
  /** Runs the silent login now (single-flight with any login or refresh in progress);
   * resolves with the login body less its token fields, `undefined` when it joined a refresh. */
  login<T = Record<string, any>>(): Promise<T | undefined>
  /** Installs tokens obtained elsewhere; waiting requests go on with them. */
  setSession(tokenSet: TokenSet): Promise<void>
  /** Forgets the session in memory and storage. */
  logout(): Promise<void>
  /** Never exposes the refresh token. */
  session(): SessionInfo
  /** Subscribe; returns the unsubscribe function. */
  on<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): () => void
}

export type TokenGateErrorCode =
  | 'NETWORK'
  | 'TIMEOUT'
  | 'HTTP'
  | 'BUSINESS'
  | 'UNAUTHORIZED'
  | 'LOGIN_REQUIRED'
  | 'ABORTED'
  | 'CONFIG'
  /** The wasm core failed (a trap); the client is unusable. */
  | 'INTERNAL'

export interface TokenGateErrorExtra {
  errMsg?: string
  statusCode?: number
  data?: any
  bizCode?: string | number | boolean
  reason?: LoginRequiredReason
}

export declare class TokenGateError extends Error {
  constructor(code: TokenGateErrorCode, message?: string, extra?: TokenGateErrorExtra)
  readonly name: 'TokenGateError'
  code: TokenGateErrorCode
  /** NETWORK: the platform's errMsg. */
  errMsg?: string
  /** HTTP, UNAUTHORIZED. */
  statusCode?: number
  /** HTTP: the body; BUSINESS: the envelope's data. */
  data?: any
  /** BUSINESS: the envelope code. */
  bizCode?: string | number | boolean
  /** LOGIN_REQUIRED. */
  reason?: LoginRequiredReason
}

export declare function createClient(options?: ClientOptions): Client
