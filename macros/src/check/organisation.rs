//! The organisation's policy: `waive` and `reason`, and the rules of the policy file
//! (`secure-endpoint.toml`) checked against the endpoint, each waivable with a reason.

use syn::{Ident, LitStr};

use super::args::{strings, value_tokens, Args};
use super::signature::path_binding_idents;
use crate::ctxt::Ctxt;
use crate::model::{Auth, BodyLimit, Rate, RawArg, Scheme, Typed};
use crate::notation::unknown;
use crate::policy_file::{
    self, PolicyFile, Rules, ALLOWED_SCHEMES, API_KEY_REQUIRES_SCOPES, MAX_BODY_LIMIT as MAX_BODY,
    MAX_RATE, PUBLIC, REQUIRE_OWNER_FOR_IDS, REQUIRE_RATE,
};
use crate::symbol::*;

/// `waive = [...]` names known rules, once each, with a `reason`; a `reason` explains a waiver
/// or an endpoint anyone may call (public, or with optional authentication). The waivers and
/// the reason.
pub(crate) fn check_waivers(
    cx: &Ctxt,
    args: &Args<'_>,
    auth: Option<&Auth>,
    name: &Ident,
) -> (Vec<LitStr>, Option<LitStr>) {
    let get = |key: &str| args.get(key);
    let waivers = strings(args.typed(cx, WAIVE));
    for (i, rule) in waivers.iter().enumerate() {
        if !policy_file::RULES.contains(&rule.value().as_str()) {
            cx.error_spanned_by(
                rule,
                unknown(&rule.value(), "policy rule", policy_file::RULES),
            );
        } else if waivers[..i].iter().any(|r| r.value() == rule.value()) {
            cx.error_spanned_by(rule, format!("rule `{}` is waived twice", rule.value()));
        }
    }
    let reason = match args.typed(cx, REASON) {
        Some(Typed::Text(reason)) => Some(reason.clone()),
        _ => None,
    };
    if let (Some(arg), None) = (get(WAIVE), get(REASON)) {
        cx.error_spanned_by(
            &arg.key,
            "a waiver needs a `reason`: add `reason = \"...\"` saying why this endpoint is an \
             exception to the policy",
        );
    }
    if let (Some(arg), None, Some(Auth::Schemes(_))) = (get(REASON), get(WAIVE), auth) {
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
    /// The scheme names `auth` writes (see [`crate::model::AuthRead::names`]).
    pub(crate) scheme_names: &'a [LitStr],
    pub(crate) args: &'a Args<'a>,
    pub(crate) rate: Option<&'a Rate>,
    pub(crate) body_limit: Option<&'a BodyLimit>,
    pub(crate) inputs: &'a [&'a syn::PatType],
    pub(crate) waivers: &'a [LitStr],
}

/// The rules of the organisation's policy file, one function each, in the order the file's
/// documentation lists them; each violation is an error at the offending token (or the fn name
/// when a key is missing) naming the rule, the file and the fix.
pub(crate) fn check_policy(cx: &Ctxt, policy: &PolicyFile, ep: &PolicyInput<'_>) {
    let review = Review {
        cx,
        file: policy.display(),
        ep,
    };
    let rules = &policy.rules;
    require_rate(&review, rules);
    public(&review, rules);
    max_rate(&review, rules);
    require_owner_for_ids(&review, rules);
    allowed_schemes(&review, rules);
    api_key_requires_scopes(&review, rules);
    max_body_limit(&review, rules);
}

/// One endpoint under one policy file: what every rule needs to report.
struct Review<'a> {
    cx: &'a Ctxt,
    /// The policy file, as shown in messages.
    file: String,
    ep: &'a PolicyInput<'a>,
}

impl Review<'_> {
    fn get(&self, key: &str) -> Option<&RawArg> {
        self.ep.args.get(key)
    }

    /// The endpoint waives `rule`.
    fn waived(&self, rule: &str) -> bool {
        self.ep.waivers.iter().any(|w| w.value() == rule)
    }

    /// "the policy rule `rule` (in <file>)".
    fn rule(&self, rule: &str) -> String {
        format!("the policy rule `{rule}` (in {})", self.file)
    }
}

/// The last alternative of every fix: waiving the rule.
fn waive(rule: &str) -> String {
    format!("or waive it: `waive = [\"{rule}\"], reason = \"...\"`")
}

/// `require_rate = true`: every endpoint declares a `rate`.
fn require_rate(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    if rules.require_rate && r.get(RATE).is_none() && !r.waived(REQUIRE_RATE) {
        r.cx.error_spanned_by(
            name,
            format!(
                "endpoint `{name}` has no `rate`, which {} requires; add `rate = \"100/1m\"`, {}",
                r.rule(REQUIRE_RATE),
                waive(REQUIRE_RATE)
            ),
        );
    }
}

/// `public = { allow = [...], require_reason = true }`: only the listed handlers may be called
/// anonymously, each with a `reason`. That covers optional authentication: without a
/// credential, an `auth = optional(...)` endpoint answers anyone, as a public one does.
fn public(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    let open = match r.ep.auth {
        Some(Auth::None) => "public (`auth = \"none\"`)",
        Some(Auth::Optional(_)) => "reachable anonymously (`auth = optional(...)`)",
        _ => return,
    };
    let (Some(auth_arg), false) = (r.get(AUTH), r.waived(PUBLIC)) else {
        return;
    };
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
            r.cx.error_spanned_by(
                at.clone(),
                format!(
                    "endpoint `{name}` is {open}, but {} lets {listed} be public; require \
                     authentication (`auth = \"jwt\"`), add `{name}` to `public.allow` in that \
                     file, {}",
                    r.rule(PUBLIC),
                    waive(PUBLIC)
                ),
            );
        }
    }
    if rules.public_require_reason && r.get(REASON).is_none() {
        r.cx.error_spanned_by(
            at,
            format!(
                "endpoint `{name}` is {open} without a `reason`, which {} requires; add \
                 `reason = \"...\"` saying why anyone may call it, or require authentication \
                 (`auth = \"jwt\"`)",
                r.rule(PUBLIC)
            ),
        );
    }
}

