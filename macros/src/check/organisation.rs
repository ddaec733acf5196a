//! The organisation's policy: `waive` and `reason`, and the rules of the policy file
//! (`secure-endpoint.toml`) checked against the endpoint, each waivable with a reason.

use syn::{Ident, LitStr};

use super::args::{string_list, value_tokens, Args};
use super::signature::path_binding_idents;
use crate::ctxt::Ctxt;
use crate::model::{Auth, BodyLimit, Rate, RawValue, Scheme};
use crate::notation::unknown;
use crate::policy_file::{self, PolicyFile};
use crate::symbol::*;

/// `waive = [...]` names known rules, once each, with a `reason`; a `reason` explains a waiver
/// or a public endpoint. The waivers and the reason.
pub(crate) fn check_waivers(
    cx: &Ctxt,
    args: &Args<'_>,
    auth: Option<&Auth>,
    name: &Ident,
) -> (Vec<LitStr>, Option<LitStr>) {
    let get = |key: &str| args.get(key);
    let waivers: Vec<LitStr> = get(WAIVE)
        .map(|arg| {
            let list = string_list(cx, arg, "rule");
            for (i, rule) in list.iter().enumerate() {
                if !policy_file::RULES.contains(&rule.value().as_str()) {
                    cx.error_spanned_by(
                        rule,
                        unknown(&rule.value(), "policy rule", policy_file::RULES),
                    );
                } else if list[..i].iter().any(|r| r.value() == rule.value()) {
                    cx.error_spanned_by(rule, format!("rule `{}` is waived twice", rule.value()));
                }
            }
            list
        })
        .unwrap_or_default();
    let reason = get(REASON).and_then(|arg| match &arg.value {
        RawValue::Str(s) if !s.value().trim().is_empty() => Some(s.clone()),
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                "`reason` is empty; say why this endpoint is an exception, for reviewers and the \
                 inventory",
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`reason` takes a string such as \"status page, polled by the load balancer\"",
            );
            None
        }
    });
    if let (Some(arg), None) = (get(WAIVE), get(REASON)) {
        cx.error_spanned_by(
            &arg.key,
            "a waiver needs a `reason`: add `reason = \"...\"` saying why this endpoint is an \
             exception to the policy",
        );
    }
    if let (Some(arg), None, Some(Auth::Schemes(_) | Auth::Optional(_))) =
        (get(REASON), get(WAIVE), auth)
    {
        cx.error_spanned_by(
            &arg.key,
            format!(
                "`reason` explains a waiver or a public endpoint, and endpoint `{name}` has \
                 neither; add `waive = [\"<rule>\"]` or remove `reason`"
            ),
        );
    }
    (waivers, reason)
}

/// What the policy rules look at.
pub(crate) struct PolicyInput<'a> {
    pub(crate) name: &'a Ident,
    pub(crate) auth: Option<&'a Auth>,
    pub(crate) args: &'a Args<'a>,
    pub(crate) rate: Option<&'a Rate>,
    pub(crate) body_limit: Option<&'a BodyLimit>,
    pub(crate) inputs: &'a [&'a syn::PatType],
    pub(crate) waivers: &'a [LitStr],
}

