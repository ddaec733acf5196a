use quote::{quote, ToTokens};

use crate::exposure;
use crate::model::{BindKind, Endpoint, Raw};
use crate::policy_file::{self, PolicyFile};
use crate::syntax::parse;

/// The check without a policy file.
fn check(raw: Raw) -> syn::Result<Endpoint> {
    super::check(raw, None)
}

fn errors(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
    match check(parse(args, item).unwrap()) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn body_limit_needs_fields() {
    let errs = errors(
        quote!(auth = "none", body_limit = "1kb"),
        quote!(
            async fn f() {}
        ),
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("`body_limit` needs `fields`"), "{errs:?}");
    // A body without `fields` is reported once, by the `fields` rule.
    let errs = errors(
        quote!(auth = "none", body_limit = "1kb"),
        quote!(
            async fn f(Json(b): Json<B>) {}
        ),
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("declares no `fields`"), "{errs:?}");
}

#[test]
fn body_limit_with_fields() {
    let ep = check(
        parse(
            quote!(auth = "none", fields = ["a"], body_limit = "100kb"),
            quote!(
                async fn f(Json(b): Json<B>) {}
            ),
        )
        .unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    let limit = ep.body_limit.unwrap();
    assert_eq!((limit.bytes, limit.text.as_str()), (102_400, "100kb"));
}

#[test]
fn lifecycle_rules() {
    let f = quote!(
        async fn f() {}
    );
    let errs = errors(
        quote!(
            auth = "none",
            deprecated = "2026-06-30",
            sunset = "2026-06-29"
        ),
        f.clone(),
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("`sunset` (2026-06-29) is before `deprecated` (2026-06-30)"),
        "{errs:?}"
    );
    assert!(errors(
        quote!(
            auth = "none",
            deprecated = "2026-06-30",
            sunset = "2026-06-30"
        ),
        f.clone()
    )
    .is_empty());
    let errs = errors(quote!(auth = "none", successor = "/v2"), f.clone());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("`successor` needs `deprecated` or `sunset`"),
        "{errs:?}"
    );
    let errs = errors(
        quote!(auth = "none", sunset = "2026-12-31", sunset = "2027-01-01"),
        f.clone(),
    );
    assert_eq!(errs, ["duplicate key `sunset`; each key may appear once"]);
    let errs = errors(quote!(auth = "none", deprecated = 2026), f.clone());
    assert!(errs[0].contains("takes a date string"), "{errs:?}");

    let ep = check(
        parse(
            quote!(
                auth = "none",
                sunset = "2026-12-31",
                successor = "https://x.example/v2"
            ),
            f,
        )
        .unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    assert_eq!(ep.lifecycle.deprecated, None);
    assert_eq!(ep.lifecycle.sunset.map(|d| d.unix), Some(1_798_675_200));
    assert_eq!(
        ep.lifecycle.successor.map(|s| s.value()).as_deref(),
        Some("https://x.example/v2")
    );
}

fn strict_policy() -> PolicyFile {
    PolicyFile {
        path: "/org/secure-endpoint.toml".into(),
        rules: policy_file::parse(
            r#"
            [rules]
            require_rate = true
            public = { allow = ["health"], require_reason = true }
            max_rate = "1000/1m"
            require_owner_for_ids = true
            allowed_schemes = ["jwt", "api_key"]
            api_key_requires_scopes = true
            max_body_limit = "1mb"
            "#,
        )
        .unwrap(),
    }
}

fn policy_errors(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
    match super::check(parse(args, item).unwrap(), Some(&strict_policy())) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn policy_rules() {
    let f = quote!(
        async fn f() {}
    );
    let errs = policy_errors(quote!(auth = "jwt", allow = "authenticated"), f.clone());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("endpoint `f` has no `rate`, which the policy rule `require_rate` (in /org/secure-endpoint.toml) requires; add `rate = \"100/1m\"`, or waive it: `waive = [\"require_rate\"], reason = \"...\"`"), "{errs:?}");
    let errs = policy_errors(quote!(auth = "none", rate = "1/s"), f.clone());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].contains("lets only `health` be public"), "{errs:?}");
    assert!(errs[1].contains("without a `reason`"), "{errs:?}");
    let errs = policy_errors(
        quote!(auth = "jwt", allow = "authenticated", rate = "1001/1m"),
        f.clone(),
    );
    assert!(
        errs[0].contains(
            "rate `1001/1m` of endpoint `f` (16.68 requests/s) is above `1000/1m` (16.67/s)"
        ),
        "{errs:?}"
    );
    assert!(policy_errors(
        quote!(auth = "jwt", allow = "authenticated", rate = "16/1s"),
        f.clone()
    )
    .is_empty());
    let errs = policy_errors(
        quote!(auth = "jwt", roles = ["admin"], rate = "1/s"),
        quote!(
            async fn f(Path((org, doc_id)): Path<(u32, u32)>) {}
        ),
    );
    assert!(
        errs[0].contains("binds the id-like path parameter `doc_id`"),
        "{errs:?}"
    );
    let errs = policy_errors(
        quote!(auth = ["jwt", "hmac"], roles = ["a"], rate = "1/s"),
        f.clone(),
    );
    assert!(
        errs[0].contains("auth scheme `hmac` of endpoint `f` is not allowed"),
        "{errs:?}"
    );
    let errs = policy_errors(
        quote!(auth = "api_key", allow = "authenticated", rate = "1/s"),
        f.clone(),
    );
    assert!(
        errs[0].contains("accepts `api_key` but declares no `scopes`"),
        "{errs:?}"
    );
    let errs = policy_errors(
        quote!(
            auth = "jwt",
            roles = ["a"],
            rate = "1/s",
            fields = ["a"],
            body_limit = "2mb"
        ),
        quote!(
            async fn f(Json(b): Json<B>) {}
        ),
    );
    assert!(
        errs[0].contains("body limit `2mb` of endpoint `f` is above `1mb`"),
        "{errs:?}"
    );
}

