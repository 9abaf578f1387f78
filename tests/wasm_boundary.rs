//! The real wasm boundary (`tokengate::wasm::Gate`) driven through a JS fake of the shims
//! object. Run with `wasm-pack test --node --mode no-install` (see shared/TOOLCHAIN.md).
//!
//! The fake records every shim call as one line; the tests feed inputs with explicit times
//! and read the lines back.
#![cfg(target_arch = "wasm32")]

use tokengate::wasm::{memory_bytes, Gate, Shims};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

#[wasm_bindgen(inline_js = r#"
export function make_fake() {
  const f = { log: [], throwSend: false, throwAll: false };
  const rec = (s) => { if (f.throwAll) throw new Error('shim exploded'); f.log.push(s); };
  const opt = (v) => (v === undefined || v === null ? '-' : String(v));
  // token_state: 0 no token, 1 the last token again, 2 a new token (kept, as js/client.js does).
  f.send = (id, url, state, token, generation) => {
    f.gen = generation;
    if (f.throwSend) throw new Error('request exploded');
    if (state === 2) f.tok = token;
    else if (state === 1 && f.tok === undefined) throw new Error('token_state 1 before any token');
    rec(`send ${id} ${url} ${state === 0 ? '-' : f.tok}`);
  };
  f.abort_send = (id) => rec(`abort_send ${id}`);
  f.check_session = () => rec('check_session');
  f.platform_login = (call) => rec(`platform_login ${call}`);
  f.post_auth = (call, refresh, url, value) => rec(`post_auth ${call} ${refresh ? 'refresh' : 'login'} ${url} ${value}`);
  f.abort_auth = (call) => rec(`abort_auth ${call}`);
  f.store = (value) => rec(value === undefined ? 'forget' : `persist ${value}`);
  f.settle = (id, code, status, detail, withResponse) => rec(`settle ${id} ${opt(code)} ${status} ${opt(detail)}`);
  f.emit = (name, ok, reason) => rec(`emit ${name} ${ok} ${opt(reason)}`);
  f.arm_timer = (at) => { if (f.throwAll) throw new Error('timer exploded'); f.log.push(`arm ${at}`); };
  return f;
}
export function take_log(f) { const s = f.log.join('\n'); f.log.length = 0; return s; }
export function set_flag(f, name, v) { f[name] = v; }
export function last_generation(f) { return f.gen; }
"#)]
extern "C" {
    fn make_fake() -> JsValue;
    fn take_log(f: &JsValue) -> String;
    fn set_flag(f: &JsValue, name: &str, v: bool);
    fn last_generation(f: &JsValue) -> u32;
}

const T0: f64 = 1_800_000_000_000.0;
const OPTIONS: &str = r#"{"env":"release","baseURL":"https://api.example.com"}"#;

struct Harness {
    gate: Gate,
    fake: JsValue,
}

impl Harness {
    fn new(options: &str) -> Harness {
        let fake = make_fake();
        let shims: Shims = fake.clone().unchecked_into();
        let gate = match Gate::new(options, shims) {
            Ok(g) => g,
            Err(e) => panic!("Gate::new failed: {:?}", e.as_string()),
        };
        Harness { gate, fake }
    }

