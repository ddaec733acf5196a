//! RFC 9449's and RFC 7638's worked examples, byte for byte, and the proof checks one by one.

use serde_json::{json, Map, Value};

use super::proof::{self, access_token_hash, jwk_thumbprint};
use super::*;

/// RFC 9449 §4.1, Figure 1: the proof of the token request (`POST https://server.example.com/token`).
const RFC_TOKEN_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";

/// RFC 9449 §7.1, Figure 13: the proof of the protected resource request
/// (`GET https://resource.example.org/protectedresource`), with `ath`.
const RFC_RESOURCE_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";

/// RFC 9449 §7.1: the access token of Figure 13.
const RFC_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// RFC 9449 §6.1, Figure 9: `cnf.jkt`, the thumbprint of the examples' proof key.
const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[test]
fn rfc7638_example_thumbprint() {
    // RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1, its members in any order, with
    // optional members that do not count.
    let jwk = object(json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }));
    assert_eq!(
        jwk_thumbprint(&jwk).as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
}

#[test]
fn rfc9449_proof_key_thumbprint_is_the_cnf_jkt_of_section_6_1() {
    // RFC 9449 §4.1, Figure 2's `jwk` (members in the RFC's order).
    let jwk = object(json!({
        "kty": "EC",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        "crv": "P-256"
    }));
    assert_eq!(jwk_thumbprint(&jwk).as_deref(), Some(RFC_JKT));
}

#[test]
fn rfc9449_access_token_hash() {
    assert_eq!(
        access_token_hash(RFC_ACCESS_TOKEN),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn rfc9449_published_proofs_verify() {
    let token = proof::verify(RFC_TOKEN_PROOF, Some(RFC_JKT)).ok().unwrap();
    assert_eq!(token.key.thumbprint, RFC_JKT);
    let claims = token.claims().ok().unwrap();
    assert_eq!(
        (claims.jti, claims.htm, claims.htu, claims.iat, claims.ath),
        (
            "-BwC3ESc6acc2lTc",
            "POST",
            "https://server.example.com/token",
            1562262616,
            None
        )
    );

    let resource = proof::verify(RFC_RESOURCE_PROOF, Some(RFC_JKT))
        .ok()
        .unwrap();
    let claims = resource.claims().ok().unwrap();
    assert_eq!(
        claims.ath,
        Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
    );
    assert_eq!(claims.jti, "e1j3V_bKic8-LAEB");

    // The whole check of Figure 13's request, at the proof's own time.
    let verifier = DpopVerifier::new();
    let uri: Uri = "/protectedresource".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_static("resource.example.org"),
    );
    let target = Target {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        https: true,
    };
    let good = verifier
        .check_proof(
            RFC_RESOURCE_PROOF,
            Some(RFC_JKT),
            Some(RFC_ACCESS_TOKEN),
            &target,
            1562262618,
        )
        .ok()
        .unwrap();
    assert_eq!((good.jkt.as_str(), good.iat), (RFC_JKT, 1562262618));
    let refused = |proof: &str, token: &str, target: &Target<'_>, now: u64| {
        verifier
            .check_proof(proof, Some(RFC_JKT), Some(token), target, now)
            .err()
            .map(|r| (r.error, r.reason))
    };
    assert_eq!(
        refused(RFC_RESOURCE_PROOF, "another token", &target, 1562262618),
        Some((Some(DpopError::InvalidProof), "dpop_ath_mismatch"))
    );
    assert_eq!(
        refused(
            RFC_RESOURCE_PROOF,
            RFC_ACCESS_TOKEN,
            &target,
            1562262618 + 61
        ),
        Some((Some(DpopError::InvalidProof), "dpop_iat_out_of_window"))
    );
    assert_eq!(
        refused(
            RFC_RESOURCE_PROOF,
            RFC_ACCESS_TOKEN,
            &target,
            1562262618 - 6
        ),
        Some((Some(DpopError::InvalidProof), "dpop_iat_out_of_window"))
    );
    let post = Target {
        method: &Method::POST,
        ..target
    };
    assert_eq!(
        refused(RFC_RESOURCE_PROOF, RFC_ACCESS_TOKEN, &post, 1562262618),
        Some((Some(DpopError::InvalidProof), "dpop_htm_mismatch"))
    );
    let other_path: Uri = "/otherresource".parse().unwrap();
    let elsewhere = Target {
        uri: &other_path,
        ..target
    };
    assert_eq!(
        refused(RFC_RESOURCE_PROOF, RFC_ACCESS_TOKEN, &elsewhere, 1562262618),
        Some((Some(DpopError::InvalidProof), "dpop_htu_mismatch"))
    );
    let plain = Target {
        https: false,
        ..target
    };
    assert_eq!(
        refused(RFC_RESOURCE_PROOF, RFC_ACCESS_TOKEN, &plain, 1562262618),
        Some((Some(DpopError::InvalidProof), "dpop_htu_mismatch"))
    );
    // Behind a proxy: the configured origin, whatever the Host header says.
    let behind = DpopVerifier::new()
        .origin("https://RESOURCE.example.org:443")
        .unwrap();
    let mut proxied = HeaderMap::new();
    proxied.insert(
        http::header::HOST,
        HeaderValue::from_static("upstream.internal:8080"),
    );
    let via_proxy = Target {
        headers: &proxied,
        https: false,
        ..target
    };
    assert!(behind
        .check_proof(
            RFC_RESOURCE_PROOF,
            Some(RFC_JKT),
            Some(RFC_ACCESS_TOKEN),
            &via_proxy,
            1562262618
        )
        .is_ok());
    // A bound token with another key's thumbprint: refused before the signature is checked.
    assert_eq!(
        proof::verify(
            RFC_RESOURCE_PROOF,
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        )
        .err()
        .map(|r| (r.error, r.reason)),
        Some((Some(DpopError::InvalidToken), "dpop_key_mismatch"))
    );
}

