//! The request body: `fields` (the allowlist, flat or nested), `body = "raw" | "ignored"`,
//! `graphql`, `multipart` and `body_limit`, against the argument that reads the body.

use syn::{Ident, LitStr};

use super::args::{value_tokens, Args};
use super::multipart;
use super::signature::{is_body_type, is_parts_type, last_segment};
use crate::ctxt::Ctxt;
use crate::model::{BodyDecl, BodyForm, BodyLimit, FieldPath, Part, Typed};
use crate::symbol::*;

/// Largest allowlist the runtime tracks (duplicates are detected with a 64-bit mask).
const MAX_FIELDS: usize = 64;

/// What the body keys declare, and which argument reads the body.
pub(crate) struct Body {
    pub(crate) fields: Option<Vec<LitStr>>,
    /// Index of the argument that consumes the body, if any (always the last one).
    pub(crate) body_arg: Option<usize>,
    pub(crate) raw_body: bool,
    pub(crate) graphql: Option<syn::Path>,
    /// As written, or an upload's default total.
    pub(crate) body_limit: Option<BodyLimit>,
    pub(crate) multipart: Option<Vec<Part>>,
    pub(crate) decl: BodyDecl,
}

/// A handler that reads a body declares what it may hold, in one form, under a limit.
pub(crate) fn check(cx: &Ctxt, args: &Args<'_>, inputs: &[&syn::PatType], name: &Ident) -> Body {
    let get = |key: &str| args.get(key);
    let paths: Option<&[FieldPath]> = match args.typed(cx, FIELDS) {
        Some(Typed::Fields(paths)) => Some(paths),
        _ => None,
    };
    let fields = get(FIELDS).zip(paths).map(|(arg, paths)| {
        let list: Vec<LitStr> = paths.iter().map(|p| p.name.clone()).collect();
        if list.len() > MAX_FIELDS {
            cx.error_spanned_by(
                value_tokens(&arg.value),
                format!(
                    "`fields` lists {} names; at most {MAX_FIELDS} are supported",
                    list.len()
                ),
            );
        }
        for (i, field) in list.iter().enumerate() {
            if field.value().is_empty() {
                cx.error_spanned_by(field, "a field name cannot be empty");
            }
            if list[..i].iter().any(|f| f.value() == field.value()) {
                cx.error_spanned_by(field, format!("field `{}` is listed twice", field.value()));
            }
        }
        list
    });
    // Paths (`user.email`, `items[].sku`): well formed and agreeing with each other.
    let nested = paths.is_some_and(|paths| crate::fields::check_paths(cx, paths));
    // The body extractor must be the last argument; with `fields` the last argument is taken to
    // be the body extractor whatever its name (a custom `FromRequest` type).
    let last_is_body = inputs.last().is_some_and(|arg| is_body_type(&arg.ty));
    for (i, arg) in inputs.iter().enumerate() {
        if i + 1 != inputs.len() && is_body_type(&arg.ty) {
            cx.error_spanned_by(
                &arg.ty,
                "an extractor that reads the body must be the last argument of the handler",
            );
        }
    }
    let body_arg = match (&fields, last_is_body) {
        (_, true) => Some(inputs.len() - 1),
        (Some(_), false) if inputs.last().is_some_and(|a| !is_parts_type(&a.ty)) => {
            Some(inputs.len() - 1)
        }
        _ => None,
    };
    // `body = "raw"`: the body unparsed, as `Bytes` or `String` (a webhook's payload, whose
    // top-level keys the sender chooses), under the body limit; never with `fields`.
    let body_form = match args.typed(cx, BODY) {
        Some(Typed::Body(form)) => Some(*form),
        _ => None,
    };
    let raw_body = body_form == Some(BodyForm::Raw);
    // `body = "ignored"`: a body may be sent and is discarded unread under the limit.
    let body_ignored = body_form == Some(BodyForm::Ignored);
    if body_ignored {
        let key = &get(BODY).unwrap().key;
        if get(FIELDS).is_some() {
            cx.error_spanned_by(
                key,
                "`fields` and `body = \"ignored\"` exclude each other: `fields` allowlists a \
                 body the handler reads, `body = \"ignored\"` drops it unread",
            );
        } else if get(GRAPHQL).is_some() {
            cx.error_spanned_by(
                key,
                "`graphql` and `body = \"ignored\"` exclude each other: a GraphQL request is \
                 its body",
            );
        } else if let Some(arg) = inputs.last().filter(|a| is_body_type(&a.ty)) {
            cx.error_spanned_by(
                &arg.ty,
                format!(
                    "`body = \"ignored\"` drops the body unread, but endpoint `{name}` reads \
                     it; remove this argument, or declare the body with `fields = [...]` (JSON \
                     or `Form<T>`) or `body = \"raw\"` (`Bytes`, `String`)"
                ),
            );
        }
    }
    // `Form<T>`: a URL-encoded form under the allowlist; its names are flat.
    let form = fields.is_some() && inputs.last().is_some_and(|a| crate::fields::is_form(&a.ty));
    if form && nested {
        cx.error_spanned_by(
            value_tokens(&get(FIELDS).unwrap().value),
            "a URL-encoded form (`Form<T>`) has flat names: list them without `.` or `[]`, \
             or take the body as `Json<T>`",
        );
    }
    if raw_body {
        let raw_arg = inputs.last().filter(|a| {
            last_segment(&a.ty).is_some_and(|id| RAW_BODY_EXTRACTORS.iter().any(|b| id == b))
        });
        if let Some(arg) = get(FIELDS) {
            cx.error_spanned_by(
                &arg.key,
                "`fields` and `body = \"raw\"` exclude each other: `fields` allowlists a JSON body, \
                 `body = \"raw\"` hands it over unparsed",
            );
        } else if raw_arg.is_none() {
            cx.error_spanned_by(
                &get(BODY).unwrap().key,
                format!(
                    "`body = \"raw\"` needs the handler `{name}` to take the body as its last \
                     argument, as `Bytes` or `String`"
                ),
            );
        }
    }
    // `graphql = LIMITS`: the body is a GraphQL request or batch, taken by the last argument
    // (`GraphQlRequest`), under the limits of the `GraphQlLimits` constant it names.
    let graphql = match args.typed(cx, GRAPHQL) {
        Some(Typed::Path(limits)) => Some(limits.clone()),
        _ => None,
    };
    // A malformed value has its own error, which names the fix.
    if let (Some(arg), Some(_)) = (get(GRAPHQL), &graphql) {
        if let Some(f) = get(FIELDS) {
            cx.error_spanned_by(
                &f.key,
                "`fields` and `graphql` exclude each other: a GraphQL body's fields are fixed \
                 (`query`, `operationName`, `variables`, `extensions`)",
            );
        } else if raw_body {
            cx.error_spanned_by(
                &arg.key,
                "`graphql` and `body = \"raw\"` exclude each other: a GraphQL body is parsed and \
                 checked against its limits",
            );
        } else if body_arg.is_none() {
            cx.error_spanned_by(
                &arg.key,
                format!(
                    "`graphql` needs the handler `{name}` to take the request as its last \
                     argument: `request: GraphQlRequest`"
                ),
            );
        }
    }
    match (&fields, body_arg) {
        // A malformed `body` value has its own error, which names the fix; a GraphQL body is
        // declared by `graphql`.
        (None, Some(_)) if raw_body || get(BODY).is_some() || get(GRAPHQL).is_some() => {}
        // An upload has its own errors (`multipart` below).
        (None, Some(i)) if get(MULTIPART).is_some() || multipart::is_multipart_type(&inputs[i].ty) => {}
        (None, Some(i)) => cx.error_spanned_by(
            &inputs[i].ty,
            format!(
                "endpoint `{name}` reads a request body but declares no `fields`; add \
                 `fields = [\"...\"]` listing the fields callers may send (mass-assignment guard)"
            ),
        ),
        (Some(_), None) => cx.error_spanned_by(
            &get(FIELDS).unwrap().key,
            format!("`fields` declared but endpoint `{name}` reads no body; remove `fields` or add a `Json<T>` argument"),
        ),
        _ => {}
    }

    // ---- the body limit ----------------------------------------------------------------------------
    let body_limit = match args.typed(cx, BODY_LIMIT) {
        Some(Typed::BodyLimit(limit)) => Some(limit.clone()),
        _ => None,
    };
    // A handler that reads a body without `fields` already has its error, which says to add
    // `fields`; that also settles `body_limit`.
    if let (Some(arg), None, None, None, false, false) = (
        get(BODY_LIMIT),
        get(FIELDS),
        get(GRAPHQL),
        body_arg,
        raw_body,
        body_ignored,
    ) {
        cx.error_spanned_by(
            &arg.key,
            format!(
                "`body_limit` needs `fields`: endpoint `{name}` takes no body, so there is no body \
                 to limit; remove `body_limit`, or declare the body with `fields = [\"...\"]` and \
                 a `Json<T>` argument"
            ),
        );
    }

    // ---- multipart: an upload's declared parts -----------------------------------------------------
    let multipart = match args.typed(cx, MULTIPART) {
        Some(Typed::Parts(parts)) => Some(parts.clone()),
        _ => None,
    };
    multipart::check_multipart(
        cx,
        name,
        args,
        body_arg.map(|i| &*inputs[i].ty),
        multipart.as_deref(),
        body_limit.as_ref(),
    );
    // Without `body_limit`, an upload's total is its parts' `max` plus their framing.
    let body_limit = match (body_limit, &multipart) {
        (None, Some(parts)) if !parts.is_empty() => {
            let bytes = multipart::default_total(parts);
            Some(BodyLimit {
                bytes,
                text: format!(
                    "{}b (the parts' `max` plus {}b each for boundaries and headers)",
                    bytes,
                    multipart::FRAMING_PER_PART
                ),
            })
        }
        (limit, _) => limit,
    };
    Body {
        fields,
        body_arg,
        raw_body,
        graphql,
        body_limit,
        multipart,
        decl: BodyDecl {
            form,
            nested,
            ignored: body_ignored,
        },
    }
}
