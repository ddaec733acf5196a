//! Stage 1: tokens → [`Raw`]. The shape is checked here, and every value is read in the
//! notation its key fixes (scheme names, lists of names, field paths, parts, a rate, a size, a
//! date, a link, a status, ...), as garde's `syntax.rs` does, one notation per file; meaning
//! (how the keys combine, the signature, the organisation's policy) is `check`'s job.

mod auth;
mod lists;
mod literal;
mod nesting;
pub(crate) mod parts;

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Block, Expr, ItemFn, Lit, Meta, Signature, Stmt, Token, Visibility};

#[cfg(test)]
pub(crate) use self::lists::field_path;
pub(crate) use self::nesting::check_nesting;
use crate::ctxt::Ctxt;
use crate::model::{Raw, RawArg, RawValue, Typed};
use crate::symbol::*;

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
                let value = raw_value(nv.value);
                let (typed, error) = read(&key.to_string(), &value);
                raw_args.push(RawArg {
                    key,
                    value,
                    typed,
                    error,
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
    use proc_macro2::{Delimiter, TokenTree};
    // The body is taken off as the item's last token tree, not through syn's buffer, which
    // copies a group back into tokens recursively (it overflowed at 5 000 levels on a 2 MiB
    // stack).
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let body = match tokens.pop() {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => Some(group),
        Some(other) => {
            tokens.push(other);
            None
        }
        None => None,
    };
    let parser = |input: ParseStream<'_>| {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let Some(body) = &body else {
            return Err(input.error("expected curly braces"));
        };
        if !input.is_empty() {
            return Err(input.error("expected curly braces"));
        }
        Ok(ItemFn {
            attrs,
            vis,
            sig,
            block: Box::new(Block {
                brace_token: syn::token::Brace(body.delim_span()),
                stmts: vec![Stmt::Expr(Expr::Verbatim(body.stream()), None)],
            }),
        })
    };
    parser.parse2(tokens.into_iter().collect())
}

/// How deep the tokens the macros parse (the attribute's arguments, the handler's signature, a
/// `SafeResponse` type) may nest: brackets, and `<...>` generics, which are not token groups.
/// syn parses them recursively, and a few hundred levels overflow the stack of the compiler
/// running the macro (the fuzzer's finding); legitimate code stays far below this.
pub(crate) const MAX_NESTING: usize = 64;

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

/// The value of `key` read in its notation (see [`RawArg::typed`]), and every error reading it.
fn read(key: &str, value: &RawValue) -> (Option<Typed>, Option<syn::Error>) {
    let cx = Ctxt::new();
    let typed = read_value(&cx, key, value);
    (typed, cx.check().err())
}

