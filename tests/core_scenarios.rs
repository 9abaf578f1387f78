//! Scenarios on simulated time, one or more per rule of docs/API.md, driven through the
//! harness in `tests/common` (which also checks its step invariants on every run).

mod common;

use common::{AuthKind, AuthMode, Fault, PlatformMode, Sim};
use tokengate::core::{Command, Config, Envelope, Error, Event, LoginRequiredReason};

const NEW1: &str = "acc-secret-0001";

fn sim() -> Sim {
    Sim::new(Sim::config())
}

fn sim_with(f: impl FnOnce(&mut Config)) -> Sim {
    let mut c = Sim::config();
    f(&mut c);
    Sim::new(c)
}

fn login_required(reason: LoginRequiredReason) -> Result<(), Error> {
    Err(Error::LoginRequired { reason })
}

// ------------------------------------------------------------------ rule 1

#[test]
fn rule1_thousand_requests_on_an_expired_token_make_one_refresh() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000); // the token is past its expiry now
    for id in 0..1000 {
        s.submit(id);
    }
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.logins(), 0);
    for id in 0..1000 {
        assert_eq!(s.result(id), Some(&Ok(())), "request {id}");
        let sends = s.sends_of(id);
        assert_eq!(sends.len(), 1);
        assert_eq!(sends[0].token.as_deref(), Some(NEW1));
    }
    assert_eq!(s.server.expired_arrivals, 0);
    assert_eq!(s.count_events(|e| *e == Event::Refresh { ok: true }), 1);
}

#[test]
fn rule1_thousand_simultaneous_rejections_make_one_refresh() {
    let mut s = sim();
    s.stored_session(None, true);
    for id in 0..1000 {
        s.submit(id);
    }
    s.server.revoke_access(); // every request in flight will come back 401
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    for id in 0..1000 {
        assert_eq!(s.result(id), Some(&Ok(())));
        let sends = s.sends_of(id);
        assert_eq!(sends.len(), 2, "sent, rejected, replayed");
        assert_eq!(sends[1].token.as_deref(), Some(NEW1));
    }
}

// ------------------------------------------------------------------ rule 2

#[test]
fn rule2_requests_issued_during_a_refresh_wait_and_use_the_new_token() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    assert_eq!(s.refreshes(), 1);
    s.advance(10);
    s.submit(2);
    s.advance(10);
    s.submit(3);
    assert_eq!(s.log.sends.len(), 0, "nothing is sent while the refresh is in flight");
    s.run();
    s.assert_clean();
    for id in 1..=3 {
        assert_eq!(s.sends_of(id)[0].token.as_deref(), Some(NEW1));
        assert_eq!(s.result(id), Some(&Ok(())));
    }
    // The new token was persisted before it was used.
    assert!(s.log.persisted.last().unwrap().contains(NEW1));
}

#[test]
fn rule2_requests_before_storage_is_read_wait() {
    let mut s = sim();
    s.submit(1);
    s.submit(2);
    s.advance(1000);
    assert!(s.log.sends.is_empty());
    s.stored_session(None, true);
    s.run();
    s.assert_clean();
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some("acc-secret-0000"));
    assert_eq!(s.result(2), Some(&Ok(())));
}

// ------------------------------------------------------------------ rule 3

#[test]
fn rule3_a_401_arriving_after_the_refresh_is_replayed_without_a_second_refresh() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.latency_of.insert(1, 2_000); // slow: answers long after the refresh ended
    s.server.latency_of.insert(2, 20);
    s.submit(1);
    s.submit(2);
    s.server.revoke_access();
    s.advance(500);
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.result(2), Some(&Ok(())), "request 2 already went on with the new token");
    assert_eq!(s.result(1), None);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1, "the stale rejection did not refresh again");
    let sends = s.sends_of(1);
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].token.as_deref(), Some("acc-secret-0000"));
    assert_eq!(sends[1].token.as_deref(), Some(NEW1));
    assert!(sends[1].t >= 1_000_000 + 2_000, "replayed at once when its 401 arrived");
    assert_eq!(s.result(1), Some(&Ok(())));
}

// ------------------------------------------------------------------ rule 4

#[test]
fn rule4_a_second_401_after_a_fresh_token_is_unauthorized() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Status(401, None));
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.sends_of(1).len(), 2);
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, Err(Error::Unauthorized { status: 401 }));
    assert!(st.with_response);
}

#[test]
fn rule4_a_stale_replay_rejected_again_is_unauthorized() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.latency_of.insert(1, 2_000);
    s.submit(1);
    s.submit(2);
    s.server.revoke_access();
    s.advance(500);
    s.server.faults.insert(1, Fault::Status(401, None));
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.result(1), Some(&Err(Error::Unauthorized { status: 401 })));
}

// ------------------------------------------------------------------ rule 5

#[test]
fn rule5_proactive_refresh_inside_the_leeway() {
    let mut s = sim();
    s.stored_session(Some(3600), true);
    let start = s.now;
    let mut id = 0;
    while s.now < start + 3 * 3600 * 1000 {
        s.submit(id);
        id += 1;
        s.advance(10_000);
    }
    s.run();
    s.assert_clean();
    assert_eq!(s.server.expired_arrivals, 0, "no request reached the server with an expired token");
    assert_eq!(s.server.rejections, 0);
    assert_eq!(s.refreshes(), 3);
    let first = s.log.auth.iter().find(|a| a.kind == AuthKind::PostRefresh).unwrap();
    assert!(first.t >= start + 3_540_000 && first.t < start + 3_600_000, "refreshed inside the leeway");
    for i in 0..id {
        assert_eq!(s.result(i), Some(&Ok(())));
    }
}

#[test]
fn rule5_leeway_is_at_most_half_the_lifetime() {
    let mut s = sim();
    s.server.expires_in = Some(60);
    s.stored(None);
    s.submit(0); // logs in, token lives 60 s, leeway min(60, 30) = 30 s
    s.run();
    let issued = s.now;
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert_eq!(s.refreshes(), 0, "20 s into a 60 s token: not refreshed");
    s.run_until(issued + 31_000);
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.sends_of(2)[0].token.as_deref(), Some("acc-secret-0002"));
}

