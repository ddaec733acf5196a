//! JWT bearer authentication over real HTTP: every way a token can be wrong gives the same 401,
//! so the response never tells an attacker which check failed.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Words that would tell an attacker which check failed, or echo the token's contents.
const CHECK_NAMES: &[&str] = &[
    "expired",
    "Expired",
    "signature",
    "Signature",
    "algorithm",
    "Algorithm",
    "HS384",
    "HS512",
    "none",
    "issuer",
    "Issuer",
    "audience",
    "Audience",
    "nbf",
    "Immature",
    "InvalidToken",
    "claim",
    "Basic",
    "base64",
    "Base64",
    "UTF-8",
    "evil",
];

#[test]
fn b64url_matches_rfc4648_vectors() {
    assert_eq!(b64url(b""), "");
    assert_eq!(b64url(b"f"), "Zg");
    assert_eq!(b64url(b"fo"), "Zm8");
    assert_eq!(b64url(b"foo"), "Zm9v");
    assert_eq!(b64url(b"foob"), "Zm9vYg");
    assert_eq!(b64url(b"fooba"), "Zm9vYmE");
    assert_eq!(b64url(b"foobar"), "Zm9vYmFy");
    assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
}

/// An unsigned token: `{"alg": <alg>, "typ": "JWT"}`, the claims, an empty signature.
fn unsigned(alg: &str, claims: &Value, trailing_dot: bool) -> String {
    let header = b64url(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
    let payload = b64url(claims.to_string().as_bytes());
    if trailing_dot {
        format!("{header}.{payload}.")
    } else {
        format!("{header}.{payload}")
    }
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// Every malformed, forged or otherwise unacceptable `Authorization` value, by name.
fn bad_credentials() -> Vec<(&'static str, String)> {
    let now = now();
    let valid = claims(ALICE, &["user"], "");
    let admin = claims(ALICE, &["admin"], "reports:read");
    let good = sign(&valid);
    let parts: Vec<&str> = good.split('.').collect();

    // Flip one character in the middle of the signature (the last character of a base64url
    // HS256 signature also carries padding bits, so it is left alone).
    let mut sig: Vec<u8> = parts[2].as_bytes().to_vec();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    let tampered_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    // Swap the payload for one granting admin, keep the original signature.
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        b64url(admin.to_string().as_bytes()),
        parts[2]
    );

    let bearer = |t: String| format!("Bearer {t}");
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
    let rest = format!(
        r#""iss":"{ISSUER}","aud":"{AUDIENCE}","nbf":{now},"exp":{}"#,
        now + 600
    );
    // The signed raw token is valid as such (checked in `raw_signing_is_accepted`); only the
    // duplicate makes it unacceptable.
    let duplicate_sub = sign_raw(
        hs256,
        &format!(r#"{{"sub":"{BOB}","sub":"{ALICE}",{rest}}}"#),
    );
    let duplicate_alg = sign_raw(
        r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#,
        &format!(r#"{{"sub":"{ALICE}",{rest}}}"#),
    );
    let mut cases = vec![
        (
            "expired",
            bearer(sign(&with(
                with(
                    with(valid.clone(), "exp", json!(now - 3600)),
                    "iat",
                    json!(now - 7200),
                ),
                "nbf",
                json!(now - 7200),
            ))),
        ),
        (
            "wrong iss",
            bearer(sign(&with(
                valid.clone(),
                "iss",
                json!("https://evil.test"),
            ))),
        ),
        (
            "wrong aud",
            bearer(sign(&with(valid.clone(), "aud", json!("another-api")))),
        ),
        ("missing exp", bearer(sign(&without(valid.clone(), "exp")))),
        ("missing iss", bearer(sign(&without(valid.clone(), "iss")))),
        ("missing aud", bearer(sign(&without(valid.clone(), "aud")))),
        ("missing sub", bearer(sign(&without(valid.clone(), "sub")))),
        (
            "empty sub",
            bearer(sign(&with(valid.clone(), "sub", json!("")))),
        ),
        ("alg none", bearer(unsigned("none", &admin, false))),
        (
            "alg none, trailing dot",
            bearer(unsigned("none", &admin, true)),
        ),
        (
            "alg None, trailing dot",
            bearer(unsigned("None", &admin, true)),
        ),
        (
            "alg NONE, trailing dot",
            bearer(unsigned("NONE", &admin, true)),
        ),
        ("tampered signature", bearer(tampered_signature)),
        ("tampered payload", bearer(tampered_payload)),
        ("no signature", bearer(format!("{}.{}", parts[0], parts[1]))),
        (
            "empty signature",
            bearer(format!("{}.{}.", parts[0], parts[1])),
        ),
        (
            "other secret",
            bearer(sign_with(&admin, Algorithm::HS256, OTHER_SECRET)),
        ),
        (
            "HS384, same secret",
            bearer(sign_with(&valid, Algorithm::HS384, SECRET)),
        ),
        (
            "HS512, same secret",
            bearer(sign_with(&valid, Algorithm::HS512, SECRET)),
        ),
        (
            "nbf in the future",
            bearer(sign(&with(valid.clone(), "nbf", json!(now + 3600)))),
        ),
        (
            "array iss",
            bearer(sign(&with(
                valid.clone(),
                "iss",
                json!([ISSUER, "https://evil.test"]),
            ))),
        ),
        (
            "array iss, one element",
            bearer(sign(&with(valid.clone(), "iss", json!([ISSUER])))),
        ),
        ("duplicate sub", bearer(duplicate_sub)),
        ("duplicate alg", bearer(duplicate_alg)),
        (
            "exp as a string",
            bearer(sign(&with(
                valid.clone(),
                "exp",
                json!((now + 600).to_string()),
            ))),
        ),
        (
            "sub as a number",
            bearer(sign(&with(valid.clone(), "sub", json!(42)))),
        ),
        (
            "roles as a string",
            bearer(sign(&with(valid.clone(), "roles", json!("admin")))),
        ),
        (
            "Basic",
            format!("Basic {}", b64url(b"alice@example.com:password")),
        ),
        ("Bearer without token", "Bearer".to_owned()),
        ("Bearer, empty token", "Bearer ".to_owned()),
        ("garbage", "Bearer not.a.jwt".to_owned()),
        ("not base64", "Bearer ***.***.***".to_owned()),
        (
            "oversized",
            bearer(format!(
                "{}.{}.{}",
                parts[0],
                "A".repeat(9 * 1024),
                parts[2]
            )),
        ),
        ("token without scheme", good.clone()),
    ];
    cases.extend(hardening_cases(&valid, &admin, &good));
    cases
}

/// RFC 8725's catalogue: algorithm confusion, key-carrying headers, `kid` injection, critical
/// extensions, shapes other than three base64url segments.
fn hardening_cases(valid: &Value, admin: &Value, good: &str) -> Vec<(&'static str, String)> {
    let now = now();
    let bearer = |t: String| format!("Bearer {t}");
    let json = |v: &Value| v.to_string();
    let hs = |header: Value, payload: &Value| {
        sign_raw_with(
            &header.to_string(),
            payload.to_string().as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
    };
    let with_secret = |header: Value, payload: &[u8], secret: &[u8]| {
        sign_raw_with(
            &header.to_string(),
            payload,
            &EncodingKey::from_secret(secret),
            Algorithm::HS256,
        )
    };
    let rsa_pem_trimmed = std::str::from_utf8(RSA_PUBLIC_PEM).unwrap().trim_end();
    let parts: Vec<&str> = good.split('.').collect();
    let attacker_secret = b"the attacker's own secret, 32+ bytes long";
    let embedded_jwk = json!({
        "alg": "HS256",
        "jwk": { "kty": "oct", "k": b64url(attacker_secret) },
    });
    let jws_json = json!({
        "protected": parts[0],
        "payload": parts[1],
        "signature": parts[2],
    });
    vec![
        ("alg nOnE", bearer(unsigned("nOnE", admin, false))),
        (
            "alg nOnE, trailing dot",
            bearer(unsigned("nOnE", admin, true)),
        ),
        ("alg None", bearer(unsigned("None", admin, false))),
        ("alg NONE", bearer(unsigned("NONE", admin, false))),
        (
            "HS256 signed with the RSA public key",
            bearer(with_secret(
                json!({"alg": "HS256"}),
                json(admin).as_bytes(),
                RSA_PUBLIC_PEM,
            )),
        ),
        (
            "HS256 signed with the RSA public key, no trailing newline",
            bearer(with_secret(
                json!({"alg": "HS256"}),
                json(admin).as_bytes(),
                rsa_pem_trimmed.as_bytes(),
            )),
        ),
        (
            "HS256 signed with the RSA public key, kid of the RSA key",
            bearer(with_secret(
                json!({"alg": "HS256", "kid": "rsa-1"}),
                json(admin).as_bytes(),
                RSA_PUBLIC_PEM,
            )),
        ),
        (
            "HS256 signed with the RSA public key, kid of the RSA key, no trailing newline",
            bearer(with_secret(
                json!({"alg": "HS256", "kid": "rsa-1"}),
                json(admin).as_bytes(),
                rsa_pem_trimmed.as_bytes(),
            )),
        ),
        (
            "ES256 token naming the RSA key",
            bearer(sign_asym(admin, Algorithm::ES256, Some("rsa-1"))),
        ),
        (
            "embedded jwk, signed with the attacker's key",
            bearer(with_secret(
                embedded_jwk,
                json(admin).as_bytes(),
                attacker_secret,
            )),
        ),
        (
            "embedded jwk next to a valid signature",
            bearer(hs(
                json!({"alg": "HS256", "jwk": {"kty": "oct", "k": "AAAA"}}),
                valid,
            )),
        ),
        (
            "x5c next to a valid signature",
            bearer(hs(json!({"alg": "HS256", "x5c": ["MIIB"]}), valid)),
        ),
        (
            "kid path traversal, empty secret",
            bearer(with_secret(
                json!({"alg": "HS256", "kid": "../../../../../../../dev/null"}),
                json(admin).as_bytes(),
                b"",
            )),
        ),
        (
            "kid SQL injection",
            bearer(with_secret(
                json!({"alg": "HS256", "kid": "x' UNION SELECT 'attacker-known-secret' --"}),
                json(admin).as_bytes(),
                b"attacker-known-secret",
            )),
        ),
        (
            "kid not a string",
            bearer(hs(json!({"alg": "HS256", "kid": 7}), valid)),
        ),
        (
            "iat in the future",
            bearer(sign(&with(valid.clone(), "iat", json!(now + 3600)))),
        ),
        (
            "exp null",
            bearer(sign(&with(valid.clone(), "exp", Value::Null))),
        ),
        (
            "exp negative",
            bearer(sign(&with(valid.clone(), "exp", json!(-1)))),
        ),
        (
            "empty aud",
            bearer(sign(&with(valid.clone(), "aud", json!("")))),
        ),
        (
            "empty aud array",
            bearer(sign(&with(valid.clone(), "aud", json!([])))),
        ),
        (
            "unknown crit",
            bearer(hs(
                json!({"alg": "HS256", "crit": ["http://example.test/ext"], "http://example.test/ext": true}),
                valid,
            )),
        ),
        (
            "b64 false",
            bearer(hs(
                json!({"alg": "HS256", "b64": false, "crit": ["b64"]}),
                valid,
            )),
        ),
        (
            "b64 false without crit",
            bearer(hs(json!({"alg": "HS256", "b64": false}), valid)),
        ),
        (
            "typ not JWT",
            bearer(hs(json!({"alg": "HS256", "typ": "secevent+jwt"}), valid)),
        ),
        (
            "nested JWT (cty)",
            bearer(hs(json!({"alg": "HS256", "cty": "JWT"}), valid)),
        ),
        (
            "duplicate roles, the second granting admin",
            bearer(sign_raw(
                r#"{"alg":"HS256"}"#,
                &format!(
                    r#"{{"sub":"{ALICE}","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"roles":["user"],"roles":["admin"]}}"#,
                    now + 600
                ),
            )),
        ),
        (
            "duplicate exp, the second extending it",
            bearer(sign_raw(
                r#"{"alg":"HS256"}"#,
                &format!(
                    r#"{{"sub":"{ALICE}","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"exp":{}}}"#,
                    now - 3600,
                    now + 600
                ),
            )),
        ),
        ("four segments", bearer(format!("{good}.{}", parts[2]))),
        ("one segment", bearer(parts[1].to_owned())),
        (
            "whitespace inside",
            bearer(format!("{}. {}.{}", parts[0], parts[1], parts[2])),
        ),
        ("whitespace before", format!("Bearer  {good}")),
        (
            "padded base64",
            bearer(format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
        ),
        (
            "non-JSON payload",
            bearer(with_secret(json!({"alg": "HS256"}), b"sub=admin", SECRET)),
        ),
        (
            "array payload",
            bearer(with_secret(
                json!({"alg": "HS256"}),
                format!("[{}]", json(valid)).as_bytes(),
                SECRET,
            )),
        ),
        ("JWS JSON serialization", bearer(jws_json.to_string())),
        (
            "100 KB token",
            bearer(format!(
                "{}.{}.{}",
                parts[0],
                "A".repeat(100 * 1024),
                parts[2]
            )),
        ),
    ]
}

#[tokio::test]
async fn valid_tokens_are_accepted() {
    let app = TestApp::start().await;
    let body = expect_json(app.get_as("/me", &alice()).await, StatusCode::OK).await;
    assert_eq!(body["sub"], ALICE);

    // The scheme name is case-insensitive (RFC 6750 / RFC 9110 §11.1).
    let res = app
        .get("/me")
        .header("authorization", format!("bearer {}", alice()))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, StatusCode::OK).await["sub"], ALICE);

    // `aud` may be an array that contains the configured audience (RFC 7519 §4.1.3).
    let multi_aud = sign(&with(
        claims(BOB, &[], ""),
        "aud",
        json!(["another-api", AUDIENCE]),
    ));
    let body = expect_json(app.get_as("/me", &multi_aud).await, StatusCode::OK).await;
    assert_eq!(body["sub"], BOB);
}

#[tokio::test]
async fn raw_signing_is_accepted() {
    // Control for the hand-signed tokens of `bad_credentials`.
    let app = TestApp::start().await;
    let now = now();
    let token = sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"{ALICE}","iss":"{ISSUER}","aud":"{AUDIENCE}","nbf":{now},"exp":{}}}"#,
            now + 600
        ),
    );
    let body = expect_json(app.get_as("/me", &token).await, StatusCode::OK).await;
    assert_eq!(body["sub"], ALICE);
}

