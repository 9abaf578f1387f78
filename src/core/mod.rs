//! The sans-IO core of tokengate: the session state machine and the queue of requests
//! waiting for a token.
//!
//! The core owns no I/O, reads no clock and never panics on any sequence of inputs
//! (unknown or duplicate ids, late replies, time going backwards: all ignored or clamped).
//! Its driver is the wasm boundary (`src/wasm`) in production and the simulated-time
//! harness (`tests/common`) in tests.
//!
//! # The drive loop
//!
//! Forever:
//!
//! 1. feed one event with [`Core::handle`], passing the current time (ms since the epoch);
//! 2. drain [`Core::poll_command`] until it returns `None`, carrying out each command in
//!    order (a command may start I/O whose answer is a later input; never feed an input
//!    while draining, queue it);
//! 3. re-arm one timer for [`Core::poll_timeout`] (cancel it when `None`) and, when it
//!    fires, feed [`Input::Timeout`].
//!
//! [`Input::Stored`] is the first input: until then requests needing a token wait.
//!
//! # States
//!
//! `Loading` (storage not read) -> `Checking` (only with `checkSession`) -> `Valid` /
//! `NoSession`. From `Valid`, a token inside the leeway or rejected by the server starts
//! `Refreshing`; no refresh token (or a dead one) starts `LoggingIn` (`platform.login`,
//! then the POST). A refused login, `login: false` with no usable token,
//! `loginRequiredWhen`, and `logout()` enter the sticky `LoginRequired`, left only by
//! `login()` or `setSession()`. Passing failures (timeouts, transport, 5xx / 408 / 429, a
//! 2xx without a token, a business code) of a login or refresh go back to `NoSession` /
//! `Valid` (the tokens held before) so the next request tries again.
//!
//! Every token set gets a generation (see [`Core::generation`]); each request in flight
//! remembers the generation it was sent with and how often it was sent.
//!
//! # Where each rule of docs/API.md is enforced
//!
//! 1. *One refresh at a time*: a login or refresh starts only from `Valid` / `NoSession` /
//!    `LoginRequired`; in `LoggingIn` / `Refreshing` every request needing a token is
//!    queued (`dispatch`), so a second call cannot be started.
//! 2. *Requests wait*: waiters are sent only when a new token set is installed
//!    (`install`: `Persist` first, then every waiter with that token), or dispatched again
//!    when storage/checkSession resolves; a failed call rejects them instead.
//! 3. *Stale rejections*: a rejection for a generation older than the current one is
//!    replayed at once (or waits for the call in flight).
//! 4. *At most one replay*: a request sent twice and rejected again settles
//!    `UNAUTHORIZED`.
//! 5. *Proactive refresh*: `dispatch` refreshes a token inside
//!    `min(refreshLeeway, lifetime / 2)` of its expiry before sending.
//! 6. *Fallback chain* (`classify_auth` sorts each login/refresh reply): a refresh answered
//!    with a token rejection, `loginRequiredWhen`, or another 4xx but 408 and 429 (or, with
//!    an envelope, a code in `expiredWhen.code` / `loginRequiredWhen.code`) means the
//!    refresh token is dead: it is forgotten (`ForgetStored`, never persisted again) and the
//!    silent login starts (without one: `LoginRequired`); a refresh that fails otherwise
//!    (5xx, 408, 429, transport, timeout, a 2xx without a token: `HTTP` / `NETWORK` /
//!    `TIMEOUT`; another envelope code: `BUSINESS`) keeps the tokens and rejects its
//!    waiters with that code. A **refused** login (a 4xx but 408 and 429, or
//!    `loginRequiredWhen`, from the login endpoint; or login disabled) rejects every waiter
//!    `LOGIN_REQUIRED` and emits `'loginRequired'` once (on entering the sticky
//!    `LoginRequired`). A login that fails for a **passing** reason (`platform.login`
//!    failing or giving no code: `NETWORK`; transport: `NETWORK`; timeout: `TIMEOUT`; 5xx,
//!    408, 429, a 2xx without an access token: `HTTP`; an envelope code outside `success`
//!    and not in `loginRequiredWhen.code`: `BUSINESS`) rejects its waiters and `login()`
//!    calls with that code, emits `'login'` `{ ok: false }` and no `'loginRequired'`,
//!    keeps a still-usable previous token set (`login()` on a valid session), and the next
//!    request tries the silent login again.
//! 7. *Settles exactly once*: a request leaves the pending table only through one
//!    `settle`, which emits the single [`Command::Settle`]; every request in flight and
//!    every auth call has a deadline served by [`Core::poll_timeout`]; time in the queue
//!    is bounded by the deadline of the call waited for.
//! 8. *Auth calls bypass the queue*: [`Command::PostRefresh`], [`Command::PlatformLogin`]
//!    and [`Command::PostLogin`] are issued directly by the state machine and carry no
//!    access token.
//! 9. *Tokens stay put*: a token is attached only to allowed origins; error messages are
//!    static text or the platform's errMsg, never a token or URL; the `Debug` of `Core`
//!    and of token sets hides the tokens; `http:` URLs are refused outside
//!    develop unless loopback ([`url::check_transport`]).
//! 10. *Bad storage is not fatal*: anything but a well-formed persisted session is
//!     "no session".
//!
//! # Modules
//!
//! * `session`: [`Core`], the states, the waiting queue and the in-flight table;
//! * `token`: token sets (generation, leeway, the stored form, extraction from a body);
//! * `classify`: what a business reply or a login/refresh reply means;
//! * [`options`]: the options object read with serde and checked, once;
//! * [`config`]: what the core keeps of the options (`Config::validate`);
//! * [`body`]: reading values out of a response body the platform already parsed;
//! * [`url`]: joining, origins and the `http:` rule; [`error`]: the error codes.
//!
//! The core parses no text: options, stored sessions and response bodies reach it as typed
//! values (serde on the driver's side, or a [`body::Body`] view of the parsed body).

