//! The handler's return type, walked syntactically: its `Json<T>` payloads, and whether one
//! serializes as a top-level JSON array.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::Type;

/// through `Result<..>`, tuples, `Option<..>` and any other generic arguments. `impl Trait`
/// (such as `impl IntoResponse`) is not looked into.
pub(crate) fn json_payloads<'t>(ty: &'t Type, out: &mut Vec<&'t Type>) {
    match ty {
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else {
                return;
            };
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return;
            };
            let types: Vec<&Type> = args
                .args
                .iter()
                .filter_map(|a| match a {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            if last.ident == "Json" && args.args.len() == 1 && types.len() == 1 {
                out.push(types[0]);
            } else {
                for t in types {
                    json_payloads(t, out);
                }
            }
        }
        Type::Tuple(t) => t.elems.iter().for_each(|e| json_payloads(e, out)),
        Type::Paren(p) => json_payloads(&p.elem, out),
        Type::Group(g) => json_payloads(&g.elem, out),
        Type::Reference(r) => json_payloads(&r.elem, out),
        Type::Array(a) => json_payloads(&a.elem, out),
        Type::Slice(s) => json_payloads(&s.elem, out),
        _ => {}
    }
}

/// How a payload type serializes as a top-level JSON array, if it does.
pub(crate) enum TopLevelArray<'t> {
    /// `Vec<T>`, `[T; N]`, `[T]`, `&[T]`, a set or a deque, with the element type.
    Sequence(&'t Type),
    /// A tuple such as `(A, B)`.
    Tuple,
}

/// Collections that serde serializes as a JSON array (the last path segment).
const SEQUENCES: &[&str] = &[
    "Vec",
    "VecDeque",
    "LinkedList",
    "HashSet",
    "BTreeSet",
    "BinaryHeap",
];

/// Pointers and wrappers that serialize as what they hold (`Option<Vec<T>>` is an array or
/// `null`).
const POINTERS: &[&str] = &["Box", "Arc", "Rc", "Cow", "Option", "Reverse"];

/// Whether `ty` serializes as a top-level JSON array, seen syntactically (a type alias of a
/// `Vec` is not seen).
pub(crate) fn top_level_array(ty: &Type) -> Option<TopLevelArray<'_>> {
    match ty {
        Type::Array(a) => Some(TopLevelArray::Sequence(&a.elem)),
        Type::Slice(s) => Some(TopLevelArray::Sequence(&s.elem)),
        Type::Reference(r) => top_level_array(&r.elem),
        Type::Paren(p) => top_level_array(&p.elem),
        Type::Group(g) => top_level_array(&g.elem),
        Type::Tuple(t) if !t.elems.is_empty() => Some(TopLevelArray::Tuple),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let first = args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })?;
            if SEQUENCES.iter().any(|s| last.ident == s) {
                Some(TopLevelArray::Sequence(first))
            } else if POINTERS.iter().any(|s| last.ident == s) {
                top_level_array(first)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether `impl Trait` appears anywhere in `ty` (it cannot be named in an assertion).
pub(crate) fn contains_impl_trait(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(id) => id == "impl",
            TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

/// A type as a reader writes it: `Vec<User>`, `&'static str`, not `Vec < User >`.
pub(crate) fn type_text(ty: &Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" :: ", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    text
}
