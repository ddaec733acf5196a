//! Signature analysis: the handler's own shape (an `async fn`, not generic, no `self`), and
//! what its arguments say: which extractor reads the body, which `Path` patterns bind which
//! names, what `T` a wrapper holds.

use syn::{FnArg, Ident, Pat, Signature, Type};

use crate::ctxt::Ctxt;
use crate::model::{BindKind, OwnerBind};
use crate::symbol::BODY_EXTRACTORS;

/// What makes a function a possible endpoint: `async`, not generic, no `impl Trait` argument,
/// no `self`, not variadic.
pub(crate) fn check_function(cx: &Ctxt, sig: &Signature) {
    let name = &sig.ident;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!("endpoint `{name}` must be an `async fn`; add `async` before `fn`"),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let msg = format!(
            "endpoint `{name}` cannot be generic; use concrete types (state via `State<T>`)"
        );
        match (&sig.generics.where_clause, sig.generics.params.is_empty()) {
            (Some(where_clause), true) => cx.error_spanned_by(where_clause, msg),
            _ => cx.error_spanned_by(&sig.generics, msg),
        }
    }
    for arg in &sig.inputs {
        if let FnArg::Typed(t) = arg {
            if let Type::ImplTrait(it) = &*t.ty {
                cx.error_spanned_by(
                    it,
                    format!("endpoint `{name}` cannot take `impl Trait` arguments; name the extractor type"),
                );
            }
        }
    }
    for arg in &sig.inputs {
        if let FnArg::Receiver(recv) = arg {
            cx.error_spanned_by(
                recv,
                "an endpoint cannot take `self`; make it a free `async fn`",
            );
        }
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, "an endpoint cannot be variadic");
    }
}

/// The typed arguments (all of them, as an endpoint takes no `self`).
pub(crate) fn typed_inputs(sig: &Signature) -> Vec<&syn::PatType> {
    sig.inputs
        .iter()
        .filter_map(|a| {
            if let FnArg::Typed(t) = a {
                Some(t)
            } else {
                None
            }
        })
        .collect()
}

/// The last path segment of a type, seen through references and `Option<...>` is not unwrapped.
pub(crate) fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

/// Extractors known to read only the request head (never the body).
const PARTS_EXTRACTORS: &[&str] = &[
    "State",
    "Path",
    "Query",
    "HeaderMap",
    "Principal",
    "Owned",
    "Extension",
    "ConnectInfo",
    "Method",
    "Uri",
    "Version",
    "MatchedPath",
    "OriginalUri",
    "RequestId",
    "TypedHeader",
    "RawPathParams",
    "RawQuery",
    "Option",
];

pub(crate) fn is_parts_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|id| PARTS_EXTRACTORS.iter().any(|p| id == p))
}

pub(crate) fn last_ident(path: &syn::Path) -> Option<&Ident> {
    path.segments.last().map(|s| &s.ident)
}

/// `T` in `Wrapper<T>` when the type's last segment is `wrapper`.
pub(crate) fn generic_of<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| {
        if let syn::GenericArgument::Type(t) = a {
            Some(t)
        } else {
            None
        }
    })
}

pub(crate) fn is_body_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|id| BODY_EXTRACTORS.iter().any(|b| id == b))
}

