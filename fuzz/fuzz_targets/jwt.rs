//! JWT verification: any token is refused (nothing here is signed with the key), never a panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use secure_endpoint::jwt::{JwtKey, JwtVerifier};

static VERIFIER: LazyLock<JwtVerifier> = LazyLock::new(|| {
    JwtVerifier::hs256(b"fuzzing secret, at least 32 bytes long")
        .unwrap()
        .key(JwtKey::hs256(b"a second fuzzing secret, 32+ bytes").unwrap().kid("k2"))
        .issuer("iss")
        .audience("aud")
        .token_cache(0)
        .build()
        .unwrap()
});

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    assert!(VERIFIER.verify(&token).is_err());
});
