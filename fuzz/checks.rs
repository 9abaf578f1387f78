//! Property checks shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly +
//! libFuzzer) and by `tests/fuzz_regressions.rs` (stable `cargo test`), which replays every
//! checked-in corpus file and crash reproducer through exactly these functions.
//!
//! Each `check_*` takes one raw fuzz input and panics when a property does not hold. The
//! inputs come from outside the core: login/refresh bodies and stored sessions (JSON text,
//! read the way the driver reads them: serde_json into `StoredSession`, a `Body` view of
//! the parsed body for `AuthBody::read`), the options object (JSON text through
//! serde_json into `options::read`), URLs, envelope codes.
//!
//! Included with `#[path = ...] mod checks;`; only uses the public API of
//! `tokengate::core`, serde, serde_json and std (and the `Json` body view of
//! `tests/common/json.rs`).

#![allow(dead_code)]

use serde_json::Value;
use tokengate::core::url;
use tokengate::core::{
    AuthBody, AuthCallId, AuthReply, Body, Command, Config, Core, EnvVersion, Envelope, Error, Event, Input,
    LoginRequiredReason, NewSession, Reply, RequestId, StoredSession, Submit, TokenFields,
};

#[path = "../tests/common/json.rs"]
mod json_view;
pub use json_view::{json_of, Json};

// ------------------------------------------------------------------ static text

/// The core's sources: a CONFIG message must be made of literals found in them (see
/// `assert_static_config_message`).
const VOCAB: &[&str] = &[
    include_str!("../src/core/config.rs"),
    include_str!("../src/core/options.rs"),
    include_str!("../src/core/url.rs"),
    include_str!("../src/core/error.rs"),
    include_str!("../src/core/classify.rs"),
    include_str!("../src/core/session.rs"),
    include_str!("../src/core/token.rs"),
    include_str!("../src/core/body.rs"),
    include_str!("../src/core/mod.rs"),
];

fn is_static(s: &str) -> bool {
    VOCAB.iter().any(|v| v.contains(s))
}

// ------------------------------------------------------------------ input reader

/// Reads fuzz bytes; past the end every read gives 0.
pub struct Reader<'a> {
    d: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    pub fn new(d: &'a [u8]) -> Self {
        Reader { d, i: 0 }
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.d.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        b
    }
    /// The rest as text (invalid UTF-8 replaced), split on NUL into at most `n` parts.
    pub fn parts(&mut self, n: usize) -> Vec<String> {
        let rest = self.d.get(self.i..).unwrap_or(&[]);
        self.i = self.d.len();
        let text = String::from_utf8_lossy(rest);
        let mut v: Vec<String> = text.splitn(n, '\0').map(str::to_string).collect();
        v.resize(n, String::new());
        v
    }
}

/// An HTTP status from one byte: the interesting ones first, then a spread up to 1020.
pub fn status_of(b: u8) -> u16 {
    const TABLE: [u16; 16] = [200, 401, 403, 500, 201, 204, 299, 300, 302, 404, 502, 0, 199, 400, 503, 999];
    if (b as usize) < TABLE.len() {
        TABLE[b as usize]
    } else {
        b as u16 * 4
    }
}

// ------------------------------------------------------------------ url

/// The origin a WHATWG URL parser (Node's `URL`, browsers) gives an `http(s)` URL, for the
/// hosts this model covers: ASCII hostnames without percent escapes, and IPv4 written as a
/// canonical dotted quad. `None`: not an http(s) URL, a parse failure, or outside the
/// model (IPv6, IDNA, percent-encoded or non-canonical numeric hosts).
pub fn whatwg_origin(u: &str) -> Option<String> {
    // Leading/trailing C0 controls and spaces are stripped; tabs and newlines anywhere.
    let t = u.trim_matches(|c: char| c <= ' ');
    let t: String = t.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let colon = t.find(':')?;
    let scheme = t[..colon].to_ascii_lowercase();
    let https = match scheme.as_str() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    // Special schemes: any run of '/' and '\' before the authority is skipped.
    let rest = t[colon + 1..].trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let mut authority = &rest[..end];
    if let Some(at) = authority.rfind('@') {
        authority = &authority[at + 1..];
    }
    if authority.starts_with('[') {
        return None; // IPv6: not modelled.
    }
    let (host, port) = match authority.find(':') {
        Some(c) => (&authority[..c], Some(&authority[c + 1..])),
        None => (authority, None),
    };
    if host.is_empty() || !host.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'~')) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    if host.split('.').any(|l| l.starts_with("xn--")) {
        return None; // IDNA: not modelled.
    }
    if ends_in_number(&host) && !is_canonical_quad(&host) {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let p = p.trim_start_matches('0');
            if p.len() > 5 {
                return None;
            }
            let n: u32 = if p.is_empty() { 0 } else { p.parse().ok()? };
            if n > 65535 {
                return None;
            }
            if n == if https { 443 } else { 80 } {
                None
            } else {
                Some(n)
            }
        }
    };
    let mut o = String::from(if https { "https://" } else { "http://" });
    o.push_str(&host);
    if let Some(p) = port {
        o.push(':');
        o.push_str(&p.to_string());
    }
    Some(o)
}

/// WHATWG "ends in a number": the last label (after one trailing dot) is all digits or 0x..
fn ends_in_number(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    let last = h.rsplit('.').next().unwrap_or("");
    (!last.is_empty() && last.bytes().all(|c| c.is_ascii_digit()))
        || (last.len() >= 2 && last[..2].eq_ignore_ascii_case("0x") && last[2..].bytes().all(|c| c.is_ascii_hexdigit()))
}

fn is_canonical_quad(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().map_or(false, |n| n <= 255)
        })
}

/// Whether the core's host is one a WHATWG parser keeps as is, so the two origins must
/// be equal strings.
fn comparable(p: &url::Parsed) -> bool {
    !p.host.starts_with('[')
        && p.host.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'_' | b'~'))
        && !p.host.split('.').any(|l| l.starts_with("xn--"))
        && (!ends_in_number(&p.host) || is_canonical_quad(&p.host))
}

