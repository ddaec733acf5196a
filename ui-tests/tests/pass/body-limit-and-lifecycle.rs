use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::policy::{EndpointPolicy, Lifecycle, LifecycleDate};
use secure_endpoint::routing::{get, put};
use secure_endpoint::{secure_endpoint, Json, SecureEndpoint, SecureRouter, Security};

#[derive(serde::Deserialize, garde::Validate)]
struct UpdateUser {
    #[garde(length(min = 1, max = 100))]
    name: String,
}

/// The first version: a small body, deprecated, then retired in favour of v2.
#[secure_endpoint(
    auth = "jwt",
    owner = "user_id",
    fields = ["name"],
    body_limit = "100KB",
    deprecated = "2026-06-30",
    sunset = "2026-12-31",
    successor = "/api/v2/users/{user_id}"
)]
async fn update_user_v1(Path(user_id): Path<String>, Json(body): Json<UpdateUser>) -> String {
    format!("{user_id}: {}", body.name)
}

/// Only a sunset, and a successor on another host.
#[secure_endpoint(
    auth = "jwt",
    owner = "user_id",
    sunset = "2028-02-29",
    successor = "https://api.example.com/v2/users"
)]
async fn show_user_v1(Path(user_id): Path<String>) -> String {
    user_id
}

/// Neither: the two new fields are still set, to their "absent" values.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(Path(user_id): Path<String>) -> String {
    user_id
}

const V1: &EndpointPolicy = <update_user_v1 as SecureEndpoint>::POLICY;
const _: () = assert!(matches!(V1.body_limit, Some(102_400)));

fn main() {
    assert_eq!(V1.body_limit, Some(100 * 1024));
    assert_eq!(
        V1.lifecycle,
        Lifecycle {
            deprecated: Some(LifecycleDate {
                year: 2026,
                month: 6,
                day: 30,
                unix: 1_782_777_600,
            }),
            sunset: Some(LifecycleDate {
                year: 2026,
                month: 12,
                day: 31,
                unix: 1_798_675_200,
            }),
            successor: Some("/api/v2/users/{user_id}"),
        }
    );
    assert_eq!(V1.lifecycle.deprecated, LifecycleDate::parse("2026-06-30"));
    assert_eq!(V1.lifecycle.sunset, LifecycleDate::parse("2026-12-31"));

    let show_v1 = <show_user_v1 as SecureEndpoint>::POLICY;
    assert_eq!(show_v1.body_limit, None);
    assert_eq!(show_v1.lifecycle.deprecated, None);
    // 2028 is a leap year.
    assert_eq!(
        show_v1.lifecycle.sunset.map(|d| (d.to_string(), d.unix)),
        Some(("2028-02-29".to_owned(), 1_835_395_200))
    );
    assert_eq!(
        show_v1.lifecycle.successor,
        Some("https://api.example.com/v2/users")
    );

    let current = <show_user as SecureEndpoint>::POLICY;
    assert_eq!(current.body_limit, None);
    assert_eq!(current.lifecycle, Lifecycle::NONE);
    assert!(current.lifecycle.is_none());

    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let router: SecureRouter = SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/api/v1/users/{user_id}", put(update_user_v1))
        .route("/api/v1/users/{user_id}/profile", get(show_user_v1))
        .route("/api/v3/users/{user_id}", get(show_user));
    let inventory = router.inventory();
    let v1 = &inventory.endpoints[0];
    assert_eq!(v1.body_limit, Some(102_400));
    assert_eq!(v1.deprecated.as_deref(), Some("2026-06-30"));
    assert_eq!(v1.sunset.as_deref(), Some("2026-12-31"));
    assert_eq!(v1.successor.as_deref(), Some("/api/v2/users/{user_id}"));
    let markdown = inventory.to_markdown();
    assert!(
        markdown.contains(
            "| `name` (≤ 100 KiB) | deprecated 2026-06-30, sunset 2026-12-31 → /api/v2/users/{user_id} |"
        ),
        "{markdown}"
    );
}
