//! Property tests: random configurations, random sequences of events and random
//! interleavings (per-message latencies, hanging and late replies, aborts, logouts,
//! setSession, server-side revocation, mode switches, spurious and backwards timeouts)
//! drive the core through the harness of `tests/common`, which checks at every step:
//!
//! * never two login/refresh calls in flight;
//! * no request is sent with a token while a login/refresh call is in flight;
//! * every token sent is the newest one the core knew (the last persisted);
//! * tokens go only to allowed origins; the refresh call never carries the access token;
//! * a request waiting for a token always has a call (or storage/checkSession) to wait
//!   for, and login/refresh calls are issued by the input that needs them (rule 8);
//! * each request is sent at most twice (replayed at most once);
//! * no token appears in any error;
//! * `'loginRequired'` fires once per episode;
//! * rule 6 / "Refresh failures": every login/refresh reply (and failing `platform.login`)
//!   has the events API.md gives it: a refused login fires `'loginRequired'`, a passing
//!   failure only `{ ok: false }` and leaves the session as the login found it (a
//!   `login()` on a valid session keeps its tokens); a refresh token answered with a 4xx other than 408/429
//!   (or `expiredWhen` / `loginRequiredWhen`) is never sent or persisted again, one
//!   answered 408/429/5xx (or another passing failure) is kept: nothing is forgotten and
//!   the next refresh call carries it;
//! * no early `TIMEOUT` (rule 7): a request rejects `TIMEOUT` only once its own deadline
//!   or the full `timeout` of the login/refresh it waited for has passed (several deadlines
//!   run at once here, so an unrelated deadline must not end a call);
//! * a fired timer is served (the core never asks for a time already reached again), and
//!   the world quiesces within `max_steps`: a stuck state machine fails an assertion at
//!   once instead of running into the test runner's timeout;
//!
//! and at the end: every request settled exactly once, within the rule 7 bound.
//!
//! 10,000 cases for the main property, plus parser/URL/config fuzzing and raw input
//! sequences fed straight to the core (2,000 cases each). The XorShift RNG is
//! used because proptest's default ChaCha dominates the run time in debug builds.

mod common;

use common::{auth_body, stored_of, AuthMode, Fault, PlatformMode, Sim};
use proptest::prelude::*;
use proptest::test_runner::RngAlgorithm;
use tokengate::core::{
    url, AuthCallId, AuthReply, EnvVersion, Envelope, Error, Input, Reply, RequestId, Submit,
};

#[derive(Debug, Clone)]
struct Setup {
    login: bool,
    refresh: bool,
    check_session: u8, // 0: off, 1: ok, 2: fails, 3: hangs
    envelope: bool,
    session_ended_403: bool,
    leeway_s: u64,
    timeout: u64,
    /// 0 none, 1 valid, 2 garbage, 3 expired with refresh, 4 valid without refresh
    stored: u8,
    stored_late: bool,
    expires_in: Option<u64>,
    latency: u64,
    auth_latency: u64,
    rotate: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Submit { auth: bool, foreign: bool, timeout: Option<u64>, latency: u64, fault: u8 },
    Advance(u64),
    Abort(usize),
    Login,
    SetSession(Option<u64>),
    Logout,
    Revoke,
    RefreshMode(u8),
    LoginMode(u8),
    Platform(u8),
    Stored,
    SpuriousTimeout(u64),
    Junk(u8, u32),
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        (prop::bool::weighted(0.85), prop::bool::weighted(0.85), 0u8..4, any::<bool>(), prop::bool::weighted(0.3)),
        (0u64..120, 500u64..20_000, 0u8..5, prop::bool::weighted(0.2)),
        (prop::option::weighted(0.8, 0u64..4000), 0u64..3000, 0u64..3000, any::<bool>()),
    )
        .prop_map(|((login, refresh, cs, envelope, se), (leeway_s, timeout, stored, stored_late), (expires_in, latency, auth_latency, rotate))| Setup {
            login,
            refresh,
            check_session: if cs == 3 && rotate { 0 } else { cs },
            envelope,
            session_ended_403: se,
            leeway_s,
            timeout,
            stored,
            stored_late,
            expires_in,
            latency,
            auth_latency,
            rotate,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop::bool::weighted(0.9), prop::bool::weighted(0.1), prop::option::weighted(0.2, 0u64..30_000), 0u64..25_000, 0u8..16)
            .prop_map(|(auth, foreign, timeout, latency, fault)| Op::Submit { auth, foreign, timeout, latency, fault }),
        6 => (0u64..40_000).prop_map(Op::Advance),
        2 => (0usize..64).prop_map(Op::Abort),
        1 => Just(Op::Login),
        1 => prop::option::of(0u64..4000).prop_map(Op::SetSession),
        1 => Just(Op::Logout),
        2 => Just(Op::Revoke),
        2 => (0u8..18).prop_map(Op::RefreshMode),
        2 => (0u8..18).prop_map(Op::LoginMode),
        1 => (0u8..4).prop_map(Op::Platform),
        1 => Just(Op::Stored),
        1 => (0u64..100_000).prop_map(Op::SpuriousTimeout),
        1 => (0u8..5, any::<u32>()).prop_map(|(k, n)| Op::Junk(k, n)),
    ]
}

