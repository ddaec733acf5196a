//! `fields` as paths: `"user.email"` (a key of the object under `user`) and `"items[].sku"`
//! (a key of each object in the array under `items`), read at parse time (`syntax::lists`) and
//! checked here so that a malformed path, or two paths that disagree about what a key holds,
//! does not compile. Also what the body declarations need from the signature: a `Form<T>` body
//! and the types that have schemas.

use syn::{LitStr, Type};

use crate::ctxt::Ctxt;
use crate::model::{FieldPath, Step};

/// Checks every path of `fields` and that they agree with each other: a key is either a leaf
/// (any value) or a parent (its keys listed), never both, and a parent is the same shape
/// (object, or arrays of objects) in every path through it. Returns `true` when any field is
/// a path, so the runtime walks the levels.
pub(crate) fn check_paths(cx: &Ctxt, fields: &[FieldPath]) -> bool {
    let mut parsed: Vec<(&LitStr, &[Step])> = Vec::new();
    for FieldPath { name: field, steps } in fields {
        if field.value().is_empty() {
            continue; // reported by the caller
        }
        match steps {
            Ok(steps) => parsed.push((field, steps)),
            Err(why) => cx.error_spanned_by(field, why),
        }
    }
    for (i, (field, path)) in parsed.iter().enumerate() {
        for (other, other_path) in &parsed[..i] {
            let shared = path
                .iter()
                .zip(other_path.iter())
                .take_while(|(a, b)| a.name == b.name)
                .count();
            if shared == 0 {
                continue;
            }
            let (a, b) = (field.value(), other.value());
            // A leaf on one side that is a parent (or the same key) on the other.
            if (shared == path.len() || shared == other_path.len())
                && path.len() != other_path.len()
            {
                let (leaf, parent) = if shared == path.len() {
                    (&a, &b)
                } else {
                    (&b, &a)
                };
                cx.error_spanned_by(
                    field,
                    format!(
                        "`{leaf}` is listed as a field and as the parent of `{parent}`: list \
                         either `{leaf}` (any value, nothing inside checked) or the keys inside \
                         it"
                    ),
                );
                continue;
            }
            // Both go through the shared keys: each must hold the same shape in both.
            if let Some(k) = (0..shared).find(|&k| path[k].arrays != other_path[k].arrays) {
                let key: Vec<&str> = path[..=k].iter().map(|s| s.name.as_str()).collect();
                cx.error_spanned_by(
                    field,
                    format!(
                        "`{a}` and `{b}` disagree about `{}`: an array (`[]`) in one, not in the \
                         other",
                        key.join(".")
                    ),
                );
            }
        }
    }
    fields.iter().any(|f| f.name.value().contains(['.', '[']))
}

/// `true` when the body extractor (the handler's last argument) is a `Form<T>`.
pub(crate) fn is_form(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Form"))
}

/// `T` of a `Json<T>` or `Form<T>` body extractor, for its schema.
pub(crate) fn body_payload(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Json" && seg.ident != "Form" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `true` when a `Json<T>` of the return type sits in a tuple, beside the status the handler
/// chooses (`(StatusCode, Json<T>)`): its success status is not known to be 200.
pub(crate) fn status_chosen(output: &syn::ReturnType) -> bool {
    fn visit(ty: &Type, in_tuple: bool) -> bool {
        match ty {
            Type::Tuple(t) => t.elems.iter().any(|e| visit(e, true)),
            Type::Paren(p) => visit(&p.elem, in_tuple),
            Type::Group(g) => visit(&g.elem, in_tuple),
            Type::Path(p) => {
                let Some(seg) = p.path.segments.last() else {
                    return false;
                };
                if seg.ident == "Json" {
                    return in_tuple;
                }
                let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                    return false;
                };
                args.args.iter().any(|a| match a {
                    syn::GenericArgument::Type(t) => visit(t, in_tuple),
                    _ => false,
                })
            }
            _ => false,
        }
    }
    match output {
        syn::ReturnType::Default => false,
        syn::ReturnType::Type(_, ty) => visit(ty, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(fields: &[&str]) -> Vec<String> {
        let cx = Ctxt::new();
        let paths: Vec<FieldPath> = fields
            .iter()
            .map(|f| crate::syntax::field_path(LitStr::new(f, proc_macro2::Span::call_site())))
            .collect();
        check_paths(&cx, &paths);
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn well_formed_paths_pass() {
        assert!(errors(&["user.email", "user.username", "note"]).is_empty());
        assert!(errors(&["items[].sku", "items[].qty", "ship.address.city"]).is_empty());
        assert!(errors(&["rows[][].v", "rows[][].w"]).is_empty());
        assert!(errors(&["a.b.c", "a.b.d", "a.e"]).is_empty());
    }

    #[test]
    fn malformed_paths_are_refused_precisely() {
        assert!(errors(&["user..email"])[0].contains("empty segment"));
        assert!(errors(&[".email"])[0].contains("empty segment"));
        assert!(errors(&["user."])[0].contains("empty segment"));
        assert!(errors(&["[].sku"])[0].contains("`[]` follows a key"));
        assert!(errors(&["items[0].sku"])[0].contains("not `[0]`"));
        assert!(errors(&["items]"])[0].contains("unbalanced"));
        assert!(errors(&["tags[]"])[0].contains("list the array itself as \"tags\""));
        let deep = vec!["a"; 40].join(".");
        assert!(errors(&[deep.as_str()])[0].contains("more than 32 levels"));
    }

    #[test]
    fn a_key_is_a_leaf_or_a_parent_of_one_shape() {
        let e = errors(&["user", "user.email"]);
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("`user` is listed as a field and as the parent of `user.email`"),
            "{e:?}"
        );
        let e = errors(&["items[].sku", "items"]);
        assert!(e[0].contains("`items` is listed as a field and as the parent of `items[].sku`"));
        let e = errors(&["a.b.c", "a.b"]);
        assert!(e[0].contains("`a.b` is listed as a field"));
        let e = errors(&["items.sku", "items[].qty"]);
        assert!(e[0].contains("disagree about `items`"), "{e:?}");
        let e = errors(&["items.sku", "items[].sku"]);
        assert!(e[0].contains("disagree about `items`"), "{e:?}");
    }

    #[test]
    fn a_status_beside_json_is_chosen_by_the_handler() {
        let chosen = |t: proc_macro2::TokenStream| status_chosen(&syn::parse2(t).unwrap());
        assert!(!chosen(quote!(-> Json<A>)));
        assert!(!chosen(quote!(-> Result<Json<A>, Problem>)));
        assert!(chosen(quote!(-> (StatusCode, Json<A>))));
        assert!(chosen(quote!(-> Result<(StatusCode, Json<A>), Problem>)));
    }
}