/// Known core bugs that the fuzz targets may step around so that a long run can go on and
/// find other things; `tests/fuzz_regressions.rs` checks the reproducers strictly.
#[derive(Clone, Copy)]
pub struct Exempt {
    /// Skip the WHATWG comparison for URLs with a `\\` (a backslash ends the authority for
    /// WHATWG). Was needed before src/core 3718f9b; no longer used.
    pub backslash: bool,
    /// Finding 2 (docs/FUZZING.md): accept, as the core does today, an access token that is
    /// not a valid HTTP header value (CR, LF, NUL, other controls). Strictly, a login/refresh
    /// body whose access token cannot go into the auth header has no usable access token
    /// (a 2xx body without an access token: `HTTP`), and no such token is ever sent.
    pub header_unsafe_tokens: bool,
}

pub const STRICT: Exempt = Exempt { backslash: false, header_unsafe_tokens: false };
/// What the fuzz targets and the corpus replay run with.
pub const KNOWN: Exempt = Exempt { backslash: false, header_unsafe_tokens: false };

/// Whether `s` can be an HTTP header value (RFC 9110 field-value: no control character but
/// HTAB). `fetch`'s `Headers` throws on CR/LF/NUL with the whole value in its message.
/// The core (ccd984f) refuses HTAB too, which is stricter than RFC 9110 and fine.
pub fn header_safe(s: &str) -> bool {
    !s.chars().any(|c| c < ' ' || c == '\u{7f}')
}

/// An extra WHATWG oracle (the `url` crate in the fuzz target): URL -> origin.
pub type Oracle<'a> = &'a dyn Fn(&str) -> Option<String>;

fn assert_same_origin(what: &str, u: &str, core_origin: &str, oracle: Option<Oracle>) {
    if let Some(w) = whatwg_origin(u) {
        assert_eq!(core_origin, w, "{what}: core origin differs from the WHATWG origin for {u:?}");
    }
    if let Some(o) = oracle {
        if let Some(w) = o(u) {
            assert_eq!(core_origin, w, "{what}: core origin differs from the url crate's origin for {u:?}");
        }
    }
}

/// A CONFIG message is static text: a literal of the core's sources, or
/// `option <name>: <problem>` with a static problem and a name made of static segments
/// (`expiredWhen` + `.status`). Nothing from the input can be in it.
pub fn assert_static_config_message(what: &str, message: &str) {
    if is_static(message) {
        return;
    }
    let ok = message.strip_prefix("option ").and_then(|rest| rest.split_once(": ")).map_or(false, |(name, problem)| {
        is_static(problem) && !name.is_empty() && name.split('.').all(|seg| !seg.is_empty() && is_static(seg))
    });
    assert!(ok, "{what}: CONFIG message is not static text: {message:?}");
}

fn assert_config_error(what: &str, e: &Error) {
    match e {
        Error::Config { message } => assert_static_config_message(what, message),
        other => panic!("{what}: expected a CONFIG error, got {other:?}"),
    }
}

/// URLs: input is `base NUL url` (or just `url`, joined to `https://api.test`).
/// `parse` / `origin` / `join` never panic; an origin is lowercase, idempotent and equal to
/// what a WHATWG parser calls for plain hosts; `join` gives a parseable URL that keeps the
/// base's origin for relative input; errors never quote the URL; and a core holding a
/// token sends it only to the URLs whose WHATWG origin is allowed.
pub fn check_url(data: &[u8], exempt: Exempt, oracle: Option<Oracle>) {
    let text = String::from_utf8_lossy(data);
    let (base, u) = match text.split_once('\0') {
        Some((b, u)) => (b.to_string(), u.to_string()),
        None => ("https://api.test".to_string(), text.to_string()),
    };
    let skip_oracle = |s: &str| exempt.backslash && s.contains('\\');

    for x in [&u, &base] {
        match url::parse(x) {
            Ok(p) => {
                assert!(url::is_absolute(x));
                assert!(!p.host.is_empty());
                assert!(!p.host.bytes().any(|c| c.is_ascii_uppercase()), "host not lowercase: {:?}", p.host);
                let o = p.origin();
                assert_eq!(url::origin(x).as_deref(), Ok(o.as_str()));
                assert!(o.starts_with("https://") || o.starts_with("http://"));
                assert!(!o.bytes().any(|c| c.is_ascii_uppercase()), "origin not lowercase: {o:?}");
                assert_eq!(url::origin(&o).as_deref(), Ok(o.as_str()), "origin not idempotent");
                assert_eq!(url::parse(&o).as_ref(), Ok(&p));
                if let Some(port) = p.port {
                    assert_ne!(port, if p.https { 443 } else { 80 }, "default port kept");
                }
                assert!(url::check_transport(&p, EnvVersion::Develop).is_ok());
                assert_eq!(url::check_transport(&p, EnvVersion::Release).is_ok(), p.https || p.is_loopback());
                if p.is_loopback() {
                    assert!(url::is_loopback_host(&p.host));
                }
                if comparable(&p) && !skip_oracle(x) {
                    assert_same_origin("parse", x, &o, oracle);
                }
            }
            Err(e) => assert_config_error("url::parse", &e),
        }
    }

    match url::join(&base, &u) {
        Ok(j) => {
            let pj = url::parse(&j).unwrap_or_else(|e| panic!("join gave {j:?} that does not parse: {e:?}"));
            if url::is_absolute(&u) {
                assert_eq!(j, u, "an absolute URL is used as is");
            } else {
                let expected = format!("{}/{}", base.trim_end_matches('/'), u.trim_start_matches('/'));
                assert_eq!(j, expected, "exactly one '/' between base and path");
                if let Ok(pb) = url::parse(&base) {
                    assert_eq!(pj.origin(), pb.origin(), "a relative URL changed the origin: {base:?} + {u:?}");
                    if comparable(&pb) && !skip_oracle(&j) {
                        assert_same_origin("join", &j, &pb.origin(), oracle);
                    }
                }
            }
        }
        Err(e) => assert_config_error("url::join", &e),
    }

    // End to end: the token goes only where a WHATWG client would reach an allowed origin.
    let base_ok = url::parse(&base).map_or(false, |p| p.https && comparable(&p));
    if base_ok && !skip_oracle(&base) {
        let allowed = url::origin(&base).unwrap();
        let mut cfg = Config::default();
        cfg.base_url = base.clone();
        let mut d = Driver::new(cfg, 1_000);
        d.feed(Input::Stored(Some(stored(STORED_ACCESS, Some(STORED_REFRESH), None, None))));
        let cmds = d.feed(submit(1, &u, true));
        for c in &cmds {
            match c {
                Command::Send { url: sent, token: Some(t), .. } => {
                    assert_eq!(t, STORED_ACCESS);
                    assert_eq!(url::origin(sent).as_deref(), Ok(allowed.as_str()));
                    if !skip_oracle(sent) {
                        if let Some(w) = whatwg_origin(sent) {
                            assert_eq!(w, allowed, "token sent to {sent:?}, which a WHATWG client calls at {w}");
                        }
                        if let Some(o) = oracle {
                            if let Some(w) = o(sent) {
                                assert_eq!(w, allowed, "token sent to {sent:?}, which the url crate calls at {w}");
                            }
                        }
                    }
                }
                Command::Send { token: None, .. } => {}
                Command::Settle { result: Err(e), .. } => assert_config_error("submit", e),
                other => panic!("unexpected command for a submit in Valid: {other:?}"),
            }
        }
    }
}

