//! The contract as one line of text, appended to the endpoint's rustdoc: what a reviewer reads
//! on the generated item (`cargo doc`) before reading the inventory.

use crate::model::{Auth, Endpoint, Lifecycle, Scheme};

/// A one-line summary of the contract, appended to the endpoint's docs for reviewers.
pub(crate) fn policy_doc(ep: &Endpoint) -> String {
    let mut parts = Vec::new();
    parts.push(match &ep.auth {
        Auth::None => "**Security contract:** public (`auth = \"none\"`)".to_string(),
        Auth::Schemes(s) | Auth::Optional(s) => format!(
            "**Security contract:** auth {}{}",
            if matches!(ep.auth, Auth::Optional(_)) {
                "optional: "
            } else {
                ""
            },
            s.iter()
                .map(|s| match s {
                    Scheme::Jwt => "`jwt`",
                    Scheme::ApiKey => "`api_key`",
                    Scheme::Hmac => "`hmac`",
                    Scheme::Signature => "`signature`",
                    Scheme::GithubWebhook => "`github_webhook`",
                    Scheme::StripeWebhook => "`stripe_webhook`",
                    Scheme::StandardWebhook => "`standard_webhook`",
                    Scheme::Dpop => "`dpop` (DPoP-bound JWT, RFC 9449)",
                    Scheme::Mtls => "`mtls`",
                })
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    });
    if ep.any_authenticated {
        parts.push("any authenticated principal".into());
    }
    if !ep.roles.is_empty() {
        parts.push(format!("roles {}", list(&ep.roles)));
    }
    if !ep.scopes.is_empty() {
        parts.push(format!("scopes {}", list(&ep.scopes)));
    }
    if let Some(owner) = &ep.owner {
        parts.push(format!("owner `{}`", owner.param.value()));
        if let Some(status) = owner.status {
            parts.push(format!("{status} if not theirs"));
        }
    }
    if let Some(rate) = &ep.rate {
        parts.push(format!("rate `{}`", rate.text));
    }
    if ep.raw_body {
        parts.push("raw body".to_string());
    }
    if ep.body.ignored {
        parts.push("body ignored".to_string());
    }
    if ep.body.form {
        parts.push("form body".to_string());
    }
    if let Some(fields) = &ep.fields {
        parts.push(format!("fields {}", list(fields)));
    }
    if let Some(form) = &ep.multipart {
        parts.push(crate::multipart::doc(form));
    }
    if let Some(limit) = &ep.body_limit {
        parts.push(format!("body limit `{}`", limit.text));
    }
    if let Some(limits) = &ep.graphql {
        let name = limits.segments.last().map(|s| s.ident.to_string());
        parts.push(format!("GraphQL under `{}`", name.unwrap_or_default()));
    }
    let Lifecycle {
        deprecated,
        sunset,
        successor,
    } = &ep.lifecycle;
    if let Some(date) = deprecated {
        parts.push(format!("deprecated {date}"));
    }
    if let Some(date) = sunset {
        parts.push(format!("sunset {date}"));
    }
    if let Some(url) = successor {
        parts.push(format!("successor `{}`", url.value()));
    }
    if !ep.waivers.is_empty() {
        parts.push(format!("waives {}", list(&ep.waivers)));
    }
    if let Some(reason) = &ep.reason {
        parts.push(format!("reason: {}", reason.value()));
    }
    if let Some(flow) = &ep.flow {
        parts.push(format!("flow `{}`", flow.value()));
    }
    parts.join("; ")
}

fn list(items: &[syn::LitStr]) -> String {
    items
        .iter()
        .map(|i| format!("`{}`", i.value()))
        .collect::<Vec<_>>()
        .join(", ")
}