    fn log(&self) -> Vec<String> {
        let s = take_log(&self.fake);
        s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    fn flag(&self, name: &str, v: bool) {
        set_flag(&self.fake, name, v);
    }
}

fn stored_session(access: &str, refresh: &str, expires_at: f64) -> String {
    format!(r#"{{"accessToken":"{access}","refreshToken":"{refresh}","expiresAt":{expires_at},"lifetime":3600000}}"#)
}

fn count(log: &[String], prefix: &str) -> usize {
    log.iter().filter(|l| l.starts_with(prefix)).count()
}

/// The call id of the first `post_auth`/`platform_login` line.
fn call_of(log: &[String], prefix: &str) -> u32 {
    let line = log.iter().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in {log:?}"));
    line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad line {line}"))
}

fn tokens_body(n: u32) -> String {
    format!(r#"{{"accessToken":"acc-{n}","refreshToken":"ref-{n}","expiresIn":3600}}"#)
}

#[wasm_bindgen_test]
fn concurrency_many_submits_on_an_expired_token_make_one_refresh() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 - 1000.0)));
    h.log();
    for id in 1..=20 {
        h.gate.submit(T0 + 1.0, id, format!("/item/{id}"), true, -1.0);
    }
    let log = h.log();
    assert_eq!(count(&log, "post_auth"), 1, "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("post_auth") && l.ends_with("refresh https://api.example.com/auth/refresh ref-1")), "{log:?}");
    assert_eq!(count(&log, "send"), 0, "no request goes out with the expired token: {log:?}");
    let call = call_of(&log, "post_auth");
    h.gate.auth_reply(T0 + 5.0, call, 200, tokens_body(2));
    let log = h.log();
    assert_eq!(count(&log, "send"), 20, "{log:?}");
    assert!(log.iter().filter(|l| l.starts_with("send")).all(|l| l.ends_with(" acc-2")), "{log:?}");
    assert_eq!(count(&log, "persist"), 1, "{log:?}");
    assert!(log.iter().any(|l| l == "emit refresh true -"), "{log:?}");
    for id in 1..=20 {
        h.gate.response(T0 + 10.0, id, 200, None);
    }
    let log = h.log();
    assert_eq!(count(&log, "settle"), 20);
    assert!(log.iter().filter(|l| l.starts_with("settle")).all(|l| l.contains(" - 0 -")), "{log:?}");
}

#[wasm_bindgen_test]
fn stale_rejection_is_replayed_without_a_second_refresh() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    h.gate.submit(T0, 2, "/b".into(), true, -1.0);
    let log = h.log();
    assert_eq!(count(&log, "send"), 2);
    h.gate.response(T0 + 1.0, 1, 401, None);
    let log = h.log();
    assert_eq!(count(&log, "post_auth"), 1, "{log:?}");
    let call = call_of(&log, "post_auth");
    h.gate.auth_reply(T0 + 2.0, call, 200, tokens_body(2));
    let log = h.log();
    assert!(log.iter().any(|l| l == "send 1 https://api.example.com/a acc-2"), "{log:?}");
    // Request 2 was sent with acc-1, older than the current token: replay at once.
    h.gate.response(T0 + 3.0, 2, 401, None);
    let log = h.log();
    assert_eq!(count(&log, "post_auth"), 0, "{log:?}");
    assert!(log.iter().any(|l| l == "send 2 https://api.example.com/b acc-2"), "{log:?}");
    // Rejected again with the fresh token: UNAUTHORIZED, no loop.
    h.gate.response(T0 + 4.0, 2, 401, None);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 2 UNAUTHORIZED 401 -"), "{log:?}");
    assert_eq!(count(&log, "send"), 0);
}