// ------------------------------------------------------------------ config

/// The options (first path segment of a CONFIG message) that API.md names, and `options`
/// for the object as a whole.
const OPTION_NAMES: &[&str] = &[
    "options", "platform", "baseURL", "login", "refresh", "header", "maxConcurrent", "tokenFields", "authHeader",
    "authScheme", "expiredWhen", "loginRequiredWhen", "checkSession", "beforeRequest", "envelope", "refreshLeeway",
    "timeout", "storageKey", "allowedOrigins", "wasmPath",
];

/// Read an options object given as JSON text, as the driver does with the JS object
/// (values only JS can use stay opaque: `IgnoredAny`).
pub fn read_options(text: &str, env: EnvVersion) -> Result<tokengate::core::Settings<serde::de::IgnoredAny>, Error> {
    let mut d = serde_json::Deserializer::from_str(text);
    tokengate::core::options::read::<_, serde::de::IgnoredAny>(&mut d, env)
}

/// A refused options object: a CONFIG error `option <name>: <problem>` whose name starts
/// with an option of API.md, or is the unknown member the problem names
/// (`option baseUrl: unknown field `baseUrl``), or `?` for JSON text that does not parse
/// (text only: a JS object always parses). serde's messages quote the offending value or
/// key (`invalid type: string "x"`): options are the developer's own text, so only the
/// shape is checked here, not that the message is static.
fn assert_option_error(text: &str, e: &Error) {
    let Error::Config { message } = e else { panic!("options {text:?}: expected CONFIG, got {e:?}") };
    let rest = message.strip_prefix("option ").unwrap_or_else(|| panic!("CONFIG message without `option `: {message:?}"));
    // An unknown member is named as given, and its name may hold ": " itself.
    if rest.contains(": unknown option; known here: ") {
        return;
    }
    let (name, problem) = rest.split_once(": ").unwrap_or_else(|| panic!("CONFIG message says no problem: {message:?}"));
    assert!(!problem.is_empty(), "CONFIG message says no problem: {message:?}");
    let first = name.split(['.', '[']).next().unwrap_or(""); // `allowedOrigins[1]`
    // The unknown member itself may hold dots (`option a.b: unknown field `a.b``); the
    // core's own reader says `unknown option; known here: ...` after the member's path.
    let unknown = problem.starts_with("unknown option")
        || std::iter::once(name)
            .chain(name.match_indices('.').map(|(i, _)| &name[i + 1..]))
            .any(|field| problem.starts_with(&format!("unknown field `{field}`")));
    assert!(OPTION_NAMES.contains(&first) || unknown || name == "?", "CONFIG message names no option: {message:?}");
}

/// Options objects (JSON text through serde_json into `options::read`, in each
/// environment): never panics, deterministic; accepted => `Config::validate()` ok, timeout
/// at least 1 ms, baseURL parses and obeys the http rule, allowedOrigins normalised, the
/// auth header, scheme and every header are header-safe, `maxConcurrent` in 1..=1000, the
/// login and refresh URLs on an allowed origin (or relative with no baseURL), and
/// a core built from it survives storage + four requests + logout; refused => a CONFIG
/// error naming the option.
pub fn check_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for env in [EnvVersion::Release, EnvVersion::Trial, EnvVersion::Develop] {
        let got = read_options(&text, env);
        assert_eq!(read_options(&text, env), got, "options::read not deterministic");
        let s = match got {
            Ok(s) => s,
            Err(e) => {
                assert_option_error(&text, &e);
                continue;
            }
        };
        let c = s.config;
        assert_eq!(c.env, env);
        assert_eq!(c.validate(), Ok(()), "options::read accepted what validate refuses");
        assert!(c.timeout_ms >= 1);
        if !c.base_url.is_empty() {
            let p = url::parse(&c.base_url).expect("accepted baseURL parses");
            assert!(url::check_transport(&p, c.env).is_ok(), "http: baseURL accepted outside develop");
        }
        if let Some(list) = &c.allowed_origins {
            for o in list {
                assert_eq!(url::origin(o).as_deref(), Ok(o.as_str()), "allowedOrigins not normalised");
            }
        }
        assert!(!s.auth_header.is_empty() && header_safe(&s.auth_header), "authHeader {:?}", s.auth_header);
        assert!(header_safe(&s.auth_scheme), "authScheme {:?}", s.auth_scheme);
        assert!(!s.storage_key.is_empty());
        for (k, v) in s.header.iter().chain(&s.login.header).chain(&s.refresh.header) {
            assert!(!k.is_empty() && header_safe(k) && header_safe(v), "header {k:?}: {v:?}");
        }
        for call in [&s.login, &s.refresh] {
            assert!(!call.method.is_empty() && header_safe(&call.method) && !call.field.is_empty());
        }
        assert!((1..=1000).contains(&s.max_concurrent));
        // Rule 9: the login code and the refresh token go only where the access token may.
        let origins: Vec<String> = match &c.allowed_origins {
            Some(list) => list.clone(),
            None => url::origin(&c.base_url).ok().into_iter().collect(),
        };
        for u in [&c.login_url, &c.refresh_url].into_iter().flatten() {
            if let Ok(joined) = url::join(&c.base_url, u) {
                let o = url::origin(&joined).expect("an accepted endpoint has an origin");
                assert!(origins.contains(&o), "endpoint {joined:?} outside the allowed origins {origins:?}");
            } else {
                assert!(c.base_url.is_empty() && !url::is_absolute(u), "endpoint {u:?} accepted but does not join");
            }
        }
        if let Some(e) = &c.envelope {
            assert_eq!(s.envelope.as_ref().map(|p| p.code.as_str()), Some(e.code_path.as_str()));
        }
        let mut d = Driver::new(c.clone(), 5_000);
        d.feed(Input::Stored(Some(stored(STORED_ACCESS, Some(STORED_REFRESH), None, None))));
        for (i, u) in ["/x", "https://api.test/y", "http://127.0.0.1/z", "x?q=1"].into_iter().enumerate() {
            d.feed(submit(i as u32 + 1, u, true));
        }
        d.feed(Input::Logout);
    }
}

