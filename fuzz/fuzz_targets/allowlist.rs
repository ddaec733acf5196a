//! The body allowlist: arbitrary bytes are refused or accepted, never a panic, and an accepted
//! body is a JSON object whose keys are all allowed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure_endpoint::body::check_fields;

const ALLOWED: [&str; 3] = ["name", "email", "tags"];

fuzz_target!(|data: &[u8]| {
    if check_fields(data, &ALLOWED).is_ok() {
        let parsed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(data).expect("accepted bodies are JSON objects");
        assert!(parsed.keys().all(|k| ALLOWED.contains(&k.as_str())));
    }
});
