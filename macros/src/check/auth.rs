//! Authentication and authorization: `auth` (schemes, optional, public on purpose), `allow`,
//! `roles`, `scopes`, `owner` with its `loader` and `owner_status`, and their contradictions;
//! then, against the signature, how the handler binds the owner and takes the principal.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use super::args::{string_list, value_tokens, Args};
use super::signature::{generic_of, last_ident, last_segment, owner_binding, path_bindings};
use crate::ctxt::Ctxt;
use crate::model::{Auth, OwnerBind, RawArg, RawValue, Scheme, Typed};
use crate::notation::unknown;
use crate::symbol::*;

/// What the authentication and authorization keys declare.
pub(crate) struct Authz {
    /// `None` when `auth` is missing or malformed (already reported).
    pub(crate) auth: Option<Auth>,
    pub(crate) any_authenticated: bool,
    pub(crate) roles: Vec<LitStr>,
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) owner_param: Option<LitStr>,
    pub(crate) loader: Option<syn::Path>,
    pub(crate) owner_status: Option<u16>,
}

impl Authz {
    /// `auth = "none"`.
    pub(crate) fn public(&self) -> bool {
        matches!(self.auth, Some(Auth::None))
    }

    /// `auth = optional(...)`.
    pub(crate) fn optional(&self) -> bool {
        matches!(self.auth, Some(Auth::Optional(_)))
    }
}

/// `auth` is declared and well formed; an authenticated endpoint declares its authorization,
/// and a public or optional one declares none.
pub(crate) fn check(cx: &Ctxt, args: &Args<'_>, attr_span: Span, name: &Ident) -> Authz {
    let get = |key: &str| args.get(key);
    let auth = match get(AUTH) {
        None => {
            cx.error_at(
                attr_span,
                format!(
                    "endpoint `{name}` declares no `auth`; add `auth = \"jwt\"` \
                     (or `auth = \"none\"` to make it public on purpose)"
                ),
            );
            None
        }
        Some(arg) => auth_value(cx, arg),
    };
    let public = matches!(auth, Some(Auth::None));
    let optional = matches!(auth, Some(Auth::Optional(_)));

    // ---- authorization ------------------------------------------------------------------------
    let any_authenticated = matches!(args.typed(cx, ALLOW), Some(Typed::Authenticated));
    let roles = get(ROLES)
        .map(|arg| string_list(cx, arg, "role"))
        .unwrap_or_default();
    let scopes = get(SCOPES)
        .map(|arg| string_list(cx, arg, "scope"))
        .unwrap_or_default();
    let owner_param = match args.typed(cx, OWNER) {
        Some(Typed::Ident(param)) => Some(param.clone()),
        _ => None,
    };
    let loader = match args.typed(cx, LOADER) {
        Some(Typed::Path(loader)) => Some(loader.clone()),
        _ => None,
    };
    if let (Some(arg), None) = (get(LOADER), get(OWNER)) {
        cx.error_spanned_by(
            &arg.key,
            "`loader` needs `owner` to name the path parameter it loads by, e.g. `owner = \"order_id\"`",
        );
    }
    let owner_status = match args.typed(cx, OWNER_STATUS) {
        Some(Typed::OwnerStatus(status)) => Some(*status),
        _ => None,
    };
    if let (Some(arg), None) = (get(OWNER_STATUS), get(OWNER)) {
        cx.error_spanned_by(
            &arg.key,
            "`owner_status` sets the status for another principal's resource and needs `owner`; \
             add `owner = \"<path param>\"` (with a `loader` when the id names a resource), or \
             remove `owner_status`",
        );
    }

    if public {
        for key in [ALLOW, ROLES, SCOPES, OWNER] {
            if let Some(arg) = get(key) {
                cx.error_spanned_by(
                    &arg.key,
                    format!(
                        "`{key}` contradicts `auth = \"none\"`: a public endpoint has no principal \
                         to check; remove `{key}` or require authentication"
                    ),
                );
            }
        }
    } else if optional {
        for key in [ALLOW, ROLES, SCOPES, OWNER] {
            if let Some(arg) = get(key) {
                cx.error_spanned_by(
                    &arg.key,
                    format!(
                        "`{key}` contradicts optional authentication (`auth = optional(...)`): an \
                         anonymous caller has no principal to check; require a credential \
                         (`auth = \"jwt\"`) to use `{key}`, or remove `{key}` and decide in the \
                         handler with its `Option<Principal>`"
                    ),
                );
            }
        }
    } else if auth.is_some() {
        let declared = [ALLOW, ROLES, SCOPES, OWNER]
            .iter()
            .any(|k| get(k).is_some());
        if !declared {
            cx.error_at(
                attr_span,
                format!(
                    "endpoint `{name}` authenticates callers but declares no authorization; add \
                     `owner = \"<path param>\"`, `roles = [...]`, `scopes = [...]`, or \
                     `allow = \"authenticated\"` to admit any authenticated principal"
                ),
            );
        }
        if any_authenticated {
            for key in [ROLES, SCOPES, OWNER] {
                if let Some(arg) = get(key) {
                    cx.error_spanned_by(
                        &arg.key,
                        format!(
                            "`{key}` contradicts `allow = \"authenticated\"`, which admits every \
                             authenticated principal; remove one of them"
                        ),
                    );
                }
            }
        }
    }
    Authz {
        auth,
        any_authenticated,
        roles,
        scopes,
        owner_param,
        loader,
        owner_status,
    }
}

