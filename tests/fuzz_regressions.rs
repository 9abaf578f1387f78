//! Replays the fuzzing corpus and the crash reproducers on stable Rust, so that plain
//! `cargo test` keeps them honest without nightly or libFuzzer.
//!
//! * `fuzz/corpus/<target>/*`: every checked-in corpus file goes through the same check
//!   (fuzz/checks.rs) as in the fuzz target `<target>`, with the same exemptions.
//! * `fuzz/regressions/<target>/*`: every input that ever failed a check, run strictly
//!   (no exemption). Those of findings still open in the core are listed in `OPEN` and run
//!   by their own `#[ignore]`d test; every other one must pass.
//!
//! The `url` fuzz target also compares with the `url` crate; that oracle is not a
//! dependency of the main crate, so here only the hand-written WHATWG model of checks.rs
//! is used. The `json` and `number` targets went with the core's JSON parser and number
//! code (9ab978c). See docs/FUZZING.md.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Reproducers of findings not fixed in src/core yet: `(target, file name, finding)`.
const OPEN: &[(&str, &str, &str)] = &[];

fn dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(kind).join(target)
}

fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir(kind, target)) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn run(target: &str, data: &[u8], strict: bool) {
    let exempt = if strict { checks::STRICT } else { checks::KNOWN };
    match target {
        "url" => checks::check_url(data, exempt, None),
        "config" => checks::check_config(data),
        "stored" => checks::check_stored(data),
        "auth_body" => checks::check_auth(data, exempt),
        "session" => checks::check_session(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Run every file; panic once at the end with the list of those that failed.
fn replay(kind: &str, target: &str, strict: bool, skip_open: bool) -> usize {
    let list = files(kind, target);
    let mut failed = Vec::new();
    let mut n = 0;
    for path in &list {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if skip_open && OPEN.iter().any(|(t, f, _)| *t == target && *f == name) {
            continue;
        }
        let data = fs::read(path).unwrap();
        n += 1;
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| run(target, &data, strict))) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {}", path.display(), msg));
        }
    }
    assert!(failed.is_empty(), "{} of {} inputs failed:\n{}", failed.len(), n, failed.join("\n"));
    n
}

fn corpus(target: &str) {
    let n = replay("corpus", target, false, false);
    assert!(n >= 10, "fuzz/corpus/{target} has only {n} files");
}

#[test]
fn corpus_url() {
    corpus("url");
}

#[test]
fn corpus_config() {
    corpus("config");
}

#[test]
fn corpus_stored() {
    corpus("stored");
}

#[test]
fn corpus_auth_body() {
    corpus("auth_body");
}

#[test]
fn corpus_session() {
    corpus("session");
}

/// Every reproducer of a fixed finding passes strictly.
#[test]
fn regressions_fixed() {
    for t in ["url", "config", "stored", "auth_body", "session"] {
        replay("regressions", t, true, true);
    }
}

/// Finding 2 (docs/FUZZING.md), fixed: a login body whose access token holds CR/LF used to be
/// accepted and the token went into the auth header; a fetch-based platform then throws
/// `Headers.append: "Bearer <token>" is an invalid header value.` and that text becomes the
/// NETWORK error's errMsg: the token ends up in an error message (rule 9). Now such a body
/// has no usable access token.
#[test]
fn finding_2_header_unsafe_access_token() {
    let data = fs::read(dir("regressions", "auth_body").join("finding-2-crlf-access-token")).unwrap();
    run("auth_body", &data, true);
}

/// The hand-written WHATWG model of checks.rs knows where tricky URLs go (a backslash ends
/// the authority, tabs vanish, numeric hosts are left out of the model).
#[test]
fn whatwg_model_sanity() {
    assert_eq!(checks::whatwg_origin("https://evil.com\\@api.test/x").as_deref(), Some("https://evil.com"));
    assert_eq!(checks::whatwg_origin("HTTPS://API.test:443/a").as_deref(), Some("https://api.test"));
    assert_eq!(checks::whatwg_origin("https://evil.com\t@api.test").as_deref(), Some("https://api.test"));
    assert_eq!(checks::whatwg_origin(" http://a.com:8080?x").as_deref(), Some("http://a.com:8080"));
    assert_eq!(checks::whatwg_origin("https://0x7f.1/"), None);
    assert_eq!(checks::whatwg_origin("ftp://a.com/"), None);
}
