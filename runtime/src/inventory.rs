//! The security inventory: every routed endpoint's contract, as JSON or a Markdown table.
//! It is built from the same `const` policies the runtime enforces.

use serde::Serialize;

use crate::auth::credential::Credentials;
use crate::policy::{byte_size, Authentication, EndpointPolicy};

/// One endpoint of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryEntry {
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub path: String,
    /// Handler name.
    pub handler: &'static str,
    /// Authentication schemes; empty when public.
    pub auth: Vec<&'static str>,
    /// `true` when `auth = "none"`.
    pub public: bool,
    /// `true` when any authenticated principal is admitted.
    pub any_authenticated: bool,
    /// At least one of these roles.
    pub roles: Vec<&'static str>,
    /// Every one of these scopes.
    pub scopes: Vec<&'static str>,
    /// Ownership path parameter.
    pub owner: Option<&'static str>,
    /// Ownership loader type.
    pub loader: Option<&'static str>,
    /// The endpoint's rate, or `None` when the router's default applies.
    pub rate: Option<String>,
    /// What the rate counts by.
    pub rate_key: &'static str,
    /// Allowed body fields; `None` when the endpoint takes no body.
    pub fields: Option<Vec<&'static str>>,
    /// The endpoint's own body limit in bytes, or `None` when the router's applies.
    pub body_limit: Option<usize>,
    /// `true` when the body is taken unparsed (`body = "raw"`); omitted when `false`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub raw_body: bool,
    /// A GraphQL endpoint's limits (`graphql = LIMITS`); omitted for other endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graphql: Option<GraphQlInventory>,
    /// An upload endpoint's declared parts (`multipart = [...]`); omitted for other endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multipart: Option<Vec<crate::policy::part::PartSpec>>,
    /// Deprecated from this date on (`YYYY-MM-DD`).
    pub deprecated: Option<String>,
    /// Removed on this date (`YYYY-MM-DD`).
    pub sunset: Option<String>,
    /// The successor version's URL.
    pub successor: Option<String>,
    /// Rules of the organisation's policy file this endpoint waives (`waive = [...]`).
    pub waivers: Vec<&'static str>,
    /// Why the endpoint waives rules or is public (`reason = "..."`).
    pub reason: Option<&'static str>,
    /// The business flow the endpoint belongs to (`flow = "login"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<&'static str>,
    /// That flow's budgets as the router enforces them (`per client IP 10/1m, total 1000/1m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_budget: Option<String>,
    /// `true` for `auth = optional(...)`: anonymous callers are admitted, a credential that
    /// does not verify is refused; omitted when `false`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional_auth: bool,
    /// `403` when another principal's resource is answered 403 (`owner_status = 403`, or the
    /// router's [`owner_status`](crate::SecureRouter::owner_status)); omitted for the default,
    /// 404.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_status: Option<u16>,
    /// `true` when the allowlisted body is a URL-encoded form (`Form<T>`); omitted when `false`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub form: bool,
    /// `true` when a body is accepted and discarded unread (`body = "ignored"`); omitted when
    /// `false`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored_body: bool,
    /// The schemas of the handler's body and response types (for the OpenAPI document).
    #[serde(skip)]
    pub schemas: Option<crate::policy::Schemas>,
}

impl InventoryEntry {
    pub(crate) fn new(method: &http::Method, path: &str, p: &'static EndpointPolicy) -> Self {
        let a = &p.authorization;
        InventoryEntry {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            handler: p.handler,
            auth: match p.auth {
                Authentication::Public => Vec::new(),
                Authentication::Required(s) | Authentication::Optional(s) => {
                    s.iter().map(|s| s.as_str()).collect()
                }
            },
            public: p.auth == Authentication::Public,
            any_authenticated: a.any_authenticated,
            roles: a.roles.to_vec(),
            scopes: a.scopes.to_vec(),
            owner: a.owner.map(|o| o.param),
            loader: a.owner.and_then(|o| o.loader),
            rate: p.rate.map(|r| r.to_string()),
            rate_key: match p.auth {
                Authentication::Public => "client_ip",
                Authentication::Optional(_) => "principal_or_client_ip",
                Authentication::Required(_) => "principal",
            },
            fields: p.fields.map(<[_]>::to_vec),
            body_limit: p.body_limit,
            raw_body: p.raw_body,
            graphql: p.graphql.map(GraphQlInventory::new),
            multipart: p.multipart.map(<[_]>::to_vec),
            deprecated: p.lifecycle.deprecated.map(|d| d.to_string()),
            sunset: p.lifecycle.sunset.map(|d| d.to_string()),
            successor: p.lifecycle.successor.map(str::to_owned),
            waivers: p.waivers.to_vec(),
            reason: p.reason,
            flow: p.flow,
            flow_budget: None,
            optional_auth: p.auth.is_optional(),
            owner_status: a
                .owner
                .and_then(|o| o.denial)
                .map(|d| d.status().as_u16())
                .filter(|s| *s != 404),
            form: p.body.form,
            ignored_body: p.body.ignored,
            schemas: p.body.schemas,
        }
    }

