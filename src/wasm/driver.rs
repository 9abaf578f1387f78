//! The driver: one task (`spawn_local`) that owns the [`Core`] and is the only code that
//! touches it. It awaits three things: its inbox (what the exported methods ask for), the
//! platform calls in flight (promise-returning host shims, each awaited as a `JsFuture`),
//! and one timer. For each, it feeds the core one input, runs every command the core gives
//! (starting calls, settling requests through their `oneshot`), and re-arms the timer:
//! the drive loop of `core`'s guide, with JS promises as the I/O.
//!
//! Nothing here runs inside a caller's stack: `request()` only posts to the inbox, so a
//! listener or hook that calls the client again cannot re-enter the core.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use futures::channel::{mpsc, oneshot};
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use js_sys::{Function, Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::host::{self, ErrorContext, Host, JsBody};
use crate::core::{
    body, url, AuthBody, AuthCallId, AuthReply, Command, Core, Error, Event, Input, Millis, NewSession, Reply,
    RequestId, SessionInfo, Settings, StoredSession, Submit,
};

/// What a waiting promise gets.
pub type Outcome = Result<JsValue, JsValue>;

/// Which platform call a business request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Upload,
    Download,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Upload => "upload",
            Kind::Download => "download",
        }
    }
}

/// A message from the exported methods to the driver.
pub enum Msg {
    Submit { id: u32, kind: Kind, opts: JsValue, submit: Submit, reply: oneshot::Sender<Outcome> },
    Abort { id: u32 },
    Login { id: u32, reply: oneshot::Sender<Outcome> },
    SetSession { session: NewSession, reply: oneshot::Sender<Outcome> },
    Logout { reply: oneshot::Sender<Outcome> },
}

/// A request (or `login()` call) the core has not settled yet.
struct Waiter {
    /// `None` for a `login()` call.
    kind: Option<Kind>,
    opts: JsValue,
    reply: oneshot::Sender<Outcome>,
    /// Bumped by every send, so that the answer of an earlier send is told apart.
    send: u32,
    /// The URL of the last send, as the core joined it.
    url: String,
    /// The token generation the last send carries (`None`: no token).
    generation: Option<u32>,
    /// The last response and its body.
    response: Option<JsValue>,
    data: JsValue,
}

impl Waiter {
    fn new(kind: Option<Kind>, opts: JsValue, reply: oneshot::Sender<Outcome>) -> Waiter {
        Waiter { kind, opts, reply, send: 0, url: String::new(), generation: None, response: None, data: JsValue::UNDEFINED }
    }
}

/// A platform call or hook that finished.
enum Step {
    Response { id: u32, send: u32, result: Outcome },
    /// An async `beforeRequest` finished for send `send` of `id`, made with the token of
    /// `generation` (`None`: without a token).
    Hooked { id: u32, send: u32, generation: Option<u32>, opts: Object, result: Outcome },
    PlatformLogin { call: AuthCallId, result: Outcome },
    /// The promise of a `login.data` / `refresh.data` function settled: `body` gets its
    /// fields, then the call goes out.
    AuthData { call: AuthCallId, opts: Object, body: Object, field: String, value: String, result: Outcome },
    AuthReply { call: AuthCallId, result: Outcome },
    CheckSession { result: Outcome },
}