#[wasm_bindgen_test]
fn a_request_past_its_deadline_times_out_and_is_aborted() {
    let mut h = Harness::new(r#"{"env":"release","baseURL":"https://api.example.com","timeout":1000}"#);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.log();
    h.gate.submit(T0, 7, "/slow".into(), true, -1.0);
    let log = h.log();
    assert!(log.iter().any(|l| l == &format!("arm {}", T0 + 1000.0)), "timer armed at the deadline: {log:?}");
    h.gate.timeout(T0 + 999.0);
    assert_eq!(count(&h.log(), "settle"), 0, "not before the deadline");
    h.gate.timeout(T0 + 1000.0);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 7 TIMEOUT 0 -"), "{log:?}");
    assert!(log.iter().any(|l| l == "abort_send 7"), "{log:?}");
    // A late answer for a settled request is ignored.
    h.gate.response(T0 + 1500.0, 7, 200, None);
    assert_eq!(count(&h.log(), "settle"), 0);
    // A per-request timeout.
    h.gate.submit(T0 + 2000.0, 8, "/slow".into(), true, 100.0);
    h.log();
    h.gate.timeout(T0 + 2100.0);
    assert!(h.log().iter().any(|l| l == "settle 8 TIMEOUT 0 -"));
}

#[wasm_bindgen_test]
fn a_refresh_that_hangs_rejects_its_waiters_with_timeout_then_recovers() {
    let mut h = Harness::new(r#"{"env":"release","baseURL":"https://api.example.com","timeout":500}"#);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 - 1.0)));
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    h.gate.submit(T0, 2, "/b".into(), true, -1.0);
    let log = h.log();
    let call = call_of(&log, "post_auth");
    h.gate.timeout(T0 + 500.0);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 1 TIMEOUT 0 -") && log.iter().any(|l| l == "settle 2 TIMEOUT 0 -"), "{log:?}");
    assert!(log.iter().any(|l| l == &format!("abort_auth {call}")), "{log:?}");
    // The late answer of the abandoned call is ignored; the next request tries again.
    h.gate.auth_reply(T0 + 600.0, call, 200, tokens_body(2));
    assert_eq!(count(&h.log(), "send"), 0);
    h.gate.submit(T0 + 700.0, 3, "/c".into(), true, -1.0);
    let log = h.log();
    let call2 = call_of(&log, "post_auth");
    assert_ne!(call, call2);
    h.gate.auth_reply(T0 + 710.0, call2, 200, tokens_body(3));
    assert!(h.log().iter().any(|l| l == "send 3 https://api.example.com/c acc-3"));
}

#[wasm_bindgen_test]
fn abort_waiting_and_in_flight() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.gate.submit(T0, 1, "/inflight".into(), true, -1.0);
    h.log();
    h.gate.abort(T0 + 1.0, 1);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 1 ABORTED 0 -"), "{log:?}");
    assert!(log.iter().any(|l| l == "abort_send 1"), "{log:?}");
    // Waiting for a refresh.
    h.gate.submit(T0 + 2.0, 2, "/x".into(), true, -1.0);
    h.gate.response(T0 + 3.0, 2, 401, None);
    h.gate.submit(T0 + 4.0, 3, "/waiting".into(), true, -1.0);
    let log = h.log();
    let call = call_of(&log, "post_auth");
    h.gate.abort(T0 + 5.0, 3);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 3 ABORTED 0 -"), "{log:?}");
    assert_eq!(count(&log, "abort_send"), 0, "nothing in flight to abort: {log:?}");
    h.gate.auth_reply(T0 + 6.0, call, 200, tokens_body(2));
    let log = h.log();
    assert!(log.iter().any(|l| l.starts_with("send 2 ")), "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("send 3 ")), "the aborted request left the queue: {log:?}");
    // Aborting twice, or an unknown id, does nothing.
    h.gate.abort(T0 + 7.0, 3);
    h.gate.abort(T0 + 7.0, 999);
    assert_eq!(count(&h.log(), "settle"), 0);
}

#[wasm_bindgen_test]
fn logout_rejects_waiters_and_discards_a_late_login() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, None);
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    let log = h.log();
    let call = call_of(&log, "platform_login");
    h.gate.logout(T0 + 1.0);
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 1 LOGIN_REQUIRED 0 logout"), "{log:?}");
    assert!(log.iter().any(|l| l == "forget"), "{log:?}");
    assert!(log.iter().any(|l| l == "emit logout true -"), "{log:?}");
    // The platform login answers after logout: discarded.
    h.gate.platform_login_done(T0 + 2.0, call, true, "code-1".into());
    let log = h.log();
    assert_eq!(count(&log, "post_auth"), 0, "{log:?}");
    assert_eq!(h.gate.session(T0 + 3.0), -2.0);
}

