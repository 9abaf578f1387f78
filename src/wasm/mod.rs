//! The wasm boundary: one exported [`Gate`] that owns the core and runs its commands through
//! an injected JS shims object (see docs/DESIGN.md, "The wasm boundary").
//!
//! Rules kept here:
//! * push-based: every exported method feeds one input, drains the core's commands into
//!   shim calls, then re-arms the one timer (only when its deadline changed);
//! * every import is `catch`: a shim that throws becomes a core input (a transport failure,
//!   a failed login, a failed checkSession) or is ignored (storage, events, settle), and never
//!   unwinds through wasm;
//! * only `f64`, `u32`, `bool` and strings cross: no 64-bit integers (no BigInt on old iOS);
//! * no `Closure`, no js-sys, no serde: the glue stays small;
//! * nothing here panics on input from JS (no unwrap/expect on input-derived values).

use std::collections::VecDeque;

use wasm_bindgen::prelude::*;

use crate::core::{
    AuthCallId, AuthReply, Command, Config, Core, Error, Event, Input, Millis, NewSession, Reply,
    RequestId, Submit,
};

#[wasm_bindgen]
extern "C" {
    /// The JS object that carries out the core's commands (built by js/client.js).
    pub type Shims;

    /// `Command::Send`: send business request `id` to `url`. `token_state`: 0 no token,
    /// 1 the same token as the last send (not passed again: one string decode less per
    /// request), 2 a new token, passed in `token`. `generation`: the core's token generation
    /// now, for [`Gate::sendable`] when the send is delayed (an async `beforeRequest`).
    #[wasm_bindgen(catch, method)]
    fn send(this: &Shims, id: u32, url: &str, token_state: u32, token: Option<&str>, generation: u32)
        -> Result<(), JsValue>;
    /// `Command::AbortSend`.
    #[wasm_bindgen(catch, method)]
    fn abort_send(this: &Shims, id: u32) -> Result<(), JsValue>;
    /// `Command::CheckSession`.
    #[wasm_bindgen(catch, method)]
    fn check_session(this: &Shims) -> Result<(), JsValue>;
    /// `Command::PlatformLogin`.
    #[wasm_bindgen(catch, method)]
    fn platform_login(this: &Shims, call: u32) -> Result<(), JsValue>;
    /// `Command::PostLogin` (`refresh == false`) and `Command::PostRefresh` (`true`):
    /// POST `value` (the code, or the refresh token) to `url`.
    #[wasm_bindgen(catch, method)]
    fn post_auth(this: &Shims, call: u32, refresh: bool, url: &str, value: &str)
        -> Result<(), JsValue>;
    /// `Command::AbortAuth`.
    #[wasm_bindgen(catch, method)]
    fn abort_auth(this: &Shims, call: u32) -> Result<(), JsValue>;
    /// `Command::Persist` (`Some`) and `Command::ForgetStored` (`None`).
    #[wasm_bindgen(catch, method)]
    fn store(this: &Shims, value: Option<&str>) -> Result<(), JsValue>;
    /// `Command::Settle`: `code` is `None` on success; `status` is the HTTP status of
    /// HTTP/UNAUTHORIZED (0 otherwise); `detail` is errMsg (NETWORK), bizCode (BUSINESS),
    /// reason (LOGIN_REQUIRED) or the message (CONFIG).
    #[wasm_bindgen(catch, method)]
    fn settle(
        this: &Shims,
        id: u32,
        code: Option<&str>,
        status: u32,
        detail: Option<&str>,
        with_response: bool,
    ) -> Result<(), JsValue>;
    /// `Command::Emit`: `name` is the event; `ok` for refresh/login, `reason` for
    /// loginRequired.
    #[wasm_bindgen(catch, method)]
    fn emit(this: &Shims, name: &str, ok: bool, reason: Option<&str>) -> Result<(), JsValue>;
    /// Re-arm the one timer for `at` (ms since the epoch), or disarm it when `at < 0`.
    #[wasm_bindgen(catch, method)]
    fn arm_timer(this: &Shims, at: f64) -> Result<(), JsValue>;
}

/// A JS number of milliseconds as the core's clock: negative, NaN → 0; huge → saturated.
fn ms(now: f64) -> Millis {
    if now.is_finite() && now > 0.0 {
        // `as` saturates for floats larger than u64::MAX.
        now as Millis
    } else {
        0
    }
}

/// A message from a thrown JS value, without assuming its type.
fn thrown_message(err: &JsValue) -> String {
    match err.as_string() {
        Some(s) => s,
        None => String::from("platform call threw"),
    }
}

