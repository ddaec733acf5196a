//! The three servers compared in BENCHMARKS.md, doing the same work for the same requests:
//!
//! - [`bare`]: the handlers alone, no security;
//! - [`secured`]: the same handlers under `#[secure_endpoint]` (JWT, ownership, rate limit,
//!   security headers, request id; the POST adds the field allowlist and garde validation);
//! - [`tower_stack`]: the same checks composed by hand the way an axum user would: a
//!   `from_fn` JWT middleware with jsonwebtoken, a governor keyed limiter middleware, the
//!   ownership compare in the handler, `deny_unknown_fields` + garde for the body, and
//!   tower-http's request-id and set-header layers.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

/// HS256 secret shared by every server and the token the load generator sends.
pub const SECRET: &[u8] = b"benchmark secret, thirty-two bytes or more";
/// JWT issuer.
pub const ISSUER: &str = "bench";
/// JWT audience.
pub const AUDIENCE: &str = "bench-api";
/// The subject the benchmark token carries; requests address `/users/alice`.
pub const SUBJECT: &str = "alice";

/// A valid token for [`SUBJECT`], valid for a day.
pub fn token() -> String {
    secure_endpoint::jwt::JwtIssuer::hs256(SECRET, ISSUER, AUDIENCE, Duration::from_secs(86_400))
        .expect("secret is long enough")
        .issue(SUBJECT, &["user".to_owned()], &[])
}

/// The verifier the secured server uses (verified-token cache on, as by default).
pub fn verifier() -> secure_endpoint::jwt::JwtVerifier {
    secure_endpoint::jwt::JwtVerifier::hs256(SECRET)
        .expect("secret is long enough")
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .expect("issuer and audience are set")
}

/// The small JSON every GET returns.
#[derive(Serialize, secure_endpoint::SafeResponse)]
pub struct UserView {
    id: String,
    name: &'static str,
    plan: &'static str,
}

fn user(id: String) -> UserView {
    UserView {
        id,
        name: "Alice",
        plan: "pro",
    }
}

/// The POST body.
#[derive(Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    #[garde(length(min = 1, max = 200))]
    title: String,
    #[garde(length(max = 10_000))]
    body: String,
}

/// The POST response.
#[derive(Serialize, secure_endpoint::SafeResponse)]
pub struct Note {
    owner: String,
    title: String,
    length: usize,
}

fn note(owner: String, n: NewNote) -> Note {
    Note {
        owner,
        length: n.body.len(),
        title: n.title,
    }
}

/// The POST request body the load generator sends.
pub const NOTE_BODY: &str = r#"{"title":"Groceries","body":"milk, eggs, bread"}"#;

/// The same note in an envelope (`{"note": {...}}`), for the secured router's nested allowlist
/// (`fields = ["note.title", "note.body"]`), measured beside the flat POST.
#[derive(Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct NoteEnvelope {
    #[garde(dive)]
    note: NewNote,
}

/// The enveloped POST body (`bench-profile secured nested`).
pub const NESTED_NOTE_BODY: &str = r#"{"note":{"title":"Groceries","body":"milk, eggs, bread"}}"#;

// ---- (a) bare ------------------------------------------------------------------------------

/// (a) The handlers alone.
pub fn bare() -> Router {
    async fn show(Path(user_id): Path<String>) -> axum::Json<UserView> {
        axum::Json(user(user_id))
    }
    async fn create(
        Path(user_id): Path<String>,
        axum::Json(n): axum::Json<NewNote>,
    ) -> impl IntoResponse {
        (StatusCode::CREATED, axum::Json(note(user_id, n)))
    }
    Router::new()
        .route("/users/{user_id}", get(show))
        .route("/users/{user_id}/notes", post(create))
}

/// (a) with only the response side of (b): the security headers and the request id that every
/// secured response carries (`SecurityLayer`), no policy. Not one of the three compared apps: it
/// splits (b)'s cost into what its responses carry and what its checks cost.
pub fn bare_with_headers() -> Router {
    bare().layer(secure_endpoint::layer::SecurityLayer)
}

// ---- (b) secured -------------------------------------------------------------------------------

mod endpoints {
    use super::*;
    use secure_endpoint::{secure_endpoint, Json};

    #[secure_endpoint(auth = "jwt", owner = "user_id", rate = "1000000000/1s")]
    pub(crate) async fn show(Path(user_id): Path<String>) -> Json<UserView> {
        Json(user(user_id))
    }