#[test]
fn a_published_proof_altered_anywhere_is_refused() {
    // Another claim set under the published signature.
    let mut parts: Vec<&str> = RFC_RESOURCE_PROOF.split('.').collect();
    let token_payload = RFC_TOKEN_PROOF.split('.').nth(1).unwrap();
    parts[1] = token_payload;
    let swapped = parts.join(".");
    assert_eq!(
        proof::verify(&swapped, None).err().map(|r| r.reason),
        Some("dpop_signature_invalid")
    );
    // One bit of the signature.
    let mut flipped = RFC_RESOURCE_PROOF.as_bytes().to_vec();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert!(proof::verify(std::str::from_utf8(&flipped).unwrap(), None).is_err());
}

/// A proof signed by `key` with `header` and `claims` as given (for headers no client would
/// send).
fn forged(key: &DpopKey, header: Value, claims: Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let good = key.sign_claims(&claims);
    let signature = good.rsplit('.').next().unwrap();
    format!("{}.{}.{signature}", b64(&header), b64(&claims))
}

fn es256_key() -> DpopKey {
    // A fixed P-256 test key (PKCS#8), generated for these tests.
    DpopKey::es256_pkcs8_pem(
        "-----BEGIN PRIVATE KEY-----\n\
         MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEQMF1232+Cv4Q2bx\n\
         JmBjJ3oF99mstTcYveGMFQylc7qhRANCAAS+MGLAb60ca7/CUKB83jwS1Z+Gsjbg\n\
         cuSgLZKiY7UecK7J0qvnx7mi7HP8Xby9gTVUVjFJHw+yBYvW4sEC262d\n\
         -----END PRIVATE KEY-----\n",
    )
    .unwrap()
}

