//! URL joining, origins and the `http:` rule (rule 9 of docs/API.md).
//!
//! Only `http://` and `https://` URLs are understood. Error messages never quote the URL
//! (a query string may carry secrets).

use super::config::EnvVersion;
use super::error::Error;

fn config_error(message: &str) -> Error {
    Error::Config { message: message.into() }
}

/// The parts of an absolute URL the core cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `http` or `https`, lowercase.
    pub https: bool,
    /// Lowercase host; an IPv6 literal keeps its brackets (`[::1]`).
    pub host: String,
    /// Explicit port that is not the scheme's default.
    pub port: Option<u16>,
}

impl Parsed {
    /// `scheme://host[:port]`, default ports dropped.
    pub fn origin(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 14);
        out.push_str(if self.https { "https://" } else { "http://" });
        out.push_str(&self.host);
        if let Some(p) = self.port {
            out.push(':');
            out.push_str(&p.to_string());
        }
        out
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

/// The scheme part length (`http://` = 7, `https://` = 8) when `url` starts with one,
/// case-insensitively.
fn scheme_len(url: &str) -> Option<(bool, usize)> {
    let b = url.as_bytes();
    if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        Some((true, 8))
    } else if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        Some((false, 7))
    } else {
        None
    }
}

/// Whether `url` is absolute (`http://` or `https://`, any case).
pub fn is_absolute(url: &str) -> bool {
    scheme_len(url).is_some()
}

/// Parse an absolute `http(s)` URL; anything else is `Error::Config`.
pub fn parse(url: &str) -> Result<Parsed, Error> {
    let (https, skip) = scheme_len(url).ok_or_else(|| config_error("URL is not absolute http(s)"))?;
    let rest = &url[skip..];
    // A backslash ends the authority too, as WHATWG URL parsing does for http(s): otherwise
    // `https://evil.com\@api.test` would look like api.test here and go to evil.com.
    // Byte loops here and below (every delimiter is ASCII, so indices are the same as
    // `str::find`'s): `str` pattern searchers cost wasm size.
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#' | b'\\')).unwrap_or(rest.len());
    let mut authority = &rest[..end];
    if let Some(at) = authority.bytes().rposition(|b| b == b'@') {
        authority = &authority[at + 1..];
    }
    let (host, port_text) = if let Some(stripped) = authority.strip_prefix('[') {
        let close = stripped.bytes().position(|b| b == b']').ok_or_else(|| config_error("malformed URL host"))?;
        let inner = &stripped[..close];
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(config_error("malformed URL host"));
        }
        let after = &stripped[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(config_error("malformed URL host")),
        };
        (&authority[..close + 2], port)
    } else {
        match authority.bytes().rposition(|b| b == b':') {
            Some(c) => (&authority[..c], Some(&authority[c + 1..])),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'~')));
    if !host_ok {
        return Err(config_error("malformed URL host"));
    }
    let port = match port_text {
        None | Some("") => None,
        Some(p) => {
            if p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(config_error("malformed URL port"));
            }
            let n: u32 = p.bytes().fold(0, |acc, c| acc * 10 + (c - b'0') as u32);
            if n > 65535 {
                return Err(config_error("malformed URL port"));
            }
            let default = if https { 443 } else { 80 };
            if n == default {
                None
            } else {
                Some(n as u16)
            }
        }
    };
    Ok(Parsed { https, host: host.to_ascii_lowercase(), port })
}

/// `scheme://host[:port]` of an absolute URL, lowercase, default port dropped.
pub fn origin(url: &str) -> Result<String, Error> {
    parse(url).map(|p| p.origin())
}

/// `localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = trim_end_byte(host, b'.');
    if h.eq_ignore_ascii_case("localhost") || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    if h == "[::1]" || h.eq_ignore_ascii_case("[0:0:0:0:0:0:0:1]") {
        return true;
    }
    let parts: Vec<&[u8]> = h.as_bytes().split(|&b| b == b'.').collect();
    parts.len() == 4
        && parts[0] == b"127"
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.iter().all(|c| c.is_ascii_digit())
                && p.iter().fold(0u16, |n, c| n * 10 + u16::from(c - b'0')) <= 255
        })
}

/// `s` without the trailing `b`s (a byte search: `str::trim_*_matches` links a pattern
/// searcher; no hand-counted loop either, which a slip could turn into an endless one).
fn trim_end_byte(s: &str, b: u8) -> &str {
    &s[..s.bytes().rposition(|c| c != b).map_or(0, |i| i + 1)]
}