// ------------------------------------------------------------------ the core, driven

pub const STORED_ACCESS: &str = "stored-access-Q7";
pub const STORED_REFRESH: &str = "stored-refresh-Q7";

fn stored(access: &str, refresh: Option<&str>, expires_at: Option<u64>, lifetime: Option<u64>) -> StoredSession {
    StoredSession {
        access_token: access.into(),
        refresh_token: refresh.map(Into::into),
        expires_at: expires_at.map(|n| n as f64),
        lifetime: lifetime.map(|n| n as f64),
    }
}

/// A stored value given as text, read as the driver reads storage: `None` unless it is of
/// the stored shape.
pub fn stored_of(text: &str) -> Option<StoredSession> {
    serde_json::from_str(text).ok()
}

/// What the core reads of a login/refresh body given as text (JSON, or the text itself).
pub fn body_of(text: &str, config: &Config) -> AuthBody {
    AuthBody::read(&Json(json_of(text)), config)
}

/// The value at a dotted path, walked apart from the core (`body::at_path`): each segment
/// an object member or an array index, empty segments included.
pub fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for key in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn submit(id: u32, u: &str, auth: bool) -> Input {
    Input::Submit(Submit { id: RequestId(id), url: u.into(), auth, timeout_ms: None })
}

/// A core and the checks run after every input (rule 9 checked structurally, so it holds
/// for any token text): `Business` / `Network` errors carry only what the driver fed in,
/// `Config` messages are static text, other errors, events and the core's `Debug` hold no
/// string at all; no request settles twice.
pub struct Driver {
    pub core: Core,
    pub now: u64,
    pub fed_codes: Vec<String>,
    pub fed_messages: Vec<String>,
    pub settled: Vec<RequestId>,
}

impl Driver {
    pub fn new(config: Config, now: u64) -> Driver {
        Driver {
            core: Core::new(config),
            now,
            fed_codes: Vec::new(),
            fed_messages: Vec::new(),
            settled: Vec::new(),
        }
    }

    pub fn feed(&mut self, input: Input) -> Vec<Command> {
        match &input {
            Input::Response { reply: Reply::Http { code: Some(c), .. }, .. } => self.fed_codes.push(c.clone()),
            Input::AuthReply { reply: AuthReply::Http { body: AuthBody { code: Some(c), .. }, .. }, .. } => {
                self.fed_codes.push(c.clone())
            }
            Input::Response { reply: Reply::Transport { message }, .. }
            | Input::AuthReply { reply: AuthReply::Transport { message }, .. } => self.fed_messages.push(message.clone()),
            Input::PlatformLogin { result: Err(m), .. } => self.fed_messages.push(m.clone()),
            _ => {}
        }
        self.core.handle(self.now, input);
        let cmds: Vec<Command> = std::iter::from_fn(|| self.core.poll_command()).collect();
        for c in &cmds {
            match c {
                Command::Settle { id, result, .. } => {
                    assert!(!self.settled.contains(id), "request {id:?} settled twice");
                    self.settled.push(*id);
                    if let Err(e) = result {
                        self.check_error(e);
                    }
                }
                // Events carry no strings at all: nothing can leak through them.
                Command::Emit(e) => assert!(!format!("{e:?}").contains('"'), "event with a string: {e:?}"),
                _ => {}
            }
        }
        // The core's Debug (what a log line would show) prints no string at all: a token
        // would show up quoted.
        let dbg = format!("{:?}", self.core);
        assert!(!dbg.contains('"'), "Core Debug prints a string: {dbg}");
        cmds
    }

    fn check_error(&self, e: &Error) {
        match e {
            Error::Business { code } => assert!(self.fed_codes.contains(code), "BUSINESS code {code:?} was never fed"),
            // A `platform.login` "success" without a code fails with the core's static text.
            Error::Network { message } => assert!(
                self.fed_messages.contains(message) || message == "platform.login gave no code",
                "NETWORK message {message:?} was never fed"
            ),
            Error::Config { message } => assert_static_config_message("CONFIG error", message),
            // The other variants hold no string: nothing can leak through them.
            other => assert!(!format!("{other:?}").contains('"'), "error with a string: {other:?}"),
        }
    }
}

/// A config from one byte: envelope, token field paths, codes, disabled endpoints.
pub fn config_of(b: u8) -> Config {
    let mut c = Config::default();
    c.base_url = "https://api.test".into();
    if b & 1 != 0 {
        c.envelope = Some(Envelope { code_path: if b & 128 != 0 { "data.code".into() } else { "code".into() }, success: vec!["0".into()] });
    }
    c.token_fields = match (b >> 1) & 3 {
        0 => TokenFields::default(),
        1 => TokenFields {
            access_token: "data.accessToken".into(),
            refresh_token: "data.refreshToken".into(),
            expires_in: "data.expiresIn".into(),
        },
        2 => TokenFields { access_token: "t".into(), refresh_token: "r".into(), expires_in: "e".into() },
        _ => TokenFields { access_token: "a.b.c".into(), refresh_token: "a.r".into(), expires_in: "expiresIn".into() },
    };
    if b & 8 != 0 {
        c.expired_codes = vec!["40101".into(), "E_TOKEN".into()];
    }
    if b & 16 != 0 {
        c.login_required_status = vec![403];
        c.login_required_codes = vec!["40301".into()];
    }
    if b & 32 != 0 {
        c.refresh_url = None;
    }
    if b & 64 != 0 {
        c.check_session = true;
    }
    c
}

/// What the core must make of a login/refresh reply (a model of docs/API.md, written
/// apart from the core).
#[derive(Debug, PartialEq)]
enum Outcome {
    Tokens { access: String, refresh: Option<String>, expires_at: Option<u64> },
    /// A refused login / a dead refresh token (rule 6, "Refresh failures").
    Rejected { session_ended: bool },
    /// A passing failure: its waiters reject with this error, the next request retries.
    Failed(Error),
}

