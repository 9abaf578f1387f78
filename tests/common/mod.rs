//! A simulated-time harness for the core (in the style of str0m's `tests/common.rs` and
//! quinn-proto's `Pair`): a fake server and a clock drive [`Core`] exactly as the wasm
//! boundary does (feed one input, drain every command, re-arm one timer), deliver replies
//! after a simulated latency, fire timeouts, and record everything.
//!
//! While it runs it checks the invariants that must hold at every step (see
//! [`Sim::violations`]); scenarios and property tests assert on the record afterwards.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokengate::core::{
    AuthCallId, AuthReply, Command, Config, Core, Error, Event, Input, NewSession, Reply, RequestId, StoredSession, Submit,
};

mod json;
#[allow(unused_imports)]
pub use json::{auth_body, json_of, stored_of, Json};

/// How the server answers a login or refresh POST.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthMode {
    /// Issue a token set (refresh: only for the current refresh token, else 401).
    Ok,
    /// Answer with this status and body (e.g. 401: the credentials are rejected).
    Status(u16, String),
    /// 200 with a body that has no access token.
    NoToken,
    /// The transport fails.
    Transport,
    /// Never answer.
    Hang,
    /// Issue tokens like `Ok`, but after this many ms (maybe past the timeout).
    Slow(u64),
}

/// How `platform.login` answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlatformMode {
    Ok,
    Fail,
    Hang,
    /// Succeeds, with an empty code.
    Empty,
}

/// What API.md says a login/refresh reply means (written apart from the core's classify).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Tokens,
    /// A refused login / a dead refresh token.
    Rejected,
    /// A passing failure: the next request tries again.
    Passing,
}

/// The model of rule 6, "Refresh failures" and "Login and refresh bodies".
pub fn expect(config: &Config, refresh: bool, reply: &AuthReply) -> Expect {
    let AuthReply::Http { status, body } = reply else { return Expect::Passing };
    let status = *status;
    let code = body.code.as_deref();
    let has = |l: &[String]| code.is_some_and(|x| l.iter().any(|y| y == x));
    if config.login_required_status.contains(&status) || has(&config.login_required_codes) {
        return Expect::Rejected;
    }
    let four = (400..500).contains(&status) && status != 408 && status != 429;
    if four || (refresh && (config.expired_status.contains(&status) || has(&config.expired_codes))) {
        return Expect::Rejected;
    }
    if !(200..300).contains(&status) {
        return Expect::Passing;
    }
    if let (Some(env), Some(code)) = (&config.envelope, code) {
        if !env.success.iter().any(|s| s == code) {
            return Expect::Passing;
        }
    }
    match &body.access_token {
        Some(a) if !a.is_empty() && !a.chars().any(|c| c < ' ' || c == '\u{7f}') => Expect::Tokens,
        _ => Expect::Passing,
    }
}

/// A scripted answer for one business request, instead of the server's own judgement.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    Status(u16, Option<String>),
    Transport,
    Hang,
}

/// The fake server: issues tokens `acc-secret-N` / `ref-secret-N`, accepts only the
/// newest access token before its expiry.
#[derive(Debug, Clone)]
pub struct Server {
    pub latency: u64,
    /// Per request id latency, overriding `latency`.
    pub latency_of: HashMap<u32, u64>,
    pub auth_latency: u64,
    pub refresh: AuthMode,
    pub platform_login: PlatformMode,
    pub login: AuthMode,
    /// `expiresIn` of issued tokens, seconds.
    pub expires_in: Option<u64>,
    /// Issue a new refresh token with every refresh.
    pub rotate: bool,
    /// Answer to a request with a missing/old/expired token.
    pub reject: (u16, Option<String>),
    /// Envelope code of a success (`None`: no envelope).
    pub ok_code: Option<String>,
    /// Scripted answers per request id (every delivery).
    pub faults: HashMap<u32, Fault>,
    /// `platform.checkSession` answer; `None`: never answers.
    pub check_session: Option<bool>,
    /// Token set the server accepts now.
    pub access: Option<String>,
    pub access_expires_at: Option<u64>,
    pub refresh_token: Option<String>,
    pub issued: u32,
    /// Requests that reached the server with an access token past its expiry.
    pub expired_arrivals: u32,
    /// Requests judged (not scripted) as rejected.
    pub rejections: u32,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            latency: 50,
            latency_of: HashMap::new(),
            auth_latency: 80,
            refresh: AuthMode::Ok,
            platform_login: PlatformMode::Ok,
            login: AuthMode::Ok,
            expires_in: Some(3600),
            rotate: true,
            reject: (401, None),
            ok_code: None,
            faults: HashMap::new(),
            check_session: Some(true),
            access: None,
            access_expires_at: None,
            refresh_token: None,
            issued: 0,
            expired_arrivals: 0,
            rejections: 0,
        }
    }
}