/// The core and the shims it runs through.
#[wasm_bindgen]
pub struct Gate {
    core: Core,
    shims: Shims,
    /// Inputs produced while draining (a throwing shim): fed after the current drain.
    pending: VecDeque<Input>,
    /// The deadline last given to `arm_timer` (`None` = disarmed).
    armed: Option<Millis>,
    /// The token last handed to the `send` shim (which keeps it), so an unchanged token is
    /// not passed again. Forgotten with the stored session.
    sent_token: Option<String>,
    /// The login or refresh call in flight, as the commands show it: set by
    /// PlatformLogin/PostLogin/PostRefresh, cleared by its AbortAuth or by the Login/Refresh
    /// event that ends every such call. For [`Gate::sendable`] (rule 2).
    auth_call: Option<u32>,
    /// The URL last handed to the `send` shim, so that [`Gate::submit`] can tell JS to send
    /// to "the same URL as last time" instead of passing (and decoding) it again.
    sent_url: Option<String>,
    /// Set by [`Gate::hand_back`]: `submit` / `response` may hand their one steady-state
    /// command back to the caller instead of running it through a shim.
    hand_back: bool,
}

#[wasm_bindgen]
impl Gate {
    /// Build the core from the options JSON (see `Config::from_json`); a bad option
    /// throws the CONFIG message as a JS string.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str, shims: Shims) -> Result<Gate, JsValue> {
        let config = Config::from_json(options_json).map_err(config_error)?;
        config.validate().map_err(config_error)?;
        Ok(Gate {
            core: Core::new(config),
            shims,
            pending: VecDeque::new(),
            armed: None,
            sent_token: None,
            auth_call: None,
            sent_url: None,
            hand_back: false,
        })
    }

    /// What storage held at launch (`None`: missing or unreadable). The first input.
    pub fn stored(&mut self, now: f64, value: Option<String>) {
        self.feed(now, Input::Stored(value));
    }

    /// `platform.checkSession` answered.
    pub fn check_session_done(&mut self, now: f64, ok: bool) {
        self.feed(now, Input::CheckSession { ok });
    }

    /// Opt in to the one-crossing hot path of [`Gate::submit`] and [`Gate::response`]: from
    /// now on their results must be acted on (js/client.js does). Off by default, so a
    /// driver that ignores the results sees every command through the shims.
    pub fn hand_back(&mut self) {
        self.hand_back = true;
    }

    /// A business request was made; `timeout < 0` (or NaN) means the client's timeout.
    /// The core decides as for any input (it records the request, its deadline and the
    /// token generation it goes out with); only how its commands reach JS differs in the
    /// steady state, after [`Gate::hand_back`]: when the one command produced is sending this request with the token
    /// and to the URL of the last `send` shim call, that send is handed back instead of
    /// going through the shim (one crossing per request, the URL not decoded again): the
    /// result is the token generation (>= 0) and JS sends at once with its kept token and
    /// URL. Otherwise every command ran through the shims and the result is -1.
    pub fn submit(&mut self, now: f64, id: u32, url: String, auth: bool, timeout: f64) -> f64 {
        let timeout_ms = if timeout.is_finite() && timeout >= 0.0 { Some(ms(timeout)) } else { None };
        self.feed_with(now, Input::Submit(Submit { id: RequestId(id), url, auth, timeout_ms }), Some(id))
    }

    /// The server answered request `id` with `status`; `code` is the envelope code.
    /// After [`Gate::hand_back`]: 1 when the one command this produced is settling `id`
    /// successfully with its response (handed back: JS settles it at once, no settle shim
    /// call); else every command ran through the shims and the result is 0.
    pub fn response(&mut self, now: f64, id: u32, status: u32, code: Option<String>) -> u32 {
        let status = clamp_status(status);
        let r = self.feed_with(now, Input::Response { id: RequestId(id), reply: Reply::Http { status, code } }, Some(id));
        u32::from(r >= 0.0)
    }

    /// Request `id` was given a token with the send of token `generation`, and its transport
    /// is about to start only now (an async `beforeRequest` ran in between). `true`: that
    /// token is still the session's and no login/refresh is out, go on. `false`: the token
    /// was replaced (refresh, `setSession()`) or forgotten (`logout()`) meanwhile, or a
    /// login/refresh is in flight (rule 2); the request must not go out with it, and the
    /// core takes the send back (`Input::Withdrawn`): it sends the request again with the
    /// current token (at once, or after the call in flight), or settles it
    /// (`LOGIN_REQUIRED`), without using the request's one replay.
    pub fn sendable(&mut self, now: f64, id: u32, generation: u32) -> bool {
        if self.auth_call.is_none() && self.core.session(ms(now)).logged_in && self.core.generation() == generation {
            return true;
        }
        self.feed(now, Input::Withdrawn { id: RequestId(id) });
        false
    }

    /// The transport of request `id` failed with `message` (errMsg).
    pub fn transport_failed(&mut self, now: f64, id: u32, message: String) {
        self.feed(now, Input::Response { id: RequestId(id), reply: Reply::Transport { message } });
    }

    /// `platform.login` answered: `ok` with the code, or failed with its errMsg.
    pub fn platform_login_done(&mut self, now: f64, call: u32, ok: bool, code_or_err: String) {
        let result = if ok { Ok(code_or_err) } else { Err(code_or_err) };
        self.feed(now, Input::PlatformLogin { call: AuthCallId(call), result });
    }

    /// The login or refresh POST answered with `status` and the body as text.
    pub fn auth_reply(&mut self, now: f64, call: u32, status: u32, body: String) {
        let status = clamp_status(status);
        self.feed(now, Input::AuthReply { call: AuthCallId(call), reply: AuthReply::Http { status, body } });
    }

    /// The login or refresh POST failed in transport.
    pub fn auth_transport_failed(&mut self, now: f64, call: u32, message: String) {
        self.feed(now, Input::AuthReply { call: AuthCallId(call), reply: AuthReply::Transport { message } });
    }

    /// The caller aborted request `id`.
    pub fn abort(&mut self, now: f64, id: u32) {
        self.feed(now, Input::Abort { id: RequestId(id) });
    }

    /// `login()` was called; `id` settles when that login ends.
    pub fn login(&mut self, now: f64, id: u32) {
        self.feed(now, Input::Login { id: RequestId(id) });
    }

    /// `setSession()`; `expires_in` in seconds, NaN or negative when absent.
    pub fn set_session(&mut self, now: f64, access: String, refresh: Option<String>, expires_in: f64) {
        let expires_in_secs = if expires_in.is_finite() && expires_in >= 0.0 { Some(expires_in) } else { None };
        self.feed(now, Input::SetSession(NewSession { access_token: access, refresh_token: refresh, expires_in_secs }));
    }

    /// `logout()`.
    pub fn logout(&mut self, now: f64) {
        self.feed(now, Input::Logout);
    }

    /// The timer fired.
    pub fn timeout(&mut self, now: f64) {
        // The timer is spent: the next drain must arm it again even for the same deadline.
        self.armed = None;
        self.feed(now, Input::Timeout);
    }

    /// `session()` in one number: `-2` not logged in, `-1` logged in without a known
    /// expiry, else `expiresAt` in ms.
    pub fn session(&self, now: f64) -> f64 {
        let info = self.core.session(ms(now));
        match (info.logged_in, info.expires_at) {
            (false, _) => -2.0,
            (true, None) => -1.0,
            (true, Some(at)) => at as f64,
        }
    }
}