/// `owner` against the signature: the handler binds the parameter (unless a `loader` loads
/// by it) in a way that maps to one route parameter, as axum fills it; an `Owned<T>` argument
/// comes from a matching `loader`. The binding, when there is one.
pub(crate) fn check_owner(
    cx: &Ctxt,
    args: &Args<'_>,
    authz: &Authz,
    inputs: &[&syn::PatType],
    name: &Ident,
) -> Option<OwnerBind> {
    let get = |key: &str| args.get(key);
    let (owner_param, loader, public) = (&authz.owner_param, &authz.loader, authz.public());
    if let (Some(param), None, false) = (owner_param, get(LOADER), public) {
        let bound = path_bindings(inputs);
        if !bound.iter().any(|id| *id == param.value()) {
            let hint =
                if bound.is_empty() {
                    format!("bind it with `Path({}): Path<...>`", param.value())
                } else {
                    format!(
                    "the handler binds {}; bind it with `Path({}): Path<...>` or use a `loader`",
                    bound.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", "),
                    param.value()
                )
                };
            cx.error_spanned_by(
                param,
                format!(
                    "`owner = \"{}\"` names a path parameter that endpoint `{name}` does not have; {hint}",
                    param.value()
                ),
            );
        }
    }
    // ---- how the handler binds the owner, as axum fills it -------------------------------------
    let mut owner_bind = None;
    if let (Some(param), false) = (owner_param, public) {
        match owner_binding(inputs, &param.value()) {
            Ok(bind) => owner_bind = bind,
            Err(err) => cx.push(err),
        }
    }
    // `Owned<T>` is what a `loader = T` hands over; without it every request would fail.
    for arg in inputs {
        let Some(owned) = generic_of(&arg.ty, "Owned") else {
            continue;
        };
        match (get(LOADER), loader) {
            (None, _) => cx.error_spanned_by(
                &arg.ty,
                "`Owned<...>` is handed over by a loader; add `owner = \"<path param>\", loader = <type>`",
            ),
            (Some(_), Some(loader)) if last_ident(loader) != last_segment(owned) => cx.error_spanned_by(
                &arg.ty,
                format!(
                    "this `Owned<...>` does not match `loader = {}`; the handler receives the loaded type",
                    loader.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
                ),
            ),
            _ => {}
        }
    }
    owner_bind
}

/// A public or optional endpoint's caller may be anonymous: the handler takes no `Principal`.
pub(crate) fn check_principal(cx: &Ctxt, authz: &Authz, inputs: &[&syn::PatType]) {
    let (optional, public) = (authz.optional(), authz.public());
    if optional {
        for arg in inputs {
            if last_segment(&arg.ty).is_some_and(|id| id == "Principal") {
                cx.error_spanned_by(
                    &arg.ty,
                    "with optional authentication (`auth = optional(...)`) the caller may be \
                     anonymous; take `Option<Principal>`, or require authentication",
                );
            }
        }
    }
    if public {
        for arg in inputs {
            if last_segment(&arg.ty).is_some_and(|id| id == "Principal") {
                cx.error_spanned_by(
                    &arg.ty,
                    "a public endpoint (`auth = \"none\"`) has no `Principal`; use `Option<Principal>` or require authentication",
                );
            }
        }
    }
}