// ------------------------------------------------------------------ rule 6

#[test]
fn rule6_refresh_rejected_falls_back_to_silent_login() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Status(401, "{}".into());
    s.advance(20_000);
    for id in 0..5 {
        s.submit(id);
    }
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.logins(), 1);
    assert_eq!(s.count_auth(AuthKind::PostLogin), 1);
    assert_eq!(s.events(), vec![Event::Refresh { ok: false }, Event::Login { ok: true }]);
    for id in 0..5 {
        assert_eq!(s.result(id), Some(&Ok(())));
        assert_eq!(s.sends_of(id)[0].token.as_deref(), Some(NEW1));
    }
}

#[test]
fn rule6_no_refresh_token_goes_to_silent_login() {
    let mut s = sim();
    s.stored_session(Some(10), false);
    s.advance(20_000);
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 0);
    assert_eq!(s.logins(), 1);
    assert_eq!(s.result(1), Some(&Ok(())));
}

/// Rule 6, refused: the login endpoint answers a 4xx other than 408 and 429.
#[test]
fn rule6_a_refused_login_rejects_every_waiter_and_fires_once() {
    for status in [400, 401, 403, 404, 422] {
        let mut s = sim();
        s.stored(None);
        s.server.login = AuthMode::Status(status, "{\"error\":\"invalid_code\"}".into());
        for id in 0..5 {
            s.submit(id);
        }
        s.run();
        for id in 0..5 {
            let st = s.settle(id).unwrap();
            assert_eq!(st.result, login_required(LoginRequiredReason::LoginFailed), "{status}");
            assert!(!st.with_response);
        }
        assert_eq!(s.events(), vec![Event::Login { ok: false }, Event::LoginRequired { reason: LoginRequiredReason::LoginFailed }]);
        assert_eq!(s.log.forgets, 1);
        // Sticky: the next request rejects at once, no new login, no second event.
        s.server.login = AuthMode::Ok;
        s.submit(10);
        assert_eq!(s.result(10), Some(&login_required(LoginRequiredReason::LoginFailed)));
        s.run();
        assert_eq!(s.logins(), 1);
        assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);
        // Until login().
        s.login(11);
        s.submit(12);
        s.run();
        s.assert_clean();
        assert_eq!(s.logins(), 2);
        assert_eq!(s.result(11), Some(&Ok(())));
        assert_eq!(s.result(12), Some(&Ok(())));
    }
}

/// Rule 6, refused: `loginRequiredWhen` (status, or code read at the envelope's path) from
/// the login endpoint.
#[test]
fn rule6_login_required_when_on_the_login_endpoint_is_a_refusal() {
    let mut s = sim_with(|c| c.login_required_status = vec![503]);
    s.stored(None);
    s.server.login = AuthMode::Status(503, "{}".into());
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginFailed)));
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);

    let mut s = sim_with(|c| {
        c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
        c.login_required_codes = vec!["40301".into()];
    });
    s.stored(None);
    s.server.login = AuthMode::Status(200, "{\"code\":40301,\"accessToken\":\"acc-secret-x\"}".into());
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginFailed)));
    assert!(s.log.persisted.is_empty(), "a refused login's tokens are not used");
}

/// Rule 6, passing: `platform.login` failing rejects the waiters NETWORK with its errMsg,
/// fires 'login' { ok: false } and not 'loginRequired', and the next request logs in again.
#[test]
fn rule6_a_passing_login_failure_does_not_lock_the_session() {
    let mut s = sim();
    s.stored(None);
    s.server.platform_login = PlatformMode::Fail;
    for id in 0..5 {
        s.submit(id);
    }
    s.login(5);
    s.run();
    for id in 0..=5 {
        let st = s.settle(id).unwrap();
        assert_eq!(st.result, Err(Error::Network { message: "login:fail".into() }), "{id}");
        assert!(!st.with_response);
    }
    assert_eq!(s.events(), vec![Event::Login { ok: false }]);
    assert_eq!(s.log.forgets, 0);
    assert_eq!(s.count_auth(AuthKind::PostLogin), 0);
    // A network blip at launch costs one failed request, not the session: the next 20
    // requests log in once and all succeed.
    s.server.platform_login = PlatformMode::Ok;
    for id in 10..30 {
        s.submit(id);
    }
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 2);
    for id in 10..30 {
        assert_eq!(s.result(id), Some(&Ok(())), "{id}");
        assert_eq!(s.sends_of(id)[0].token.as_deref(), Some(NEW1));
    }
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 0);
}

/// Rule 6, passing: each failure of the login POST rejects with its own code.
#[test]
fn rule6_passing_login_failures_reject_with_their_code_and_the_next_request_retries() {
    let cases: Vec<(AuthMode, Error)> = vec![
        (AuthMode::Status(500, "oops".into()), Error::Http { status: 500 }),
        (AuthMode::Status(502, "{}".into()), Error::Http { status: 502 }),
        (AuthMode::Status(503, "{}".into()), Error::Http { status: 503 }),
        (AuthMode::Status(408, "{}".into()), Error::Http { status: 408 }),
        (AuthMode::Status(429, "{}".into()), Error::Http { status: 429 }),
        (AuthMode::Status(302, "{}".into()), Error::Http { status: 302 }),
        (AuthMode::NoToken, Error::Http { status: 200 }),
        (AuthMode::Status(200, "{\"accessToken\":\"acc\\r\\nX: 1\"}".into()), Error::Http { status: 200 }),
        (AuthMode::Transport, Error::Network { message: "request:fail".into() }),
        (AuthMode::Hang, Error::Timeout),
    ];
    for (mode, err) in cases {
        let mut s = sim();
        s.stored(None);
        s.server.login = mode.clone();
        s.submit(1);
        s.login(2);
        s.run();
        for id in [1, 2] {
            assert_eq!(s.result(id), Some(&Err(err.clone())), "{mode:?} {id}");
        }
        assert_eq!(s.events(), vec![Event::Login { ok: false }], "{mode:?}");
        assert_eq!(s.log.forgets, 0, "{mode:?}");
        assert!(!s.core.session(s.now).logged_in);
        s.server.login = AuthMode::Ok;
        s.submit(3);
        s.run();
        s.assert_clean();
        assert_eq!(s.logins(), 2, "{mode:?}: the next request tries again");
        assert_eq!(s.result(3), Some(&Ok(())), "{mode:?}");
    }
}

