//! The options boundary, from outside the core (issue 15): what `options::read` accepts and
//! refuses right at the edges (statuses, codes, timeouts, ports, loopback, header text),
//! what its messages say, what `Config::validate` refuses on its own, and where
//! `body::reply_code` reads. The unit tests in src/core/options.rs cover the common cases;
//! these pin the boundaries a mutant of a comparison would move.

mod common;

use common::Json;
use serde::de::IgnoredAny;
use tokengate::core::body::reply_code;
use tokengate::core::options::{read, Settings};
use tokengate::core::{Config, EnvVersion, Envelope, Error};

fn parse_env(s: &str, env: EnvVersion) -> Result<Settings<IgnoredAny>, Error> {
    let mut d = serde_json::Deserializer::from_str(s);
    read::<_, IgnoredAny>(&mut d, env)
}

fn parse(s: &str) -> Result<Settings<IgnoredAny>, Error> {
    parse_env(s, EnvVersion::Release)
}

fn ok(s: &str) -> Settings<IgnoredAny> {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

/// The CONFIG message of a refused options object.
fn refused(s: &str) -> String {
    match parse(s) {
        Err(Error::Config { message }) => message,
        other => panic!("{s}: expected CONFIG, got {other:?}"),
    }
}

fn refused_at(s: &str, option: &str) -> String {
    let m = refused(s);
    assert!(m.starts_with(&format!("option {option}")), "{s}: {m}");
    m
}

#[test]
fn status_lists_hold_http_statuses_only() {
    assert_eq!(ok(r#"{"expiredWhen":{"status":[100,999,401]}}"#).config.expired_status, vec![100, 999, 401]);
    assert_eq!(ok(r#"{"loginRequiredWhen":{"status":[403]}}"#).config.login_required_status, vec![403]);
    assert_eq!(ok(r#"{"expiredWhen":{"status":[]}}"#).config.expired_status, Vec::<u16>::new());
    for bad in ["99", "1000", "0", "65535", "65536", "-1", "401.5", "\"401\"", "null", "1e3"] {
        refused_at(&format!(r#"{{"expiredWhen":{{"status":[{bad}]}}}}"#), "expiredWhen.status");
        refused_at(&format!(r#"{{"loginRequiredWhen":{{"status":[401,{bad}]}}}}"#), "loginRequiredWhen.status");
    }
    refused_at(r#"{"expiredWhen":{"status":401}}"#, "expiredWhen.status");
}

#[test]
fn codes_are_kept_as_js_prints_them() {
    let c = |v: &str| ok(&format!(r#"{{"expiredWhen":{{"code":[{v}]}}}}"#)).config.expired_codes;
    assert_eq!(c("40101"), vec!["40101"]);
    assert_eq!(c("-3"), vec!["-3"]);
    assert_eq!(c("1.0"), vec!["1"]);
    assert_eq!(c("-7.0"), vec!["-7"]);
    assert_eq!(c("1e3"), vec!["1000"]);
    // (serde_json's float reader is not exact next to 2^53; 1e15 is.)
    assert_eq!(c("1e15"), vec!["1000000000000000"]);
    assert_eq!(c("-1e15"), vec!["-1000000000000000"]);
    assert_eq!(c("18446744073709551615"), vec!["18446744073709551615"]);
    assert_eq!(c("true"), vec!["true"]);
    assert_eq!(c("false"), vec!["false"]);
    assert_eq!(c("\"E_TOKEN\""), vec!["E_TOKEN"]);
    assert_eq!(c("\"\""), vec![""]);
    // Numbers JS would print differently from an integer are refused, not guessed.
    for bad in ["9007199254740992.0", "-9007199254740992.0", "1.5", "1e300", "0.1", "[1]", "{}", "null"] {
        let m = refused_at(&format!(r#"{{"expiredWhen":{{"code":[{bad}]}}}}"#), "expiredWhen.code");
        assert!(!m.ends_with(": "), "{m}");
    }
    let envelope = ok(r#"{"envelope":{"success":[0,"ok",true]}}"#).config.envelope.unwrap();
    assert_eq!(envelope.success, vec!["0", "ok", "true"]);
}

#[test]
fn messages_say_what_was_expected() {
    assert!(refused_at(r#"{"baseURL":3}"#, "baseURL").contains("a URL or { develop, trial, release }"));
    assert!(refused_at(r#"{"login":"yes"}"#, "login").contains("false or an object"));
    assert!(refused_at(r#"{"envelope":[]}"#, "envelope").contains("false or an object"));
    assert!(refused_at(r#"{"expiredWhen":{"code":[[1]]}}"#, "expiredWhen.code").contains("a string, number or boolean"));
    assert!(refused_at(r#"{"expiredWhen":{"code":[1.5]}}"#, "expiredWhen.code").contains("a code must be a string or an integer"));
    assert!(refused_at(r#"{"header":3}"#, "header").contains("an object of header names and text values"));
    assert!(refused_at(r#"{"header":[]}"#, "header").contains("an object of header names and text values"));
    assert!(refused_at(r#"{"tokenFields":"data.token"}"#, "tokenFields").contains("{ accessToken, refreshToken, expiresIn }"));
    assert!(refused_at(r#"{"expiredWhen":[401]}"#, "expiredWhen").contains("{ status, code }"));
    assert!(refused_at(r#"[]"#, "options").contains("the options object"));
    assert!(refused_at(r#"3"#, "options").contains("the options object"));
    // A stored value that is no object is no session; serde says why (never shown to users).
    let e = serde_json::from_str::<tokengate::core::StoredSession>("[\"tok\"]").unwrap_err().to_string();
    assert!(e.contains("an object"), "{e}");
    // An unknown option is named, and the known ones are listed.
    let m = refused_at(r#"{"baseUrl":"https://a.com"}"#, "baseUrl");
    assert!(m.contains("baseURL"), "{m}");
}

#[test]
fn timeout_leeway_and_concurrency_at_their_edges() {
    assert_eq!(ok(r#"{"timeout":1}"#).config.timeout_ms, 1);
    assert_eq!(ok(r#"{"timeout":1.4}"#).config.timeout_ms, 1);
    assert_eq!(ok(r#"{"timeout":1.5}"#).config.timeout_ms, 2);
    assert_eq!(ok(r#"{"timeout":60000}"#).config.timeout_ms, 60_000);
    for bad in ["0.99", "0", "-1", "\"1000\"", "true"] {
        refused_at(&format!(r#"{{"timeout":{bad}}}"#), "timeout");
    }
    assert_eq!(ok(r#"{"refreshLeeway":0}"#).config.refresh_leeway_ms, 0);
    assert_eq!(ok(r#"{"refreshLeeway":0.5}"#).config.refresh_leeway_ms, 500);
    assert_eq!(ok(r#"{"refreshLeeway":1.0004}"#).config.refresh_leeway_ms, 1000);
    assert_eq!(ok(r#"{"refreshLeeway":1.0006}"#).config.refresh_leeway_ms, 1001);
    refused_at(r#"{"refreshLeeway":-0.001}"#, "refreshLeeway");
    refused_at(r#"{"refreshLeeway":"60"}"#, "refreshLeeway");
    assert_eq!(ok(r#"{"maxConcurrent":1}"#).max_concurrent, 1);
    assert_eq!(ok(r#"{"maxConcurrent":1000}"#).max_concurrent, 1000);
    assert_eq!(ok(r#"{"maxConcurrent":10.0}"#).max_concurrent, 10);
    for bad in ["0", "1001", "0.5", "999.5", "-1", "\"10\""] {
        refused_at(&format!(r#"{{"maxConcurrent":{bad}}}"#), "maxConcurrent");
    }
}

#[test]
fn ports_and_loopback_at_their_edges() {
    for good in ["https://a.com:1", "https://a.com:12345", "https://a.com:65535", "https://a.com:443", "http://[::1]", "http://[::1]:8080/v1", "http://127.0.0.1", "http://localhost:65535"] {
        let s = ok(&format!(r#"{{"baseURL":"{good}"}}"#));
        assert_eq!(s.config.base_url, good);
    }
    for bad in ["https://a.com:65536", "https://a.com:99999", "https://a.com:123456", "https://a.com:x", "http://[::2]", "http://[::1", "http://10.0.0.1", "http://a.com:80"] {
        refused_at(&format!(r#"{{"baseURL":"{bad}"}}"#), "baseURL");
    }
    // develop may use http: anywhere; trial may not.
    assert!(parse_env(r#"{"baseURL":"http://10.0.0.1"}"#, EnvVersion::Develop).is_ok());
    assert!(parse_env(r#"{"baseURL":"http://10.0.0.1"}"#, EnvVersion::Trial).is_err());
    // The default origins: the base URL's, default port dropped.
    let c = ok(r#"{"baseURL":"https://A.com:443/v1"}"#).config;
    assert_eq!(c.allowed_origins, None);
    let c = ok(r#"{"baseURL":"https://a.com","allowedOrigins":["https://a.com:443/x","HTTPS://B.com:8443"],"login":{"url":"/l"}}"#).config;
    assert_eq!(c.allowed_origins, Some(vec!["https://a.com".into(), "https://b.com:8443".into()]));
}

#[test]
fn header_text_may_hold_spaces_but_no_control_character() {
    let s = ok(r#"{"header":{"X-A":"a b","X-B":"~!"},"authHeader":"X-Token","authScheme":"Token x"}"#);
    assert_eq!(s.header, vec![("X-A".to_string(), "a b".to_string()), ("X-B".to_string(), "~!".to_string())]);
    assert_eq!(s.auth_scheme, "Token x");
    for bad in ["\u{7f}", "a\tb", "\u{1f}", "\n", "\u{0}"] {
        let v = serde_json::to_string(bad).unwrap();
        refused_at(&format!(r#"{{"header":{{"X":{v}}}}}"#), "header");
        refused_at(&format!(r#"{{"header":{{{v}:"x"}}}}"#), "header");
        refused_at(&format!(r#"{{"authScheme":{v}}}"#), "authScheme");
        refused_at(&format!(r#"{{"authHeader":{v}}}"#), "authHeader");
        refused_at(&format!(r#"{{"refresh":{{"header":{{"X":{v}}}}}}}"#), "refresh.header");
        refused_at(&format!(r#"{{"login":{{"method":{v}}}}}"#), "login.method");
    }
    refused_at(r#"{"header":{"":"x"}}"#, "header");
    assert_eq!(ok(r#"{"header":{"X":""}}"#).header, vec![("X".to_string(), String::new())]);
}

/// `Config::validate` on its own (the driver may build a `Config` by hand): an absolute
/// login/refresh URL is checked even without a baseURL; a relative one needs one.
#[test]
fn validate_checks_absolute_endpoints_without_a_base() {
    let mut c = Config { base_url: String::new(), ..Config::default() };
    assert_eq!(c.validate(), Ok(()), "relative endpoints and no baseURL: refused only when used");
    c.login_url = Some("http://a.com/l".into());
    assert!(matches!(c.validate(), Err(Error::Config { message }) if message.starts_with("option login.url")));
    c.login_url = Some("https://a.com/l".into());
    c.refresh_url = Some("http://a.com/r".into());
    assert!(matches!(c.validate(), Err(Error::Config { message }) if message.starts_with("option refresh.url")));
    c.refresh_url = Some("http://127.0.0.1/r".into());
    assert_eq!(c.validate(), Ok(()));
    let mut c = Config { base_url: "https://a.com".into(), ..Config::default() };
    c.login_url = Some("https://".into());
    assert!(matches!(c.validate(), Err(Error::Config { message }) if message.starts_with("option login.url")));
    c.login_url = Some("/l".into());
    c.timeout_ms = 0;
    assert!(matches!(c.validate(), Err(Error::Config { message }) if message.starts_with("option timeout")));
    c.timeout_ms = 1;
    c.allowed_origins = Some(vec!["nope".into()]);
    assert!(matches!(c.validate(), Err(Error::Config { message }) if message.starts_with("option allowedOrigins")));
}

/// Where a business reply's code is read (the driver reads nothing when `None`).
#[test]
fn reply_code_reads_the_envelope_path_or_the_when_codes() {
    let body = Json(serde_json::json!({ "code": 40101, "data": { "errcode": "E1" } }));
    let mut c = Config::default();
    assert_eq!(reply_code(&body, &c), None, "no envelope, no *When codes: nothing is read");
    c.expired_codes = vec!["40101".into()];
    assert_eq!(reply_code(&body, &c).as_deref(), Some("40101"));
    c.expired_codes.clear();
    c.login_required_codes = vec!["x".into()];
    assert_eq!(reply_code(&body, &c).as_deref(), Some("40101"));
    c.envelope = Some(Envelope { code_path: "data.errcode".into(), success: vec!["0".into()] });
    assert_eq!(reply_code(&body, &c).as_deref(), Some("E1"));
    c.envelope = Some(Envelope { code_path: "data.missing".into(), success: vec!["0".into()] });
    assert_eq!(reply_code(&body, &c), None);
    assert_eq!(c.auth_code_path(), "data.missing");
    assert_eq!(Config::default().auth_code_path(), "code");
}

/// A number as serde-wasm-bindgen hands it over: `visit_f64` (any f64, NaN and ±Infinity
/// included), and `Some` for an option.
struct Num(f64);

impl<'de> serde::de::IntoDeserializer<'de, serde::de::value::Error> for Num {
    type Deserializer = Num;
    fn into_deserializer(self) -> Num {
        self
    }
}

impl<'de> serde::Deserializer<'de> for Num {
    type Error = serde::de::value::Error;
    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_f64(self.0)
    }
    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_some(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// Numbers only a JS object can hold (NaN, ±Infinity) are refused where a number is read.
#[test]
fn non_finite_numbers_are_refused() {
    use serde::de::value::{Error as ValueError, MapDeserializer};
    fn read_one(key: &'static str, v: f64) -> Result<Settings<IgnoredAny>, Error> {
        read::<_, IgnoredAny>(MapDeserializer::<_, ValueError>::new(vec![(key, Num(v))].into_iter()), EnvVersion::Release)
    }
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for key in ["timeout", "refreshLeeway", "maxConcurrent"] {
            match read_one(key, v) {
                Err(Error::Config { message }) => {
                    assert!(message.starts_with(&format!("option {key}: must be")), "{key} {v}: {message}")
                }
                other => panic!("{key} = {v}: {other:?}"),
            }
        }
    }
    assert_eq!(read_one("timeout", 2.0).unwrap().config.timeout_ms, 2);
    assert_eq!(read_one("refreshLeeway", 2.0).unwrap().config.refresh_leeway_ms, 2000);
    assert_eq!(read_one("maxConcurrent", 2.0).unwrap().max_concurrent, 2);
    // A code: an integral f64 prints as JS does; NaN / ±Infinity are refused.
    use serde::Deserialize;
    use tokengate::core::options::Code;
    assert_eq!(Code::deserialize(Num(-2.0)).unwrap(), Code("-2".into()));
    assert_eq!(Code::deserialize(Num(-0.0)).unwrap(), Code("0".into()));
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 9_007_199_254_740_992.0, -9_007_199_254_740_992.0] {
        assert!(Code::deserialize(Num(v)).is_err(), "{v}");
    }
    assert_eq!(Code::deserialize(Num(9_007_199_254_740_991.0)).unwrap(), Code("9007199254740991".into()));
}