/// A platform network call waiting for a slot (`maxConcurrent`).
enum Queued {
    Request { id: u32, send: u32, kind: Kind, opts: Object },
    Auth { call: AuthCallId, opts: Object },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Task {
    Request(u32),
    Auth(AuthCallId),
}

#[derive(Serialize)]
struct Ok_ {
    ok: bool,
}

#[derive(Serialize)]
struct Reason {
    reason: &'static str,
}

/// `session()`: what the driver last saw, shared with the exported `Client`.
pub type SharedSession = Rc<Cell<SessionInfo>>;

pub struct Driver {
    core: Core,
    host: Host,
    s: Settings<JsValue>,
    waiters: BTreeMap<u32, Waiter>,
    calls: FuturesUnordered<LocalBoxFuture<'static, Step>>,
    /// Promises of calls in flight, for `abort()` (few: at most `maxConcurrent`).
    tasks: Vec<(Task, Promise)>,
    /// Platform network calls in flight, and those waiting for a slot (auth calls first).
    busy: u32,
    queued: VecDeque<Queued>,
    timer: Option<JsFuture>,
    armed: Option<Millis>,
    /// Inputs produced while running commands (a shim that threw): fed after the drain.
    later: VecDeque<Input>,
    session: SharedSession,
    /// Login POSTs in flight, so that their reply body is kept for `login()`.
    login_calls: Vec<AuthCallId>,
    /// The body of the last login or refresh reply when it was a login's: what `login()`
    /// resolves with (less its tokens); `None` after a refresh.
    login_body: Option<JsValue>,
    /// Requests taken back from the core because a hook moved them to another origin:
    /// they reject with this CONFIG message instead of ABORTED (rule 9).
    refused: Vec<(u32, String)>,
    /// The auth header's name, and its value for the token of one generation, and the last
    /// URL sent: made into JS strings once, not per request.
    auth_name: JsValue,
    auth_value: Option<(u32, JsValue)>,
    last_url: Option<(String, JsValue)>,
}

fn now() -> Millis {
    let t = js_sys::Date::now();
    if t.is_finite() && t > 0.0 {
        t as Millis
    } else {
        0
    }
}

impl Driver {
    pub fn new(core: Core, host: Host, s: Settings<JsValue>, session: SharedSession) -> Driver {
        Driver {
            core,
            host,
            waiters: BTreeMap::new(),
            calls: FuturesUnordered::new(),
            tasks: Vec::new(),
            busy: 0,
            queued: VecDeque::new(),
            timer: None,
            armed: None,
            later: VecDeque::new(),
            session,
            login_calls: Vec::new(),
            login_body: None,
            refused: Vec::new(),
            auth_name: JsValue::from_str(&s.auth_header),
            auth_value: None,
            last_url: None,
            s,
        }
    }

    /// The task: read storage, then serve the inbox, the calls and the timer until every
    /// handle to the client is gone.
    pub async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Msg>, ready: oneshot::Sender<Outcome>) {
        let stored = self.read_storage();
        self.feed(Input::Stored(stored));
        let _ = ready.send(Ok(JsValue::UNDEFINED));
        loop {
            enum Next {
                Msg(Option<Msg>),
                Step(Step),
                Timer,
            }
            let calls = &mut self.calls;
            let timer = &mut self.timer;
            let next = poll_fn(|cx| {
                if let Poll::Ready(m) = inbox.poll_next_unpin(cx) {
                    return Poll::Ready(Next::Msg(m));
                }
                if let Poll::Ready(Some(step)) = calls.poll_next_unpin(cx) {
                    return Poll::Ready(Next::Step(step));
                }
                if let Some(t) = timer.as_mut() {
                    if let Poll::Ready(fired) = t.poll_unpin(cx) {
                        *timer = None;
                        if fired.ok().and_then(|v| v.as_bool()) == Some(true) {
                            return Poll::Ready(Next::Timer);
                        }
                    }
                }
                Poll::Pending
            })
            .await;
            match next {
                Next::Msg(Some(m)) => self.on_msg(m),
                Next::Msg(None) => break,
                Next::Step(step) => self.on_step(step),
                Next::Timer => {
                    // The timer is spent: arm it again even for the same deadline.
                    self.armed = None;
                    self.feed(Input::Timeout);
                }
            }
        }
        let _ = self.host.arm(-1.0);
    }

    fn read_storage(&self) -> Option<StoredSession> {
        let v = self.host.get_storage(&self.s.storage_key).ok()?;
        // An earlier version stored JSON text; the platform's own parser reads it.
        let v = match v.as_string() {
            Some(text) => js_sys::JSON::parse(&text).ok()?,
            None => v,
        };
        if !v.is_object() {
            return None;
        }
        serde_wasm_bindgen::from_value(v).ok()
    }

