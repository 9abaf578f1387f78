//! The wasm boundary: the exported [`Client`], whose methods return promises, and the
//! async driver behind it (see docs/architecture.md, "The path of one request").
//!
//! * serde-wasm-bindgen reads the options object (into `core::options`, checked once, here),
//!   the stored session and `setSession()`'s token set, and writes event payloads,
//!   `session()` and the stored session;
//! * js-sys reads response bodies (`Reflect`), calls hooks (`Function`), awaits promises and
//!   builds every `TokenGateError`, once, in [`host::to_js_error`];
//! * wasm-bindgen-futures + futures: one driver task owns the core (`driver`); each
//!   exported call posts to its inbox (`futures::channel::mpsc`) and waits on a `oneshot`.
//!
//! Nothing here panics on input from JS: every value from JS is checked, every import is
//! `catch`, and a driver that ended rejects instead of leaving a promise pending.

pub mod driver;
pub mod host;

use std::cell::Cell;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use js_sys::Promise;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::core::{options, usable_token, Core, EnvVersion, Error, NewSession, RequestId, SessionInfo, Submit};
use driver::{Driver, Kind, Msg, Outcome};
use host::{ErrorContext, Host};

/// Keeps a JS value (a function, the platform object, `login.data`) as it is through
/// serde-wasm-bindgen, for the options the core leaves opaque.
struct Opaque(JsValue);

impl<'de> Deserialize<'de> for Opaque {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_wasm_bindgen::preserve::deserialize(d).map(Opaque)
    }
}

/// `setSession()`'s argument.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenSetArg {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

/// What `session()` gives: never a token.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView {
    logged_in: bool,
    expires_at: Option<f64>,
}

/// A tokengate client: the core, its driver task, and promise-returning methods. Made by
/// the JS facade (js/client.js) once the wasm has loaded.
#[wasm_bindgen]
pub struct Client {
    inbox: mpsc::UnboundedSender<Msg>,
    session: Rc<Cell<SessionInfo>>,
    host: Host,
    /// The options were refused: every call rejects with this `CONFIG` error.
    refused: Option<Error>,
    ready: Promise,
}

fn env_of(host: &Host) -> EnvVersion {
    match host.env().as_string().as_deref() {
        Some("develop") => EnvVersion::Develop,
        Some("trial") => EnvVersion::Trial,
        _ => EnvVersion::Release,
    }
}

fn pending_or(rx: oneshot::Receiver<Outcome>, host: Host) -> Promise {
    future_to_promise(async move {
        match rx.await {
            Ok(outcome) => outcome,
            // The driver ended (the client was freed): reject rather than hang.
            Err(_) => Err(host::make_error(&host, "INTERNAL", "INTERNAL: the client is gone", &JsValue::UNDEFINED)),
        }
    })
}

fn config(message: &str) -> Error {
    Error::Config { message: message.to_string() }
}

