use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::{LitStr, Type};

use super::derive::derive;
use super::payload::{json_payloads, top_level_array, type_text, TopLevelArray};
use super::secret::{looks_secret, words};

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
