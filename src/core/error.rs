//! The errors a request can settle with; one variant per error code of docs/API.md.

/// Why a request was rejected. Each variant is one `code` of `TokenGateError`.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// `NETWORK`: the transport failed (`fail` of `wx.request`); `message` is its errMsg.
    Network { message: String },
    /// `TIMEOUT`: the request, or the refresh/login it waited for, ran past `timeout`.
    Timeout,
    /// `HTTP`: a status outside 2xx that is not a token rejection.
    Http { status: u16 },
    /// `BUSINESS`: the envelope code is not a success code.
    Business { code: String },
    /// `UNAUTHORIZED`: rejected again after a fresh token was obtained.
    Unauthorized { status: u16 },
    /// `LOGIN_REQUIRED`: the session could not be restored without the user.
    LoginRequired { reason: LoginRequiredReason },
    /// `ABORTED`: the caller aborted.
    Aborted,
    /// `CONFIG`: bad options or a bad URL.
    Config { message: String },
}

impl Error {
    /// The `code` of the `TokenGateError` this becomes in JS.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Network { .. } => "NETWORK",
            Error::Timeout => "TIMEOUT",
            Error::Http { .. } => "HTTP",
            Error::Business { .. } => "BUSINESS",
            Error::Unauthorized { .. } => "UNAUTHORIZED",
            Error::LoginRequired { .. } => "LOGIN_REQUIRED",
            Error::Aborted => "ABORTED",
            Error::Config { .. } => "CONFIG",
        }
    }
}

/// Why the session needs the user (the `reason` of `LOGIN_REQUIRED` and `'loginRequired'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRequiredReason {
    /// Silent login is disabled (`login: false`) and no usable token is left.
    LoginDisabled,
    /// Silent login was tried and failed.
    LoginFailed,
    /// The server said the session is over (`loginRequiredWhen`).
    SessionEnded,
    /// `logout()` was called; only `login()` or `setSession()` bring a session back.
    LoggedOut,
}

impl LoginRequiredReason {
    /// The string JS sees in `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginRequiredReason::LoginDisabled => "loginDisabled",
            LoginRequiredReason::LoginFailed => "loginFailed",
            LoginRequiredReason::SessionEnded => "sessionEnded",
            LoginRequiredReason::LoggedOut => "logout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_api_code() {
        let reason = LoginRequiredReason::LoggedOut;
        for (e, code) in [
            (Error::Network { message: "m".into() }, "NETWORK"),
            (Error::Timeout, "TIMEOUT"),
            (Error::Http { status: 500 }, "HTTP"),
            (Error::Business { code: "7".into() }, "BUSINESS"),
            (Error::Unauthorized { status: 401 }, "UNAUTHORIZED"),
            (Error::LoginRequired { reason }, "LOGIN_REQUIRED"),
            (Error::Aborted, "ABORTED"),
            (Error::Config { message: "m".into() }, "CONFIG"),
        ] {
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn every_reason_has_its_api_string() {
        for (r, s) in [
            (LoginRequiredReason::LoginDisabled, "loginDisabled"),
            (LoginRequiredReason::LoginFailed, "loginFailed"),
            (LoginRequiredReason::SessionEnded, "sessionEnded"),
            (LoginRequiredReason::LoggedOut, "logout"),
        ] {
            assert_eq!(r.as_str(), s);
        }
    }
}