fn read_value(cx: &Ctxt, key: &str, value: &RawValue) -> Option<Typed> {
    match key {
        AUTH => Some(Typed::Auth(auth::read(cx, value))),
        ALLOW => literal::allow(cx, value),
        ROLES => Some(Typed::Strings(lists::strings(cx, key, value, "role"))),
        SCOPES => Some(Typed::Strings(lists::strings(cx, key, value, "scope"))),
        OWNER => literal::owner(cx, value),
        LOADER => literal::path(
            cx,
            value,
            "`loader` takes a type that implements `OwnedResource`, e.g. `loader = Order`",
        ),
        RATE => literal::rate(cx, value),
        FIELDS => Some(Typed::Fields(lists::fields(cx, value))),
        BODY_LIMIT => literal::body_limit(cx, value),
        DEPRECATED | SUNSET => literal::date(cx, key, value),
        SUCCESSOR => literal::successor(cx, value),
        WAIVE => Some(Typed::Strings(lists::strings(cx, key, value, "rule"))),
        REASON => literal::reason(cx, value),
        BODY => literal::body(cx, value),
        GRAPHQL => literal::path(
            cx,
            value,
            "`graphql` takes a `GraphQlLimits` constant, e.g. `graphql = GRAPHQL_LIMITS`",
        ),
        FLOW => literal::flow(cx, value),
        OWNER_STATUS => literal::owner_status(cx, value),
        MULTIPART => parts::read(cx, value).map(Typed::Parts),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Auth, BodyForm, Scheme};
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

    /// Each argument's value as read, and the error reading it, as a pair.
    fn read_args(args: TokenStream) -> Vec<(Option<Typed>, Option<String>)> {
        let raw = parse(
            args,
            quote!(
                async fn f() {}
            ),
        )
        .unwrap();
        raw.args
            .into_iter()
            .map(|a| (a.typed, a.error.map(|e| e.to_string())))
            .collect()
    }

    #[test]
    fn values_of_a_known_notation_are_read_at_parse_time() {
        let typed = read_args(quote!(
            rate = "10/s",
            owner_status = 403,
            sunset = "2026-06-30",
            body_limit = "1.5mb",
            roles = ["a"],
            colour = "red"
        ));
        assert!(
            matches!(&typed[0], (Some(Typed::Rate(r)), None) if (r.count, r.period_secs) == (10, 1))
        );
        assert!(matches!(typed[1], (Some(Typed::OwnerStatus(403)), None)));
        assert!(
            matches!(&typed[2], (Some(Typed::Date(d, _)), None) if d.to_string() == "2026-06-30")
        );
        // The error is kept for `check` to report in its turn.
        match &typed[3] {
            (None, Some(err)) => assert!(err.starts_with("malformed body limit `1.5mb`")),
            _ => panic!("`1.5mb` is refused"),
        }
        match &typed[4] {
            (Some(Typed::Strings(roles)), None) => assert_eq!(roles[0].value(), "a"),
            _ => panic!("`roles` is read"),
        }
        // A key the attribute does not know has no notation (`check` reports the key).
        assert!(matches!(typed[5], (None, None)));
    }

    #[test]
    fn schemes_names_paths_and_parts_are_read_at_parse_time() {
        let typed = read_args(quote!(
            auth = optional("jwt", "api_key"),
            fields = ["user.email", "items[].sku", "a..b"],
            loader = orders::Order,
            body = "ignored",
            multipart = [
                part("file", types = ["image/png"], max = "1mb"),
                part("note", max = "1kb", optional)
            ],
            flow = "login"
        ));
        match &typed[0] {
            (Some(Typed::Auth(read)), None) => {
                let optional = [Scheme::Jwt, Scheme::ApiKey];
                assert!(matches!(&read.auth, Some(Auth::Optional(s)) if *s == optional));
                assert_eq!(read.names.len(), 2);
            }
            _ => panic!("`optional(...)` is read"),
        }
        // A malformed path is kept with its error, reported by `check` with the allowlist's.
        match &typed[1] {
            (Some(Typed::Fields(paths)), None) => {
                assert_eq!(paths.len(), 3);
                assert_eq!(paths[1].steps.as_ref().unwrap()[0].arrays, 1);
                assert!(paths[2]
                    .steps
                    .as_ref()
                    .unwrap_err()
                    .contains("empty segment"));
            }
            _ => panic!("`fields` is read"),
        }
        assert!(matches!(&typed[2], (Some(Typed::Path(p)), None) if p.segments.len() == 2));
        assert!(matches!(
            typed[3],
            (Some(Typed::Body(BodyForm::Ignored)), None)
        ));
        match &typed[4] {
            (Some(Typed::Parts(parts)), None) => {
                assert_eq!((parts[0].max, parts[0].types.len()), (1024 * 1024, 1));
                assert!(parts[1].optional && parts[1].types.is_empty());
            }
            _ => panic!("the parts are read"),
        }
        assert!(matches!(&typed[5], (Some(Typed::Ident(flow)), None) if flow.value() == "login"));
    }

    #[test]
    fn what_can_be_read_is_kept_beside_the_errors() {
        let typed = read_args(quote!(
            auth = ["jwt", "jwt", "bogus"],
            waive = ["require_rate", 5],
            allow = "everyone"
        ));
        match &typed[0] {
            (Some(Typed::Auth(read)), Some(err)) => {
                assert!(read.auth.is_none());
                // Unknown names too: the policy file's `allowed_schemes` names them.
                assert_eq!(read.names.len(), 3);
                assert!(err.contains("listed twice"), "{err}");
            }
            _ => panic!("a malformed `auth` keeps its names and its errors"),
        }
        match &typed[1] {
            (Some(Typed::Strings(waived)), Some(err)) => {
                assert_eq!(waived.len(), 1);
                assert!(err.contains("expected a rule name"), "{err}");
            }
            _ => panic!("`waive` keeps the rules it could read"),
        }
        assert!(matches!(&typed[2], (None, Some(err)) if err.contains("unknown `allow` value")));
    }
}
