//! The one typed place where JS meets Rust: the host object the JS facade hands in (the
//! platform turned into promise-returning shims), reading values out of JS objects, and
//! the `TokenGateError` objects every rejection becomes.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::{Body, Error};

#[wasm_bindgen]
extern "C" {
    /// Built by js/platform.js from the platform (`wx`, `uni`, `my`, `tt` or a custom
    /// object). Every method may throw; each call is `catch`, so a throw becomes a value.
    #[derive(Clone)]
    pub type Host;

    /// Start a platform network call. `kind`: `request`, `upload` or `download`; `opts`:
    /// the options of `wx.request` / `uploadFile` / `downloadFile` without callbacks. The
    /// promise resolves with `{ statusCode, header, data, ... }`, rejects with the
    /// platform's error (`{ errMsg }`), and has an `abort()` method. `id`: the request's
    /// number (its `onProgressUpdate` listeners follow it across a replay); 0 for a login
    /// or refresh call.
    #[wasm_bindgen(method, catch)]
    pub fn request(this: &Host, kind: &str, opts: &Object, id: u32) -> Result<Promise, JsValue>;

    /// `platform.login()`: resolves with the code, rejects with the platform's error.
    #[wasm_bindgen(method, catch)]
    pub fn login(this: &Host) -> Result<Promise, JsValue>;

    /// `platform.checkSession()`: resolves with `true` or `false`.
    #[wasm_bindgen(method, catch, js_name = checkSession)]
    pub fn check_session(this: &Host) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = getStorage)]
    pub fn get_storage(this: &Host, key: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = setStorage)]
    pub fn set_storage(this: &Host, key: &str, value: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = removeStorage)]
    pub fn remove_storage(this: &Host, key: &str) -> Result<(), JsValue>;

    /// Hand an event to the facade, which runs the listeners later, one at a time.
    #[wasm_bindgen(method, catch)]
    pub fn emit(this: &Host, name: &str, payload: &JsValue) -> Result<(), JsValue>;

    /// The one timer: cancels the previous one (its promise resolves `false`) and, for a
    /// `delay >= 0` (ms), returns a promise that resolves `true` when it fires.
    #[wasm_bindgen(method, catch)]
    pub fn arm(this: &Host, delay: f64) -> Result<JsValue, JsValue>;

    /// Whether the platform has `uploadFile` (`upload`) / `downloadFile` (`download`).
    #[wasm_bindgen(method, catch)]
    pub fn supports(this: &Host, kind: &str) -> Result<bool, JsValue>;

    /// `develop`, `trial` or `release` (`getAccountInfoSync`); `release` when unknown.
    #[wasm_bindgen(method, getter)]
    pub fn env(this: &Host) -> JsValue;

    /// The `TokenGateError` constructor of js/errors.js: `new (code, message, extra)`.
    #[wasm_bindgen(method, getter, js_name = Error)]
    pub fn error_class(this: &Host) -> JsValue;

    #[wasm_bindgen(js_namespace = console, js_name = error, catch)]
    pub fn console_error(message: &JsValue) -> Result<(), JsValue>;
}

/// A Rust value as a plain JS value (objects, not `Map`s; `None` as `null`): event
/// payloads, `session()`, the stored session.
pub fn to_js<T: serde::Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::UNDEFINED)
}

