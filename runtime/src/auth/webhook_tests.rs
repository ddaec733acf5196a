//! Each sender's published vector or documented construction, then the refusals.

use std::future::Future as _;

use super::*;

fn finish_now(pending: PendingWebhook, body: &[u8]) -> Result<Principal, &'static str> {
    let mut future = std::pin::pin!(pending.finish(body));
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result.map_err(|r| r.reason),
        std::task::Poll::Pending => panic!("the in-memory store answers at once"),
    }
}

fn parts(headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::post("/hooks");
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(()).unwrap().into_parts().0
}

/// GitHub's documented example: secret "It's a Secret to Everybody", payload
/// "Hello, World!".
#[test]
fn github_documented_vector() {
    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const EXPECTED: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(sign::github(SECRET, b"Hello, World!"), EXPECTED);
    let v = GithubWebhook::new("github", SECRET).unwrap();
    let delivery = [
        ("x-hub-signature-256", EXPECTED),
        ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ];
    let p = finish_now(v.begin(&parts(&delivery), 1_000).unwrap(), b"Hello, World!").unwrap();
    assert_eq!(
        (p.subject(), p.scheme()),
        ("github", AuthScheme::GithubWebhook)
    );
    // The same delivery id again: a replay, also a day minus a second later.
    assert_eq!(
        finish_now(
            v.begin(&parts(&delivery), 1_000 + 86_399).unwrap(),
            b"Hello, World!"
        )
        .unwrap_err(),
        "replayed"
    );
    // Altered body; no delivery id; another secret; uppercase hex is GitHub's too.
    let fresh = [
        ("x-hub-signature-256", EXPECTED),
        ("x-github-delivery", "a-2"),
    ];
    assert_eq!(
        finish_now(v.begin(&parts(&fresh), 1_000).unwrap(), b"Hello, World?").unwrap_err(),
        "signature_mismatch"
    );
    assert_eq!(
        v.begin(&parts(&[("x-hub-signature-256", EXPECTED)]), 1)
            .unwrap_err()
            .reason,
        "signature_nonce_missing"
    );
    let other = GithubWebhook::new("github", b"another secret").unwrap();
    assert_eq!(
        finish_now(other.begin(&parts(&fresh), 1).unwrap(), b"Hello, World!").unwrap_err(),
        "signature_mismatch"
    );
    let rotated = other.secret(SECRET).unwrap();
    assert!(finish_now(rotated.begin(&parts(&fresh), 1).unwrap(), b"Hello, World!").is_ok());
    for bad in [
        "sha1=757107ea",
        "sha256=757107ea",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ] {
        assert_eq!(
            v.begin(
                &parts(&[("x-hub-signature-256", bad), ("x-github-delivery", "a-3")]),
                1
            )
            .unwrap_err()
            .reason,
            "signature_malformed"
        );
    }
    assert_eq!(
        v.begin(&parts(&[]), 1).unwrap_err().failure,
        crate::auth::AuthFailure::Missing
    );
}

/// Stripe documents the construction (HMAC-SHA256 of `{t}.{payload}` keyed with the whole
/// `whsec_` string, lowercase hex), not a fixed vector; this one was computed independently
/// (Python's hmac module) and is checked both ways.
#[test]
fn stripe_signature_with_rotation_and_tolerance() {
    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id": "evt_test_webhook", "object": "event"}"#;
    let header = sign::stripe(SECRET, 1_700_000_000, BODY);
    assert_eq!(
        header,
        "t=1700000000,v1=aafb6f8becb4b5db5da0da34d6fb419de5f0866d738651a835f821a8a96cf1f3"
    );
    let v = StripeWebhook::new("stripe", SECRET).unwrap();
    let ok = |h: &str, now| {
        finish_now(
            v.begin(&parts(&[("stripe-signature", h)]), now)
                .map_err(|r| r.reason)?,
            BODY,
        )
    };
    assert!(ok(&header, 1_700_000_000 + 300).is_ok());
    assert_eq!(ok(&header, 1_700_000_000 + 10).unwrap_err(), "replayed");
    let header = sign::stripe(SECRET, 1_700_000_001, BODY);
    assert_eq!(
        ok(&header, 1_700_000_001 + 301).unwrap_err(),
        "signature_stale"
    );
    // During a rotation Stripe sends one v1 per secret: one match is enough.
    let old = sign::stripe("whsec_old", 1_700_000_001, BODY);
    let both = format!("{},{}", header, old.split(',').nth(1).unwrap());
    assert!(ok(&both, 1_700_000_001).is_ok());
    let only_old = format!(
        "t=1700000002,{}",
        sign::stripe("whsec_old", 1_700_000_002, BODY)
            .split(',')
            .nth(1)
            .unwrap()
    );
    assert_eq!(
        ok(&only_old, 1_700_000_002).unwrap_err(),
        "signature_mismatch"
    );
    // v0 is ignored; no v1, no t, two t: malformed.
    for bad in [
        "t=1700000003,v0=abc",
        "v1=00",
        "t=1,t=2,v1=ff",
        "t=01700000003,v1=x",
    ] {
        assert_eq!(
            ok(bad, 1_700_000_003).unwrap_err(),
            "signature_malformed",
            "{bad}"
        );
    }
}