/// `s` without the leading `b`s.
fn trim_start_byte(s: &str, b: u8) -> &str {
    &s[s.bytes().position(|c| c != b).unwrap_or(s.len())..]
}

/// Join a request URL to `base`: an absolute URL is used as is; a relative one is appended
/// to `base` with exactly one `/` between them. The result is checked to be a well-formed
/// absolute URL.
pub fn join(base: &str, url: &str) -> Result<String, Error> {
    let joined = if is_absolute(url) {
        url.to_string()
    } else {
        if url.starts_with("//") {
            return Err(config_error("protocol-relative URLs are not supported"));
        }
        // A byte loop, not `str::find(&str)`: that links the Two-Way searcher (about 1 KB of wasm).
        if let Some(colon) = url.as_bytes().windows(3).position(|w| w == b"://") {
            if !url.as_bytes()[..colon].iter().any(|b| matches!(b, b'/' | b'?' | b'#')) {
                return Err(config_error("URL scheme must be http or https"));
            }
        }
        if base.is_empty() {
            return Err(config_error("relative URL without baseURL"));
        }
        let b = trim_end_byte(base, b'/');
        let u = trim_start_byte(url, b'/');
        let mut out = String::with_capacity(b.len() + u.len() + 1);
        out.push_str(b);
        out.push('/');
        out.push_str(u);
        out
    };
    parse(&joined)?;
    Ok(joined)
}

/// Rule 9: a plain `http:` URL is refused outside develop unless its host is loopback.
pub fn check_transport(parsed: &Parsed, env: EnvVersion) -> Result<(), Error> {
    if parsed.https || env == EnvVersion::Develop || parsed.is_loopback() {
        Ok(())
    } else {
        Err(config_error("http: URL refused outside develop (use https)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_one_slash() {
        assert_eq!(join("https://a.com", "x").unwrap(), "https://a.com/x");
        assert_eq!(join("https://a.com/", "/x").unwrap(), "https://a.com/x");
        assert_eq!(join("https://a.com/api//", "//x").unwrap_err().code(), "CONFIG");
        assert_eq!(join("https://a.com/api/", "x/y?q=1").unwrap(), "https://a.com/api/x/y?q=1");
        assert_eq!(join("https://a.com", "http://b.com/z").unwrap(), "http://b.com/z");
        assert_eq!(join("", "HTTPS://b.com").unwrap(), "HTTPS://b.com");
        assert!(join("", "/x").is_err());
        assert!(join("https://a.com", "ftp://b.com/x").is_err());
        assert!(join("https://a.com", "x?next=http://b").is_ok());
    }

    #[test]
    fn origins() {
        assert_eq!(origin("HTTPS://API.Example.com:443/x").unwrap(), "https://api.example.com");
        assert_eq!(origin("http://a.com:80").unwrap(), "http://a.com");
        assert_eq!(origin("http://a.com:8080?x").unwrap(), "http://a.com:8080");
        assert_eq!(origin("https://user:pw@a.com/").unwrap(), "https://a.com");
        assert_eq!(origin("http://[::1]:3000/x").unwrap(), "http://[::1]:3000");
        assert_eq!(origin("https://a.com:/x").unwrap(), "https://a.com");
        assert_eq!(origin("https://evil.com\\@api.test/x").unwrap(), "https://evil.com");
        assert_eq!(origin("https://api.test@evil.com/x").unwrap(), "https://evil.com");
        for bad in ["a.com", "https://", "https:///x", "https://a b.com", "https://a.com:99999", "https://a.com:x", "https://[::1", "https://[zz]", "https://[::1]x", "https://a%2e.com", "https://a.com\n"] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for h in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["localhost.com", "128.0.0.1", "127.0.0", "127.0.0.256", "[::2]", "example.com"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn http_rule() {
        let p = parse("http://a.com").unwrap();
        assert!(check_transport(&p, EnvVersion::Release).is_err());
        assert!(check_transport(&p, EnvVersion::Trial).is_err());
        assert!(check_transport(&p, EnvVersion::Develop).is_ok());
        assert!(check_transport(&parse("http://127.0.0.1:8080").unwrap(), EnvVersion::Release).is_ok());
        assert!(check_transport(&parse("https://a.com").unwrap(), EnvVersion::Release).is_ok());
    }
}