/// "Login and refresh bodies": with an envelope, a login body whose code is outside
/// `success` (and not in loginRequiredWhen.code) is a passing failure: BUSINESS.
#[test]
fn rule6_a_login_body_with_a_business_code_is_a_passing_failure() {
    for code in ["500", "40101"] {
        let mut s = sim_with(|c| {
            c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
            c.expired_codes = vec!["40101".into()];
            c.login_required_codes = vec!["40301".into()];
        });
        s.stored(None);
        s.server.login = AuthMode::Status(200, format!("{{\"code\":{code},\"data\":{{\"token\":\"t\"}},\"accessToken\":\"acc-secret-x\"}}"));
        s.submit(1);
        s.run();
        assert_eq!(s.result(1), Some(&Err(Error::Business { code: code.into() })));
        assert_eq!(s.events(), vec![Event::Login { ok: false }]);
        assert!(s.log.persisted.is_empty(), "tokens of a failed login are not used");
        s.server.login = AuthMode::Ok;
        s.server.ok_code = Some("0".into());
        s.submit(2);
        s.run();
        s.assert_clean();
        assert_eq!(s.result(2), Some(&Ok(())));
        assert_eq!(s.logins(), 2);
    }
}

/// Issue 15, gap 5: `platform.login` answering an empty code is a passing failure; no
/// empty code is POSTed.
#[test]
fn rule6_an_empty_code_from_platform_login_is_never_posted() {
    let mut s = sim();
    s.stored(None);
    s.server.platform_login = PlatformMode::Empty;
    s.submit(1);
    s.run();
    assert_eq!(s.count_auth(AuthKind::PostLogin), 0, "no POST with an empty code");
    assert!(matches!(s.result(1), Some(Err(Error::Network { .. }))));
    assert_eq!(s.events(), vec![Event::Login { ok: false }]);
    s.server.platform_login = PlatformMode::Ok;
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(2), Some(&Ok(())));
}

/// Issue 15, gap 1: `login()` on a valid session keeps the current tokens as the fallback:
/// logged in all along, and after a passing failure (here a timeout) the next request goes
/// out with the old token, no login, no refresh.
#[test]
fn login_call_on_a_valid_session_keeps_the_tokens_until_it_succeeds() {
    for mode in [AuthMode::Hang, AuthMode::Status(503, "{}".into()), AuthMode::Transport] {
        let mut s = sim();
        s.stored_session(Some(3600), true);
        let before = s.core.session(s.now);
        assert!(before.logged_in);
        s.server.login = mode.clone();
        s.login(1);
        assert_eq!(s.logins(), 1);
        s.advance(100);
        assert_eq!(s.core.session(s.now), before, "{mode:?}: still logged in while login() runs");
        s.submit(2); // waits for the login
        s.run();
        assert!(matches!(s.result(1), Some(Err(_))), "{mode:?}");
        assert_eq!(s.result(2), s.result(1), "{mode:?}: the waiter gets the login's failure");
        assert_eq!(s.core.session(s.now), before, "{mode:?}: the session survives a passing login failure");
        assert_eq!(s.log.forgets, 0);
        s.submit(3);
        s.run();
        s.assert_clean();
        assert_eq!(s.sends_of(3)[0].token.as_deref(), Some("acc-secret-0000"), "{mode:?}");
        assert_eq!(s.result(3), Some(&Ok(())));
        assert_eq!((s.logins(), s.refreshes()), (1, 0));
    }
}

/// A refused login() on a valid session ends it (rule 6: refused is refused).
#[test]
fn login_call_on_a_valid_session_refused_ends_it() {
    let mut s = sim();
    s.stored_session(Some(3600), true);
    s.server.login = AuthMode::Status(401, "{}".into());
    s.login(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginFailed)));
    assert!(!s.core.session(s.now).logged_in);
    assert_eq!(s.log.forgets, 1);
}

#[test]
fn rule6_without_any_way_to_log_in_a_rejection_is_login_required() {
    let mut s = sim_with(|c| {
        c.login_url = None;
        c.refresh_url = None;
    });
    s.stored_session(None, false);
    s.server.revoke_access();
    s.submit(1);
    s.run();
    s.submit(2);
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginDisabled)));
    assert_eq!(s.result(2), Some(&login_required(LoginRequiredReason::LoginDisabled)));
    assert_eq!(s.logins() + s.refreshes(), 0);
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);
}

#[test]
fn login_disabled_and_no_session_rejects_at_once() {
    let mut s = sim_with(|c| c.login_url = None);
    s.stored(None);
    s.submit(1);
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginDisabled)));
}

// ------------------------------------------------------------------ rule 7

#[test]
fn rule7_a_hanging_refresh_times_out_and_the_next_request_recovers() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Hang;
    s.advance(20_000);
    let t0 = s.now;
    for id in 0..3 {
        s.submit(id);
    }
    s.run();
    for id in 0..3 {
        let st = s.settle(id).unwrap();
        assert_eq!(st.result, Err(Error::Timeout));
        assert!(!st.with_response);
        assert!(st.t <= t0 + 15_000);
    }
    assert_eq!(s.log.abort_auth.len(), 1);
    assert_eq!(s.events(), vec![Event::Refresh { ok: false }]);
    s.server.refresh = AuthMode::Ok;
    s.submit(10);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 2);
    assert_eq!(s.result(10), Some(&Ok(())));
}

#[test]
fn rule7_login_timeout_rejects_with_timeout_and_the_next_request_tries_again() {
    let mut s = sim();
    s.stored(None);
    s.server.login = AuthMode::Hang;
    s.submit(1);
    s.run();
    assert_eq!(s.result(1), Some(&Err(Error::Timeout)));
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 0);
    assert_eq!(s.count_events(|e| *e == Event::Login { ok: false }), 1);
    s.server.login = AuthMode::Ok;
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 2);
    assert_eq!(s.result(2), Some(&Ok(())));
}

