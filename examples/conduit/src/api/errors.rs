//! The spec's error shape, `{"errors": {"field": ["message", ...]}}`, for every rejection of
//! the secure router: the library's own (401, 404, 413, 415, 422, 429, ...) and the validation
//! failures of the handlers' `Json` and `Query` alike. Status, security headers, request id
//! and `WWW-Authenticate` stay as the library sends them.

use std::collections::BTreeMap;

use secure_endpoint::{ProblemBody, ProblemView};

/// The renderer installed on Conduit's security configuration. A field error is keyed by the
/// field's name inside its envelope (`user.email` → `email`, `article.tagList[2]` →
/// `tagList[2]`); a problem without field errors is keyed `body`, with its detail (or title).
pub fn realworld_errors(problem: &ProblemView<'_>) -> Option<ProblemBody> {
    let mut errors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for error in problem.errors() {
        errors
            .entry(field_name(&error.field))
            .or_default()
            .push(&error.message);
    }
    if errors.is_empty() {
        errors.insert("body", vec![problem.detail().unwrap_or(problem.title())]);
    }
    ProblemBody::json(&serde_json::json!({ "errors": errors }))
}

/// The field's path without its envelope (`user.`, `article.`, `comment.`).
fn field_name(path: &str) -> &str {
    for envelope in ["user.", "article.", "comment."] {
        if let Some(rest) = path.strip_prefix(envelope) {
            if !rest.is_empty() {
                return rest;
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::field_name;

    #[test]
    fn envelopes_are_dropped_from_field_names() {
        assert_eq!(field_name("user.email"), "email");
        assert_eq!(field_name("article.tagList[2]"), "tagList[2]");
        assert_eq!(field_name("comment.body"), "body");
        assert_eq!(field_name("email"), "email");
        assert_eq!(field_name("user."), "user.");
    }
}
