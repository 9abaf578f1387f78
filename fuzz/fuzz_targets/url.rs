#![no_main]
//! See `check_url` in fuzz/checks.rs for the properties. Besides the hand-written WHATWG
//! model of checks.rs, this target also compares with the `url` crate (a full WHATWG
//! parser), which the stable regression test does not depend on.

#[path = "../checks.rs"]
mod checks;

fn url_crate_origin(u: &str) -> Option<String> {
    let parsed = url::Url::parse(u).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    // Only plain ASCII DNS names are compared (the core keeps IPv6/IPv4 text as written).
    match parsed.host()? {
        url::Host::Domain(_) => {}
        _ => return None,
    }
    Some(parsed.origin().ascii_serialization())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_url(data, checks::KNOWN, Some(&url_crate_origin));
});