#[test]
fn rule7_platform_login_hanging_times_out() {
    let mut s = sim();
    s.stored(None);
    s.server.platform_login = PlatformMode::Hang;
    let t0 = s.now;
    s.submit(1);
    s.run();
    s.assert_clean();
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, Err(Error::Timeout));
    assert_eq!(st.t, t0 + 15_000);
}

#[test]
fn rule7_a_hanging_request_times_out_on_its_own_deadline() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Hang);
    let t0 = s.now;
    s.input(tokengate::core::Input::Submit(tokengate::core::Submit {
        id: tokengate::core::RequestId(1),
        url: "/slow".into(),
        auth: true,
        timeout_ms: Some(2_000),
    }));
    s.run();
    s.assert_clean();
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, Err(Error::Timeout));
    assert_eq!(st.t, t0 + 2_000);
    assert_eq!(s.log.abort_sends, vec![1]);
}

#[test]
fn refresh_5xx_rejects_waiters_with_http_and_keeps_the_tokens() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Status(503, "busy".into());
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert_eq!(s.result(1), Some(&Err(Error::Http { status: 503 })));
    assert_eq!(s.log.forgets, 0, "the refresh token is kept");
    s.server.refresh = AuthMode::Transport;
    s.submit(2);
    s.run();
    assert!(matches!(s.result(2), Some(Err(Error::Network { .. }))));
    s.server.refresh = AuthMode::NoToken;
    s.submit(3);
    s.run();
    assert_eq!(s.result(3), Some(&Err(Error::Http { status: 200 })));
    s.server.refresh = AuthMode::Ok;
    s.submit(4);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(4), Some(&Ok(())));
    assert_eq!(s.refreshes(), 4);
    assert_eq!(s.logins(), 0);
}

/// "Refresh failures" (issue 14): 408, 429, 5xx and other non-4xx statuses keep the
/// refresh token: the waiters reject HTTP with that status, nothing is forgotten, the next
/// request refreshes again with the same refresh token.
#[test]
fn refresh_408_429_5xx_keep_the_refresh_token() {
    for status in [408, 429, 500, 502, 503, 504, 302, 199] {
        let mut s = sim();
        s.stored_session(Some(10), true);
        s.server.refresh = AuthMode::Status(status, "{\"error\":\"later\"}".into());
        s.advance(20_000);
        s.submit(1);
        s.submit(2);
        s.run();
        for id in [1, 2] {
            let st = s.settle(id).unwrap();
            assert_eq!(st.result, Err(Error::Http { status }), "{status}");
            assert!(!st.with_response);
        }
        assert_eq!(s.events(), vec![Event::Refresh { ok: false }], "{status}");
        assert_eq!(s.log.forgets, 0, "{status}");
        assert!(s.core.session(s.now).logged_in, "{status}");
        s.server.refresh = AuthMode::Ok;
        s.submit(3);
        s.run();
        s.assert_clean();
        assert_eq!((s.refreshes(), s.logins()), (2, 0), "{status}");
        assert_eq!(s.result(3), Some(&Ok(())), "{status}");
        assert_eq!(s.sends_of(3)[0].token.as_deref(), Some(NEW1));
    }
}

/// Issue 14: a standard OAuth 2.0 server answers a dead refresh token 400 invalid_grant.
/// It is forgotten (never sent or persisted again) and one silent login follows; every
/// waiting request goes on with the new token.
#[test]
fn refresh_400_invalid_grant_forgets_the_refresh_token_and_logs_in() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Status(400, "{\"error\":\"invalid_grant\"}".into());
    s.advance(20_000);
    for id in 0..5 {
        s.submit(id);
    }
    s.run();
    assert_eq!((s.refreshes(), s.logins()), (1, 1));
    assert_eq!(s.events(), vec![Event::Refresh { ok: false }, Event::Login { ok: true }]);
    assert_eq!(s.log.forgets, 1);
    for id in 0..5 {
        assert_eq!(s.result(id), Some(&Ok(())));
        assert_eq!(s.sends_of(id)[0].token.as_deref(), Some(NEW1));
    }
    assert!(s.log.persisted.iter().all(|p| !p.contains("ref-secret-0000")));
    assert!(s.dead_refresh.contains("ref-secret-0000"));
    // The new refresh token works as usual afterwards.
    s.server.refresh = AuthMode::Ok;
    s.advance(3_600_000);
    s.submit(10);
    s.run();
    s.assert_clean();
    assert_eq!((s.refreshes(), s.logins()), (2, 1));
    assert_eq!(s.result(10), Some(&Ok(())));
}

/// Every 4xx but 408 and 429 means the refresh token is dead, also with the request's
/// 401 as the trigger (not only proactive refreshes).
#[test]
fn refresh_any_other_4xx_is_a_dead_refresh_token() {
    for status in [400, 401, 403, 404, 409, 410, 422, 499] {
        let mut s = sim();
        s.stored_session(None, true);
        s.server.refresh = AuthMode::Status(status, "{}".into());
        s.server.revoke_access();
        s.submit(1);
        s.run();
        s.assert_clean();
        assert_eq!((s.refreshes(), s.logins()), (1, 1), "{status}");
        assert_eq!(s.result(1), Some(&Ok(())), "{status}");
        assert_eq!(s.sends_of(1).len(), 2);
        assert_eq!(s.sends_of(1)[1].token.as_deref(), Some(NEW1));
        assert!(!s.log.persisted.iter().any(|p| p.contains("ref-secret-0000")), "{status}");
    }
}

