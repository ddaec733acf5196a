//! RFC 9421 Appendix B vectors (keys from B.1, the test-request and test-response of B.2),
//! then the verifier's refusals.

use std::future::Future as _;

use base64::Engine as _;
use http::HeaderValue;

use super::*;
use crate::auth::signature_base::tests::{inner, test_request};

const SHARED_SECRET_B64: &str =
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==";
/// B.1.4, PKCS#8 and SPKI DER (base64): the raw key is the last 32 bytes of each.
const ED25519_PRIVATE_DER: &str =
    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
const ED25519_PUBLIC_DER: &str = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";
const ECC_P256_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----";
/// The secret scalar of B.1.3's `EC PRIVATE KEY` (SEC1), bytes 7..39 of its DER.
const ECC_P256_PRIVATE_DER: &str = "MHcCAQEEIFKbhfNZfpDsW43+0+JjUr9K+bTeuxopu653+hBaXGA7oAoGCCqGSM49AwEHoUQDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==";
const RSA_PSS_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----";
const CREATED: u64 = 1_618_884_473;
const BODY: &[u8] = br#"{"hello": "world"}"#;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn shared_secret() -> Vec<u8> {
    b64(SHARED_SECRET_B64)
}

fn ed25519_seed() -> [u8; 32] {
    let der = b64(ED25519_PRIVATE_DER);
    der[der.len() - 32..].try_into().unwrap()
}

fn ed25519_public() -> Vec<u8> {
    let der = b64(ED25519_PUBLIC_DER);
    der[der.len() - 32..].to_vec()
}

fn request_view(parts: &Parts) -> MessageView<'_> {
    MessageView::request(&parts.method, &parts.uri, &parts.headers, None)
}

fn finish_now(pending: PendingSignature, body: &[u8]) -> Result<Principal, Refusal> {
    let mut future = std::pin::pin!(pending.finish(body));
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => panic!("the in-memory store answers at once"),
    }
}

/// B.2.5: hmac-sha256 is deterministic, so the signature is reproduced byte for byte, and
/// the verifier accepts the RFC's request as published.
#[test]
fn rfc9421_b25_hmac_sha256() {
    let parts = test_request();
    let covered = inner(
        r#"("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#,
    );
    let base = signature_base(&request_view(&parts), &covered).unwrap();
    assert_eq!(
        base,
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
         \"@authority\": example.com\n\
         \"content-type\": application/json\n\
         \"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""
    );
    let signature = SignatureSigner::hmac_sha256("test-shared-secret", &shared_secret())
        .raw_sign(base.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&signature),
        "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="
    );

    let mut parts = test_request();
    parts.headers.insert(
        "signature-input",
        HeaderValue::from_static(r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#),
    );
    parts.headers.insert(
        "signature",
        HeaderValue::from_static("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"),
    );
    let verifier = SignatureVerifier::new()
        .key(
            "test-shared-secret",
            SignatureKey::hmac_sha256("partner", &shared_secret()).unwrap(),
        )
        .required_components(["@authority"])
        .require_nonce(false);
    let pending = verifier.begin(&parts, CREATED + 10).unwrap();
    assert_eq!(finish_now(pending, BODY).unwrap().subject(), "partner");
    // The same request one window later is stale.
    assert_eq!(
        verifier.begin(&parts, CREATED + 301).unwrap_err().reason,
        "signature_stale"
    );
    // The default verifier requires @method, @path, @query and content-digest.
    let strict = SignatureVerifier::new()
        .key(
            "test-shared-secret",
            SignatureKey::hmac_sha256("partner", &shared_secret()).unwrap(),
        )
        .require_nonce(false);
    assert_eq!(
        strict.begin(&parts, CREATED).unwrap_err().reason,
        "signature_components"
    );
}

/// B.2.6: ed25519 is deterministic: reproduced byte for byte, and verified.
#[test]
fn rfc9421_b26_ed25519() {
    let parts = test_request();
    let covered = inner(
        r#"("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
    );
    let base = signature_base(&request_view(&parts), &covered).unwrap();
    assert_eq!(
        base,
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
         \"@method\": POST\n\
         \"@path\": /foo\n\
         \"@authority\": example.com\n\
         \"content-type\": application/json\n\
         \"content-length\": 18\n\
         \"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
    );
    let published =
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==";
    let signature =
        SignatureSigner::ed25519("test-key-ed25519", &ed25519_seed()).raw_sign(base.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&signature),
        published
    );
    let key = SignatureKey::ed25519("partner", &ed25519_public()).unwrap();
    assert!(key.verify(base.as_bytes(), &b64(published)));
    assert!(!key.verify(base.replace("/foo", "/bar").as_bytes(), &b64(published)));
}

