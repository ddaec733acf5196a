//! How the user's function is kept: whether its signature lets the kept handler return the
//! function's own future (`impl Future`), or needs an `async fn` wrapper.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ReturnType};

/// Whether the signature has generics, a lifetime, a reference or an `impl Trait`: what an
/// `impl Future` returned in its place would capture.
pub(super) fn names_a_lifetime(sig: &syn::Signature) -> bool {
    use proc_macro2::TokenTree;
    fn scan(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Punct(p) => p.as_char() == '\'' || p.as_char() == '&',
            TokenTree::Ident(i) => i == "impl" || i == "dyn",
            TokenTree::Group(g) => scan(g.stream()),
            TokenTree::Literal(_) => false,
        })
    }
    !sig.generics.params.is_empty()
        || sig.generics.where_clause.is_some()
        || sig.inputs.iter().any(|arg| match arg {
            FnArg::Typed(t) => scan(quote!(#t)),
            FnArg::Receiver(_) => true,
        })
        || match &sig.output {
            ReturnType::Default => false,
            ReturnType::Type(_, ty) => {
                // `impl Trait` alone as the return type is fine (`Output = impl Trait`);
                // a lifetime or a reference in it is not.
                let tokens = quote!(#ty);
                tokens.into_iter().any(|t| match t {
                    TokenTree::Punct(p) => p.as_char() == '\'' || p.as_char() == '&',
                    TokenTree::Group(g) => scan_refs(g.stream()),
                    _ => false,
                })
            }
        }
}

/// Whether the tokens hold a lifetime or a reference.
fn scan_refs(tokens: TokenStream) -> bool {
    use proc_macro2::TokenTree;
    tokens.into_iter().any(|t| match t {
        TokenTree::Punct(p) => p.as_char() == '\'' || p.as_char() == '&',
        TokenTree::Group(g) => scan_refs(g.stream()),
        _ => false,
    })
}