#[test]
fn waivers() {
    let f = quote!(
        async fn f() {}
    );
    let ep = super::check(
        parse(
            quote!(
                auth = "jwt",
                allow = "authenticated",
                waive = ["require_rate"],
                reason = "internal"
            ),
            f.clone(),
        )
        .unwrap(),
        Some(&strict_policy()),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    assert_eq!(ep.waivers[0].value(), "require_rate");
    assert_eq!(ep.reason.unwrap().value(), "internal");
    assert!(policy_errors(
        quote!(
            auth = "none",
            rate = "1/s",
            waive = ["public"],
            reason = "status"
        ),
        f.clone()
    )
    .is_empty());
    let errs = errors(quote!(auth = "none", waive = ["require_rate"]), f.clone());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("a waiver needs a `reason`"), "{errs:?}");
    let errs = errors(
        quote!(auth = "none", waive = ["require_rates"], reason = "x"),
        f.clone(),
    );
    assert_eq!(
        errs,
        ["unknown policy rule `require_rates`; did you mean `require_rate`?"]
    );
    let errs = errors(quote!(auth = "none", reason = " "), f.clone());
    assert!(errs[0].starts_with("`reason` is empty"), "{errs:?}");
    let errs = errors(quote!(auth = "jwt", roles = ["a"], reason = "x"), f);
    assert!(
        errs[0].contains("explains a waiver or a public endpoint"),
        "{errs:?}"
    );
}