pub mod body;
mod classify;
pub mod config;
pub mod error;
pub mod options;
mod session;
mod token;
pub mod url;

pub use body::{AuthBody, Body};
pub use config::{Config, EnvVersion, Envelope, TokenFields};
pub use error::{Error, LoginRequiredReason};
pub use options::Settings;
pub use session::Core;
pub use token::{usable as usable_token, StoredSession};

/// Milliseconds since the Unix epoch, as `Date.now()` gives them.
pub type Millis = u64;

/// A business request (or a `login()` call) as the driver numbers it. Unique per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u32);

/// One login or refresh call. A reply carrying an id that is no longer current (timed out,
/// discarded by `logout`) is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthCallId(pub u32);

/// Tokens handed in by `setSession()`, with their canonical names.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds from now, as a login body gives them.
    pub expires_in_secs: Option<f64>,
}

/// A business request entering the core.
#[derive(Debug, Clone, PartialEq)]
pub struct Submit {
    pub id: RequestId,
    /// As the caller wrote it: absolute, or relative to `baseURL`.
    pub url: String,
    /// `false`: never carries a token, never queued, never replayed.
    pub auth: bool,
    /// The request's own timeout; `None` means the client's `timeout`.
    pub timeout_ms: Option<u64>,
}

/// What came back for a business request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The server answered. `code` is the envelope code (`String(code)` in JS) when the
    /// body has one at the configured path.
    Http { status: u16, code: Option<String> },
    /// `fail` of the platform request.
    Transport { message: String },
}

/// What came back for a login or refresh POST.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthReply {
    /// The server answered; `body` holds what the core reads of the response body
    /// ([`AuthBody::read`]).
    Http { status: u16, body: AuthBody },
    /// `fail` of the platform request.
    Transport { message: String },
}

/// An event fed to the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// What storage held under `storageKey` at launch; `None` when missing, unreadable or
    /// not of the stored shape. Always the first input.
    Stored(Option<StoredSession>),
    /// `platform.checkSession` answered (only asked for when `check_session` is on).
    CheckSession { ok: bool },
    /// A business request was made.
    Submit(Submit),
    /// A business request's transport finished.
    Response { id: RequestId, reply: Reply },
    /// `platform.login` answered with a code, or failed with its errMsg.
    PlatformLogin { call: AuthCallId, result: Result<String, String> },
    /// The login or refresh POST finished.
    AuthReply { call: AuthCallId, reply: AuthReply },
    /// The caller aborted request `id`.
    Abort { id: RequestId },
    /// `login()` was called; `id` settles when that login (or the call it joined) ends.
    Login { id: RequestId },
    /// `setSession()` was called.
    SetSession(NewSession),
    /// `logout()` was called.
    Logout,
    /// The driver did not start the transport of the last `Send` of `id` after all: an
    /// async `beforeRequest` finished only after the token it was given stopped being the
    /// session's, or while a login/refresh is out (rule 2). That send never happened: the
    /// request is dispatched again as if it had just arrived, without using its one replay.
    Withdrawn { id: RequestId },
    /// The timer armed from [`Core::poll_timeout`] fired.
    Timeout,
}

/// Something the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Call `platform.checkSession`; answer with [`Input::CheckSession`].
    CheckSession,
    /// Send business request `id` to `url` (already joined to `baseURL`), with
    /// `token` in the auth header when present. Sent again for a replay.
    Send { id: RequestId, url: String, token: Option<String> },
    /// Abort the transport of request `id` (its `RequestTask`); it is already settled.
    AbortSend { id: RequestId },
    /// Call `platform.login`; answer with [`Input::PlatformLogin`].
    PlatformLogin { call: AuthCallId },
    /// POST `{ code }` (with `login.data`) to `url`; answer with [`Input::AuthReply`].
    /// Never carries a token.
    PostLogin { call: AuthCallId, url: String, code: String },
    /// POST `{ [refresh.field]: refresh_token }` to `url`; answer with
    /// [`Input::AuthReply`]. Never carries the access token.
    PostRefresh { call: AuthCallId, url: String, refresh_token: String },
    /// Abort the transport of a login/refresh call that timed out or was discarded.
    AbortAuth { call: AuthCallId },
    /// Write `session` to storage under `storageKey`.
    Persist { session: StoredSession },
    /// Remove `storageKey` from storage.
    ForgetStored,
    /// Settle request (or `login()` call) `id`, exactly once. `with_response`: the error
    /// (or the success value) is about the last response received for `id`, so the driver
    /// may attach its `statusCode`, `data`, `header`.
    Settle { id: RequestId, result: Result<(), Error>, with_response: bool },
    /// Fire a client event.
    Emit(Event),
}

/// Client events, as `client.on(name, fn)` delivers them.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `'refresh'`: a refresh finished.
    Refresh { ok: bool },
    /// `'login'`: a silent login finished.
    Login { ok: bool },
    /// `'loginRequired'`: the session cannot be restored without the user.
    LoginRequired { reason: LoginRequiredReason },
    /// `'logout'`.
    Logout,
}

/// What `client.session()` shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionInfo {
    pub logged_in: bool,
    pub expires_at: Option<Millis>,
}

