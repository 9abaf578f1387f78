//! The options object of `createClient`, read once, here, with serde: wrong types, bad
//! values and unknown names (a typo such as `baseUrl`, or `login: { methd }`) become one
//! `CONFIG` error that names the option. The driver's deserializer decides where the
//! values come from (serde-wasm-bindgen on the JS object in the wasm build, serde_json in
//! native tests); values only JS can use (the platform, `beforeRequest`, `login.data`) stay
//! opaque, of the driver's type `H`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::config::{err, Config, EnvVersion, Envelope, TokenFields};
use super::error::Error;
use super::url;

/// `false` (off), `true` (on with defaults) or an object (on with these settings): the
/// shape of `login`, `refresh` and `envelope`.
#[derive(Debug, Clone, PartialEq)]
pub enum Toggle<T> {
    Off,
    On(T),
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Toggle<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = Toggle<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("false or an object")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Self::Value, E> {
                Ok(if on { Toggle::On(T::default()) } else { Toggle::Off })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Toggle::On)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Field errors carry their dotted path: `@login.methd: unknown option ...`. Each level
/// of [`option_struct!`] prefixes its key; [`read`] turns the path into `option login.methd:`.
fn at_key<E: de::Error>(key: &str, e: E) -> E {
    let inner = e.to_string();
    // serde-wasm-bindgen's errors print as JS errors do ("Error: ...").
    let inner = inner.strip_prefix("Error: ").unwrap_or(&inner);
    match inner.strip_prefix('@') {
        Some(rest) => E::custom(format_args!("@{key}.{rest}")),
        None => E::custom(format_args!("@{key}: {inner}")),
    }
}

/// `Deserialize` for an options object whose members are all optional: read through
/// `deserialize_any`, the one way every deserializer hands over *all* of an object's
/// members (serde-wasm-bindgen's `deserialize_struct` looks up only the fields a struct
/// knows, so a typo such as `baseUrl` would pass unseen), refusing unknown names, and
/// naming the member a bad value sits at. What serde's derive with `deny_unknown_fields`
/// does, plus the path that serde_path_to_error would add at 29 KB of wasm.
macro_rules! option_struct {
    ($name:ident [$($g:ident),*] $what:literal { $($field:ident : $ty:ty = $key:literal),* $(,)? }) => {
        impl<'de $(, $g: Deserialize<'de>)*> Deserialize<'de> for $name<$($g),*> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<$($g),*>(PhantomData<fn() -> ($($g,)*)>);
                impl<'de $(, $g: Deserialize<'de>)*> Visitor<'de> for V<$($g),*> {
                    type Value = $name<$($g),*>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        $(let mut $field: Option<$ty> = None;)*
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $($key => $field = map.next_value::<Option<$ty>>().map_err(|e| at_key($key, e))?,)*
                                other => {
                                    return Err(de::Error::custom(format_args!(
                                        concat!("@{}: unknown option; known here: ", $($key, " "),*),
                                        other
                                    )))
                                }
                            }
                        }
                        Ok($name { $($field),* })
                    }
                }
                d.deserialize_any(V(PhantomData))
            }
        }
    };
}

