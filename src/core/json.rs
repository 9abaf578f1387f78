//! A small, strict, panic-free JSON reader and a string writer.
//!
//! Used for login/refresh bodies, the persisted session and the options object. No serde:
//! every byte of the wasm ships inside a 2 MB mini-program package.
//!
//! * [`parse`] accepts exactly RFC 8259 JSON (one value, surrounding whitespace allowed),
//!   with a nesting limit of [`MAX_DEPTH`]; anything else is `None`.
//! * [`Value::path`] follows a dotted path (`'data.token'`).
//! * [`number_to_string`] formats a number as JS `String(n)` does for the values that
//!   matter here (integers print without a fraction: `0`, `40101`).
//! * [`write_string`] appends a JSON string literal.

/// Deepest nesting of arrays/objects accepted; deeper input is rejected, not recursed into.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their members in order; on duplicate keys the last
/// one wins, as in `JSON.parse`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Member `key` of an object (the last one when duplicated); `None` for non-objects.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a dotted path of object keys (`'data.token'`). An empty path is `self`.
    pub fn path(&self, dotted: &str) -> Option<&Value> {
        if dotted.is_empty() {
            return Some(self);
        }
        let mut cur = self;
        for key in dotted.split('.') {
            cur = cur.get(key)?;
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `String(value)` in JS for scalars (a code compared as a string); `None` for
    /// null, arrays and objects.
    pub fn to_code_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(number_to_string(*n)),
            Value::Bool(true) => Some("true".into()),
            Value::Bool(false) => Some("false".into()),
            _ => None,
        }
    }
}

/// Parse one JSON document. `None` on any syntax error, on nesting deeper than
/// [`MAX_DEPTH`], or on trailing garbage.
pub fn parse(text: &str) -> Option<Value> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i == p.s.len() {
        Some(v)
    } else {
        None
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'n' => self.lit(b"null").map(|_| Value::Null),
            b't' => self.lit(b"true").map(|_| Value::Bool(true)),
            b'f' => self.lit(b"false").map(|_| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(Value::Object(members));
                }
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Value::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let text = core::str::from_utf8(self.s.get(start..self.i)?).ok()?;
        let n: f64 = text.parse().ok()?;
        if n.is_finite() {
            Some(Value::Number(n))
        } else {
            None
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek()? {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            v = v * 16 + d as u32;
            self.i += 1;
        }
        Some(v)
    }

    fn string(&mut self) -> Option<String> {
        // Opening quote.
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                // A high surrogate must be followed by an escaped low one.
                                self.lit(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                // A lone low surrogate is refused by from_u32.
                                char::from_u32(hi)?
                            }
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1F => return None,
                _ => out.push(c),
            }
        }
    }
}

/// Append `s` as a JSON string literal (quotes included) to `out`.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Append the decimal digits of `n`.
pub fn write_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// `String(n)` of JS for integers (`0`, `-3`, `40101`); other finite numbers print in
/// their shortest round-trip form (`0.5`). `-0` prints `0`.
pub fn number_to_string(n: f64) -> String {
    let mut out = String::new();
    if n.is_nan() {
        out.push_str("NaN");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
    } else if n == n.trunc() && n.abs() < 1.8e19 {
        if n < 0.0 {
            out.push('-');
        }
        write_u64(&mut out, n.abs() as u64);
    } else {
        use core::fmt::Write;
        let _ = write!(out, "{}", n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(parse("null"), Some(Value::Null));
        assert_eq!(parse(" true "), Some(Value::Bool(true)));
        assert_eq!(parse("false"), Some(Value::Bool(false)));
        assert_eq!(parse("-12.5e1"), Some(Value::Number(-125.0)));
        assert_eq!(parse("0"), Some(Value::Number(0.0)));
        assert_eq!(parse("\"a\\nb\""), Some(Value::String("a\nb".into())));
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "", " ", "nul", "01", "1.", ".5", "-", "1e", "+1", "[1,]", "{\"a\":1,}", "{a:1}",
            "[1 2]", "\"abc", "\"\\x\"", "\"\u{1}\"", "1 2", "{\"a\" 1}", "[", "{", "NaN",
            "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "1e999", "'a'", "tru",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unicode_escapes() {
        assert_eq!(parse("\"\\u00e9\\ud83d\\ude00\""), Some(Value::String("é😀".into())));
        assert_eq!(parse("\"é\""), Some(Value::String("é".into())));
    }

    #[test]
    fn depth_limit() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_some());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep), None);
        // Huge nesting does not overflow the stack.
        assert_eq!(parse(&"[".repeat(100_000)), None);
        assert_eq!(parse(&"{\"a\":".repeat(100_000)), None);
    }

    #[test]
    fn paths_and_duplicates() {
        let v = parse(r#"{"data":{"token":"t","n":3},"a":1,"a":2}"#).unwrap();
        assert_eq!(v.path("data.token").and_then(Value::as_str), Some("t"));
        assert_eq!(v.path("data.n").and_then(Value::as_f64), Some(3.0));
        assert_eq!(v.path("a").and_then(Value::as_f64), Some(2.0));
        assert_eq!(v.path("data.missing"), None);
        assert_eq!(v.path("a.b"), None);
        assert_eq!(v.path(""), Some(&v));
    }

    #[test]
    fn numbers_format_like_js() {
        assert_eq!(number_to_string(0.0), "0");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(40101.0), "40101");
        assert_eq!(number_to_string(-7.0), "-7");
        assert_eq!(number_to_string(0.5), "0.5");
        assert_eq!(number_to_string(1e20), "100000000000000000000");
        assert_eq!(parse("1E2").and_then(|v| v.to_code_string()), Some("100".into()));
        assert_eq!(Value::Bool(true).to_code_string(), Some("true".into()));
        assert_eq!(Value::Null.to_code_string(), None);
    }

    #[test]
    fn string_round_trip() {
        let s = "a\"b\\c\n\u{1}\u{1f}é😀/";
        let mut out = String::new();
        write_string(&mut out, s);
        assert_eq!(parse(&out), Some(Value::String(s.into())));
        let mut n = String::new();
        write_u64(&mut n, 0);
        write_u64(&mut n, 18446744073709551615);
        assert_eq!(n, "018446744073709551615");
    }
}
