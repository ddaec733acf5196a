//! The security inventory: every routed endpoint's contract, as JSON or a Markdown table.
//! It is built from the same `const` policies the runtime enforces.

use serde::Serialize;

use crate::policy::{Authentication, EndpointPolicy};

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
                Authentication::Required(s) => s.iter().map(|s| s.as_str()).collect(),
            },
            public: p.auth == Authentication::Public,
            any_authenticated: a.any_authenticated,
            roles: a.roles.to_vec(),
            scopes: a.scopes.to_vec(),
            owner: a.owner.map(|o| o.param),
            loader: a.owner.and_then(|o| o.loader),
            rate: p.rate.map(|r| r.to_string()),
            rate_key: if p.auth == Authentication::Public {
                "client_ip"
            } else {
                "principal"
            },
            fields: p.fields.map(<[_]>::to_vec),
        }
    }

    fn authorization_text(&self) -> String {
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
        }
        parts.join("; ")
    }
}

/// Every routed endpoint's contract, in routing order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// The endpoints.
    pub endpoints: Vec<InventoryEntry>,
}

impl Inventory {
    pub(crate) fn new(endpoints: Vec<InventoryEntry>) -> Self {
        Inventory { endpoints }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the inventory is plain data")
    }

    /// A Markdown table, one row per endpoint.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| method | path | handler | auth | authorization | rate | fields |\n|---|---|---|---|---|---|---|\n",
        );
        for e in &self.endpoints {
            let auth = if e.public {
                "none".to_owned()
            } else {
                e.auth.join(", ")
            };
            let rate = match &e.rate {
                Some(r) => format!("{r} per {}", e.rate_key.replace('_', " ")),
                None => "default".to_owned(),
            };
            let fields = match &e.fields {
                Some(f) => f
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => "no body".to_owned(),
            };
            out.push_str(&format!(
                "| {} | `{}` | `{}` | {} | {} | {} | {} |\n",
                e.method,
                e.path,
                e.handler,
                auth,
                e.authorization_text(),
                rate,
                fields
            ));
        }
        out
    }
}
