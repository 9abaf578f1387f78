//! The token set: where it comes from (a login/refresh body, `setSession()`, storage),
//! when it counts as expired, and how it is persisted.

use serde::{Deserialize, Serialize};

use super::body::AuthBody;
use super::options::Object;
use super::Millis;

/// The session as the platform's storage keeps it (an object: `setStorageSync` stores
/// objects). Times are JS numbers of ms; read back by [`from_stored`], which refuses
/// anything but a well-formed session (rule 10). Read only from an object (an array is
/// no session, whatever the deserializer: see [`super::options`]'s `Object`); members it
/// does not know are ignored.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Absolute expiry, ms since the epoch.
    pub expires_at: Option<f64>,
    /// `expiresIn` in ms as received.
    pub lifetime: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredFields {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<f64>,
    #[serde(default)]
    lifetime: Option<f64>,
}

impl<'de> Deserialize<'de> for StoredSession {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = Object::<StoredFields>::deserialize(d)?.0;
        Ok(StoredSession { access_token: f.access_token, refresh_token: f.refresh_token, expires_at: f.expires_at, lifetime: f.lifetime })
    }
}

impl core::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredSession")
            .field("access_token", &"<hidden>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<hidden>"))
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

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
pub fn usable(token: &str) -> bool {
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

    /// The persisted form.
    pub fn to_stored(&self) -> StoredSession {
        StoredSession {
            access_token: self.access.clone(),
            refresh_token: self.refresh.clone(),
            expires_at: self.expires_at.map(|v| v as f64),
            lifetime: self.lifetime.map(|v| v as f64),
        }
    }
}

/// A stored time: a non-negative number of ms, saturated into `u64`.
fn stored_ms(v: Option<f64>) -> Result<Option<Millis>, ()> {
    match v {
        None => Ok(None),
        Some(n) if n >= 0.0 => Ok(Some(if n >= u64::MAX as f64 { u64::MAX } else { n as u64 })),
        Some(_) => Err(()), // negative or NaN
    }
}

/// Read back what [`TokenSet::to_stored`] wrote. A session with an unusable access token
/// or impossible times is `None`: no session (rule 10).
pub(crate) fn from_stored(s: StoredSession) -> Option<Fresh> {
    if !usable(&s.access_token) {
        return None;
    }
    Some(Fresh {
        access: s.access_token,
        refresh: s.refresh_token.filter(|r| !r.is_empty()),
        expires_at: stored_ms(s.expires_at).ok()?,
        lifetime: stored_ms(s.lifetime).ok()?,
    })
}

