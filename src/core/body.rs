//! Response bodies as the platform already parsed them. The core never parses text: the
//! driver hands it a view of the body object (a `JsValue` read through `Reflect` in the
//! wasm build, a `serde_json::Value` in native tests) and the core reads the few values it
//! needs at the configured dotted paths.

use super::config::Config;

/// A read-only view of one value of a parsed response body.
pub trait Body: Sized + Clone {
    /// The member `key` of an object (an array's index as text), `None` for anything else.
    fn member(&self, key: &str) -> Option<Self>;
    /// The value, when it is a string.
    fn text(&self) -> Option<String>;
    /// The value, when it is a finite number or a string that JS's `Number()` reads as one
    /// (`"3600"`); `None` for anything else, empty strings included.
    fn number(&self) -> Option<f64>;
    /// `String(value)` as JS prints it, when the value is a string, number or boolean: how
    /// envelope codes are compared with the configured ones.
    fn code(&self) -> Option<String>;
}

/// The value at a dotted `path` (`"data.token"`): each segment is one [`Body::member`]
/// step, empty segments included, so `"a..b"` looks up the key `""`.
pub fn at_path<B: Body>(body: &B, path: &str) -> Option<B> {
    let mut cur = body.clone();
    for key in path.split('.') {
        cur = cur.member(key)?;
    }
    Some(cur)
}

/// What the core needs of a login or refresh response body, read at the configured paths
/// by [`AuthBody::read`]. Token fields are read from the raw body, apart from any envelope.
#[derive(Clone, Default, PartialEq)]
pub struct AuthBody {
    /// At `tokenFields.accessToken`, when a string.
    pub access_token: Option<String>,
    /// At `tokenFields.refreshToken`, when a string.
    pub refresh_token: Option<String>,
    /// At `tokenFields.expiresIn`: seconds, a number or a numeric string.
    pub expires_in: Option<f64>,
    /// The envelope code (`String(code)`) at `envelope.code`, or at `code` without an
    /// envelope.
    pub code: Option<String>,
}

// Tokens must never reach a log line, not even through `{:?}` (rule 9).
impl core::fmt::Debug for AuthBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthBody")
            .field("access_token", &self.access_token.as_ref().map(|_| "<hidden>"))
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<hidden>"))
            .field("expires_in", &self.expires_in)
            .field("code", &self.code)
            .finish()
    }
}

impl AuthBody {
    /// Read a login/refresh body at the paths `config` names.
    pub fn read<B: Body>(body: &B, config: &Config) -> AuthBody {
        let fields = &config.token_fields;
        AuthBody {
            access_token: at_path(body, &fields.access_token).and_then(|v| v.text()),
            refresh_token: at_path(body, &fields.refresh_token).and_then(|v| v.text()),
            expires_in: at_path(body, &fields.expires_in).and_then(|v| v.number()),
            code: at_path(body, config.auth_code_path()).and_then(|v| v.code()),
        }
    }
}

/// The business code of a reply body, when the config looks at one (an envelope, or
/// `expiredWhen.code` / `loginRequiredWhen.code`).
pub fn reply_code<B: Body>(body: &B, config: &Config) -> Option<String> {
    at_path(body, config.reply_code_path()?).and_then(|v| v.code())
}
