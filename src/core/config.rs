//! The options the core reads, already typed and checked: built from the JS options object by
//! [`super::options`]; [`Config::validate`] turns values that cannot work into `CONFIG`.

/// Which build of the mini-program runs (`getAccountInfoSync().miniProgram.envVersion`);
/// `Release` where that is unknown (Node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvVersion {
    Develop,
    Trial,
    Release,
}

/// Dotted paths of the token set inside a login/refresh body (`'data.token'`).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFields {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: String,
}

impl Default for TokenFields {
    fn default() -> Self {
        TokenFields {
            access_token: "accessToken".into(),
            refresh_token: "refreshToken".into(),
            expires_in: "expiresIn".into(),
        }
    }
}

/// A business envelope `{ code, message, data }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Dotted path of the code in the body.
    pub code_path: String,
    /// Codes (as `String(code)`) that mean success.
    pub success: Vec<String>,
}

/// Everything the core needs to know of the client's options.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `baseURL` already chosen for the environment; `""` allowed (then every URL must be
    /// absolute).
    pub base_url: String,
    pub env: EnvVersion,
    /// Origins (`https://host[:port]`) whose URLs get the token. `None`: the origin of
    /// `base_url`.
    pub allowed_origins: Option<Vec<String>>,
    /// Silent login URL (relative or absolute); `None` when `login: false`.
    pub login_url: Option<String>,
    /// Refresh URL; `None` when `refresh: false`.
    pub refresh_url: Option<String>,
    pub token_fields: TokenFields,
    /// `expiredWhen.status` / `.code`: the access token was rejected.
    pub expired_status: Vec<u16>,
    pub expired_codes: Vec<String>,
    /// `loginRequiredWhen.status` / `.code`: the session is over.
    pub login_required_status: Vec<u16>,
    pub login_required_codes: Vec<String>,
    /// `None`: no envelope; bodies are not checked for a business code.
    pub envelope: Option<Envelope>,
    /// `refreshLeeway` in ms (capped at half a token's lifetime).
    pub refresh_leeway_ms: u64,
    /// `timeout` in ms, for every request, login and refresh.
    pub timeout_ms: u64,
    /// Trust a stored session only after `platform.checkSession` succeeds.
    pub check_session: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: String::new(),
            env: EnvVersion::Release,
            allowed_origins: None,
            login_url: Some("/auth/login".into()),
            refresh_url: Some("/auth/refresh".into()),
            token_fields: TokenFields::default(),
            expired_status: vec![401],
            expired_codes: Vec::new(),
            login_required_status: Vec::new(),
            login_required_codes: Vec::new(),
            envelope: None,
            refresh_leeway_ms: 60_000,
            timeout_ms: 15_000,
            check_session: false,
        }
    }
}

use super::error::Error;
use super::url;

/// A `CONFIG` error about option `option` (a dotted path: `login.url`).
pub(crate) fn err(option: &str, problem: &str) -> Error {
    let mut message = String::with_capacity(option.len() + problem.len() + 10);
    message.push_str("option ");
    message.push_str(option);
    message.push_str(": ");
    message.push_str(problem);
    Error::Config { message }
}

impl Config {
    /// Refuse what cannot work: an `http:` base URL outside develop unless the host is
    /// loopback, a malformed base URL, origin or login/refresh URL, a zero timeout.
    pub fn validate(&self) -> Result<(), Error> {
        if !self.base_url.is_empty() {
            let p = url::parse(&self.base_url).map_err(|_| err("baseURL", "malformed URL"))?;
            url::check_transport(&p, self.env).map_err(|_| err("baseURL", "http: refused outside develop unless loopback"))?;
        }
        if let Some(list) = &self.allowed_origins {
            for o in list {
                url::parse(o).map_err(|_| err("allowedOrigins", "has a malformed origin"))?;
            }
        }
        for (u, name) in [(&self.login_url, "login.url"), (&self.refresh_url, "refresh.url")] {
            if let Some(u) = u {
                // A relative endpoint with no baseURL is only refused when it is used (the
                // login/refresh call then fails), so `{}` stays a valid options object.
                if self.base_url.is_empty() && !url::is_absolute(u) {
                    continue;
                }
                let joined = url::join(&self.base_url, u).map_err(|_| err(name, "malformed URL"))?;
                if let Ok(p) = url::parse(&joined) {
                    url::check_transport(&p, self.env).map_err(|_| err(name, "http: refused outside develop unless loopback"))?;
                }
            }
        }
        if self.timeout_ms == 0 {
            return Err(err("timeout", "must be at least 1 ms"));
        }
        Ok(())
    }

    /// The origins whose URLs get the token: `allowed_origins` normalised, else the origin
    /// of `base_url` (none when it is empty or malformed).
    pub(crate) fn token_origins(&self) -> Vec<String> {
        match &self.allowed_origins {
            Some(list) => list.iter().filter_map(|o| url::origin(o).ok()).collect(),
            None => url::origin(&self.base_url).ok().into_iter().collect(),
        }
    }

    /// Where a login/refresh body keeps its code: `envelope.code`, else `code`.
    pub fn auth_code_path(&self) -> &str {
        self.envelope.as_ref().map_or("code", |e| e.code_path.as_str())
    }

    /// Where a business reply keeps the code the core looks at: `envelope.code`, or `code`
    /// when only `expiredWhen.code` / `loginRequiredWhen.code` are set; `None` when no code
    /// matters (the driver then reads nothing from the body).
    pub fn reply_code_path(&self) -> Option<&str> {
        match &self.envelope {
            Some(e) => Some(e.code_path.as_str()),
            None if !self.expired_codes.is_empty() || !self.login_required_codes.is_empty() => Some("code"),
            None => None,
        }
    }

    /// Whether `code` (as `String(code)`) is in `list`.
    pub(crate) fn has_code(list: &[String], code: Option<&str>) -> bool {
        code.is_some_and(|c| list.iter().any(|x| x == c))
    }
}