#[test]
fn proofs_of_both_algorithms_verify_and_private_or_symmetric_keys_are_refused() {
    let claims = json!({"jti": "j", "htm": "GET", "htu": "https://a.example/x", "iat": 1});
    for key in [es256_key(), DpopKey::ed25519_seed(&[9; 32])] {
        let good = key.sign_claims(&claims);
        let verified = proof::verify(&good, Some(key.thumbprint())).ok().unwrap();
        assert_eq!(verified.key.thumbprint, key.thumbprint());

        let mut with_private = key.public_jwk().clone();
        with_private.insert("d".into(), json!("AAAA"));
        let header = json!({"typ": "dpop+jwt", "alg": key.alg(), "jwk": with_private});
        assert_eq!(
            proof::verify(&forged(&key, header, claims.clone()), None)
                .err()
                .map(|r| r.reason),
            Some("dpop_jwk_private")
        );
        for (header, reason) in [
            (
                json!({"typ": "JWT", "alg": key.alg(), "jwk": key.public_jwk()}),
                "dpop_typ_wrong",
            ),
            (
                json!({"alg": key.alg(), "jwk": key.public_jwk()}),
                "dpop_typ_wrong",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk()}),
                "dpop_alg_refused",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
                "dpop_jwk_private",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.public_jwk()}),
                "dpop_alg_refused",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": key.alg(), "jwk": key.public_jwk(), "crit": ["exp"]}),
                "dpop_header_refused",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": key.alg(), "jwk": key.public_jwk(), "jku": "https://evil.example/"}),
                "dpop_header_refused",
            ),
            (
                json!({"typ": "dpop+jwt", "alg": key.alg()}),
                "dpop_jwk_malformed",
            ),
        ] {
            assert_eq!(
                proof::verify(&forged(&key, header.clone(), claims.clone()), None)
                    .err()
                    .map(|r| r.reason),
                Some(reason),
                "{header}"
            );
        }
    }
    // The algorithm must fit the key: an Ed25519 key cannot claim ES256.
    let ed = DpopKey::ed25519_seed(&[9; 32]);
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": ed.public_jwk()});
    assert_eq!(
        proof::verify(&forged(&ed, header, claims.clone()), None)
            .err()
            .map(|r| r.reason),
        Some("dpop_jwk_malformed")
    );
    // A duplicate member is refused, not read either way.
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let duplicated = format!(
        "{}.{}.sig",
        b64(r#"{"typ":"dpop+jwt","typ":"JWT","alg":"ES256"}"#),
        b64("{}")
    );
    assert_eq!(
        proof::verify(&duplicated, None).err().map(|r| r.reason),
        Some("dpop_proof_malformed")
    );
    for garbage in ["", "a.b", "a.b.c.d", &"x".repeat(proof::MAX_PROOF_LEN + 1)] {
        assert!(proof::verify(garbage, None).is_err());
    }
}

#[test]
fn claims_must_be_present_and_of_their_types() {
    let key = DpopKey::ed25519_seed(&[3; 32]);
    let base = json!({"jti": "j", "htm": "GET", "htu": "https://a.example/x", "iat": 1});
    for missing in ["jti", "htm", "htu", "iat"] {
        let mut claims = base.clone();
        claims.as_object_mut().unwrap().remove(missing);
        let proof = proof::verify(&key.sign_claims(&claims), None).ok().unwrap();
        assert_eq!(
            proof.claims().err().map(|r| r.reason),
            Some("dpop_claims_missing"),
            "{missing}"
        );
    }
    for (name, value) in [
        ("iat", json!("1")),
        ("iat", json!(-1)),
        ("jti", json!("")),
        ("jti", json!("j".repeat(proof::MAX_JTI_LEN + 1))),
        ("ath", json!(1)),
        ("nonce", json!(["n"])),
    ] {
        let mut claims = base.clone();
        claims[name] = value;
        let proof = proof::verify(&key.sign_claims(&claims), None).ok().unwrap();
        assert!(proof.claims().is_err(), "{name}");
    }
}

#[tokio::test]
async fn token_requests_bind_the_proof_key_and_refuse_replays() {
    let verifier = DpopVerifier::new();
    let key = es256_key();
    let uri: Uri = "/api/login".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_static("127.0.0.1:8443"),
    );
    assert_eq!(
        verifier
            .token_request(&Method::POST, &uri, &headers)
            .await
            .ok(),
        Some(None)
    );
    let proof = key.proof(ProofRequest {
        method: "POST",
        uri: "https://127.0.0.1:8443/api/login",
        access_token: None,
        nonce: None,
    });
    headers.insert(DPOP, HeaderValue::from_str(&proof).unwrap());
    assert_eq!(
        verifier
            .token_request(&Method::POST, &uri, &headers)
            .await
            .ok(),
        Some(Some(key.thumbprint().to_owned()))
    );
    let replay = verifier
        .token_request(&Method::POST, &uri, &headers)
        .await
        .unwrap_err();
    assert_eq!(
        (replay.error, replay.reason),
        (Some(DpopError::InvalidProof), "dpop_replayed")
    );
    let problem = verifier.token_problem(&replay);
    assert_eq!(
        (problem.status(), problem.code()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );
    // With nonces: 400 `use_dpop_nonce` and a `DPoP-Nonce` to retry with.
    let strict = DpopVerifier::new().nonces(DpopNonces::random());
    let fresh = key.proof(ProofRequest {
        method: "POST",
        uri: "https://127.0.0.1:8443/api/login",
        access_token: None,
        nonce: None,
    });
    headers.insert(DPOP, HeaderValue::from_str(&fresh).unwrap());
    let refusal = strict
        .token_request(&Method::POST, &uri, &headers)
        .await
        .unwrap_err();
    let problem = strict.token_problem(&refusal);
    assert_eq!(problem.code(), "use_dpop_nonce");
    let nonce = problem.headers()[DPOP_NONCE].to_str().unwrap().to_owned();
    let retried = key.proof(ProofRequest {
        method: "POST",
        uri: "https://127.0.0.1:8443/api/login",
        access_token: None,
        nonce: Some(&nonce),
    });
    headers.insert(DPOP, HeaderValue::from_str(&retried).unwrap());
    assert!(strict
        .token_request(&Method::POST, &uri, &headers)
        .await
        .is_ok());
}

