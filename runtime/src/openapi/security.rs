//! The security schemes of the document: one entry in `components.securitySchemes` per place
//! a scheme's credential is read, as the verifier is configured. A JWT verifier reading
//! `Authorization: Token` (RealWorld), a header of its own or a cookie is documented as that,
//! not as a bearer token; several places are several entries, alternatives in each operation's
//! `security`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::auth::credential::{Credentials, Place};
use crate::inventory::CredentialPlaces;

/// The JWT checks, the same whatever carries the token.
const JWT_CHECKS: &str = "verified per RFC8725 (JWT Best Current Practices): one algorithm per key, `none` refused, `exp`/`iss`/`aud` required, no key-carrying headers";

/// Schemes whose credential is a signature or proof in a header of their own: the scheme,
/// its entry's name, the header and the description.
const HEADER_SCHEMES: &[(&str, &str, &str, &str)] = &[
    (
        "signature",
        "httpMessageSignature",
        "Signature",
        "An HTTP Message Signature (RFC 9421): `Signature-Input` and `Signature`, covering at least `@method`, `@path`, `@query` and `content-digest` (RFC 9530), with `created`, `keyid` and `nonce`.",
    ),
    (
        "github_webhook",
        "githubWebhook",
        "X-Hub-Signature-256",
        "A GitHub webhook delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, `X-GitHub-Delivery` as replay nonce.",
    ),
    (
        "stripe_webhook",
        "stripeWebhook",
        "Stripe-Signature",
        "A Stripe webhook delivery: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of t.body>`, within 300 s.",
    ),
    (
        "standard_webhook",
        "standardWebhook",
        "webhook-signature",
        "A Standard Webhooks delivery: `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`.",
    ),
    // OpenAPI's `http` type names IANA schemes, but utoipa's list lacks `DPoP`: described as
    // the header the client writes.
    (
        "dpop",
        "dpop",
        "Authorization",
        "A DPoP-bound JWT (RFC 9449): `Authorization: DPoP <JWT>` and a `DPoP: <proof JWT>` header signed (ES256 or EdDSA) by the key the token's `cnf.jkt` names, with `htm`, `htu`, `iat`, a single-use `jti` and `ath`; the token verified per RFC8725 as for bearer JWTs. Refusals: `WWW-Authenticate: DPoP` with `invalid_dpop_proof`, `use_dpop_nonce` (and `DPoP-Nonce`) or `invalid_token`.",
    ),
    (
        "hmac",
        "hmacSignature",
        "Authorization",
        "An HMAC-SHA256 request signature: `Authorization: HMAC-SHA256 keyId=…, timestamp=…, nonce=…, signature=…` over the method, path, query, body digest, timestamp and nonce (docs/hmac.md).",
    ),
];

/// The entries documenting `scheme` (an [`AuthScheme`](crate::policy::AuthScheme) name), each
/// with its name in `components.securitySchemes`: one per place its credential is read.
pub(super) fn schemes(scheme: &str, places: &CredentialPlaces) -> Vec<(String, SecurityScheme)> {
    match scheme {
        "jwt" => match &places.jwt {
            Some(credentials) if !credentials.is_bearer_only() => {
                located("jwt", credentials, &|place| jwt(place))
            }
            _ => vec![("bearerJwt".to_owned(), jwt(Place::Authorization("Bearer")))],
        },
        "api_key" => match &places.api_key {
            Some(credentials) => located("apiKey", credentials, &|place| api_key(place)),
            None => vec![("apiKey".to_owned(), api_key(Place::Header("X-API-Key")))],
        },
        "mtls" => vec![(
            "mutualTls".to_owned(),
            SecurityScheme::MutualTls {
                description: Some("A client certificate (mutual TLS), verified against the configured client CAs and CRLs; the principal is read from the certificate. Behind a TLS-terminating proxy, the RFC9440 `Client-Cert` header from trusted proxies only.".into()),
                deprecated: None,
                extensions: None,
            },
        )],
        _ => {
            let (_, name, header, description) = HEADER_SCHEMES
                .iter()
                .find(|(s, ..)| *s == scheme)
                .or_else(|| HEADER_SCHEMES.iter().find(|(s, ..)| *s == "hmac"))
                .expect("hmac is listed");
            vec![((*name).to_owned(), in_header(header, description.to_string()))]
        }
    }
}

