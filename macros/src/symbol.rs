//! The attribute's keys, named once (after serde's `symbol.rs`).

pub(crate) const AUTH: &str = "auth";
pub(crate) const ALLOW: &str = "allow";
pub(crate) const ROLES: &str = "roles";
pub(crate) const SCOPES: &str = "scopes";
pub(crate) const OWNER: &str = "owner";
pub(crate) const LOADER: &str = "loader";
pub(crate) const RATE: &str = "rate";
pub(crate) const FIELDS: &str = "fields";
pub(crate) const BODY_LIMIT: &str = "body_limit";
pub(crate) const DEPRECATED: &str = "deprecated";
pub(crate) const SUNSET: &str = "sunset";
pub(crate) const SUCCESSOR: &str = "successor";
pub(crate) const WAIVE: &str = "waive";
pub(crate) const REASON: &str = "reason";
pub(crate) const BODY: &str = "body";
pub(crate) const GRAPHQL: &str = "graphql";
pub(crate) const FLOW: &str = "flow";
pub(crate) const OWNER_STATUS: &str = "owner_status";
pub(crate) const MULTIPART: &str = "multipart";

/// `auth = optional("jwt")`: optional authentication.
pub(crate) const OPTIONAL: &str = "optional";

/// Every key the attribute accepts, in the order the reference documents them.
pub(crate) const ALL_KEYS: &[&str] = &[
    AUTH,
    ALLOW,
    ROLES,
    SCOPES,
    OWNER,
    LOADER,
    RATE,
    FIELDS,
    BODY_LIMIT,
    DEPRECATED,
    SUNSET,
    SUCCESSOR,
    WAIVE,
    REASON,
    BODY,
    GRAPHQL,
    FLOW,
    OWNER_STATUS,
    MULTIPART,
];

/// The authentication schemes, as `auth = ...` and the policy file's `allowed_schemes` name
/// them: the names of the runtime's `AuthScheme` (a test pins them equal).
pub(crate) const SCHEMES: &[&str] = &[
    "jwt",
    "api_key",
    "hmac",
    "signature",
    "github_webhook",
    "stripe_webhook",
    "standard_webhook",
    "dpop",
    "mtls",
];

/// Values of `auth`: a scheme, or `"none"`.
pub(crate) const AUTH_SCHEMES: &[&str] = &{
    let mut values = [""; SCHEMES.len() + 1];
    let mut i = 0;
    while i < SCHEMES.len() {
        values[i] = SCHEMES[i];
        i += 1;
    }
    values[SCHEMES.len()] = "none";
    values
};

/// Values of `body`.
pub(crate) const BODY_VALUES: &[&str] = &["raw", "ignored"];

/// The extractors a `body = "raw"` handler may take its body with.
pub(crate) const RAW_BODY_EXTRACTORS: &[&str] = &["Bytes", "String"];

/// Values of `allow`.
pub(crate) const ALLOW_VALUES: &[&str] = &["authenticated"];

/// Extractors that read the request body (the last path segment of the argument's type).
pub(crate) const BODY_EXTRACTORS: &[&str] = &[
    "Json",
    "Form",
    "Bytes",
    "String",
    "Body",
    "Request",
    "RawForm",
    "Multipart",
    "BodyStream",
    "GraphQlRequest",
    "MultipartForm",
];

/// The extractors of a multipart body: the validated form `multipart = [...]` hands over, and
/// axum's own, which reads parts unchecked.
pub(crate) const MULTIPART_EXTRACTORS: &[&str] = &["MultipartForm", "Multipart"];

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{AUTH_SCHEMES, SCHEMES};

    /// The macro and the runtime name the schemes alike: the inventory, OpenAPI and the
    /// policy file's `allowed_schemes` all read the runtime's names.
    #[test]
    fn scheme_names_are_the_runtimes() {
        let runtime: Vec<&str> = secure_endpoint::policy::AuthScheme::ALL
            .iter()
            .map(|scheme| scheme.as_str())
            .collect();
        assert_eq!(SCHEMES, runtime.as_slice());
        assert_eq!(AUTH_SCHEMES.last(), Some(&"none"));
        assert_eq!(&AUTH_SCHEMES[..SCHEMES.len()], SCHEMES);
    }

    /// Every name listed is one the check accepts (it matches the names itself).
    #[test]
    fn every_listed_scheme_is_accepted() {
        for name in SCHEMES {
            let body = if name.ends_with("webhook") {
                quote!(body = "raw",)
            } else {
                quote!()
            };
            let args = quote!(auth = #name, allow = "authenticated", #body);
            let item = if name.ends_with("webhook") {
                quote!(
                    async fn f(body: Bytes) {}
                )
            } else {
                quote!(
                    async fn f() {}
                )
            };
            let checked = crate::check::check(crate::syntax::parse(args, item).unwrap(), None);
            assert!(
                checked.is_ok(),
                "{name}: {:?}",
                checked
                    .err()
                    .map(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())
            );
        }
        let public = crate::check::check(
            crate::syntax::parse(
                quote!(auth = "none"),
                quote!(
                    async fn f() {}
                ),
            )
            .unwrap(),
            None,
        );
        assert!(public.is_ok());
    }
}