    /// `flow `login` (per client IP 10/1m, total 1000/1m)`, or nothing without a flow.
    fn flow_text(&self) -> Option<String> {
        let flow = self.flow?;
        Some(match &self.flow_budget {
            Some(budget) => format!("flow `{flow}` ({budget})"),
            None => format!("flow `{flow}`"),
        })
    }

    /// `deprecated 2026-06-30, sunset 2026-12-31 → /api/v2/users/me`, or `—`.
    fn lifecycle_text(&self) -> String {
        let mut dates = Vec::new();
        if let Some(d) = &self.deprecated {
            dates.push(format!("deprecated {d}"));
        }
        if let Some(d) = &self.sunset {
            dates.push(format!("sunset {d}"));
        }
        if dates.is_empty() {
            return "—".to_owned();
        }
        let mut text = dates.join(", ");
        if let Some(successor) = &self.successor {
            text.push_str(&format!(" → {successor}"));
        }
        text
    }

    /// The authorization, then the waivers and the reason: `public (status page)`,
    /// `roles: admin; waived: require_rate (internal tool)`.
    fn authorization_text(&self) -> String {
        let mut text = self.authorization_only();
        match (self.waivers.is_empty(), self.reason) {
            (false, Some(reason)) => {
                text.push_str(&format!("; waived: {} ({reason})", self.waivers.join(", ")));
            }
            (false, None) => text.push_str(&format!("; waived: {}", self.waivers.join(", "))),
            (true, Some(reason)) => text.push_str(&format!(" ({reason})")),
            (true, None) => {}
        }
        text
    }

    fn authorization_only(&self) -> String {
        if self.public {
            return "public".into();
        }
        let mut parts = Vec::new();
        if self.any_authenticated {
            parts.push("any authenticated".to_owned());
        }
        if !self.roles.is_empty() {
            parts.push(format!("roles: {}", self.roles.join(" | ")));
        }
        if !self.scopes.is_empty() {
            parts.push(format!("scopes: {}", self.scopes.join(" + ")));
        }
        if let Some(owner) = self.owner {
            match self.loader {
                Some(loader) => parts.push(format!("owner: {{{owner}}} via {loader}")),
                None => parts.push(format!("owner: {{{owner}}}")),
            }
            if let Some(status) = self.owner_status {
                parts.push(format!("{status} if not theirs"));
            }
        }
        if self.optional_auth {
            parts.push("anyone; the principal when a credential is presented".to_owned());
        }
        parts.join("; ")
    }
}

/// Every routed endpoint's contract, in routing order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// The endpoints.
    pub endpoints: Vec<InventoryEntry>,
    /// Where the verifiers read their credentials, when configured other than the defaults;
    /// for the OpenAPI document's security schemes. Not in the JSON.
    #[serde(skip)]
    pub credentials: CredentialPlaces,
}

/// Where the JWT and API-key verifiers read their credentials; `None`: the defaults
/// (`Authorization: Bearer`, `X-API-Key`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialPlaces {
    /// The JWT verifier's ([`JwtVerifierBuilder::credentials`](crate::jwt::JwtVerifierBuilder::credentials)).
    pub jwt: Option<Credentials>,
    /// The API keys' ([`SecurityBuilder::api_key_credentials`](crate::SecurityBuilder::api_key_credentials)).
    pub api_key: Option<Credentials>,
}

