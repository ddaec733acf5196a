use secure_endpoint::{secure_endpoint, Json, multipart::MultipartForm};

/// Stands for axum's `Multipart` (feature `multipart`, off here): the check reads the name.
struct Multipart;

#[derive(serde::Deserialize, garde::Validate)]
struct Avatar {
    #[garde(length(max = 10))]
    name: String,
}

// Parts declared, but the handler takes no form.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    multipart = [part("file", types = ["image/png"], max = "1mb")]
)]
async fn no_form() -> &'static str {
    "ok"
}

// Parts declared, but the handler reads axum's unchecked `Multipart`.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    multipart = [part("file", types = ["image/png"], max = "1mb")]
)]
async fn unchecked(form: Multipart) -> &'static str {
    let _ = form;
    "ok"
}

// Parts declared, but the handler reads JSON.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    multipart = [part("file", types = ["image/png"], max = "1mb")]
)]
async fn json(Json(avatar): Json<Avatar>) -> String {
    avatar.name
}

// A form taken without declaring its parts.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn undeclared(form: MultipartForm) -> String {
    format!("{form:?}")
}

// Another body form beside the parts, and a total smaller than a part.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    fields = ["name"],
    body_limit = "100kb",
    multipart = [part("file", types = ["image/png"], max = "1mb")]
)]
async fn both(form: MultipartForm) -> String {
    format!("{form:?}")
}

fn main() {}
