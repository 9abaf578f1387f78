//! Scenarios on simulated time, one or more per rule of shared/API.md, driven through the
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

#[test]
fn rule6_login_failing_rejects_every_waiter_and_fires_once() {
    let mut s = sim();
    s.stored(None);
    s.server.platform_login = PlatformMode::Fail;
    for id in 0..5 {
        s.submit(id);
    }
    s.run();
    for id in 0..5 {
        let st = s.settle(id).unwrap();
        assert_eq!(st.result, login_required(LoginRequiredReason::LoginFailed));
        assert!(!st.with_response);
    }
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);
    assert_eq!(s.count_events(|e| *e == Event::Login { ok: false }), 1);
    // Sticky: the next request rejects at once, no new login, no second event.
    s.submit(10);
    assert_eq!(s.result(10), Some(&login_required(LoginRequiredReason::LoginFailed)));
    s.run();
    s.assert_clean();
    assert_eq!(s.logins(), 1);
    assert_eq!(s.count_events(|e| matches!(e, Event::LoginRequired { .. })), 1);
}

#[test]
fn rule6_login_post_rejected_is_login_required() {
    let mut s = sim();
    s.stored(None);
    s.server.login = AuthMode::Status(500, "oops".into());
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginFailed)));
    assert_eq!(s.count_auth(AuthKind::PostLogin), 1);
}

#[test]
fn rule6_login_body_without_token_is_a_failure_not_a_crash() {
    let mut s = sim();
    s.stored(None);
    s.server.login = AuthMode::NoToken;
    s.submit(1);
    s.run();
    s.assert_clean();
    assert_eq!(s.result(1), Some(&login_required(LoginRequiredReason::LoginFailed)));
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