impl Server {
    /// Issue the next token set and return its JSON body.
    pub fn issue(&mut self, now: u64, with_refresh: bool) -> String {
        self.issued += 1;
        let n = self.issued;
        let access = format!("acc-secret-{n:04}");
        self.access = Some(access.clone());
        self.access_expires_at = self.expires_in.map(|s| now + s * 1000);
        let mut body = format!("{{\"accessToken\":\"{access}\"");
        if with_refresh {
            let r = format!("ref-secret-{n:04}");
            self.refresh_token = Some(r.clone());
            body.push_str(&format!(",\"refreshToken\":\"{r}\""));
        }
        if let Some(s) = self.expires_in {
            body.push_str(&format!(",\"expiresIn\":{s}"));
        }
        body.push('}');
        body
    }

    /// The server stops accepting the current access token (e.g. revoked server-side).
    pub fn revoke_access(&mut self) {
        self.access = None;
    }

    fn judge(&mut self, now: u64, id: u32, token: &Option<String>) -> Option<Reply> {
        if let Some(f) = self.faults.get(&id) {
            return match f {
                Fault::Status(s, c) => Some(Reply::Http { status: *s, code: c.clone() }),
                Fault::Transport => Some(Reply::Transport { message: "request:fail".into() }),
                Fault::Hang => None,
            };
        }
        let ok = Some(Reply::Http { status: 200, code: self.ok_code.clone() });
        let Some(t) = token else { return ok };
        if self.access.as_ref() == Some(t) {
            if self.access_expires_at.map_or(false, |e| now >= e) {
                self.expired_arrivals += 1;
            } else {
                return ok;
            }
        }
        self.rejections += 1;
        Some(Reply::Http { status: self.reject.0, code: self.reject.1.clone() })
    }
}

const SLOW: &str = "slow:";

