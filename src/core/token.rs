//! The token set: where it comes from (a login/refresh body, `setSession()`, storage),
//! when it counts as expired, and how it is persisted.

use super::config::TokenFields;
use super::json::{self, Value};
use super::Millis;

/// The tokens the core holds. `generation` grows by one with every set installed, so a
/// reply can tell which token its request carried (rules 3 and 4).
#[derive(Clone, PartialEq)]
pub(crate) struct TokenSet {
    pub access: String,
    pub refresh: Option<String>,
    /// Absolute expiry (ms since the epoch); `None`: unknown, never refreshed proactively.
    pub expires_at: Option<Millis>,
    /// `expiresIn` in ms as received; caps the leeway at half of it.
    pub lifetime: Option<Millis>,
    pub generation: u32,
}

// Tokens must never reach a log line, not even through `{:?}` (rule 9).
impl core::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenSet")
            .field("refresh", &self.refresh.is_some())
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Tokens read from somewhere, before they get a generation.
#[derive(Clone, PartialEq)]
pub(crate) struct Fresh {
    pub access: String,
    pub refresh: Option<String>,
    pub expires_at: Option<Millis>,
    pub lifetime: Option<Millis>,
}

impl core::fmt::Debug for Fresh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fresh").field("expires_at", &self.expires_at).finish()
    }
}

/// Whether `token` can go into the auth header: non-empty and free of control characters.
/// A token with CR/LF would split the header (or make the platform throw with the whole
/// header value, token included, in its message), so it counts as no token at all.
pub(crate) fn usable(token: &str) -> bool {
    !token.is_empty() && !token.chars().any(|c| c < ' ' || c == '\u{7f}')
}

/// Seconds (possibly fractional, possibly absurd) to ms, clamped into `u64`.
pub(crate) fn secs_to_ms(secs: f64) -> Option<Millis> {
    if !secs.is_finite() {
        return None;
    }
    let ms = (secs.max(0.0) * 1000.0).round();
    Some(if ms >= u64::MAX as f64 { u64::MAX } else { ms as u64 })
}

impl Fresh {
    /// `expiresIn` seconds counted from `now`.
    pub fn new(access: String, refresh: Option<String>, expires_in_secs: Option<f64>, now: Millis) -> Fresh {
        let lifetime = expires_in_secs.and_then(secs_to_ms);
        Fresh {
            access,
            refresh: refresh.filter(|r| !r.is_empty()),
            expires_at: lifetime.map(|l| now.saturating_add(l)),
            lifetime,
        }
    }

    pub fn with_generation(self, generation: u32) -> TokenSet {
        TokenSet {
            access: self.access,
            refresh: self.refresh,
            expires_at: self.expires_at,
            lifetime: self.lifetime,
            generation,
        }
    }
}

impl TokenSet {
    /// Rule 5: inside the leeway (at most half the lifetime) the token counts as expired.
    pub fn in_leeway(&self, now: Millis, leeway_ms: u64) -> bool {
        match self.expires_at {
            None => false,
            Some(at) => {
                let leeway = match self.lifetime {
                    Some(l) => leeway_ms.min(l / 2),
                    None => leeway_ms,
                };
                now.saturating_add(leeway) >= at
            }
        }
    }

    /// Past its expiry by the clock.
    pub fn expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The persisted form:
    /// `{"accessToken":..,"refreshToken":..|null,"expiresAt":ms|null,"lifetime":ms|null}`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.access.len() + self.refresh.as_ref().map_or(0, |r| r.len()) + 80);
        out.push_str("{\"accessToken\":");
        json::write_string(&mut out, &self.access);
        out.push_str(",\"refreshToken\":");
        match &self.refresh {
            Some(r) => json::write_string(&mut out, r),
            None => out.push_str("null"),
        }
        out.push_str(",\"expiresAt\":");
        opt_number(&mut out, self.expires_at);
        out.push_str(",\"lifetime\":");
        opt_number(&mut out, self.lifetime);
        out.push('}');
        out
    }
}

fn opt_number(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => json::write_u64(out, n),
        None => out.push_str("null"),
    }
}

/// Read back what [`TokenSet::to_json`] wrote. Anything else (not JSON, wrong shape,
/// wrong types, empty access token) is `None`: no session (rule 10).
pub(crate) fn from_stored(text: &str) -> Option<Fresh> {
    let v = json::parse(text)?;
    if !matches!(v, Value::Object(_)) {
        return None;
    }
    let access = v.get("accessToken")?.as_str().filter(|s| usable(s))?.to_string();
    let refresh = match v.get("refreshToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => return None,
    };
    let ms = |key: &str| -> Result<Option<Millis>, ()> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if *n >= 0.0 => Ok(Some(if *n >= u64::MAX as f64 { u64::MAX } else { *n as u64 })),
            Some(_) => Err(()),
        }
    };
    let expires_at = ms("expiresAt").ok()?;
    let lifetime = ms("lifetime").ok()?;
    Some(Fresh { access, refresh, expires_at, lifetime })
}