/// B.2.4: ECDSA signatures are randomized: the published one verifies over the
/// test-response's base, and a signature of ours round-trips.
#[test]
fn rfc9421_b24_ecdsa_p256_sha256() {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "content-digest",
        HeaderValue::from_static("sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:"),
    );
    headers.insert("content-length", HeaderValue::from_static("23"));
    let response = MessageView {
        method: None,
        scheme: None,
        authority: None,
        path: None,
        query: None,
        status: Some(200),
        headers: &headers,
    };
    assert!(super::super::signature_base::content_digest_matches(
        &[headers["content-digest"].to_str().unwrap()],
        br#"{"message": "good dog"}"#
    ));
    let covered = inner(
        r#"("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256""#,
    );
    let base = signature_base(&response, &covered).unwrap();
    assert_eq!(
        base,
        "\"@status\": 200\n\
         \"content-type\": application/json\n\
         \"content-digest\": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:\n\
         \"content-length\": 23\n\
         \"@signature-params\": (\"@status\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\""
    );
    let key = SignatureKey::ecdsa_p256_pem("server", ECC_P256_PUBLIC_PEM).unwrap();
    let published = b64(
        "wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==",
    );
    assert!(key.verify(base.as_bytes(), &published));
    assert!(!key.verify(base.replace("200", "201").as_bytes(), &published));
    let der = b64(ECC_P256_PRIVATE_DER);
    let signer = SignatureSigner::ecdsa_p256("test-key-ecc-p256", &der[7..39]).unwrap();
    let ours = signer.raw_sign(base.as_bytes());
    assert_eq!(ours.len(), 64);
    assert!(key.verify(base.as_bytes(), &ours));
}

/// B.2.1–B.2.3: RSA-PSS signatures are randomized: the published ones verify.
#[test]
fn rfc9421_b21_b23_rsa_pss_sha512() {
    let key = SignatureKey::rsa_pss_sha512_pem("partner", RSA_PSS_PUBLIC_PEM).unwrap();
    let parts = test_request();
    let view = request_view(&parts);
    let cases = [
        (
            r#"();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#,
            "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==",
        ),
        (
            r#"("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss""#,
            "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==",
        ),
    ];
    for (input, signature) in cases {
        let base = signature_base(&view, &inner(input)).unwrap();
        assert!(key.verify(base.as_bytes(), &b64(signature)), "{input}");
        assert!(!key.verify(format!("{base} ").as_bytes(), &b64(signature)));
    }
}

