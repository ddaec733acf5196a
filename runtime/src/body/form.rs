//! URL-encoded form bodies (`application/x-www-form-urlencoded`) under the same allowlist as
//! JSON: the names are checked before anything is deserialized.

use axum::extract::{FromRequest, Request};
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::extract::{read_extracted, validated};
use super::{media, shown, MAX_LISTED};
use crate::problem::{FieldError, Problem};

/// Checks that every name of a URL-encoded form `body` is in `fields`, each at most once, as
/// [`check_fields`](super::check_fields) does for JSON: names are compared decoded (`%XX`
/// and `+`), values are never decoded into anything kept or echoed. 422 `unknown_fields`
/// naming the names, 422 `duplicate_field`, 400 `malformed_form` for a body that is not UTF-8.
pub fn check_form_fields(body: &[u8], fields: &[&str]) -> Result<(), Problem> {
    if std::str::from_utf8(body).is_err() {
        return Err(
            Problem::bad_request("The request body is not a valid form.")
                .with_code("malformed_form"),
        );
    }
    let mut seen: u64 = 0;
    let mut unknown: Vec<String> = Vec::new();
    let mut duplicate: Option<String> = None;
    for (name, _) in form_urlencoded::parse(body) {
        match fields.iter().position(|f| *f == name) {
            Some(i) if i < 64 => {
                let bit = 1u64 << i;
                if seen & bit != 0 && duplicate.is_none() {
                    duplicate = Some(shown(&name));
                }
                seen |= bit;
            }
            Some(_) => {}
            None => {
                let name = shown(&name);
                if unknown.len() < MAX_LISTED && !unknown.contains(&name) {
                    unknown.push(name);
                }
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("unknown_fields")
            .with_detail("The request body contains fields this endpoint does not accept.")
            .with_errors(
                unknown
                    .into_iter()
                    .map(|field| FieldError {
                        field,
                        message: "field not allowed".into(),
                    })
                    .collect(),
            ));
    }
    if let Some(field) = duplicate {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("duplicate_field")
            .with_detail("A field appears more than once in the request body.")
            .with_errors(vec![FieldError {
                field,
                message: "duplicate field".into(),
            }]));
    }
    Ok(())
}

/// A URL-encoded form body (`application/x-www-form-urlencoded`), deserialized after the
/// allowlist check (`fields`) and validated with garde.
///
/// Rejections are problem+json: 415 for another media type, 422 for a form that does not fit
/// `T` (no serde message is echoed) or fails validation (field paths and garde's messages).
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let (parts, body) = req.into_parts();
        let bytes = read_extracted(&parts, body, media::require_form_type).await?;
        let value: T = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("invalid_body")
                .with_detail("The request body does not have the expected shape.")
        })?;
        let value = validated(value, "The request body failed validation.")?;
        Ok(Form(value))
    }
}