/// The persisted session format of the core.
pub fn session_json(access: &str, refresh: Option<&str>, expires_at: Option<u64>, lifetime: Option<u64>) -> String {
    let q = |s: Option<&str>| s.map_or("null".to_string(), |s| format!("\"{s}\""));
    let n = |x: Option<u64>| x.map_or("null".to_string(), |x| x.to_string());
    format!(
        "{{\"accessToken\":\"{access}\",\"refreshToken\":{},\"expiresAt\":{},\"lifetime\":{}}}",
        q(refresh),
        n(expires_at),
        n(lifetime)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    PlatformLogin,
    PostLogin,
    PostRefresh,
}

#[derive(Debug, Clone)]
pub struct SendRec {
    pub t: u64,
    pub id: u32,
    pub url: String,
    pub token: Option<String>,
    /// `core.generation()` when the send was emitted.
    pub generation: u32,
    /// How many times this id had been sent before (1: this is the replay).
    pub nth: u32,
}

#[derive(Debug, Clone)]
pub struct AuthRec {
    pub t: u64,
    pub kind: AuthKind,
    pub call: AuthCallId,
    /// Index in the record of the input whose handling issued it.
    pub input_index: usize,
}

#[derive(Debug, Clone)]
pub struct SettleRec {
    pub t: u64,
    pub result: Result<(), Error>,
    pub with_response: bool,
}

#[derive(Debug, Clone)]
enum Ev {
    Response { id: u32, token: Option<String> },
    Platform { call: AuthCallId },
    AuthPost { call: AuthCallId, kind: AuthKind, secret: String },
    Check,
}

/// Everything that happened, in order.
#[derive(Debug, Default, Clone)]
pub struct Log {
    pub sends: Vec<SendRec>,
    pub auth: Vec<AuthRec>,
    pub settles: BTreeMap<u32, Vec<SettleRec>>,
    pub events: Vec<(u64, Event)>,
    pub persisted: Vec<String>,
    pub forgets: u32,
    pub check_sessions: u32,
    pub abort_sends: Vec<u32>,
    pub abort_auth: Vec<AuthCallId>,
    /// Every input fed, with its time.
    pub inputs: Vec<(u64, String)>,
}

/// The simulated world: core, server, clock, pending deliveries and one timer.
pub struct Sim {
    pub core: Core,
    pub config: Config,
    pub now: u64,
    pub server: Server,
    pub log: Log,
    queue: BTreeMap<(u64, u64), Ev>,
    seq: u64,
    timer: Option<u64>,
    // ---- invariant tracking
    submitted: BTreeMap<u32, u64>,
    open: BTreeSet<u32>,
    in_flight: BTreeSet<u32>,
    send_count: HashMap<u32, u32>,
    auth_open: Option<AuthCallId>,
    check_open: bool,
    stored_fed: bool,
    known_token: Option<String>,
    origins: Vec<String>,
    pub violations: Vec<String>,
    /// `(expiresAt, lifetime)` of `known_token`.
    known_expiry: (Option<u64>, Option<u64>),
    /// The token each request was last sent with.
    last_token: HashMap<u32, Option<String>>,
    /// A `'loginRequired'` fired and nothing (a login, refresh or setSession) happened since.
    login_required_fired: bool,
    /// Every token the server issued or the test installed.
    pub secrets: BTreeSet<String>,
    /// Steps `run` / `run_until` may take; reaching it is a violation (a machine that
    /// never settles down fails an assertion, not the test runner's timeout).
    pub max_steps: usize,
    /// The world stopped: a step found the core spinning (see `step`).
    stuck: bool,
    /// Own timeout (ms) and time of the last send of each request, for "no early TIMEOUT".
    timeout_of: HashMap<u32, u64>,
    sent_at: HashMap<u32, u64>,
    /// When the login or refresh in flight (or the last one) started.
    auth_started: Option<u64>,
    /// Refresh tokens a refresh call got a rejection (4xx but 408/429, `*When`) for.
    pub dead_refresh: BTreeSet<String>,
    /// The refresh token of a refresh that failed for a passing reason: the next refresh
    /// call (before any new token set or `ForgetStored`) must carry it again.
    kept_refresh: Option<String>,
    /// Whether the core held a usable token set when the silent login in flight started
    /// (`login()` on a valid session): a passing failure of that login must leave it.
    login_prev: bool,
}

impl Sim {
    pub fn new(config: Config) -> Sim {
        let origins = match &config.allowed_origins {
            Some(o) => o.clone(),
            None => tokengate::core::url::origin(&config.base_url).ok().into_iter().collect(),
        };
        Sim {
            core: Core::new(config.clone()),
            config,
            now: 1_000_000,
            server: Server::default(),
            log: Log::default(),
            queue: BTreeMap::new(),
            seq: 0,
            timer: None,
            submitted: BTreeMap::new(),
            open: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            send_count: HashMap::new(),
            auth_open: None,
            check_open: false,
            stored_fed: false,
            known_token: None,
            origins,
            violations: Vec::new(),
            login_required_fired: false,
            known_expiry: (None, None),
            last_token: HashMap::new(),
            secrets: BTreeSet::new(),
            max_steps: 300_000,
            stuck: false,
            timeout_of: HashMap::new(),
            sent_at: HashMap::new(),
            auth_started: None,
            dead_refresh: BTreeSet::new(),
            kept_refresh: None,
            login_prev: false,
        }
    }

    /// The default test config: `https://api.test`, login and refresh enabled.
    pub fn config() -> Config {
        let mut c = Config::default();
        c.base_url = "https://api.test".into();
        c
    }

    fn violation(&mut self, s: String) {
        self.violations.push(s);
    }

    fn schedule(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    /// Feed one input at the current time, drain every command, re-arm the timer.
    pub fn input(&mut self, input: Input) {
        self.log.inputs.push((self.now, short(&input)));
        match &input {
            Input::Submit(s) => {
                if !self.submitted.contains_key(&s.id.0) {
                    self.submitted.insert(s.id.0, self.now);
                    self.open.insert(s.id.0);
                    self.timeout_of.insert(s.id.0, s.timeout_ms.unwrap_or(self.config.timeout_ms));
                }
            }
            Input::Login { id } => {
                if !self.submitted.contains_key(&id.0) {
                    self.submitted.insert(id.0, self.now);
                    self.open.insert(id.0);
                }
            }
            Input::Stored(v) => {
                if !self.stored_fed {
                    self.stored_fed = true;
                    // What the core may use until it persists something else.
                    if self.known_token.is_none() {
                        self.known_token = v.as_ref().and_then(stored_access);
                        self.known_expiry = v.as_ref().map_or((None, None), stored_expiry);
                    }
                }
            }
            Input::SetSession(s) => {
                self.login_required_fired = false;
                self.secrets.insert(s.access_token.clone());
                if let Some(r) = &s.refresh_token {
                    self.secrets.insert(r.clone());
                }
            }
            _ => {}
        }
        self.core.handle(self.now, input);
        self.drain();
    }

    fn drain(&mut self) {
        let input_index = self.log.inputs.len().saturating_sub(1);
        while let Some(c) = self.core.poll_command() {
            self.exec(c, input_index);
        }
        self.timer = self.core.poll_timeout();
        // Liveness of the queue: a request waiting for a token always has something to
        // wait for (storage, checkSession, or the one auth call).
        let waiting = self.open.iter().any(|id| !self.in_flight.contains(id));
        if waiting && self.stored_fed && self.auth_open.is_none() && !self.check_open {
            let w: Vec<u32> = self.open.iter().filter(|id| !self.in_flight.contains(id)).copied().collect();
            self.violation(format!("t={} requests {w:?} wait with no auth call in flight", self.now));
        }
    }

    fn exec(&mut self, c: Command, input_index: usize) {
        let now = self.now;
        match c {
            Command::CheckSession => {
                self.log.check_sessions += 1;
                self.check_open = true;
                let at = now + self.server.auth_latency;
                self.schedule(at, Ev::Check);
            }
            Command::Send { id, url, token } => {
                let n = self.send_count.entry(id.0).or_insert(0);
                *n += 1;
                let nth = *n;
                if !self.open.contains(&id.0) {
                    self.violation(format!("send of settled/unknown request {}", id.0));
                }
                if nth > 2 {
                    self.violation(format!("request {} sent {nth} times", id.0));
                }
                if let Some(t) = &token {
                    if let Some(call) = self.auth_open {
                        self.violation(format!("t={now} request {} sent with a token while auth call {call:?} in flight", id.0));
                    }
                    if self.known_token.as_ref() != Some(t) {
                        self.violation(format!("t={now} request {} sent with a token that is not the newest", id.0));
                    }
                    if !self.origins.iter().any(|o| url.to_ascii_lowercase().starts_with(o.as_str())) {
                        self.violation(format!("token sent to a foreign origin: {url}"));
                    }
                }
                self.in_flight.insert(id.0);
                self.sent_at.insert(id.0, now);
                self.last_token.insert(id.0, token.clone());
                self.log.sends.push(SendRec { t: now, id: id.0, url, token: token.clone(), generation: self.core.generation(), nth });
                let lat = self.server.latency_of.get(&id.0).copied().unwrap_or(self.server.latency);
                self.schedule(now + lat, Ev::Response { id: id.0, token });
            }
            Command::AbortSend { id } => {
                self.log.abort_sends.push(id.0);
                if self.open.contains(&id.0) {
                    self.violation(format!("AbortSend before Settle for {}", id.0));
                }
            }
            Command::PlatformLogin { call } => {
                self.login_prev = self.core.session(now).logged_in;
                self.open_auth(call, AuthKind::PlatformLogin, input_index);
                let at = now + self.server.auth_latency / 2;
                if self.server.platform_login != PlatformMode::Hang {
                    self.schedule(at, Ev::Platform { call });
                }
            }
            Command::PostLogin { call, url: _, code } => {
                if self.auth_open != Some(call) {
                    self.violation(format!("PostLogin for {call:?} which is not the open call"));
                }
                self.log.auth.push(AuthRec { t: now, kind: AuthKind::PostLogin, call, input_index });
                let at = now + self.server.auth_latency;
                self.schedule(at, Ev::AuthPost { call, kind: AuthKind::PostLogin, secret: code });
            }
            Command::PostRefresh { call, url: _, refresh_token } => {
                if refresh_token.starts_with("acc-") || self.known_token.as_ref() == Some(&refresh_token) {
                    self.violation("refresh call carries the access token".into());
                }
                if self.dead_refresh.contains(&refresh_token) {
                    self.violation(format!("t={now} a refresh token rejected before is sent again"));
                }
                if let Some(kept) = self.kept_refresh.take() {
                    if kept != refresh_token {
                        self.violation(format!("t={now} the refresh token kept after a passing failure is not the one sent"));
                    }
                }
                self.open_auth(call, AuthKind::PostRefresh, input_index);
                let at = now + self.server.auth_latency;
                self.schedule(at, Ev::AuthPost { call, kind: AuthKind::PostRefresh, secret: refresh_token });
            }
            Command::AbortAuth { call } => {
                self.log.abort_auth.push(call);
                if self.auth_open == Some(call) {
                    self.auth_open = None;
                }
            }
            Command::Persist { session } => {
                if session.refresh_token.as_ref().is_some_and(|r| self.dead_refresh.contains(r)) {
                    self.violation(format!("t={now} a dead refresh token is persisted again"));
                }
                self.kept_refresh = None;
                let value = serde_json::to_string(&session).unwrap_or_default();
                match stored_of(&value).as_ref().and_then(stored_access) {
                    Some(a) => {
                        self.known_token = Some(a);
                        self.known_expiry = stored_expiry(&session);
                    }
                    None => self.violation("persisted value the core cannot read back".to_string()),
                }
                self.log.persisted.push(value);
            }
            Command::ForgetStored => {
                self.log.forgets += 1;
                self.known_token = None;
                self.kept_refresh = None;
            }
            Command::Settle { id, result, with_response } => {
                if result == Err(Error::Timeout) {
                    // No early TIMEOUT (rule 7): the request's own deadline passed, or the
                    // login/refresh it waited for ran its full `timeout`.
                    let own = self.in_flight.contains(&id.0)
                        && self.sent_at.get(&id.0).zip(self.timeout_of.get(&id.0)).is_some_and(|(s, t)| now >= s + t);
                    let auth = self.auth_started.is_some_and(|a| now >= a + self.config.timeout_ms);
                    if !own && !auth {
                        self.violation(format!("t={now} request {} rejected TIMEOUT before any deadline of its own or of its auth call", id.0));
                    }
                }
                if !self.open.remove(&id.0) {
                    if self.submitted.contains_key(&id.0) {
                        self.violation(format!("request {} settled twice", id.0));
                    }
                }
                self.in_flight.remove(&id.0);
                if let Err(e) = &result {
                    let text = format!("{e:?}");
                    if self.secrets.iter().any(|s| text.contains(s.as_str())) || text.contains("secret") {
                        self.violation(format!("a token appears in an error: {text}"));
                    }
                }
                self.log.settles.entry(id.0).or_default().push(SettleRec { t: now, result, with_response });
            }
            Command::Emit(e) => {
                if matches!(e, Event::LoginRequired { .. }) {
                    if self.login_required_fired {
                        self.violation(format!("t={now} 'loginRequired' fired twice in one episode"));
                    }
                    self.login_required_fired = true;
                }
                self.log.events.push((now, e))
            }
        }
    }

    fn open_auth(&mut self, call: AuthCallId, kind: AuthKind, input_index: usize) {
        self.login_required_fired = false;
        self.check_open = false; // a checkSession that never answered was given up on
        // Rule 8: an auth call is issued by the input that needs it (a request, a
        // rejection, storage, checkSession, a rejected refresh, login()), never later by
        // something unrelated such as an abort or a logout.
        let cause = self.log.inputs.get(input_index).map(|i| i.1.clone()).unwrap_or_default();
        let allowed = ["Submit", "Response", "Login", "Stored", "CheckSession", "AuthReply", "Timeout"];
        if !allowed.iter().any(|a| cause.starts_with(a)) {
            self.violation(format!("{kind:?} issued while handling {cause}"));
        }
        // Rule 3: a rejection of a request sent with an older token than the current one is
        // replayed, it does not refresh again (unless the current token is itself due).
        if kind == AuthKind::PostRefresh && cause.starts_with("Response(") {
            let id: Option<u32> = cause["Response(".len()..].split(',').next().and_then(|n| n.parse().ok());
            let sent = id.and_then(|id| self.last_token.get(&id).cloned()).flatten();
            if let (Some(sent), Some(known)) = (sent, self.known_token.clone()) {
                if sent != known && !self.known_in_leeway() {
                    self.violation(format!("t={} a stale rejection ({cause}) started a refresh", self.now));
                }
            }
        }
        if let Some(other) = self.auth_open {
            self.violation(format!("t={} {kind:?} {call:?} while {other:?} is in flight", self.now));
        }
        self.auth_open = Some(call);
        self.auth_started = Some(self.now);
        self.log.auth.push(AuthRec { t: self.now, kind, call, input_index });
    }

    fn known_in_leeway(&self) -> bool {
        let (Some(at), lifetime) = self.known_expiry else { return false };
        let leeway = lifetime.map_or(self.config.refresh_leeway_ms, |l| self.config.refresh_leeway_ms.min(l / 2));
        self.now + leeway >= at
    }

    fn deliver(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Response { id, token } => {
                let Some(reply) = self.server.judge(now, id, &token) else { return };
                self.in_flight.remove(&id);
                self.input(Input::Response { id: RequestId(id), reply });
            }
            Ev::Check => {
                let Some(ok) = self.server.check_session else { return };
                self.check_open = false;
                self.input(Input::CheckSession { ok });
            }
            Ev::Platform { call } => {
                let result = match self.server.platform_login {
                    PlatformMode::Ok => Ok(format!("wxcode-{}", call.0)),
                    PlatformMode::Fail => Err("login:fail".to_string()),
                    PlatformMode::Empty => Ok(String::new()),
                    PlatformMode::Hang => return,
                };
                let current = self.auth_open == Some(call);
                let failed = !matches!(&result, Ok(code) if !code.is_empty());
                if failed && current {
                    self.auth_open = None;
                }
                let before = self.log.events.len();
                self.input(Input::PlatformLogin { call, result });
                if current && failed {
                    self.check_outcome(AuthKind::PlatformLogin, Expect::Passing, before);
                }
            }
            Ev::AuthPost { call, kind, secret } => {
                let mode = if kind == AuthKind::PostLogin { self.server.login.clone() } else { self.server.refresh.clone() };
                let (mode, secret) = match secret.strip_prefix(SLOW) {
                    Some(rest) => (AuthMode::Ok, rest.to_string()),
                    None => (mode, secret),
                };
                if let AuthMode::Slow(ms) = mode {
                    // Answer later, like `Ok` (maybe after the core gave up on the call).
                    self.schedule(now + ms, Ev::AuthPost { call, kind, secret: format!("{SLOW}{secret}") });
                    return;
                }
                let reply = match mode {
                    AuthMode::Hang | AuthMode::Slow(_) => return,
                    AuthMode::Transport => AuthReply::Transport { message: "request:fail".into() },
                    AuthMode::NoToken => AuthReply::Http { status: 200, body: auth_body("{\"ok\":true}", &self.config) },
                    AuthMode::Status(s, b) => AuthReply::Http { status: s, body: auth_body(&b, &self.config) },
                    AuthMode::Ok => {
                        if kind == AuthKind::PostRefresh && self.server.refresh_token.as_ref() != Some(&secret) {
                            AuthReply::Http { status: 401, body: auth_body("{\"error\":\"bad refresh\"}", &self.config) }
                        } else {
                            let with_refresh = kind == AuthKind::PostLogin || self.server.rotate;
                            let body = self.server.issue(now, with_refresh);
                            let n = self.server.issued;
                            self.secrets.insert(format!("acc-secret-{n:04}"));
                            self.secrets.insert(format!("ref-secret-{n:04}"));
                            AuthReply::Http { status: 200, body: auth_body(&body, &self.config) }
                        }
                    }
                };
                let current = self.auth_open == Some(call);
                if current {
                    self.auth_open = None;
                }
                let expected = expect(&self.config, kind == AuthKind::PostRefresh, &reply);
                let (before, forgets) = (self.log.events.len(), self.log.forgets);
                self.input(Input::AuthReply { call, reply });
                if current {
                    self.check_outcome(kind, expected, before);
                    if kind == AuthKind::PostRefresh {
                        match expected {
                            // "Refresh failures": a dead refresh token is never used again.
                            Expect::Rejected => {
                                self.dead_refresh.insert(secret);
                            }
                            // A passing failure keeps it: nothing forgotten, the next
                            // refresh carries it again.
                            Expect::Passing => {
                                if self.log.forgets != forgets {
                                    self.violation(format!("t={now} a passing refresh failure forgot the session"));
                                }
                                self.kept_refresh = Some(secret);
                            }
                            Expect::Tokens => {}
                        }
                    }
                }
            }
        }
    }

    /// The events a login/refresh reply (or a failing `platform.login`) must have caused,
    /// from `self.log.events[before..]`: rule 6 and "Refresh failures".
    fn check_outcome(&mut self, kind: AuthKind, expected: Expect, before: usize) {
        let now = self.now;
        let events: Vec<Event> = self.log.events[before..].iter().map(|e| e.1.clone()).collect();
        let has = |e: &Event| events.contains(e);
        let login_required = events.iter().any(|e| matches!(e, Event::LoginRequired { .. }));
        let refresh = kind == AuthKind::PostRefresh;
        let ok_event = |ok| if refresh { Event::Refresh { ok } } else { Event::Login { ok } };
        let problem = match expected {
            Expect::Tokens => (!has(&ok_event(true))).then(|| "no ok event"),
            Expect::Passing if !has(&ok_event(false)) => Some("no { ok: false } event"),
            Expect::Passing if login_required => Some("a passing failure fired 'loginRequired'"),
            Expect::Passing => None,
            Expect::Rejected if !has(&ok_event(false)) => Some("no { ok: false } event"),
            // A refused login ends the session; a dead refresh token leads to the silent
            // login (or, without one, to the end of the session).
            Expect::Rejected if !refresh && !login_required => Some("a refused login did not fire 'loginRequired'"),
            Expect::Rejected if refresh && self.config.login_url.is_some() && self.auth_open.is_none() => {
                Some("a dead refresh token did not start the silent login")
            }
            Expect::Rejected if refresh && self.config.login_url.is_none() && !login_required => {
                Some("a dead refresh token without login did not fire 'loginRequired'")
            }
            Expect::Rejected => None,
        };
        if let Some(p) = problem {
            self.violation(format!("t={now} {kind:?} expected {expected:?}: {p}; events {events:?}"));
        }
        if !refresh && expected == Expect::Passing && self.core.session(now).logged_in != self.login_prev {
            self.violation(format!("t={now} a passing login failure changed the session it started from"));
        }
    }

    /// The next time something happens: a delivery or the timer.
    fn next_at(&self) -> Option<u64> {
        let q = self.queue.keys().next().map(|k| k.0);
        match (q, self.timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn step(&mut self) -> bool {
        if self.stuck {
            return false;
        }
        let Some(at) = self.next_at() else { return false };
        if at > self.now {
            self.now = at;
        }
        let first = self.queue.keys().next().copied();
        match first {
            Some(k) if k.0 <= self.now => {
                if let Some(ev) = self.queue.remove(&k) {
                    self.deliver(ev);
                }
            }
            _ => {
                self.timer = None;
                self.input(Input::Timeout);
                // A deadline that has fired is served: the core must not ask for the timer
                // again at a time already reached (it would spin here forever).
                if let Some(t) = self.timer.filter(|t| *t <= self.now) {
                    self.violation(format!("t={} Timeout served, timer re-armed for {t}: the core spins", self.now));
                    self.stuck = true;
                    return false;
                }
            }
        }
        true
    }

    /// `max_steps` reached: a violation, and the world stops.
    fn out_of_steps(&mut self) {
        self.violation(format!("t={} still busy after {} steps: the core never settles down", self.now, self.max_steps));
        self.stuck = true;
    }

    /// Run the world until `t` (deliveries and timeouts due by then happen).
    pub fn run_until(&mut self, t: u64) {
        let mut steps = 0;
        while let Some(at) = self.next_at() {
            if at > t || self.stuck {
                break;
            }
            if steps >= self.max_steps {
                self.out_of_steps();
                break;
            }
            self.step();
            steps += 1;
        }
        if t > self.now {
            self.now = t;
        }
    }

    pub fn advance(&mut self, ms: u64) {
        let t = self.now + ms;
        self.run_until(t);
    }

    /// Run until nothing is left to deliver and no timer is armed.
    pub fn run(&mut self) {
        let mut steps = 0;
        while self.step() {
            steps += 1;
            if steps >= self.max_steps {
                self.out_of_steps();
                break;
            }
        }
    }

    // ---------------------------------------------------------------- conveniences

    /// Feed `input` stamped with an earlier (or any) time than the harness clock.
    pub fn input_at(&mut self, t: u64, input: Input) {
        self.log.inputs.push((t, short(&input)));
        self.core.handle(t, input);
        self.drain();
    }

    pub fn stored_was_fed(&self) -> bool {
        self.stored_fed
    }

    pub fn submitted_at(&self, id: u32) -> Option<u64> {
        self.submitted.get(&id).copied()
    }

    /// Launch with what storage holds, given as text (`None`: nothing stored).
    pub fn stored(&mut self, v: Option<String>) {
        self.input(Input::Stored(v.as_deref().and_then(stored_of)));
    }

    /// Launch with a stored session the server also knows (access `acc-secret-0000`).
    pub fn stored_session(&mut self, expires_in: Option<u64>, with_refresh: bool) {
        let access = "acc-secret-0000".to_string();
        let refresh = with_refresh.then(|| "ref-secret-0000".to_string());
        self.secrets.insert(access.clone());
        self.secrets.insert("ref-secret-0000".into());
        self.server.access = Some(access.clone());
        self.server.refresh_token = refresh.clone();
        self.server.access_expires_at = expires_in.map(|s| self.now + s * 1000);
        let v = session_json(&access, refresh.as_deref(), expires_in.map(|s| self.now + s * 1000), expires_in.map(|s| s * 1000));
        self.stored(Some(v));
    }

    pub fn submit(&mut self, id: u32) {
        self.submit_to(id, "/api/x", true);
    }

    pub fn submit_to(&mut self, id: u32, url: &str, auth: bool) {
        self.input(Input::Submit(Submit { id: RequestId(id), url: url.into(), auth, timeout_ms: None }));
    }

    pub fn abort(&mut self, id: u32) {
        self.input(Input::Abort { id: RequestId(id) });
    }

    pub fn login(&mut self, id: u32) {
        self.input(Input::Login { id: RequestId(id) });
    }

    pub fn logout(&mut self) {
        self.input(Input::Logout);
    }

    pub fn set_session(&mut self, access: &str, refresh: Option<&str>, expires_in: Option<f64>) {
        self.server.access = Some(access.into());
        self.server.access_expires_at = expires_in.map(|s| self.now + (s * 1000.0) as u64);
        if let Some(r) = refresh {
            self.server.refresh_token = Some(r.into());
        }
        self.input(Input::SetSession(NewSession {
            access_token: access.into(),
            refresh_token: refresh.map(Into::into),
            expires_in_secs: expires_in,
        }));
    }

    // ---------------------------------------------------------------- queries

    pub fn result(&self, id: u32) -> Option<&Result<(), Error>> {
        self.log.settles.get(&id).and_then(|v| v.first()).map(|s| &s.result)
    }

    pub fn settle(&self, id: u32) -> Option<&SettleRec> {
        self.log.settles.get(&id).and_then(|v| v.first())
    }

    pub fn count_auth(&self, kind: AuthKind) -> usize {
        self.log.auth.iter().filter(|a| a.kind == kind).count()
    }

    pub fn refreshes(&self) -> usize {
        self.count_auth(AuthKind::PostRefresh)
    }

    pub fn logins(&self) -> usize {
        self.count_auth(AuthKind::PlatformLogin)
    }

    pub fn sends_of(&self, id: u32) -> Vec<&SendRec> {
        self.log.sends.iter().filter(|s| s.id == id).collect()
    }

    pub fn events(&self) -> Vec<Event> {
        self.log.events.iter().map(|e| e.1.clone()).collect()
    }

    pub fn count_events(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.log.events.iter().filter(|e| f(&e.1)).count()
    }

    /// Requests submitted and not settled.
    pub fn unsettled(&self) -> Vec<u32> {
        self.open.iter().copied().collect()
    }

    /// Every submitted request settled exactly once, and no invariant broke on the way.
    pub fn assert_clean(&self) {
        assert!(self.violations.is_empty(), "violations: {:#?}", self.violations);
        for id in self.submitted.keys() {
            let n = self.log.settles.get(id).map_or(0, |v| v.len());
            assert_eq!(n, 1, "request {id} settled {n} times");
        }
    }
}

/// The access token of a stored session, if it is one the core can use.
fn stored_access(v: &StoredSession) -> Option<String> {
    let a = &v.access_token;
    (!a.is_empty() && !a.chars().any(|c| c < ' ' || c == '\u{7f}')).then(|| a.clone())
}

fn stored_expiry(v: &StoredSession) -> (Option<u64>, Option<u64>) {
    let ms = |x: Option<f64>| x.filter(|n| *n >= 0.0).map(|n| n as u64);
    (ms(v.expires_at), ms(v.lifetime))
}

fn short(i: &Input) -> String {
    match i {
        Input::Submit(s) => format!("Submit({})", s.id.0),
        Input::Response { id, reply } => format!("Response({}, {reply:?})", id.0),
        Input::AuthReply { call, reply } => match reply {
            AuthReply::Http { status, .. } => format!("AuthReply({}, {status})", call.0),
            AuthReply::Transport { .. } => format!("AuthReply({}, transport)", call.0),
        },
        Input::SetSession(_) => "SetSession".into(),
        Input::Stored(v) => format!("Stored({})", v.is_some()),
        other => format!("{other:?}"),
    }
}