/// How the login/refresh endpoint answers: tokens; refused / dead (401, 400
/// invalid_grant, 403, 404, loginRequiredWhen 403 when configured, envelope codes in
/// expiredWhen.code / loginRequiredWhen.code); passing (500, 503, 408, 429, no token,
/// another envelope code, transport, hang, slow past the timeout).
fn auth_mode(k: u8) -> AuthMode {
    match k {
        0 | 1 => AuthMode::Ok,
        2 => AuthMode::Status(401, "{}".into()),
        3 => AuthMode::Status(500, "oops".into()),
        4 => AuthMode::NoToken,
        5 => AuthMode::Transport,
        6 => AuthMode::Hang,
        7 => AuthMode::Slow(25_000),
        8 => AuthMode::Status(400, "{\"error\":\"invalid_grant\"}".into()),
        9 => AuthMode::Status(403, "{}".into()),
        10 => AuthMode::Status(408, "{}".into()),
        11 => AuthMode::Status(429, "{}".into()),
        12 => AuthMode::Status(503, "{}".into()),
        13 => AuthMode::Status(404, "{}".into()),
        14 => AuthMode::Status(200, "{\"code\":40101,\"accessToken\":\"acc-secret-e1\"}".into()),
        15 => AuthMode::Status(200, "{\"code\":7,\"accessToken\":\"acc-secret-e2\"}".into()),
        16 => AuthMode::Status(200, "{\"code\":40301}".into()),
        _ => AuthMode::Status(200, "{\"code\":0,\"accessToken\":\"acc-secret-e3\",\"expiresIn\":600}".into()),
    }
}

fn build(setup: &Setup) -> Sim {
    let mut c = Sim::config();
    if !setup.login {
        c.login_url = None;
    }
    if !setup.refresh {
        c.refresh_url = None;
    }
    c.check_session = setup.check_session != 0;
    if setup.envelope {
        c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
        c.expired_codes = vec!["40101".into()];
    }
    if setup.session_ended_403 {
        c.login_required_status = vec![403];
        c.login_required_codes = vec!["40301".into()];
    }
    c.refresh_leeway_ms = setup.leeway_s * 1000;
    c.timeout_ms = setup.timeout;
    let mut s = Sim::new(c);
    s.server.latency = setup.latency;
    s.server.auth_latency = setup.auth_latency;
    s.server.expires_in = setup.expires_in;
    s.server.rotate = setup.rotate;
    s.server.check_session = match setup.check_session {
        2 => Some(false),
        3 => None,
        _ => Some(true),
    };
    if setup.envelope {
        s.server.ok_code = Some("0".into());
        if setup.rotate {
            s.server.reject = (200, Some("40101".into()));
        }
    }
    s.max_steps = 200_000;
    s
}

fn feed_stored(s: &mut Sim, setup: &Setup) {
    if s.stored_was_fed() {
        return;
    }
    match setup.stored {
        1 => s.stored_session(setup.expires_in, true),
        2 => s.stored(Some("{\"accessToken\":".into())),
        3 => {
            s.stored_session(Some(1), true);
        }
        4 => s.stored_session(setup.expires_in, false),
        _ => s.stored(None),
    }
}

