//! `multipart = [part("file", types = ["image/png"], max = "1mb"), ...]`: an upload's parts,
//! read into [`Part`]s at parse time (`syntax::parts`), checked here against the handler and
//! the other body keys (`crate::multipart` emits them as the runtime's `PartSpec`s).

use syn::{Ident, Type};

use super::args::{value_tokens, Args};
use super::signature::last_segment;
use crate::ctxt::Ctxt;
use crate::model::{BodyLimit, Part};
use crate::symbol::{BODY, BODY_LIMIT, FIELDS, GRAPHQL, MULTIPART, MULTIPART_EXTRACTORS};

/// Bytes allowed per part for its boundary and headers, in the default total limit.
pub(crate) const FRAMING_PER_PART: usize = 4 * 1024;

/// `true` for `MultipartForm` and axum's `Multipart` (by the type's last path segment).
pub(crate) fn is_multipart_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|id| MULTIPART_EXTRACTORS.iter().any(|m| id == m))
}

/// The cross-checks of `multipart`: the handler takes the validated form as `MultipartForm`,
/// no other body form is declared, a handler taking a multipart extractor declares its parts,
/// and `body_limit` leaves room for the largest part.
pub(crate) fn check_multipart(
    cx: &Ctxt,
    name: &Ident,
    args: &Args<'_>,
    body_ty: Option<&Type>,
    parts: Option<&[Part]>,
    body_limit: Option<&BodyLimit>,
) {
    let takes_form = body_ty
        .and_then(last_segment)
        .is_some_and(|id| id == "MultipartForm");
    let get = |key: &str| args.get(key);
    let Some(arg) = get(MULTIPART) else {
        if let Some(ty) = body_ty.filter(|ty| is_multipart_type(ty)) {
            cx.error_spanned_by(
                ty,
                format!(
                    "endpoint `{name}` reads a multipart body but declares no parts; add \
                     `multipart = [part(\"file\", types = [\"image/png\"], max = \"1mb\")]` \
                     naming each part callers may send, and take the validated parts as \
                     `form: MultipartForm`"
                ),
            );
        }
        return;
    };
    for other in [FIELDS, BODY, GRAPHQL] {
        if let Some(other) = get(other) {
            cx.error_spanned_by(
                &other.key,
                format!(
                    "`{}` and `multipart` exclude each other: an endpoint takes one form of body",
                    other.key
                ),
            );
        }
    }
    match body_ty {
        Some(_) if takes_form => {}
        Some(ty) if is_multipart_type(ty) => cx.error_spanned_by(
            ty,
            "axum's `Multipart` reads parts unchecked; with `multipart = [...]` take the \
             validated parts as `form: MultipartForm` (`secure_endpoint::multipart::MultipartForm`)",
        ),
        _ => cx.error_spanned_by(
            &arg.key,
            format!(
                "`multipart` needs the handler `{name}` to take the validated parts as its last \
                 argument: `form: MultipartForm`"
            ),
        ),
    }
    if let (Some(parts), Some(limit)) = (parts, body_limit) {
        if let Some(part) = parts.iter().find(|p| p.max > limit.bytes) {
            cx.error_spanned_by(
                value_tokens(&get(BODY_LIMIT).expect("a written limit").value),
                format!(
                    "`body_limit = \"{}\"` is smaller than part `{}`'s `max = \"{}\"`, which \
                     could never be sent whole; raise `body_limit` or lower `max` (without \
                     `body_limit`, the parts' `max` plus {}b each are allowed)",
                    limit.text,
                    part.name.value(),
                    part.max_text,
                    FRAMING_PER_PART
                ),
            );
        }
    }
}

/// The default total limit of a form: the parts' `max` plus [`FRAMING_PER_PART`] each.
pub(crate) fn default_total(parts: &[Part]) -> usize {
    parts
        .iter()
        .map(|p| p.max.saturating_add(FRAMING_PER_PART))
        .fold(0usize, usize::saturating_add)
}
