//! The session state machine and its waiting queue: [`Core`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use super::classify::{classify, classify_auth, AuthCall, AuthOutcome, Verdict};
use super::config::Config;
use super::error::{Error, LoginRequiredReason};
use super::token::{self, Fresh, TokenSet};
use super::url;
use super::{AuthCallId, AuthReply, Command, Event, Input, Millis, NewSession, Reply, RequestId, SessionInfo, StoredSession, Submit};

/// Where the session is. Exactly the states `Checking`, `LoggingIn` and `Refreshing` have a
/// call in flight, and only they (plus `Loading`) keep requests waiting.
#[derive(Debug, Clone)]
enum State {
    /// Before [`Input::Stored`]: requests needing a token wait.
    Loading,
    /// `platform.checkSession` is asked whether the stored `tokens` may be trusted.
    Checking { deadline: Millis, tokens: TokenSet },
    /// No token, silent login not tried yet (or timed out).
    NoSession,
    /// Silent login in flight: `platform.login` (`posted == false`), then the POST.
    /// `prev`: a still-usable token set to fall back to if the login times out.
    LoggingIn { call: AuthCallId, deadline: Millis, posted: bool, prev: Option<TokenSet> },
    Valid(TokenSet),
    /// Refresh POST in flight; `tokens` are kept for when it fails without a rejection.
    Refreshing { call: AuthCallId, deadline: Millis, tokens: TokenSet },
    /// Sticky: requests needing a token reject at once, until `login()` or `setSession()`.
    LoginRequired { reason: LoginRequiredReason },
}

#[derive(Debug, Clone)]
enum Kind {
    /// A business request to `url` (already joined).
    Request { url: String },
    /// A `login()` call: settled, never sent.
    Login,
}

#[derive(Debug, Clone)]
struct Flight {
    /// Generation of the token it was sent with; `None` when sent without one.
    generation: Option<u32>,
    deadline: Millis,
}

#[derive(Debug, Clone)]
struct Pending {
    kind: Kind,
    timeout_ms: u64,
    /// How many times it was sent: 2 means it was replayed (rule 4: never 3).
    sends: u8,
    /// `Some` while its transport runs; `None` while it waits in the queue.
    flight: Option<Flight>,
}

/// The NETWORK message of a `platform.login` that succeeded without a code (static text:
/// messages never carry anything the platform gave but its own errMsg).
pub(crate) const NO_CODE: &str = "platform.login gave no code";

/// The session state machine and its waiting queue. See the module guide for the drive loop.
pub struct Core {
    config: Config,
    /// Origins whose URLs get the token.
    origins: Vec<String>,
    /// Login / refresh URLs joined to `baseURL`; `None` when disabled or unusable.
    login_url: Option<String>,
    refresh_url: Option<String>,
    commands: VecDeque<Command>,
    /// Latest time seen; time going backwards is clamped to it.
    now: Millis,
    state: State,
    /// Generation of the newest token set ever installed (0: none yet).
    generation: u32,
    next_call: u32,
    /// Every request (and `login()` call) that has not settled yet.
    pending: BTreeMap<RequestId, Pending>,
    /// Those of `pending` waiting for a token, in arrival order.
    queue: VecDeque<RequestId>,
    /// Transport deadlines of the requests in flight, earliest on top, so that
    /// [`Core::poll_timeout`] does not scan every pending request after each input (it did:
    /// O(pending) per request, 113 µs per request at 1,000 concurrent). An entry whose
    /// request settled or was sent again is stale: [`Core::prune_deadlines`] drops stale
    /// entries from the top after every input, and rebuilds the heap when stale ones
    /// buried under a long-running request outnumber the live ones.
    deadlines: BinaryHeap<Reverse<(Millis, RequestId)>>,
    /// The last URL submitted that was valid: (as given, joined to `baseURL`, whether its
    /// origin gets the token). The config never changes, so a repeated URL (the usual case:
    /// a page polls the same API) skips join/parse/check, the costliest part of a request
    /// inside the wasm.
    last_url: Option<(String, String, bool)>,
}

// Hand-written so that no token (queued `Send`/`Persist` commands) reaches a log line.
impl core::fmt::Debug for Core {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Core")
            .field("state", &self.state)
            .field("generation", &self.generation)
            .field("pending", &self.pending.len())
            .field("waiting", &self.queue.len())
            .field("commands", &self.commands.len())
            .finish()
    }
}

fn resolve_endpoint(config: &Config, u: &Option<String>) -> Option<String> {
    let joined = url::join(&config.base_url, u.as_deref()?).ok()?;
    let parsed = url::parse(&joined).ok()?;
    url::check_transport(&parsed, config.env).ok()?;
    Some(joined)
}

impl Core {
    /// A core in its launch state: it waits for [`Input::Stored`].
    pub fn new(config: Config) -> Core {
        Core {
            origins: config.token_origins(),
            login_url: resolve_endpoint(&config, &config.login_url),
            refresh_url: resolve_endpoint(&config, &config.refresh_url),
            config,
            commands: VecDeque::new(),
            now: 0,
            state: State::Loading,
            generation: 0,
            next_call: 0,
            pending: BTreeMap::new(),
            queue: VecDeque::new(),
            deadlines: BinaryHeap::new(),
            last_url: None,
        }
    }

