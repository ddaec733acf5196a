//! Authentication and authorization: `auth` (schemes, optional, public on purpose), `allow`,
//! `roles`, `scopes`, `owner` with its `loader` and `owner_status`, and their contradictions;
//! then, against the signature, how the handler binds the owner and takes the principal.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use super::args::{strings, Args};
use super::signature::{generic_of, last_ident, last_segment, owner_binding, path_bindings};
use crate::ctxt::Ctxt;
use crate::model::{Auth, OwnerBind, Typed};
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
    /// Every scheme name `auth` writes, known or not, for the policy's `allowed_schemes`.
    pub(crate) scheme_names: Vec<LitStr>,
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
    let read = match args.typed(cx, AUTH) {
        Some(Typed::Auth(read)) => Some(read),
        _ => None,
    };
    let (auth, scheme_names) = match read {
        None => {
            cx.error_at(
                attr_span,
                format!(
                    "endpoint `{name}` declares no `auth`; add `auth = \"jwt\"` \
                     (or `auth = \"none\"` to make it public on purpose)"
                ),
            );
            (None, Vec::new())
        }
        Some(read) => (read.auth.clone(), read.names.clone()),
    };
    let public = matches!(auth, Some(Auth::None));
    let optional = matches!(auth, Some(Auth::Optional(_)));

    // ---- authorization ------------------------------------------------------------------------
    let any_authenticated = matches!(args.typed(cx, ALLOW), Some(Typed::Authenticated));
    let roles = strings(args.typed(cx, ROLES));
    let scopes = strings(args.typed(cx, SCOPES));
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
        scheme_names,
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