fn auth_value(cx: &Ctxt, arg: &RawArg) -> Option<Auth> {
    let scheme = |s: &LitStr| -> Option<Option<Scheme>> {
        match s.value().as_str() {
            "jwt" => Some(Some(Scheme::Jwt)),
            "api_key" => Some(Some(Scheme::ApiKey)),
            "hmac" => Some(Some(Scheme::Hmac)),
            "signature" => Some(Some(Scheme::Signature)),
            "github_webhook" => Some(Some(Scheme::GithubWebhook)),
            "stripe_webhook" => Some(Some(Scheme::StripeWebhook)),
            "standard_webhook" => Some(Some(Scheme::StandardWebhook)),
            "dpop" => Some(Some(Scheme::Dpop)),
            "mtls" => Some(Some(Scheme::Mtls)),
            "none" => Some(None),
            // `jwt+dpop`, `DPoP`, `bearer_dpop`...: say how the two forms are written.
            other if other.to_ascii_lowercase().contains("dpop") => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "unknown auth scheme `{other}`; a DPoP-bound token (RFC 9449) is \
                         `auth = \"dpop\"`, and `auth = [\"jwt\", \"dpop\"]` accepts plain \
                         bearer tokens too"
                    ),
                );
                None
            }
            other => {
                let message = match other.strip_suffix('?') {
                    Some(base) if AUTH_SCHEMES.contains(&base) && base != "none" => format!(
                        "unknown auth scheme `{other}`; for optional authentication write \
                         `auth = {OPTIONAL}(\"{base}\")`"
                    ),
                    _ => unknown(other, "auth scheme", AUTH_SCHEMES),
                };
                cx.error_spanned_by(s, message);
                None
            }
        }
    };
    match &arg.value {
        RawValue::Str(s) => match scheme(s)? {
            None => Some(Auth::None),
            Some(sch) => Some(Auth::Schemes(vec![sch])),
        },
        RawValue::List { items, bad, span } => {
            for b in bad {
                cx.error_spanned_by(b, "expected a string such as \"jwt\"");
            }
            if items.is_empty() && bad.is_empty() {
                cx.error_at(
                    *span,
                    "`auth` lists no scheme; add one such as \"jwt\", or write `auth = \"none\"`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = bad.is_empty();
            for item in items {
                match scheme(item) {
                    Some(Some(sch)) if out.contains(&sch) => {
                        cx.error_spanned_by(
                            item,
                            format!("auth scheme `{}` is listed twice", item.value()),
                        );
                        ok = false;
                    }
                    Some(Some(sch)) => out.push(sch),
                    Some(None) => {
                        cx.error_spanned_by(
                            item,
                            "`none` cannot be combined with other schemes; write `auth = \"none\"` alone",
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Auth::Schemes(out))
        }
        RawValue::Other(syn::Expr::Call(call)) if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident(OPTIONAL)) =>
        {
            if call.args.is_empty() {
                cx.error_spanned_by(
                    call,
                    "`optional()` names no scheme; write `auth = optional(\"jwt\")`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for arg in &call.args {
                match arg {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => match scheme(s) {
                        Some(Some(sch)) if out.contains(&sch) => {
                            cx.error_spanned_by(
                                s,
                                format!("auth scheme `{}` is listed twice", s.value()),
                            );
                            ok = false;
                        }
                        Some(Some(sch)) => out.push(sch),
                        Some(None) => {
                            cx.error_spanned_by(
                                s,
                                "`none` cannot be optional: `auth = \"none\"` alone makes the \
                                 endpoint public; `optional(...)` names the schemes whose \
                                 credentials are read when presented, e.g. `optional(\"jwt\")`",
                            );
                            ok = false;
                        }
                        None => ok = false,
                    },
                    other => {
                        cx.error_spanned_by(
                            other,
                            "`optional(...)` takes scheme names as strings: \
                             `auth = optional(\"jwt\", \"api_key\")`",
                        );
                        ok = false;
                    }
                }
            }
            ok.then_some(Auth::Optional(out))
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`auth` takes a string such as \"jwt\", a list such as [\"jwt\", \"api_key\"], \
                 or `optional(\"jwt\")` for optional authentication",
            );
            None
        }
    }
}
