//! The real wasm boundary (`tokengate::wasm::Client` and its driver task) through a JS fake
//! of the host object: promise-returning platform calls that the test answers one by one,
//! storage, events and the timer. Run with `wasm-pack test --node --mode no-install`.
//!
//! Every test awaits the promises the exported methods return, as a page does.
#![cfg(target_arch = "wasm32")]

use js_sys::{Promise, Reflect};
use tokengate::wasm::host::Host;
use tokengate::wasm::Client;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[wasm_bindgen(inline_js = r#"
export function make_host(env) {
  const h = { log: [], storage: {}, pending: [], env, timer: null, throwRequest: false };
  h.request = (kind, o, id) => {
    if (h.throwRequest) throw new Error('request exploded');
    const auth = (o.header && o.header.Authorization) || '-';
    h.log.push(`${kind} ${o.method || 'GET'} ${o.url} ${auth} ${JSON.stringify(o.data === undefined ? null : o.data)}`);
    let settle;
    const p = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    p.abort = () => { h.log.push(`abort ${o.url}`); settle.reject({ errMsg: 'request:fail abort' }); };
    h.pending.push({ url: o.url, settle });
    return p;
  };
  h.login = () => { h.log.push('login'); return Promise.resolve('code-' + h.log.length); };
  h.checkSession = () => Promise.resolve(true);
  h.getStorage = (k) => h.storage[k];
  h.setStorage = (k, v) => { h.storage[k] = v; };
  h.removeStorage = (k) => { delete h.storage[k]; };
  h.emit = (name, payload) => { h.log.push(`emit ${name} ${name === 'error' ? payload.code : JSON.stringify(payload)}`); };
  h.supports = () => true;
  h.arm = (delay) => {
    if (h.timer) { clearTimeout(h.timer.id); h.timer.resolve(false); h.timer = null; }
    if (!(delay >= 0)) return undefined;
    return new Promise((resolve) => { const t = { resolve }; t.id = setTimeout(() => { if (h.timer === t) h.timer = null; resolve(true); }, delay); h.timer = t; });
  };
  return h;
}
// Resolves once `n` platform calls are waiting for an answer (or after 2 s, to fail loudly).
export function calls(h, n) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => (h.pending.length >= n || Date.now() - t0 > 2000 ? resolve(h.pending.length) : setTimeout(poll, 1));
    poll();
  });
}
// Answer the oldest waiting call whose URL ends with `suffix`.
export function answer(h, suffix, status, data) {
  const i = h.pending.findIndex((c) => c.url.endsWith(suffix));
  if (i < 0) throw new Error('no pending call to ' + suffix + ' in ' + JSON.stringify(h.log));
  const [c] = h.pending.splice(i, 1);
  c.settle.resolve({ statusCode: status, header: {}, data });
}
export function take_log(h) { const s = h.log.join('\n'); h.log.length = 0; return s; }
export function storage(h) { return h.storage; }
export function set_flag(h, name, v) { h[name] = v; }
export function options(extra) { return Object.assign({ baseURL: 'https://api.example.com' }, extra || {}); }
export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
export function json(v) { return JSON.stringify(v); }
"#)]
extern "C" {
    fn make_host(env: &str) -> JsValue;
    fn calls(h: &JsValue, n: u32) -> Promise;
    fn answer(h: &JsValue, suffix: &str, status: u16, data: JsValue);
    fn take_log(h: &JsValue) -> String;
    fn storage(h: &JsValue) -> JsValue;
    fn set_flag(h: &JsValue, name: &str, v: bool);
    fn options(extra: JsValue) -> JsValue;
    fn sleep(ms: u32) -> Promise;
    fn json(v: &JsValue) -> String;
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn tokens(access: &str, refresh: &str) -> JsValue {
    obj(&[("accessToken", access.into()), ("refreshToken", refresh.into()), ("expiresIn", 3600.into())])
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

struct Fake {
    host: JsValue,
    client: Client,
}

impl Fake {
    fn new(extra: JsValue) -> Fake {
        let host = make_host("release");
        let client = Client::new(options(extra), host.clone().unchecked_into::<Host>());
        Fake { host, client }
    }

    async fn calls(&self, n: u32) -> u32 {
        JsFuture::from(calls(&self.host, n)).await.unwrap().as_f64().unwrap() as u32
    }

    fn request(&self, id: u32, url: &str) -> JsFuture {
        JsFuture::from(self.client.request(id, "request", obj(&[("url", url.into())])))
    }
}

async fn tick() {
    JsFuture::from(sleep(5)).await.unwrap();
}

#[wasm_bindgen_test]
async fn silent_login_then_the_request_goes_out_with_the_token() {
    let f = Fake::new(JsValue::UNDEFINED);
    JsFuture::from(f.client.ready()).await.unwrap();
    let p = f.request(1, "/me");
    assert_eq!(f.calls(1).await, 1);
    answer(&f.host, "/auth/login", 200, tokens("acc-1", "ref-1"));
    assert_eq!(f.calls(1).await, 1);
    answer(&f.host, "/me", 200, obj(&[("n", 7.into())]));
    let v = p.await.unwrap();
    assert_eq!(get(&v, "n").as_f64(), Some(7.0));
    let log = take_log(&f.host);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], "login");
    assert!(lines[1].starts_with("request POST https://api.example.com/auth/login - {\"code\":\"code-"), "{log}");
    assert_eq!(lines[2], "emit login {\"ok\":true}");
    assert_eq!(lines[3], "request GET https://api.example.com/me Bearer acc-1 null");
    // The session is stored as an object, and session() shows no token.
    let stored = get(&storage(&f.host), "tokengate:session");
    assert_eq!(get(&stored, "accessToken").as_string().as_deref(), Some("acc-1"));
    let s = json(&f.client.session());
    assert!(s.contains("\"loggedIn\":true") && !s.contains("acc-1"), "{s}");
}