/// A dead refresh token followed by a *passing* login failure: nothing usable is left, the
/// waiters reject with the login's code, no 'loginRequired', and the next request logs in
/// (it does not try the dead refresh token again).
#[test]
fn refresh_dead_then_login_fails_passingly_then_recovers() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Status(400, "{\"error\":\"invalid_grant\"}".into());
    s.server.login = AuthMode::Status(503, "{}".into());
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert_eq!(s.result(1), Some(&Err(Error::Http { status: 503 })));
    assert_eq!(s.events(), vec![Event::Refresh { ok: false }, Event::Login { ok: false }]);
    assert!(!s.core.session(s.now).logged_in);
    s.server.login = AuthMode::Ok;
    s.server.refresh = AuthMode::Ok;
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!((s.refreshes(), s.logins()), (1, 2));
    assert_eq!(s.result(2), Some(&Ok(())));
}

/// Without silent login, a dead refresh token ends the session: LOGIN_REQUIRED
/// (loginDisabled, or sessionEnded for loginRequiredWhen).
#[test]
fn refresh_dead_without_login_ends_the_session() {
    for (status, login_required_403, reason) in [
        (400, false, LoginRequiredReason::LoginDisabled),
        (401, false, LoginRequiredReason::LoginDisabled),
        (403, true, LoginRequiredReason::SessionEnded),
    ] {
        let mut s = sim_with(|c| {
            c.login_url = None;
            if login_required_403 {
                c.login_required_status = vec![403];
            }
        });
        s.stored_session(Some(10), true);
        s.server.refresh = AuthMode::Status(status, "{}".into());
        s.advance(20_000);
        s.submit(1);
        s.run();
        s.submit(2);
        s.assert_clean();
        assert_eq!(s.result(1), Some(&login_required(reason)));
        assert_eq!(s.result(2), Some(&login_required(reason)));
        assert_eq!(s.events(), vec![Event::Refresh { ok: false }, Event::LoginRequired { reason }]);
        assert_eq!(s.refreshes(), 1);
    }
}

/// "Login and refresh bodies" on a refresh: a code in expiredWhen.code or
/// loginRequiredWhen.code is a token rejection (silent login follows); another code outside
/// `success` is a passing failure: BUSINESS, the refresh token kept.
#[test]
fn refresh_bodies_through_the_envelope() {
    let config = |c: &mut Config| {
        c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
        c.expired_codes = vec!["40101".into()];
        c.login_required_codes = vec!["40301".into()];
    };
    for code in ["40101", "40301"] {
        let mut s = sim_with(config);
        s.stored_session(Some(10), true);
        s.server.ok_code = Some("0".into());
        s.server.refresh = AuthMode::Status(200, format!("{{\"code\":{code},\"accessToken\":\"acc-secret-no\"}}"));
        s.advance(20_000);
        s.submit(1);
        s.run();
        s.assert_clean();
        assert_eq!((s.refreshes(), s.logins()), (1, 1), "{code}");
        assert_eq!(s.result(1), Some(&Ok(())), "{code}");
        assert_eq!(s.sends_of(1)[0].token.as_deref(), Some(NEW1), "{code}");
    }
    let mut s = sim_with(config);
    s.stored_session(Some(10), true);
    s.server.ok_code = Some("0".into());
    s.server.refresh = AuthMode::Status(200, "{\"code\":5001,\"accessToken\":\"acc-secret-no\"}".into());
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert_eq!(s.result(1), Some(&Err(Error::Business { code: "5001".into() })));
    assert_eq!(s.events(), vec![Event::Refresh { ok: false }]);
    assert_eq!((s.log.forgets, s.logins()), (0, 0));
    assert!(s.log.persisted.is_empty());
    s.server.refresh = AuthMode::Ok;
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(2), Some(&Ok(())));
    assert_eq!(s.refreshes(), 2);
    // A success code with the token fields is a refresh like any other.
    let mut s = sim_with(config);
    s.stored_session(Some(10), true);
    s.server.refresh = AuthMode::Status(200, "{\"code\":0,\"accessToken\":\"acc-secret-env\",\"expiresIn\":3600}".into());
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some("acc-secret-env"));
}

// ------------------------------------------------------------------ rule 8

#[test]
fn rule8_auth_calls_are_issued_directly_and_carry_no_access_token() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    // The refresh went out while handling the very Submit that needed it.
    let r = s.log.auth.iter().find(|a| a.kind == AuthKind::PostRefresh).unwrap();
    assert!(s.log.inputs[r.input_index].1.starts_with("Submit(1)"));
    s.run();
    s.assert_clean();
}

// ------------------------------------------------------------------ rule 9

#[test]
fn rule9_foreign_origin_gets_no_token_and_auth_false_none_either() {
    let mut s = sim();
    s.stored_session(None, true);
    s.submit_to(1, "https://other.test/x", true);
    s.submit_to(2, "/x", false);
    s.submit_to(3, "https://API.test:443/y", true);
    s.server.faults.insert(2, Fault::Status(401, None));
    s.run();
    s.assert_clean();
    assert_eq!(s.sends_of(1)[0].token, None);
    assert_eq!(s.sends_of(2)[0].token, None);
    assert_eq!(s.sends_of(3)[0].token.as_deref(), Some("acc-secret-0000"));
    assert_eq!(s.result(2), Some(&Err(Error::Http { status: 401 })), "auth:false 401 is HTTP, never replayed");
    assert_eq!(s.sends_of(2).len(), 1);
    assert_eq!(s.refreshes(), 0);
}

#[test]
fn rule9_allowed_origins_replace_the_default() {
    let mut s = sim_with(|c| c.allowed_origins = Some(vec!["https://other.test".into()]));
    s.stored_session(None, true);
    s.submit_to(1, "https://other.test/x", true);
    s.submit_to(2, "/x", true);
    s.run();
    s.assert_clean();
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some("acc-secret-0000"));
    assert_eq!(s.sends_of(2)[0].token, None);
}

#[test]
fn rule9_plain_http_and_malformed_urls_are_config_errors() {
    let mut s = sim();
    s.stored_session(None, true);
    s.submit_to(1, "http://other.test/x", true);
    s.submit_to(2, "https://", true);
    s.submit_to(3, "http://127.0.0.1:8080/x", true);
    s.run();
    s.assert_clean();
    assert!(matches!(s.result(1), Some(Err(Error::Config { .. }))));
    assert!(matches!(s.result(2), Some(Err(Error::Config { .. }))));
    assert_eq!(s.result(3), Some(&Ok(())), "loopback may use http:");
    assert_eq!(s.sends_of(3)[0].token, None, "but it is not an allowed origin");
}