/// Identifiers bound by `Path(x)` or `Path((a, b))` patterns.
pub(crate) fn path_bindings(inputs: &[&syn::PatType]) -> Vec<String> {
    path_binding_idents(inputs)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// [`path_bindings`], with their spans.
pub(crate) fn path_binding_idents(inputs: &[&syn::PatType]) -> Vec<Ident> {
    let mut out = Vec::new();
    for arg in inputs {
        let Pat::TupleStruct(ts) = &*arg.pat else {
            continue;
        };
        if ts.path.segments.last().is_none_or(|s| s.ident != "Path") {
            continue;
        }
        for elem in &ts.elems {
            collect_idents(elem, &mut out);
        }
    }
    out
}

/// How the handler's `Path` patterns bind `owner`: as the whole value, by position in a tuple,
/// or as a struct field. `None` when no `Path` binds it; an error when it is bound in a way
/// that cannot be mapped to one route parameter.
pub(crate) fn owner_binding(
    inputs: &[&syn::PatType],
    owner: &str,
) -> syn::Result<Option<OwnerBind>> {
    let nested = |span: proc_macro2::Span| {
        syn::Error::new(
            span,
            format!(
                "`owner = \"{owner}\"` is bound inside a pattern the owner check cannot map to one \
                 route parameter; bind it directly: `Path({owner})`, an element of \
                 `Path((org_id, {owner}))` or a field of `Path(Params {{ {owner}, .. }})`"
            ),
        )
    };
    let is_owner = |pat: &Pat| matches!(unparen(pat), Pat::Ident(id) if id.ident == owner && id.subpat.is_none());
    let mut found: Option<OwnerBind> = None;
    for (arg, input) in inputs.iter().enumerate() {
        let Pat::TupleStruct(ts) = &*input.pat else {
            continue;
        };
        if ts.path.segments.last().is_none_or(|s| s.ident != "Path") {
            continue;
        }
        let mut idents = Vec::new();
        ts.elems.iter().for_each(|e| collect_idents(e, &mut idents));
        let Some(ident) = idents.iter().find(|i| *i == owner) else {
            continue;
        };
        if found.is_some() {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "`{owner}` is bound by two `Path` extractors; bind the owner parameter once"
                ),
            ));
        }
        let [elem] = ts.elems.iter().collect::<Vec<_>>()[..] else {
            return Err(nested(ident.span()));
        };
        let positional = |elems: &syn::punctuated::Punctuated<Pat, syn::Token![,]>| {
            if elems.iter().any(|e| matches!(e, Pat::Rest(_))) {
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "`..` hides the position of `{owner}`, and axum fills a `Path` tuple by \
                         position: write every element of the tuple, `_` for those the handler \
                         ignores"
                    ),
                ));
            }
            match elems.iter().position(is_owner) {
                Some(index) => Ok((
                    BindKind::Position {
                        index,
                        arity: elems.len(),
                    },
                    Some(syn::Member::Unnamed(syn::Index::from(index))),
                )),
                None => Err(nested(ident.span())),
            }
        };
        let (kind, access) = match unparen(elem) {
            pat if is_owner(pat) => (BindKind::Single, None),
            Pat::Tuple(t) => positional(&t.elems)?,
            Pat::TupleStruct(t) => positional(&t.elems)?,
            Pat::Struct(s) => match s.fields.iter().find(|f| is_owner(&f.pat)) {
                Some(syn::FieldPat {
                    member: syn::Member::Named(field),
                    ..
                }) => (
                    BindKind::Field(field.clone()),
                    Some(syn::Member::Named(field.clone())),
                ),
                _ => return Err(nested(ident.span())),
            },
            _ => return Err(nested(ident.span())),
        };
        let inner = generic_of(&input.ty, "Path").cloned();
        if matches!(kind, BindKind::Field(_)) && inner.is_none() {
            return Err(syn::Error::new_spanned(
                &input.ty,
                "write this extractor's type as `Path<Params>`: the router reads the serde name \
                 of the owner's field from `Params` to check the route",
            ));
        }
        found = Some(OwnerBind {
            arg,
            access,
            kind,
            inner,
        });
    }
    Ok(found)
}

fn unparen(pat: &Pat) -> &Pat {
    match pat {
        Pat::Paren(p) => unparen(&p.pat),
        other => other,
    }
}

fn collect_idents(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(id) => out.push(id.ident.clone()),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::Paren(p) => collect_idents(&p.pat, out),
        Pat::Struct(s) => {
            for f in &s.fields {
                collect_idents(&f.pat, out);
            }
        }
        _ => {}
    }
}
