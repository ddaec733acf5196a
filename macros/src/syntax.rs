//! Stage 1: tokens → [`Raw`]. Only the shape is checked here; meaning is `check`'s job.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ItemFn, Lit, Meta, Token};

use crate::ctxt::Ctxt;
use crate::model::{Raw, RawArg, RawValue};

/// Parses the attribute arguments and the item. Every malformed argument is reported together.
pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Raw> {
    // Errors about something missing underline the whole attribute.
    let attr_span = proc_macro2::Span::call_site();
    let func: ItemFn = syn::parse2(item).map_err(|err| {
        syn::Error::new(
            err.span(),
            "`#[secure_endpoint]` goes on an `async fn` handler; this item is not a function",
        )
    })?;
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let cx = Ctxt::new();
    let mut raw_args = Vec::with_capacity(metas.len());
    for meta in metas {
        match meta {
            Meta::NameValue(nv) => {
                let Some(key) = nv.path.get_ident().cloned() else {
                    cx.error_spanned_by(&nv.path, "expected a key such as `auth`, not a path");
                    continue;
                };
                raw_args.push(RawArg {
                    key,
                    value: raw_value(nv.value),
                });
            }
            Meta::Path(path) => cx.error_spanned_by(
                &path,
                format!(
                    "`{}` needs a value: write `{} = ...`",
                    path_text(&path),
                    path_text(&path)
                ),
            ),
            Meta::List(list) => cx.error_spanned_by(
                &list,
                format!(
                    "write `{} = [...]` with `=`, not `{}(...)`",
                    path_text(&list.path),
                    path_text(&list.path)
                ),
            ),
        }
    }
    cx.check()?;
    Ok(Raw {
        attr_span,
        args: raw_args,
        func,
    })
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn raw_value(expr: Expr) -> RawValue {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => RawValue::Str(s),
        Expr::Array(array) => {
            let span = array.bracket_token.span.join();
            let mut items = Vec::new();
            let mut bad = Vec::new();
            for elem in array.elems {
                match elem {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Str(s), ..
                    }) => items.push(s),
                    other => bad.push(other),
                }
            }
            RawValue::List { items, bad, span }
        }
        Expr::Path(p) if p.qself.is_none() => RawValue::Path(p.path),
        other => RawValue::Other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_keys_and_values() {
        let raw = parse(
            quote!(auth = "jwt", fields = ["a", "b"], loader = Order),
            quote!(
                async fn f() {}
            ),
        )
        .unwrap();
        assert_eq!(raw.args.len(), 3);
        assert!(matches!(raw.args[0].value, RawValue::Str(_)));
        assert!(matches!(&raw.args[1].value, RawValue::List { items, .. } if items.len() == 2));
        assert!(matches!(raw.args[2].value, RawValue::Path(_)));
    }

    #[test]
    fn bare_flag_is_an_error_naming_the_key() {
        let err = parse(
            quote!(auth),
            quote!(
                async fn f() {}
            ),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("`auth` needs a value"));
    }

    #[test]
    fn non_function_item_is_an_error() {
        let err = parse(
            quote!(auth = "none"),
            quote!(
                struct S;
            ),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("goes on an `async fn`"));
    }
}