#[test]
fn rule9_tokens_never_appear_in_errors_or_debug_output() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Transport);
    s.submit(1);
    s.run();
    s.assert_clean();
    assert!(!format!("{:?}", s.core).contains("secret"), "Core's Debug shows no token");
}

// ------------------------------------------------------------------ rule 10

#[test]
fn rule10_corrupt_storage_is_no_session() {
    for bad in [
        None,
        Some(""),
        Some("not json"),
        Some("[]"),
        Some("\"acc\""),
        Some("{\"accessToken\":5}"),
        Some("{\"accessToken\":\"\"}"),
        Some("{\"accessToken\":\"a\",\"expiresAt\":\"soon\"}"),
        Some("{\"accessToken\":\"a\""),
        Some("{\"accessToken\":\"a\",\"refreshToken\":[]}"),
    ] {
        let mut s = sim();
        s.stored(bad.map(String::from));
        s.submit(1);
        s.run();
        s.assert_clean();
        assert_eq!(s.logins(), 1, "{bad:?}");
        assert_eq!(s.result(1), Some(&Ok(())), "{bad:?}");
        assert_eq!(s.sends_of(1)[0].token.as_deref(), Some(NEW1));
    }
}

// ------------------------------------------------------------------ the rest

#[test]
fn abort_of_a_waiter_and_of_a_request_in_flight() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    s.submit(2);
    s.abort(2);
    let st = s.settle(2).unwrap();
    assert_eq!(st.result, Err(Error::Aborted));
    assert!(!st.with_response);
    s.run();
    assert!(s.sends_of(2).is_empty(), "an aborted waiter is never sent");
    assert_eq!(s.result(1), Some(&Ok(())));
    // In flight: AbortSend after the settle, and the late reply is ignored.
    s.submit(3);
    s.abort(3);
    s.abort(3);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(3), Some(&Err(Error::Aborted)));
    assert_eq!(s.log.abort_sends, vec![3]);
}

#[test]
fn logout_while_requests_wait() {
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000);
    for id in 0..3 {
        s.submit(id);
    }
    s.logout();
    for id in 0..3 {
        assert_eq!(s.result(id), Some(&login_required(LoginRequiredReason::LoggedOut)));
    }
    assert_eq!(s.log.abort_auth.len(), 1);
    assert_eq!(s.log.forgets, 1);
    s.run();
    assert!(s.log.persisted.is_empty(), "the refresh that answered after logout is discarded");
    assert_eq!(s.events(), vec![Event::Logout]);
    s.submit(10);
    assert_eq!(s.result(10), Some(&login_required(LoginRequiredReason::LoggedOut)));
    // login() brings the session back.
    s.login(11);
    s.submit(12);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(11), Some(&Ok(())));
    assert_eq!(s.result(12), Some(&Ok(())));
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 0);
}

#[test]
fn login_call_starts_or_joins() {
    let mut s = sim();
    s.stored(None);
    s.login(1);
    assert_eq!(s.logins(), 1, "login() starts at once");
    s.submit(2);
    s.login(3);
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 1);
    assert_eq!(s.result(1), Some(&Ok(())));
    assert_eq!(s.result(3), Some(&Ok(())));
    // Joining a refresh in flight.
    let mut s = sim();
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    s.login(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 0);
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.result(2), Some(&Ok(())));
}

#[test]
fn check_session_gates_a_stored_session() {
    // ok: the stored token is used, no login.
    let mut s = sim_with(|c| c.check_session = true);
    s.submit(1);
    s.stored_session(None, true);
    assert_eq!(s.log.check_sessions, 1);
    assert!(s.log.sends.is_empty());
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 0);
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some("acc-secret-0000"));
    // failed: silent login first.
    let mut s = sim_with(|c| c.check_session = true);
    s.server.check_session = Some(false);
    s.stored_session(None, true);
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 1);
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some(NEW1));
    // hangs: treated as failed after the timeout.
    let mut s = sim_with(|c| c.check_session = true);
    s.server.check_session = None;
    s.stored_session(None, true);
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 1);
    assert_eq!(s.result(1), Some(&Ok(())));
}

#[test]
fn set_session_flushes_the_waiters_with_the_new_tokens() {
    let mut s = sim();
    s.stored(None);
    s.server.platform_login = PlatformMode::Hang;
    s.submit(1);
    s.submit(2);
    s.login(3);
    s.advance(100);
    let g = s.core.generation();
    s.set_session("acc-secret-set", Some("ref-secret-set"), Some(3600.0));
    assert_eq!(s.core.generation(), g + 1);
    assert_eq!(s.log.abort_auth.len(), 1, "the login in flight is discarded");
    assert!(s.log.persisted.last().unwrap().contains("acc-secret-set"));
    s.run();
    s.assert_clean();
    for id in 1..=2 {
        assert_eq!(s.sends_of(id)[0].token.as_deref(), Some("acc-secret-set"));
        assert_eq!(s.result(id), Some(&Ok(())));
    }
    assert_eq!(s.result(3), Some(&Ok(())));
    assert!(s.core.session(s.now).logged_in);
}

#[test]
fn login_required_when_ends_the_session() {
    let mut s = sim_with(|c| c.login_required_status = vec![403]);
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Status(403, None));
    s.submit(1);
    s.run();
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, login_required(LoginRequiredReason::SessionEnded));
    assert!(st.with_response);
    assert_eq!(s.log.forgets, 1);
    assert_eq!(s.events(), vec![Event::LoginRequired { reason: LoginRequiredReason::SessionEnded }]);
    assert!(!s.core.session(s.now).logged_in);
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(2), Some(&login_required(LoginRequiredReason::SessionEnded)));
    assert_eq!(s.refreshes() + s.logins(), 0);
}