/// One entry per place of `credentials`, named `<base>.<authorization|header|cookie>.<name>`
/// (`jwt.authorization.Token`), except the defaults' own names for the default places
/// (`bearerJwt`, `apiKey`).
fn located(
    base: &str,
    credentials: &Credentials,
    document: &dyn Fn(Place<'_>) -> SecurityScheme,
) -> Vec<(String, SecurityScheme)> {
    credentials
        .places()
        .into_iter()
        .map(|place| {
            let name = match (base, place) {
                ("jwt", Place::Authorization(s)) if s.eq_ignore_ascii_case("bearer") => {
                    "bearerJwt".to_owned()
                }
                ("apiKey", Place::Header(h)) if h.eq_ignore_ascii_case("x-api-key") => {
                    "apiKey".to_owned()
                }
                (_, Place::Authorization(s)) => format!("{base}.authorization.{}", component(s)),
                (_, Place::Header(h)) => format!("{base}.header.{}", component(h)),
                (_, Place::Cookie(c)) => format!("{base}.cookie.{}", component(c)),
            };
            (name, document(place))
        })
        .collect()
}

/// A name as a component key allows it (`^[a-zA-Z0-9.\-_]+$`): other characters as `_`.
fn component(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A JWT read from `place`.
fn jwt(place: Place<'_>) -> SecurityScheme {
    match place {
        Place::Authorization(s) if s.eq_ignore_ascii_case("bearer") => SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(format!("A JWT in `Authorization: Bearer`, {JWT_CHECKS}.")))
                .build(),
        ),
        // Not an IANA scheme OpenAPI's `http` type would name: the header as the client
        // writes it, as RealWorld's own document does.
        Place::Authorization(s) => in_header(
            "Authorization",
            format!("A JWT in `Authorization: {s} <JWT>` (the scheme name, a space, the token), {JWT_CHECKS}."),
        ),
        Place::Header(h) => in_header(h, format!("A JWT alone in the `{h}` header, {JWT_CHECKS}.")),
        Place::Cookie(c) => in_cookie(c, format!("A JWT in the `{c}` cookie, {JWT_CHECKS}. {COOKIE_CSRF}")),
    }
}

/// An API key read from `place`.
fn api_key(place: Place<'_>) -> SecurityScheme {
    match place {
        Place::Authorization(s) => in_header(
            "Authorization",
            format!("An API key in `Authorization: {s} <key>`; never in the URL."),
        ),
        Place::Header(h) => in_header(
            h,
            format!("An API key in the `{h}` header; never in the URL."),
        ),
        Place::Cookie(c) => in_cookie(
            c,
            format!("An API key in the `{c}` cookie; never in the URL. {COOKIE_CSRF}"),
        ),
    }
}

/// What a cookie credential needs besides the cookie.
const COOKIE_CSRF: &str = "A method other than GET, HEAD, OPTIONS and TRACE must also carry an allowed `Origin` (or the configured CSRF header).";

fn in_header(name: &str, description: String) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        name.to_owned(),
        description,
    )))
}