    // ------------------------------------------------------------------ inputs

    fn on_msg(&mut self, m: Msg) {
        match m {
            Msg::Submit { id, kind, opts, submit, reply } => {
                if self.waiters.contains_key(&id) {
                    return; // ids are the facade's and unique; a duplicate is a bug there
                }
                self.waiters.insert(id, Waiter::new(Some(kind), opts, reply));
                self.feed(Input::Submit(submit));
            }
            Msg::Abort { id } => {
                self.unqueue(|q| matches!(q, Queued::Request { id: i, .. } if *i == id));
                self.feed(Input::Abort { id: RequestId(id) });
            }
            Msg::Login { id, reply } => {
                self.waiters.insert(id, Waiter::new(None, JsValue::UNDEFINED, reply));
                self.feed(Input::Login { id: RequestId(id) });
            }
            Msg::SetSession { session, reply } => {
                self.feed(Input::SetSession(session));
                let _ = reply.send(Ok(JsValue::UNDEFINED));
            }
            Msg::Logout { reply } => {
                self.feed(Input::Logout);
                let _ = reply.send(Ok(JsValue::UNDEFINED));
            }
        }
    }

    fn on_step(&mut self, step: Step) {
        match step {
            Step::Response { id, send, result } => {
                if !self.current(id, send) {
                    self.free_slot(Task::Request(id));
                    return;
                }
                let reply = match http_answer(result) {
                    Ok((status, mut data, res)) => {
                        if let Some(w) = self.waiters.get_mut(&id) {
                            // uploadFile gives its body as text; read it as JSON when it is.
                            if w.kind == Some(Kind::Upload) {
                                if let Some(v) = data.as_string().and_then(|text| js_sys::JSON::parse(&text).ok()) {
                                    data = v;
                                }
                            }
                            w.response = Some(res);
                            w.data = data.clone();
                        }
                        Reply::Http { status, code: body::reply_code(&JsBody(data), &self.s.config) }
                    }
                    Err(message) => Reply::Transport { message },
                };
                self.feed(Input::Response { id: RequestId(id), reply });
                self.free_slot(Task::Request(id));
            }
            Step::Hooked { id, send, generation, opts, result } => {
                if !self.current(id, send) {
                    return;
                }
                match result {
                    Err(e) => {
                        let message = format!("beforeRequest failed: {}", host::error_text(&e, "unknown error"));
                        self.feed(Input::Response { id: RequestId(id), reply: Reply::Transport { message } });
                    }
                    // The session may have changed while the hook ran: a replaced or
                    // forgotten token must not go out (rule 2); the core sends again or
                    // settles.
                    Ok(_) if generation.is_some_and(|g| !self.core.sendable(g)) => {
                        self.feed(Input::Withdrawn { id: RequestId(id) });
                    }
                    Ok(v) => {
                        let o = if v.is_object() { v.unchecked_into::<Object>() } else { opts };
                        self.hooked(id, send, o);
                        self.flush();
                    }
                }
            }
            Step::PlatformLogin { call, result } => {
                let result = match result {
                    Ok(v) => match v.as_string() {
                        Some(code) => Ok(code),
                        None => Err("login:fail no code".to_string()),
                    },
                    Err(e) => Err(host::error_text(&e, "login:fail")),
                };
                self.feed(Input::PlatformLogin { call, result });
            }
            Step::AuthData { call, opts, body, field, value, result } => {
                match result {
                    Ok(extra) => {
                        merge(&body, &extra);
                        self.post_body(call, opts, body, &field, &value);
                        self.flush();
                    }
                    Err(e) => {
                        let message = format!("data failed: {}", host::error_text(&e, "unknown error"));
                        self.feed(Input::AuthReply { call, reply: AuthReply::Transport { message } });
                    }
                }
            }
            Step::AuthReply { call, result } => {
                let was_login = self.login_calls.contains(&call);
                self.login_calls.retain(|c| *c != call);
                self.login_body = None;
                let reply = match http_answer(result) {
                    Ok((status, data, _)) => {
                        let body = AuthBody::read(&JsBody(data.clone()), &self.s.config);
                        if was_login {
                            self.login_body = Some(data);
                        }
                        AuthReply::Http { status, body }
                    }
                    Err(message) => AuthReply::Transport { message },
                };
                self.feed(Input::AuthReply { call, reply });
                self.free_slot(Task::Auth(call));
            }
            Step::CheckSession { result } => {
                let ok = matches!(result, Ok(v) if v.as_bool() == Some(true));
                self.feed(Input::CheckSession { ok });
            }
        }
    }

