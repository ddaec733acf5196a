//! Lists of strings: `roles`, `scopes` and `waive` (names), and `fields`, whose names are paths
//! (`"user.email"`, `"items[].sku"`) read here into their steps.

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::model::{value_tokens, FieldPath, RawValue, Step};
use crate::symbol::FIELDS;

/// A list of string literals (`roles`, `scopes`, `fields`, `waive`), each malformed element
/// reported; what was read.
pub(super) fn strings(cx: &Ctxt, key: &str, value: &RawValue, what: &str) -> Vec<LitStr> {
    match value {
        RawValue::List { items, bad, span } => {
            for b in bad {
                cx.error_spanned_by(b, format!("expected a {what} name as a string literal"));
            }
            if items.is_empty() && bad.is_empty() && key != FIELDS {
                cx.error_at(*span, format!("`{key}` is empty; list at least one {what}"));
            }
            // Field names are checked with the allowlist (empty, duplicate); roles and scopes
            // are single tokens.
            if key != FIELDS {
                for item in items {
                    if item.value().is_empty() || item.value().chars().any(char::is_whitespace) {
                        cx.error_spanned_by(
                            item,
                            format!("a {what} cannot be empty or contain spaces"),
                        );
                    }
                }
            }
            items.clone()
        }
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                format!("`{key}` takes a list: `{key} = [\"{}\"]`", s.value()),
            );
            Vec::new()
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                format!("`{key}` takes a list of strings"),
            );
            Vec::new()
        }
    }
}

/// `fields = [...]`: the names listed, each read as a path. An empty list is refused.
pub(super) fn fields(cx: &Ctxt, value: &RawValue) -> Vec<FieldPath> {
    let list = strings(cx, FIELDS, value, "field");
    if list.is_empty() && matches!(value, RawValue::List { .. }) {
        cx.error_spanned_by(
            value_tokens(value),
            "`fields` is empty; list the body fields callers may send",
        );
    }
    list.into_iter().map(field_path).collect()
}

/// One name of `fields`, read as a path.
pub(crate) fn field_path(name: LitStr) -> FieldPath {
    FieldPath {
        steps: steps(&name.value()),
        name,
    }
}

/// Deepest path accepted: the runtime refuses JSON nested deeper than 64 levels anyway.
const MAX_DEPTH: usize = 32;

/// Parses `path` into steps, or says what is wrong with it.
fn steps(path: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    for segment in path.split('.') {
        let name_end = segment.find(['[', ']']).unwrap_or(segment.len());
        let (name, mut marks) = segment.split_at(name_end);
        if name.is_empty() {
            return Err(if segment.is_empty() {
                format!(
                    "field path `{path}` has an empty segment; write keys separated by single \
                     dots, such as \"user.email\""
                )
            } else {
                format!(
                    "field path `{path}`: `[]` follows a key, such as \"items[].sku\" (the \
                     elements of the array under `items`)"
                )
            });
        }
        let mut arrays = 0;
        while !marks.is_empty() {
            if let Some(rest) = marks.strip_prefix("[]") {
                marks = rest;
                arrays += 1;
            } else if marks.starts_with('[') {
                return Err(format!(
                    "field path `{path}`: array elements are written `[]` (every element is \
                     checked), not `{}`",
                    marks.split_inclusive(']').next().unwrap_or(marks)
                ));
            } else {
                return Err(format!(
                    "field path `{path}`: unbalanced `]`; array elements are written `[]`, \
                     such as \"items[].sku\""
                ));
            }
        }
        out.push(Step {
            name: name.to_owned(),
            arrays,
        });
    }
    if let Some(last) = out.last() {
        if last.arrays > 0 {
            let array = path.trim_end_matches("[]");
            return Err(format!(
                "field path `{path}` ends with `[]`: list the array itself as \"{array}\" (its \
                 elements are then not looked into), or the elements' keys, such as \
                 \"{array}[].id\""
            ));
        }
    }
    if out.iter().map(|s| 1 + s.arrays).sum::<usize>() > MAX_DEPTH {
        return Err(format!(
            "field path `{path}` is nested more than {MAX_DEPTH} levels deep"
        ));
    }
    Ok(out)
}
