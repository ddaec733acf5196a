//! `bench-verify <github|stripe|standard|signature> <verify|prepare> [n]`: `n` signed deliveries
//! of one format, each distinct (its own body, so its own signature and nonce), verified
//! in-process as the router does (`begin` on the head, `finish` on the body, with the
//! in-memory nonce store). `prepare` builds and signs the same deliveries without verifying
//! them, so that under `valgrind --tool=callgrind` the difference of the two is the cost of
//! verification alone (BENCHMARKS.md).

use axum::http::request::Parts;
use axum::http::{HeaderValue, Request};
use secure_endpoint::signature::{SignatureKey, SignatureSigner, SignatureVerifier};
use secure_endpoint::webhook::{sign, GithubWebhook, StandardWebhook, StripeWebhook};

const GITHUB_SECRET: &[u8] = b"It's a Secret to Everybody";
const STRIPE_SECRET: &str = "whsec_bench0123456789abcdef0123456789";
/// `whsec_` + base64 of 24 bytes (the Standard Webhooks documentation's example secret).
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PARTNER_KEY: &[u8] = b"a partner key of at least 32 bytes!";

fn parts(path: &str) -> Parts {
    Request::post(path).body(()).unwrap().into_parts().0
}

fn header(parts: &mut Parts, name: &'static str, value: &str) {
    parts
        .headers
        .insert(name, HeaderValue::from_str(value).unwrap());
}

fn main() {
    let mut args = std::env::args().skip(1);
    let format = args.next().unwrap_or_else(|| "github".into());
    let verify = args.next().as_deref() != Some("prepare");
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let github = GithubWebhook::new("github", GITHUB_SECRET).unwrap();
    let stripe = StripeWebhook::new("stripe", STRIPE_SECRET).unwrap();
    let standard = StandardWebhook::new("standard", STANDARD_SECRET).unwrap();
    let signer = SignatureSigner::hmac_sha256("partner", PARTNER_KEY);
    let partner = SignatureVerifier::new().key(
        "partner",
        SignatureKey::hmac_sha256("partner", PARTNER_KEY).unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        for i in 0..n {
            let body = format!(r#"{{"delivery":{i},"item":"widget","quantity":2}}"#);
            let body = body.as_bytes();
            let mut p = parts("/hooks?x=1");
            let outcome = match format.as_str() {
                "github" => {
                    header(
                        &mut p,
                        "x-hub-signature-256",
                        &sign::github(GITHUB_SECRET, body),
                    );
                    header(&mut p, "x-github-delivery", &format!("delivery-{i}"));
                    if !verify {
                        continue;
                    }
                    github.begin(&p, now).unwrap().finish(body).await
                }
                "stripe" => {
                    header(
                        &mut p,
                        "stripe-signature",
                        &sign::stripe(STRIPE_SECRET, now, body),
                    );
                    if !verify {
                        continue;
                    }
                    stripe.begin(&p, now).unwrap().finish(body).await
                }
                "standard" => {
                    let id = format!("msg_{i}");
                    let signature = sign::standard(STANDARD_SECRET, &id, now, body).unwrap();
                    header(&mut p, "webhook-id", &id);
                    header(&mut p, "webhook-timestamp", &now.to_string());
                    header(&mut p, "webhook-signature", &signature);
                    if !verify {
                        continue;
                    }
                    standard.begin(&p, now).unwrap().finish(body).await
                }
                _ => {
                    signer.sign(&mut p, body).unwrap();
                    if !verify {
                        continue;
                    }
                    partner.begin(&p, now).unwrap().finish(body).await
                }
            };
            std::hint::black_box(outcome.expect("a good delivery verifies"));
        }
    });
}