    fn current(&self, id: u32, send: u32) -> bool {
        self.waiters.get(&id).is_some_and(|w| w.send == send)
    }

    /// Feed one input, run every command (and the inputs those produced), then publish the
    /// session and re-arm the timer.
    #[inline(never)]
    fn feed(&mut self, input: Input) {
        let t = now();
        self.feed_at(t, input);
    }

    fn feed_at(&mut self, t: Millis, input: Input) {
        self.core.handle(t, input);
        loop {
            while let Some(c) = self.core.poll_command() {
                self.exec(c);
            }
            match self.later.pop_front() {
                Some(next) => self.core.handle(t, next),
                None => break,
            }
        }
        self.after(t);
    }

    fn after(&mut self, t: Millis) {
        self.session.set(self.core.session(t));
        let at = self.core.poll_timeout();
        if at != self.armed {
            self.armed = at;
            let delay = match at {
                Some(at) => at.saturating_sub(t) as f64,
                None => -1.0,
            };
            // The host keeps a timer that fires no later (and lets an idle one lie, unref'd):
            // then it answers `undefined` and the future in hand stays; a timer that fires
            // early only makes the core look at its deadlines once more.
            if let Ok(p) = self.host.arm(delay) {
                if p.is_object() {
                    self.timer = Some(JsFuture::from(p.unchecked_into::<Promise>()));
                }
            }
        }
    }

    // ------------------------------------------------------------------ commands

    // One copy, not one per caller of `feed`: it is the largest function here.
    #[inline(never)]
    fn exec(&mut self, c: Command) {
        match c {
            Command::CheckSession => match self.host.check_session() {
                Ok(p) => self.calls.push(JsFuture::from(p).map(|result| Step::CheckSession { result }).boxed_local()),
                Err(_) => self.later.push_back(Input::CheckSession { ok: false }),
            },
            Command::Send { id, url, token } => self.send(id.0, url, token),
            Command::AbortSend { id } => {
                self.unqueue(|q| matches!(q, Queued::Request { id: i, .. } if *i == id.0));
                self.abort_task(Task::Request(id.0));
            }
            Command::PlatformLogin { call } => match self.host.login() {
                Ok(p) => self.calls.push(JsFuture::from(p).map(move |result| Step::PlatformLogin { call, result }).boxed_local()),
                Err(e) => self.later.push_back(Input::PlatformLogin { call, result: Err(host::error_text(&e, "login:fail")) }),
            },
            Command::PostLogin { call, url, code } => {
                self.login_calls.push(call);
                let login = self.s.login.clone();
                self.post_auth(call, url, &login, code, false)
            }
            Command::PostRefresh { call, url, refresh_token } => {
                let refresh = self.s.refresh.clone();
                self.post_auth(call, url, &refresh, refresh_token, true)
            }
            Command::AbortAuth { call } => {
                self.unqueue(|q| matches!(q, Queued::Auth { call: c, .. } if *c == call));
                self.abort_task(Task::Auth(call));
            }
            Command::Persist { session } => {
                let _ = self.host.set_storage(&self.s.storage_key, &host::to_js(&session));
            }
            Command::ForgetStored => {
                let _ = self.host.remove_storage(&self.s.storage_key);
            }
            Command::Settle { id, result, with_response } => self.settle(id.0, result, with_response),
            Command::Emit(e) => {
                let (name, payload) = match e {
                    Event::Refresh { ok } => ("refresh", host::to_js(&Ok_ { ok })),
                    Event::Login { ok } => ("login", host::to_js(&Ok_ { ok })),
                    Event::LoginRequired { reason } => ("loginRequired", host::to_js(&Reason { reason: reason.as_str() })),
                    Event::Logout => ("logout", JsValue::UNDEFINED),
                };
                let _ = self.host.emit(name, &payload);
            }
        }
    }

