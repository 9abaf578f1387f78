//! The options the core reads, already typed. The wasm boundary builds a [`Config`] from
//! the JS options object; [`Config::validate`] turns bad values into a `CONFIG` error.

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

impl Config {
    /// Parse the JS options object (`JSON.stringify` of the options without functions and
    /// `platform`, plus `env`) into a config; a wrong type or value is a `CONFIG` error
    /// naming the option. STUB.
    pub fn from_json(text: &str) -> Result<Config, crate::core::Error> {
        let _ = text;
        Ok(Config::default())
    }

    /// Refuse what cannot work: an `http:` base URL outside develop unless the host is
    /// loopback, a malformed base URL or origin. STUB.
    pub fn validate(&self) -> Result<(), crate::core::Error> {
        Ok(())
    }
}