#[tokio::test]
async fn missing_token_is_401_with_bearer_challenge() {
    let app = TestApp::start().await;
    let p = expect_problem(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    let challenge = p.header("www-authenticate").expect("WWW-Authenticate");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(p.body["code"], "unauthenticated");
}

#[tokio::test]
async fn every_bad_token_gets_the_same_401() {
    // Header limit raised so the 100 KB token reaches the verifier (and its 8 KiB cap): by
    // default the perimeter refuses it first, with 431 (perimeter.rs tests that).
    let app = TestApp::start_with(security().max_header_bytes(256 * 1024).build()).await;
    // Prime the token cache with a valid token first: forgeries derived from it must still be
    // verified, not served from the cache.
    expect_json(app.get_as("/me", &alice()).await, StatusCode::OK).await;

    let missing = expect_problem(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    let reference = missing.without_ids();

    let mut invalid_challenge: Option<String> = None;
    for (name, authorization) in bad_credentials() {
        for path in ["/me", "/admin/users", &format!("/users/{ALICE}")] {
            let res = app
                .get(path)
                .header("authorization", &authorization)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name} on {path}");
            let token = authorization
                .trim_start_matches("Bearer ")
                .trim_start_matches("Basic ");
            let mut echoed: Vec<&str> = CHECK_NAMES.to_vec();
            if token.len() > 8 {
                echoed.push(token);
                echoed.extend(token.split('.').filter(|p| p.len() > 8));
            }
            let p = expect_problem(res, StatusCode::UNAUTHORIZED, &echoed).await;
            assert_eq!(p.without_ids(), reference, "{name} on {path}: body differs");
            let challenge = p
                .header("www-authenticate")
                .unwrap_or_else(|| panic!("{name}: no WWW-Authenticate"))
                .to_owned();
            assert!(challenge.starts_with("Bearer"), "{name}: {challenge}");
            // Whatever was wrong, the challenge is the same for every presented credential.
            match &invalid_challenge {
                None => invalid_challenge = Some(challenge),
                Some(first) => assert_eq!(&challenge, first, "{name} on {path}"),
            }
        }
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = TestApp::start().await;
    let res = app
        .get("/me")
        .header("authorization", format!("Bearer {}", alice()))
        .header("authorization", format!("Bearer {}", carol_admin()))
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    assert!(p.header("www-authenticate").unwrap().starts_with("Bearer"));
}

// ---- API keys (`auth = "api_key"`) and several schemes on one endpoint --------------------------

mod api_keys {
    use std::sync::Arc;

    use reqwest::StatusCode;
    use secure_endpoint::api_key::{InMemoryApiKeys, NewApiKey};
    use secure_endpoint::routing::get;
    use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

    use super::common::{alice, expect_problem, serve, verifier};

    #[secure_endpoint(auth = "api_key", scopes = ["reports:read"])]
    async fn reports(principal: Principal) -> String {
        format!("reports for {}", principal.subject())
    }

    #[secure_endpoint(auth = ["jwt", "api_key"], allow = "authenticated")]
    async fn whoami(principal: Principal) -> String {
        format!(
            "{} via {}",
            principal.subject(),
            principal.scheme().as_str()
        )
    }

    struct Keys {
        reader: String,
        no_scope: String,
        revoked: String,
    }

    async fn start() -> (String, Keys) {
        let store = Arc::new(InMemoryApiKeys::new());
        let reader = NewApiKey::generate("sk_test", "svc-reports", &["reports:read"]);
        let no_scope = NewApiKey::generate("sk_test", "svc-other", &["orders:read"]);
        let revoked = NewApiKey::generate("sk_test", "svc-old", &["reports:read"]);
        let revoked_id = revoked.record.id.clone();
        for k in [&reader, &no_scope, &revoked] {
            store.insert(k.record.clone());
        }
        assert!(store.revoke(&revoked_id));
        let security = Security::builder()
            .allow_plain_http()
            .jwt(verifier())
            .api_keys(store)
            .build();
        let app = SecureRouter::new(security)
            .route("/reports", get(reports))
            .route("/whoami", get(whoami))
            .into_router();
        let addr = serve(app).await;
        let keys = Keys {
            reader: reader.key,
            no_scope: no_scope.key,
            revoked: revoked.key,
        };
        (format!("http://{addr}"), keys)
    }

    #[tokio::test]
    async fn api_key_is_checked_hashed_scoped_and_revocable() {
        let (base, keys) = start().await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let get = |path: &str, key: Option<&str>| {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(k) = key {
                req = req.header("x-api-key", k);
            }
            req.send()
        };

        let ok = get("/reports", Some(&keys.reader)).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.text().await.unwrap(), "reports for svc-reports");

        let missing = expect_problem(
            get("/reports", None).await.unwrap(),
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
        assert_eq!(
            missing.header("www-authenticate"),
            Some("ApiKey realm=\"api\", header=\"X-API-Key\"")
        );
        let reference = missing.without_ids();

        // Change the last character to a different one (a fixed replacement
        // would equal the real key whenever the key already ends in it).
        let last = keys.reader.chars().last().unwrap();
        let wrong = format!(
            "{}{}",
            &keys.reader[..keys.reader.len() - 1],
            if last == '0' { '1' } else { '0' }
        );
        assert_ne!(wrong, keys.reader);
        for (name, key, path) in [
            ("wrong key", wrong.as_str(), "/reports".to_owned()),
            ("revoked key", keys.revoked.as_str(), "/reports".to_owned()),
            (
                "key also in the query string",
                keys.reader.as_str(),
                format!("/reports?api_key={}", keys.reader),
            ),
            (
                "key-like query parameter",
                keys.reader.as_str(),
                "/reports?apikey=x".to_owned(),
            ),
        ] {
            let p = expect_problem(
                get(&path, Some(key)).await.unwrap(),
                StatusCode::UNAUTHORIZED,
                &[key, &key[8..]],
            )
            .await;
            assert_eq!(
                p.without_ids(),
                reference,
                "{name}: the same 401 as a missing key"
            );
        }

        let forbidden = expect_problem(
            get("/reports", Some(&keys.no_scope)).await.unwrap(),
            StatusCode::FORBIDDEN,
            &[],
        )
        .await;
        assert_eq!(forbidden.body["code"], "insufficient_scope");
    }

    #[tokio::test]
    async fn several_schemes_on_one_endpoint_name_the_one_that_authenticated() {
        let (base, keys) = start().await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let via_jwt = client
            .get(format!("{base}/whoami"))
            .bearer_auth(alice())
            .send()
            .await
            .unwrap();
        assert_eq!(via_jwt.status(), StatusCode::OK);
        assert!(via_jwt.text().await.unwrap().ends_with(" via jwt"));
        let via_key = client
            .get(format!("{base}/whoami"))
            .header("x-api-key", &keys.no_scope)
            .send()
            .await
            .unwrap();
        assert_eq!(via_key.text().await.unwrap(), "svc-other via api_key");

        let none = client.get(format!("{base}/whoami")).send().await.unwrap();
        let challenges: Vec<String> = none
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            challenges,
            [
                "Bearer realm=\"api\"",
                "ApiKey realm=\"api\", header=\"X-API-Key\""
            ]
        );
        expect_problem(none, StatusCode::UNAUTHORIZED, &[]).await;
    }
}

// ---- asymmetric keys and key-carrying headers -----------------------------------------------

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_are_accepted_by_kid() {
    let app = TestApp::start().await;
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-1"),
        (Algorithm::ES256, "ec-1"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        let token = sign_asym(&claims(BOB, &["user"], ""), alg, Some(kid));
        let body = expect_json(app.get_as("/me", &token).await, StatusCode::OK).await;
        assert_eq!(body["sub"], BOB, "{alg:?}");
        // Each key has one algorithm: the same token under another key's kid is refused.
        let other = if kid == "rsa-1" { "ec-1" } else { "rsa-1" };
        let token = sign_asym(&claims(BOB, &["user"], ""), alg, Some(other));
        expect_problem(
            app.get_as("/me", &token).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
    }
}

/// A listener that counts the connections it accepts.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr.to_string(), count)
}

#[tokio::test]
async fn no_connection_is_made_because_of_a_token() {
    let app = TestApp::start().await;
    let (addr, connections) = counting_listener().await;
    let admin = claims(ALICE, &["admin"], "reports:read");
    let attacker = EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM).unwrap();
    let mut tokens = Vec::new();
    for header in ["jku", "x5u"] {
        for scheme in ["http", "https"] {
            let url = format!("{scheme}://{addr}/keys.json");
            // Signed by a key the attacker would publish at the URL, naming a kid we lack.
            tokens.push(sign_raw_with(
                &json!({"alg": "RS256", "kid": "attacker", header: url}).to_string(),
                admin.to_string().as_bytes(),
                &attacker,
                Algorithm::RS256,
            ));
            // And with a valid signature: the header alone refuses the token.
            tokens.push(sign_raw(
                &json!({"alg": "HS256", header: url}).to_string(),
                &claims(ALICE, &["user"], "").to_string(),
            ));
        }
    }
    for token in &tokens {
        let p = expect_problem(
            app.get_as("/admin/users", token).await,
            StatusCode::UNAUTHORIZED,
            &[&addr],
        )
        .await;
        assert_eq!(p.body["code"], "unauthenticated");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a token made the server connect out"
    );
}