    /// The headers of a call: the client's, then `own` (a request's own header object),
    /// then `extra` (a login/refresh call's), then the auth header.
    fn headers(&mut self, own: &JsValue, extra: &[(String, String)], auth: Option<(&str, u32)>) -> Object {
        let h = Object::new();
        for (k, v) in &self.s.header {
            host::set_dyn(&h, k, &JsValue::from_str(v));
        }
        if own.is_object() {
            let _ = Object::assign(&h, own.unchecked_ref());
        }
        for (k, v) in extra {
            host::set_dyn(&h, k, &JsValue::from_str(v));
        }
        if let Some((token, generation)) = auth {
            let value = match &self.auth_value {
                Some((g, v)) if *g == generation => v.clone(),
                _ => {
                    let text = if self.s.auth_scheme.is_empty() { token.to_string() } else { format!("{} {}", self.s.auth_scheme, token) };
                    let v = JsValue::from_str(&text);
                    self.auth_value = Some((generation, v.clone()));
                    v
                }
            };
            let _ = Reflect::set(&h, &self.auth_name, &value);
        }
        h
    }

    fn send(&mut self, id: u32, url: String, token: Option<String>) {
        let generation = token.as_ref().map(|_| self.core.generation());
        let own = match self.waiters.get(&id) {
            Some(w) => host::get(&w.opts, "header"),
            None => return,
        };
        let header = self.headers(&own, &[], token.as_deref().zip(generation));
        let url_value = match &self.last_url {
            Some((u, v)) if *u == url => v.clone(),
            _ => {
                let v = JsValue::from_str(&url);
                self.last_url = Some((url.clone(), v.clone()));
                v
            }
        };
        let Some(w) = self.waiters.get_mut(&id) else { return };
        w.send = w.send.wrapping_add(1);
        w.url.clone_from(&url);
        w.generation = generation;
        let send = w.send;
        // The platform's options: the caller's, less what only the client reads.
        let o = Object::assign(&Object::new(), w.opts.unchecked_ref());
        for key in ["auth", "fullResponse", "timeout", "header", "url"] {
            host::delete(&o, key);
        }
        host::set(&o, "url", &url_value);
        host::set(&o, "header", &header);
        let Some(hook) = self.s.before_request.as_ref().and_then(|h| h.dyn_ref::<Function>()).cloned() else {
            self.start_request(id, send, o);
            return;
        };
        match hook.call1(&JsValue::UNDEFINED, &o) {
            Err(e) => {
                let message = format!("beforeRequest threw: {}", host::error_text(&e, "unknown error"));
                self.later.push_back(Input::Response { id: RequestId(id), reply: Reply::Transport { message } });
            }
            Ok(r) if is_thenable(&r) => {
                let p = Promise::resolve(&r);
                self.calls.push(
                    JsFuture::from(p).map(move |result| Step::Hooked { id, send, generation, opts: o, result }).boxed_local(),
                );
            }
            Ok(r) => {
                let o = if r.is_object() { r.unchecked_into::<Object>() } else { o };
                self.hooked(id, send, o);
            }
        }
    }