/// The token set inside a login/refresh body, read at the configured paths. `None` when
/// the body is not JSON or has no usable access token string ([`usable`]). `expiresIn` may be a
/// number or a numeric string; anything else means "unknown expiry".
pub(crate) fn extract(body: &Value, fields: &TokenFields, now: Millis) -> Option<Fresh> {
    let access = body.path(&fields.access_token)?.as_str().filter(|s| usable(s))?.to_string();
    let refresh = body.path(&fields.refresh_token).and_then(Value::as_str).map(str::to_string);
    let expires_in = match body.path(&fields.expires_in) {
        Some(Value::Number(n)) => Some(*n),
        Some(Value::String(s)) => crate::core::json::parse_number(s.trim()),
        _ => None,
    };
    Some(Fresh::new(access, refresh, expires_in, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> TokenFields {
        TokenFields::default()
    }

    #[test]
    fn extracts_with_paths_and_string_expiry() {
        let body = json::parse(r#"{"data":{"t":"A","r":"R","e":"100"}}"#).unwrap();
        let f = TokenFields { access_token: "data.t".into(), refresh_token: "data.r".into(), expires_in: "data.e".into() };
        let got = extract(&body, &f, 1_000).unwrap();
        assert_eq!(got.access, "A");
        assert_eq!(got.refresh.as_deref(), Some("R"));
        assert_eq!(got.expires_at, Some(101_000));
        assert_eq!(got.lifetime, Some(100_000));
    }

    #[test]
    fn missing_or_empty_access_token_is_none() {
        for b in [r#"{}"#, r#"{"accessToken":""}"#, r#"{"accessToken":5}"#, r#"[1]"#, r#""x""#,
                  r#"{"accessToken":"a\r\nX-Evil: 1"}"#, r#"{"accessToken":"a\u0000"}"#, r#"{"accessToken":"\u007f"}"#] {
            assert!(extract(&json::parse(b).unwrap(), &fields(), 0).is_none(), "{b}");
        }
        let got = extract(&json::parse(r#"{"accessToken":"a","expiresIn":"soon","refreshToken":""}"#).unwrap(), &fields(), 0).unwrap();
        assert_eq!(got.expires_at, None);
        assert_eq!(got.refresh, None);
        let neg = extract(&json::parse(r#"{"accessToken":"a","expiresIn":-5}"#).unwrap(), &fields(), 7).unwrap();
        assert_eq!(neg.expires_at, Some(7));
        let huge = extract(&json::parse(r#"{"accessToken":"a","expiresIn":1e300}"#).unwrap(), &fields(), 7).unwrap();
        assert_eq!(huge.expires_at, Some(u64::MAX));
    }

    #[test]
    fn persist_round_trip() {
        let t = Fresh::new("a\"b".into(), Some("r".into()), Some(60.0), 1000).with_generation(3);
        let back = from_stored(&t.to_json()).unwrap();
        assert_eq!(back.with_generation(3), t);
        let bare = Fresh::new("a".into(), None, None, 0).with_generation(1);
        assert_eq!(from_stored(&bare.to_json()).unwrap().with_generation(1), bare);
    }

    #[test]
    fn garbage_storage_is_no_session() {
        for s in ["", "null", "{", "[]", "\"tok\"", r#"{"accessToken":""}"#, r#"{"accessToken":"a\nb"}"#, r#"{"accessToken":1}"#,
                  r#"{"accessToken":"a","refreshToken":3}"#, r#"{"accessToken":"a","expiresAt":"x"}"#,
                  r#"{"accessToken":"a","expiresAt":-1}"#, r#"{"accessToken":"a","lifetime":{}}"#] {
            assert!(from_stored(s).is_none(), "{s}");
        }
    }

    #[test]
    fn leeway_is_capped_at_half_the_lifetime() {
        let t = Fresh::new("a".into(), None, Some(10.0), 0).with_generation(1);
        assert!(!t.in_leeway(4_999, 60_000));
        assert!(t.in_leeway(5_000, 60_000));
        let long = Fresh::new("a".into(), None, Some(3600.0), 0).with_generation(1);
        assert!(!long.in_leeway(3_539_999, 60_000));
        assert!(long.in_leeway(3_540_000, 60_000));
        assert!(!long.expired(3_599_999));
        assert!(long.expired(3_600_000));
        let never = Fresh::new("a".into(), None, None, 0).with_generation(1);
        assert!(!never.in_leeway(u64::MAX, 60_000));
    }

    #[test]
    fn debug_hides_tokens() {
        let t = Fresh::new("SECRET".into(), Some("RSECRET".into()), None, 0).with_generation(1);
        assert!(!format!("{t:?}").contains("SECRET"));
        assert!(!format!("{:?}", Fresh::new("SECRET".into(), None, None, 0)).contains("SECRET"));
    }
}