/// `max_rate = "1000/1m"`: no endpoint admits more requests per second.
fn max_rate(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    let (Some((max, max_count, max_period)), Some(rate), false) =
        (&rules.max_rate, r.ep.rate, r.waived(MAX_RATE))
    else {
        return;
    };
    // count / period > max_count / max_period, without division.
    if u128::from(rate.count) * u128::from(*max_period)
        > u128::from(*max_count) * u128::from(rate.period_secs)
    {
        let per_sec = |count: u32, period: u64| f64::from(count) / period as f64;
        r.cx.error_spanned_by(
            value_tokens(&r.get(RATE).expect("a rate was checked").value),
            format!(
                "rate `{}` of endpoint `{name}` ({:.2} requests/s) is above `{max}` ({:.2}/s), \
                 the most {} allows; lower it, {}",
                rate.text,
                per_sec(rate.count, rate.period_secs),
                per_sec(*max_count, *max_period),
                r.rule(MAX_RATE),
                waive(MAX_RATE)
            ),
        );
    }
}

/// `require_owner_for_ids = true`: an authenticated endpoint that binds an id-like path
/// parameter declares an `owner`.
fn require_owner_for_ids(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    if !(rules.require_owner_for_ids
        && matches!(r.ep.auth, Some(Auth::Schemes(_)))
        && r.get(OWNER).is_none()
        && !r.waived(REQUIRE_OWNER_FOR_IDS))
    {
        return;
    }
    let ids: Vec<Ident> = path_binding_idents(r.ep.inputs)
        .into_iter()
        .filter(|id| {
            let id = id.to_string();
            id == "id" || id.ends_with("_id")
        })
        .collect();
    if let Some(first) = ids.first() {
        r.cx.error_spanned_by(
            first,
            format!(
                "endpoint `{name}` binds the id-like path parameter `{first}` but declares no \
                 `owner`, which {} requires; add `owner = \"{first}\"` so only its owner gets \
                 the resource (with `loader = <type>` when the id names a resource, not a \
                 user), {}",
                r.rule(REQUIRE_OWNER_FOR_IDS),
                waive(REQUIRE_OWNER_FOR_IDS)
            ),
        );
    }
}

/// `allowed_schemes = [...]`: `auth` names only these (inside `optional(...)` too).
fn allowed_schemes(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    let (Some(allowed), false) = (&rules.allowed_schemes, r.waived(ALLOWED_SCHEMES)) else {
        return;
    };
    for scheme in r.ep.scheme_names {
        let value = scheme.value();
        if value != "none" && !allowed.contains(&value) {
            r.cx.error_spanned_by(
                scheme,
                format!(
                    "auth scheme `{value}` of endpoint `{name}` is not allowed by {}, which \
                     allows {}; use one of those, {}",
                    r.rule(ALLOWED_SCHEMES),
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

/// `api_key_requires_scopes = true`: an endpoint that accepts an API key declares `scopes`.
fn api_key_requires_scopes(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    let (true, Some(Auth::Schemes(schemes) | Auth::Optional(schemes)), None, false) = (
        rules.api_key_requires_scopes,
        r.ep.auth,
        r.get(SCOPES),
        r.waived(API_KEY_REQUIRES_SCOPES),
    ) else {
        return;
    };
    if !schemes.contains(&Scheme::ApiKey) {
        return;
    }
    if matches!(r.ep.auth, Some(Auth::Optional(_))) {
        // `scopes` needs a principal, which optional authentication does not guarantee.
        r.cx.error_spanned_by(
            name,
            format!(
                "endpoint `{name}` accepts `api_key` under optional authentication, which \
                 cannot declare `scopes`, and {} requires them for an API key; require the \
                 key and name its scopes (`auth = \"api_key\", scopes = [\"...\"]`), leave \
                 `api_key` out of `optional(...)`, {}",
                r.rule(API_KEY_REQUIRES_SCOPES),
                waive(API_KEY_REQUIRES_SCOPES)
            ),
        );
    } else {
        r.cx.error_spanned_by(
            name,
            format!(
                "endpoint `{name}` accepts `api_key` but declares no `scopes`, which {} \
                 requires; add `scopes = [\"...\"]` naming what a key needs for it (instead of \
                 `allow = \"authenticated\"`), {}",
                r.rule(API_KEY_REQUIRES_SCOPES),
                waive(API_KEY_REQUIRES_SCOPES)
            ),
        );
    }
}

/// `max_body_limit = "1mb"`: no endpoint's body limit (written, or an upload's total) is
/// above it.
fn max_body_limit(r: &Review<'_>, rules: &Rules) {
    let name = r.ep.name;
    let (Some((max, max_bytes)), Some(limit), false) =
        (&rules.max_body_limit, r.ep.body_limit, r.waived(MAX_BODY))
    else {
        return;
    };
    if limit.bytes > *max_bytes {
        r.cx.error_spanned_by(
            value_tokens(
                &r.get(BODY_LIMIT)
                    .or(r.get(MULTIPART))
                    .expect("a body limit was checked")
                    .value,
            ),
            format!(
                "body limit `{}` of endpoint `{name}` is above `{max}`, the most {} allows; \
                 lower it, {}",
                limit.text,
                r.rule(MAX_BODY),
                waive(MAX_BODY)
            ),
        );
    }
}
