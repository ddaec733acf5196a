//! Unit tests of problem responses and their renderers.

use super::*;

#[test]
fn body_has_rfc9457_members_and_ids() {
    let p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY).with_errors(vec![FieldError {
        field: "role".into(),
        message: "unknown field".into(),
    }]);
    let v: serde_json::Value = serde_json::from_slice(&p.body("e1", Some("r1"))).unwrap();
    assert_eq!(v["type"], "about:blank");
    assert_eq!(v["title"], "Unprocessable Entity");
    assert_eq!(v["status"], 422);
    assert_eq!(v["code"], "unprocessable_content");
    assert_eq!(v["error_id"], "e1");
    assert_eq!(v["request_id"], "r1");
    assert_eq!(v["errors"][0]["field"], "role");
}

#[test]
fn a_view_shows_what_the_body_shows_and_not_the_reason() {
    let problem = Problem::not_found()
        .with_reason("not_owner")
        .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("7"));
    let mut response = problem.render("e1", Some("r1"));
    let headers = response.headers().clone();
    let view = ProblemView {
        problem: &problem,
        error_id: "e1",
        request_id: "r1",
        headers: &headers,
    };
    assert_eq!(view.status(), StatusCode::NOT_FOUND);
    assert_eq!(view.code(), "not_found");
    assert_eq!(view.retry_after(), Some(7));
    assert_eq!(view.problem_json(), problem.body("e1", Some("r1")));
    let debug = format!("{view:?}");
    assert!(
        debug.contains("not_found") && !debug.contains("not_owner"),
        "{debug}"
    );

    // A renderer that panics leaves the default body; one that declines too.
    let default = problem.body("e1", Some("r1"));
    let panics = Renderer(Arc::new(|_: &ProblemView<'_>| -> Option<ProblemBody> {
        panic!("renderer bug")
    }));
    panics.apply(&problem, "e1", "r1", &mut response);
    assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
    let declines = Renderer(Arc::new(|_: &ProblemView<'_>| None));
    declines.apply(&problem, "e1", "r1", &mut response);
    assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
    let body = body_bytes(response);
    assert_eq!(body, default);
}

/// The bytes of a fully buffered body.
fn body_bytes(response: Response) -> Vec<u8> {
    let body = response.into_body();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(axum::body::to_bytes(body, usize::MAX))
        .unwrap()
        .to_vec()
}