#[test]
fn flows() {
    let f = quote!(
        async fn f() {}
    );
    let ep = check(
        crate::syntax::parse(quote!(auth = "none", flow = "password_reset"), f.clone()).unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    assert_eq!(ep.flow.unwrap().value(), "password_reset");
    for bad in ["password reset", "login!", "1login", "", "connexión"] {
        let errs = errors(quote!(auth = "none", flow = #bad), f.clone());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("`flow` names a business flow with an identifier"),
            "{errs:?}"
        );
    }
    let errs = errors(quote!(auth = "none", flow = login), f.clone());
    assert_eq!(
        errs,
        ["`flow` takes a string naming the business flow: `flow = \"login\"`"]
    );
    let errs = errors(quote!(auth = "none", flwo = "login"), f);
    assert!(errs[0].contains("did you mean `flow`"), "{errs:?}");
}

#[test]
fn dpop_scheme_and_its_misspellings() {
    let sig = || {
        quote!(
            async fn f() {}
        )
    };
    assert!(errors(quote!(auth = "dpop", allow = "authenticated"), sig()).is_empty());
    assert!(errors(
        quote!(auth = ["jwt", "dpop"], allow = "authenticated"),
        sig()
    )
    .is_empty());
    for spelled in ["jwt+dpop", "DPoP", "bearer_dpop"] {
        let errs = errors(quote!(auth = #spelled, allow = "authenticated"), sig());
        assert!(
            errs.len() == 1 && errs[0].contains("`auth = [\"jwt\", \"dpop\"]` accepts"),
            "{errs:?}"
        );
    }
}

#[test]
fn all_errors_at_once() {
    let errs = errors(
        quote!(atuh = "jwt", rate = "x"),
        quote!(
            fn f(Json(b): Json<B>) {}
        ),
    );
    assert!(
        errs.iter().any(|e| e.contains("must be an `async fn`")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("did you mean `auth`")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("declares no `auth`")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("malformed rate")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("declares no `fields`")),
        "{errs:?}"
    );
}

#[test]
fn owner_must_be_bound_unless_loaded() {
    let errs = errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(Path(id): Path<u32>) {}
        ),
    );
    assert!(errs[0].contains("the handler binds `id`"), "{errs:?}");
    assert!(errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(Path((org, user_id)): Path<(u32, u32)>) {}
        )
    )
    .is_empty());
    assert!(errors(
        quote!(auth = "jwt", owner = "order_id", loader = Order),
        quote!(
            async fn f(Owned(o): Owned<Order>) {}
        )
    )
    .is_empty());
}

/// The owner's binding as the macro reads it from the signature.
fn binding(sig: proc_macro2::TokenStream) -> (usize, Option<String>, String) {
    let ep = check(parse(quote!(auth = "jwt", owner = "user_id"), sig).unwrap()).unwrap();
    let bind = ep.owner.unwrap().binding.unwrap();
    let kind = match bind.kind {
        BindKind::Single => "single".to_string(),
        BindKind::Position { index, arity } => format!("{index} of {arity}"),
        BindKind::Field(field) => format!("field {field}"),
    };
    (
        bind.arg,
        bind.access.map(|m| m.to_token_stream().to_string()),
        kind,
    )
}

#[test]
fn owner_binds_by_name_position_or_field() {
    assert_eq!(
        binding(quote!(
            async fn f(State(s): State<S>, Path(user_id): Path<String>) {}
        )),
        (1, None, "single".into())
    );
    assert_eq!(
        binding(quote!(
            async fn f(Path((org_id, user_id)): Path<(String, String)>) {}
        )),
        (0, Some("1".into()), "1 of 2".into())
    );
    assert_eq!(
        binding(quote!(
            async fn f(Path(((user_id), _, page)): Path<(String, u8, u32)>) {}
        )),
        (0, Some("0".into()), "0 of 3".into())
    );
    assert_eq!(
        binding(quote!(
            async fn f(Path(Ids(org_id, user_id)): Path<Ids>) {}
        )),
        (0, Some("1".into()), "1 of 2".into())
    );
    assert_eq!(
        binding(quote!(
            async fn f(Path(P { id: user_id, .. }): Path<P>) {}
        )),
        (0, Some("id".into()), "field id".into())
    );
}