#[wasm_bindgen_test]
fn corrupt_storage_counts_as_no_session() {
    for bad in ["not json", "[]", "{\"accessToken\":5}", "", "null"] {
        let mut h = Harness::new(OPTIONS);
        h.gate.stored(T0, Some(bad.to_string()));
        assert_eq!(h.gate.session(T0), -2.0, "{bad}");
        h.log();
        h.gate.submit(T0, 1, "/a".into(), true, -1.0);
        let log = h.log();
        assert_eq!(count(&log, "platform_login"), 1, "{bad}: {log:?}");
        assert_eq!(count(&log, "send"), 0, "{bad}: {log:?}");
    }
}

#[wasm_bindgen_test]
fn silent_login_end_to_end_and_session() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, None);
    assert_eq!(h.gate.session(T0), -2.0);
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    let call = call_of(&h.log(), "platform_login");
    h.gate.platform_login_done(T0 + 1.0, call, true, "code-1".into());
    let log = h.log();
    assert!(log.iter().any(|l| l.starts_with("post_auth") && l.ends_with("login https://api.example.com/auth/login code-1")), "{log:?}");
    let call = call_of(&log, "post_auth");
    h.gate.auth_reply(T0 + 2.0, call, 200, tokens_body(1));
    let log = h.log();
    assert!(log.iter().any(|l| l == "send 1 https://api.example.com/a acc-1"), "{log:?}");
    assert!(log.iter().any(|l| l == "emit login true -"), "{log:?}");
    assert_eq!(h.gate.session(T0 + 3.0), T0 + 2.0 + 3_600_000.0);
}

#[wasm_bindgen_test]
fn a_throwing_send_shim_becomes_a_network_error() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.log();
    h.flag("throwSend", true);
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    let log = h.log();
    assert!(log.iter().any(|l| l.starts_with("settle 1 NETWORK 0 ")), "{log:?}");
    // Every shim throwing: no exception escapes the Gate, and it keeps working after.
    h.flag("throwSend", false);
    h.flag("throwAll", true);
    h.gate.submit(T0 + 1.0, 2, "/b".into(), true, -1.0);
    h.gate.logout(T0 + 2.0);
    h.flag("throwAll", false);
    h.gate.set_session(T0 + 3.0, "acc-9".into(), None, 60.0);
    h.log();
    h.gate.submit(T0 + 4.0, 3, "/c".into(), true, -1.0);
    assert!(h.log().iter().any(|l| l == "send 3 https://api.example.com/c acc-9"));
}

#[wasm_bindgen_test]
fn a_throwing_login_shim_ends_in_login_required() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, None);
    h.log();
    h.flag("throwAll", true);
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    h.flag("throwAll", false);
    // platform_login threw: fed back as a failed login; settle threw too (ignored). The
    // session is now LoginRequired: the next request rejects at once.
    h.gate.submit(T0 + 1.0, 2, "/b".into(), true, -1.0);
    let log = h.log();
    assert!(log.iter().any(|l| l.starts_with("settle 2 LOGIN_REQUIRED")), "{log:?}");
}

#[wasm_bindgen_test]
fn bad_options_are_a_config_error() {
    for bad in ["not json", "[]", r#"{"timeout":"x"}"#, r#"{"baseURL":"http://api.example.com"}"#] {
        let fake = make_fake();
        let r = Gate::new(bad, fake.unchecked_into());
        match r {
            Ok(_) => panic!("{bad} accepted"),
            Err(e) => assert!(e.as_string().is_some_and(|m| m.contains("option")), "{bad}: {:?}", e.as_string()),
        }
    }
}

#[wasm_bindgen_test]
fn odd_numbers_from_js_do_not_trap() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(f64::NAN, None);
    h.gate.submit(-5.0, 1, "".into(), true, f64::INFINITY);
    h.gate.response(f64::INFINITY, 1, 70000, Some("x".into()));
    h.gate.submit(1e300, 2, "::::".into(), true, -0.0);
    h.gate.set_session(T0, "a".into(), Some("r".into()), f64::NAN);
    h.gate.timeout(f64::NEG_INFINITY);
    let _ = h.gate.session(f64::NAN);
    assert!(memory_bytes() >= 65536);
}