thread_local! {
    /// JS strings of the fixed property names (`url`, `data`, ...), made once: a request
    /// reads and writes a dozen of them, and each `JsValue::from_str` decodes UTF-8 into a
    /// new JS string (measured: 8% of a request's time, and garbage).
    static KEYS: std::cell::RefCell<Vec<((usize, usize), JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with the JS string of the fixed name `k` (a literal: its address identifies it).
fn with_key<R>(k: &'static str, f: impl FnOnce(&JsValue) -> R) -> R {
    let id = (k.as_ptr() as usize, k.len());
    KEYS.with(|cache| {
        // `f` calls into JS, which may call the client again (a getter on a request's
        // options): nested calls only ever read the cache, and one that would add a name
        // while it is being read skips caching it rather than panicking.
        if let Ok(keys) = cache.try_borrow() {
            if let Some((_, v)) = keys.iter().find(|(i, _)| *i == id) {
                return f(v);
            }
        }
        let v = JsValue::from_str(k);
        let r = f(&v);
        if let Ok(mut keys) = cache.try_borrow_mut() {
            keys.push((id, v));
        }
        r
    })
}

fn readable(obj: &JsValue) -> bool {
    obj.is_object() || obj.is_function()
}

/// `obj[key]` for a fixed name; `undefined` for anything that is not an object, or a
/// getter that throws.
pub fn get(obj: &JsValue, key: &'static str) -> JsValue {
    if !readable(obj) {
        return JsValue::UNDEFINED;
    }
    with_key(key, |k| Reflect::get(obj, k).unwrap_or(JsValue::UNDEFINED))
}

/// `obj[key]` for a name known only at run time (a header, a path segment).
pub fn get_dyn(obj: &JsValue, key: &str) -> JsValue {
    if !readable(obj) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key] = value` for a fixed name, on an object this crate made.
pub fn set(obj: &JsValue, key: &'static str, value: &JsValue) {
    with_key(key, |k| {
        let _ = Reflect::set(obj, k, value);
    });
}

/// `obj[key] = value` for a name known only at run time.
pub fn set_dyn(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// `delete obj[key]` for a fixed name.
pub fn delete(obj: &Object, key: &'static str) {
    with_key(key, |k| {
        let _ = Reflect::delete_property(obj, k);
    });
}

/// A message out of a thrown or rejected value that may be anything: the platform's
/// `errMsg` / `errorMessage`, an `Error`'s `message`, a string, else `fallback`.
pub fn error_text(err: &JsValue, fallback: &str) -> String {
    if let Some(s) = err.as_string() {
        return s;
    }
    for key in ["errMsg", "errorMessage", "message"] {
        if let Some(s) = get(err, key).as_string() {
            return s;
        }
    }
    fallback.to_string()
}

/// A parsed response body (or any JS value) as the core's [`Body`].
#[derive(Clone)]
pub struct JsBody(pub JsValue);

impl Body for JsBody {
    fn member(&self, key: &str) -> Option<Self> {
        let v = get_dyn(&self.0, key);
        (!v.is_undefined()).then_some(JsBody(v))
    }
    fn text(&self) -> Option<String> {
        self.0.as_string()
    }
    fn number(&self) -> Option<f64> {
        let n = match self.0.as_f64() {
            Some(n) => n,
            // JS's own Number() reads numeric strings; "" would be 0, so it is refused.
            None => match self.0.as_string() {
                Some(s) if !s.trim().is_empty() => js_sys::Number::from(self.0.clone()).value_of(),
                _ => return None,
            },
        };
        n.is_finite().then_some(n)
    }
    fn code(&self) -> Option<String> {
        if let Some(s) = self.0.as_string() {
            return Some(s);
        }
        if let Some(b) = self.0.as_bool() {
            return Some(if b { "true" } else { "false" }.to_string());
        }
        if self.0.as_f64().is_some() {
            return js_sys::Number::from(self.0.clone()).to_string_with_radix(10).ok().map(String::from);
        }
        None
    }
}

/// What a rejection may add about the response it is about.
pub struct ErrorContext<'a> {
    /// The last response of the request (`{ statusCode, header, data }`), when the error
    /// is about it.
    pub response: Option<&'a JsValue>,
    /// Its body (an upload's text already read as JSON when it was).
    pub data: &'a JsValue,
    /// Envelope paths (code, message, data), when an envelope is configured.
    pub envelope: Option<(&'a str, &'a str, &'a str)>,
}

impl ErrorContext<'_> {
    pub const NONE: ErrorContext<'static> = ErrorContext { response: None, data: &JsValue::UNDEFINED, envelope: None };
}

/// Build the `TokenGateError` for `err`: the one place a core error becomes JS. Messages
/// are fixed text, codes, statuses and the platform's errMsg: never a token (rule 9).
pub fn to_js_error(host: &Host, err: &Error, cx: &ErrorContext) -> JsValue {
    let extra = Object::new();
    let extra_v: &JsValue = extra.as_ref();
    let message = match err {
        Error::Network { message } => {
            set(extra_v, "errMsg", &JsValue::from_str(message));
            format!("NETWORK: {message}")
        }
        Error::Timeout => "TIMEOUT: the request, or the refresh/login it waited for, ran past timeout".to_string(),
        Error::Http { status } => {
            set(extra_v, "statusCode", &JsValue::from(*status));
            if cx.response.is_some() {
                set(extra_v, "data", cx.data);
            }
            format!("HTTP: status {status}")
        }
        Error::Unauthorized { status } => {
            set(extra_v, "statusCode", &JsValue::from(*status));
            format!("UNAUTHORIZED: rejected again with a fresh token (status {status})")
        }
        Error::Business { code } => {
            let (code_path, message_path, data_path) = cx.envelope.unwrap_or(("code", "message", "data"));
            let body = JsBody(cx.data.clone());
            let at = |p: &str| crate::core::body::at_path(&body, p).map(|b| b.0);
            let biz = at(code_path).unwrap_or_else(|| JsValue::from_str(code));
            set(extra_v, "bizCode", &biz);
            set(extra_v, "data", &at(data_path).unwrap_or(JsValue::UNDEFINED));
            match at(message_path).and_then(|m| m.as_string()).filter(|m| !m.is_empty()) {
                Some(m) => {
                    set(extra_v, "message", &JsValue::from_str(&m));
                    m
                }
                None => format!("BUSINESS: code {code}"),
            }
        }
        Error::LoginRequired { reason } => {
            set(extra_v, "reason", &JsValue::from_str(reason.as_str()));
            format!("LOGIN_REQUIRED: {}", reason.as_str())
        }
        Error::Aborted => "ABORTED: the request was aborted".to_string(),
        Error::Config { message } => format!("CONFIG: {message}"),
    };
    make_error(host, err.code(), &message, extra_v)
}

/// `new TokenGateError(code, message, extra)`; a plain `Error` with the same fields if the
/// facade handed in no constructor (never in the package; in a test host perhaps).
pub fn make_error(host: &Host, code: &str, message: &str, extra: &JsValue) -> JsValue {
    let class = host.error_class();
    if let Some(f) = class.dyn_ref::<Function>() {
        let args = Array::of3(&JsValue::from_str(code), &JsValue::from_str(message), extra);
        if let Ok(e) = Reflect::construct(f, &args) {
            return e;
        }
    }
    let e: JsValue = js_sys::Error::new(message).into();
    set(&e, "name", &JsValue::from_str("TokenGateError"));
    set(&e, "code", &JsValue::from_str(code));
    let _: Object = Object::assign(e.unchecked_ref::<Object>(), extra.unchecked_ref::<Object>());
    e
}