#[test]
fn envelope_code_rejection_refreshes_and_business_codes_reject() {
    let mut s = sim_with(|c| {
        c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
        c.expired_codes = vec!["40101".into()];
    });
    s.server.reject = (200, Some("40101".into()));
    s.server.ok_code = Some("0".into());
    s.stored_session(None, true);
    s.server.revoke_access();
    s.submit(1);
    s.server.faults.insert(2, Fault::Status(200, Some("5001".into())));
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 1);
    assert_eq!(s.result(1), Some(&Ok(())));
    assert_eq!(s.sends_of(1).len(), 2);
    let st = s.settle(2).unwrap();
    assert_eq!(st.result, Err(Error::Business { code: "5001".into() }));
    assert!(st.with_response);
}

#[test]
fn refresh_rotation_keeps_the_old_refresh_token_when_none_comes() {
    let mut s = sim();
    s.server.rotate = false;
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    s.run();
    assert!(s.log.persisted.last().unwrap().contains("ref-secret-0000"));
    s.advance(3_600_000);
    s.submit(2);
    s.run();
    s.assert_clean();
    assert_eq!(s.refreshes(), 2);
    assert_eq!(s.result(2), Some(&Ok(())));
}

#[test]
fn commands_for_a_settled_request_are_never_emitted_twice() {
    let mut s = sim();
    s.stored_session(None, true);
    s.submit(1);
    s.submit(1); // duplicate id: ignored
    s.run();
    s.abort(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.sends_of(1).len(), 1);
    assert!(!s.log.sends.is_empty());
    assert!(s.log.abort_sends.is_empty());
    let _ = Command::ForgetStored;
}

// ------------------------------------------------------------------ several deadlines at once (issue 15, gap 2)

/// An unrelated request's deadline must not end the login in flight: the login's waiters
/// go on when it answers; only the request whose own time ran out rejects TIMEOUT.
#[test]
fn an_unrelated_deadline_does_not_end_the_login_in_flight() {
    let mut s = sim();
    s.server.auth_latency = 4_000; // platform.login at +2 s, the POST at +6 s (timeout 15 s)
    s.stored(None);
    s.submit(1); // starts the login, waits
    let t0 = s.now;
    s.server.faults.insert(2, Fault::Hang);
    s.input(tokengate::core::Input::Submit(tokengate::core::Submit {
        id: tokengate::core::RequestId(2),
        url: "/public".into(),
        auth: false,
        timeout_ms: Some(1_000),
    }));
    s.run_until(t0 + 1_000);
    assert_eq!(s.settle(2).map(|st| (st.t, st.result.clone())), Some((t0 + 1_000, Err(Error::Timeout))));
    assert_eq!(s.result(1), None, "the login's waiter still waits");
    assert!(s.log.abort_auth.is_empty(), "the login was not aborted");
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&Ok(())));
    assert_eq!(s.logins(), 1);
    assert_eq!(s.events(), vec![Event::Login { ok: true }]);
}

/// Same for the refresh in flight.
#[test]
fn an_unrelated_deadline_does_not_end_the_refresh_in_flight() {
    let mut s = sim();
    s.server.auth_latency = 4_000;
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1); // refreshes, waits
    let t0 = s.now;
    s.server.faults.insert(2, Fault::Hang);
    s.input(tokengate::core::Input::Submit(tokengate::core::Submit {
        id: tokengate::core::RequestId(2),
        url: "/public".into(),
        auth: false,
        timeout_ms: Some(1_000),
    }));
    s.run_until(t0 + 1_000);
    assert_eq!(s.result(2), Some(&Err(Error::Timeout)));
    assert_eq!(s.result(1), None);
    assert!(s.log.abort_auth.is_empty(), "the refresh was not aborted");
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&Ok(())));
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some(NEW1));
    assert_eq!(s.events(), vec![Event::Refresh { ok: true }]);
}

/// Same for `platform.checkSession`: an unrelated deadline does not count as "checkSession
/// failed" (which would forget the stored session and log in).
#[test]
fn an_unrelated_deadline_does_not_end_check_session() {
    let mut s = sim_with(|c| c.check_session = true);
    s.server.auth_latency = 4_000; // checkSession answers ok at +4 s
    s.stored_session(None, true);
    s.submit(1);
    let t0 = s.now;
    s.server.faults.insert(2, Fault::Hang);
    s.input(tokengate::core::Input::Submit(tokengate::core::Submit {
        id: tokengate::core::RequestId(2),
        url: "/public".into(),
        auth: false,
        timeout_ms: Some(1_000),
    }));
    s.run_until(t0 + 1_000);
    assert_eq!(s.result(2), Some(&Err(Error::Timeout)));
    assert_eq!(s.log.forgets, 0);
    assert_eq!(s.logins(), 0);
    s.run();
    s.assert_clean();
    assert_eq!((s.logins(), s.log.forgets), (0, 0));
    assert_eq!(s.sends_of(1)[0].token.as_deref(), Some("acc-secret-0000"));
}

/// And the other way round: the login's deadline ends the login, not the requests in
/// flight with their own, later deadlines.
#[test]
fn the_login_deadline_does_not_end_requests_in_flight() {
    let mut s = sim();
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Hang);
    s.input(tokengate::core::Input::Submit(tokengate::core::Submit {
        id: tokengate::core::RequestId(1),
        url: "/slow".into(),
        auth: true,
        timeout_ms: Some(60_000),
    }));
    let t0 = s.now;
    s.server.login = AuthMode::Hang;
    s.login(2);
    s.run_until(t0 + 15_000);
    assert_eq!(s.result(2), Some(&Err(Error::Timeout)), "login() times out at the client's timeout");
    assert_eq!(s.result(1), None, "the request in flight keeps its own deadline");
    s.run();
    s.assert_clean();
    assert_eq!(s.settle(1).map(|st| st.t), Some(t0 + 60_000));
}

// ------------------------------------------------------------------ stale loginRequiredWhen (issue 15, gaps 3 and 4)