#[wasm_bindgen_test]
async fn concurrent_401s_make_one_refresh_and_every_request_is_replayed() {
    let f = Fake::new(JsValue::UNDEFINED);
    JsFuture::from(f.client.set_session(tokens("acc-old", "ref-old"))).await.unwrap();
    let ps: Vec<JsFuture> = (1..=3).map(|i| f.request(i, &format!("/r{i}"))).collect();
    f.calls(3).await;
    take_log(&f.host);
    for i in 1..=3 {
        answer(&f.host, &format!("/r{i}"), 401, JsValue::NULL);
    }
    assert_eq!(f.calls(1).await, 1, "one refresh");
    let log = take_log(&f.host);
    assert_eq!(log, "request POST https://api.example.com/auth/refresh - {\"refreshToken\":\"ref-old\"}");
    answer(&f.host, "/auth/refresh", 200, tokens("acc-new", "ref-new"));
    f.calls(3).await;
    let log = take_log(&f.host);
    for i in 1..=3 {
        assert!(log.contains(&format!("request GET https://api.example.com/r{i} Bearer acc-new")), "{log}");
        answer(&f.host, &format!("/r{i}"), 200, JsValue::from(i));
    }
    for (i, p) in ps.into_iter().enumerate() {
        assert_eq!(p.await.unwrap().as_f64(), Some((i + 1) as f64));
    }
}

#[wasm_bindgen_test]
async fn bad_options_reject_ready_and_requests_with_config_naming_the_option() {
    let f = Fake::new(obj(&[("baseUrl", "https://typo.example.com".into())]));
    let e = JsFuture::from(f.client.ready()).await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("CONFIG"));
    assert!(get(&e, "message").as_string().unwrap().contains("baseUrl"));
    let e = f.request(1, "/x").await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("CONFIG"));
    let nested = Fake::new(obj(&[("login", obj(&[("methd", "GET".into())]))]));
    let e = JsFuture::from(nested.client.ready()).await.unwrap_err();
    let m = get(&e, "message").as_string().unwrap();
    assert!(m.contains("login") && m.contains("methd"), "{m}");
}

#[wasm_bindgen_test]
async fn a_throwing_platform_is_network_and_abort_reaches_the_task() {
    let f = Fake::new(JsValue::UNDEFINED);
    JsFuture::from(f.client.set_session(tokens("acc", "ref"))).await.unwrap();
    set_flag(&f.host, "throwRequest", true);
    let e = f.request(1, "/x").await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("NETWORK"));
    assert!(get(&e, "errMsg").as_string().unwrap().contains("request exploded"));
    set_flag(&f.host, "throwRequest", false);
    let p = f.request(2, "/slow");
    f.calls(1).await;
    f.client.abort(2);
    let e = p.await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("ABORTED"));
    tick().await;
    let log = take_log(&f.host);
    assert!(log.contains("abort https://api.example.com/slow"), "{log}");
    assert!(log.contains("emit error NETWORK") && log.contains("emit error ABORTED"), "{log}");
}

#[wasm_bindgen_test]
async fn the_timer_times_out_a_request_and_the_driver_goes_on() {
    let f = Fake::new(JsValue::UNDEFINED);
    JsFuture::from(f.client.set_session(tokens("acc", "ref"))).await.unwrap();
    let p = JsFuture::from(f.client.request(1, "request", obj(&[("url", "/hang".into()), ("timeout", 20.into())])));
    let e = p.await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("TIMEOUT"));
    let p = f.request(2, "/fine");
    f.calls(2).await;
    answer(&f.host, "/fine", 200, "ok".into());
    assert_eq!(p.await.unwrap().as_string().as_deref(), Some("ok"));
}

#[wasm_bindgen_test]
async fn request_options_are_checked_before_anything_is_sent() {
    let f = Fake::new(JsValue::UNDEFINED);
    for opts in [
        JsValue::from("/x"),
        obj(&[("url", "".into())]),
        obj(&[("url", "/x".into()), ("success", js_sys::Function::new_no_args("").into())]),
    ] {
        let e = JsFuture::from(f.client.request(1, "request", opts)).await.unwrap_err();
        assert_eq!(get(&e, "code").as_string().as_deref(), Some("CONFIG"));
    }
    let e = JsFuture::from(f.client.set_session(obj(&[("accessToken", "a\r\nb".into())]))).await.unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("CONFIG"));
    assert!(!get(&e, "message").as_string().unwrap().contains("a\r\nb"));
    assert_eq!(take_log(&f.host).matches("request ").count(), 0);
}
