use jsonwebtoken::{EncodingKey, Header};

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer("iss")
        .audience("aud")
        .build()
        .unwrap()
}

#[test]
fn round_trip_with_roles_and_scopes() {
    let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
    let token = issuer.issue(
        "alice",
        &["admin".into()],
        &["a:read".into(), "b:write".into()],
    );
    let p = verifier().verify(&token).unwrap();
    assert_eq!(p.subject(), "alice");
    assert!(p.has_role("admin"));
    assert!(p.has_scope("b:write"));
}

#[test]
fn wrong_issuer_audience_and_short_secret_are_refused() {
    let other = JwtIssuer::hs256(SECRET, "other", "aud", Duration::from_secs(60)).unwrap();
    assert_eq!(
        verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
        AuthFailure::Invalid
    );
    let other = JwtIssuer::hs256(SECRET, "iss", "other", Duration::from_secs(60)).unwrap();
    assert_eq!(
        verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
        AuthFailure::Invalid
    );
    assert!(JwtVerifier::hs256(b"short").is_err());
    assert!(JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer("i")
        .build()
        .is_err());
}

#[test]
fn cache_serves_repeats_and_never_a_different_token() {
    let v = verifier();
    let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
    let token = issuer.issue("alice", &[], &[]);
    assert_eq!(v.verify(&token).unwrap().subject(), "alice");
    assert_eq!(v.cached_tokens(), 1);
    assert_eq!(v.verify(&token).unwrap().subject(), "alice");
    // A tampered copy is verified (and refused), not served from the cache.
    let mut tampered = token.clone();
    tampered.pop();
    assert!(v.verify(&tampered).is_err());
    assert_eq!(v.cached_tokens(), 1);
    let off = JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer("iss")
        .audience("aud")
        .token_cache(0)
        .build()
        .unwrap();
    off.verify(&token).unwrap();
    assert_eq!(off.cached_tokens(), 0);
}

/// HS256 over valid claims for `alice`, the header naming `kid`.
fn with_kid(kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({"sub": "alice", "iss": "iss", "aud": "aud", "exp": now + 60});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

#[test]
fn a_kid_naming_no_key_is_refused_when_keys_carry_ids() {
    let build = |keys: Vec<JwtKey>| {
        keys.into_iter()
            .fold(JwtVerifier::builder(), JwtVerifierBuilder::key)
            .issuer("iss")
            .audience("aud")
            .build()
            .unwrap()
    };
    let hs = || JwtKey::hs256(SECRET).unwrap();
    // One key, named.
    let v = build(vec![hs().kid("k1")]);
    assert!(v.verify(&with_kid(Some("k1"))).is_ok());
    for kid in [Some("k2"), Some("K1"), None] {
        assert_eq!(
            v.verify(&with_kid(kid)).unwrap_err(),
            AuthFailure::Invalid,
            "{kid:?}"
        );
    }
    // An unnamed key beside a named one: it verifies tokens without a kid only.
    let v = build(vec![hs(), JwtKey::hs256(&[7; 32]).unwrap().kid("other")]);
    assert!(v.verify(&with_kid(None)).is_ok());
    assert_eq!(
        v.verify(&with_kid(Some("k2"))).unwrap_err(),
        AuthFailure::Invalid
    );
    // No key carries an id: the kid is a hint.
    let v = build(vec![hs()]);
    assert!(v.verify(&with_kid(Some("anything"))).is_ok());
}

#[test]
fn debug_never_shows_the_key() {
    let s = format!("{:?}", verifier());
    assert!(s.contains("[redacted]"));
    assert!(!s.contains("0123456789abcdef"));
}