fn expires_at_of(now: u64, secs: Option<f64>) -> Option<u64> {
    let secs = secs.filter(|s| s.is_finite())?;
    let ms = (secs.max(0.0) * 1000.0).round();
    let ms = if ms >= u64::MAX as f64 { u64::MAX } else { ms as u64 };
    Some(now.saturating_add(ms))
}

fn auth_outcome(c: &Config, is_login: bool, status: u16, body: &str, now: u64, exempt: Exempt) -> Outcome {
    let v = json_of(body);
    let code_path = c.envelope.as_ref().map_or("code", |e| e.code_path.as_str());
    let code = value_at(&v, code_path).and_then(|x| Json(x.clone()).code());
    let has = |list: &[String]| code.as_ref().map_or(false, |x| list.contains(x));
    if c.login_required_status.contains(&status) || has(&c.login_required_codes) {
        return Outcome::Rejected { session_ended: true };
    }
    // Refused / dead: any 4xx but 408 and 429; a token rejection only means something for
    // the refresh call (a login carries no token).
    let refused = (400..500).contains(&status) && status != 408 && status != 429;
    let expired = c.expired_status.contains(&status) || has(&c.expired_codes);
    if refused || (!is_login && expired) {
        return Outcome::Rejected { session_ended: false };
    }
    if !(200..300).contains(&status) {
        return Outcome::Failed(Error::Http { status });
    }
    if let (Some(env), Some(code)) = (&c.envelope, &code) {
        if !env.success.contains(code) {
            return Outcome::Failed(Error::Business { code: code.clone() });
        }
    }
    let usable = |s: &&str| !s.is_empty() && (exempt.header_unsafe_tokens || header_safe(s));
    if let Some(access) = value_at(&v, &c.token_fields.access_token).and_then(Value::as_str).filter(usable) {
        let refresh = value_at(&v, &c.token_fields.refresh_token).and_then(Value::as_str).filter(|s| !s.is_empty());
        let secs = value_at(&v, &c.token_fields.expires_in).and_then(|x| Json(x.clone()).number());
        return Outcome::Tokens { access: access.to_string(), refresh: refresh.map(str::to_string), expires_at: expires_at_of(now, secs) };
    }
    Outcome::Failed(Error::Http { status })
}

/// The persisted session, read back apart from the core: `(access, refresh, expiresAt)`.
/// It must survive the JSON text a storage may keep, and its times are whole ms.
fn read_persisted(s: &StoredSession) -> (String, Option<String>, Option<u64>) {
    let text = serde_json::to_string(s).expect("a persisted session serializes");
    assert_eq!(stored_of(&text).as_ref(), Some(s), "persisted session does not read back: {text}");
    for t in [s.expires_at, s.lifetime].into_iter().flatten() {
        assert!(t.is_finite() && t >= 0.0 && t.fract() == 0.0, "persisted time {t}");
    }
    (s.access_token.clone(), s.refresh_token.clone(), s.expires_at.map(|n| n as u64))
}

/// Rule 10 at the text level: whether `text` is a JSON object of the stored shape
/// (`accessToken` a string; `refreshToken` a string or null; times numbers or null);
/// `None` when serde_json does not read it as a value at all. Anything of another shape
/// must read as no session. (serde_json's struct reader skips members it does not know
/// without checking their escapes, so text with a lone surrogate in such a member is read
/// as a session while it is no JSON value: `None` here, not checked.)
fn stored_shape(text: &str) -> Option<bool> {
    let v = serde_json::from_str::<Value>(text).ok()?;
    let Value::Object(m) = v else { return Some(false) };
    Some(
    matches!(m.get("accessToken"), Some(Value::String(_)))
        && matches!(m.get("refreshToken"), None | Some(Value::Null) | Some(Value::String(_)))
        && ["expiresAt", "lifetime"].iter().all(|k| matches!(m.get(*k), None | Some(Value::Null) | Some(Value::Number(_)))))
}

/// The stored-session model of rule 10, written apart from the core:
/// `(access, refresh, expiresAt, lifetime)` or none.
fn stored_model(s: &StoredSession) -> Option<(String, Option<String>, Option<u64>, Option<u64>)> {
    // An access token that cannot go into a header is no token (finding 2).
    let access = Some(s.access_token.clone()).filter(|a| !a.is_empty() && header_safe(a))?;
    let refresh = s.refresh_token.clone().filter(|r| !r.is_empty());
    let ms = |v: Option<f64>| -> Result<Option<u64>, ()> {
        match v {
            None => Ok(None),
            Some(n) if n >= 0.0 => Ok(Some(if n >= u64::MAX as f64 { u64::MAX } else { n as u64 })),
            Some(_) => Err(()), // negative or NaN
        }
    };
    Some((access, refresh, ms(s.expires_at).ok()?, ms(s.lifetime).ok()?))
}

fn sends(cmds: &[Command]) -> Vec<(RequestId, Option<String>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send { id, token, .. } => Some((*id, token.clone())),
            _ => None,
        })
        .collect()
}

fn persisted(cmds: &[Command]) -> Vec<&StoredSession> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Persist { session } => Some(session),
            _ => None,
        })
        .collect()
}

fn find_call(cmds: &[Command]) -> Option<(AuthCallId, bool)> {
    cmds.iter().find_map(|c| match c {
        Command::PlatformLogin { call } => Some((*call, true)),
        Command::PostRefresh { call, .. } => Some((*call, false)),
        _ => None,
    })
}