    /// `beforeRequest` gave the options to send: start them, unless the hook moved the
    /// request to another origin (a token must not follow it there: rule 9).
    fn hooked(&mut self, id: u32, send: u32, o: Object) {
        let Some(sent) = self.waiters.get(&id).map(|w| w.url.clone()) else { return };
        let moved = match host::get(&o, "url").as_string() {
            Some(u) => u != sent && url::origin(&u).ok() != url::origin(&sent).ok(),
            None => true,
        };
        if moved {
            self.refused.push((id, "beforeRequest moved the request to another origin (or removed its url)".into()));
            self.later.push_back(Input::Abort { id: RequestId(id) });
            return;
        }
        self.start_request(id, send, o);
    }

    /// Start (or queue, past `maxConcurrent`) the platform call of send `send` of `id`.
    fn start_request(&mut self, id: u32, send: u32, opts: Object) {
        let Some(kind) = self.waiters.get(&id).and_then(|w| w.kind) else { return };
        if self.busy >= self.s.max_concurrent {
            self.queued.push_back(Queued::Request { id, send, kind, opts });
            return;
        }
        self.launch_request(id, send, kind, opts);
    }

    fn launch_request(&mut self, id: u32, send: u32, kind: Kind, opts: Object) {
        match self.host.request(kind.name(), &opts, id) {
            Ok(p) => {
                self.busy += 1;
                self.tasks.push((Task::Request(id), p.clone()));
                self.calls.push(JsFuture::from(p).map(move |result| Step::Response { id, send, result }).boxed_local());
            }
            Err(e) => {
                let message = format!("request:fail {}", host::error_text(&e, "platform.request threw"));
                self.later.push_back(Input::Response { id: RequestId(id), reply: Reply::Transport { message } });
            }
        }
    }

