//! The body allowlist: arbitrary bytes are refused or accepted, never a panic, and an accepted
//! body is a JSON object whose keys are all allowed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure_endpoint::request_body::check_fields;

const ALLOWED: [&str; 3] = ["name", "email", "tags"];

fuzz_target!(|data: &[u8]| {
    if check_fields(data, &ALLOWED).is_ok() {
        // Keys only: values are the typed deserializer's business (an out-of-range number in
        // a value passes the key scan and is refused by the deserializer, as the hostile-input
        // tests show).
        let parsed: std::collections::BTreeMap<String, serde::de::IgnoredAny> =
            serde_json::from_slice(data).expect("accepted bodies are JSON objects");
        assert!(parsed.keys().all(|k| ALLOWED.contains(&k.as_str())));
    }
});