    #[secure_endpoint(auth = "jwt", owner = "user_id", rate = "1000000000/1s", fields = ["title", "body"])]
    pub(crate) async fn create(
        Path(user_id): Path<String>,
        Json(n): Json<NewNote>,
    ) -> impl IntoResponse {
        (StatusCode::CREATED, Json(note(user_id, n)))
    }

    #[secure_endpoint(auth = "jwt", owner = "user_id", rate = "1000000000/1s", fields = ["note.title", "note.body"])]
    pub(crate) async fn create_nested(
        Path(user_id): Path<String>,
        Json(n): Json<NoteEnvelope>,
    ) -> impl IntoResponse {
        (StatusCode::CREATED, Json(note(user_id, n.note)))
    }
}

/// (b) The same handlers under `#[secure_endpoint]`. The per-IP limiter stays on (with a
/// quota that never bites), as it is on by default.
pub fn secured() -> Router {
    secured_with(|builder| builder)
}

/// (b) with enumeration detection on (issue 22's detector, default thresholds): what the watch
/// costs a request that is answered 200.
pub fn secured_watched() -> Router {
    secured_with(|builder| builder.enumeration(secure_endpoint::abuse::Enumeration::new()))
}

fn secured_with(
    configure: impl FnOnce(secure_endpoint::SecurityBuilder) -> secure_endpoint::SecurityBuilder,
) -> Router {
    use secure_endpoint::policy::RateSpec;
    use secure_endpoint::routing::{get, post};
    use secure_endpoint::{SecureRouter, Security};
    let verifier = verifier();
    let security = configure(
        Security::builder()
            .allow_plain_http()
            .jwt(verifier)
            .ip_rate(Some(RateSpec::new(1_000_000_000, Duration::from_secs(1)))),
    )
    .build();
    SecureRouter::new(security)
        .route("/users/{user_id}", get(endpoints::show))
        .route("/users/{user_id}/notes", post(endpoints::create))
        .route("/users/{user_id}/envelopes", post(endpoints::create_nested))
        .into_router()
}

// ---- (c) hand-composed tower stack ------------------------------------------------------------------

#[derive(Clone, Deserialize)]
struct Claims {
    sub: String,
}

#[derive(Clone)]
struct Keys {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

type KeyedLimiter = governor::DefaultKeyedRateLimiter<String>;

async fn jwt_auth(State(keys): State<Arc<Keys>>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    };
    match jsonwebtoken::decode::<Claims>(token, &keys.key, &keys.validation) {
        Ok(data) => {
            req.extensions_mut().insert(data.claims);
            next.run(req).await
        }
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response(),
    }
}

async fn rate_limit(
    State(limiter): State<Arc<KeyedLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let key = req
        .extensions()
        .get::<Claims>()
        .map(|c| c.sub.clone())
        .unwrap_or_default();
    match limiter.check_key(&key) {
        Ok(()) => next.run(req).await,
        Err(_) => (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response(),
    }
}

/// (c) The same checks, composed by hand from tower layers.
pub fn tower_stack() -> Router {
    use tower::ServiceBuilder;
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::set_header::SetResponseHeaderLayer;

    async fn show(Extension(claims): Extension<Claims>, Path(user_id): Path<String>) -> Response {
        if claims.sub != user_id {
            return StatusCode::NOT_FOUND.into_response();
        }
        axum::Json(user(user_id)).into_response()
    }
    async fn create(
        Extension(claims): Extension<Claims>,
        Path(user_id): Path<String>,
        axum::Json(n): axum::Json<NewNote>,
    ) -> Response {
        if claims.sub != user_id {
            return StatusCode::NOT_FOUND.into_response();
        }
        if garde::Validate::validate(&n).is_err() {
            return StatusCode::UNPROCESSABLE_ENTITY.into_response();
        }
        (StatusCode::CREATED, axum::Json(note(user_id, n))).into_response()
    }

    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    let keys = Arc::new(Keys {
        key: jsonwebtoken::DecodingKey::from_secret(SECRET),
        validation,
    });
    let quota = governor::Quota::per_second(std::num::NonZeroU32::new(1_000_000_000).unwrap());
    let limiter: Arc<KeyedLimiter> = Arc::new(governor::RateLimiter::keyed(quota));

    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/users/{user_id}", get(show))
        .route("/users/{user_id}/notes", post(create))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static("max-age=63072000; includeSubDomains"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(middleware::from_fn_with_state(keys, jwt_auth))
                .layer(middleware::from_fn_with_state(limiter, rate_limit)),
        )
}