/// Stored sessions (rule 10): input is `cfg-byte clock-byte text`; the text is read as the
/// driver reads storage (serde_json into `StoredSession`). Text that is not JSON or not of
/// the stored shape is no session; a session read is then fed once as read and once with
/// one time (or the access token) replaced by what a JS object may hold and JSON text
/// cannot (NaN, +-Infinity, -0, negative, 2^64; a control character), chosen by the clock
/// byte's high bits. Garbage never yields a session; a well-formed one yields exactly its
/// tokens: a request is sent with the stored access token, refreshed with the stored
/// refresh token, or triggers a login, as its expiry says; no stored string ever shows up
/// in an error.
pub fn check_stored(data: &[u8]) {
    let mut r = Reader::new(data);
    let cfg = config_of(r.u8());
    let clock = r.u8();
    let text = r.parts(1).remove(0);
    let now: u64 = match clock % 4 {
        0 => 1_000,
        1 => 1_700_000_000_000,
        2 => 0,
        _ => u64::MAX - 1,
    };
    let typed = stored_of(&text);
    if stored_shape(&text) == Some(false) {
        assert!(typed.is_none(), "text {text:?} is not of the stored shape but read as {typed:?}");
    }
    check_stored_value(&cfg, now, typed.clone());
    if let Some(mut s) = typed {
        const ODD: [f64; 8] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, -1.0, 1e300, 18446744073709551616.0, 0.5];
        let k = (clock >> 2) as usize;
        match k & 3 {
            0 => s.expires_at = Some(ODD[(k >> 2) % 8]),
            1 => s.lifetime = Some(ODD[(k >> 2) % 8]),
            2 => s.access_token.push(['\n', '\r', '\0', '\u{7f}'][(k >> 2) % 4]),
            _ => s.refresh_token = Some(String::new()),
        }
        check_stored_value(&cfg, now, Some(s));
    }
}

