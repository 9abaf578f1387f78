//! The sans-IO core of tokengate: the session state machine and the queue of requests
//! waiting for a token.
//!
//! INTERFACE DRAFT — the types below are the contract between the core and the wasm
//! boundary (`src/wasm`). The implementation (and this guide) is being filled in.
//!
//! # The drive loop
//!
//! The core owns no I/O and reads no clock. Its driver (the wasm boundary in production,
//! the simulated-time harness in tests) does, forever:
//!
//! 1. feed one event with [`Core::handle`], passing the current time;
//! 2. drain [`Core::poll_command`] until it returns `None`, carrying out each command;
//! 3. arm one timer for [`Core::poll_timeout`] and, when it fires, feed [`Input::Timeout`].
//!
//! Every input is handled to completion before `handle` returns; commands are queued in
//! the order they must be carried out.

pub mod config;
pub mod error;
pub mod json;
pub mod url;

pub use config::{Config, EnvVersion, Envelope, TokenFields};
pub use error::{Error, LoginRequiredReason};

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
    /// The server answered; `body` is the response body as JSON text (or the raw text
    /// when it was not JSON).
    Http { status: u16, body: String },
    /// `fail` of the platform request.
    Transport { message: String },
}

/// An event fed to the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// What storage held under `storageKey` at launch; `None` when missing or unreadable.
    /// Always the first input.
    Stored(Option<String>),
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
    /// POST `{ code }` to `url`; answer with [`Input::AuthReply`]. Never carries a token.
    PostLogin { call: AuthCallId, url: String, code: String },
    /// POST `{ [refresh.field]: refresh_token }` to `url`; answer with
    /// [`Input::AuthReply`]. Never carries the access token.
    PostRefresh { call: AuthCallId, url: String, refresh_token: String },
    /// Abort the transport of a login/refresh call that timed out or was discarded.
    AbortAuth { call: AuthCallId },
    /// Write `value` to storage under `storageKey`.
    Persist { value: String },
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

/// The session state machine and its waiting queue. See the module guide for the drive loop.
///
/// STUB: signatures fixed, bodies being written.
#[derive(Debug)]
pub struct Core {
    config: Config,
    commands: std::collections::VecDeque<Command>,
}

impl Core {
    /// A core in its launch state: it waits for [`Input::Stored`].
    pub fn new(config: Config) -> Core {
        Core { config, commands: Default::default() }
    }

    /// Feed one event that happened at `now`. Drain [`Core::poll_command`] afterwards.
    pub fn handle(&mut self, now: Millis, input: Input) {
        let _ = (now, input, &self.config);
    }

    /// The next command to carry out; call after every [`Core::handle`] until `None`.
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When to feed [`Input::Timeout`]; call after draining commands, re-arm one timer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        None
    }

    /// What `client.session()` shows at `now`.
    pub fn session(&self, now: Millis) -> SessionInfo {
        let _ = now;
        SessionInfo { logged_in: false, expires_at: None }
    }
}