fn run_case(setup: &Setup, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut s = build(setup);
    if !setup.stored_late {
        feed_stored(&mut s, setup);
    }
    let mut ids: Vec<u32> = Vec::new();
    let mut next_id = 1u32;
    let mut stored_at = if setup.stored_late { None } else { Some(s.now) };
    let mut n_sessions = 0u32;
    for op in ops {
        match op {
            Op::Submit { auth, foreign, timeout, latency, fault } => {
                let id = next_id;
                next_id += 1;
                ids.push(id);
                s.server.latency_of.insert(id, *latency);
                let f = match fault {
                    0 => Some(Fault::Status(500, None)),
                    1 => Some(Fault::Status(403, None)),
                    2 => Some(Fault::Status(401, None)),
                    3 => Some(Fault::Status(200, Some("9".into()))),
                    4 => Some(Fault::Transport),
                    5 => Some(Fault::Hang),
                    _ => None,
                };
                if let Some(f) = f {
                    s.server.faults.insert(id, f);
                }
                let url = if *foreign { "https://other.test/x" } else { "/api/x" };
                s.input(Input::Submit(Submit { id: RequestId(id), url: url.into(), auth: *auth, timeout_ms: *timeout }));
            }
            Op::Advance(ms) => s.advance(*ms),
            Op::Abort(i) => {
                if !ids.is_empty() {
                    let id = ids[i % ids.len()];
                    s.abort(id);
                }
            }
            Op::Login => {
                let id = next_id;
                next_id += 1;
                s.login(id);
            }
            Op::SetSession(exp) => {
                n_sessions += 1;
                let a = format!("acc-secret-set{n_sessions}");
                let r = format!("ref-secret-set{n_sessions}");
                s.set_session(&a, Some(&r), exp.map(|e| e as f64));
            }
            Op::Logout => s.logout(),
            Op::Revoke => s.server.revoke_access(),
            Op::RefreshMode(k) => s.server.refresh = auth_mode(*k),
            Op::LoginMode(k) => s.server.login = auth_mode(*k),
            Op::Platform(k) => {
                s.server.platform_login = match k {
                    0 => PlatformMode::Ok,
                    1 => PlatformMode::Fail,
                    2 => PlatformMode::Empty,
                    _ => PlatformMode::Hang,
                }
            }
            Op::Stored => {
                if !s.stored_was_fed() {
                    stored_at = Some(s.now);
                }
                feed_stored(&mut s, setup);
            }
            Op::SpuriousTimeout(back) => {
                let t = s.now.saturating_sub(*back);
                s.input_at(t, Input::Timeout);
            }
            Op::Junk(k, n) => {
                // Inputs about ids/calls the core never issued: must be ignored.
                let far = 1_000_000 + (*n % 1000);
                let input = match k {
                    0 => Input::Response { id: RequestId(far), reply: Reply::Http { status: 401, code: None } },
                    1 => Input::AuthReply {
                        call: AuthCallId(far),
                        reply: AuthReply::Http { status: 200, body: auth_body("{\"accessToken\":\"acc-secret-junk\"}", &Sim::config()) },
                    },
                    2 => Input::PlatformLogin { call: AuthCallId(far), result: Ok("x".into()) },
                    3 => Input::Abort { id: RequestId(far) },
                    // A second `Stored` (only once storage was read: the first one is real).
                    _ if s.stored_was_fed() => Input::Stored(stored_of("{\"accessToken\":\"acc-secret-late\"}")),
                    _ => Input::Abort { id: RequestId(far) },
                };
                s.input(input);
            }
        }
        prop_assert!(s.violations.is_empty(), "violations after {:?}: {:#?}\ninputs: {:#?}", op, s.violations, s.log.inputs);
    }
    if !s.stored_was_fed() {
        stored_at = Some(s.now);
        feed_stored(&mut s, setup);
    }
    s.run();
    prop_assert!(s.violations.is_empty(), "violations: {:#?}\ninputs: {:#?}", s.violations, s.log.inputs);
    prop_assert!(s.unsettled().is_empty(), "never settled: {:?}\ninputs: {:#?}", s.unsettled(), s.log.inputs);
    // Every promise settles exactly once (rule 7), within its own timeout twice (send and
    // replay) plus checkSession, refresh and login, each bounded by `timeout`.
    let stored_at = stored_at.unwrap_or(0);
    for (id, settles) in &s.log.settles {
        prop_assert_eq!(settles.len(), 1, "request {} settled {} times", id, settles.len());
        let st = &settles[0];
        if let Some(at) = s.submitted_at(*id) {
            let from = at.max(stored_at);
            let own = 30_000u64.max(setup.timeout);
            let bound = from + 2 * own + 4 * setup.timeout + 10;
            prop_assert!(st.t <= bound, "request {} settled at {} > bound {}", id, st.t, bound);
        }
        if let Err(e) = &st.result {
            let text = format!("{e:?}");
            prop_assert!(!text.contains("secret"), "token in error {}", text);
            if matches!(e, Error::Aborted | Error::Timeout | Error::LoginRequired { .. } | Error::Config { .. } | Error::Network { .. }) {
                if !matches!(e, Error::LoginRequired { .. }) {
                    prop_assert!(!st.with_response, "{:?} claims a response", e);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, rng_algorithm: RngAlgorithm::XorShift, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_the_rules(setup in setup(), ops in prop::collection::vec(op(), 0..40)) {
        run_case(&setup, &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, rng_algorithm: RngAlgorithm::XorShift, ..ProptestConfig::default() })]

    #[test]
    fn urls_and_options_never_panic(base in "(https?://)?[a-zA-Z0-9.:\\[\\]@/]{0,20}", u in "[a-zA-Z0-9.:/?#]{0,20}") {
        let _ = url::join(&base, &u);
        let _ = url::origin(&base);
        let text = serde_json::json!({ "baseURL": base, "login": { "url": u } }).to_string();
        let mut d = serde_json::Deserializer::from_str(&text);
        let _ = tokengate::core::options::read::<_, serde::de::IgnoredAny>(&mut d, EnvVersion::Release);
    }
}

fn any_input() -> impl Strategy<Value = Input> {
    let id = (0u32..6).prop_map(RequestId);
    let call = (0u32..6).prop_map(AuthCallId);
    let text = prop::sample::select(vec![
        "", "x", "{}", "null", "{\"accessToken\":\"acc-secret-r\",\"refreshToken\":\"ref-secret-r\",\"expiresIn\":1}",
        "{\"accessToken\":\"acc-secret-s\",\"expiresIn\":\"30\"}", "{\"code\":40101}", "[1,2",
        "{\"accessToken\":\"acc-secret-t\",\"refreshToken\":null,\"expiresAt\":5,\"lifetime\":9}",
    ]);
    let url = prop::sample::select(vec!["/a", "https://api.test/b", "https://other.test/c", "http://x.test/", "", "//x", "ftp://x"]);
    prop_oneof![
        prop::option::of(text.clone()).prop_map(|t| Input::Stored(t.and_then(stored_of))),
        any::<bool>().prop_map(|ok| Input::CheckSession { ok }),
        (id.clone(), url, any::<bool>(), prop::option::of(0u64..50_000))
            .prop_map(|(id, u, auth, t)| Input::Submit(Submit { id, url: u.into(), auth, timeout_ms: t })),
        (id.clone(), prop::sample::select(vec![200u16, 204, 401, 403, 500, 0, 999]), prop::option::of(prop::sample::select(vec!["0", "40101", "7"])))
            .prop_map(|(id, status, code)| Input::Response { id, reply: Reply::Http { status, code: code.map(String::from) } }),
        id.clone().prop_map(|id| Input::Response { id, reply: Reply::Transport { message: "fail".into() } }),
        (call.clone(), any::<bool>()).prop_map(|(call, ok)| Input::PlatformLogin { call, result: if ok { Ok("c".into()) } else { Err("e".into()) } }),
        (call, prop::sample::select(vec![200u16, 401, 500]), text)
            .prop_map(|(call, status, b)| Input::AuthReply { call, reply: AuthReply::Http { status, body: auth_body(b, &Sim::config()) } }),
        id.clone().prop_map(|id| Input::Abort { id }),
        id.prop_map(|id| Input::Login { id }),
        (prop::option::of(0.0f64..100.0)).prop_map(|e| Input::SetSession(tokengate::core::NewSession {
            access_token: "acc-secret-set".into(),
            refresh_token: Some("ref-secret-set".into()),
            expires_in_secs: e,
        })),
        Just(Input::Logout),
        Just(Input::Timeout),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, rng_algorithm: RngAlgorithm::XorShift, ..ProptestConfig::default() })]

    /// Raw inputs, straight into the core with colliding ids and calls, arbitrary times
    /// (backwards too): never a panic, never more settles for an id than it was submitted,
    /// never a token in an error.
    #[test]
    fn arbitrary_input_sequences_never_panic(steps in prop::collection::vec((0u64..100_000, any_input()), 0..60)) {
        let mut c = Sim::config();
        c.login_required_status = vec![403];
        c.expired_codes = vec!["40101".into()];
        let mut core = tokengate::core::Core::new(c);
        let mut opened: std::collections::HashMap<u32, u32> = Default::default();
        let mut settled: std::collections::HashMap<u32, u32> = Default::default();
        for (t, input) in steps {
            match &input {
                Input::Submit(s) => *opened.entry(s.id.0).or_default() += 1,
                Input::Login { id } => *opened.entry(id.0).or_default() += 1,
                _ => {}
            }
            core.handle(t, input);
            while let Some(cmd) = core.poll_command() {
                if let tokengate::core::Command::Settle { id, result, .. } = cmd {
                    *settled.entry(id.0).or_default() += 1;
                    if let Err(e) = result {
                        let text = format!("{:?}", e);
                        prop_assert!(!text.contains("secret"), "token in {}", text);
                    }
                }
            }
            let _ = core.poll_timeout();
            let _ = core.session(t);
        }
        for (id, n) in settled {
            prop_assert!(n <= opened.get(&id).copied().unwrap_or(0), "id {} settled {} times", id, n);
        }
    }
}