#[tokio::test]
async fn configurable_claims_and_typ() {
    use secure_endpoint::jwt::JwtVerifier;
    use secure_endpoint::Security;
    let verifier = JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .typ("at+jwt")
        .subject_claim("client_id")
        .roles_claim("realm_access.roles")
        .scopes_claim("scp")
        .build()
        .unwrap();
    let app =
        TestApp::start_with(Security::builder().allow_plain_http().jwt(verifier).build()).await;
    let now = now();
    let claims = json!({
        "client_id": CAROL_ADMIN, "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
        "realm_access": { "roles": ["admin"] }, "scp": ["reports:read"],
    });
    let at_jwt = sign_raw(r#"{"alg":"HS256","typ":"at+jwt"}"#, &claims.to_string());
    let body = expect_json(app.get_as("/me", &at_jwt).await, StatusCode::OK).await;
    assert_eq!(body["sub"], CAROL_ADMIN);
    let res = app.get_as("/admin/users", &at_jwt).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "roles read from realm_access.roles"
    );
    let res = app.get_as("/reports", &at_jwt).await;
    assert_eq!(res.status(), StatusCode::OK, "scopes read from scp");
    // The typ is required once configured: `JWT` and an absent typ are refused.
    for header in [r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"HS256"}"#] {
        let token = sign_raw(header, &claims.to_string());
        expect_problem(
            app.get_as("/me", &token).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
    }
}