/// A loginRequiredWhen reply (403) for a token that has since been replaced says nothing
/// about the current one: the request is replayed with it (rule 3), the session goes on.
#[test]
fn a_stale_login_required_reply_is_replayed_with_the_current_token() {
    let mut s = sim_with(|c| c.login_required_status = vec![403]);
    s.stored_session(None, true);
    s.server.latency_of.insert(1, 2_000);
    s.server.latency_of.insert(2, 20);
    s.server.faults.insert(2, Fault::Status(401, None));
    s.submit(1); // slow; will come back 403 for the old token
    s.submit(2); // 401 -> refresh -> generation 2
    s.advance(500);
    assert_eq!(s.refreshes(), 1);
    s.server.faults.remove(&2);
    s.server.faults.insert(1, Fault::Status(403, None));
    s.run_until(s.now + 1_600);
    s.server.faults.remove(&1);
    s.run();
    s.assert_clean();
    let sends = s.sends_of(1);
    assert_eq!(sends.len(), 2, "replayed once");
    assert_eq!(sends[1].token.as_deref(), Some(NEW1));
    assert_eq!(s.result(1), Some(&Ok(())));
    assert!(s.core.session(s.now).logged_in);
    assert_eq!(s.log.forgets, 0);
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 0);
}

/// A stale loginRequiredWhen reply to a request already replayed once settles it
/// LOGIN_REQUIRED (rule 4: no third send) but does not end the current session.
#[test]
fn a_stale_login_required_reply_to_a_replay_settles_it_and_keeps_the_session() {
    let mut s = sim_with(|c| c.login_required_status = vec![403]);
    s.stored_session(None, true);
    // Request 1: sent with token 0 (slow, stale 401), replayed with token 1 (slow, stale 403).
    s.server.latency_of.insert(1, 2_000);
    s.server.faults.insert(2, Fault::Status(401, None));
    s.submit(1);
    s.submit(2); // 401 -> refresh -> token 1
    s.advance(500);
    s.server.faults.insert(1, Fault::Status(401, None));
    s.run_until(s.now + 1_600); // request 1's stale 401 -> replayed with token 1
    assert_eq!(s.sends_of(1).len(), 2);
    s.server.faults.remove(&1);
    s.submit(3); // 401 -> refresh -> token 2
    s.server.faults.insert(3, Fault::Status(401, None));
    s.advance(500);
    assert_eq!(s.refreshes(), 2);
    s.server.faults.remove(&3);
    s.server.faults.insert(1, Fault::Status(403, None));
    s.run();
    s.assert_clean();
    assert_eq!(s.sends_of(1).len(), 2, "never a third send");
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, login_required(LoginRequiredReason::SessionEnded));
    assert!(st.with_response);
    assert!(s.core.session(s.now).logged_in, "the current session goes on");
    assert_eq!(s.log.forgets, 0);
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 0);
}

/// Gap 4: a loginRequiredWhen reply that arrives after logout() for a request in flight
/// reports `logout`, fires nothing, forgets nothing more.
#[test]
fn a_login_required_reply_after_logout_reports_logout() {
    let mut s = sim_with(|c| c.login_required_status = vec![403]);
    s.stored_session(None, true);
    s.server.faults.insert(1, Fault::Status(403, None));
    s.submit(1);
    s.logout();
    assert_eq!(s.result(1), None, "in flight: it settles with its reply");
    s.run();
    s.assert_clean();
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, login_required(LoginRequiredReason::LoggedOut));
    assert!(st.with_response);
    assert_eq!(s.events(), vec![Event::Logout]);
    assert_eq!(s.log.forgets, 1);
    s.submit(2);
    assert_eq!(s.result(2), Some(&login_required(LoginRequiredReason::LoggedOut)));
}

/// The same reply after a refused login reports the refusal's reason, not sessionEnded,
/// and fires no second 'loginRequired'.
#[test]
fn a_login_required_reply_after_a_refused_login_keeps_its_reason() {
    let mut s = sim_with(|c| c.login_required_status = vec![403]);
    s.stored_session(None, true);
    s.server.latency_of.insert(1, 2_000);
    s.server.faults.insert(1, Fault::Status(403, None));
    s.submit(1); // in flight with the stored token, its 403 comes late
    s.server.login = AuthMode::Status(400, "{}".into());
    s.login(2); // refused: the session is over
    s.advance(500);
    assert_eq!(s.result(2), Some(&login_required(LoginRequiredReason::LoginFailed)));
    s.run();
    s.assert_clean();
    let st = s.settle(1).unwrap();
    assert_eq!(st.result, login_required(LoginRequiredReason::LoginFailed));
    assert!(st.with_response);
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);
    assert_eq!(s.log.forgets, 1);
}

// ------------------------------------------------------------------ Debug (issue 15)

/// What `Core`'s Debug shows (a log line): the state, the generation, how many requests
/// are pending / waiting and how many commands are queued; never a token.
#[test]
fn core_debug_shows_the_state_and_the_counts_not_the_tokens() {
    let mut s = sim();
    assert_eq!(format!("{:?}", s.core), "Core { state: Loading, generation: 0, pending: 0, waiting: 0, commands: 0 }");
    s.stored_session(Some(10), true);
    s.advance(20_000);
    s.submit(1);
    s.submit(2);
    let d = format!("{:?}", s.core);
    assert!(d.starts_with("Core { state: Refreshing { call: AuthCallId(1), deadline: "), "{d}");
    assert!(d.contains("tokens: TokenSet { refresh: true, expires_at: Some("), "{d}");
    assert!(d.ends_with("generation: 1 } }, generation: 1, pending: 2, waiting: 2, commands: 0 }"), "{d}");
    assert!(!d.contains("secret"), "{d}");
    s.run();
    let d = format!("{:?}", s.core);
    assert!(d.starts_with("Core { state: Valid(TokenSet { refresh: true,"), "{d}");
    assert!(d.ends_with("generation: 2 }), generation: 2, pending: 0, waiting: 0, commands: 0 }"), "{d}");
    s.logout();
    assert_eq!(
        format!("{:?}", s.core),
        "Core { state: LoginRequired { reason: LoggedOut }, generation: 2, pending: 0, waiting: 0, commands: 0 }"
    );
}
