//! Response safety (OWASP API3, excessive data exposure): `#[derive(SafeResponse)]`, the
//! heuristic that decides which field names look secret, and the syntactic walk of a handler's
//! return type that `#[secure_endpoint]` uses to find its `Json<T>` payloads.
//!
//! The derive has the attribute's three stages in one pass: parse the item and its
//! `#[serde(...)]`/`#[safe(...)]` field attributes, check every serialized field's name
//! (collecting every error), and emit the impl plus one assertion per serialized field type.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Generics, Ident, Item, LitStr, Meta, Token, Type};

use crate::ctxt::Ctxt;

// ---- which names look secret -------------------------------------------------------------------

/// A field name looks secret when one of its words is one of these. Names are split into
/// lowercase words on `_`, `-`, other punctuation and camelCase boundaries (`passwordHash` and
/// `password_hash` are both `password hash`). Only whole words count: `hashtag`, `spinner`,
/// `tokenizer` and `tokens` (as in `tokens_used`, a count) do not look secret.
pub(crate) const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "hash",
    "hashed",
    "secret",
    "token",
    "ssn",
    "mfa",
    "otp",
    "totp",
    "salt",
    "credential",
    "credentials",
    "cvv",
    "pin",
    "privatekey",
    "apikey",
];

/// A field name also looks secret when two consecutive words are one of these phrases, as in
/// `api_key`, `apiKey`, `private_key_pem` or `aws_access_key`.
pub(crate) const SECRET_PHRASES: &[[&str; 2]] = &[
    ["api", "key"],
    ["private", "key"],
    ["access", "key"],
    ["signing", "key"],
    ["encryption", "key"],
    ["refresh", "token"],
    ["recovery", "code"],
    ["recovery", "codes"],
    ["backup", "code"],
    ["backup", "codes"],
    ["card", "number"],
];

/// A name whose *last* word is one of these describes a secret instead of holding it, and does
/// not look secret: `token_type` (OAuth's `"Bearer"`), `api_key_id`, `password_changed_at`,
/// `mfa_enabled`, `token_expires_at`, `otp_length`.
pub(crate) const DESCRIPTIVE_LAST_WORDS: &[&str] = &[
    "type", "kind", "id", "at", "enabled", "expires", "expiry", "count", "length",
];

