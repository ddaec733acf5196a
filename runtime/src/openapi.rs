//! An OpenAPI 3.1 document of the secure router, built with utoipa from the same inventory the
//! runtime enforces (feature `openapi`).
//!
//! What it says comes from the contracts, not from hand-written annotations:
//! - security schemes for the schemes the endpoints use, where the verifiers read them (a JWT
//!   in `Authorization: Bearer` by default, or as configured: `Authorization: Token`, a header,
//!   a cookie; `X-API-Key` or as configured; signatures in their headers; mutual TLS), and per
//!   operation the accepted schemes (alternatives) with the required scopes; roles, ownership
//!   and the rate are in the description and in `x-` extensions;
//! - path parameters; for endpoints with `fields`, a JSON request body with exactly those
//!   properties (`additionalProperties: false`) and the body limit;
//! - the problem+json (RFC 9457) answers the pipeline can give: 401 with `WWW-Authenticate`,
//!   403, 404, 405, 410, 413, 415, 422, 429 with `Retry-After`, `RateLimit` and
//!   `RateLimit-Policy`, 500;
//! - `deprecated: true` and the sunset date for endpoints being retired.
//!
//! Request and response bodies carry the JSON schemas of the handler's types when they derive
//! `utoipa::ToSchema` (a request body cut to the allowlisted fields, nested paths included;
//! see `types`); otherwise a request body shows the allowlist's shape and a response is JSON
//! without a schema.
//!
//! An application that builds its own utoipa document merges the secured router's into it:
//! `app_doc.merge(router.inventory().openapi(title, version, server))` adds the secured paths,
//! their security schemes, the problem responses and the types' schemas (utoipa keeps the
//! application's entry where both have one of the same name).

use std::collections::BTreeMap;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ComponentsBuilder, KnownFormat, ObjectBuilder,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Deprecated, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, Paths, Ref, Required,
};

use crate::inventory::{Inventory, InventoryEntry};

mod security;
mod types;

const PROBLEM_JSON: &str = "application/problem+json";

fn string(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
}

fn problem_schema() -> ObjectBuilder {
    let field_error = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("field", string(256))
        .property("message", string(256))
        .required("field")
        .required("message")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "An RFC 9457 problem: the same shape for every error, with nothing internal.",
        ))
        .property("type", string(256))
        .property("title", string(256))
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(400))
                .maximum(Some(599)),
        )
        .property("detail", string(1024))
        .property("code", string(64))
        .property(
            "error_id",
            string(64).description(Some("Quote it to support; it finds the log line.")),
        )
        .property("request_id", string(64))
        .property(
            "errors",
            ArrayBuilder::new().items(field_error).max_items(Some(256)),
        )
        .required("type")
        .required("title")
        .required("status")
        .required("error_id")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

/// Every response may carry `Access-Control-Allow-Origin`, for an allowed origin only.
fn with_cors(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Access-Control-Allow-Origin",
        header("Sent only when CORS is configured and the request's Origin is on the allowlist: that exact origin, never `*`."),
    )
}

fn problem_response(description: &str) -> ResponseBuilder {
    with_cors(ResponseBuilder::new().description(description)).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(string(256)))
        .description(Some(description))
        .build()
}

fn rate_headers(response: ResponseBuilder) -> ResponseBuilder {
    response
        .header(
            "RateLimit",
            header("Remaining quota (draft-ietf-httpapi-ratelimit-headers)."),
        )
        .header(
            "RateLimit-Policy",
            header("The quota policy (draft-ietf-httpapi-ratelimit-headers)."),
        )
}

/// Reusable responses, by status.
fn responses() -> Vec<(&'static str, ResponseBuilder)> {
    vec![
        (
            "Unauthorized",
            problem_response("No credential, or one that was refused; the same body whatever was wrong.")
                .header("WWW-Authenticate", header("One challenge per accepted scheme.")),
        ),
        ("Forbidden", problem_response("A required role or scope is missing.")),
        (
            "NotFound",
            problem_response("No such resource, or one that belongs to someone else."),
        ),
        ("MethodNotAllowed", problem_response("The method is not routed here.").header("Allow", header("The routed methods."))),
        ("Gone", problem_response("The endpoint is past its sunset date.")),
        ("PayloadTooLarge", problem_response("The body is over the limit.")),
        ("UnsupportedMediaType", problem_response("The body is not uncompressed JSON.")),
        (
            "BadRequest",
            problem_response("Malformed JSON, nesting too deep, or a malformed parameter."),
        ),
        (
            "UnprocessableEntity",
            problem_response("A field that is not allowed, or a value that fails validation; `errors` names the fields."),
        ),
        (
            "TooManyRequests",
            rate_headers(problem_response("Over the rate limit."))
                .header("Retry-After", header("Seconds until a request is admitted again.")),
        ),
        ("InternalServerError", problem_response("An unexpected failure; the body says nothing internal.")),
    ]
}