#[wasm_bindgen]
impl Client {
    /// Read the options (a `CONFIG` error naming the option is kept, printed once with
    /// `console.error`, and every call rejects with it) and start the driver. Never throws.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, host: Host) -> Client {
        let (tx, rx) = mpsc::unbounded();
        let session = Rc::new(Cell::new(SessionInfo { logged_in: false, expires_at: None }));
        let options = if options.is_undefined() || options.is_null() { js_sys::Object::new().into() } else { options };
        let settings = options::read::<_, Opaque>(serde_wasm_bindgen::Deserializer::from(options), env_of(&host));
        match settings {
            Ok(s) => {
                let s = options::Settings {
                    config: s.config,
                    auth_header: s.auth_header,
                    auth_scheme: s.auth_scheme,
                    storage_key: s.storage_key,
                    header: s.header,
                    login: unwrap_call(s.login),
                    refresh: unwrap_call(s.refresh),
                    before_request: s.before_request.map(|o| o.0),
                    envelope: s.envelope,
                    max_concurrent: s.max_concurrent,
                };
                if let Some(f) = &s.before_request {
                    if !f.is_function() {
                        return Client::refused(config("option beforeRequest: must be a function"), host, tx, session);
                    }
                }
                for (d, name) in [(&s.login.data, "login.data"), (&s.refresh.data, "refresh.data")] {
                    if let Some(d) = d {
                        if !(d.is_function() || d.is_object()) {
                            return Client::refused(config(&format!("option {name}: must be an object or a function")), host, tx, session);
                        }
                    }
                }
                let (ready_tx, ready_rx) = oneshot::channel();
                let driver = Driver::new(Core::new(s.config.clone()), host.clone(), s, session.clone());
                wasm_bindgen_futures::spawn_local(driver.run(rx, ready_tx));
                let ready = pending_or(ready_rx, host.clone());
                Client { inbox: tx, session, host, refused: None, ready }
            }
            Err(e) => Client::refused(e, host, tx, session),
        }
    }

    fn refused(e: Error, host: Host, inbox: mpsc::UnboundedSender<Msg>, session: Rc<Cell<SessionInfo>>) -> Client {
        let err = host::to_js_error(&host, &e, &ErrorContext::NONE);
        let _ = host::console_error(&err);
        let ready = Promise::reject(&err);
        Client { inbox, session, host, refused: Some(e), ready }
    }

    /// Settles when the options are read and the stored session is loaded.
    #[wasm_bindgen(getter)]
    pub fn ready(&self) -> Promise {
        self.ready.clone()
    }

    /// A rejection now (bad request options, a refused client), also an `'error'` event.
    fn reject_now(&self, e: &Error, event: bool) -> Promise {
        let err = host::to_js_error(&self.host, e, &ErrorContext::NONE);
        if event {
            let _ = self.host.emit("error", &err);
        }
        Promise::reject(&err)
    }

    /// `request()`, `upload()`, `download()` and the shorthands: `kind` names the platform
    /// call; `id` is the facade's number for `abort(id)`.
    pub fn request(&self, id: u32, kind: &str, opts: JsValue) -> Promise {
        if let Some(e) = &self.refused {
            return self.reject_now(e, true);
        }
        let kind = match kind {
            "upload" => Kind::Upload,
            "download" => Kind::Download,
            _ => Kind::Request,
        };
        let submit = match self.check_request(id, kind, &opts) {
            Ok(s) => s,
            Err(e) => return self.reject_now(&e, true),
        };
        self.ask(|reply| Msg::Submit { id, kind, opts, submit, reply })
    }

    /// Post a message whose answer settles the returned promise. A driver that is gone
    /// drops the message, and with it the sender: `pending_or` then rejects.
    fn ask(&self, msg: impl FnOnce(oneshot::Sender<Outcome>) -> Msg) -> Promise {
        let (reply, rx) = oneshot::channel();
        let _ = self.inbox.unbounded_send(msg(reply));
        pending_or(rx, self.host.clone())
    }

    fn check_request(&self, id: u32, kind: Kind, opts: &JsValue) -> Result<Submit, Error> {
        if !opts.is_object() {
            return Err(config("request options must be an object"));
        }
        for key in ["success", "fail", "complete"] {
            if !host::get(opts, key).is_undefined() {
                return Err(config(&format!("{key} is not supported: the client returns a promise (use then/catch/finally)")));
            }
        }
        let url = match host::get(opts, "url").as_string() {
            Some(u) if !u.is_empty() => u,
            _ => return Err(config("url must be a non-empty string")),
        };
        if kind != Kind::Request && !self.host.supports(kind.name()).unwrap_or(false) {
            return Err(config(&format!("the platform has no {}File", kind.name())));
        }
        let timeout = host::get(opts, "timeout").as_f64().filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as u64);
        let auth = host::get(opts, "auth").as_bool() != Some(false);
        Ok(Submit { id: RequestId(id), url, auth, timeout_ms: timeout })
    }

    /// Abort request `id`: a waiting one leaves the queue, one in flight aborts its task;
    /// it rejects `ABORTED`. Unknown or settled ids are ignored.
    pub fn abort(&self, id: u32) {
        let _ = self.inbox.unbounded_send(Msg::Abort { id });
    }

    /// `login()`: runs the silent login now, or joins the login or refresh in flight.
    pub fn login(&self, id: u32) -> Promise {
        if let Some(e) = &self.refused {
            return self.reject_now(e, false);
        }
        self.ask(|reply| Msg::Login { id, reply })
    }

    /// `setSession({ accessToken, refreshToken?, expiresIn? })`.
    #[wasm_bindgen(js_name = setSession)]
    pub fn set_session(&self, tokens: JsValue) -> Promise {
        if let Some(e) = &self.refused {
            return self.reject_now(e, false);
        }
        let arg: TokenSetArg = match serde_wasm_bindgen::from_value(tokens) {
            Ok(a) => a,
            Err(_) => return self.reject_now(&config("setSession needs { accessToken, refreshToken?, expiresIn? }"), false),
        };
        if arg.access_token.is_empty() {
            return self.reject_now(&config("setSession needs a non-empty accessToken"), false);
        }
        // The core ignores a token that cannot go into a header (CR/LF would split it);
        // refuse it here rather than resolve with no session installed.
        if !usable_token(&arg.access_token) {
            return self.reject_now(&config("accessToken has control characters"), false);
        }
        if arg.expires_in.is_some_and(|e| !(e.is_finite() && e >= 0.0)) {
            return self.reject_now(&config("expiresIn must be a non-negative number of seconds"), false);
        }
        let session = NewSession {
            access_token: arg.access_token,
            refresh_token: arg.refresh_token.filter(|r| !r.is_empty()),
            expires_in_secs: arg.expires_in,
        };
        self.ask(|reply| Msg::SetSession { session, reply })
    }

    /// `logout()`: forgets the session; waiting requests reject `LOGIN_REQUIRED`.
    pub fn logout(&self) -> Promise {
        if let Some(e) = &self.refused {
            return self.reject_now(e, false);
        }
        self.ask(|reply| Msg::Logout { reply })
    }

    /// `{ loggedIn, expiresAt }` as of the driver's last step; never a token.
    pub fn session(&self) -> JsValue {
        let s = self.session.get();
        let view = SessionView { logged_in: s.logged_in, expires_at: s.expires_at.map(|v| v as f64) };
        host::to_js(&view)
    }
}

fn unwrap_call(c: options::AuthCallSettings<Opaque>) -> options::AuthCallSettings<JsValue> {
    options::AuthCallSettings { method: c.method, field: c.field, data: c.data.map(|o| o.0), header: c.header }
}

/// Bytes of wasm linear memory (for the leak test and diagnostics).
#[wasm_bindgen(js_name = memoryBytes)]
pub fn memory_bytes() -> u32 {
    (core::arch::wasm32::memory_size(0) as u32).saturating_mul(65536)
}
