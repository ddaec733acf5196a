//! `multipart = [...]`: an upload's parts, each with its types (every type the runtime can
//! recognise from bytes is accepted by the macro), its size limit and whether it is optional;
//! the handler takes the validated `MultipartForm`.

use axum::extract::Path;
use secure_endpoint::multipart::{PartSpec, SNIFFABLE_TYPES};
use secure_endpoint::{secure_endpoint, multipart::MultipartForm, Principal, SecureEndpoint};

#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    rate = "10/1m",
    multipart = [part("file", types = ["image/png", "image/jpeg", "image/webp"], max = "1mb")]
)]
async fn put_avatar(principal: Principal, form: MultipartForm) -> String {
    let file = form.part("file").expect("required");
    format!("{} {} {}", principal.subject(), file.content_type(), file.len())
}

#[secure_endpoint(
    auth = "jwt",
    owner = "user_id",
    multipart = [
        part("scan", types = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/tiff", "application/pdf"], max = "5mb"),
        part("caption", max = "200b", optional)
    ],
    body_limit = "6mb"
)]
async fn add_document(Path(user_id): Path<String>, mut form: MultipartForm) -> String {
    let caption = form.take("caption").and_then(|c| c.text().map(str::to_owned));
    format!("{user_id} {caption:?}")
}

fn main() {
    let avatar = <put_avatar as SecureEndpoint>::POLICY;
    assert_eq!(
        avatar.multipart,
        Some(
            &[PartSpec {
                name: "file",
                types: &["image/png", "image/jpeg", "image/webp"],
                max: 1024 * 1024,
                optional: false,
            }][..]
        )
    );
    // Without `body_limit`: the part's `max` plus 4 KiB of framing.
    assert_eq!(avatar.body_limit, Some(1024 * 1024 + 4096));
    assert!(avatar.fields.is_none() && !avatar.raw_body);

    let document = <add_document as SecureEndpoint>::POLICY;
    let parts = document.multipart.unwrap();
    assert_eq!(parts[0].types, SNIFFABLE_TYPES);
    assert!(parts[1].optional && !parts[1].is_file() && parts[1].max == 200);
    assert_eq!(document.body_limit, Some(6 * 1024 * 1024));
}
