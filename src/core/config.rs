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

use super::error::Error;
use super::json::{self, Value};
use super::url;

fn err(option: &str, problem: &str) -> Error {
    let mut message = String::with_capacity(option.len() + problem.len() + 10);
    message.push_str("option ");
    message.push_str(option);
    message.push_str(": ");
    message.push_str(problem);
    Error::Config { message }
}

/// A member that is absent or `null` counts as not given.
fn given<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn string_opt(obj: &Value, key: &str, name: &str) -> Result<Option<String>, Error> {
    match given(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(name, "must be a string")),
    }
}

fn nonempty_string_opt(obj: &Value, key: &str, name: &str) -> Result<Option<String>, Error> {
    match string_opt(obj, key, name)? {
        Some(s) if s.is_empty() => Err(err(name, "must not be empty")),
        other => Ok(other),
    }
}

fn status_list(v: &Value, name: &str) -> Result<Vec<u16>, Error> {
    let Value::Array(items) = v else { return Err(err(name, "must be an array of HTTP statuses")) };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Number(n) if *n >= 0.0 && *n <= 999.0 && n.trunc() == *n => out.push(*n as u16),
            Value::String(s) if !s.is_empty() && s.len() <= 3 && s.bytes().all(|c| c.is_ascii_digit()) => {
                out.push(s.bytes().fold(0u16, |a, c| a * 10 + (c - b'0') as u16))
            }
            _ => return Err(err(name, "must be an array of HTTP statuses")),
        }
    }
    Ok(out)
}

fn code_list(v: &Value, name: &str) -> Result<Vec<String>, Error> {
    let Value::Array(items) = v else { return Err(err(name, "must be an array of codes")) };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(_) | Value::Number(_) => out.extend(item.to_code_string()),
            _ => return Err(err(name, "must be an array of numbers or strings")),
        }
    }
    Ok(out)
}

/// `{ status: [..], code: [..] }`; a missing member keeps its default.
fn when(obj: &Value, key: &str, status: &mut Vec<u16>, codes: &mut Vec<String>) -> Result<(), Error> {
    let Some(v) = given(obj, key) else { return Ok(()) };
    if !matches!(v, Value::Object(_)) {
        return Err(err(key, "must be an object { status, code }"));
    }
    if let Some(s) = given(v, "status") {
        let mut name = String::from(key);
        name.push_str(".status");
        *status = status_list(s, &name)?;
    }
    if let Some(c) = given(v, "code") {
        let mut name = String::from(key);
        name.push_str(".code");
        *codes = code_list(c, &name)?;
    }
    Ok(())
}

fn non_negative(obj: &Value, key: &str) -> Result<Option<f64>, Error> {
    match given(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) if *n >= 0.0 => Ok(Some(*n)),
        Some(_) => Err(err(key, "must be a non-negative number")),
    }
}

/// `login` / `refresh`: `false` disables, an object overrides the URL; `Ok(None)` when
/// disabled, `Ok(Some(None))` when the default URL stays.
fn endpoint(obj: &Value, key: &str) -> Result<Option<Option<String>>, Error> {
    match given(obj, key) {
        None | Some(Value::Bool(true)) => Ok(Some(None)),
        Some(Value::Bool(false)) => Ok(None),
        Some(v @ Value::Object(_)) => {
            let mut name = String::from(key);
            name.push_str(".url");
            let u = nonempty_string_opt(v, "url", &name)?;
            name.truncate(key.len());
            name.push_str(".method");
            string_opt(v, "method", &name)?;
            if key == "refresh" {
                nonempty_string_opt(v, "field", "refresh.field")?;
            }
            Ok(Some(u))
        }
        Some(_) => Err(err(key, "must be false or an object { url, method }")),
    }
}