/// An object read through `deserialize_any` (see [`option_struct!`] for why), for structs
/// that keep serde's derive (the stored session). Anything but an object is refused.
pub(crate) struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Header names and values, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headers(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of header names and text values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value::<String>().map_err(|e| at_key(&k, e))?;
                    out.push((k, v));
                }
                Ok(Headers(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// An envelope or `*When` code: a string, number or boolean, kept as JS's `String(code)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Code(pub String);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Code, E> {
                Ok(Code(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Code, E> {
                Ok(Code(if v { "true" } else { "false" }.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Code, E> {
                Ok(Code(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Code, E> {
                Ok(Code(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Code, E> {
                // JS prints integral numbers without a fraction; codes are integers in
                // practice, other numbers are refused rather than printed differently.
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
                    Ok(Code((v as i64).to_string()))
                } else {
                    Err(E::custom("a code must be a string or an integer"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `expiredWhen` / `loginRequiredWhen`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct When {
    pub status: Option<Vec<u16>>,
    pub code: Option<Vec<Code>>,
}

/// `login` / `refresh` as an object. `H`: a value only the driver can use.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointOption<H> {
    pub url: Option<String>,
    pub method: Option<String>,
    /// Only for `refresh`: the body field of the refresh token.
    pub field: Option<String>,
    /// Extra body fields: an object, or a function of `{ code }` / `{ refreshToken }`.
    pub data: Option<H>,
    /// Headers of this call, over the client's `header`.
    pub header: Option<Headers>,
}

impl<H> Default for EndpointOption<H> {
    fn default() -> Self {
        EndpointOption { url: None, method: None, field: None, data: None, header: None }
    }
}

/// `tokenFields`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenFieldsOption {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<String>,
}

/// `envelope` as an object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvelopeOption {
    pub code: Option<String>,
    pub message: Option<String>,
    pub data: Option<String>,
    pub success: Option<Vec<Code>>,
}

/// `baseURL`: one URL, or one per environment.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseUrl {
    One(String),
    PerEnv(BaseUrlPerEnv),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaseUrlPerEnv {
    pub develop: Option<String>,
    pub trial: Option<String>,
    pub release: Option<String>,
}

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BaseUrl;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a URL or { develop, trial, release }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BaseUrl, E> {
                Ok(BaseUrl::One(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BaseUrl, A::Error> {
                BaseUrlPerEnv::deserialize(MapAccessDeserializer::new(map)).map(BaseUrl::PerEnv)
            }
        }
        d.deserialize_any(V)
    }
}

/// The options object of `createClient`, as given. Every member may be absent or `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options<H> {
    /// Read by the JS facade (it builds the host from it); opaque here.
    pub platform: Option<H>,
    pub base_url: Option<BaseUrl>,
    pub login: Option<Toggle<EndpointOption<H>>>,
    pub refresh: Option<Toggle<EndpointOption<H>>>,
    pub header: Option<Headers>,
    pub max_concurrent: Option<f64>,
    pub token_fields: Option<TokenFieldsOption>,
    pub auth_header: Option<String>,
    pub auth_scheme: Option<String>,
    pub expired_when: Option<When>,
    pub login_required_when: Option<When>,
    pub check_session: Option<bool>,
    pub before_request: Option<H>,
    pub envelope: Option<Toggle<EnvelopeOption>>,
    pub refresh_leeway: Option<f64>,
    pub timeout: Option<f64>,
    pub storage_key: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    /// Read by the JS loader; checked here only for its type.
    pub wasm_path: Option<String>,
}

option_struct!(Options[H] "the options object" {
    platform: H = "platform",
    base_url: BaseUrl = "baseURL",
    login: Toggle<EndpointOption<H>> = "login",
    refresh: Toggle<EndpointOption<H>> = "refresh",
    header: Headers = "header",
    max_concurrent: f64 = "maxConcurrent",
    token_fields: TokenFieldsOption = "tokenFields",
    auth_header: String = "authHeader",
    auth_scheme: String = "authScheme",
    expired_when: When = "expiredWhen",
    login_required_when: When = "loginRequiredWhen",
    check_session: bool = "checkSession",
    before_request: H = "beforeRequest",
    envelope: Toggle<EnvelopeOption> = "envelope",
    refresh_leeway: f64 = "refreshLeeway",
    timeout: f64 = "timeout",
    storage_key: String = "storageKey",
    allowed_origins: Vec<String> = "allowedOrigins",
    wasm_path: String = "wasmPath",
});
option_struct!(EndpointOption[H] "false or { url, method, field, data, header }" {
    url: String = "url",
    method: String = "method",
    field: String = "field",
    data: H = "data",
    header: Headers = "header",
});
option_struct!(When[] "{ status, code }" { status: Vec<u16> = "status", code: Vec<Code> = "code" });
option_struct!(TokenFieldsOption[] "{ accessToken, refreshToken, expiresIn }" {
    access_token: String = "accessToken",
    refresh_token: String = "refreshToken",
    expires_in: String = "expiresIn",
});
option_struct!(EnvelopeOption[] "null or { code, message, data, success }" {
    code: String = "code",
    message: String = "message",
    data: String = "data",
    success: Vec<Code> = "success",
});
option_struct!(BaseUrlPerEnv[] "{ develop, trial, release }" {
    develop: String = "develop",
    trial: String = "trial",
    release: String = "release",
});

/// A login or refresh call as the driver makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCallSettings<H> {
    pub method: String,
    /// The body field that carries the code (`code`) or the refresh token (`refresh.field`).
    pub field: String,
    pub data: Option<H>,
    pub header: Vec<(String, String)>,
}

/// Where an envelope keeps its parts (dotted paths).
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopePaths {
    pub code: String,
    pub message: String,
    pub data: String,
}

/// Everything the options say, checked: the core's [`Config`] and what the driver needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings<H> {
    pub config: Config,
    pub auth_header: String,
    pub auth_scheme: String,
    pub storage_key: String,
    /// The client's default headers, for every call it makes.
    pub header: Vec<(String, String)>,
    pub login: AuthCallSettings<H>,
    pub refresh: AuthCallSettings<H>,
    pub before_request: Option<H>,
    pub envelope: Option<EnvelopePaths>,
    /// Platform network calls in flight at most (`maxConcurrent`).
    pub max_concurrent: u32,
}

/// Read and check the options from `d` for environment `env`. The error names the option
/// (`option login.methd: unknown option ...`).
pub fn read<'de, D, H>(d: D, env: EnvVersion) -> Result<Settings<H>, Error>
where
    D: Deserializer<'de>,
    H: Deserialize<'de>,
{
    let options = Options::<H>::deserialize(d).map_err(|e| {
        let text = e.to_string();
        let text = text.strip_prefix("Error: ").unwrap_or(&text);
        match text.strip_prefix('@') {
            Some(path_and_problem) => Error::Config { message: format!("option {path_and_problem}") },
            None => err("options", text),
        }
    })?;
    options.check(env)
}

/// A header name or scheme with a control character would split the header (rule 9).
fn header_safe(s: &str) -> bool {
    !s.chars().any(|c| c < ' ' || c == '\u{7f}')
}

fn headers(map: Option<Headers>, name: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (k, v) in map.unwrap_or_default().0 {
        if k.is_empty() || !header_safe(&k) || !header_safe(&v) {
            return Err(err(name, "header names and values must be non-empty text without control characters"));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn nonempty(v: Option<String>, name: &str) -> Result<Option<String>, Error> {
    match v {
        Some(s) if s.is_empty() => Err(err(name, "must not be empty")),
        other => Ok(other),
    }
}

fn statuses(list: Vec<u16>, name: &str) -> Result<Vec<u16>, Error> {
    if list.iter().any(|s| !(100..=999).contains(s)) {
        return Err(err(name, "must be HTTP statuses (100-999)"));
    }
    Ok(list)
}

fn codes(list: Vec<Code>) -> Vec<String> {
    list.into_iter().map(|c| c.0).collect()
}

fn when(w: Option<When>, key: &str, status: &mut Vec<u16>, code: &mut Vec<String>) -> Result<(), Error> {
    let Some(w) = w else { return Ok(()) };
    if let Some(s) = w.status {
        *status = statuses(s, &format!("{key}.status"))?;
    }
    if let Some(c) = w.code {
        *code = codes(c);
    }
    Ok(())
}

fn endpoint<H>(
    option: Option<Toggle<EndpointOption<H>>>,
    key: &str,
    default_url: &str,
    default_field: &str,
) -> Result<(Option<String>, AuthCallSettings<H>), Error> {
    let (url, e) = match option {
        Some(Toggle::Off) => (None, EndpointOption::default()),
        None => (Some(default_url.to_string()), EndpointOption::default()),
        Some(Toggle::On(mut e)) => {
            let url = nonempty(e.url.take(), &format!("{key}.url"))?.unwrap_or_else(|| default_url.to_string());
            (Some(url), e)
        }
    };
    let method = nonempty(e.method, &format!("{key}.method"))?.unwrap_or_else(|| "POST".to_string());
    if !header_safe(&method) {
        return Err(err(&format!("{key}.method"), "must not contain control characters"));
    }
    if e.field.is_some() && key == "login" {
        return Err(err("login.field", "only refresh has a field (the login body carries `code`)"));
    }
    let field = nonempty(e.field, &format!("{key}.field"))?.unwrap_or_else(|| default_field.to_string());
    let header = headers(e.header, &format!("{key}.header"))?;
    Ok((url, AuthCallSettings { method, field, data: e.data, header }))
}

impl<H> Options<H> {
    /// Turn the options into [`Settings`], refusing what cannot work.
    pub fn check(self, env: EnvVersion) -> Result<Settings<H>, Error> {
        let mut c = Config { env, ..Config::default() };

        c.base_url = match self.base_url {
            None => String::new(),
            Some(BaseUrl::One(s)) => s,
            Some(BaseUrl::PerEnv(p)) => {
                let (v, name) = match env {
                    EnvVersion::Develop => (p.develop, "baseURL.develop"),
                    EnvVersion::Trial => (p.trial, "baseURL.trial"),
                    EnvVersion::Release => (p.release, "baseURL.release"),
                };
                v.ok_or_else(|| err(name, "missing for this environment"))?
            }
        };

        let (login_url, login) = endpoint(self.login, "login", "/auth/login", "code")?;
        let (refresh_url, refresh) = endpoint(self.refresh, "refresh", "/auth/refresh", "refreshToken")?;
        c.login_url = login_url;
        c.refresh_url = refresh_url;

        if let Some(tf) = self.token_fields {
            let d = TokenFields::default();
            c.token_fields = TokenFields {
                access_token: nonempty(tf.access_token, "tokenFields.accessToken")?.unwrap_or(d.access_token),
                refresh_token: nonempty(tf.refresh_token, "tokenFields.refreshToken")?.unwrap_or(d.refresh_token),
                expires_in: nonempty(tf.expires_in, "tokenFields.expiresIn")?.unwrap_or(d.expires_in),
            };
        }
        when(self.expired_when, "expiredWhen", &mut c.expired_status, &mut c.expired_codes)?;
        when(self.login_required_when, "loginRequiredWhen", &mut c.login_required_status, &mut c.login_required_codes)?;

        let envelope = match self.envelope {
            None | Some(Toggle::Off) => None,
            Some(Toggle::On(e)) => {
                let paths = EnvelopePaths {
                    code: nonempty(e.code, "envelope.code")?.unwrap_or_else(|| "code".into()),
                    message: e.message.unwrap_or_else(|| "message".into()),
                    data: e.data.unwrap_or_else(|| "data".into()),
                };
                let success = e.success.map(codes).unwrap_or_else(|| vec!["0".into()]);
                c.envelope = Some(Envelope { code_path: paths.code.clone(), success });
                Some(paths)
            }
        };

        if let Some(secs) = self.refresh_leeway {
            if !(secs.is_finite() && secs >= 0.0) {
                return Err(err("refreshLeeway", "must be a number of seconds, at least 0"));
            }
            c.refresh_leeway_ms = (secs * 1000.0).round() as u64;
        }
        if let Some(ms) = self.timeout {
            if !(ms.is_finite() && ms >= 1.0) {
                return Err(err("timeout", "must be a number of ms, at least 1"));
            }
            c.timeout_ms = ms.round() as u64;
        }
        let max_concurrent = match self.max_concurrent {
            None => 10,
            Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= 1000.0 => n as u32,
            Some(_) => return Err(err("maxConcurrent", "must be a whole number from 1 to 1000")),
        };
        c.check_session = self.check_session.unwrap_or(false);
        c.allowed_origins = match self.allowed_origins {
            None => None,
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for o in &list {
                    out.push(url::origin(o).map_err(|_| err("allowedOrigins", "has a malformed origin (https://host[:port])"))?);
                }
                Some(out)
            }
        };

        let auth_header = nonempty(self.auth_header, "authHeader")?.unwrap_or_else(|| "Authorization".into());
        if !header_safe(&auth_header) {
            return Err(err("authHeader", "must not contain control characters"));
        }
        let auth_scheme = self.auth_scheme.unwrap_or_else(|| "Bearer".into());
        if !header_safe(&auth_scheme) {
            return Err(err("authScheme", "must not contain control characters"));
        }
        let storage_key = nonempty(self.storage_key, "storageKey")?.unwrap_or_else(|| "tokengate:session".into());
        nonempty(self.wasm_path, "wasmPath")?;
        let header = headers(self.header, "header")?;

        c.validate()?;
        // Rule 9: the login code and the refresh token go only where the access token may.
        let origins = c.token_origins();
        for (u, name) in [(&c.login_url, "login.url"), (&c.refresh_url, "refresh.url")] {
            let Some(u) = u else { continue };
            if c.base_url.is_empty() && !url::is_absolute(u) {
                continue; // refused when used: there is nothing to join it to
            }
            let inside = url::join(&c.base_url, u).and_then(|j| url::origin(&j)).is_ok_and(|o| origins.contains(&o));
            if !inside {
                return Err(err(name, "must be on an origin of allowedOrigins (by default the origin of baseURL)"));
            }
        }
        Ok(Settings {
            config: c,
            auth_header,
            auth_scheme,
            storage_key,
            header,
            login,
            refresh,
            before_request: self.before_request,
            envelope,
            max_concurrent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Opaque = serde::de::IgnoredAny;

    fn parse(s: &str) -> Result<Settings<Opaque>, Error> {
        parse_env(s, EnvVersion::Release)
    }

    fn parse_env(s: &str, env: EnvVersion) -> Result<Settings<Opaque>, Error> {
        let mut d = serde_json::Deserializer::from_str(s);
        read(&mut d, env)
    }

    fn msg(r: Result<Settings<Opaque>, Error>) -> String {
        match r {
            Err(Error::Config { message }) => message,
            other => panic!("expected CONFIG, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let s = parse("{}").unwrap();
        assert_eq!(s.config, Config::default());
        assert_eq!(s.auth_header, "Authorization");
        assert_eq!(s.auth_scheme, "Bearer");
        assert_eq!(s.storage_key, "tokengate:session");
        assert_eq!(s.max_concurrent, 10);
        assert_eq!(s.login.field, "code");
        assert_eq!(s.refresh.field, "refreshToken");
        assert_eq!(s.login.method, "POST");
        let nulls = parse(r#"{"baseURL":null,"login":null,"timeout":null,"envelope":null}"#).unwrap();
        assert_eq!(nulls.config, Config::default());
    }

    #[test]
    fn full_options() {
        let s = parse_env(
            r#"{"baseURL":{"develop":"http://dev.local","trial":"https://t.com","release":"https://r.com"},
                "login":{"url":"/l","method":"PUT","data":{"appId":"x"},"header":{"X-App":"1"}},"refresh":false,
                "tokenFields":{"accessToken":"data.token"},"expiredWhen":{"code":[40101,"E1",true]},
                "loginRequiredWhen":{"status":[403]},"envelope":{"code":"errcode","success":[0,"ok"]},
                "refreshLeeway":30,"timeout":5000,"checkSession":true,"allowedOrigins":["https://x.com/a","HTTPS://Y.com:443","https://t.com"],
                "header":{"X-Tenant":"t"},"maxConcurrent":4,"authHeader":"X-Token","authScheme":"","storageKey":"k",
                "platform":{"request":1},"beforeRequest":"fn","wasmPath":"/w.wasm"}"#,
            EnvVersion::Trial,
        )
        .unwrap();
        let c = &s.config;
        assert_eq!(c.base_url, "https://t.com");
        assert_eq!(c.env, EnvVersion::Trial);
        assert_eq!(c.login_url.as_deref(), Some("/l"));
        assert_eq!(c.refresh_url, None);
        assert_eq!(c.token_fields.access_token, "data.token");
        assert_eq!(c.token_fields.refresh_token, "refreshToken");
        assert_eq!(c.expired_status, vec![401]);
        assert_eq!(c.expired_codes, vec!["40101".to_string(), "E1".to_string(), "true".to_string()]);
        assert_eq!(c.login_required_status, vec![403]);
        let env = c.envelope.clone().unwrap();
        assert_eq!(env.code_path, "errcode");
        assert_eq!(env.success, vec!["0".to_string(), "ok".to_string()]);
        assert_eq!(s.envelope, Some(EnvelopePaths { code: "errcode".into(), message: "message".into(), data: "data".into() }));
        assert_eq!(c.refresh_leeway_ms, 30_000);
        assert_eq!(c.timeout_ms, 5000);
        assert!(c.check_session);
        assert_eq!(c.allowed_origins, Some(vec!["https://x.com".into(), "https://y.com".into(), "https://t.com".into()]));
        assert_eq!(s.header, vec![("X-Tenant".to_string(), "t".to_string())]);
        assert_eq!(s.login.header, vec![("X-App".to_string(), "1".to_string())]);
        assert_eq!(s.login.method, "PUT");
        assert!(s.login.data.is_some());
        assert!(s.before_request.is_some());
        assert_eq!(s.max_concurrent, 4);
        assert_eq!(s.auth_header, "X-Token");
        assert_eq!(s.auth_scheme, "");
        assert_eq!(s.storage_key, "k");
    }

    #[test]
    fn unknown_options_are_named() {
        let m = msg(parse(r#"{"baseUrl":"https://a.com"}"#));
        assert!(m.contains("baseUrl"), "{m}");
        let m = msg(parse(r#"{"login":{"methd":"GET"}}"#));
        assert!(m.starts_with("option login"), "{m}");
        assert!(m.contains("methd"), "{m}");
        let m = msg(parse(r#"{"envelope":{"sucess":[0]}}"#));
        assert!(m.contains("envelope") && m.contains("sucess"), "{m}");
        let m = msg(parse(r#"{"tokenFields":{"access":"x"}}"#));
        assert!(m.contains("tokenFields") && m.contains("access"), "{m}");
        assert!(msg(parse(r#"{"login":{"field":"x"}}"#)).contains("login.field"));
    }

    #[test]
    fn wrong_types_name_the_option() {
        for (json, name) in [
            ("[]", "options"),
            ("3", "options"),
            (r#"{"baseURL":3}"#, "baseURL"),
            (r#"{"login":"yes"}"#, "login"),
            (r#"{"login":true,"refresh":{"url":5}}"#, "refresh.url"),
            (r#"{"refresh":{"url":""}}"#, "refresh.url"),
            (r#"{"tokenFields":{"expiresIn":1}}"#, "tokenFields.expiresIn"),
            (r#"{"tokenFields":{"expiresIn":""}}"#, "tokenFields.expiresIn"),
            (r#"{"expiredWhen":{"status":["401"]}}"#, "expiredWhen.status"),
            (r#"{"expiredWhen":{"status":[40100]}}"#, "expiredWhen.status"),
            (r#"{"expiredWhen":{"status":[99]}}"#, "expiredWhen.status"),
            (r#"{"expiredWhen":{"status":[401.5]}}"#, "expiredWhen.status"),
            (r#"{"expiredWhen":{"code":[[1]]}}"#, "expiredWhen.code"),
            (r#"{"loginRequiredWhen":{"code":[{}]}}"#, "loginRequiredWhen.code"),
            (r#"{"loginRequiredWhen":{"code":[1.5]}}"#, "loginRequiredWhen.code"),
            (r#"{"envelope":"code"}"#, "envelope"),
            (r#"{"refreshLeeway":-1}"#, "refreshLeeway"),
            (r#"{"timeout":0}"#, "timeout"),
            (r#"{"timeout":0.4}"#, "timeout"),
            (r#"{"timeout":"5"}"#, "timeout"),
            (r#"{"checkSession":"true"}"#, "checkSession"),
            (r#"{"allowedOrigins":["nope"]}"#, "allowedOrigins"),
            (r#"{"allowedOrigins":"https://a.com"}"#, "allowedOrigins"),
            (r#"{"baseURL":{"develop":"https://d.com"}}"#, "baseURL.release"),
            (r#"{"baseURL":{"prod":"https://d.com"}}"#, "baseURL"),
            (r#"{"maxConcurrent":0}"#, "maxConcurrent"),
            (r#"{"maxConcurrent":2.5}"#, "maxConcurrent"),
            (r#"{"header":{"X":1}}"#, "header"),
            (r#"{"header":{"X\nY":"1"}}"#, "header"),
            (r#"{"header":{"X":"a\r\nb"}}"#, "header"),
            (r#"{"authHeader":"X\r\nEvil"}"#, "authHeader"),
            (r#"{"authHeader":""}"#, "authHeader"),
            (r#"{"authScheme":"Bearer\n"}"#, "authScheme"),
            (r#"{"storageKey":""}"#, "storageKey"),
            (r#"{"wasmPath":7}"#, "wasmPath"),
            (r#"{"login":{"header":{"A":"\u0000"}}}"#, "login.header"),
        ] {
            let m = msg(parse(json));
            assert!(m.starts_with(&format!("option {name}")), "{json}: {m}");
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(parse(r#"{"timeout":1}"#).unwrap().config.timeout_ms, 1);
        assert_eq!(parse(r#"{"refreshLeeway":0}"#).unwrap().config.refresh_leeway_ms, 0);
        assert_eq!(parse(r#"{"maxConcurrent":1}"#).unwrap().max_concurrent, 1);
        assert_eq!(parse(r#"{"expiredWhen":{"status":[100,999]}}"#).unwrap().config.expired_status, vec![100, 999]);
        assert!(parse(r#"{"baseURL":"https://a.com:65535"}"#).is_ok());
        assert!(parse(r#"{"baseURL":"http://[::1]:8080"}"#).is_ok());
        assert!(msg(parse(r#"{"baseURL":"https://a.com:65536"}"#)).contains("baseURL"));
    }

    #[test]
    fn login_and_refresh_stay_inside_the_allowed_origins() {
        assert!(parse(r#"{"baseURL":"https://a.com","login":{"url":"https://a.com:443/l"}}"#).is_ok());
        assert!(msg(parse(r#"{"baseURL":"https://a.com","refresh":{"url":"https://evil.com/r"}}"#)).starts_with("option refresh.url"));
        assert!(msg(parse(r#"{"baseURL":"https://a.com","login":{"url":"https://auth.a.com/l"}}"#)).starts_with("option login.url"));
        assert!(parse(r#"{"baseURL":"https://a.com","allowedOrigins":["https://a.com","https://auth.a.com"],"login":{"url":"https://auth.a.com/l"}}"#).is_ok());
        // allowedOrigins replaces the default: the base origin is then no longer in it.
        assert!(msg(parse(r#"{"baseURL":"https://a.com","allowedOrigins":["https://b.com"]}"#)).starts_with("option login.url"));
        assert!(parse(r#"{"baseURL":"https://a.com","allowedOrigins":["https://b.com"],"login":false,"refresh":false}"#).is_ok());
        assert!(msg(parse(r#"{"login":{"url":"https://a.com/l"}}"#)).starts_with("option login.url"));
    }

    #[test]
    fn http_base_rule() {
        assert!(msg(parse(r#"{"baseURL":"http://api.com"}"#)).contains("baseURL"));
        assert!(parse_env(r#"{"baseURL":"http://api.com"}"#, EnvVersion::Develop).is_ok());
        assert!(parse(r#"{"baseURL":"http://127.0.0.1:3000"}"#).is_ok());
        assert!(parse(r#"{"baseURL":"http://localhost:3000"}"#).is_ok());
        assert!(msg(parse(r#"{"baseURL":"https://a.com","login":{"url":"http://b.com/l"}}"#)).contains("login.url"));
        assert!(msg(parse(r#"{"baseURL":"ftp://a.com"}"#)).contains("baseURL"));
    }

    /// A JS object as serde-wasm-bindgen 0.6 hands it over: `deserialize_any` visits every
    /// member, but `deserialize_struct` looks up only the fields the struct knows (and
    /// reads an array by those names), so `deny_unknown_fields` alone never sees a typo.
    #[derive(Clone)]
    struct JsLike(serde_json::Value);

    impl<'de> de::IntoDeserializer<'de, de::value::Error> for JsLike {
        type Deserializer = JsLike;
        fn into_deserializer(self) -> JsLike {
            self
        }
    }

    impl<'de> Deserializer<'de> for JsLike {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            use serde_json::Value as J;
            match self.0 {
                J::Null => v.visit_unit(),
                J::Bool(b) => v.visit_bool(b),
                J::Number(n) => match n.as_i64() {
                    Some(i) => v.visit_i64(i),
                    None => v.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
                },
                J::String(s) => v.visit_string(s),
                J::Array(a) => v.visit_seq(de::value::SeqDeserializer::new(a.into_iter().map(JsLike))),
                J::Object(m) => v.visit_map(de::value::MapDeserializer::new(m.into_iter().map(|(k, x)| (k, JsLike(x))))),
            }
        }
        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            if self.0.is_null() { v.visit_none() } else { v.visit_some(self) }
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Self::Error> {
            let known = |get: &dyn Fn(&str) -> Option<serde_json::Value>| -> Vec<(String, JsLike)> {
                fields.iter().filter_map(|f| get(f).map(|x| (f.to_string(), JsLike(x)))).collect()
            };
            let members = match &self.0 {
                serde_json::Value::Object(m) => known(&|f| m.get(f).cloned()),
                serde_json::Value::Array(_) => Vec::new(),
                _ => return self.deserialize_any(v),
            };
            v.visit_map(de::value::MapDeserializer::new(members.into_iter()))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    fn parse_js(s: &str) -> Result<Settings<Opaque>, Error> {
        read(JsLike(serde_json::from_str(s).unwrap()), EnvVersion::Release)
    }

    #[test]
    fn unknown_options_are_named_whatever_the_deserializer() {
        for (json, name) in [
            (r#"{"baseUrl":"https://a.com"}"#, "baseUrl"),
            (r#"{"tokenFields":{"access":"x"}}"#, "access"),
            (r#"{"expiredWhen":{"sttus":[401]}}"#, "sttus"),
            (r#"{"loginRequiredWhen":{"codes":[1]}}"#, "codes"),
            (r#"{"login":{"methd":"GET"}}"#, "methd"),
            (r#"{"baseURL":{"prod":"https://a.com"}}"#, "prod"),
        ] {
            let m = msg(parse_js(json));
            assert!(m.starts_with("option ") && m.contains(name), "{json}: {m}");
        }
        // An array is no options object (nor any of its object options).
        for json in [r#"[null,"https://a.com"]"#, r#"{"tokenFields":["t","r","e"]}"#, r#"{"expiredWhen":[[401],[]]}"#] {
            assert!(matches!(parse_js(json), Err(Error::Config { .. })), "{json}");
            assert!(matches!(parse(json), Err(Error::Config { .. })), "{json}");
        }
        let ok = parse_js(r#"{"baseURL":"https://a.com","tokenFields":{"accessToken":"t"},"expiredWhen":{"status":[419]},"timeout":5}"#).unwrap();
        assert_eq!(ok.config.base_url, "https://a.com");
        assert_eq!(ok.config.token_fields.access_token, "t");
        assert_eq!(ok.config.expired_status, vec![419]);
        assert_eq!(ok.config.timeout_ms, 5);
    }

    #[test]
    fn codes_compare_as_strings() {
        let c = parse(r#"{"expiredWhen":{"code":[0,"0"]}}"#).unwrap().config;
        assert!(Config::has_code(&c.expired_codes, Some("0")));
        assert!(!Config::has_code(&c.expired_codes, None));
        assert_eq!(c.reply_code_path(), Some("code"));
        assert_eq!(Config::default().reply_code_path(), None);
    }
}
