//! `#[derive(SafeResponse)]`. The attribute's three stages in one pass: parse the item and
//! its `#[serde(...)]`/`#[safe(...)]` field attributes, check every serialized field's name
//! (collecting every error), and emit the impl plus one assertion per serialized field type.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Generics, Ident, Item, LitStr, Meta, Token};

use super::secret::looks_secret;
use crate::ctxt::Ctxt;

/// What the field attributes say.
#[derive(Default)]
struct FieldAttrs {
    /// `#[serde(skip)]` or `#[serde(skip_serializing)]`: never serialized.
    skip: bool,
    /// `#[serde(skip_serializing_if = "...")]`: still serialized whenever the condition is false.
    skip_if: bool,
    /// `#[serde(flatten)]`: the field's own name is not serialized.
    flatten: bool,
    /// `#[serde(rename = "...")]` or `#[serde(rename(serialize = "..."))]`.
    rename: Option<LitStr>,
    /// `#[safe(expose)]`.
    expose: bool,
    /// A malformed `#[safe(...)]`: its error is reported, and the name is not checked as well
    /// (the author meant something by it).
    safe_error: bool,
}

/// `#[derive(SafeResponse)]`: the impl, one assertion per serialized field type, and every
/// error about a field that looks secret.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    if let Err(err) = crate::syntax::check_nesting(&input, false) {
        return err.to_compile_error();
    }
    let item: Item = match syn::parse2(input) {
        Ok(item) => item,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Ctxt::new();
    let (ident, generics, attrs, shapes): (&Ident, &Generics, &[Attribute], Vec<Shape<'_>>) =
        match &item {
            Item::Struct(s) => (
                &s.ident,
                &s.generics,
                &s.attrs,
                vec![Shape {
                    variant: None,
                    skipped: false,
                    fields: &s.fields,
                }],
            ),
            Item::Enum(e) => (
                &e.ident,
                &e.generics,
                &e.attrs,
                e.variants
                    .iter()
                    .map(|v| {
                        not_here(&cx, &v.attrs, "an enum variant");
                        Shape {
                            variant: Some(&v.ident),
                            skipped: v.attrs.iter().any(serde_skips),
                            fields: &v.fields,
                        }
                    })
                    .collect(),
            ),
            Item::Union(u) => {
                let _ = cx.check();
                return syn::Error::new_spanned(
                    u.union_token,
                    "`SafeResponse` cannot be derived for a union; use a struct or an enum",
                )
                .to_compile_error();
            }
            other => {
                let _ = cx.check();
                return syn::Error::new_spanned(
                    other,
                    "`SafeResponse` can be derived for a struct or an enum",
                )
                .to_compile_error();
            }
        };
    not_here(&cx, attrs, "a type");

    // The assertions live in a free fn, where `Self` (as in `children: Vec<Self>`) means
    // nothing: it is spelled out.
    let self_ty = {
        let (_, ty_generics, _) = generics.split_for_impl();
        quote!(#ident #ty_generics)
    };
    let mut asserts = Vec::new();
    for shape in &shapes {
        let owner = match shape.variant {
            Some(variant) => format!("{ident}::{variant}"),
            None => ident.to_string(),
        };
        for field in shape.fields {
            let attrs = field_attrs(&cx, &field.attrs);
            if attrs.skip || shape.skipped {
                continue;
            }
            let name_is_sent = !(attrs.expose || attrs.flatten || attrs.safe_error);
            if let (Some(name), true) = (&field.ident, name_is_sent) {
                let mut fix = "add `#[serde(skip_serializing)]` to keep it out of responses, or \
                               `#[safe(expose)]` if exposing it is intended"
                    .to_owned();
                if attrs.skip_if {
                    fix.push_str(
                        " (`skip_serializing_if` is not enough: the field is still sent whenever \
                         its condition is false)",
                    );
                }
                let rust_name = name.to_string();
                let rust_name = rust_name.strip_prefix("r#").unwrap_or(&rust_name);
                if looks_secret(rust_name) {
                    cx.error_spanned_by(
                        name,
                        format!(
                            "field `{rust_name}` of `{owner}` looks secret and would be sent to \
                             clients; {fix}"
                        ),
                    );
                } else if let Some(rename) =
                    attrs.rename.as_ref().filter(|r| looks_secret(&r.value()))
                {
                    cx.error_spanned_by(
                        rename,
                        format!(
                            "field `{rust_name}` of `{owner}` is serialized as `{}`, which looks \
                             secret and would be sent to clients; {fix}",
                            rename.value()
                        ),
                    );
                }
            }
            let ty = &field.ty;
            let named = replace_self(ty.to_token_stream(), &self_ty);
            let private = crate::emit::private(ty.span());
            asserts.push(quote_spanned! {ty.span()=>
                #private::assert_safe_response::<#named>();
            });
        }
    }

    let private = crate::emit::private(Span::call_site());
    let mut bounded = generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    if !params.is_empty() {
        let where_clause = bounded.make_where_clause();
        for param in params {
            where_clause
                .predicates
                .push(syn::parse_quote!(#param: #private::SafeResponse));
        }
    }
    let (impl_generics, ty_generics, where_clause) = bounded.split_for_impl();
    let errors = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(err) => err.to_compile_error(),
    };
    let check = Ident::new("__secure_endpoint_check_fields", Span::mixed_site());
    // The impl is emitted even with errors, so a handler returning the type does not add a
    // second, less helpful error.
    quote! {
        #errors

        #[automatically_derived]
        impl #impl_generics #private::SafeResponse for #ident #ty_generics #where_clause {}

        const _: () = {
            // Every serialized field's type must be `SafeResponse` too. The value parameter
            // brings the type's implied bounds (`T: 'a` for a `&'a T` field) into scope.
            #[allow(dead_code, clippy::all)]
            fn #check #impl_generics (_: &#ident #ty_generics) #where_clause {
                #(#asserts)*
            }
        };
    }
}

/// `tokens` with every `Self` replaced by `with` (spanned at the `Self` it replaces).
fn replace_self(tokens: TokenStream, with: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(id) if id == "Self" => with
                .clone()
                .into_iter()
                .map(|mut t| {
                    t.set_span(id.span());
                    t
                })
                .collect(),
            TokenTree::Group(group) => {
                let mut replaced =
                    proc_macro2::Group::new(group.delimiter(), replace_self(group.stream(), with));
                replaced.set_span(group.span());
                TokenStream::from(TokenTree::Group(replaced))
            }
            other => TokenStream::from(other),
        })
        .collect()
}