impl Config {
    /// Parse the JS options object (`JSON.stringify` of the options without functions and
    /// `platform`, plus `env`) into a config, then [`Config::validate`] it. A wrong type or
    /// value is a `CONFIG` error naming the option; unknown keys (`storageKey`,
    /// `authHeader`, ... handled in JS) are ignored.
    pub fn from_json(text: &str) -> Result<Config, Error> {
        let root = json::parse(text).ok_or_else(|| err("options", "not valid JSON"))?;
        if !matches!(root, Value::Object(_)) {
            return Err(err("options", "must be an object"));
        }
        let mut c = Config::default();

        c.env = match given(&root, "env") {
            None => EnvVersion::Release,
            Some(Value::String(s)) => match s.as_str() {
                "develop" => EnvVersion::Develop,
                "trial" => EnvVersion::Trial,
                "release" => EnvVersion::Release,
                _ => return Err(err("env", "must be 'develop', 'trial' or 'release'")),
            },
            Some(_) => return Err(err("env", "must be a string")),
        };

        c.base_url = match given(&root, "baseURL") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v @ Value::Object(_)) => {
                let (key, name) = match c.env {
                    EnvVersion::Develop => ("develop", "baseURL.develop"),
                    EnvVersion::Trial => ("trial", "baseURL.trial"),
                    EnvVersion::Release => ("release", "baseURL.release"),
                };
                string_opt(v, key, name)?.ok_or_else(|| err(name, "missing for this environment"))?
            }
            Some(_) => return Err(err("baseURL", "must be a string or { develop, trial, release }")),
        };

        match endpoint(&root, "login")? {
            None => c.login_url = None,
            Some(Some(u)) => c.login_url = Some(u),
            Some(None) => {}
        }
        match endpoint(&root, "refresh")? {
            None => c.refresh_url = None,
            Some(Some(u)) => c.refresh_url = Some(u),
            Some(None) => {}
        }

        if let Some(tf) = given(&root, "tokenFields") {
            if !matches!(tf, Value::Object(_)) {
                return Err(err("tokenFields", "must be an object"));
            }
            if let Some(s) = nonempty_string_opt(tf, "accessToken", "tokenFields.accessToken")? {
                c.token_fields.access_token = s;
            }
            if let Some(s) = nonempty_string_opt(tf, "refreshToken", "tokenFields.refreshToken")? {
                c.token_fields.refresh_token = s;
            }
            if let Some(s) = nonempty_string_opt(tf, "expiresIn", "tokenFields.expiresIn")? {
                c.token_fields.expires_in = s;
            }
        }

        when(&root, "expiredWhen", &mut c.expired_status, &mut c.expired_codes)?;
        when(&root, "loginRequiredWhen", &mut c.login_required_status, &mut c.login_required_codes)?;

        c.envelope = match given(&root, "envelope") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(Envelope { code_path: "code".into(), success: vec!["0".into()] }),
            Some(v @ Value::Object(_)) => {
                let code_path = nonempty_string_opt(v, "code", "envelope.code")?.unwrap_or_else(|| "code".into());
                string_opt(v, "message", "envelope.message")?;
                string_opt(v, "data", "envelope.data")?;
                let success = match given(v, "success") {
                    None => vec!["0".into()],
                    Some(s) => code_list(s, "envelope.success")?,
                };
                Some(Envelope { code_path, success })
            }
            Some(_) => return Err(err("envelope", "must be null or an object { code, message, data, success }")),
        };

        if let Some(secs) = non_negative(&root, "refreshLeeway")? {
            c.refresh_leeway_ms = (secs * 1000.0).round().min(u64::MAX as f64) as u64;
        }
        if let Some(ms) = non_negative(&root, "timeout")? {
            if ms < 1.0 {
                return Err(err("timeout", "must be at least 1 ms"));
            }
            c.timeout_ms = ms.round().min(u64::MAX as f64) as u64;
        }
        c.check_session = match given(&root, "checkSession") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err("checkSession", "must be a boolean")),
        };
        c.allowed_origins = match given(&root, "allowedOrigins") {
            None => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(s) = item else {
                        return Err(err("allowedOrigins", "must be an array of origins"));
                    };
                    out.push(url::origin(s).map_err(|_| err("allowedOrigins", "has a malformed origin"))?);
                }
                Some(out)
            }
            Some(_) => return Err(err("allowedOrigins", "must be an array of origins")),
        };

        c.validate()?;
        Ok(c)
    }

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

    /// Whether `code` (as `String(code)`) is in `list`.
    pub(crate) fn has_code(list: &[String], code: Option<&str>) -> bool {
        code.is_some_and(|c| list.iter().any(|x| x == c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, Error> {
        Config::from_json(s)
    }

    fn msg(r: Result<Config, Error>) -> String {
        match r {
            Err(Error::Config { message }) => message,
            other => panic!("expected CONFIG, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = parse("{}").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(parse(r#"{"storageKey":"x","wasmPath":"y","authHeader":"A","unknown":[1]}"#).unwrap(), Config::default());
    }

    #[test]
    fn full_options() {
        let c = parse(
            r#"{"baseURL":{"develop":"http://dev.local","trial":"https://t.com","release":"https://r.com"},
                "env":"trial","login":{"url":"/l","method":"POST"},"refresh":false,
                "tokenFields":{"accessToken":"data.token"},"expiredWhen":{"code":[40101,"E1"]},
                "loginRequiredWhen":{"status":[403]},"envelope":{"code":"errcode","success":[0,"ok"]},
                "refreshLeeway":30,"timeout":5000,"checkSession":true,"allowedOrigins":["https://x.com/a","HTTPS://Y.com:443"]}"#,
        )
        .unwrap();
        assert_eq!(c.base_url, "https://t.com");
        assert_eq!(c.env, EnvVersion::Trial);
        assert_eq!(c.login_url.as_deref(), Some("/l"));
        assert_eq!(c.refresh_url, None);
        assert_eq!(c.token_fields.access_token, "data.token");
        assert_eq!(c.token_fields.refresh_token, "refreshToken");
        assert_eq!(c.expired_status, vec![401]);
        assert_eq!(c.expired_codes, vec!["40101".to_string(), "E1".to_string()]);
        assert_eq!(c.login_required_status, vec![403]);
        let env = c.envelope.clone().unwrap();
        assert_eq!(env.code_path, "errcode");
        assert_eq!(env.success, vec!["0".to_string(), "ok".to_string()]);
        assert_eq!(c.refresh_leeway_ms, 30_000);
        assert_eq!(c.timeout_ms, 5000);
        assert!(c.check_session);
        assert_eq!(c.allowed_origins, Some(vec!["https://x.com".into(), "https://y.com".into()]));
    }

    #[test]
    fn wrong_types_name_the_option() {
        assert!(msg(parse("[]")).contains("options"));
        assert!(msg(parse("nope")).contains("options"));
        assert!(msg(parse(r#"{"baseURL":3}"#)).contains("baseURL"));
        assert!(msg(parse(r#"{"env":"prod"}"#)).contains("env"));
        assert!(msg(parse(r#"{"login":"yes"}"#)).contains("login"));
        assert!(msg(parse(r#"{"refresh":{"url":5}}"#)).contains("refresh.url"));
        assert!(msg(parse(r#"{"tokenFields":{"expiresIn":1}}"#)).contains("tokenFields.expiresIn"));
        assert!(msg(parse(r#"{"expiredWhen":{"status":["x"]}}"#)).contains("expiredWhen.status"));
        assert!(msg(parse(r#"{"loginRequiredWhen":{"code":[{}]}}"#)).contains("loginRequiredWhen.code"));
        assert!(msg(parse(r#"{"envelope":"code"}"#)).contains("envelope"));
        assert!(msg(parse(r#"{"refreshLeeway":-1}"#)).contains("refreshLeeway"));
        assert!(msg(parse(r#"{"timeout":0}"#)).contains("timeout"));
        assert!(msg(parse(r#"{"checkSession":"true"}"#)).contains("checkSession"));
        assert!(msg(parse(r#"{"allowedOrigins":["nope"]}"#)).contains("allowedOrigins"));
        assert!(msg(parse(r#"{"baseURL":{"develop":"https://d.com"}}"#)).contains("baseURL.release"));
    }

    #[test]
    fn http_base_rule() {
        assert!(msg(parse(r#"{"baseURL":"http://api.com"}"#)).contains("baseURL"));
        assert!(parse(r#"{"baseURL":"http://api.com","env":"develop"}"#).is_ok());
        assert!(parse(r#"{"baseURL":"http://127.0.0.1:3000"}"#).is_ok());
        assert!(parse(r#"{"baseURL":"http://localhost:3000"}"#).is_ok());
        assert!(msg(parse(r#"{"baseURL":"https://a.com","login":{"url":"http://b.com/l"}}"#)).contains("login.url"));
        assert!(msg(parse(r#"{"baseURL":"ftp://a.com"}"#)).contains("baseURL"));
    }

    #[test]
    fn codes_compare_as_strings() {
        let c = parse(r#"{"expiredWhen":{"code":[0,"0"]}}"#).unwrap();
        assert!(Config::has_code(&c.expired_codes, Some("0")));
        assert!(!Config::has_code(&c.expired_codes, None));
    }
}