impl Inventory {
    pub(crate) fn new(endpoints: Vec<InventoryEntry>) -> Self {
        Inventory {
            endpoints,
            credentials: CredentialPlaces::default(),
        }
    }

    /// The same inventory, knowing where the JWT and API-key verifiers read credentials.
    pub(crate) fn with_credentials(
        mut self,
        jwt: Option<&Credentials>,
        api_key: Option<&Credentials>,
    ) -> Self {
        self.credentials = CredentialPlaces {
            jwt: jwt.cloned(),
            api_key: api_key.cloned(),
        };
        self
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the inventory is plain data")
    }

    /// A Markdown table, one row per endpoint.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| method | path | handler | auth | authorization | rate | fields | lifecycle |\n|---|---|---|---|---|---|---|---|\n",
        );
        for e in &self.endpoints {
            let auth = if e.public {
                "none".to_owned()
            } else if e.optional_auth {
                format!("optional: {}", e.auth.join(", "))
            } else {
                e.auth.join(", ")
            };
            let rate = match &e.rate {
                Some(r) => format!("{r} per {}", e.rate_key.replace('_', " ")),
                None => "default".to_owned(),
            };
            let rate = match e.flow_text() {
                Some(flow) => format!("{rate}; {flow}"),
                None => rate,
            };
            let fields = match &e.fields {
                Some(f) => {
                    let mut text = f
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if let Some(limit) = e.body_limit {
                        text.push_str(&format!(" (≤ {})", byte_size(limit)));
                    }
                    text
                }
                None if e.raw_body => match e.body_limit {
                    Some(limit) => format!("raw body (≤ {})", byte_size(limit)),
                    None => "raw body".to_owned(),
                },
                None if e.ignored_body => match e.body_limit {
                    Some(limit) => format!("body ignored (≤ {})", byte_size(limit)),
                    None => "body ignored".to_owned(),
                },
                None => match &e.graphql {
                    Some(g) => g.text(e.body_limit),
                    None => crate::multipart::describe(e.multipart.as_deref(), e.body_limit)
                        .unwrap_or_else(|| "no body".to_owned()),
                },
            };
            out.push_str(&format!(
                "| {} | `{}` | `{}` | {} | {} | {} | {} | {} |\n",
                e.method,
                e.path,
                e.handler,
                auth,
                e.authorization_text(),
                rate,
                fields,
                e.lifecycle_text()
            ));
        }
        out
    }

    /// A plain-text report for reviewers: one block per endpoint, a summary at the end of what
    /// deserves a second look (public endpoints, endpoints without their own rate, endpoints
    /// being retired).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in &self.endpoints {
            let auth = if e.public {
                "none (public)".to_owned()
            } else if e.optional_auth {
                format!("optional: {}, else anonymous", e.auth.join(" or "))
            } else {
                e.auth.join(" or ")
            };
            let rate = match &e.rate {
                Some(r) => format!("{r} per {}", e.rate_key.replace('_', " ")),
                None => format!("router default, per {}", e.rate_key.replace('_', " ")),
            };
            let body = match &e.fields {
                Some(f) => {
                    let limit = e
                        .body_limit
                        .map_or_else(|| "router limit".to_owned(), byte_size);
                    let media = if e.form { "form" } else { "JSON" };
                    format!("{media} with only {} ({limit})", f.join(", "))
                }
                None if e.raw_body => {
                    let limit = e
                        .body_limit
                        .map_or_else(|| "router limit".to_owned(), byte_size);
                    format!("raw bytes, unparsed ({limit})")
                }
                None if e.ignored_body => {
                    let limit = e
                        .body_limit
                        .map_or_else(|| "router limit".to_owned(), byte_size);
                    format!("accepted and discarded unread ({limit})")
                }
                None => match &e.graphql {
                    Some(g) => g.text(e.body_limit),
                    None => crate::multipart::describe(e.multipart.as_deref(), e.body_limit)
                        .unwrap_or_else(|| "none accepted".to_owned()),
                },
            };
            out.push_str(&format!("{} {}  [{}]\n", e.method, e.path, e.handler));
            out.push_str(&format!("  authentication  {auth}\n"));
            out.push_str(&format!("  authorization   {}\n", e.authorization_text()));
            out.push_str(&format!("  rate            {rate}\n"));
            match (e.flow, &e.flow_budget) {
                (Some(flow), Some(budget)) => {
                    out.push_str(&format!("  flow            {flow}: {budget}\n"));
                }
                (Some(flow), None) => out.push_str(&format!("  flow            {flow}\n")),
                _ => {}
            }
            out.push_str(&format!("  body            {body}\n"));
            out.push_str(&format!("  lifecycle       {}\n\n", e.lifecycle_text()));
        }
        let count =
            |f: &dyn Fn(&InventoryEntry) -> bool| self.endpoints.iter().filter(|e| f(e)).count();
        out.push_str(&format!(
            "{} endpoints: {} public, {} with their own rate, {} taking a body, {} deprecated or sunset.\n",
            self.endpoints.len(),
            count(&|e| e.public),
            count(&|e| e.rate.is_some()),
            count(&|e| e.fields.is_some()
                || e.raw_body
                || e.graphql.is_some()
                || e.multipart.is_some()),
            count(&|e| e.deprecated.is_some() || e.sunset.is_some()),
        ));
        out
    }
}

