//! A parsed JSON body seen as the core's `Body`, the way the wasm driver sees a JS object
//! read through `Reflect` (members, array indexes as text, strings, numbers and numeric
//! strings, `String(code)`). One file, included by `tests/common` and by `fuzz/checks.rs`
//! (the fuzz crate and `tests/fuzz_regressions.rs`), so that every native test reads bodies
//! the same way.

use tokengate::core::{AuthBody, Body, Config, StoredSession};

#[derive(Debug, Clone)]
pub struct Json(pub serde_json::Value);

impl Body for Json {
    fn member(&self, key: &str) -> Option<Self> {
        match &self.0 {
            serde_json::Value::Object(m) => m.get(key).cloned().map(Json),
            serde_json::Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)).cloned().map(Json),
            _ => None,
        }
    }
    fn text(&self) -> Option<String> {
        self.0.as_str().map(str::to_string)
    }
    fn number(&self) -> Option<f64> {
        match &self.0 {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
            _ => None,
        }
    }
    fn code(&self) -> Option<String> {
        match &self.0 {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Number(n) => Some(match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => (f as i64).to_string(),
                _ => n.to_string(),
            }),
            _ => None,
        }
    }
}

/// A body given as text, as the platform hands it over: parsed JSON, or the text itself
/// when it is not JSON (`wx.request` gives a string then).
pub fn json_of(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

/// What the core reads of a login/refresh body given as text.
pub fn auth_body(text: &str, config: &Config) -> AuthBody {
    AuthBody::read(&Json(json_of(text)), config)
}

/// A stored session given as the text an older version (or a test) kept: `None` when it
/// is not of the stored shape, as the driver's deserializer gives.
pub fn stored_of(text: &str) -> Option<StoredSession> {
    serde_json::from_str(text).ok()
}
