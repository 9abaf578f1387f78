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

/// Which call a login/refresh reply answers: the rules differ (API.md rule 6, "Refresh
/// failures", "Login and refresh bodies").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthCall {
    Login,
    Refresh,
}

/// The outcome of a login or refresh POST.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AuthOutcome {
    Tokens(Fresh),
    /// No retry will help. A login: **refused** (a 4xx other than 408 and 429, or
    /// `loginRequiredWhen`). A refresh: the refresh token is **dead** (`expiredWhen`,
    /// `loginRequiredWhen`, or any other 4xx but 408 and 429). `session_ended`: it was
    /// `loginRequiredWhen`.
    Rejected { session_ended: bool },
    /// A **passing** failure, the next request tries again: transport (`NETWORK`), 5xx /
    /// 408 / 429 / another non-2xx status or a 2xx body without an access token (`HTTP`),
    /// an envelope code outside `success` that is no rejection (`BUSINESS`).
    Failed(Error),
}

/// 4xx but 408 (timeout) and 429 (rate limit): the server refuses the credentials.
fn refuses(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

/// Classify a login/refresh reply. Token fields and the code were read from the raw body,
/// apart from the envelope; the code sits at `envelope.code` (default `code`).
pub(crate) fn classify_auth(config: &Config, call: AuthCall, reply: &AuthReply, now: Millis) -> AuthOutcome {
    let (status, body) = match reply {
        AuthReply::Transport { message } => return AuthOutcome::Failed(Error::Network { message: message.clone() }),
        AuthReply::Http { status, body } => (*status, body),
    };
    let code = body.code.as_deref();
    if config.login_required_status.contains(&status) || Config::has_code(&config.login_required_codes, code) {
        return AuthOutcome::Rejected { session_ended: true };
    }
    // `expiredWhen` says "this token is rejected": on a refresh the token is the refresh
    // token; a login carries none (its 401 is refused below as any 4xx).
    let expired = config.expired_status.contains(&status) || Config::has_code(&config.expired_codes, code);
    if refuses(status) || (call == AuthCall::Refresh && expired) {
        return AuthOutcome::Rejected { session_ended: false };
    }
    if !is_2xx(status) {
        return AuthOutcome::Failed(Error::Http { status });
    }
    if let (Some(env), Some(code)) = (&config.envelope, code) {
        if !env.success.iter().any(|s| s == code) {
            return AuthOutcome::Failed(Error::Business { code: code.to_string() });
        }
    }
    match token::extract(body, now) {
        Some(fresh) => AuthOutcome::Tokens(fresh),
        None => AuthOutcome::Failed(Error::Http { status }),
    }
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
        c.login_required_codes = vec!["40301".into()];
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
        use AuthCall::{Login, Refresh};
        let c = cfg();
        let http = |status, access: Option<&str>, code: Option<&str>| AuthReply::Http {
            status,
            body: AuthBody { access_token: access.map(Into::into), code: code.map(Into::into), ..AuthBody::default() },
        };
        let dead = AuthOutcome::Rejected { session_ended: false };
        let ended = AuthOutcome::Rejected { session_ended: true };
        for call in [Login, Refresh] {
            assert!(matches!(classify_auth(&c, call, &http(200, Some("a"), None), 0), AuthOutcome::Tokens(_)));
            assert!(matches!(classify_auth(&c, call, &http(200, Some("a"), Some("0")), 0), AuthOutcome::Tokens(_)));
            assert!(matches!(classify_auth(&c, call, &http(299, Some("a"), None), 0), AuthOutcome::Tokens(_)));
            // Refused / dead: any 4xx but 408 and 429, and loginRequiredWhen.
            for status in [400, 401, 404, 407, 409, 418, 428, 430, 499] {
                assert_eq!(classify_auth(&c, call, &http(status, Some("a"), None), 0), dead, "{call:?} {status}");
            }
            assert_eq!(classify_auth(&c, call, &http(403, None, None), 0), ended);
            assert_eq!(classify_auth(&c, call, &http(200, Some("a"), Some("40301")), 0), ended);
            // Passing: 408, 429, 5xx, other statuses, 2xx without a usable token.
            for status in [408, 429, 500, 502, 503, 399, 300, 199, 100, 500, 599, 600] {
                assert_eq!(classify_auth(&c, call, &http(status, Some("a"), None), 0), AuthOutcome::Failed(Error::Http { status }), "{call:?} {status}");
            }
            assert_eq!(classify_auth(&c, call, &http(200, None, None), 0), AuthOutcome::Failed(Error::Http { status: 200 }));
            assert_eq!(classify_auth(&c, call, &http(200, Some(""), None), 0), AuthOutcome::Failed(Error::Http { status: 200 }));
            assert_eq!(classify_auth(&c, call, &http(204, None, Some("0")), 0), AuthOutcome::Failed(Error::Http { status: 204 }));
            // An envelope code outside `success` that is no rejection: BUSINESS, tokens or not.
            assert_eq!(
                classify_auth(&c, call, &http(200, Some("a"), Some("7")), 0),
                AuthOutcome::Failed(Error::Business { code: "7".into() })
            );
            // A non-2xx status wins over the envelope code, as for business replies.
            assert_eq!(classify_auth(&c, call, &http(503, None, Some("7")), 0), AuthOutcome::Failed(Error::Http { status: 503 }));
            assert_eq!(
                classify_auth(&c, call, &AuthReply::Transport { message: "fail".into() }, 0),
                AuthOutcome::Failed(Error::Network { message: "fail".into() })
            );
        }
        // expiredWhen.code: the refresh token is dead; a login carries no token, so for it
        // the code is just a code outside `success`.
        assert_eq!(classify_auth(&c, Refresh, &http(200, Some("a"), Some("40101")), 0), dead);
        assert_eq!(classify_auth(&c, Login, &http(200, Some("a"), Some("40101")), 0), AuthOutcome::Failed(Error::Business { code: "40101".into() }));
        // expiredWhen.status outside 4xx: dead for a refresh, passing for a login.
        let mut odd = cfg();
        odd.expired_status = vec![302];
        assert_eq!(classify_auth(&odd, Refresh, &http(302, None, None), 0), dead);
        assert_eq!(classify_auth(&odd, Login, &http(302, None, None), 0), AuthOutcome::Failed(Error::Http { status: 302 }));
        // Without an envelope the code is only looked at for the *When lists.
        let mut plain = Config::default();
        plain.expired_codes = vec!["E".into()];
        assert!(matches!(classify_auth(&plain, Login, &http(200, Some("a"), Some("7")), 0), AuthOutcome::Tokens(_)));
        assert!(matches!(classify_auth(&plain, Login, &http(200, Some("a"), Some("E")), 0), AuthOutcome::Tokens(_)));
        assert_eq!(classify_auth(&plain, Refresh, &http(200, Some("a"), Some("E")), 0), dead);
    }
}