#[test]
fn owner_bindings_that_cannot_be_mapped() {
    let errs = errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(Path((org_id, .., user_id)): Path<(u8, u8, u8)>) {}
        ),
    );
    assert!(
        errs[0].contains("`..` hides the position of `user_id`"),
        "{errs:?}"
    );
    let errs = errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(
                Path(Ids {
                    pair: (org_id, user_id),
                }): Path<Ids>,
            ) {
            }
        ),
    );
    assert!(errs[0].contains("bound inside a pattern"), "{errs:?}");
    let errs = errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(Path(P { user_id }): Path<P>, Path(user_id): Path<String>) {}
        ),
    );
    assert!(
        errs[0].contains("bound by two `Path` extractors"),
        "{errs:?}"
    );
    let errs = errors(
        quote!(auth = "jwt", owner = "user_id"),
        quote!(
            async fn f(Path(P { user_id }): PathAlias) {}
        ),
    );
    assert!(errs[0].contains("as `Path<Params>`"), "{errs:?}");
    // With a loader, a binding is optional but must be mappable too.
    let errs = errors(
        quote!(auth = "jwt", owner = "order_id", loader = Order),
        quote!(
            async fn f(Path((.., order_id)): Path<(u8, u8)>, Owned(o): Owned<Order>) {}
        ),
    );
    assert!(errs[0].contains("`..` hides"), "{errs:?}");
}

#[test]
fn public_contradictions() {
    let errs = errors(
        quote!(auth = "none", owner = "id", roles = ["a"]),
        quote!(
            async fn f(Path(id): Path<u32>) {}
        ),
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs
        .iter()
        .all(|e| e.contains("contradicts `auth = \"none\"`")));
}