/// The lowercase words of an identifier or serialized name (a leading `r#` is dropped).
pub(crate) fn words(name: &str) -> Vec<String> {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `apiKey` → api key; `APIKey` → api key; `sha256Hash` → sha256 hash; `SSN` → ssn.
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_is_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a field named `name` looks like it holds a secret (see [`SECRET_WORDS`],
/// [`SECRET_PHRASES`] and [`DESCRIPTIVE_LAST_WORDS`]).
pub(crate) fn looks_secret(name: &str) -> bool {
    let words = words(name);
    if words
        .last()
        .is_some_and(|last| DESCRIPTIVE_LAST_WORDS.contains(&last.as_str()))
    {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|pair| {
            SECRET_PHRASES
                .iter()
                .any(|p| pair[0] == p[0] && pair[1] == p[1])
        })
}

// ---- the derive --------------------------------------------------------------------------------

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

// ---- the handler's return type -----------------------------------------------------------------

/// Every `T` of a `Json<T>` (last path segment `Json`, one type argument) in a return type,
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

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn splits_names_into_words() {
        assert_eq!(words("password_hash"), ["password", "hash"]);
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("PasswordHash"), ["password", "hash"]);
        assert_eq!(words("sha256Hash"), ["sha256", "hash"]);
        assert_eq!(words("SSN"), ["ssn"]);
        assert_eq!(words("user-pin"), ["user", "pin"]);
        assert_eq!(words("r#type"), ["type"]);
        assert_eq!(words("__private__key__"), ["private", "key"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "password_hash",
            "passwordHash",
            "hashed_password",
            "apiKey",
            "api_key",
            "API_KEY",
            "apikey",
            "mfa_secret",
            "reset_token",
            "refresh_token",
            "refreshToken",
            "accessToken",
            "client_secret",
            "ssn",
            "totp_seed_otp",
            "salt",
            "credentials",
            "card_cvv",
            "pin",
            "pinCode",
            "private_key_pem",
            "privateKey",
            "aws_access_key",
            "signing_key",
            "recovery_codes",
            "card_number",
            "pwd",
            "passwd",
        ] {
            assert!(looks_secret(name), "{name} should look secret");
        }
    }

    #[test]
    fn names_that_do_not_look_secret() {
        for name in [
            "id",
            "email",
            "shipping",
            "hashtag",
            "hashtag_count",
            "spinner",
            "pinned",
            "tokenizer",
            "tokens_used",
            "secretary",
            "keyboard",
            "key",
            "public_key",
            "access_level",
            "token_type",
            "api_key_id",
            "password_changed_at",
            "mfa_enabled",
            "token_expires_at",
            "otp_length",
            "token_count",
            "",
        ] {
            assert!(!looks_secret(name), "{name} should not look secret");
        }
    }

    /// The messages of the `compile_error!`s a derive emits.
    fn derive_errors(input: TokenStream) -> Vec<String> {
        let tokens: Vec<TokenTree> = derive(input).into_iter().collect();
        tokens
            .windows(3)
            .filter_map(|w| match w {
                [TokenTree::Ident(id), TokenTree::Punct(bang), TokenTree::Group(g)]
                    if id == "compile_error" && bang.as_char() == '!' =>
                {
                    syn::parse2::<LitStr>(g.stream()).ok().map(|l| l.value())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn derive_checks_serialized_names() {
        let errs = derive_errors(quote! {
            struct User {
                id: String,
                password_hash: String,
                #[serde(skip_serializing)]
                totp_secret: String,
                #[serde(skip, default)]
                salt: String,
                #[serde(skip_serializing_if = "Option::is_none")]
                reset_token: Option<String>,
                #[safe(expose)]
                access_token: String,
                #[serde(flatten)]
                credentials: Extra,
                #[serde(rename(serialize = "apiKey", deserialize = "key"))]
                key: String,
                #[serde(default, rename = "label")]
                r#type: String,
            }
        });
        assert_eq!(
            errs,
            [
                "field `password_hash` of `User` looks secret and would be sent to clients; add \
                 `#[serde(skip_serializing)]` to keep it out of responses, or `#[safe(expose)]` \
                 if exposing it is intended",
                "field `reset_token` of `User` looks secret and would be sent to clients; add \
                 `#[serde(skip_serializing)]` to keep it out of responses, or `#[safe(expose)]` \
                 if exposing it is intended (`skip_serializing_if` is not enough: the field is \
                 still sent whenever its condition is false)",
                "field `key` of `User` is serialized as `apiKey`, which looks secret and would be \
                 sent to clients; add `#[serde(skip_serializing)]` to keep it out of responses, \
                 or `#[safe(expose)]` if exposing it is intended",
            ]
        );
    }

    #[test]
    fn derive_checks_enum_variants() {
        let errs = derive_errors(quote! {
            enum Event {
                Login { user: String, session_token: String },
                Tuple(String),
                #[serde(skip_serializing)]
                Internal { secret: String },
                Unit,
            }
        });
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("field `session_token` of `Event::Login` looks secret"),
            "{errs:?}"
        );
    }

    #[test]
    fn derive_checks_safe_attributes() {
        let errs = derive_errors(quote! {
            #[safe(expose)]
            struct S {
                #[safe(hide)]
                token: String,
                #[safe]
                pin: u16,
                #[safe(expose = true)]
                otp: String,
            }
        });
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].contains("goes on a field, not on a type"),
            "{errs:?}"
        );
        assert!(errs[1].starts_with("unknown `#[safe]` argument `hide`"));
        assert!(errs[2].starts_with("write `#[safe(expose)]`"));
        assert!(errs[3].starts_with("`expose` takes no value"));
    }

    #[test]
    fn derive_bounds_type_parameters_and_asserts_fields() {
        let out = derive(quote! {
            struct Page<'a, T, const N: usize> {
                items: [T; N],
                label: &'a str,
                #[serde(skip)]
                cursor: Cursor,
            }
        })
        .to_string();
        assert!(
            out.contains("T : :: secure_endpoint :: __private :: SafeResponse"),
            "{out}"
        );
        assert!(out.contains("assert_safe_response :: < [T ; N] >"), "{out}");
        assert!(
            out.contains("assert_safe_response :: < & 'a str >"),
            "{out}"
        );
        assert!(
            !out.contains("Cursor >"),
            "skipped fields are not checked: {out}"
        );
        let out = derive(quote! {
            struct Node {
                children: Vec<Self>,
            }
        })
        .to_string();
        assert!(
            out.contains("assert_safe_response :: < Vec < Node > >"),
            "{out}"
        );
        assert!(derive(quote!(
            union U {
                a: u8,
            }
        ))
        .to_string()
        .contains("cannot be derived for a union"));
    }

    #[test]
    fn finds_json_payloads() {
        let payloads = |ty: Type| {
            let mut out = Vec::new();
            json_payloads(&ty, &mut out);
            out.iter().map(|t| type_text(t)).collect::<Vec<_>>()
        };
        assert_eq!(payloads(syn::parse_quote!(Json<User>)), ["User"]);
        assert_eq!(
            payloads(syn::parse_quote!(Result<Json<User>, Problem>)),
            ["User"]
        );
        assert_eq!(
            payloads(syn::parse_quote!(
                Result<(StatusCode, axum::Json<Vec<User>>), Problem>
            )),
            ["Vec<User>"]
        );
        assert_eq!(
            payloads(syn::parse_quote!(Option<Json<&'static str>>)),
            ["&'static str"]
        );
        assert!(payloads(syn::parse_quote!(impl IntoResponse)).is_empty());
        assert!(payloads(syn::parse_quote!(String)).is_empty());
        assert!(payloads(syn::parse_quote!(Json)).is_empty());
    }

    #[test]
    fn finds_top_level_arrays() {
        let element = |ty: Type| match top_level_array(&ty) {
            Some(TopLevelArray::Sequence(elem)) => Some(type_text(elem)),
            Some(TopLevelArray::Tuple) => Some("tuple".to_owned()),
            None => None,
        };
        assert_eq!(
            element(syn::parse_quote!(Vec<User>)).as_deref(),
            Some("User")
        );
        assert_eq!(
            element(syn::parse_quote!(std::vec::Vec<u8>)).as_deref(),
            Some("u8")
        );
        assert_eq!(element(syn::parse_quote!([u8; 4])).as_deref(), Some("u8"));
        assert_eq!(
            element(syn::parse_quote!(&'static [User])).as_deref(),
            Some("User")
        );
        assert_eq!(
            element(syn::parse_quote!(Arc<[User]>)).as_deref(),
            Some("User")
        );
        assert_eq!(
            element(syn::parse_quote!(BTreeSet<String>)).as_deref(),
            Some("String")
        );
        assert_eq!(
            element(syn::parse_quote!((u8, u8))).as_deref(),
            Some("tuple")
        );
        assert_eq!(element(syn::parse_quote!(())), None);
        assert_eq!(element(syn::parse_quote!(List<User>)), None);
        assert_eq!(element(syn::parse_quote!(HashMap<String, User>)), None);
        assert_eq!(element(syn::parse_quote!(Box<User>)), None);
        assert_eq!(
            element(syn::parse_quote!(Option<Vec<User>>)).as_deref(),
            Some("User")
        );
        assert_eq!(
            element(syn::parse_quote!(LinkedList<u8>)).as_deref(),
            Some("u8")
        );
        assert_eq!(element(syn::parse_quote!(Option<User>)), None);
    }
}