/// The fields of a struct, or of one enum variant.
struct Shape<'a> {
    variant: Option<&'a Ident>,
    /// A variant marked `#[serde(skip)]`/`#[serde(skip_serializing)]` is never serialized.
    skipped: bool,
    fields: &'a Fields,
}

/// `#[safe(...)]` where it means nothing.
fn not_here(cx: &Ctxt, attrs: &[Attribute], what: &str) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("safe")) {
        cx.error_spanned_by(
            attr,
            format!(
                "`#[safe(...)]` goes on a field, not on {what}: `#[safe(expose)]` marks a field \
                 whose name looks secret as meant for clients"
            ),
        );
    }
}

fn field_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            serde_attr(attr, &mut out);
        } else if attr.path().is_ident("safe") {
            safe_attr(cx, attr, &mut out);
        }
    }
    out
}

/// Whether a `#[serde(...)]` attribute says `skip` or `skip_serializing`.
fn serde_skips(attr: &Attribute) -> bool {
    let mut out = FieldAttrs::default();
    if attr.path().is_ident("serde") {
        serde_attr(attr, &mut out);
    }
    out.skip
}

/// Reads what matters of a `#[serde(...)]` attribute. A malformed one is left to serde, which
/// reports it; what was read before the error is kept.
fn serde_attr(attr: &Attribute, out: &mut FieldAttrs) {
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
            out.skip = true;
        } else if meta.path.is_ident("skip_serializing_if") {
            out.skip_if = true;
        } else if meta.path.is_ident("flatten") {
            out.flatten = true;
        } else if meta.path.is_ident("rename") {
            if meta.input.peek(Token![=]) {
                out.rename = Some(meta.value()?.parse()?);
                return Ok(());
            }
            if meta.input.peek(syn::token::Paren) {
                return meta.parse_nested_meta(|inner| {
                    let value: LitStr = inner.value()?.parse()?;
                    if inner.path.is_ident("serialize") {
                        out.rename = Some(value);
                    }
                    Ok(())
                });
            }
        }
        // Skip the value of every other key: `default = "..."`, `bound(...)`, ...
        if meta.input.peek(Token![=]) {
            meta.value()?.parse::<syn::Expr>()?;
        } else if meta.input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in meta.input);
            content.parse::<TokenStream>()?;
        }
        Ok(())
    });
}

fn safe_attr(cx: &Ctxt, attr: &Attribute, out: &mut FieldAttrs) {
    if !matches!(attr.meta, Meta::List(_)) {
        out.safe_error = true;
        cx.error_spanned_by(
            attr,
            "write `#[safe(expose)]` to send a field whose name looks secret to clients",
        );
        return;
    }
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("expose") {
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error("`expose` takes no value: write `#[safe(expose)]`"));
            }
            out.expose = true;
            return Ok(());
        }
        let got = meta.path.to_token_stream().to_string().replace(' ', "");
        Err(meta.error(format!(
            "unknown `#[safe]` argument `{got}`; the only one is `expose` (`#[safe(expose)]`: \
             sending this field to clients is intended); to keep a field out of responses, use \
             `#[serde(skip_serializing)]`"
        )))
    });
    if let Err(err) = result {
        out.safe_error = true;
        cx.push(err);
    }
}