    /// POST the login code or the refresh token: `{ [field]: value, ...data }`. Rule 8: never
    /// through the waiting queue, never with the access token; first in line for a slot.
    fn post_auth(&mut self, call: AuthCallId, url: String, how: &crate::core::options::AuthCallSettings<JsValue>, value: String, refresh: bool) {
        let o = Object::new();
        host::set(&o, "url", &JsValue::from_str(&url));
        host::set(&o, "method", &JsValue::from_str(&how.method));
        host::set(&o, "dataType", &JsValue::from_str("json"));
        let mut extra = vec![("content-type".to_string(), "application/json".to_string())];
        extra.extend(how.header.iter().cloned());
        // A header given for this call replaces the default content type whatever its case.
        if how.header.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            extra.remove(0);
        }
        host::set(&o, "header", &self.headers(&JsValue::UNDEFINED, &extra, None));
        let body = Object::new();
        match how.data.clone() {
            Some(f) if f.is_function() => {
                let arg = Object::new();
                // The function sees `{ code }` or `{ refreshToken }`, whatever the body field is called.
                host::set(&arg, if refresh { "refreshToken" } else { "code" }, &JsValue::from_str(&value));
                match f.unchecked_ref::<Function>().call1(&JsValue::UNDEFINED, &arg) {
                    Ok(r) if is_thenable(&r) => {
                        // Extra fields computed asynchronously (a signature): the call goes on
                        // when they are there (`Step::AuthData`), through the same `post_body`.
                        let field = how.field.clone();
                        self.calls.push(
                            JsFuture::from(Promise::resolve(&r))
                                .map(move |result| Step::AuthData { call, opts: o, body, field, value, result })
                                .boxed_local(),
                        );
                        return;
                    }
                    Ok(r) => merge(&body, &r),
                    Err(e) => {
                        let message = format!("{} data threw: {}", if refresh { "refresh" } else { "login" }, host::error_text(&e, "unknown error"));
                        self.later.push_back(Input::AuthReply { call, reply: AuthReply::Transport { message } });
                        return;
                    }
                }
            }
            Some(d) => merge(&body, &d),
            None => {}
        }
        let field = how.field.clone();
        self.post_body(call, o, body, &field, &value);
    }

    /// Put the code / refresh token into the body (it wins over a same-named field of
    /// `data`), and start the call, or queue it at the front past `maxConcurrent`: a refresh
    /// must never wait behind the requests that wait for it.
    fn post_body(&mut self, call: AuthCallId, o: Object, body: Object, field: &str, value: &str) {
        host::set_dyn(&body, field, &JsValue::from_str(value));
        host::set(&o, "data", &body);
        if self.busy >= self.s.max_concurrent {
            self.queued.push_front(Queued::Auth { call, opts: o });
            return;
        }
        self.launch_auth(call, o);
    }

    fn launch_auth(&mut self, call: AuthCallId, o: Object) {
        match self.host.request("request", &o, 0) {
            Ok(p) => {
                self.busy += 1;
                self.tasks.push((Task::Auth(call), p.clone()));
                self.calls.push(JsFuture::from(p).map(move |result| Step::AuthReply { call, result }).boxed_local());
            }
            Err(e) => {
                let message = format!("request:fail {}", host::error_text(&e, "platform.request threw"));
                self.later.push_back(Input::AuthReply { call, reply: AuthReply::Transport { message } });
            }
        }
    }

    /// A platform network call ended and its answer was fed (so that a refresh it started is
    /// known before a waiting request is looked at): free its slot, start the next calls
    /// waiting, and feed what that produced.
    fn free_slot(&mut self, task: Task) {
        self.call_done(task);
        self.flush();
    }

    /// After work done outside `feed` (starting a call once a hook or a slot allowed it):
    /// feed what it queued in `later` (a host call that threw, a request taken back), else
    /// just publish and re-arm. Every such path ends here, so `later` never waits for an
    /// unrelated input.
    fn flush(&mut self) {
        match self.later.pop_front() {
            Some(next) => self.feed(next),
            None => self.after(now()),
        }
    }

    fn call_done(&mut self, task: Task) {
        self.tasks.retain(|(t, _)| *t != task);
        self.busy = self.busy.saturating_sub(1);
        while self.busy < self.s.max_concurrent {
            match self.queued.pop_front() {
                Some(Queued::Request { id, send, kind, opts }) => {
                    if !self.current(id, send) {
                        continue;
                    }
                    // It waited for a slot with the token of its send; if that token was
                    // replaced, or a login/refresh started meanwhile, it must not go out with
                    // it (rule 2): the core sends it again with the current token, or settles.
                    let stale = self.waiters.get(&id).and_then(|w| w.generation).is_some_and(|g| !self.core.sendable(g));
                    if stale {
                        self.later.push_back(Input::Withdrawn { id: RequestId(id) });
                    } else {
                        self.launch_request(id, send, kind, opts);
                    }
                }
                Some(Queued::Auth { call, opts }) => self.launch_auth(call, opts),
                None => break,
            }
        }
    }

    fn unqueue(&mut self, f: impl Fn(&Queued) -> bool) {
        self.queued.retain(|q| !f(q));
    }

    fn abort_task(&mut self, task: Task) {
        if let Some((_, p)) = self.tasks.iter().find(|(t, _)| *t == task) {
            if let Ok(f) = get_fn(p, "abort") {
                let _ = f.call0(p);
            }
        }
    }

    /// Settle `id` exactly once: the value or the `TokenGateError` goes through its oneshot,
    /// and every rejected request (not a `login()` call) is also an `'error'` event.
    fn settle(&mut self, id: u32, result: Result<(), Error>, with_response: bool) {
        let Some(w) = self.waiters.remove(&id) else { return };
        let result = match self.refused.iter().position(|(r, _)| *r == id) {
            Some(i) => Err(Error::Config { message: self.refused.swap_remove(i).1 }),
            None => result,
        };
        let outcome = match result {
            Ok(()) => Ok(self.value(&w)),
            Err(err) => {
                let env = self.s.envelope.as_ref().map(|e| (e.code.as_str(), e.message.as_str(), e.data.as_str()));
                let cx = if with_response {
                    ErrorContext { response: w.response.as_ref(), data: &w.data, envelope: env }
                } else {
                    ErrorContext { envelope: env, ..ErrorContext::NONE }
                };
                let e = host::to_js_error(&self.host, &err, &cx);
                if w.kind.is_some() {
                    let _ = self.host.emit("error", &e);
                }
                Err(e)
            }
        };
        let _ = w.reply.send(outcome);
    }

    /// What a request resolves with: the body (unwrapped from the envelope), the whole
    /// response for `fullResponse` and downloads, nothing for `login()`.
    fn value(&self, w: &Waiter) -> JsValue {
        let Some(kind) = w.kind else { return self.login_value() };
        let Some(res) = w.response.as_ref() else { return JsValue::UNDEFINED };
        if kind == Kind::Download {
            return res.clone();
        }
        if host::get(&w.opts, "fullResponse").as_bool() == Some(true) {
            let o = Object::new();
            host::set(&o, "statusCode", &host::get(res, "statusCode"));
            host::set(&o, "header", &host::get(res, "header"));
            host::set(&o, "data", &w.data);
            return o.into();
        }
        match &self.s.envelope {
            Some(env) if w.data.is_object() => {
                body::at_path(&JsBody(w.data.clone()), &env.data).map_or(JsValue::UNDEFINED, |b| b.0)
            }
            _ => w.data.clone(),
        }
    }
}