#[test]
fn responses() {
    let ep = check(
        parse(
            quote!(auth = "none"),
            quote!(
                async fn f() -> Result<(StatusCode, Json<User>), Problem> {}
            ),
        )
        .unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    let texts: Vec<String> = ep.responses.iter().map(exposure::type_text).collect();
    assert_eq!(texts, ["User"]);
    let refused = |ret: proc_macro2::TokenStream| {
        errors(
            quote!(auth = "none"),
            quote!(
                async fn f() -> #ret {}
            ),
        )
    };
    let errs = refused(quote!(Json<Vec<User>>));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("top-level JSON array"), "{errs:?}");
    assert!(
        errs[0].contains("`Json<secure_endpoint::List<User>>`"),
        "{errs:?}"
    );
    assert!(refused(quote!(Option<axum::Json<&'static [u8]>>))[0].contains("List<u8>"));
    assert!(refused(quote!(Json<[User; 2]>))[0].contains("List<User>"));
    assert!(refused(quote!(Json<(u8, u8)>))[0].contains("tuple"));
    assert!(refused(quote!(Json<impl Serialize>))[0].contains("cannot be checked"));
    // Not inspected: the body is not `Json`.
    assert!(refused(quote!(impl IntoResponse)).is_empty());
    assert!(refused(quote!(Vec<u8>)).is_empty());
}

#[test]
fn graphql_takes_a_limits_constant_and_the_request_as_last_argument() {
    let ok = check(
        parse(
            quote!(
                auth = "jwt",
                allow = "authenticated",
                graphql = LIMITS,
                body_limit = "64kb"
            ),
            quote!(
                async fn f(State(s): State<S>, request: GraphQlRequest) -> String {
                    String::new()
                }
            ),
        )
        .unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    assert_eq!(ok.body_arg, Some(1));
    assert!(ok.graphql.is_some() && ok.fields.is_none());
    assert_eq!(ok.body_limit.as_ref().unwrap().bytes, 64 * 1024);

    let e = errors(
        quote!(
            auth = "jwt",
            allow = "authenticated",
            graphql = LIMITS,
            fields = ["query"]
        ),
        quote!(
            async fn f(request: GraphQlRequest) {}
        ),
    );
    assert!(
        e[0].contains("`fields` and `graphql` exclude each other"),
        "{e:?}"
    );
    let e = errors(
        quote!(auth = "jwt", allow = "authenticated", graphql = LIMITS),
        quote!(
            async fn f() {}
        ),
    );
    assert!(
        e[0].contains("needs the handler `f` to take the request"),
        "{e:?}"
    );
    let e = errors(
        quote!(auth = "jwt", allow = "authenticated", graphql = "LIMITS"),
        quote!(
            async fn f(request: GraphQlRequest) {}
        ),
    );
    assert!(
        e[0].contains("`graphql` takes a `GraphQlLimits` constant"),
        "{e:?}"
    );
    // Without `graphql`, the request is a body without a contract.
    let e = errors(
        quote!(auth = "jwt", allow = "authenticated"),
        quote!(
            async fn f(request: GraphQlRequest) {}
        ),
    );
    assert!(e[0].contains("declares no `fields`"), "{e:?}");
}

#[test]
fn valid_endpoint_checks() {
    let ep = check(
        parse(
            quote!(
                auth = ["jwt", "api_key"],
                roles = ["admin"],
                rate = "10/m",
                fields = ["a"]
            ),
            quote!(
                async fn f(State(s): State<S>, Json(b): Json<B>) -> String {
                    String::new()
                }
            ),
        )
        .unwrap(),
    )
    .map_err(|e| e.to_string())
    .unwrap();
    assert_eq!(ep.body_arg, Some(1));
    assert_eq!(ep.rate.as_ref().unwrap().period_secs, 60);
    assert!(ep.body_limit.is_none());
    assert!(ep.lifecycle.deprecated.is_none() && ep.lifecycle.sunset.is_none());
}

#[test]
fn the_public_rule_covers_optional_authentication() {
    let f = quote!(
        async fn feed(p: Option<Principal>) {}
    );
    let errs = policy_errors(quote!(auth = optional("jwt"), rate = "1/s"), f.clone());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].starts_with(
            "endpoint `feed` is reachable anonymously (`auth = optional(...)`), but the policy \
             rule `public`"
        ),
        "{errs:?}"
    );
    assert!(
        errs[1].contains("reachable anonymously (`auth = optional(...)`) without a `reason`"),
        "{errs:?}"
    );
    // Listed, with a reason; or waived.
    let health = quote!(
        async fn health(p: Option<Principal>) {}
    );
    assert!(policy_errors(
        quote!(auth = optional("jwt"), rate = "1/s", reason = "status"),
        health
    )
    .is_empty());
    assert!(policy_errors(
        quote!(
            auth = optional("jwt"),
            rate = "1/s",
            waive = ["public"],
            reason = "feed"
        ),
        f
    )
    .is_empty());
    // Without a policy file, a `reason` may explain why anyone may call it.
    assert!(errors(
        quote!(auth = optional("jwt"), reason = "a public feed"),
        quote!(
            async fn feed() {}
        )
    )
    .is_empty());
}

#[test]
fn an_optional_api_key_is_told_how_to_satisfy_the_scopes_rule() {
    let errs = policy_errors(
        quote!(
            auth = optional("api_key"),
            rate = "1/s",
            waive = ["public"],
            reason = "x"
        ),
        quote!(
            async fn f() {}
        ),
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains(
            "accepts `api_key` under optional authentication, which cannot declare `scopes`"
        ),
        "{errs:?}"
    );
    assert!(
        errs[0].contains("`auth = \"api_key\", scopes = [\"...\"]`"),
        "{errs:?}"
    );
    assert!(!errs[0].contains("add `scopes"), "{errs:?}");
}

/// `multipart = [...]`.
mod multipart {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::check::multipart::FRAMING_PER_PART;
    use crate::model::Endpoint;

    fn check(args: TokenStream, item: TokenStream) -> Result<Endpoint, Vec<String>> {
        crate::check::check(crate::syntax::parse(args, item).unwrap(), None)
            .map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        check(args, item).err().unwrap_or_default()
    }

    fn upload() -> TokenStream {
        quote!(
            async fn f(State(s): State<S>, form: MultipartForm) {}
        )
    }

    #[test]
    fn a_declared_upload_checks_and_gets_a_total_limit() {
        let ep = check(
            quote!(
                auth = "jwt",
                allow = "authenticated",
                multipart = [
                    part("file", types = ["image/png", "image/webp"], max = "1mb"),
                    part("caption", max = "1kb", optional)
                ]
            ),
            upload(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let parts = ep.multipart.as_ref().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].max, 1024 * 1024);
        assert_eq!(parts[0].types.len(), 2);
        assert!(!parts[0].optional && parts[1].optional && parts[1].types.is_empty());
        assert_eq!(ep.body_arg, Some(1));
        // The parts' `max` plus 4 KiB each.
        assert_eq!(
            ep.body_limit.as_ref().unwrap().bytes,
            1024 * 1024 + 1024 + 2 * FRAMING_PER_PART
        );
        // A written `body_limit` is the total.
        let ep = check(
            quote!(
                auth = "jwt",
                allow = "authenticated",
                multipart = [part("file", types = ["image/png"], max = "1mb")],
                body_limit = "2mb"
            ),
            upload(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ep.body_limit.unwrap().bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn malformed_parts_are_precise_errors() {
        let e = |parts: TokenStream| {
            errors(
                quote!(auth = "jwt", allow = "authenticated", multipart = #parts),
                upload(),
            )
        };
        assert!(e(quote!([]))
            .iter()
            .any(|m| m.contains("`multipart` is empty")));
        assert!(e(quote!(["file"]))
            .iter()
            .any(|m| m.contains("use `part(\"file\", max = \"...\")`")));
        assert!(e(quote!([part("file", types = ["image/png"])]))
            .iter()
            .any(|m| m.contains("part `file` declares no size limit")));
        assert!(e(quote!([part(
            "file",
            types = ["image/svg+xml"],
            max = "1mb"
        )]))
        .iter()
        .any(|m| m.contains("`image/svg+xml` cannot be recognised from a file's bytes")));
        assert!(e(quote!([part("file", types = [], max = "1mb")]))
            .iter()
            .any(|m| m.contains("`types` is empty")));
        assert!(
            e(quote!([part("file", tipes = ["image/png"], max = "1mb")]))
                .iter()
                .any(|m| m.contains("did you mean `types`"))
        );
        assert!(e(quote!([part("file", max = "1.5mb")]))
            .iter()
            .any(|m| m.contains("`max = \"1.5mb\"` of part `file` is refused")));
        assert!(e(quote!([part("a", max = "1kb"), part("a", max = "2kb")]))
            .iter()
            .any(|m| m.contains("part `a` is declared twice")));
        assert!(e(quote!([part("../x", max = "1kb")]))
            .iter()
            .any(|m| m.contains("a part name is 1 to 64 characters")));
        assert!(e(quote!([part("a", max = "1kb", optional = true)]))
            .iter()
            .any(|m| m.contains("`optional` takes no value")));
        assert!(e(quote!([file("a", max = "1kb")]))
            .iter()
            .any(|m| m.contains("write each part as")));
        assert!(e(quote!("file"))
            .iter()
            .any(|m| m.contains("`multipart` takes a list of parts")));
    }

    #[test]
    fn the_handler_must_take_the_declared_form() {
        let parts = quote!(multipart = [part("file", types = ["image/png"], max = "1mb")]);
        // No body argument at all.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", #parts),
            quote!(
                async fn f() {}
            ),
        );
        assert!(e.iter().any(|m| m.contains(
            "`multipart` needs the handler `f` to take the validated parts as its last argument"
        )));
        // axum's unchecked `Multipart`.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", #parts),
            quote!(
                async fn f(m: Multipart) {}
            ),
        );
        assert!(e
            .iter()
            .any(|m| m.contains("axum's `Multipart` reads parts unchecked")));
        // A JSON body instead.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", #parts),
            quote!(
                async fn f(Json(b): Json<B>) {}
            ),
        );
        assert!(e
            .iter()
            .any(|m| m.contains("`multipart` needs the handler")));
        // A multipart extractor without declared parts.
        for ty in [quote!(MultipartForm), quote!(axum::extract::Multipart)] {
            let e = errors(
                quote!(auth = "jwt", allow = "authenticated"),
                quote!(
                    async fn f(form: #ty) {}
                ),
            );
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(e[0].contains("reads a multipart body but declares no parts"));
        }
        // Another body form beside it.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", fields = ["a"], #parts),
            upload(),
        );
        assert!(e
            .iter()
            .any(|m| m.contains("`fields` and `multipart` exclude each other")));
        // A total smaller than a part.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", body_limit = "100kb", #parts),
            upload(),
        );
        assert!(e
            .iter()
            .any(|m| m.contains("is smaller than part `file`'s `max = \"1mb\"`")));
    }
}