/// B.2.2: selective covered components, `@query-param` among them. The base byte for byte;
/// the published (randomized) RSA-PSS signature verifies over it, and through the verifier
/// on the RFC's request as published. Another `Pet` is a mismatch, none is a missing
/// component.
#[test]
fn rfc9421_b22_rsa_pss_sha512_query_param() {
    const INPUT: &str = r#"("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example""#;
    const SIGNATURE: &str = "LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==";
    let parts = test_request();
    let base = signature_base(&request_view(&parts), &inner(INPUT)).unwrap();
    assert_eq!(
        base,
        "\"@authority\": example.com\n\
         \"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n\
         \"@query-param\";name=\"Pet\": dog\n\
         \"@signature-params\": (\"@authority\" \"content-digest\" \"@query-param\";name=\"Pet\");created=1618884473;keyid=\"test-key-rsa-pss\";tag=\"header-example\""
    );
    let key = SignatureKey::rsa_pss_sha512_pem("partner", RSA_PSS_PUBLIC_PEM).unwrap();
    assert!(key.verify(base.as_bytes(), &b64(SIGNATURE)));
    assert!(!key.verify(base.replace("dog", "cat").as_bytes(), &b64(SIGNATURE)));

    let verifier = SignatureVerifier::new()
        .key("test-key-rsa-pss", key)
        .required_components(["content-digest", r#""@query-param";name="Pet""#])
        .require_nonce(false);
    let signed = |target: &str| {
        let mut parts = test_request();
        parts.uri = target.parse().unwrap();
        parts.headers.insert(
            "signature-input",
            HeaderValue::from_str(&format!("sig-b22={INPUT}")).unwrap(),
        );
        parts.headers.insert(
            "signature",
            HeaderValue::from_str(&format!("sig-b22=:{SIGNATURE}:")).unwrap(),
        );
        parts
    };
    let pending = verifier
        .begin(&signed("/foo?param=Value&Pet=dog"), CREATED + 10)
        .unwrap();
    assert_eq!(finish_now(pending, BODY).unwrap().subject(), "partner");
    // Only `Pet` is covered: the path and the other parameter may change, `Pet` may not.
    assert!(verifier
        .begin(&signed("/bar?param=Other&Pet=dog"), CREATED)
        .is_ok());
    let refused = |target: &str| verifier.begin(&signed(target), CREATED).unwrap_err().reason;
    assert_eq!(refused("/foo?param=Value&Pet=cat"), "signature_mismatch");
    assert_eq!(
        refused("/foo?param=Value&Pet=dog&Pet=cat"),
        "signature_mismatch"
    );
    assert_eq!(refused("/foo?param=Value"), "signature_components");
    assert_eq!(refused("/foo?param=Value&pet=dog"), "signature_components");
    // A verifier that requires another parameter refuses the RFC's signature.
    let other = SignatureVerifier::new()
        .key(
            "test-key-rsa-pss",
            SignatureKey::rsa_pss_sha512_pem("partner", RSA_PSS_PUBLIC_PEM).unwrap(),
        )
        .required_components([r#""@query-param";name="param""#])
        .require_nonce(false);
    assert_eq!(
        other
            .begin(&signed("/foo?param=Value&Pet=dog"), CREATED)
            .unwrap_err()
            .reason,
        "signature_components"
    );
}

/// B.3: a TLS-terminating proxy's signature (randomized ECDSA) over the client certificate
/// it forwards, with `@path`, `@query`, `@method` and `@authority`: the published one
/// verifies over the base, and through the verifier on the RFC's request.
#[test]
fn rfc9421_b3_tls_terminating_proxy() {
    const CLIENT_CERT: &str = ":MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAxMTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIwADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMCBsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1wbGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMjeSkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=:";
    const INPUT: &str = r#"("@path" "@query" "@method" "@authority" "client-cert");created=1618884473;keyid="test-key-ecc-p256""#;
    const SIGNATURE: &str =
        "xVMHVpawaAC/0SbHrKRs9i8I3eOs5RtTMGCWXm/9nvZzoHsIg6Mce9315T6xoklyy0yzhD9ah4JHRwMLOgmizw==";
    let mut parts = http::Request::post("/foo?param=Value&Pet=dog")
        .header("host", "service.internal.example")
        .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("content-type", "application/json")
        .header("content-length", "18")
        .header("client-cert", CLIENT_CERT)
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let base = signature_base(&request_view(&parts), &inner(INPUT)).unwrap();
    assert_eq!(
        base,
        format!(
            "\"@path\": /foo\n\
             \"@query\": ?param=Value&Pet=dog\n\
             \"@method\": POST\n\
             \"@authority\": service.internal.example\n\
             \"client-cert\": {CLIENT_CERT}\n\
             \"@signature-params\": {INPUT}"
        )
    );
    let key = SignatureKey::ecdsa_p256_pem("proxy", ECC_P256_PUBLIC_PEM).unwrap();
    assert!(key.verify(base.as_bytes(), &b64(SIGNATURE)));
    parts.headers.insert(
        "signature-input",
        HeaderValue::from_str(&format!("ttrp={INPUT}")).unwrap(),
    );
    parts.headers.insert(
        "signature",
        HeaderValue::from_str(&format!("ttrp=:{SIGNATURE}:")).unwrap(),
    );
    let verifier = SignatureVerifier::new()
        .key("test-key-ecc-p256", key)
        .required_components(["@method", "@path", "@query", "client-cert"])
        .require_nonce(false);
    assert!(verifier.begin(&parts, CREATED).is_ok());
    let mut other = parts.clone();
    other
        .headers
        .insert("client-cert", HeaderValue::from_static(":AAAA:"));
    assert_eq!(
        verifier.begin(&other, CREATED).unwrap_err().reason,
        "signature_mismatch"
    );
}

/// B.4: the ed25519 signature (deterministic: reproduced byte for byte) survives the
/// transformations the RFC lists as harmless (a parameter and a header added, `Date`
/// dropped, `Accept` lines combined, fields reordered) and not the others (another method
/// and authority, `Accept` values reordered).
#[test]
fn rfc9421_b4_transformations() {
    const INPUT: &str =
        r#"("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519""#;
    const SIGNATURE: &str =
        "ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==";
    let request = |method: &str, target: &str, headers: &[(&str, &str)]| {
        let mut builder = http::Request::builder().method(method).uri(target);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder = builder
            .header("signature-input", format!("transform={INPUT}"))
            .header("signature", format!("transform=:{SIGNATURE}:"));
        builder.body(()).unwrap().into_parts().0
    };
    let original = request(
        "GET",
        "/demo?name1=Value1&Name2=value2",
        &[
            ("host", "example.org"),
            ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
            ("accept", "application/json"),
            ("accept", "*/*"),
        ],
    );
    let base = signature_base(&request_view(&original), &inner(INPUT)).unwrap();
    assert_eq!(
        base,
        "\"@method\": GET\n\
         \"@path\": /demo\n\
         \"@authority\": example.org\n\
         \"accept\": application/json, */*\n\
         \"@signature-params\": (\"@method\" \"@path\" \"@authority\" \"accept\");created=1618884473;keyid=\"test-key-ed25519\""
    );
    let signature =
        SignatureSigner::ed25519("test-key-ed25519", &ed25519_seed()).raw_sign(base.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&signature),
        SIGNATURE
    );
    let verifier = SignatureVerifier::new()
        .key(
            "test-key-ed25519",
            SignatureKey::ed25519("client", &ed25519_public()).unwrap(),
        )
        .required_components(["@method", "@path", "@authority", "accept"])
        .require_nonce(false);
    let verifies = |parts: &Parts| verifier.begin(parts, CREATED).map(|_| ());
    assert_eq!(verifies(&original), Ok(()));
    let harmless = [
        request(
            "GET",
            "/demo?name1=Value1&Name2=value2&param=added",
            &[
                ("host", "example.org"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("accept", "application/json"),
                ("accept", "*/*"),
                ("accept-language", "en-US,en;q=0.5"),
            ],
        ),
        request(
            "GET",
            "/demo?name1=Value1&Name2=value2",
            &[
                ("host", "example.org"),
                ("referer", "https://developer.example.org/demo"),
                ("accept", "application/json, */*"),
            ],
        ),
        request(
            "GET",
            "/demo?name1=Value1&Name2=value2",
            &[
                ("accept", "application/json"),
                ("accept", "*/*"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("host", "example.org"),
            ],
        ),
    ];
    for parts in &harmless {
        assert_eq!(verifies(parts), Ok(()), "{parts:?}");
    }
    let harmful = [
        request(
            "POST",
            "/demo?name1=Value1&Name2=value2",
            &[
                ("host", "example.com"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("accept", "application/json"),
                ("accept", "*/*"),
            ],
        ),
        request(
            "GET",
            "/demo?name1=Value1&Name2=value2",
            &[
                ("host", "example.org"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("accept", "*/*"),
                ("accept", "application/json"),
            ],
        ),
    ];
    for parts in &harmful {
        assert_eq!(
            verifies(parts).unwrap_err().reason,
            "signature_mismatch",
            "{parts:?}"
        );
    }
}

const KEY_ID: &str = "partner-demo";
const NOW: u64 = 1_764_000_000;

fn verifier() -> SignatureVerifier {
    SignatureVerifier::new().key(
        KEY_ID,
        SignatureKey::hmac_sha256("partner", &shared_secret())
            .unwrap()
            .roles(["partner"]),
    )
}

fn signed(method: &str, uri: &str, body: &[u8], nonce: &str) -> Parts {
    let mut parts = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(())
        .unwrap()
        .into_parts()
        .0;
    SignatureSigner::hmac_sha256(KEY_ID, &shared_secret())
        .sign_at(&mut parts, body, NOW, Some(nonce))
        .unwrap();
    parts
}

fn check(
    v: &SignatureVerifier,
    parts: &Parts,
    body: &[u8],
    now: u64,
) -> Result<Principal, &'static str> {
    let pending = v.begin(parts, now).map_err(|r| r.reason)?;
    finish_now(pending, body).map_err(|r| r.reason)
}

#[test]
fn signer_and_verifier_round_trip_every_algorithm() {
    let parts = signed("POST", "/orders?x=1", BODY, "n-1");
    assert_eq!(
        parts.headers["signature-input"],
        r#"sig1=("@method" "@path" "@query" "content-digest");created=1764000000;keyid="partner-demo";nonce="n-1";alg="hmac-sha256""#
    );
    assert_eq!(
        parts.headers["content-digest"],
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    // The value docs/hmac.md's Python recipe computes for the same inputs.
    assert_eq!(
        parts.headers["signature"],
        "sig1=:5BZgHBwvGJe+uOfRxW0T+ZZgG8dlNmzk8pp0Ek5QFbM=:"
    );
    let p = check(&verifier(), &parts, BODY, NOW).unwrap();
    assert_eq!(
        (p.subject(), p.scheme()),
        ("partner", AuthScheme::Signature)
    );
    assert!(p.has_role("partner"));

    let der = b64(ECC_P256_PRIVATE_DER);
    let signers = [
        SignatureSigner::ed25519("ed", &ed25519_seed()),
        SignatureSigner::ecdsa_p256("ec", &der[7..39]).unwrap(),
    ];
    let v = SignatureVerifier::new()
        .key(
            "ed",
            SignatureKey::ed25519("ed-partner", &ed25519_public()).unwrap(),
        )
        .key(
            "ec",
            SignatureKey::ecdsa_p256_pem("ec-partner", ECC_P256_PUBLIC_PEM).unwrap(),
        );
    for signer in signers {
        let mut parts = http::Request::put("/a%20b")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        signer.sign(&mut parts, b"x").unwrap();
        assert!(check(&v, &parts, b"x", unix_now()).is_ok());
        // The same signature with the key id of the other algorithm: `alg` disagrees.
        let input = parts.headers["signature-input"]
            .to_str()
            .unwrap()
            .replace("keyid=\"ed\"", "keyid=\"ec\"")
            .replace("keyid=\"ec\";nonce", "keyid=\"ed\";nonce");
        let mut swapped = parts.clone();
        swapped
            .headers
            .insert("signature-input", HeaderValue::from_str(&input).unwrap());
        assert!(check(&v, &swapped, b"x", unix_now()).is_err());
    }
}

/// The signer covers a query parameter named by its serialized identifier; the verifier
/// requires it the same way. A signer asked to cover a parameter the request lacks fails.
#[test]
fn signer_covers_a_query_param() {
    let components = [
        "@method",
        "@path",
        r#""@query-param";name="qty""#,
        "content-digest",
    ];
    let signer = SignatureSigner::hmac_sha256(KEY_ID, &shared_secret()).components(components);
    let v = verifier().required_components(components);
    let mut parts = http::Request::post("/orders?qty=2&note=a+b")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    signer.sign_at(&mut parts, BODY, NOW, Some("q-1")).unwrap();
    assert_eq!(
        parts.headers["signature-input"],
        r#"sig1=("@method" "@path" "@query-param";name="qty" "content-digest");created=1764000000;keyid="partner-demo";nonce="q-1";alg="hmac-sha256""#
    );
    let mut other = parts.clone();
    other.uri = "/orders?qty=2&note=changed".parse().unwrap();
    assert!(check(&v, &other, BODY, NOW).is_ok());
    let mut other = parts.clone();
    other.uri = "/orders?qty=20&note=a+b".parse().unwrap();
    assert_eq!(
        check(&v, &other, BODY, NOW).unwrap_err(),
        "signature_mismatch"
    );
    // The default verifier requires @query, which this signature does not cover.
    assert_eq!(
        check(&verifier(), &parts, BODY, NOW).unwrap_err(),
        "signature_components"
    );
    let mut lacking = http::Request::post("/orders?note=x")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(signer
        .sign_at(&mut lacking, BODY, NOW, Some("q-2"))
        .is_err());
    let malformed = SignatureSigner::hmac_sha256(KEY_ID, &shared_secret())
        .components([r#""@query-param";name="#]);
    assert!(malformed.sign_at(&mut lacking, BODY, NOW, None).is_err());
}

#[test]
fn tampering_staleness_replay_and_wrong_keys_are_refused() {
    let v = verifier();
    let parts = signed("POST", "/orders?x=1", BODY, "n-2");
    assert_eq!(
        check(&v, &parts, br#"{"hello": "World"}"#, NOW).unwrap_err(),
        "digest_mismatch"
    );
    let mut other = parts.clone();
    other.method = http::Method::PUT;
    assert_eq!(
        check(&v, &other, BODY, NOW).unwrap_err(),
        "signature_mismatch"
    );
    let mut other = parts.clone();
    other.uri = "/orders?x=2".parse().unwrap();
    assert_eq!(
        check(&v, &other, BODY, NOW).unwrap_err(),
        "signature_mismatch"
    );
    let mut other = parts.clone();
    other.headers.insert(
        "content-digest",
        HeaderValue::from_str(&super::super::signature_base::content_digest_sha256(
            b"other",
        ))
        .unwrap(),
    );
    assert_eq!(
        check(&v, &other, b"other", NOW).unwrap_err(),
        "signature_mismatch"
    );
    assert_eq!(
        check(&v, &parts, BODY, NOW + 301).unwrap_err(),
        "signature_stale"
    );
    assert_eq!(
        check(&v, &parts, BODY, NOW - 301).unwrap_err(),
        "signature_stale"
    );
    // None of the refusals used up the nonce; the second delivery is a replay.
    assert!(check(&v, &parts, BODY, NOW + 300).is_ok());
    assert_eq!(check(&v, &parts, BODY, NOW + 1).unwrap_err(), "replayed");

    // Another secret under the same key id; an unknown key id.
    let mut parts = http::Request::post("/orders")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    SignatureSigner::hmac_sha256(KEY_ID, &[7u8; 64])
        .sign_at(&mut parts, BODY, NOW, Some("n-3"))
        .unwrap();
    assert_eq!(
        check(&v, &parts, BODY, NOW).unwrap_err(),
        "signature_mismatch"
    );
    let mut parts = http::Request::post("/orders")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    SignatureSigner::hmac_sha256("nobody", &shared_secret())
        .sign_at(&mut parts, BODY, NOW, Some("n-3"))
        .unwrap();
    assert_eq!(
        check(&v, &parts, BODY, NOW).unwrap_err(),
        "signature_unknown_key"
    );

    // A signature that omits the digest or the method; one without a nonce.
    for components in [
        vec!["@method", "@path", "@query"],
        vec!["@path", "@query", "content-digest"],
    ] {
        let mut parts = http::Request::post("/orders")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        SignatureSigner::hmac_sha256(KEY_ID, &shared_secret())
            .components(components)
            .sign_at(&mut parts, BODY, NOW, Some("n-4"))
            .unwrap();
        assert_eq!(
            check(&v, &parts, BODY, NOW).unwrap_err(),
            "signature_components"
        );
    }
    let mut parts = http::Request::post("/orders")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    SignatureSigner::hmac_sha256(KEY_ID, &shared_secret())
        .sign_at(&mut parts, BODY, NOW, None)
        .unwrap();
    assert_eq!(
        check(&v, &parts, BODY, NOW).unwrap_err(),
        "signature_nonce_missing"
    );
}

#[test]
fn missing_and_malformed_headers() {
    let v = verifier();
    let plain = http::Request::post("/orders")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(
        v.begin(&plain, NOW).unwrap_err().failure,
        AuthFailure::Missing
    );
    let good = signed("POST", "/orders", BODY, "n-5");
    for (name, value) in [
        ("signature", "sig1=abc"),
        ("signature", "other=:AAAA:"),
        ("signature-input", "sig1=\"x\""),
        (
            "signature-input",
            "sig1=(\"@method\");created=-1;keyid=\"partner-demo\"",
        ),
        ("signature-input", "((("),
    ] {
        let mut parts = good.clone();
        parts.headers.insert(name, HeaderValue::from_static(value));
        let refusal = v.begin(&parts, NOW).unwrap_err();
        assert_eq!(refusal.failure, AuthFailure::Invalid, "{name}: {value}");
    }
    let mut parts = good.clone();
    parts.headers.remove("signature");
    assert_eq!(
        v.begin(&parts, NOW).unwrap_err().failure,
        AuthFailure::Invalid
    );
    let debug = format!(
        "{v:?}{:?}",
        SignatureSigner::hmac_sha256(KEY_ID, &shared_secret())
    );
    assert!(
        !debug.contains("uzvJ") && !debug.contains("187, 59"),
        "{debug}"
    );
}

/// Under `Router::nest` the handler sees the stripped path; the signature covers the target
/// as sent, which axum keeps as `OriginalUri`.
#[test]
fn the_original_uri_is_verified() {
    let v = verifier();
    let mut parts = signed("POST", "/partner/orders?x=1", BODY, "n-6");
    parts
        .extensions
        .insert(axum::extract::OriginalUri(parts.uri.clone()));
    parts.uri = "/orders?x=1".parse().unwrap();
    assert!(check(&v, &parts, BODY, NOW).is_ok());
}
