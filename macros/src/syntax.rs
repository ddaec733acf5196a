//! Stage 1: tokens → [`Raw`]. Only the shape is checked here; meaning is `check`'s job.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Block, Expr, ItemFn, Lit, Meta, Signature, Stmt, Token, Visibility};

use crate::ctxt::Ctxt;
use crate::model::{Raw, RawArg, RawValue};

/// Parses the attribute arguments and the item. Every malformed argument is reported together.
pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Raw> {
    // Errors about something missing underline the whole attribute.
    let attr_span = proc_macro2::Span::call_site();
    let func = parse_fn(item).map_err(|err| {
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

/// The handler, with its attributes, visibility and signature parsed and its body kept as the
/// tokens written (as tracing-attributes does): nothing here reads the body, so syn's recursive
/// parser never descends into it. A body nested hundreds of levels deep does not overflow the
/// stack of the compiler running the macro (a full parse did at about 800 nested parentheses),
/// and a body with a syntax error still expands, so rustc reports that error where it is.
pub(crate) fn parse_fn(item: TokenStream) -> syn::Result<ItemFn> {
    let parser = |input: ParseStream<'_>| {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body;
        let brace_token = syn::braced!(body in input);
        let body: TokenStream = body.parse()?;
        Ok(ItemFn {
            attrs,
            vis,
            sig,
            block: Box::new(Block {
                brace_token,
                stmts: vec![Stmt::Expr(Expr::Verbatim(body), None)],
            }),
        })
    };
    parser.parse2(item)
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
    fn the_body_is_kept_as_written_not_parsed() {
        // Not Rust, but tokens: rustc reports the body's errors after the expansion.
        let raw = parse(
            quote!(auth = "none"),
            quote!(
                async fn f() -> u8 { let = ; 1 }
            ),
        )
        .unwrap();
        assert_eq!(raw.func.sig.ident, "f");
        let block = &raw.func.block;
        assert_eq!(
            quote!(#block).to_string(),
            quote!({ let = ; 1 }).to_string()
        );

        // Nested far deeper than a recursive parse survives on a test thread's stack.
        let mut body = quote!(1);
        for _ in 0..2_000 {
            body = quote!((#body));
        }
        let raw = parse(
            quote!(auth = "none"),
            quote!(async fn f() { let _ = #body; }),
        )
        .unwrap();
        assert_eq!(raw.func.sig.ident, "f");
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
