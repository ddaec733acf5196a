use proptest::prelude::*;

use super::JwtVerifier;

fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(b"0123456789abcdef0123456789abcdef")
        .unwrap()
        .issuer("iss")
        .audience("aud")
        .build()
        .unwrap()
}

proptest! {
    /// Any string: refused, never a panic.
    #[test]
    fn arbitrary_tokens_are_refused(token in ".{0,300}") {
        prop_assert!(verifier().verify(&token).is_err());
    }

    /// Three base64url segments, with headers and payloads that are JSON of any shape:
    /// refused (no key signs them), never a panic.
    #[test]
    fn well_shaped_forgeries_are_refused(
        header in "\\{\"alg\":\"(HS256|none|RS256|EdDSA|ES256)\"(,\"kid\":\"[a-z./]{0,12}\")?(,\"crit\":\\[\\])?\\}",
        payload in "\\{(\"[a-z]{1,4}\":(1|\"x\"|\\[\\]|null),?){0,4}\\}",
        signature in "[A-Za-z0-9_-]{0,86}",
    ) {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.{signature}", b64(&header), b64(&payload));
        prop_assert!(verifier().verify(&token).is_err());
    }
}