    /// Feed one event that happened at `now` (ms since the epoch; a time earlier than one
    /// already seen counts as that one). Drain [`Core::poll_command`] afterwards, then
    /// re-arm the timer from [`Core::poll_timeout`].
    pub fn handle(&mut self, now: Millis, input: Input) {
        if now > self.now {
            self.now = now;
        }
        match input {
            Input::Stored(value) => self.on_stored(value),
            Input::CheckSession { ok } => self.on_check_session(ok),
            Input::Submit(s) => self.on_submit(s),
            Input::Response { id, reply } => self.on_response(id, reply),
            Input::PlatformLogin { call, result } => self.on_platform_login(call, result),
            Input::AuthReply { call, reply } => self.on_auth_reply(call, reply),
            Input::Abort { id } => self.on_abort(id),
            Input::Login { id } => self.on_login(id),
            Input::SetSession(s) => self.on_set_session(s),
            Input::Logout => self.on_logout(),
            Input::Withdrawn { id } => self.on_withdrawn(id),
            Input::Timeout => self.on_timeout(),
        }
        self.prune_deadlines();
    }

    /// The next command to carry out, in order. Call after every [`Core::handle`] until it
    /// returns `None`; commands may depend on the ones before them (a `Persist` comes
    /// before the `Send`s using the new token).
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When to feed [`Input::Timeout`] next (ms since the epoch), or `None` when no
    /// deadline is running. Call after draining [`Core::poll_command`] and keep exactly
    /// one timer armed at this time (replacing the previous one). A time in the past means
    /// "fire now".
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let auth = match &self.state {
            State::Checking { deadline, .. } | State::LoggingIn { deadline, .. } | State::Refreshing { deadline, .. } => {
                Some(*deadline)
            }
            _ => None,
        };
        // The top is live: `handle` prunes after every input.
        let requests = self.deadlines.peek().map(|Reverse((at, _))| *at);
        match (auth, requests) {
            (Some(a), Some(r)) => Some(a.min(r)),
            (a, r) => a.or(r),
        }
    }

    /// What `client.session()` shows at `now`: logged in while a token set is held.
    pub fn session(&self, now: Millis) -> SessionInfo {
        let _ = now;
        match self.tokens() {
            Some(t) => SessionInfo { logged_in: true, expires_at: t.expires_at },
            None => SessionInfo { logged_in: false, expires_at: None },
        }
    }

    /// Generation of the newest token set the core has installed (from storage, a login, a
    /// refresh or `setSession()`); 0 before the first. Never decreases.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    // ---------------------------------------------------------------- helpers

    /// Whether `id` is in flight with this transport deadline.
    fn live_deadline(&self, at: Millis, id: RequestId) -> bool {
        self.pending.get(&id).and_then(|p| p.flight.as_ref()).is_some_and(|f| f.deadline == at)
    }

    /// Keep the top of `deadlines` live, and the heap within twice the live entries.
    fn prune_deadlines(&mut self) {
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if self.live_deadline(at, id) {
                break;
            }
            self.deadlines.pop();
        }
        if self.deadlines.len() > 64 && self.deadlines.len() > 2 * self.pending.len() {
            let live: Vec<Reverse<(Millis, RequestId)>> = self
                .pending
                .iter()
                .filter_map(|(id, p)| p.flight.as_ref().map(|f| Reverse((f.deadline, *id))))
                .collect();
            self.deadlines = BinaryHeap::from(live);
        }
    }

    fn tokens(&self) -> Option<&TokenSet> {
        match &self.state {
            State::Valid(t) | State::Refreshing { tokens: t, .. } | State::Checking { tokens: t, .. } => Some(t),
            State::LoggingIn { prev, .. } => prev.as_ref(),
            _ => None,
        }
    }

    /// Whether a send made with the token of `generation` may still go out now: that token
    /// set is still the session's and no login or refresh is in flight (rule 2). A driver
    /// that holds a send (an async `beforeRequest`) asks before starting the transport and
    /// feeds [`Input::Withdrawn`] when not.
    pub fn sendable(&self, generation: u32) -> bool {
        matches!(&self.state, State::Valid(t) if t.generation == generation)
    }

    fn push(&mut self, c: Command) {
        self.commands.push_back(c);
    }

    fn new_call(&mut self) -> AuthCallId {
        self.next_call = self.next_call.wrapping_add(1);
        AuthCallId(self.next_call)
    }

    fn deadline(&self, timeout_ms: u64) -> Millis {
        self.now.saturating_add(timeout_ms)
    }

    /// Settle `id` exactly once: it leaves `pending` (and the queue) here and only here.
    fn settle(&mut self, id: RequestId, result: Result<(), Error>, with_response: bool) {
        if self.pending.remove(&id).is_some() {
            if let Some(pos) = self.queue.iter().position(|q| *q == id) {
                self.queue.remove(pos);
            }
            self.push(Command::Settle { id, result, with_response });
        }
    }

    /// Settle every waiter (requests and `login()` calls) with `err`, in queue order.
    fn reject_waiters(&mut self, err: Error) {
        let waiters: Vec<RequestId> = self.queue.drain(..).collect();
        for id in waiters {
            self.settle(id, Err(err.clone()), false);
        }
    }

    fn enqueue(&mut self, id: RequestId) {
        if !self.queue.contains(&id) {
            self.queue.push_back(id);
        }
    }

    /// Put `id` on the wire, with `token` (and its generation) when given. Only called in
    /// `Valid` (or for requests that carry no token): rule 2.
    fn send(&mut self, id: RequestId, token: Option<(String, u32)>) {
        let deadline;
        let url = {
            let Some(p) = self.pending.get(&id) else { return };
            let Kind::Request { url, .. } = &p.kind else { return };
            deadline = self.now.saturating_add(p.timeout_ms);
            url.clone()
        };
        if let Some(p) = self.pending.get_mut(&id) {
            p.sends = p.sends.saturating_add(1);
            p.flight = Some(Flight { generation: token.as_ref().map(|t| t.1), deadline });
            self.deadlines.push(Reverse((deadline, id)));
        }
        self.push(Command::Send { id, url, token: token.map(|t| t.0) });
    }

    /// Send `id` with the current token set.
    fn send_with(&mut self, id: RequestId, tokens: &TokenSet) {
        self.send(id, Some((tokens.access.clone(), tokens.generation)));
    }

    fn can_refresh(&self, t: &TokenSet) -> bool {
        self.refresh_url.is_some() && t.refresh.is_some()
    }

    /// Rule 8: the refresh call is issued here, directly, never through the queue.
    fn start_refresh(&mut self, tokens: TokenSet) {
        let (Some(url), Some(refresh_token)) = (self.refresh_url.clone(), tokens.refresh.clone()) else { return };
        let call = self.new_call();
        let deadline = self.deadline(self.config.timeout_ms);
        self.state = State::Refreshing { call, deadline, tokens };
        self.push(Command::PostRefresh { call, url, refresh_token });
    }

    /// Rule 8: the silent login starts here, directly, never through the queue.
    fn start_login(&mut self, prev: Option<TokenSet>) {
        let call = self.new_call();
        let deadline = self.deadline(self.config.timeout_ms);
        self.state = State::LoggingIn { call, deadline, posted: false, prev };
        self.push(Command::PlatformLogin { call });
    }

    /// Enter the sticky `LoginRequired`: forget the session, fire `'loginRequired'` once
    /// per episode (not for logout), reject every waiter (rule 6).
    fn enter_login_required(&mut self, reason: LoginRequiredReason) {
        let already = matches!(self.state, State::LoginRequired { .. });
        self.state = State::LoginRequired { reason };
        if !already {
            self.push(Command::ForgetStored);
            if reason != LoginRequiredReason::LoggedOut {
                self.push(Command::Emit(Event::LoginRequired { reason }));
            }
        }
        self.reject_waiters(Error::LoginRequired { reason });
    }

    /// Abort the login/refresh call in flight, if any (its late reply is then ignored).
    fn discard_auth_call(&mut self) {
        match self.state {
            State::LoggingIn { call, .. } | State::Refreshing { call, .. } => self.push(Command::AbortAuth { call }),
            _ => {}
        }
    }

    /// Install a new token set (next generation), persist it, and send every waiter with
    /// it (rule 2), settling `login()` waiters successfully. The new token is used as is:
    /// a just-obtained token is not refreshed again before its first use.
    fn install(&mut self, fresh: Fresh, event: Option<Event>) {
        self.generation = self.generation.saturating_add(1);
        let tokens = fresh.with_generation(self.generation);
        self.push(Command::Persist { session: tokens.to_stored() });
        if let Some(e) = event {
            self.push(Command::Emit(e));
        }
        let waiters: Vec<RequestId> = self.queue.drain(..).collect();
        for id in waiters {
            match self.pending.get(&id).map(|p| matches!(p.kind, Kind::Login)) {
                Some(true) => self.settle(id, Ok(()), false),
                Some(false) => self.send_with(id, &tokens),
                None => {}
            }
        }
        self.state = State::Valid(tokens);
    }

    /// After `Loading` / `Checking` ends: every waiter is dispatched again, in order.
    fn resume(&mut self) {
        let waiters: Vec<RequestId> = self.queue.drain(..).collect();
        for id in waiters {
            match self.pending.get(&id).map(|p| matches!(p.kind, Kind::Login)) {
                Some(true) => self.login_request(id),
                Some(false) => self.dispatch(id, None),
                None => {}
            }
        }
    }

    /// A request that needs a token: send it now, or make it wait for the one auth call
    /// (starting that call if none runs). `rejected`: the generation a token rejection
    /// came back for; a token of that generation or older must not be used again.
    fn dispatch(&mut self, id: RequestId, rejected: Option<u32>) {
        match &self.state {
            State::Loading | State::Checking { .. } | State::LoggingIn { .. } | State::Refreshing { .. } => {
                // Rules 1 and 2: one auth call at a time, everyone else waits for it.
                self.enqueue(id);
            }
            State::LoginRequired { reason } => {
                let reason = *reason;
                self.settle(id, Err(Error::LoginRequired { reason }), false);
            }
            State::NoSession => {
                if self.login_url.is_some() {
                    self.enqueue(id);
                    self.start_login(None);
                } else {
                    self.enqueue(id);
                    self.enter_login_required(LoginRequiredReason::LoginDisabled);
                }
            }
            State::Valid(t) => {
                let now = self.now;
                let rejected_now = rejected.is_some_and(|g| g >= t.generation);
                let can_refresh = self.can_refresh(t);
                let in_leeway = t.in_leeway(now, self.config.refresh_leeway_ms);
                let expired = t.expired(now);
                if !rejected_now && !(can_refresh && in_leeway) && !(expired && self.login_url.is_some()) {
                    // The hot path: send with the current token, cloning only the access
                    // token (the whole set was cloned per request before).
                    // Rule 3: a stale rejection lands here and is replayed at once.
                    let access = t.access.clone();
                    let generation = t.generation;
                    return self.send(id, Some((access, generation)));
                }
                // Rejected, inside the leeway, or expired (which is inside the leeway too).
                let t = t.clone();
                self.enqueue(id);
                if can_refresh {
                    // Rule 5 (proactive) and rule 1 (one refresh for all).
                    self.start_refresh(t);
                } else if self.login_url.is_some() {
                    // Rule 6: no refresh token -> silent login.
                    self.start_login(None);
                } else {
                    self.enter_login_required(LoginRequiredReason::LoginDisabled);
                }
            }
        }
    }

    /// A `login()` waiter: join the call in flight, or start a silent login.
    fn login_request(&mut self, id: RequestId) {
        match &self.state {
            State::Loading | State::Checking { .. } | State::LoggingIn { .. } | State::Refreshing { .. } => self.enqueue(id),
            _ if self.login_url.is_none() => {
                self.settle(id, Err(Error::LoginRequired { reason: LoginRequiredReason::LoginDisabled }), false)
            }
            State::Valid(t) => {
                let prev = Some(t.clone());
                self.enqueue(id);
                self.start_login(prev);
            }
            _ => {
                self.enqueue(id);
                self.start_login(None);
            }
        }
    }

    // ---------------------------------------------------------------- inputs

    fn on_stored(&mut self, value: Option<StoredSession>) {
        if !matches!(self.state, State::Loading) {
            return; // Read too late: setSession() or logout() came first and win.
        }
        // Rule 10: missing, not JSON or wrong shape -> no session.
        match value.and_then(token::from_stored) {
            Some(fresh) => {
                self.generation = self.generation.saturating_add(1);
                let tokens = fresh.with_generation(self.generation);
                if self.config.check_session {
                    let deadline = self.deadline(self.config.timeout_ms);
                    self.state = State::Checking { deadline, tokens };
                    self.push(Command::CheckSession);
                    return;
                }
                self.state = State::Valid(tokens);
            }
            None => self.state = State::NoSession,
        }
        self.resume();
    }

    fn on_check_session(&mut self, ok: bool) {
        let State::Checking { tokens, .. } = &self.state else { return };
        let tokens = tokens.clone();
        if ok || self.login_url.is_none() {
            // Without silent login there is nothing better than the stored token.
            self.state = State::Valid(tokens);
            self.resume();
        } else {
            self.push(Command::ForgetStored);
            self.start_login(None);
            // Waiters stay queued for the login; `login()` waiters join it.
        }
    }

    fn on_submit(&mut self, s: Submit) {
        if self.pending.contains_key(&s.id) {
            return; // Duplicate id: the driver's bug; the first request keeps it.
        }
        let (joined, allowed) = match &self.last_url {
            Some((raw, joined, allowed)) if *raw == s.url => (joined.clone(), *allowed),
            _ => {
                let joined = match url::join(&self.config.base_url, &s.url) {
                    Ok(u) => u,
                    Err(e) => return self.push(Command::Settle { id: s.id, result: Err(e), with_response: false }),
                };
                let parsed = match url::parse(&joined).and_then(|p| url::check_transport(&p, self.config.env).map(|_| p)) {
                    Ok(p) => p,
                    Err(e) => return self.push(Command::Settle { id: s.id, result: Err(e), with_response: false }),
                };
                // Rule 9: the token goes only to allowed origins.
                let allowed = self.origins.iter().any(|o| *o == parsed.origin());
                self.last_url = Some((s.url.clone(), joined.clone(), allowed));
                (joined, allowed)
            }
        };
        let with_token = s.auth && allowed;
        let timeout_ms = s.timeout_ms.unwrap_or(self.config.timeout_ms);
        self.pending.insert(s.id, Pending { kind: Kind::Request { url: joined }, timeout_ms, sends: 0, flight: None });
        if with_token {
            self.dispatch(s.id, None);
        } else {
            // Never queued, never replayed.
            self.send(s.id, None);
        }
    }

    fn on_response(&mut self, id: RequestId, reply: Reply) {
        let Some(p) = self.pending.get_mut(&id) else { return }; // settled already: late reply
        let Some(flight) = p.flight.take() else { return };
        let sends = p.sends;
        let (status, code) = match reply {
            Reply::Transport { message } => return self.settle(id, Err(Error::Network { message }), false),
            Reply::Http { status, code } => (status, code),
        };
        match classify(&self.config, status, code.as_deref(), flight.generation.is_some()) {
            Verdict::Success => self.settle(id, Ok(()), true),
            Verdict::Http { status } => self.settle(id, Err(Error::Http { status }), true),
            Verdict::Business { code } => self.settle(id, Err(Error::Business { code }), true),
            Verdict::TokenRejected { status } => {
                if sends >= 2 {
                    // Rule 4: rejected again after a replay -> no loop.
                    self.settle(id, Err(Error::Unauthorized { status }), true);
                } else {
                    // Rule 3 (stale: replay at once) or rule 1 (current: refresh, wait).
                    self.dispatch(id, flight.generation);
                }
            }
            Verdict::SessionEnded => {
                let g = flight.generation.unwrap_or(0);
                if g < self.generation && self.tokens().is_some() && sends < 2 {
                    // About a token we no longer use: the current one may still be fine.
                    self.dispatch(id, Some(g));
                } else if g < self.generation && self.tokens().is_some() {
                    self.settle(id, Err(Error::LoginRequired { reason: LoginRequiredReason::SessionEnded }), true);
                } else {
                    let reason = match self.state {
                        State::LoginRequired { reason } => reason,
                        _ => LoginRequiredReason::SessionEnded,
                    };
                    self.discard_auth_call();
                    self.settle(id, Err(Error::LoginRequired { reason }), true);
                    self.enter_login_required(reason);
                }
            }
        }
    }

    fn on_withdrawn(&mut self, id: RequestId) {
        let Some(p) = self.pending.get_mut(&id) else { return }; // settled meanwhile
        // Only a send that carried a token is worth taking back; one without a token
        // cannot be stale.
        if !p.flight.as_ref().is_some_and(|f| f.generation.is_some()) {
            return;
        }
        p.flight = None;
        p.sends = p.sends.saturating_sub(1);
        self.dispatch(id, None);
    }

    fn on_platform_login(&mut self, call: AuthCallId, result: Result<String, String>) {
        let State::LoggingIn { call: current, posted: false, .. } = self.state else { return };
        if call != current {
            return;
        }
        match (result, self.login_url.clone()) {
            (Ok(code), Some(url)) if !code.is_empty() => {
                if let State::LoggingIn { posted, .. } = &mut self.state {
                    *posted = true;
                }
                self.push(Command::PostLogin { call, url, code });
            }
            // Rule 6: `platform.login` failing is a passing failure (NETWORK, its errMsg).
            (Err(message), _) => self.login_failed(Error::Network { message }),
            // A "success" without a code: nothing to log in with this time, as a failure.
            (Ok(_), Some(_)) => self.login_failed(Error::Network { message: NO_CODE.into() }),
            (Ok(_), None) => self.login_refused(),
        }
    }

    /// Rule 6, a **refused** login: every waiter rejects `LOGIN_REQUIRED` and the session
    /// stays over until `login()` / `setSession()`.
    fn login_refused(&mut self) {
        self.push(Command::Emit(Event::Login { ok: false }));
        self.enter_login_required(LoginRequiredReason::LoginFailed);
    }

    /// Rule 6, a **passing** login failure: its waiters (and `login()` calls) reject with
    /// `err`; a still-usable previous token set stays (a `login()` on a valid session), else
    /// no session; nothing is forgotten from storage and the next request tries again.
    fn login_failed(&mut self, err: Error) {
        let State::LoggingIn { prev, .. } = &self.state else { return };
        self.state = match prev.clone() {
            Some(t) => State::Valid(t),
            None => State::NoSession,
        };
        self.push(Command::Emit(Event::Login { ok: false }));
        self.reject_waiters(err);
    }

    fn on_auth_reply(&mut self, call: AuthCallId, reply: AuthReply) {
        match &self.state {
            State::LoggingIn { call: current, posted: true, .. } if *current == call => {
                match classify_auth(&self.config, AuthCall::Login, &reply, self.now) {
                    AuthOutcome::Tokens(fresh) => self.install(fresh, Some(Event::Login { ok: true })),
                    AuthOutcome::Rejected { .. } => self.login_refused(),
                    AuthOutcome::Failed(err) => self.login_failed(err),
                }
            }
            State::Refreshing { call: current, tokens, .. } if *current == call => {
                let tokens = tokens.clone();
                match classify_auth(&self.config, AuthCall::Refresh, &reply, self.now) {
                    AuthOutcome::Tokens(mut fresh) => {
                        // Rotation: keep the old refresh token unless a new one came.
                        if fresh.refresh.is_none() {
                            fresh.refresh = tokens.refresh;
                        }
                        self.install(fresh, Some(Event::Refresh { ok: true }));
                    }
                    AuthOutcome::Rejected { session_ended } => {
                        // Rule 6 / "Refresh failures": the refresh token is dead (a token
                        // rejection, loginRequiredWhen, or another 4xx but 408 and 429):
                        // forgotten with the session, never persisted again -> silent login.
                        self.push(Command::Emit(Event::Refresh { ok: false }));
                        if self.login_url.is_some() {
                            self.push(Command::ForgetStored);
                            self.start_login(None);
                        } else if session_ended {
                            self.enter_login_required(LoginRequiredReason::SessionEnded);
                        } else {
                            self.enter_login_required(LoginRequiredReason::LoginDisabled);
                        }
                    }
                    AuthOutcome::Failed(err) => self.refresh_failed(tokens, err),
                }
            }
            _ => {} // Unknown, timed out or discarded call: ignored.
        }
    }

    /// A refresh that failed without a rejection: keep the tokens, reject its waiters with
    /// the failure, the next request tries again.
    fn refresh_failed(&mut self, tokens: TokenSet, err: Error) {
        self.state = State::Valid(tokens);
        self.push(Command::Emit(Event::Refresh { ok: false }));
        self.reject_waiters(err);
    }

    fn on_abort(&mut self, id: RequestId) {
        let Some(p) = self.pending.get(&id) else { return };
        let in_flight = p.flight.is_some();
        self.settle(id, Err(Error::Aborted), false);
        if in_flight {
            self.push(Command::AbortSend { id });
        }
    }

    fn on_login(&mut self, id: RequestId) {
        if self.pending.contains_key(&id) {
            return;
        }
        self.pending.insert(id, Pending { kind: Kind::Login, timeout_ms: 0, sends: 0, flight: None });
        self.login_request(id);
    }

    fn on_set_session(&mut self, s: NewSession) {
        if !token::usable(&s.access_token) {
            return;
        }
        // A login or refresh still running is discarded: these tokens win.
        self.discard_auth_call();
        let fresh = Fresh::new(s.access_token, s.refresh_token, s.expires_in_secs, self.now);
        self.install(fresh, None);
    }

    fn on_logout(&mut self) {
        // `logout()` wins over a login or refresh in flight.
        self.discard_auth_call();
        self.state = State::LoginRequired { reason: LoginRequiredReason::LoggedOut };
        self.push(Command::ForgetStored);
        self.push(Command::Emit(Event::Logout));
        self.reject_waiters(Error::LoginRequired { reason: LoginRequiredReason::LoggedOut });
    }

    fn on_timeout(&mut self) {
        let now = self.now;
        match &self.state {
            State::Checking { deadline, .. } if *deadline <= now => self.on_check_session(false),
            State::LoggingIn { call, deadline, .. } if *deadline <= now => {
                let call = *call;
                self.push(Command::AbortAuth { call });
                self.login_failed(Error::Timeout);
            }
            State::Refreshing { call, deadline, tokens } if *deadline <= now => {
                let (call, tokens) = (*call, tokens.clone());
                self.push(Command::AbortAuth { call });
                self.refresh_failed(tokens, Error::Timeout);
            }
            _ => {}
        }
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.flight.as_ref().is_some_and(|f| f.deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.settle(id, Err(Error::Timeout), false);
            self.push(Command::AbortSend { id });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_with(f: impl FnOnce(&mut Config)) -> Core {
        let mut c = Config::default();
        c.base_url = "https://api.test".into();
        f(&mut c);
        Core::new(c)
    }

    fn drain(c: &mut Core) -> Vec<Command> {
        std::iter::from_fn(|| c.poll_command()).collect()
    }

    fn submit(id: u32) -> Input {
        Input::Submit(Submit { id: RequestId(id), url: "/x".into(), auth: true, timeout_ms: None })
    }

    fn stored(access: &str, refresh: Option<&str>, expires_at: Option<u64>) -> Input {
        let t = Fresh { access: access.into(), refresh: refresh.map(Into::into), expires_at, lifetime: expires_at }.with_generation(1);
        Input::Stored(Some(t.to_stored()))
    }

    #[test]
    fn waits_for_storage_then_sends() {
        let mut c = core_with(|_| {});
        c.handle(0, submit(1));
        assert_eq!(drain(&mut c), vec![]);
        c.handle(1, stored("A", Some("R"), None));
        assert_eq!(drain(&mut c), vec![Command::Send { id: RequestId(1), url: "https://api.test/x".into(), token: Some("A".into()) }]);
        assert_eq!(c.generation(), 1);
        assert_eq!(c.poll_timeout(), Some(15_001));
        c.handle(2, Input::Response { id: RequestId(1), reply: Reply::Http { status: 200, code: None } });
        assert_eq!(drain(&mut c), vec![Command::Settle { id: RequestId(1), result: Ok(()), with_response: true }]);
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn a_withdrawn_send_goes_again_without_using_the_replay() {
        let mut c = core_with(|_| {});
        c.handle(0, stored("A", Some("R"), None));
        c.handle(0, submit(1));
        drain(&mut c);
        let new_session = |a: &str| Input::SetSession(NewSession { access_token: a.into(), refresh_token: None, expires_in_secs: None });
        // The token changes while the driver holds the send: it goes again with the new one.
        c.handle(1, new_session("B"));
        drain(&mut c);
        c.handle(2, Input::Withdrawn { id: RequestId(1) });
        assert_eq!(drain(&mut c), vec![Command::Send { id: RequestId(1), url: "https://api.test/x".into(), token: Some("B".into()) }]);
        // A real rejection of that send is its first: replayed once, not UNAUTHORIZED.
        c.handle(3, new_session("C"));
        drain(&mut c);
        c.handle(4, Input::Response { id: RequestId(1), reply: Reply::Http { status: 401, code: None } });
        assert_eq!(drain(&mut c), vec![Command::Send { id: RequestId(1), url: "https://api.test/x".into(), token: Some("C".into()) }]);
        // The replay held past logout(): never sent, LOGIN_REQUIRED as for any waiter.
        c.handle(5, Input::Logout);
        drain(&mut c);
        c.handle(6, Input::Withdrawn { id: RequestId(1) });
        let reason = LoginRequiredReason::LoggedOut;
        assert_eq!(drain(&mut c), vec![Command::Settle { id: RequestId(1), result: Err(Error::LoginRequired { reason }), with_response: false }]);
        // Unknown or settled ids, and sends without a token, are left alone.
        c.handle(7, Input::Withdrawn { id: RequestId(1) });
        c.handle(7, Input::Submit(Submit { id: RequestId(2), url: "/p".into(), auth: false, timeout_ms: None }));
        drain(&mut c);
        c.handle(8, Input::Withdrawn { id: RequestId(2) });
        assert_eq!(drain(&mut c), vec![]);
    }

    #[test]
    fn no_session_logs_in_lazily() {
        let mut c = core_with(|_| {});
        c.handle(0, Input::Stored(None));
        assert_eq!(drain(&mut c), vec![]);
        c.handle(0, submit(1));
        assert_eq!(drain(&mut c), vec![Command::PlatformLogin { call: AuthCallId(1) }]);
        c.handle(1, Input::PlatformLogin { call: AuthCallId(1), result: Ok("code".into()) });
        assert_eq!(drain(&mut c), vec![Command::PostLogin { call: AuthCallId(1), url: "https://api.test/auth/login".into(), code: "code".into() }]);
        c.handle(2, Input::AuthReply { call: AuthCallId(1), reply: AuthReply::Http { status: 200, body: crate::core::AuthBody { access_token: Some("A".into()), ..Default::default() } } });
        let cmds = drain(&mut c);
        assert!(matches!(cmds[0], Command::Persist { .. }));
        assert_eq!(cmds[1], Command::Emit(Event::Login { ok: true }));
        assert_eq!(cmds[2], Command::Send { id: RequestId(1), url: "https://api.test/x".into(), token: Some("A".into()) });
        assert_eq!(c.session(2), SessionInfo { logged_in: true, expires_at: None });
    }

    #[test]
    fn bad_urls_reject_with_config() {
        let mut c = core_with(|_| {});
        c.handle(0, Input::Stored(None));
        c.handle(0, Input::Submit(Submit { id: RequestId(1), url: "http://evil.com/x".into(), auth: true, timeout_ms: None }));
        c.handle(0, Input::Submit(Submit { id: RequestId(2), url: "ftp://x".into(), auth: false, timeout_ms: None }));
        let cmds = drain(&mut c);
        assert_eq!(cmds.len(), 2);
        for cmd in cmds {
            assert!(matches!(cmd, Command::Settle { result: Err(Error::Config { .. }), with_response: false, .. }));
        }
    }

    #[test]
    fn foreign_origin_and_auth_false_get_no_token() {
        let mut c = core_with(|_| {});
        c.handle(0, stored("A", None, None));
        c.handle(0, Input::Submit(Submit { id: RequestId(1), url: "https://other.test/x".into(), auth: true, timeout_ms: None }));
        c.handle(0, Input::Submit(Submit { id: RequestId(2), url: "/x".into(), auth: false, timeout_ms: Some(5) }));
        let cmds = drain(&mut c);
        assert!(matches!(&cmds[0], Command::Send { token: None, .. }));
        assert!(matches!(&cmds[1], Command::Send { token: None, .. }));
        c.handle(1, Input::Response { id: RequestId(1), reply: Reply::Http { status: 401, code: None } });
        assert_eq!(drain(&mut c), vec![Command::Settle { id: RequestId(1), result: Err(Error::Http { status: 401 }), with_response: true }]);
        assert_eq!(c.poll_timeout(), Some(5));
        c.handle(9, Input::Timeout);
        assert_eq!(drain(&mut c), vec![
            Command::Settle { id: RequestId(2), result: Err(Error::Timeout), with_response: false },
            Command::AbortSend { id: RequestId(2) },
        ]);
    }

    #[test]
    fn time_going_backwards_is_clamped_and_junk_is_ignored() {
        let mut c = core_with(|_| {});
        c.handle(100, Input::Stored(None));
        c.handle(5, Input::Response { id: RequestId(9), reply: Reply::Http { status: 200, code: None } });
        c.handle(5, Input::AuthReply { call: AuthCallId(9), reply: AuthReply::Transport { message: "x".into() } });
        c.handle(5, Input::PlatformLogin { call: AuthCallId(9), result: Ok("c".into()) });
        c.handle(5, Input::CheckSession { ok: true });
        c.handle(5, Input::Abort { id: RequestId(3) });
        c.handle(5, Input::Timeout);
        assert_eq!(drain(&mut c), vec![]);
        c.handle(5, submit(1));
        drain(&mut c);
        assert_eq!(c.poll_timeout(), Some(15_100));
    }

    #[test]
    fn login_without_a_way_to_log_in_and_empty_set_session() {
        let mut c = core_with(|c| c.login_url = None);
        c.handle(0, Input::Stored(None));
        c.handle(0, Input::Login { id: RequestId(1) });
        assert_eq!(drain(&mut c), vec![Command::Settle {
            id: RequestId(1),
            result: Err(Error::LoginRequired { reason: LoginRequiredReason::LoginDisabled }),
            with_response: false,
        }]);
        c.handle(0, Input::SetSession(NewSession { access_token: String::new(), refresh_token: None, expires_in_secs: None }));
        assert_eq!(drain(&mut c), vec![]);
        assert_eq!(c.generation(), 0);
        c.handle(0, Input::SetSession(NewSession { access_token: "T".into(), refresh_token: None, expires_in_secs: Some(f64::NAN) }));
        let cmds = drain(&mut c);
        assert!(matches!(&cmds[0], Command::Persist { session } if session.expires_at.is_none() && session.access_token == "T"));
        assert_eq!(c.generation(), 1);
        assert_eq!(c.session(0), SessionInfo { logged_in: true, expires_at: None });
    }

    #[test]
    fn sendable_only_with_the_current_token_and_no_call_in_flight() {
        let mut c = core_with(|_| {});
        assert!(!c.sendable(0) && !c.sendable(1), "storage not read yet");
        c.handle(0, stored("A", Some("R"), Some(100_000)));
        assert!(c.sendable(1));
        assert!(!c.sendable(0) && !c.sendable(2));
        // Inside the leeway: the next request refreshes; while it runs nothing is sendable.
        c.handle(90_000, submit(1));
        assert!(matches!(drain(&mut c)[..], [Command::PostRefresh { .. }]));
        assert!(!c.sendable(1));
        c.handle(90_001, Input::SetSession(NewSession { access_token: "B".into(), refresh_token: None, expires_in_secs: None }));
        drain(&mut c);
        assert!(c.sendable(2) && !c.sendable(1));
        c.handle(90_002, Input::Logout);
        assert!(!c.sendable(2));
    }

    /// The deadline heap is pruned from the top after every input and rebuilt from the
    /// requests in flight once it holds more than 64 entries and more than twice the
    /// pending requests (memory stays bounded under a long-running request; no rebuild
    /// while it is small). Request 0's early deadline stays on top, so the answered ones
    /// stay buried until a rebuild.
    #[test]
    fn the_deadline_heap_stays_within_twice_the_pending_requests() {
        let mut c = core_with(|_| {});
        c.handle(0, stored("A", None, None));
        c.handle(0, Input::Submit(Submit { id: RequestId(0), url: "/x".into(), auth: true, timeout_ms: Some(1_000) }));
        for id in 1..=129 {
            c.handle(0, submit(id));
        }
        drain(&mut c);
        let mut model = 130usize;
        assert_eq!(c.deadlines.len(), model);
        for id in 1..=129u32 {
            c.handle(1, Input::Response { id: RequestId(id), reply: Reply::Http { status: 200, code: None } });
            drain(&mut c);
            let pending = c.pending.len();
            if model > 64 && model > 2 * pending {
                model = pending; // rebuilt: every pending request is in flight here
            }
            assert_eq!(c.deadlines.len(), model, "after the answer to {id}, {pending} pending");
            assert!(c.deadlines.len() <= 64.max(2 * pending));
        }
        assert_eq!(model, 64, "one rebuild, at 64 pending; none below 65 entries");
        assert_eq!(c.poll_timeout(), Some(1_000));
    }

    #[test]
    fn a_second_stored_input_is_ignored() {
        let mut c = core_with(|_| {});
        c.handle(0, stored("A", None, None));
        c.handle(0, stored("B", None, None));
        c.handle(0, submit(1));
        assert!(matches!(&drain(&mut c)[0], Command::Send { token: Some(t), .. } if t == "A"));
        assert_eq!(c.generation(), 1);
    }
}
