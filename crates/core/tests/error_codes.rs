//! The one list of error codes (`ErrorCode`) and the JavaScript that names codes: the d.ts's
//! `ErrorCode` type lists exactly these, and every code the worker script and the entry
//! module write is one of them.
use std::collections::BTreeSet;
use tabmux_core::ErrorCode;

fn repo(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)).unwrap()
}

/// Every `"kebab-case"` string literal in `text` that follows `from` and precedes `to`.
fn quoted(text: &str, from: &str, to: &str) -> BTreeSet<String> {
    let start = text.find(from).unwrap_or_else(|| panic!("{from:?} not found"));
    let part = &text[start..];
    let part = &part[..part.find(to).unwrap_or(part.len())];
    part.split('"').skip(1).step_by(2).filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '-')).map(String::from).collect()
}

#[test]
fn the_d_ts_lists_exactly_the_codes() {
    let all: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
    assert_eq!(quoted(&repo("js/index.d.ts"), "export type ErrorCode =", ";"), all);
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_wire(c.as_str()), Some(c));
    }
    assert_eq!(ErrorCode::from_wire("nope"), None);
}

#[test]
fn the_javascript_writes_only_listed_codes() {
    let all: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
    let shim = repo("worker/shared-websocket-worker.js");
    let written: BTreeSet<String> = shim.split("code: \"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect();
    assert_eq!(written, BTreeSet::from(["worker-crashed".to_string(), "worker-failed".to_string()]));
    let entry = quoted(&repo("js/index.js"), "function cspHint", "\n}");
    for code in ["wasm-blocked", "load-failed"] {
        assert!(entry.contains(code), "{code} in js/index.js");
    }
    assert!(written.is_subset(&all));
    assert!(["wasm-blocked", "load-failed"].iter().all(|c| all.contains(*c)));
}