/// Bytes of wasm linear memory (for the leak test and diagnostics).
#[wasm_bindgen]
pub fn memory_bytes() -> u32 {
    // Pages of 64 KiB; the multiplication saturates rather than overflowing.
    (core::arch::wasm32::memory_size(0) as u32).saturating_mul(65536)
}

fn config_error(err: Error) -> JsValue {
    match err {
        Error::Config { message } => JsValue::from_str(&message),
        other => JsValue::from_str(other.code()),
    }
}

fn clamp_status(status: u32) -> u16 {
    if status > u32::from(u16::MAX) {
        u16::MAX
    } else {
        status as u16
    }
}

fn submit_input(id: u32, url: String, auth: bool, timeout: f64) -> Input {
    let timeout_ms = if timeout.is_finite() && timeout >= 0.0 { Some(ms(timeout)) } else { None };
    Input::Submit(Submit { id: RequestId(id), url, auth, timeout_ms })
}

impl Gate {
    /// Feed one input, run every command it produced (and the inputs those produced), then
    /// re-arm the timer.
    fn feed(&mut self, now: f64, input: Input) {
        self.feed_with(now, input, None);
    }

    /// The one caller of `Core::handle` (so that it is not inlined twice). With `fast`
    /// (request `id`): when the input produced exactly one command and it is the
    /// steady-state send of `id` (same token and URL as the last send shim call) or the
    /// successful settle of `id`, that command is handed back to JS instead of being run
    /// through a shim: the result is the token generation (send) or 0 (settle); else -1.
    fn feed_with(&mut self, now: f64, input: Input, fast: Option<u32>) -> f64 {
        let t = ms(now);
        self.core.handle(t, input);
        if let (Some(id), true) = (fast, self.hand_back) {
            let r = match self.core.sole_command() {
                Some(Command::Send { id: sid, url, token: Some(tok) })
                    if sid.0 == id
                        && self.sent_token.as_deref() == Some(tok.as_str())
                        && self.sent_url.as_deref() == Some(url.as_str()) =>
                {
                    f64::from(self.core.generation())
                }
                Some(Command::Settle { id: sid, result: Ok(()), with_response: true }) if sid.0 == id => 0.0,
                _ => -1.0,
            };
            if r >= 0.0 {
                let _ = self.core.poll_command();
                self.rearm();
                return r;
            }
        }
        self.drain(t);
        -1.0
    }