fn reference(name: &str) -> Ref {
    Ref::new(format!("#/components/responses/{name}"))
}

fn method(m: &str) -> Option<HttpMethod> {
    Some(match m {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "HEAD" => HttpMethod::Head,
        "OPTIONS" => HttpMethod::Options,
        _ => return None,
    })
}

fn description(e: &InventoryEntry) -> String {
    let mut parts = Vec::new();
    if e.public {
        parts.push("Public: no authentication.".to_owned());
    } else if e.optional_auth {
        parts.push(format!(
            "Authentication: optional ({}); without a credential the caller is anonymous, an invalid one is refused with 401.",
            e.auth.join(" or ")
        ));
    } else {
        parts.push(format!("Authentication: {}.", e.auth.join(" or ")));
    }
    if !e.roles.is_empty() {
        parts.push(format!(
            "Requires one of the roles: {}.",
            e.roles.join(", ")
        ));
    }
    if !e.scopes.is_empty() {
        parts.push(format!("Requires the scopes: {}.", e.scopes.join(", ")));
    }
    if let Some(owner) = e.owner {
        parts.push(format!(
            "Only the owner of `{{{owner}}}` may call it; anyone else gets {}.",
            e.owner_status.unwrap_or(404)
        ));
    }
    match &e.rate {
        Some(rate) => parts.push(format!(
            "Rate limit: {rate} per {}.",
            e.rate_key.replace('_', " ")
        )),
        None => parts.push("Rate limit: the router's default.".to_owned()),
    }
    if let Some(fields) = &e.fields {
        parts.push(format!("Body fields allowed: {}.", fields.join(", ")));
    }
    if e.raw_body {
        parts.push("Body: raw bytes, unparsed.".to_owned());
    }
    if let Some(text) = crate::multipart::describe(e.multipart.as_deref(), e.body_limit) {
        parts.push(format!("Body: {text}."));
    }
    if let Some(sunset) = &e.sunset {
        parts.push(format!("Sunset: {sunset}."));
    }
    if let Some(successor) = &e.successor {
        parts.push(format!("Successor: {successor}."));
    }
    parts.join(" ")
}

/// The entries of `components.securitySchemes` documenting each scheme used, by scheme.
type Schemes = BTreeMap<&'static str, Vec<(String, SecurityScheme)>>;