/// The Standard Webhooks specification's test vector.
#[test]
fn standard_webhooks_published_vector() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: u64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(sign::standard(SECRET, ID, TS, BODY).unwrap(), SIGNATURE);
    let v = StandardWebhook::new("sender", SECRET).unwrap();
    let delivery = |sig: &str, ts: &str, id: &str| {
        parts(&[
            ("webhook-id", id),
            ("webhook-timestamp", ts),
            ("webhook-signature", sig),
        ])
    };
    let check = |p: &Parts, now, body| finish_now(v.begin(p, now).map_err(|r| r.reason)?, body);
    assert!(check(&delivery(SIGNATURE, "1614265330", ID), TS, BODY).is_ok());
    assert_eq!(
        check(&delivery(SIGNATURE, "1614265330", ID), TS, BODY).unwrap_err(),
        "replayed"
    );
    // Several signatures (rotation), unknown versions skipped.
    let list = format!("v1a,AAAA v1,{}= {SIGNATURE}", "A".repeat(43));
    assert_eq!(
        check(&delivery(&list, "1614265330", "msg_2"), TS, BODY).unwrap_err(),
        "signature_mismatch"
    );
    let sig3 = sign::standard(SECRET, "msg_3", TS, BODY).unwrap();
    let list = format!("v1a,AAAA v1,{}= {sig3}", "A".repeat(43));
    assert!(check(&delivery(&list, "1614265330", "msg_3"), TS, BODY).is_ok());
    // An entry that is not base64 makes the header malformed.
    let list = format!("v1,{}! {sig3}", "A".repeat(43));
    assert_eq!(
        check(&delivery(&list, "1614265330", "msg_3b"), TS, BODY).unwrap_err(),
        "signature_malformed"
    );
    // Altered id, timestamp or body; stale; no id.
    let sig4 = sign::standard(SECRET, "msg_4", TS, BODY).unwrap();
    assert_eq!(
        check(&delivery(&sig4, "1614265330", "msg_5"), TS, BODY).unwrap_err(),
        "signature_mismatch"
    );
    assert_eq!(
        check(&delivery(&sig4, "1614265331", "msg_4"), TS, BODY).unwrap_err(),
        "signature_mismatch"
    );
    assert_eq!(
        check(&delivery(&sig4, "1614265330", "msg_4"), TS, b"{}").unwrap_err(),
        "signature_mismatch"
    );
    assert_eq!(
        check(&delivery(&sig4, "1614265330", "msg_4"), TS + 301, BODY).unwrap_err(),
        "signature_stale"
    );
    assert_eq!(
        v.begin(
            &parts(&[
                ("webhook-timestamp", "1614265330"),
                ("webhook-signature", &sig4)
            ]),
            TS
        )
        .unwrap_err()
        .reason,
        "signature_nonce_missing"
    );
    assert!(StandardWebhook::new("x", "whsec_short").is_err());
    assert!(StandardWebhook::new("x", "whsec_!!!").is_err());
    let debug = format!("{v:?}");
    assert!(!debug.contains("MfKQ"), "{debug}");
}