/// The token set of a login/refresh body. `None` without a usable access token
/// ([`usable`]); an `expiresIn` that is no number means "unknown expiry".
pub(crate) fn extract(body: &AuthBody, now: Millis) -> Option<Fresh> {
    let access = body.access_token.as_ref().filter(|s| usable(s))?.clone();
    Some(Fresh::new(access, body.refresh_token.clone(), body.expires_in, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(access: Option<&str>, refresh: Option<&str>, expires_in: Option<f64>) -> AuthBody {
        AuthBody {
            access_token: access.map(Into::into),
            refresh_token: refresh.map(Into::into),
            expires_in,
            code: None,
        }
    }

    #[test]
    fn extracts_tokens_and_expiry() {
        let got = extract(&body(Some("A"), Some("R"), Some(100.0)), 1_000).unwrap();
        assert_eq!(got.access, "A");
        assert_eq!(got.refresh.as_deref(), Some("R"));
        assert_eq!(got.expires_at, Some(101_000));
        assert_eq!(got.lifetime, Some(100_000));
    }

    #[test]
    fn missing_or_unusable_access_token_is_none() {
        for a in [None, Some(""), Some("a\r\nX-Evil: 1"), Some("a\u{0}"), Some("\u{7f}")] {
            assert!(extract(&body(a, None, None), 0).is_none(), "{a:?}");
        }
        // Spaces and other printable text are fine (an opaque token may hold them).
        assert_eq!(extract(&body(Some("a b~"), None, None), 0).unwrap().access, "a b~");
        assert!(usable(" ") && usable("\u{80}") && !usable("\u{1f}"));
        let got = extract(&body(Some("a"), Some(""), None), 0).unwrap();
        assert_eq!(got.expires_at, None);
        assert_eq!(got.refresh, None);
        let neg = extract(&body(Some("a"), None, Some(-5.0)), 7).unwrap();
        assert_eq!(neg.expires_at, Some(7));
        let huge = extract(&body(Some("a"), None, Some(1e300)), 7).unwrap();
        assert_eq!(huge.expires_at, Some(u64::MAX));
        let nan = extract(&body(Some("a"), None, Some(f64::NAN)), 7).unwrap();
        assert_eq!(nan.expires_at, None);
    }

    #[test]
    fn persist_round_trip() {
        let t = Fresh::new("a\"b".into(), Some("r".into()), Some(60.0), 1000).with_generation(3);
        let back = from_stored(t.to_stored()).unwrap();
        assert_eq!(back.with_generation(3), t);
        let bare = Fresh::new("a".into(), None, None, 0).with_generation(1);
        assert_eq!(from_stored(bare.to_stored()).unwrap().with_generation(1), bare);
        // Through the text a storage may hold (an earlier version stored JSON text).
        let text = serde_json::to_string(&t.to_stored()).unwrap();
        assert_eq!(text, r#"{"accessToken":"a\"b","refreshToken":"r","expiresAt":61000.0,"lifetime":60000.0}"#);
        let parsed: StoredSession = serde_json::from_str(&text).unwrap();
        assert_eq!(from_stored(parsed).unwrap().with_generation(3), t);
        // Members it does not know (a later version's) are ignored, absent ones are None.
        let extra: StoredSession = serde_json::from_str(r#"{"v":2,"accessToken":"a","refreshToken":null}"#).unwrap();
        assert_eq!(extra, StoredSession { access_token: "a".into(), refresh_token: None, expires_at: None, lifetime: None });
    }

    #[test]
    fn garbage_storage_is_no_session() {
        let s = |a: &str, e: Option<f64>, l: Option<f64>| StoredSession { access_token: a.into(), refresh_token: None, expires_at: e, lifetime: l };
        for bad in [s("", None, None), s("a\nb", None, None), s("a", Some(-1.0), None), s("a", None, Some(f64::NAN))] {
            assert!(from_stored(bad).is_none());
        }
        for text in ["null", "[]", r#"["tok"]"#, r#"["tok","r",1,2]"#, "\"tok\"", r#"{"accessToken":1}"#, r#"{"accessToken":"a","refreshToken":3}"#, r#"{"accessToken":"a","expiresAt":"x"}"#] {
            assert!(serde_json::from_str::<StoredSession>(text).ok().and_then(from_stored).is_none(), "{text}");
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
    fn debug_shows_the_shape_and_hides_tokens() {
        let t = Fresh::new("SECRET".into(), Some("RSECRET".into()), Some(1.0), 0).with_generation(7);
        let d = format!("{t:?}");
        assert!(!d.contains("SECRET"), "{d}");
        assert!(d.contains("generation: 7") && d.contains("refresh: true"), "{d}");
        let stored = format!("{:?}", t.to_stored());
        assert!(!stored.contains("SECRET") && stored.contains("<hidden>") && stored.contains("1000"), "{stored}");
        let b = format!("{:?}", body(Some("SECRET"), Some("RSECRET"), Some(3.0)));
        assert!(!b.contains("SECRET") && b.contains("<hidden>") && b.contains("3.0"), "{b}");
        assert!(!format!("{:?}", Fresh::new("SECRET".into(), None, None, 0)).contains("SECRET"));
    }

    /// What each Debug *does* show, field by field (an empty Debug must fail here).
    #[test]
    fn debug_shows_each_field_but_the_tokens() {
        let t = Fresh::new("SECRET".into(), Some("RSECRET".into()), Some(2.0), 1_000).with_generation(7);
        assert_eq!(
            format!("{t:?}"),
            "TokenSet { refresh: true, expires_at: Some(3000), lifetime: Some(2000), generation: 7 }"
        );
        let bare = Fresh::new("SECRET".into(), None, None, 0).with_generation(1);
        assert_eq!(format!("{bare:?}"), "TokenSet { refresh: false, expires_at: None, lifetime: None, generation: 1 }");
        assert_eq!(format!("{:?}", Fresh::new("SECRET".into(), None, Some(1.0), 5)), "Fresh { expires_at: Some(1005) }");
        assert_eq!(
            format!("{:?}", t.to_stored()),
            "StoredSession { access_token: \"<hidden>\", refresh_token: Some(\"<hidden>\"), expires_at: Some(3000.0), lifetime: Some(2000.0) }"
        );
        assert_eq!(
            format!("{:?}", bare.to_stored()),
            "StoredSession { access_token: \"<hidden>\", refresh_token: None, expires_at: None, lifetime: None }"
        );
        let mut b = body(Some("SECRET"), None, Some(3.5));
        b.code = Some("40101".into());
        assert_eq!(
            format!("{b:?}"),
            "AuthBody { access_token: Some(\"<hidden>\"), refresh_token: None, expires_in: Some(3.5), code: Some(\"40101\") }"
        );
        assert_eq!(
            format!("{:?}", AuthBody::default()),
            "AuthBody { access_token: None, refresh_token: None, expires_in: None, code: None }"
        );
    }
}