fn operation(
    e: &InventoryEntry,
    operation_id: String,
    components: &mut types::Components,
    schemes: &Schemes,
) -> OperationBuilder {
    let schemas = e.schemas.map(|s| s.get()).unwrap_or_default();
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id))
        .summary(Some(e.handler.replace('_', " ")))
        .description(Some(description(e)))
        .tag(tag_of(&e.path));
    // Path parameters.
    for segment in e.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let name = name.trim_start_matches('*');
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string(256))),
            );
        }
    }
    // Security: requirement objects are alternatives. Each accepted scheme is one per place
    // its credential is read; with roles (any of), one per such entry and role. The array
    // lists what the principal needs: the role (OpenAPI 3.1 allows role names for non-OAuth
    // schemes) and every scope.
    if e.public {
        op = op.securities(Some(Vec::<SecurityRequirement>::new()));
    } else {
        let mut requirements = Vec::new();
        for scheme in &e.auth {
            for (name, _) in schemes.get(scheme).into_iter().flatten() {
                if e.roles.is_empty() {
                    requirements.push(SecurityRequirement::new(name, e.scopes.iter().copied()));
                }
                for role in &e.roles {
                    requirements.push(SecurityRequirement::new(
                        name,
                        std::iter::once(*role).chain(e.scopes.iter().copied()),
                    ));
                }
            }
        }
        if e.optional_auth {
            // An empty requirement: anonymous callers are admitted too.
            requirements.insert(0, SecurityRequirement::default());
        }
        op = op.securities(Some(requirements));
    }
    // The body, when there is one: exactly the allowed fields.
    if let Some(fields) = &e.fields {
        // The allowlist's shape, nested paths included, with the body type's schemas.
        let schema = types::request_schema(fields, schemas.request, components);
        let media = if e.form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        let limit = e
            .body_limit
            .map_or_else(|| "the router's limit".to_owned(), |b| format!("{b} bytes"));
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!(
                    "{}, uncompressed, at most {limit}; fields other than these are refused before deserialization.",
                    if e.form { "A URL-encoded form" } else { "JSON" }
                )))
                .required(Some(Required::True))
                .content(media, ContentBuilder::new().schema(Some(schema)).build())
                .build(),
        ));
    }
    // `body = "raw"`: any bytes, handed over unparsed.
    if e.raw_body {
        let limit = e
            .body_limit
            .map_or_else(|| "the router's limit".to_owned(), |b| format!("{b} bytes"));
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!(
                    "The raw body, unparsed (a signed delivery is verified on these exact bytes), at most {limit}."
                )))
                .required(Some(Required::True))
                .content("*/*", ContentBuilder::new().build())
                .build(),
        ));
    }
    // `body = "ignored"`: any body, or none, read and discarded unread.
    if e.ignored_body {
        let limit = e
            .body_limit
            .map_or_else(|| "the router's limit".to_owned(), |b| format!("{b} bytes"));
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!(
                    "Optional and never read: any body of at most {limit} is discarded."
                )))
                .required(Some(Required::False))
                .content("*/*", ContentBuilder::new().build())
                .build(),
        ));
    }
    // A GraphQL body: one request object or a batch of them.
    if let Some(g) = &e.graphql {
        let mut request = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        // A string can be no longer than the body that carries it: the endpoint's limit, or
        // the router's default (the OWASP ruleset wants every string bounded).
        let longest = e.body_limit.unwrap_or(crate::body::DEFAULT_BODY_LIMIT);
        // GraphQL over HTTP: `operationName`, `variables` and `extensions` may be `null`, as
        // absent (the executor takes them so).
        for field in crate::body::GRAPHQL_FIELDS {
            let schema = match *field {
                "query" => string(longest),
                "operationName" => {
                    string(longest).schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                }
                _ => ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Object, Type::Null])),
            };
            request = request.property(*field, schema);
        }
        let request = request.build();
        let batch = utoipa::openapi::schema::ArrayBuilder::new()
            .items(request.clone())
            .min_items(Some(1))
            .max_items(Some(g.max_batch));
        let schema = utoipa::openapi::schema::OneOfBuilder::new()
            .item(request)
            .item(batch);
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!(
                    "A GraphQL request, or a batch of at most {} (each operation counted against the rate limit); max depth {}, complexity {}, aliases {}, root fields {}.",
                    g.max_batch, g.max_depth, g.max_complexity, g.max_aliases, g.max_root_fields
                )))
                .required(Some(Required::True))
                .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
                .build(),
        ));
    }
    if let Some(parts) = &e.multipart {
        op = op.request_body(Some(crate::multipart::openapi::request_body(
            parts,
            e.body_limit,
        )));
    }
    // Answers.
    // The success body: the handler's `Json<T>` schema when `T: ToSchema`; under `2XX` when
    // the handler chooses the status (`(StatusCode, Json<T>)`).
    let ok_content = match schemas.response {
        Some(response) => ContentBuilder::new()
            .schema(Some(types::response_schema(response, components)))
            .build(),
        None => ContentBuilder::new().build(),
    };
    let ok = with_cors(ResponseBuilder::new().description("Success."))
        .content("application/json", ok_content);
    let success = if schemas.any_success_status {
        "2XX"
    } else {
        "200"
    };
    let mut responses = ResponsesBuilder::new().response(success, ok);
    let mut add = |status: &str, name: &str| {
        responses = std::mem::take(&mut responses).response(status, reference(name));
    };
    add("400", "BadRequest");
    if !e.public {
        add("401", "Unauthorized");
    }
    if !e.roles.is_empty() || !e.scopes.is_empty() || e.owner_status == Some(403) {
        add("403", "Forbidden");
    }
    add("404", "NotFound");
    add("405", "MethodNotAllowed");
    if e.sunset.is_some() {
        add("410", "Gone");
    }
    if e.raw_body || e.ignored_body {
        add("413", "PayloadTooLarge");
    }
    if e.fields.is_some() || e.graphql.is_some() || e.multipart.is_some() {
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
        add("422", "UnprocessableEntity");
    }
    add("429", "TooManyRequests");
    add("500", "InternalServerError");
    op = op.responses(responses.build());
    if e.deprecated.is_some() || e.sunset.is_some() {
        op = op.deprecated(Some(Deprecated::True));
    }
    // The business flow and its budgets (OWASP API6): `x-flow: {name, budget}`, one key (the
    // extensions are a hash map: several keys would come out in any order).
    if let Some(flow) = e.flow {
        let mut value = serde_json::json!({ "name": flow });
        if let Some(budget) = &e.flow_budget {
            value["budget"] = serde_json::Value::from(budget.as_str());
        }
        op = op.extensions(Some(ExtensionsBuilder::new().add("x-flow", value).build()));
    }
    op
}

