//! `multipart = [part("file", types = ["image/png"], max = "1mb"), ...]`: an upload's parts,
//! read into [`Part`]s (checked against the handler in `check::multipart`).

use quote::ToTokens;
use syn::{Expr, ExprCall, Lit, LitStr};

use crate::ctxt::Ctxt;
use crate::model::{value_tokens, Part, RawValue};
use crate::notation::{parse_body_limit, unknown, BodyLimitError};

/// The media types a file part may declare: those the runtime recognises from their bytes
/// (`secure_endpoint::multipart::SNIFFABLE_TYPES`; `tests/tests/uploads.rs` checks they are equal).
pub(crate) const SNIFFABLE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "image/tiff",
    "application/pdf",
];

/// Most parts one endpoint may declare.
const MAX_PARTS: usize = 32;

/// The options of `part(...)` after its name.
const PART_OPTIONS: &[&str] = &["types", "max", "optional"];

/// How a part is written in an error.
const PART_SYNTAX: &str = "part(\"file\", types = [\"image/png\", \"image/jpeg\"], max = \"1mb\")";

/// The parts of `multipart = [...]`, each error reported; `None` when none could be read.
pub(super) fn read(cx: &Ctxt, value: &RawValue) -> Option<Vec<Part>> {
    let RawValue::List { items, bad, span } = value else {
        cx.error_spanned_by(
            value_tokens(value),
            format!("`multipart` takes a list of parts: `multipart = [{PART_SYNTAX}]`"),
        );
        return None;
    };
    for item in items {
        cx.error_spanned_by(
            item,
            format!(
                "a part is written `{PART_SYNTAX}`, not a string; use `part({}, max = \"...\")`",
                item.to_token_stream()
            ),
        );
    }
    if items.is_empty() && bad.is_empty() {
        cx.error_at(
            *span,
            format!("`multipart` is empty; declare the parts callers may send: `[{PART_SYNTAX}]`"),
        );
        return None;
    }
    let mut parts: Vec<Part> = Vec::new();
    for expr in bad {
        let Some(part) = part(cx, expr) else { continue };
        if parts.iter().any(|p| p.name.value() == part.name.value()) {
            cx.error_spanned_by(
                &part.name,
                format!("part `{}` is declared twice", part.name.value()),
            );
            continue;
        }
        parts.push(part);
    }
    if parts.len() > MAX_PARTS {
        cx.error_at(
            *span,
            format!(
                "`multipart` declares {} parts; at most {MAX_PARTS} are supported",
                parts.len()
            ),
        );
    }
    Some(parts)
}