impl Driver {
    /// What `login()` resolves with: the login body as the server sent it, less the fields
    /// that hold its tokens (a user profile stays); `undefined` when it joined a refresh.
    fn login_value(&self) -> JsValue {
        let Some(body) = self.login_body.as_ref().filter(|b| b.is_object()) else { return JsValue::UNDEFINED };
        let copy = shallow_copy(body);
        let fields = &self.s.config.token_fields;
        for path in [&fields.access_token, &fields.refresh_token] {
            remove_path(&copy, path);
        }
        copy
    }
}

fn shallow_copy(v: &JsValue) -> JsValue {
    if js_sys::Array::is_array(v) {
        return js_sys::Array::from(v).slice(0, u32::MAX).into();
    }
    Object::assign(&Object::new(), v.unchecked_ref()).into()
}

/// Delete the member at a dotted path of `obj`, copying every object on the way so that
/// nothing the platform handed over (and might be cached elsewhere) is changed.
fn remove_path(obj: &JsValue, path: &str) {
    let mut cur = obj.clone();
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !cur.is_object() {
            return;
        }
        let k = JsValue::from_str(key);
        if keys.peek().is_none() {
            let _ = Reflect::delete_property(cur.unchecked_ref::<Object>(), &k);
            return;
        }
        let next = host::get_dyn(&cur, key);
        if !next.is_object() {
            return;
        }
        let copy = shallow_copy(&next);
        let _ = Reflect::set(&cur, &k, &copy);
        cur = copy;
    }
}

/// Copy the own fields of `extra` into `body`, when it is an object.
fn merge(body: &Object, extra: &JsValue) {
    if extra.is_object() {
        let _ = Object::assign(body, extra.unchecked_ref());
    }
}

/// A platform call's outcome as (status, body, response), or its transport failure's message.
fn http_answer(result: Outcome) -> Result<(u16, JsValue, JsValue), String> {
    match result {
        Ok(res) => match status_of(&res) {
            Some(status) => Ok((status, host::get(&res, "data"), res)),
            None => Err("request:fail malformed response (no statusCode)".into()),
        },
        Err(e) => Err(host::error_text(&e, "request:fail")),
    }
}

/// `res.statusCode`, when it is a number a status can be.
fn status_of(res: &JsValue) -> Option<u16> {
    let n = host::get(res, "statusCode").as_f64()?;
    (n >= 0.0 && n.is_finite()).then(|| if n > 65535.0 { 65535 } else { n as u16 })
}

fn is_thenable(v: &JsValue) -> bool {
    (v.is_object() || v.is_function()) && host::get(v, "then").is_function()
}

fn get_fn(obj: &JsValue, key: &'static str) -> Result<Function, ()> {
    host::get(obj, key).dyn_into::<Function>().map_err(|_| ())
}
