//! `testing::ContractChecker` against endpoints that read other media types than JSON: a
//! `Form<T>` endpoint gets its unknown-field probe as a URL-encoded form (and so the 422 its
//! contract promises, not the 415 a JSON body would get).

mod common;

use std::time::Duration;

use secure_endpoint::routing::post;
use secure_endpoint::testing::{
    ContractChecker, Credential, PendingRequest, TestCredentials, TestPrincipal,
};
use secure_endpoint::{secure_endpoint, Form, Json, Principal, SafeResponse, SecureRouter};
use serde::{Deserialize, Serialize};

use common::{client_from, security, token};

#[derive(Deserialize, garde::Validate)]
struct Note {
    #[garde(length(min = 1, max = 40))]
    title: String,
}

#[derive(Serialize, SafeResponse)]
struct Saved {
    title: String,
}

#[secure_endpoint(auth = "none", fields = ["title"], rate = "5/1m")]
async fn public_form(Form(note): Form<Note>) -> Json<Saved> {
    Json(Saved { title: note.title })
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = ["title"])]
async fn signed_in_form(_principal: Principal, Form(note): Form<Note>) -> Json<Saved> {
    Json(Saved { title: note.title })
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = ["title"])]
async fn json_note(_principal: Principal, Json(note): Json<Note>) -> Json<Saved> {
    Json(Saved { title: note.title })
}

/// Bearer tokens from the shared test issuer.
struct Tokens;

impl TestCredentials for Tokens {
    fn credential(
        &self,
        scheme: &str,
        who: &TestPrincipal,
        _request: &PendingRequest<'_>,
    ) -> Option<Credential> {
        (scheme == "jwt").then(|| Credential {
            headers: vec![(
                "authorization".to_owned(),
                format!("Bearer {}", token(&who.subject, &[], "")),
            )],
            subject: who.subject.clone(),
        })
    }
}

#[tokio::test]
async fn form_endpoints_are_probed_with_a_form() {
    let router = SecureRouter::new(security().build())
        .route("/public/notes", post(public_form))
        .route("/notes", post(signed_in_form))
        .route("/json/notes", post(json_note));
    let inventory = router.inventory();
    assert!(inventory.endpoints.iter().filter(|e| e.form).count() == 2);
    let addr = common::serve(router.into_router()).await;
    // A form field the endpoint does not allow is a 422 (sent first: the checker's quota
    // check uses up the per-IP rate afterwards), and a JSON body a 415.
    let res = client_from(None)
        .post(format!("http://{addr}/public/notes"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("contract_check_unknown_field=true")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let json = client_from(None)
        .post(format!("http://{addr}/public/notes"))
        .header("content-type", "application/json")
        .body(r#"{"contract_check_unknown_field":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), reqwest::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let checker = ContractChecker::new(format!("http://{addr}"), &Tokens);
    let report = checker.check(&inventory).await;
    report.assert_ok();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for check in [
        "422 POST /public/notes",
        "422 POST /notes",
        "422 POST /json/notes",
        "401 POST /notes",
        "429 POST /public/notes",
    ] {
        assert!(
            report.passed.iter().any(|p| p == check),
            "{check} not in {:?}",
            report.passed
        );
    }
}
