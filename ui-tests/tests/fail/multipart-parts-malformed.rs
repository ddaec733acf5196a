use secure_endpoint::{secure_endpoint, multipart::MultipartForm};

#[secure_endpoint(auth = "jwt", allow = "authenticated", multipart = [])]
async fn no_parts(form: MultipartForm) -> String {
    format!("{form:?}")
}

#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    multipart = [
        part("file", types = ["image/png", "image/svg+xml"]),
        part("notes", tipes = ["application/pdf"], max = "1.5mb"),
        "caption"
    ]
)]
async fn bad_parts(form: MultipartForm) -> String {
    format!("{form:?}")
}

fn main() {}
