//! Avatars (issue 19): an upload under a multipart contract, an import from a URL through the
//! SSRF-guarded outbound client, and the stored image served with its real content type.
//!
//! - `PUT /api/users/me/avatar`: a `multipart/form-data` body with one part, `file`, a PNG,
//!   JPEG or WebP of at most 1 MiB by its bytes (the contract refuses anything else before the
//!   handler runs). The client's file name is only shown back, sanitised: the image is stored
//!   under the caller's id, in memory.
//! - `POST /api/users/me/avatar/import` with `{"url": "https://…"}`: fetched with
//!   [`import_client`] (https only, public addresses only, 1 MiB, 5 s, at most 3 redirects,
//!   each re-checked), kept only when its bytes are a PNG, JPEG or WebP, whatever the upstream
//!   says its type is. A URL the guard refuses, a response too large or not an image is a 422
//!   of the demo's own; an upstream failure a 502 (504 on timeout) with nothing of the
//!   upstream's answer.
//! - `GET /api/users/{user_id}/avatar`: the owner's image (404 for anyone else, as the
//!   profile `GET /api/users/{user_id}` is), with the type its bytes were recognised as and the
//!   router's `X-Content-Type-Options: nosniff`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secure_endpoint::multipart::sniff;
use secure_endpoint::multipart::MultipartForm;
use secure_endpoint::outbound::{OutboundClient, OutboundClientBuilder, OutboundError};
use secure_endpoint::{secure_endpoint, Json, Principal, Problem, SafeResponse};
use serde::{Deserialize, Serialize};

use crate::{read, write, AppState};

/// The largest avatar, uploaded or imported: 1 MiB.
pub const AVATAR_MAX_BYTES: usize = 1024 * 1024;

/// The types an avatar may have, decided from its bytes.
pub const AVATAR_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// The outbound client of imports, before any allowance: https and port 443 only, public
/// addresses only (the default of [`OutboundClient`]), responses of at most 1 MiB, 5 s in all,
/// at most 3 redirects. Tests add their loopback fixture to it explicitly.
pub fn import_client() -> OutboundClientBuilder {
    OutboundClient::builder()
        .max_response_bytes(AVATAR_MAX_BYTES)
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .max_redirects(3)
}

/// A stored avatar.
#[derive(Clone)]
struct Avatar {
    content_type: &'static str,
    bytes: Bytes,
}

/// The avatars, by user id, and the client imports are fetched with.
#[derive(Clone)]
pub(crate) struct Avatars {
    stored: Arc<RwLock<HashMap<String, Avatar>>>,
    importer: Arc<OutboundClient>,
}

impl Avatars {
    pub(crate) fn new() -> Self {
        Avatars {
            stored: Arc::default(),
            importer: Arc::new(
                import_client()
                    .build()
                    .expect("the import client's settings are valid"),
            ),
        }
    }

    fn store(&self, user: &str, content_type: &'static str, bytes: Bytes) {
        write(&self.stored).insert(
            user.to_owned(),
            Avatar {
                content_type,
                bytes,
            },
        );
    }
}

impl AppState {
    /// Replaces the client avatar imports are fetched with (tests allow their local fixture
    /// on a client from [`import_client`]).
    pub fn with_avatar_importer(mut self, client: OutboundClient) -> Self {
        self.avatars.importer = Arc::new(client);
        self
    }
}

/// What was stored.
#[derive(Debug, Serialize, SafeResponse)]
pub struct AvatarView {
    /// The type the image's bytes were recognised as.
    content_type: String,
    /// Its size in bytes.
    size: usize,
    /// The uploaded file's name, sanitised (display only; never used to store anything).
    file_name: Option<String>,
}

/// Stores the caller's avatar: one `file` part, PNG, JPEG or WebP by its bytes, at most 1 MiB.
/// The multipart total (1 MiB and 4 KiB of framing) is above the demo's `max_body_limit`.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    rate = "30/1m",
    multipart = [part("file", types = ["image/png", "image/jpeg", "image/webp"], max = "1mb")],
    waive = ["max_body_limit"],
    reason = "an avatar of up to 1 MiB, plus its multipart framing"
)]
pub async fn put_avatar(
    State(state): State<AppState>,
    principal: Principal,
    mut form: MultipartForm,
) -> Json<AvatarView> {
    let file = form.take("file").expect("a required part is always there");
    let view = AvatarView {
        content_type: file.content_type().to_owned(),
        size: file.len(),
        file_name: file.file_name().map(str::to_owned),
    };
    let content_type = file.content_type();
    state
        .avatars
        .store(principal.subject(), content_type, file.into_bytes());
    Json(view)
}

/// An import request.
#[derive(Debug, Deserialize, garde::Validate, utoipa::ToSchema)]
pub struct ImportAvatar {
    /// Where the image is: an `https://` URL of a public host.
    #[garde(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048, pattern = "^https://")]
    url: String,
}

/// Fetches the caller's avatar from a URL through the guarded client, keeping it only when its
/// bytes are a PNG, JPEG or WebP.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "10/1m", fields = ["url"])]
pub async fn import_avatar(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<ImportAvatar>,
) -> Result<Json<AvatarView>, Problem> {
    let fetched = state
        .avatars
        .importer
        .get(&request.url)
        .await
        .map_err(import_problem)?;
    let Some(content_type) = sniff(&fetched.body).filter(|t| AVATAR_TYPES.contains(t)) else {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("import_not_an_image")
            .with_detail("The URL does not point to a PNG, JPEG or WebP image."));
    };
    let size = fetched.body.len();
    state
        .avatars
        .store(principal.subject(), content_type, fetched.body);
    Ok(Json(AvatarView {
        content_type: content_type.to_owned(),
        size,
        file_name: None,
    }))
}

/// The caller's mistakes (a URL the guard refuses, an image too large) are 422s of the demo's
/// own; an upstream failure the outbound client's 502/504. Never anything of the upstream's
/// answer, nor which rule refused (logged by the client).
fn import_problem(error: OutboundError) -> Problem {
    match error {
        error if error.is_refused() => {
            tracing::info!(%error, "avatar import refused");
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("import_url_refused")
                .with_detail("The URL may not be fetched: only https URLs of public hosts are.")
        }
        OutboundError::TooLarge(_) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("import_too_large")
            .with_detail("The image at the URL is larger than 1 MiB."),
        other => other.to_problem(),
    }
}

/// The avatar of `{user_id}`, to its owner only (404 otherwise, as for the profile).
#[secure_endpoint(auth = "jwt", owner = "user_id", rate = "300/1m")]
pub async fn show_avatar(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Response, Problem> {
    let avatar = read(&state.avatars.stored)
        .get(&user_id)
        .cloned()
        .ok_or_else(Problem::not_found)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(avatar.content_type),
        )],
        avatar.bytes,
    )
        .into_response())
}