fn part(cx: &Ctxt, expr: &Expr) -> Option<Part> {
    let Expr::Call(ExprCall { func, args, .. }) = expr else {
        cx.error_spanned_by(expr, format!("write each part as `{PART_SYNTAX}`"));
        return None;
    };
    if !matches!(&**func, Expr::Path(p) if p.path.is_ident("part")) {
        cx.error_spanned_by(func, format!("write each part as `{PART_SYNTAX}`"));
        return None;
    }
    let mut args = args.iter();
    let name = match args.next() {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        })) => s.clone(),
        Some(other) => {
            cx.error_spanned_by(
                other,
                format!("a part starts with its name as a string: `{PART_SYNTAX}`"),
            );
            return None;
        }
        None => {
            cx.error_spanned_by(
                expr,
                format!("a part needs its name and `max`: `{PART_SYNTAX}`"),
            );
            return None;
        }
    };
    let text = name.value();
    if text.is_empty()
        || text.len() > 64
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        cx.error_spanned_by(
            &name,
            "a part name is 1 to 64 characters of letters, digits, `_`, `-` and `.`",
        );
    }
    let (mut types, mut max, mut optional) = (None::<Vec<LitStr>>, None, false);
    let mut seen: Vec<String> = Vec::new();
    for option in args {
        let (key, value) = match option {
            Expr::Assign(assign) => (&*assign.left, Some(&*assign.right)),
            Expr::Path(_) => (option, None),
            other => {
                cx.error_spanned_by(
                    other,
                    "a part's options are `types = [...]`, `max = \"...\"` and `optional`",
                );
                continue;
            }
        };
        let Expr::Path(key_path) = key else {
            cx.error_spanned_by(key, "expected an option name: `types`, `max` or `optional`");
            continue;
        };
        let Some(ident) = key_path.path.get_ident() else {
            cx.error_spanned_by(key, "expected an option name: `types`, `max` or `optional`");
            continue;
        };
        let key_text = ident.to_string();
        if seen.contains(&key_text) {
            cx.error_spanned_by(ident, format!("`{key_text}` is given twice in this part"));
            continue;
        }
        seen.push(key_text.clone());
        match (key_text.as_str(), value) {
            ("types", Some(value)) => types = part_types(cx, &text, value),
            ("max", Some(value)) => max = part_max(cx, &text, value),
            ("optional", None) => optional = true,
            ("optional", Some(value)) => {
                cx.error_spanned_by(value, "`optional` takes no value: write `optional` alone")
            }
            ("types" | "max", None) => cx.error_spanned_by(
                ident,
                format!("`{key_text}` needs a value: `{key_text} = ...`"),
            ),
            (other, _) => cx.error_spanned_by(ident, unknown(other, "part option", PART_OPTIONS)),
        }
    }
    let Some((max, max_text)) = max else {
        if !seen.iter().any(|k| k == "max") {
            cx.error_spanned_by(
                &name,
                format!(
                    "part `{text}` declares no size limit; add `max = \"...\"`, such as \
                     `max = \"1mb\"`"
                ),
            );
        }
        return None;
    };
    Some(Part {
        name,
        types: types.unwrap_or_default(),
        max,
        max_text,
        optional,
    })
}

fn part_types(cx: &Ctxt, part: &str, value: &Expr) -> Option<Vec<LitStr>> {
    let Expr::Array(array) = value else {
        cx.error_spanned_by(
            value,
            "`types` takes a list of media types: `types = [\"image/png\"]`",
        );
        return None;
    };
    let mut types: Vec<LitStr> = Vec::new();
    for elem in &array.elems {
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) = elem
        else {
            cx.error_spanned_by(elem, "a media type is a string, such as \"image/png\"");
            continue;
        };
        let ty = s.value();
        if !SNIFFABLE_TYPES.contains(&ty.as_str()) {
            cx.error_spanned_by(
                s,
                format!(
                    "`{}` cannot be recognised from a file's bytes, so part `{part}` cannot be \
                     checked to hold it; a file part's types are among {}",
                    ty.escape_debug(),
                    SNIFFABLE_TYPES
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        }
        if types.iter().any(|t| t.value() == ty) {
            cx.error_spanned_by(s, format!("`{ty}` is listed twice"));
            continue;
        }
        types.push(s.clone());
    }
    if array.elems.is_empty() {
        cx.error_spanned_by(
            value,
            format!(
                "`types` is empty; list what part `{part}` may hold, or leave `types` out for a \
                 text part"
            ),
        );
        return None;
    }
    Some(types)
}

fn part_max(cx: &Ctxt, part: &str, value: &Expr) -> Option<(usize, String)> {
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(s), ..
    }) = value
    else {
        cx.error_spanned_by(value, "`max` takes a size such as \"1mb\"");
        return None;
    };
    match parse_body_limit(&s.value()) {
        Ok(bytes) => Some((bytes, s.value())),
        Err(err) => {
            let text = s.value();
            let why = match err {
                BodyLimitError::Malformed(why) => why,
                BodyLimitError::Zero => "it admits no content at all",
                BodyLimitError::TooLarge => "it is more than 1 GiB",
            };
            cx.error_spanned_by(
                s,
                format!(
                    "`max = \"{}\"` of part `{part}` is refused: {why}; write `<number><unit>` \
                     such as \"1mb\" or \"200kb\" (units b, kb = 1024 b, mb = 1024 kb), at \
                     most \"1024mb\"",
                    text.escape_debug()
                ),
            );
            None
        }
    }
}