#[test]
fn challenges_name_the_error_and_the_algorithms() {
    let verifier = DpopVerifier::new().nonces(DpopNonces::random());
    let challenges = |problem: &Problem| -> Vec<String> {
        problem
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let schemes = [AuthScheme::Dpop, AuthScheme::Jwt];
    let p = verifier.problem(&Refusal::proof("dpop_replayed"), &schemes);
    assert_eq!(p.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenges(&p),
        [
            "DPoP realm=\"api\", error=\"invalid_dpop_proof\", algs=\"ES256 EdDSA\"",
            "Bearer realm=\"api\""
        ]
    );
    assert!(p.headers().get(DPOP_NONCE).is_none());
    let p = verifier.problem(&Refusal::nonce("dpop_nonce_missing"), &schemes[..1]);
    assert_eq!(
        challenges(&p),
        ["DPoP realm=\"api\", error=\"use_dpop_nonce\", algs=\"ES256 EdDSA\""]
    );
    assert!(p.headers().get(DPOP_NONCE).is_some());
    let p = verifier.problem(&Refusal::token("token_invalid"), &schemes[..1]);
    assert_eq!(
        challenges(&p),
        ["DPoP realm=\"api\", error=\"invalid_token\", algs=\"ES256 EdDSA\""]
    );
    assert_eq!(
        challenges(&AuthFailure::Missing.problem(&schemes)),
        [
            "DPoP realm=\"api\", algs=\"ES256 EdDSA\"",
            "Bearer realm=\"api\""
        ]
    );
}

#[test]
fn bound_tokens_carry_their_jkt_and_are_refused_as_bearer() {
    use crate::auth::jwt::{not_dpop_bound, JwtIssuer, JwtVerifier};
    let secret = [5u8; 32];
    let issuer =
        JwtIssuer::hs256(&secret, "iss", "aud", std::time::Duration::from_secs(60)).unwrap();
    let verifier = JwtVerifier::hs256(&secret)
        .unwrap()
        .issuer("iss")
        .audience("aud")
        .build()
        .unwrap();
    let bound = verifier
        .verify(&issuer.issue_bound("alice", &[], &[], RFC_JKT))
        .unwrap();
    assert_eq!(bound.dpop_jkt(), Some(RFC_JKT));
    assert!(not_dpop_bound(bound).is_err());
    let plain = verifier.verify(&issuer.issue("alice", &[], &[])).unwrap();
    assert_eq!(plain.dpop_jkt(), None);
    assert!(not_dpop_bound(plain).is_ok());
    // A `cnf.jkt` that is not a SHA-256 thumbprint refuses the token.
    for cnf in [json!({"jkt": "short"}), json!({"jkt": 5}), json!("jkt")] {
        let now = jsonwebtoken::get_current_timestamp();
        let claims =
            json!({"sub": "alice", "iss": "iss", "aud": "aud", "exp": now + 60, "cnf": cnf});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert!(verifier.verify(&token).is_err(), "{cnf}");
    }
}

#[test]
fn debug_shows_no_secret() {
    let key = DpopKey::ed25519_seed(&[42; 32]);
    let shown = format!("{key:?}");
    assert!(shown.contains("[redacted]") && shown.contains(key.thumbprint()));
    let verifier =
        DpopVerifier::new().nonces(DpopNonces::new(&[42; 32], DEFAULT_NONCE_LIFETIME).unwrap());
    assert!(!format!("{verifier:?}").contains("42, 42"));
}
