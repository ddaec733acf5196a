//! Uploads under a `multipart = [...]` contract, over real HTTP on 127.0.0.1, with the runtime
//! only: the order of the pipeline (authentication and ownership before the body is read),
//! an optional text part beside a file part, the media type and encoding of the body, and a
//! chunked body over the total.

mod common;

use axum::extract::Path;
use common::*;
use reqwest::StatusCode;
use secure_endpoint::multipart::MultipartForm;
use secure_endpoint::routing::put;
use secure_endpoint::{secure_endpoint, Json, List, SafeResponse, SecureRouter};
use serde::Serialize;
use serde_json::Value;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

#[derive(Serialize, SafeResponse)]
struct Received {
    name: String,
    content_type: String,
    size: usize,
    file_name: Option<String>,
    text: Option<String>,
}

/// A scan (PNG or PDF, 2 KiB) and an optional caption (64 bytes), to the owner of `{user_id}`.
#[secure_endpoint(
    auth = "jwt",
    owner = "user_id",
    multipart = [
        part("scan", types = ["image/png", "application/pdf"], max = "2kb"),
        part("caption", max = "64b", optional)
    ]
)]
async fn upload(Path(user_id): Path<String>, form: MultipartForm) -> Json<List<Received>> {
    let _ = user_id;
    Json(List::new(
        form.parts()
            .iter()
            .map(|p| Received {
                name: p.name().to_owned(),
                content_type: p.content_type().to_owned(),
                size: p.len(),
                file_name: p.file_name().map(str::to_owned),
                text: p.text().map(str::to_owned),
            })
            .collect(),
    ))
}

async fn start() -> (String, std::net::SocketAddr) {
    let router = SecureRouter::new(security().build()).route("/users/{user_id}/scans", put(upload));
    let addr = serve(router.into_router()).await;
    (format!("http://{addr}/users"), addr)
}

/// One part: name, file name, declared content type, content.
type FormPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A form of parts.
fn form(parts: &[FormPart<'_>]) -> (String, Vec<u8>) {
    let boundary = "----upload-test-4f1c";
    let mut body = Vec::new();
    for (name, file_name, content_type, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(file_name) = file_name {
            body.extend_from_slice(format!("; filename=\"{file_name}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send(
    base: &str,
    user: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = client_from(None)
        .put(format!("{base}/{user}/scans"))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn refused(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let body: Value = res.json().await.unwrap();
    assert!(body["error_id"].is_string());
    body
}

#[tokio::test]
async fn a_file_and_an_optional_text_part_reach_the_handler_validated() {
    let (base, _) = start().await;
    let alice = token(ALICE, &[], "");
    let (ct, body) = form(&[
        (
            "scan",
            Some("C:\\scans\\..\\bill.pdf"),
            Some("application/pdf"),
            PDF,
        ),
        ("caption", None, None, "März bill".as_bytes()),
    ]);
    let res = send(&base, ALICE, Some(&alice), &ct, body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let got: Value = res.json().await.unwrap();
    assert_eq!(
        got,
        serde_json::json!({"count": 2, "data": [
            {"name": "scan", "content_type": "application/pdf", "size": PDF.len(),
             "file_name": "bill.pdf", "text": null},
            {"name": "caption", "content_type": "text/plain", "size": "März bill".len(),
             "file_name": null, "text": "März bill"},
        ]})
    );
    // The caption is optional; the scan is not.
    let (ct, body) = form(&[("scan", None, Some("image/png"), PNG)]);
    assert_eq!(
        send(&base, ALICE, Some(&alice), &ct, body).await.status(),
        StatusCode::OK
    );
    let (ct, body) = form(&[("caption", None, None, b"no scan")]);
    let problem = refused(
        send(&base, ALICE, Some(&alice), &ct, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["code"], "missing_parts");
    assert_eq!(problem["errors"][0]["field"], "scan");
}

#[tokio::test]
async fn authentication_and_ownership_come_before_the_body() {
    let (base, _) = start().await;
    // A body that would be refused (an unknown part), never looked at.
    let (ct, body) = form(&[("is_admin", None, None, b"true")]);
    refused(
        send(&base, ALICE, None, &ct, body.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let bob = token(BOB, &[], "");
    refused(
        send(&base, ALICE, Some(&bob), &ct, body).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_body_must_be_an_uncompressed_multipart_form_within_the_total() {
    let (base, addr) = start().await;
    let alice = token(ALICE, &[], "");
    let (ct, body) = form(&[("scan", None, Some("image/png"), PNG)]);
    // JSON, form-urlencoded, and multipart without a boundary.
    for content_type in [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/mixed; boundary=----upload-test-4f1c",
    ] {
        let problem = refused(
            send(&base, ALICE, Some(&alice), content_type, body.clone()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        assert_eq!(problem["code"], "not_multipart", "{content_type}");
    }
    let res = client_from(None)
        .put(format!("{base}/{ALICE}/scans"))
        .bearer_auth(&alice)
        .header("content-type", &ct)
        .header("content-encoding", "gzip")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let problem = refused(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(problem["code"], "compressed_body");
    // The total is the parts' `max` plus 4 KiB each: 2 KiB + 64 B + 8 KiB. A chunked body
    // (no Content-Length) past it is cut off while read.
    let mut big = PNG.to_vec();
    big.resize(12 * 1024, b'x');
    let (ct, body) = form(&[("scan", None, Some("image/png"), &big)]);
    let mut request = format!(
        "PUT /users/{ALICE}/scans HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(&chunked(&body, 1024));
    let responses = raw_exchange(addr, request, 1).await;
    assert_eq!(responses[0].status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(responses[0].body.contains("error_id"));
    // A malformed form.
    let problem = refused(
        send(
            &base,
            ALICE,
            Some(&alice),
            &ct,
            b"------upload-test-4f1c\r\nContent-Disposition: form-data; name=\"scan\"\r\n\r\ncut"
                .to_vec(),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem["code"], "malformed_multipart");
}

/// The macro accepts in `parts` exactly the file types the runtime checks by their bytes: a
/// type only the macro knew would compile and then refuse every upload; one only the runtime
/// knew could not be declared.
#[test]
fn the_macro_accepts_the_file_types_the_runtime_sniffs() {
    assert_eq!(
        secure_endpoint_macros_harness::SNIFFABLE_TYPES,
        secure_endpoint::multipart::SNIFFABLE_TYPES,
    );
}