#[wasm_bindgen_test]
fn a_send_delayed_past_a_session_change_is_not_sent_with_the_old_token() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    assert!(h.log().iter().any(|l| l == "send 1 https://api.example.com/a acc-1"));
    let generation = last_generation(&h.fake);
    // Nothing changed: go on.
    assert!(h.gate.sendable(T0 + 1.0, 1, generation));
    assert!(h.log().is_empty());
    // setSession() while the send was delayed: not sendable, replayed with the new token.
    h.gate.set_session(T0 + 2.0, "acc-2".into(), Some("ref-2".into()), 3600.0);
    h.log();
    assert!(!h.gate.sendable(T0 + 3.0, 1, generation));
    let log = h.log();
    assert!(log.iter().any(|l| l == "send 1 https://api.example.com/a acc-2"), "{log:?}");
    assert_eq!(count(&log, "post_auth"), 0, "{log:?}");
    // A first send delayed past logout(): settled LOGIN_REQUIRED, never sent.
    h.gate.submit(T0 + 4.0, 2, "/b".into(), true, -1.0);
    let generation = last_generation(&h.fake);
    h.gate.logout(T0 + 5.0);
    h.log();
    assert!(!h.gate.sendable(T0 + 6.0, 2, generation));
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 2 LOGIN_REQUIRED 0 logout"), "{log:?}");
    assert_eq!(count(&log, "send"), 0, "{log:?}");
    // The send of request 1 (its second, after setSession()) delayed past logout(): never
    // sent either, and it settles LOGIN_REQUIRED like every request waiting for a token.
    assert!(!h.gate.sendable(T0 + 7.0, 1, generation));
    let log = h.log();
    assert!(log.iter().any(|l| l == "settle 1 LOGIN_REQUIRED 0 logout"), "{log:?}");
    assert_eq!(count(&log, "send"), 0, "{log:?}");
}

#[wasm_bindgen_test]
fn a_send_delayed_into_a_refresh_waits_for_it() {
    let mut h = Harness::new(OPTIONS);
    h.gate.stored(T0, Some(stored_session("acc-1", "ref-1", T0 + 3_600_000.0)));
    h.gate.submit(T0, 1, "/a".into(), true, -1.0);
    h.gate.submit(T0, 2, "/b".into(), true, -1.0);
    h.log();
    let generation = last_generation(&h.fake);
    // Request 2 is rejected: a refresh goes out while request 1's send is delayed.
    h.gate.response(T0 + 1.0, 2, 401, None);
    let call = call_of(&h.log(), "post_auth");
    assert!(!h.gate.sendable(T0 + 2.0, 1, generation), "not sent while the refresh is out");
    let log = h.log();
    assert_eq!(count(&log, "send"), 0, "{log:?}");
    assert_eq!(count(&log, "post_auth"), 0, "joins the refresh in flight: {log:?}");
    h.gate.auth_reply(T0 + 3.0, call, 200, tokens_body(2));
    let log = h.log();
    assert!(log.iter().any(|l| l == "send 1 https://api.example.com/a acc-2"), "{log:?}");
    assert!(log.iter().any(|l| l == "send 2 https://api.example.com/b acc-2"), "{log:?}");
    // After the refresh, a delayed send with the current token goes on.
    let generation = last_generation(&h.fake);
    assert!(h.gate.sendable(T0 + 4.0, 1, generation));
    // A refresh that timed out leaves no call in flight behind.
    h.gate.response(T0 + 5.0, 1, 401, None);
    h.log();
    h.gate.timeout(T0 + 5.0 + 15_000.0);
    h.log();
    h.gate.submit(T0 + 20_000.0, 3, "/c".into(), true, -1.0);
    let log = h.log();
    if let Some(l) = log.iter().find(|l| l.starts_with("send 3")) {
        let _ = l;
        let generation = last_generation(&h.fake);
        assert!(h.gate.sendable(T0 + 20_001.0, 3, generation));
    }
}
