//! What a reply means: for a business request ([`classify`]) and for a login/refresh call
//! ([`classify_auth`]).

use super::config::Config;
use super::error::Error;
use super::token::{self, Fresh};
use super::{AuthReply, Millis};

/// The meaning of a business request's HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Success,
    /// `loginRequiredWhen` matched (only for a request that carried a token).
    SessionEnded,
    /// `expiredWhen` matched (only for a request that carried a token).
    TokenRejected { status: u16 },
    /// A status outside 2xx that is not a token rejection.
    Http { status: u16 },
    /// Envelope code outside `success`.
    Business { code: String },
}

fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Classify a business reply. A request sent without a token (`auth: false`, foreign
/// origin) is never a token rejection nor a session end: a 401 there is `HTTP`.
pub(crate) fn classify(config: &Config, status: u16, code: Option<&str>, carried_token: bool) -> Verdict {
    if carried_token {
        if config.login_required_status.contains(&status) || Config::has_code(&config.login_required_codes, code) {
            return Verdict::SessionEnded;
        }
        if config.expired_status.contains(&status) || Config::has_code(&config.expired_codes, code) {
            return Verdict::TokenRejected { status };
        }
    }
    if !is_2xx(status) {
        return Verdict::Http { status };
    }
    if let (Some(env), Some(code)) = (&config.envelope, code) {
        if !env.success.iter().any(|s| s == code) {
            return Verdict::Business { code: code.to_string() };
        }
    }
    Verdict::Success
}

/// The outcome of a login or refresh POST.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AuthOutcome {
    Tokens(Fresh),
    /// The server refused the credentials (`expiredWhen` / `loginRequiredWhen` status or
    /// code). `session_ended`: it was `loginRequiredWhen`.
    Rejected { session_ended: bool },
    /// Anything else: 5xx, transport, a 2xx body without an access token.
    Failed(Error),
}

/// Classify a login/refresh reply. Token fields and the code were read from the raw body,
/// apart from the envelope; the code sits at `envelope.code` (default `code`).
pub(crate) fn classify_auth(config: &Config, reply: &AuthReply, now: Millis) -> AuthOutcome {
    let (status, body) = match reply {
        AuthReply::Transport { message } => return AuthOutcome::Failed(Error::Network { message: message.clone() }),
        AuthReply::Http { status, body } => (*status, body),
    };
    let code = body.code.as_deref();
    if config.login_required_status.contains(&status) || Config::has_code(&config.login_required_codes, code) {
        return AuthOutcome::Rejected { session_ended: true };
    }
    if config.expired_status.contains(&status) || Config::has_code(&config.expired_codes, code) {
        return AuthOutcome::Rejected { session_ended: false };
    }
    if is_2xx(status) {
        if let Some(fresh) = token::extract(body, now) {
            return AuthOutcome::Tokens(fresh);
        }
    }
    AuthOutcome::Failed(Error::Http { status })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Envelope;
    use crate::core::AuthBody;

    fn cfg() -> Config {
        let mut c = Config::default();
        c.expired_codes = vec!["40101".into()];
        c.login_required_status = vec![403];
        c.envelope = Some(Envelope { code_path: "code".into(), success: vec!["0".into()] });
        c
    }

    #[test]
    fn business_replies() {
        let c = cfg();
        assert_eq!(classify(&c, 200, Some("0"), true), Verdict::Success);
        assert_eq!(classify(&c, 200, None, true), Verdict::Success);
        assert_eq!(classify(&c, 200, Some("7"), true), Verdict::Business { code: "7".into() });
        assert_eq!(classify(&c, 401, None, true), Verdict::TokenRejected { status: 401 });
        assert_eq!(classify(&c, 200, Some("40101"), true), Verdict::TokenRejected { status: 200 });
        assert_eq!(classify(&c, 403, None, true), Verdict::SessionEnded);
        assert_eq!(classify(&c, 500, Some("0"), true), Verdict::Http { status: 500 });
        // Without a token, a 401 is plain HTTP.
        assert_eq!(classify(&c, 401, None, false), Verdict::Http { status: 401 });
        assert_eq!(classify(&c, 403, None, false), Verdict::Http { status: 403 });
        assert_eq!(classify(&c, 200, Some("40101"), false), Verdict::Business { code: "40101".into() });
        let mut plain = Config::default();
        plain.envelope = None;
        assert_eq!(classify(&plain, 200, Some("7"), true), Verdict::Success);
    }

    #[test]
    fn auth_replies() {
        let c = cfg();
        let http = |status, access: Option<&str>, code: Option<&str>| AuthReply::Http {
            status,
            body: AuthBody { access_token: access.map(Into::into), code: code.map(Into::into), ..AuthBody::default() },
        };
        assert!(matches!(classify_auth(&c, &http(200, Some("a"), None), 0), AuthOutcome::Tokens(_)));
        assert_eq!(classify_auth(&c, &http(401, None, None), 0), AuthOutcome::Rejected { session_ended: false });
        assert_eq!(classify_auth(&c, &http(200, Some("a"), Some("40101")), 0), AuthOutcome::Rejected { session_ended: false });
        assert_eq!(classify_auth(&c, &http(403, None, None), 0), AuthOutcome::Rejected { session_ended: true });
        assert_eq!(classify_auth(&c, &http(200, None, None), 0), AuthOutcome::Failed(Error::Http { status: 200 }));
        assert_eq!(classify_auth(&c, &http(200, Some(""), None), 0), AuthOutcome::Failed(Error::Http { status: 200 }));
        assert_eq!(classify_auth(&c, &http(502, Some("a"), None), 0), AuthOutcome::Failed(Error::Http { status: 502 }));
        assert_eq!(
            classify_auth(&c, &AuthReply::Transport { message: "fail".into() }, 0),
            AuthOutcome::Failed(Error::Network { message: "fail".into() })
        );
    }
}