fn check_stored_value(cfg: &Config, now: u64, value: Option<StoredSession>) {
    let model = value.as_ref().and_then(stored_model);
    let mut d = Driver::new(cfg.clone(), now);
    let cmds = d.feed(Input::Stored(value.clone()));
    assert!(sends(&cmds).is_empty());
    assert!(persisted(&cmds).is_empty(), "reading storage must not write it");
    let checking = cmds.contains(&Command::CheckSession);
    assert_eq!(checking, model.is_some() && cfg.check_session, "checkSession asked iff a session was read and the option is on");
    if checking {
        d.feed(Input::CheckSession { ok: true });
    }
    let info = d.core.session(now);
    assert_eq!(info.logged_in, model.is_some(), "stored value {value:?}: logged_in must be {}", model.is_some());
    let Some((access, refresh, expires_at, lifetime)) = model else {
        assert_eq!(info.expires_at, None);
        let cmds = d.feed(submit(1, "/x", true));
        assert!(sends(&cmds).is_empty(), "garbage storage led to a send: {cmds:?}");
        assert!(cmds.iter().any(|c| matches!(c, Command::PlatformLogin { .. })), "no session -> silent login: {cmds:?}");
        return;
    };
    assert_eq!(info.expires_at, expires_at);
    let cmds = d.feed(submit(1, "/x", true));
    let leeway = match lifetime {
        Some(l) => cfg.refresh_leeway_ms.min(l / 2),
        None => cfg.refresh_leeway_ms,
    };
    let in_leeway = expires_at.map_or(false, |at| now.saturating_add(leeway) >= at);
    let expired = expires_at.map_or(false, |at| now >= at);
    let can_refresh = cfg.refresh_url.is_some() && refresh.is_some();
    if can_refresh && in_leeway {
        assert_eq!(
            cmds.iter().find_map(|c| match c {
                Command::PostRefresh { refresh_token, .. } => Some(refresh_token.clone()),
                _ => None,
            }),
            refresh,
            "{cmds:?}"
        );
        assert!(sends(&cmds).is_empty());
    } else if expired {
        assert!(cmds.iter().any(|c| matches!(c, Command::PlatformLogin { .. })), "expired, no refresh -> login: {cmds:?}");
        assert!(sends(&cmds).is_empty());
    } else {
        assert_eq!(sends(&cmds), vec![(RequestId(1), Some(access.clone()))]);
        // A token rejection of the stored token: refresh with the stored refresh token, or log in.
        let cmds = d.feed(Input::Response { id: RequestId(1), reply: Reply::Http { status: 401, code: None } });
        assert!(sends(&cmds).is_empty());
        match cmds.iter().find_map(|c| match c {
            Command::PostRefresh { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        }) {
            Some(rt) => assert_eq!(Some(rt), refresh),
            None => assert!(!can_refresh && cmds.iter().any(|c| matches!(c, Command::PlatformLogin { .. })), "{cmds:?}"),
        }
    }
    d.feed(Input::Logout);
    assert!(!d.core.session(now).logged_in);
}

/// Login / refresh bodies and envelope codes: input is
/// `cfg mode status1 status2 status3 body1 NUL body2 NUL code`.
/// A login (mode even) or a refresh of a stored session (mode odd) is answered with
/// `status1 body1`; the request is then answered with `status3 code` (an envelope code),
/// and a second login/refresh this may start is answered with `status2 body2`.
/// At every step the outcome is the model's (`Outcome`: tokens, refused login / dead
/// refresh token, or a passing failure with its code, from API.md rule 6, "Refresh
/// failures" and "Login and refresh bodies"); every token sent is the one the last
/// accepted body carried at the configured path (or the stored one before any); every
/// refresh call carries the newest refresh token and a dead one is never sent or
/// persisted again; a passing failure forgets nothing and fires no 'loginRequired'; no
/// string of either body appears in any error or event but its envelope code in
/// `BUSINESS`; every request settles at most once.
pub fn check_auth(data: &[u8], exempt: Exempt) {
    let mut r = Reader::new(data);
    let cfg = config_of(r.u8());
    let mode = r.u8();
    let (s1, s2, s3) = (status_of(r.u8()), status_of(r.u8()), status_of(r.u8()));
    let parts = r.parts(3);
    let (body1, body2, code) = (&parts[0], &parts[1], &parts[2]);
    let now = 1_700_000_000_000u64;
    let mut d = Driver::new(cfg.clone(), now);

    // Current tokens as the model sees them.
    let mut access: Option<String>;
    let mut refresh: Option<String>;
    let refresh_first = mode & 1 == 1 && cfg.refresh_url.is_some();
    let mut cmds = if refresh_first {
        // Stored session inside the leeway: the first request refreshes.
        let c = d.feed(Input::Stored(Some(stored(STORED_ACCESS, Some(STORED_REFRESH), Some(now + 1), Some(3_600_000)))));
        if c.contains(&Command::CheckSession) {
            d.feed(Input::CheckSession { ok: true });
        }
        access = Some(STORED_ACCESS.into());
        refresh = Some(STORED_REFRESH.into());
        d.feed(submit(1, "/x", true))
    } else {
        d.feed(Input::Stored(None));
        access = None;
        refresh = None;
        d.feed(submit(1, "/x", true))
    };

    // Refresh tokens a refresh call was told are dead.
    let mut dead: Vec<String> = Vec::new();
    let mut replies = vec![(s1, body1.as_str()), (s2, body2.as_str())];
    replies.reverse();
    let mut answered_request = false;
    for _round in 0..4 {
        let Some((call, is_login)) = find_call(&cmds) else {
            // No call to answer: answer the request (envelope code), once.
            if answered_request {
                break;
            }
            let Some((_, tok)) = sends(&cmds).into_iter().find(|(id, _)| *id == RequestId(1)) else { break };
            assert_eq!(tok, access, "a request went out with a token that is not the current one");
            answered_request = true;
            let code = if code.is_empty() { None } else { Some(code.clone()) };
            cmds = d.feed(Input::Response { id: RequestId(1), reply: Reply::Http { status: s3, code } });
            check_sends(&cmds, &access, exempt);
            continue;
        };
        let Some((status, body)) = replies.pop() else { break };
        let outcome = auth_outcome(&cfg, is_login, status, body, now, exempt);
        if is_login {
            let c = d.feed(Input::PlatformLogin { call, result: Ok("wx-code".into()) });
            assert!(c.iter().any(|c| matches!(c, Command::PostLogin { call: x, .. } if *x == call)), "{c:?}");
            assert!(sends(&c).is_empty());
        }
        cmds = d.feed(Input::AuthReply { call, reply: AuthReply::Http { status, body: body_of(body, &cfg) } });
        let emitted = |e: Event| cmds.contains(&Command::Emit(e));
        match &outcome {
            Outcome::Tokens { access: a, refresh: rt, expires_at } => {
                let p = persisted(&cmds);
                assert_eq!(p.len(), 1, "{cmds:?}");
                let (pa, pr, pe) = read_persisted(p[0]);
                let new_refresh = if is_login { rt.clone() } else { rt.clone().or(refresh.clone()) };
                assert_eq!(&pa, a, "persisted access token is not the body's");
                assert_eq!(pr, new_refresh, "persisted refresh token");
                // Persisted as a JSON number: exact up to 2^53, like JS.
                assert_eq!(pe, expires_at.map(|x| x as f64 as u64), "persisted expiresAt");
                access = Some(a.clone());
                refresh = new_refresh;
                assert!(emitted(if is_login { Event::Login { ok: true } } else { Event::Refresh { ok: true } }));
                let info = d.core.session(now);
                assert!(info.logged_in);
                assert_eq!(info.expires_at, *expires_at);
            }
            Outcome::Rejected { session_ended } => {
                assert!(persisted(&cmds).is_empty(), "{outcome:?}: nothing may be persisted, got {cmds:?}");
                if is_login {
                    // Refused: LOGIN_REQUIRED for the waiters, 'loginRequired' once, sticky.
                    assert!(emitted(Event::Login { ok: false }));
                    assert!(emitted(Event::LoginRequired { reason: LoginRequiredReason::LoginFailed }), "{cmds:?}");
                    assert!(!d.core.session(now).logged_in);
                } else {
                    // The refresh token is dead: forgotten, never sent or persisted again.
                    assert!(emitted(Event::Refresh { ok: false }));
                    assert!(cmds.contains(&Command::ForgetStored), "{cmds:?}");
                    if cfg.login_url.is_some() {
                        assert!(cmds.iter().any(|c| matches!(c, Command::PlatformLogin { .. })), "rejected refresh -> login: {cmds:?}");
                    } else {
                        let reason = if *session_ended { LoginRequiredReason::SessionEnded } else { LoginRequiredReason::LoginDisabled };
                        assert!(emitted(Event::LoginRequired { reason }));
                    }
                    dead.extend(refresh.take());
                }
                access = None;
                refresh = None;
            }
            Outcome::Failed(err) => {
                assert!(persisted(&cmds).is_empty(), "{outcome:?}: nothing may be persisted, got {cmds:?}");
                assert!(!cmds.contains(&Command::ForgetStored), "a passing failure forgets nothing: {cmds:?}");
                assert!(!cmds.iter().any(|c| matches!(c, Command::Emit(Event::LoginRequired { .. }))), "{cmds:?}");
                let settled_with_it = cmds.iter().any(|c| matches!(c, Command::Settle { result: Err(e), .. } if e == err));
                assert!(settled_with_it || d.settled.contains(&RequestId(1)), "waiters reject with {err:?}: {cmds:?}");
                if is_login {
                    assert!(emitted(Event::Login { ok: false }));
                    assert!(!d.core.session(now).logged_in);
                    access = None;
                    refresh = None;
                } else {
                    assert!(emitted(Event::Refresh { ok: false }));
                    assert!(d.core.session(now).logged_in, "a failed refresh keeps the tokens");
                }
            }
        }
        for c in &cmds {
            match c {
                Command::PostRefresh { refresh_token: r, .. } => assert!(!dead.contains(r), "a dead refresh token is sent again"),
                Command::Persist { session } => {
                    assert!(!session.refresh_token.as_ref().is_some_and(|r| dead.contains(r)), "a dead refresh token is persisted again")
                }
                _ => {}
            }
        }
        check_sends(&cmds, &access, exempt);
        if let Some(rt) = cmds.iter().find_map(|c| match c {
            Command::PostRefresh { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        }) {
            assert_eq!(Some(rt), refresh, "the refresh call must carry the newest refresh token");
        }
    }

    // A fresh request goes out with the current token, or waits, or is refused: never another token.
    let c = d.feed(submit(2, "/y", true));
    check_sends(&c, &access, exempt);
    let c = d.feed(Input::Logout);
    assert!(sends(&c).is_empty());
}

fn check_sends(cmds: &[Command], access: &Option<String>, exempt: Exempt) {
    for (id, tok) in sends(cmds) {
        if let Some(t) = &tok {
            assert!(exempt.header_unsafe_tokens || header_safe(t), "request {id:?} sent with a token that is no header value: {t:?}");
        }
        assert!(tok.is_some(), "request {id:?} to the base origin went out without a token");
        assert_eq!(&tok, access, "request {id:?} sent with a token that did not come from the last accepted body");
    }
}

// ------------------------------------------------------------------ whole sessions

/// Whole sessions: input is `ops... 0xFF pool` where `pool` is NUL-separated texts used,
/// in turn, as stored values, login/refresh bodies, envelope codes, platform messages and
/// `setSession` tokens. Any order of inputs (late, duplicate, unknown ids included).
/// After every input: no panic; a token is sent only to the base origin and only as the
/// current token (the last one persisted, or read from storage), never after the session
/// was forgotten; a refresh call carries the current refresh token; persisted tokens are
/// tokens that came in from outside; no pool text shows up in an error; every request
/// settles at most once.
pub fn check_session(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0xFF).unwrap_or(data.len().min(64));
    let (ops, rest) = data.split_at(split);
    let rest = rest.get(1..).unwrap_or(&[]);
    let text = String::from_utf8_lossy(rest);
    let mut pool: Vec<String> = text.split('\0').map(str::to_string).collect();
    if pool.len() == 1 && pool[0].is_empty() {
        pool = vec![r#"{"accessToken":"A1","refreshToken":"R1","expiresIn":60}"#.into(), "40101".into()];
    }
    let mut ops = Reader::new(ops);
    let cfg = config_of(ops.u8());
    let mut pool_i = 0usize;
    let mut next = |pool: &Vec<String>| {
        let s = pool[pool_i % pool.len()].clone();
        pool_i += 1;
        s
    };

    let mut d = Driver::new(cfg.clone(), 1_000);
    let mut introduced_access: Vec<String> = Vec::new();
    let mut introduced_refresh: Vec<String> = Vec::new();
    let mut current: Option<(String, Option<String>)> = None;
    let mut open_call: Option<AuthCallId> = None;
    let mut next_id = 1u32;
    // Storage is read only while the core still waits for it (setSession/logout win).
    let mut loading = true;

    let mut step = 0;
    while ops.i < ops.d.len() && step < 200 {
        step += 1;
        let op = ops.u8();
        let arg = ops.u8();
        let input = match op % 13 {
            0 => {
                let u = ["/x", "https://api.test/y", "https://other.test/z", "x?q=1", "http://api.test/w"][arg as usize % 5];
                let id = next_id;
                next_id += 1;
                submit(id, u, arg & 128 == 0)
            }
            1 => {
                let code = if arg & 1 == 0 { None } else { Some(next(&pool)) };
                Input::Response { id: RequestId(arg as u32 % next_id.max(1)), reply: Reply::Http { status: status_of(ops.u8()), code } }
            }
            2 => Input::Response { id: RequestId(arg as u32 % next_id.max(1)), reply: Reply::Transport { message: next(&pool) } },
            3 => {
                let call = open_call.unwrap_or(AuthCallId(arg as u32));
                let result = if arg & 1 == 0 { Ok("wx-code".to_string()) } else { Err(next(&pool)) };
                Input::PlatformLogin { call, result }
            }
            4 => {
                let call = if arg & 64 == 0 { open_call.unwrap_or(AuthCallId(1)) } else { AuthCallId(arg as u32 & 7) };
                let text = next(&pool);
                // Tokens that may come in with this body, read apart from the core.
                let v = json_of(&text);
                for path in [&cfg.token_fields.access_token, &cfg.token_fields.refresh_token] {
                    if let Some(s) = value_at(&v, path).and_then(Value::as_str) {
                        introduced_access.push(s.to_string());
                        introduced_refresh.push(s.to_string());
                    }
                }
                Input::AuthReply { call, reply: AuthReply::Http { status: status_of(ops.u8()), body: body_of(&text, &cfg) } }
            }
            5 => Input::AuthReply { call: open_call.unwrap_or(AuthCallId(1)), reply: AuthReply::Transport { message: next(&pool) } },
            6 => Input::Abort { id: RequestId(arg as u32 % next_id.max(1)) },
            7 => {
                let id = next_id;
                next_id += 1;
                Input::Login { id: RequestId(id) }
            }
            8 => {
                let access = next(&pool);
                let refresh = if arg & 1 == 0 { Some(next(&pool)) } else { None };
                let expires = match arg % 4 { 0 => None, 1 => Some(0.0), 2 => Some(3600.0), _ => Some(arg as f64 * 0.5) };
                Input::SetSession(NewSession { access_token: access, refresh_token: refresh, expires_in_secs: expires })
            }
            9 => Input::Logout,
            10 => {
                d.now = d.now.saturating_add(match arg % 4 { 0 => 1, 1 => 1_000, 2 => 15_000, _ => 3_600_000 });
                Input::Timeout
            }
            11 => Input::CheckSession { ok: arg & 1 == 0 },
            _ => {
                let value = if arg & 1 == 0 { stored_of(&next(&pool)) } else { None };
                if loading {
                    if let Some((a, r, _, _)) = value.as_ref().and_then(stored_model) {
                        introduced_access.push(a.clone());
                        introduced_refresh.extend(r.clone());
                        current = Some((a, r));
                    }
                }
                Input::Stored(value)
            }
        };
        // Tokens that may come in with this input.
        match &input {
            Input::SetSession(s) => {
                introduced_access.push(s.access_token.clone());
                introduced_refresh.extend(s.refresh_token.clone());
            }
            _ => {}
        }
        if matches!(input, Input::Stored(_) | Input::SetSession(_) | Input::Logout) {
            loading = false;
        }
        let cmds = d.feed(input);
        for c in &cmds {
            match c {
                Command::Persist { session } => {
                    let (a, r, _) = read_persisted(session);
                    assert!(introduced_access.contains(&a), "persisted an access token that never came in");
                    if let Some(r) = &r {
                        assert!(introduced_refresh.contains(r), "persisted a refresh token that never came in");
                    }
                    current = Some((a, r));
                }
                Command::ForgetStored => current = None,
                Command::Send { url: sent, token: Some(t), .. } => {
                    let cur = current.as_ref().map(|c| &c.0);
                    assert_eq!(Some(t), cur, "sent a token that is not the current one");
                    assert_eq!(url::origin(sent).as_deref(), Ok("https://api.test"), "token sent to a foreign origin");
                }
                Command::PostRefresh { call, refresh_token, .. } => {
                    let cur = current.as_ref().and_then(|c| c.1.as_ref());
                    assert_eq!(Some(refresh_token), cur, "refresh call without the current refresh token");
                    open_call = Some(*call);
                }
                Command::PlatformLogin { call } => open_call = Some(*call),
                _ => {}
            }
        }
    }
    d.feed(Input::Logout);
    assert!(!d.core.session(d.now).logged_in, "logout keeps a session");
}