/// The rules of the organisation's policy file; each violation is an error at the offending
/// token (or the fn name when a key is missing) naming the rule, the file and the fix.
pub(crate) fn check_policy(cx: &Ctxt, policy: &PolicyFile, ep: &PolicyInput<'_>) {
    use policy_file::{
        ALLOWED_SCHEMES, API_KEY_REQUIRES_SCOPES, MAX_BODY_LIMIT as MAX_BODY, MAX_RATE, PUBLIC,
        REQUIRE_OWNER_FOR_IDS, REQUIRE_RATE,
    };
    let rules = &policy.rules;
    let file = policy.display();
    let name = ep.name;
    let get = |key: &str| ep.args.get(key);
    let waived = |rule: &str| ep.waivers.iter().any(|w| w.value() == rule);
    let rule = |rule: &str| format!("the policy rule `{rule}` (in {file})");
    let waive = |rule: &str| format!("or waive it: `waive = [\"{rule}\"], reason = \"...\"`");
    let public = matches!(ep.auth, Some(Auth::None));

    if rules.require_rate && get(RATE).is_none() && !waived(REQUIRE_RATE) {
        cx.error_spanned_by(
            name,
            format!(
                "endpoint `{name}` has no `rate`, which {} requires; add `rate = \"100/1m\"`, {}",
                rule(REQUIRE_RATE),
                waive(REQUIRE_RATE)
            ),
        );
    }

    if let (true, Some(auth_arg), false) = (public, get(AUTH), waived(PUBLIC)) {
        let at = value_tokens(&auth_arg.value);
        if let Some(allow) = &rules.public_allow {
            if !allow.iter().any(|a| name == a) {
                let listed = if allow.is_empty() {
                    "no endpoint".to_owned()
                } else {
                    format!(
                        "only {}",
                        allow
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                cx.error_spanned_by(
                    at.clone(),
                    format!(
                        "endpoint `{name}` is public (`auth = \"none\"`), but {} lets {listed} be \
                         public; require authentication (`auth = \"jwt\"`), add `{name}` to \
                         `public.allow` in that file, {}",
                        rule(PUBLIC),
                        waive(PUBLIC)
                    ),
                );
            }
        }
        if rules.public_require_reason && get(REASON).is_none() {
            cx.error_spanned_by(
                at,
                format!(
                    "endpoint `{name}` is public (`auth = \"none\"`) without a `reason`, which {} \
                     requires; add `reason = \"...\"` saying why anyone may call it, or require \
                     authentication (`auth = \"jwt\"`)",
                    rule(PUBLIC)
                ),
            );
        }
    }

    if let (Some((max, max_count, max_period)), Some(rate), false) =
        (&rules.max_rate, ep.rate, waived(MAX_RATE))
    {
        // count / period > max_count / max_period, without division.
        if u128::from(rate.count) * u128::from(*max_period)
            > u128::from(*max_count) * u128::from(rate.period_secs)
        {
            let per_sec = |count: u32, period: u64| f64::from(count) / period as f64;
            cx.error_spanned_by(
                value_tokens(&get(RATE).expect("a rate was checked").value),
                format!(
                    "rate `{}` of endpoint `{name}` ({:.2} requests/s) is above `{max}` ({:.2}/s), \
                     the most {} allows; lower it, {}",
                    rate.text,
                    per_sec(rate.count, rate.period_secs),
                    per_sec(*max_count, *max_period),
                    rule(MAX_RATE),
                    waive(MAX_RATE)
                ),
            );
        }
    }

    if rules.require_owner_for_ids
        && matches!(ep.auth, Some(Auth::Schemes(_)))
        && get(OWNER).is_none()
        && !waived(REQUIRE_OWNER_FOR_IDS)
    {
        let ids: Vec<Ident> = path_binding_idents(ep.inputs)
            .into_iter()
            .filter(|id| {
                let id = id.to_string();
                id == "id" || id.ends_with("_id")
            })
            .collect();
        if let Some(first) = ids.first() {
            cx.error_spanned_by(
                first,
                format!(
                    "endpoint `{name}` binds the id-like path parameter `{first}` but declares no \
                     `owner`, which {} requires; add `owner = \"{first}\"` so only its owner gets \
                     the resource (with `loader = <type>` when the id names a resource, not a \
                     user), {}",
                    rule(REQUIRE_OWNER_FOR_IDS),
                    waive(REQUIRE_OWNER_FOR_IDS)
                ),
            );
        }
    }

    if let (Some(allowed), Some(auth_arg), false) =
        (&rules.allowed_schemes, get(AUTH), waived(ALLOWED_SCHEMES))
    {
        let named: Vec<&LitStr> = match &auth_arg.value {
            RawValue::Str(s) => vec![s],
            RawValue::List { items, .. } => items.iter().collect(),
            RawValue::Other(syn::Expr::Call(call)) => call
                .args
                .iter()
                .filter_map(|arg| match arg {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for scheme in named {
            let value = scheme.value();
            if value != "none" && !allowed.contains(&value) {
                cx.error_spanned_by(
                    scheme,
                    format!(
                        "auth scheme `{value}` of endpoint `{name}` is not allowed by {}, which \
                         allows {}; use one of those, {}",
                        rule(ALLOWED_SCHEMES),
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        waive(ALLOWED_SCHEMES)
                    ),
                );
            }
        }
    }

    if let (true, Some(Auth::Schemes(schemes) | Auth::Optional(schemes)), None, false) = (
        rules.api_key_requires_scopes,
        ep.auth,
        get(SCOPES),
        waived(API_KEY_REQUIRES_SCOPES),
    ) {
        if schemes.contains(&Scheme::ApiKey) {
            cx.error_spanned_by(
                name,
                format!(
                    "endpoint `{name}` accepts `api_key` but declares no `scopes`, which {} \
                     requires; add `scopes = [\"...\"]` naming what a key needs for it (instead of \
                     `allow = \"authenticated\"`), {}",
                    rule(API_KEY_REQUIRES_SCOPES),
                    waive(API_KEY_REQUIRES_SCOPES)
                ),
            );
        }
    }

    if let (Some((max, max_bytes)), Some(limit), false) =
        (&rules.max_body_limit, ep.body_limit, waived(MAX_BODY))
    {
        if limit.bytes > *max_bytes {
            cx.error_spanned_by(
                value_tokens(
                    &get(BODY_LIMIT)
                        .or(get(MULTIPART))
                        .expect("a body limit was checked")
                        .value,
                ),
                format!(
                    "body limit `{}` of endpoint `{name}` is above `{max}`, the most {} allows; \
                     lower it, {}",
                    limit.text,
                    rule(MAX_BODY),
                    waive(MAX_BODY)
                ),
            );
        }
    }
}