/// The first path segment after an `/api` prefix and a version: `/api/v1/users/me` → `users`.
fn tag_of(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != "api" && !s.starts_with('{'))
        .find(|s| !(s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit())))
        .unwrap_or("root")
        .to_owned()
}

impl Inventory {
    /// The OpenAPI 3.1 document of these endpoints, titled `title` at `version`, served from
    /// `server` (an `https://` URL).
    pub fn openapi(&self, title: &str, version: &str, server: &str) -> OpenApi {
        // Operation ids: the handler's name, made unique by the method when a handler is routed
        // more than once.
        let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &self.endpoints {
            *uses.entry(e.handler).or_default() += 1;
        }
        let mut paths = Paths::new();
        let mut tags = std::collections::BTreeSet::new();
        let mut schemes = Schemes::new();
        for e in self
            .endpoints
            .iter()
            .filter(|e| method(&e.method).is_some())
        {
            for scheme in &e.auth {
                schemes
                    .entry(scheme)
                    .or_insert_with(|| security::schemes(scheme, &self.credentials));
            }
        }
        let mut types = types::Components::new();
        for e in &self.endpoints {
            let Some(m) = method(&e.method) else { continue };
            let id = if uses[e.handler] > 1 {
                format!("{}_{}", e.handler, e.method.to_ascii_lowercase())
            } else {
                e.handler.to_owned()
            };
            tags.insert(tag_of(&e.path));
            let item = PathItem::new(m, operation(e, id, &mut types, &schemes));
            match paths.paths.get_mut(&e.path) {
                Some(existing) => existing.merge_operations(item),
                None => {
                    paths.paths.insert(e.path.clone(), item);
                }
            }
        }
        let mut components = ComponentsBuilder::new().schema("Problem", problem_schema());
        for (name, schema) in types::unique(types) {
            components = components.schema(name, schema);
        }
        for (name, response) in responses() {
            components = components.response(name, response.build());
        }
        for (name, definition) in schemes.into_values().flatten() {
            components = components.security_scheme(name, definition);
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title(title)
                    .version(version)
                    .description(Some(
                        "Generated from the endpoints' #[secure_endpoint] contracts: what is documented here is what the router enforces.",
                    ))
                    .build(),
            )
            .servers(Some([ServerBuilder::new()
                .url(server)
                .extensions(Some(ExtensionsBuilder::new().add("x-internal", false).build()))
                .build()]))
            .paths(paths)
            .components(Some(components.build()))
            .tags(Some(tags.into_iter().map(|t| TagBuilder::new().name(t).build())))
            .build()
    }
}

#[cfg(test)]
mod optional_and_owner_status_tests {
    use crate::inventory::{Inventory, InventoryEntry};
    use crate::policy::build::{AuthorizationBuilder, OwnerBuilder, PolicyBuilder};
    use crate::policy::{AuthScheme, Authentication, EndpointPolicy, OwnerBinding, OwnerDenial};

    const BASE: EndpointPolicy =
        PolicyBuilder::new("feed", Authentication::Optional(&[AuthScheme::Jwt])).build();
    const OWNED: EndpointPolicy = PolicyBuilder::from_policy(BASE)
        .handler("delete_comment")
        .auth(Authentication::Required(&[AuthScheme::Jwt]))
        .authorization(
            AuthorizationBuilder::from_authorization(BASE.authorization)
                .owner(Some(
                    OwnerBuilder::new("id", OwnerBinding::Unbound)
                        .loader(Some("Comment"))
                        .denial(Some(OwnerDenial::Forbidden))
                        .build(),
                ))
                .build(),
        )
        .build();

    #[test]
    fn optional_auth_admits_anonymous_and_owner_status_lists_403() {
        let inventory = Inventory::new(vec![
            InventoryEntry::new(&http::Method::GET, "/feed", &BASE),
            InventoryEntry::new(&http::Method::DELETE, "/comments/{id}", &OWNED),
        ]);
        let doc = serde_json::to_value(inventory.openapi("t", "1", "https://api.example")).unwrap();
        let feed = &doc["paths"]["/feed"]["get"];
        assert_eq!(feed["security"], serde_json::json!([{}, {"bearerJwt": []}]));
        assert!(feed["responses"].get("401").is_some());
        assert!(feed["description"]
            .as_str()
            .unwrap()
            .contains("optional (jwt)"));
        let delete = &doc["paths"]["/comments/{id}"]["delete"];
        assert!(delete["responses"].get("403").is_some());
        assert!(delete["description"]
            .as_str()
            .unwrap()
            .contains("anyone else gets 403"));
    }
}