    /// Run every queued command (and the inputs those produced), then re-arm the timer.
    fn drain(&mut self, now: Millis) {
        loop {
            while let Some(command) = self.core.poll_command() {
                self.run(command);
            }
            match self.pending.pop_front() {
                Some(next) => self.core.handle(now, next),
                None => break,
            }
        }
        self.rearm();
    }

    fn rearm(&mut self) {
        let at = self.core.poll_timeout();
        if at != self.armed {
            self.armed = at;
            let _ = self.shims.arm_timer(match at {
                Some(at) => at as f64,
                None => -1.0,
            });
        }
    }

    fn run(&mut self, command: Command) {
        let shims = &self.shims;
        match command {
            Command::Send { id, url, token } => {
                let generation = self.core.generation();
                if self.sent_url.as_deref() != Some(url.as_str()) {
                    self.sent_url = Some(url.clone());
                }
                let result = match token {
                    None => shims.send(id.0, &url, 0, None, generation),
                    Some(t) if self.sent_token.as_deref() == Some(t.as_str()) => shims.send(id.0, &url, 1, None, generation),
                    Some(t) => {
                        let r = shims.send(id.0, &url, 2, Some(&t), generation);
                        self.sent_token = Some(t);
                        r
                    }
                };
                if let Err(e) = result {
                    // The shim may not have kept the token: pass it again next time.
                    self.sent_token = None;
                    let message = thrown_message(&e);
                    self.pending.push_back(Input::Response { id, reply: Reply::Transport { message } });
                }
            }
            Command::AbortSend { id } => {
                let _ = shims.abort_send(id.0);
            }
            Command::CheckSession => {
                if shims.check_session().is_err() {
                    self.pending.push_back(Input::CheckSession { ok: false });
                }
            }
            Command::PlatformLogin { call } => {
                self.auth_call = Some(call.0);
                if let Err(e) = shims.platform_login(call.0) {
                    self.pending.push_back(Input::PlatformLogin { call, result: Err(thrown_message(&e)) });
                }
            }
            Command::PostLogin { call, url, code } => {
                self.auth_call = Some(call.0);
                if let Err(e) = shims.post_auth(call.0, false, &url, &code) {
                    let message = thrown_message(&e);
                    self.pending.push_back(Input::AuthReply { call, reply: AuthReply::Transport { message } });
                }
            }
            Command::PostRefresh { call, url, refresh_token } => {
                self.auth_call = Some(call.0);
                if let Err(e) = shims.post_auth(call.0, true, &url, &refresh_token) {
                    let message = thrown_message(&e);
                    self.pending.push_back(Input::AuthReply { call, reply: AuthReply::Transport { message } });
                }
            }
            Command::AbortAuth { call } => {
                if self.auth_call == Some(call.0) {
                    self.auth_call = None;
                }
                let _ = shims.abort_auth(call.0);
            }
            Command::Persist { value } => {
                let _ = shims.store(Some(&value));
            }
            Command::ForgetStored => {
                self.sent_token = None;
                let _ = shims.store(None);
            }
            Command::Settle { id, result, with_response } => {
                let _ = match result {
                    Ok(()) => shims.settle(id.0, None, 0, None, with_response),
                    Err(err) => {
                        let (status, detail): (u16, Option<&str>) = match &err {
                            Error::Network { message } => (0, Some(message)),
                            Error::Http { status } | Error::Unauthorized { status } => (*status, None),
                            Error::Business { code } => (0, Some(code)),
                            Error::LoginRequired { reason } => (0, Some(reason.as_str())),
                            Error::Config { message } => (0, Some(message)),
                            Error::Timeout | Error::Aborted => (0, None),
                        };
                        shims.settle(id.0, Some(err.code()), u32::from(status), detail, with_response)
                    }
                };
            }
            Command::Emit(event) => {
                if matches!(event, Event::Refresh { .. } | Event::Login { .. }) {
                    self.auth_call = None;
                }
                let _ = match event {
                    Event::Refresh { ok } => shims.emit("refresh", ok, None),
                    Event::Login { ok } => shims.emit("login", ok, None),
                    Event::LoginRequired { reason } => shims.emit("loginRequired", false, Some(reason.as_str())),
                    Event::Logout => shims.emit("logout", true, None),
                };
            }
        }
    }
}