fn in_cookie(name: &str, description: String) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
        name.to_owned(),
        description,
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::auth::credential::{CookieCredential, Credentials};
    use crate::inventory::{Inventory, InventoryEntry};
    use crate::policy::{
        AuthScheme, Authentication, Authorization, BodySpec, EndpointPolicy, Lifecycle,
    };

    const ME: EndpointPolicy = EndpointPolicy {
        handler: "me",
        auth: Authentication::Required(&[AuthScheme::Jwt, AuthScheme::ApiKey]),
        authorization: Authorization {
            any_authenticated: true,
            roles: &[],
            scopes: &[],
            owner: None,
        },
        rate: None,
        fields: None,
        body_limit: None,
        raw_body: false,
        graphql: None,
        lifecycle: Lifecycle::NONE,
        waivers: &[],
        reason: None,
        flow: None,
        body: BodySpec::NONE,
        multipart: None,
    };

    fn document(jwt: Option<Credentials>, api_key: Option<Credentials>) -> Value {
        let inventory = Inventory::new(vec![InventoryEntry::new(&http::Method::GET, "/me", &ME)])
            .with_credentials(jwt.as_ref(), api_key.as_ref());
        serde_json::to_value(inventory.openapi("t", "1", "https://api.example")).unwrap()
    }

    #[test]
    fn the_defaults_are_a_bearer_jwt_and_the_x_api_key_header() {
        let doc = document(None, None);
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearerJwt"]["type"], "http");
        assert_eq!(schemes["bearerJwt"]["scheme"], "bearer");
        assert_eq!(schemes["bearerJwt"]["bearerFormat"], "JWT");
        assert_eq!(schemes["apiKey"]["type"], "apiKey");
        assert_eq!(schemes["apiKey"]["in"], "header");
        assert_eq!(schemes["apiKey"]["name"], "X-API-Key");
        assert_eq!(
            doc["paths"]["/me"]["get"]["security"],
            json!([{"bearerJwt": []}, {"apiKey": []}])
        );
        // Configured as the defaults: the same document.
        assert_eq!(
            document(Some(Credentials::default()), None),
            document(None, None)
        );
    }

    #[test]
    fn a_token_scheme_is_the_authorization_header_not_bearer() {
        // RealWorld ("Conduit"): `Authorization: Token <jwt>`.
        let doc = document(Some(Credentials::authorization("Token")), None);
        let schemes = &doc["components"]["securitySchemes"];
        assert!(schemes.get("bearerJwt").is_none());
        let token = &schemes["jwt.authorization.Token"];
        assert_eq!(token["type"], "apiKey");
        assert_eq!(token["in"], "header");
        assert_eq!(token["name"], "Authorization");
        assert!(token["description"]
            .as_str()
            .unwrap()
            .contains("`Authorization: Token <JWT>`"));
        assert_eq!(
            doc["paths"]["/me"]["get"]["security"],
            json!([{"jwt.authorization.Token": []}, {"apiKey": []}])
        );
    }

    #[test]
    fn every_place_read_is_an_alternative() {
        let jwt = Credentials::authorization("Bearer")
            .or_authorization("Token")
            .or_header("X-Auth-Token")
            .or_cookie(CookieCredential::new("__Host-session"));
        let api_key = Credentials::authorization("ApiKey").or_cookie(CookieCredential::new("key"));
        let doc = document(Some(jwt), Some(api_key));
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearerJwt"]["scheme"], "bearer");
        assert_eq!(schemes["jwt.authorization.Token"]["name"], "Authorization");
        assert_eq!(schemes["jwt.header.X-Auth-Token"]["in"], "header");
        assert_eq!(schemes["jwt.header.X-Auth-Token"]["name"], "X-Auth-Token");
        assert_eq!(schemes["jwt.cookie.__Host-session"]["in"], "cookie");
        assert_eq!(
            schemes["jwt.cookie.__Host-session"]["name"],
            "__Host-session"
        );
        assert!(schemes["jwt.cookie.__Host-session"]["description"]
            .as_str()
            .unwrap()
            .contains("Origin"));
        assert_eq!(
            schemes["apiKey.authorization.ApiKey"]["name"],
            "Authorization"
        );
        assert_eq!(schemes["apiKey.cookie.key"]["in"], "cookie");
        assert!(schemes.get("apiKey").is_none());
        assert_eq!(
            doc["paths"]["/me"]["get"]["security"],
            json!([
                {"bearerJwt": []},
                {"jwt.authorization.Token": []},
                {"jwt.header.X-Auth-Token": []},
                {"jwt.cookie.__Host-session": []},
                {"apiKey.authorization.ApiKey": []},
                {"apiKey.cookie.key": []}
            ])
        );
    }

    #[test]
    fn component_names_keep_only_what_openapi_allows() {
        assert_eq!(super::component("X-Auth_Token.v2"), "X-Auth_Token.v2");
        assert_eq!(super::component("a!b#c"), "a_b_c");
    }
}