/// A GraphQL endpoint's limits, as the inventory shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphQlInventory {
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Highest complexity.
    pub max_complexity: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Most root fields of one operation.
    pub max_root_fields: usize,
    /// Most operations in one batch (each costs one request of the rate).
    pub max_batch: usize,
    /// The role introspection needs; `None`: introspection is off.
    pub introspection_role: Option<&'static str>,
    /// Only persisted (allowlisted) documents run.
    pub persisted_only: bool,
}

impl GraphQlInventory {
    fn new(l: &crate::policy::GraphQlLimits) -> Self {
        GraphQlInventory {
            max_depth: l.max_depth,
            max_complexity: l.max_complexity,
            max_aliases: l.max_aliases,
            max_root_fields: l.max_root_fields,
            max_batch: l.max_batch,
            introspection_role: l.introspection_role,
            persisted_only: l.persisted_only,
        }
    }

    /// `GraphQL: depth ≤ 6, complexity ≤ 200, …` for Markdown and text.
    fn text(&self, body_limit: Option<usize>) -> String {
        let introspection = match self.introspection_role {
            Some(role) => format!("role {role}"),
            None => "off".to_owned(),
        };
        let mut text = format!(
            "GraphQL: depth ≤ {}, complexity ≤ {}, aliases ≤ {}, root fields ≤ {}, batch ≤ {} \
             (each operation counted), introspection {introspection}",
            self.max_depth,
            self.max_complexity,
            self.max_aliases,
            self.max_root_fields,
            self.max_batch,
        );
        if self.persisted_only {
            text.push_str(", persisted queries only");
        }
        if let Some(limit) = body_limit {
            text.push_str(&format!(" (≤ {})", byte_size(limit)));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::{AuthorizationBuilder, PolicyBuilder};
    use crate::policy::{AuthScheme, Lifecycle, LifecycleDate};

    const PLAIN: EndpointPolicy =
        PolicyBuilder::new("update_user", Authentication::Required(&[AuthScheme::Jwt]))
            .authorization(AuthorizationBuilder::new().any_authenticated(true).build())
            .fields(Some(&["name", "email"]))
            .build();

    static LIMITED_AND_DEPRECATED: EndpointPolicy = PolicyBuilder::from_policy(PLAIN)
        .body_limit(Some(100 * 1024))
        .lifecycle(Lifecycle {
            deprecated: Some(LifecycleDate {
                year: 2026,
                month: 6,
                day: 30,
                unix: 1_782_777_600,
            }),
            sunset: Some(LifecycleDate {
                year: 2026,
                month: 12,
                day: 31,
                unix: 1_798_675_200,
            }),
            successor: Some("/api/v2/users/me"),
        })
        .build();
    static PLAIN_STATIC: EndpointPolicy = PLAIN;

    #[test]
    fn body_limit_and_lifecycle_in_json_and_markdown() {
        let inventory = Inventory::new(vec![
            InventoryEntry::new(&http::Method::PUT, "/api/users/me", &LIMITED_AND_DEPRECATED),
            InventoryEntry::new(&http::Method::PATCH, "/api/users/me", &PLAIN_STATIC),
        ]);
        let e = &inventory.endpoints[0];
        assert_eq!(e.body_limit, Some(102_400));
        assert_eq!(e.deprecated.as_deref(), Some("2026-06-30"));
        assert_eq!(e.sunset.as_deref(), Some("2026-12-31"));
        assert_eq!(e.successor.as_deref(), Some("/api/v2/users/me"));

        let json: serde_json::Value = serde_json::from_str(&inventory.to_json()).unwrap();
        assert_eq!(json["endpoints"][0]["body_limit"], 102_400);
        assert_eq!(json["endpoints"][0]["deprecated"], "2026-06-30");
        assert_eq!(json["endpoints"][0]["sunset"], "2026-12-31");
        assert_eq!(json["endpoints"][0]["successor"], "/api/v2/users/me");
        assert!(json["endpoints"][1]["body_limit"].is_null());
        assert!(json["endpoints"][1]["deprecated"].is_null());

        let md = inventory.to_markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[0],
            "| method | path | handler | auth | authorization | rate | fields | lifecycle |"
        );
        assert_eq!(
            lines[2],
            "| PUT | `/api/users/me` | `update_user` | jwt | any authenticated | default | \
             `name`, `email` (≤ 100 KiB) | deprecated 2026-06-30, sunset 2026-12-31 → /api/v2/users/me |"
        );
        assert_eq!(
            lines[3],
            "| PATCH | `/api/users/me` | `update_user` | jwt | any authenticated | default | \
             `name`, `email` | — |"
        );
    }

    static WAIVED: EndpointPolicy = PolicyBuilder::from_policy(PLAIN)
        .waivers(&["require_rate"])
        .reason(Some("internal tool"))
        .build();
    static PUBLIC_WITH_REASON: EndpointPolicy = PolicyBuilder::from_policy(PLAIN)
        .auth(Authentication::Public)
        .reason(Some("status page"))
        .build();

    #[test]
    fn waivers_and_reason_in_json_markdown_and_text() {
        let inventory = Inventory::new(vec![
            InventoryEntry::new(&http::Method::PUT, "/api/users/me", &WAIVED),
            InventoryEntry::new(&http::Method::GET, "/health", &PUBLIC_WITH_REASON),
            InventoryEntry::new(&http::Method::PATCH, "/api/users/me", &PLAIN_STATIC),
        ]);
        let json: serde_json::Value = serde_json::from_str(&inventory.to_json()).unwrap();
        assert_eq!(
            json["endpoints"][0]["waivers"],
            serde_json::json!(["require_rate"])
        );
        assert_eq!(json["endpoints"][0]["reason"], "internal tool");
        assert_eq!(json["endpoints"][2]["waivers"], serde_json::json!([]));
        assert!(json["endpoints"][2]["reason"].is_null());
        let md = inventory.to_markdown();
        assert!(
            md.contains("| any authenticated; waived: require_rate (internal tool) |"),
            "{md}"
        );
        assert!(md.contains("| public (status page) |"), "{md}");
        let text = inventory.to_text();
        assert!(
            text.contains(
                "  authorization   any authenticated; waived: require_rate (internal tool)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn lifecycle_with_one_date() {
        let mut e = InventoryEntry::new(&http::Method::GET, "/", &PLAIN_STATIC);
        e.sunset = Some("2026-12-31".into());
        assert_eq!(e.lifecycle_text(), "sunset 2026-12-31");
        e.sunset = None;
        e.deprecated = Some("2026-06-30".into());
        e.successor = Some("https://api.example/v2".into());
        assert_eq!(
            e.lifecycle_text(),
            "deprecated 2026-06-30 → https://api.example/v2"
        );
    }

    #[test]
    fn byte_sizes_use_the_largest_whole_binary_unit() {
        assert_eq!(byte_size(512), "512 B");
        assert_eq!(byte_size(1024), "1 KiB");
        assert_eq!(byte_size(100 * 1024), "100 KiB");
        assert_eq!(byte_size(1536), "1536 B");
        assert_eq!(byte_size(2 * 1024 * 1024), "2 MiB");
        assert_eq!(byte_size(1024 * 1024 * 1024), "1 GiB");
    }
}
