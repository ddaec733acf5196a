//! Stage 3: [`Endpoint`] → tokens. The handler becomes a unit struct of the same name carrying a
//! `const` policy and an extraction wrapper; the user's function, unchanged, becomes its
//! associated function `handler` (callable: `show_user::handler(...)`). Everything that enforces
//! the policy is runtime code under `::secure_endpoint::__private`.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ReturnType};

use crate::model::{Auth, BindKind, Endpoint, Scheme};

mod handler;
mod policy;

use handler::names_a_lifetime;
use policy::{body_spec, lifecycle};

/// The item emitted when the attribute is wrong: the errors, plus a unit struct of the same
/// name that implements nothing, so the handler can never be routed unenforced and uses of
/// the name do not cascade into unrelated "cannot find value" errors.
pub(crate) fn unroutable(
    item: &TokenStream,
    err: syn::Error,
    policy: Option<&Path>,
) -> TokenStream {
    let errors = err.to_compile_error();
    let track = track(policy);
    match crate::syntax::parse_fn(item.clone()) {
        // A method: the macro's error alone (a struct cannot stand in an impl block).
        Ok(func) if func.sig.receiver().is_some() => errors,
        Ok(mut func) => {
            let vis = func.vis.clone();
            let name = func.sig.ident.clone();
            let cfgs: Vec<_> = func
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("cfg"))
                .cloned()
                .collect();
            // The original fn stays, under a hidden name, so what it uses is still used (no
            // cascade of unused-import warnings) and IDEs keep working; nothing routes it.
            func.sig.ident =
                format_ident!("__secure_endpoint_unroutable_{}", name, span = name.span());
            func.vis = syn::Visibility::Inherited;
            quote! {
                #errors
                #track
                #(#cfgs)*
                #[allow(non_camel_case_types, dead_code)]
                #vis struct #name;
                #[allow(dead_code, non_snake_case, clippy::all)]
                #func
            }
        }
        Err(_) => errors,
    }
}

/// `include_bytes!` of the policy file, so that editing it recompiles the crate.
pub(crate) fn track(policy: Option<&Path>) -> TokenStream {
    match policy.and_then(Path::to_str) {
        None => TokenStream::new(),
        Some(path) => quote! {
            const _: &[u8] = ::core::include_bytes!(#path);
        },
    }
}

/// The one path generated code names the runtime by: its hidden `__private` module, spanned
/// at `span` (the user's token an error should point at, or the call site).
pub(crate) fn private(span: Span) -> TokenStream {
    quote_spanned!(span=> ::secure_endpoint::__private)
}

pub(crate) fn emit(ep: Endpoint, policy: Option<&Path>) -> TokenStream {
    let track = track(policy);
    let private = private(Span::call_site());
    let func = &ep.func;
    let vis = &func.vis;
    let name = ep.name();
    let name_str = name.to_string();

    let (struct_attrs, fn_attrs): (Vec<_>, Vec<_>) = func
        .attrs
        .iter()
        .partition(|a| a.path().is_ident("doc") || a.path().is_ident("deprecated"));
    let cfgs: Vec<_> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    let fn_attrs: Vec<_> = fn_attrs
        .into_iter()
        .filter(|a| !a.path().is_ident("cfg"))
        .collect();

    // ---- the policy ------------------------------------------------------------------------
    let auth = match &ep.auth {
        Auth::None => quote!(#private::Authentication::Public),
        Auth::Schemes(schemes) | Auth::Optional(schemes) => {
            let schemes = schemes.iter().map(|s| match s {
                Scheme::Jwt => quote!(#private::AuthScheme::Jwt),
                Scheme::ApiKey => quote!(#private::AuthScheme::ApiKey),
                Scheme::Hmac => quote!(#private::AuthScheme::Hmac),
                Scheme::Signature => quote!(#private::AuthScheme::Signature),
                Scheme::GithubWebhook => quote!(#private::AuthScheme::GithubWebhook),
                Scheme::StripeWebhook => quote!(#private::AuthScheme::StripeWebhook),
                Scheme::StandardWebhook => quote!(#private::AuthScheme::StandardWebhook),
                Scheme::Dpop => quote!(#private::AuthScheme::Dpop),
                Scheme::Mtls => quote!(#private::AuthScheme::Mtls),
            });
            match &ep.auth {
                Auth::Optional(_) => quote!(#private::Authentication::Optional(&[#(#schemes),*])),
                _ => quote!(#private::Authentication::Required(&[#(#schemes),*])),
            }
        }
    };
    let any_authenticated = ep.any_authenticated;
    let roles = &ep.roles;
    let scopes = &ep.scopes;
    let owner = match &ep.owner {
        None => quote!(::core::option::Option::None),
        Some(owner) => {
            let param = &owner.param;
            let loader = match &owner.loader {
                None => quote!(::core::option::Option::None),
                Some(path) => {
                    let text = path
                        .segments
                        .iter()
                        .map(|s| s.ident.to_string())
                        .collect::<Vec<_>>()
                        .join("::");
                    quote!(::core::option::Option::Some(#text))
                }
            };
            let binding = match owner.binding.as_ref().map(|b| &b.kind) {
                None => quote!(#private::OwnerBinding::Unbound),
                Some(BindKind::Single) => quote!(#private::OwnerBinding::Single),
                Some(BindKind::Position { index, arity }) => {
                    quote!(#private::OwnerBinding::Position { index: #index, arity: #arity })
                }
                Some(BindKind::Field(field)) => {
                    let field = field.to_string();
                    quote!(#private::OwnerBinding::Field { field: #field })
                }
            };
            let denial = match owner.status {
                None => quote!(::core::option::Option::None),
                Some(403) => quote!(::core::option::Option::Some(#private::OwnerDenial::Forbidden)),
                Some(_) => quote!(::core::option::Option::Some(#private::OwnerDenial::NotFound)),
            };
            quote!(::core::option::Option::Some(
                #private::OwnerBuilder::new(#param, #binding)
                    .loader(#loader)
                    .denial(#denial)
                    .build()
            ))
        }
    };
    let rate = match &ep.rate {
        None => quote!(::core::option::Option::None),
        Some(rate) => {
            let (count, period) = (rate.count, rate.period_secs);
            quote!(::core::option::Option::Some(#private::RateSpec { count: #count, period_secs: #period }))
        }
    };
    let raw_body = ep.raw_body;
    let fields = match &ep.fields {
        None => quote!(::core::option::Option::None),
        Some(fields) => quote!(::core::option::Option::Some(&[#(#fields),*])),
    };
    let body_limit = match &ep.body_limit {
        None => quote!(::core::option::Option::None),
        Some(limit) => {
            let bytes = limit.bytes;
            quote!(::core::option::Option::Some(#bytes))
        }
    };
    let graphql = match &ep.graphql {
        None => quote!(::core::option::Option::None),
        Some(limits) => quote_spanned!(limits.span()=> ::core::option::Option::Some(&#limits)),
    };
    let multipart = match &ep.multipart {
        None => quote!(::core::option::Option::None),
        Some(parts) => {
            let parts = crate::multipart::emit(parts, &private);
            quote!(::core::option::Option::Some(#parts))
        }
    };
    let lifecycle = lifecycle(&ep.lifecycle, &private);
    let waivers = &ep.waivers;
    let reason = match &ep.reason {
        None => quote!(::core::option::Option::None),
        Some(reason) => quote!(::core::option::Option::Some(#reason)),
    };
    let flow = match &ep.flow {
        None => quote!(::core::option::Option::None),
        Some(flow) => quote!(::core::option::Option::Some(#flow)),
    };

    // ---- extraction, as axum's `impl_handler!` does it, with the argument types as written ----
    let s = format_ident!("__S", span = Span::mixed_site());
    let state = format_ident!("__secure_endpoint_state", span = Span::mixed_site());
    let stage = format_ident!("__secure_endpoint_stage", span = Span::mixed_site());
    let life = syn::Lifetime::new("'__secure_endpoint_a", Span::mixed_site());
    let g = format_ident!("__G", span = Span::mixed_site());

    let typed = crate::check::typed_inputs(&func.sig);
    let mut bounds = Vec::new();
    let mut extract = Vec::new();
    let mut arg_names = Vec::new();
    // Ownership by path parameter, on the value the handler binds: its `Path` is extracted
    // first and compared with the principal's subject, before the body is read and before
    // the other extractors run. With a loader, the loader has established ownership already.
    let owner_bind = ep
        .owner
        .as_ref()
        .filter(|o| o.loader.is_none())
        .and_then(|o| o.binding.as_ref());
    let mut owner_first = TokenStream::new();
    for (i, arg) in typed.iter().enumerate() {
        let ty = &arg.ty;
        let var = format_ident!("__secure_endpoint_arg{}", i, span = Span::mixed_site());
        if Some(i) == ep.body_arg {
            bounds.push(quote_spanned!(ty.span()=> #ty: #private::FromRequest<#s>));
            extract.push(quote_spanned! {ty.span()=>
                let #var = match #private::extract_request::<#ty, #s, #g>(#stage, &#state).await {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(response) => return response,
                };
            });
        } else {
            bounds.push(quote_spanned!(ty.span()=> #ty: #private::FromRequestParts<#s>));
            let extraction = quote_spanned! {ty.span()=>
                let #var = match #private::extract_parts::<#ty, #s, #g>(&mut #stage, &#state).await {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(response) => return response,
                };
            };
            match owner_bind {
                Some(bind) if bind.arg == i => {
                    let access = bind.access.iter();
                    // Located at the extractor's type, same hygiene: a type that cannot be
                    // compared (no `Display`) is reported there.
                    let at = Span::mixed_site().located_at(ty.span());
                    let value = Ident::new(&var.to_string(), at);
                    let shown = quote_spanned! {ty.span()=>
                        #private::owner_value(&#value.0 #(.#access)*)
                    };
                    owner_first = quote! {
                        #extraction
                        if let ::core::option::Option::Some(response) = #private::Stage::refuse_owner(&#stage, #shown) {
                            return response;
                        }
                    };
                }
                _ => extract.push(extraction),
            }
        }
        arg_names.push(var);
    }
    if ep.body_arg.is_none() {
        // The request is dropped with the stage: no extractor consumes it.
    }
    // The body, allowlisted (or refused when the endpoint takes none), after ownership and
    // before the other extractors, which is the order the pipeline promises.
    let read_body = quote! {
        if let ::core::result::Result::Err(response) = #private::Stage::read_body(&mut #stage).await {
            return response;
        }
    };

    // The user's function, unchanged, nested in the endpoint's associated function `handler`,
    // which only calls it: so it stays callable (by other handlers, by unit tests), and,
    // nested, its name shadows the endpoint's in its own body as it did before the attribute
    // (in `fn order`, `let order = ...` binds a value; at module level `order` would be the
    // endpoint's unit struct, and the pattern would not compile).
    let inner_sig = &func.sig;
    let inner_block = &func.block;
    let output = &func.sig.output;
    let handler_params = typed.iter().zip(&arg_names).map(|(arg, var)| {
        let ty = &arg.ty;
        quote!(#var: #ty)
    });
    let ret_span = match &func.sig.output {
        ReturnType::Default => func.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    // "Fake return edge": an error about the return type points at the user's return type.
    let respond = quote_spanned! {ret_span=>
        #private::IntoResponse::into_response(Self::handler(#(#arg_names),*).await)
    };
    // `handler` returns the function's own future, not an `async` block awaiting it: one state
    // machine per endpoint instead of two, which rustc type-checks and generates once
    // (compile time, BENCHMARKS.md section 4). Where the signature names a lifetime (a
    // reference, `impl Trait` in an argument, generics), an `impl Future` return would have
    // to say what it captures, which depends on the edition: `handler` stays an `async fn`.
    let (handler_sig, await_inner) = if names_a_lifetime(&func.sig) {
        (
            quote!(#vis async fn handler(#(#handler_params),*) #output),
            quote!(.await),
        )
    } else {
        let out = match output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        (
            quote!(#vis fn handler(#(#handler_params),*) -> impl ::core::future::Future<Output = #out>),
            TokenStream::new(),
        )
    };
    let handler_doc = format!(
        "The function `{name_str}` as written, callable directly (from another handler, from a \
         unit test): `{name_str}::handler(...)`. A direct call runs none of the contract: route \
         `{name_str}` to have it enforced."
    );

    let (load_fn, loader_bound) = match ep
        .owner
        .as_ref()
        .and_then(|o| o.loader.as_ref().map(|l| (o, l)))
    {
        None => (TokenStream::new(), TokenStream::new()),
        Some((owner, loader)) => {
            let param = &owner.param;
            (
                quote! {
                    fn load<'a>(
                        parts: &'a mut #private::Parts,
                        state: &'a #s,
                        principal: &'a #private::Principal,
                    ) -> impl ::core::future::Future<Output = ::core::result::Result<(), #private::Response>> + ::core::marker::Send + 'a {
                        #private::load_owned::<#loader, #s>(parts, state, principal, #param)
                    }
                },
                quote_spanned!(loader.span()=> #loader: #private::LoadOwned<#s>,),
            )
        }
    };

    // Response safety: each `Json<T>` payload must be `SafeResponse`; the assertion carries the
    // payload's span, so the error points at `T` in the signature.
    let responses = if ep.responses.is_empty() {
        TokenStream::new()
    } else {
        let asserts = ep.responses.iter().map(|ty| {
            let private = self::private(ty.span());
            quote_spanned! {ty.span()=>
                #private::assert_safe_response::<#ty>();
            }
        });
        let check = Ident::new("__secure_endpoint_safe_response", Span::mixed_site());
        quote! {
            #[allow(dead_code, clippy::all)]
            fn #check() {
                #(#asserts)*
            }
        }
    };

    // A struct binding: the router reads which route parameter fills the field (its serde
    // name) when the route is registered.
    let owner_field = match ep.owner.as_ref().and_then(|o| o.binding.as_ref()) {
        Some(bind) => match (&bind.kind, &bind.inner) {
            (BindKind::Field(field), Some(inner)) => {
                let name = field.to_string();
                quote_spanned! {field.span()=>
                    fn owner_field_param() -> ::core::option::Option<&'static str> {
                        #private::owner_field_param::<#inner>(#name, |value: &#inner| {
                            ::std::string::ToString::to_string(&value.#field)
                        })
                    }
                }
            }
            _ => TokenStream::new(),
        },
        None => TokenStream::new(),
    };

    let (body_spec, schemas_fn) = body_spec(&ep, &typed, &private);
    let doc_policy = crate::doc::policy_doc(&ep);
    quote! {
        #(#struct_attrs)*
        #[doc = ""]
        #[doc = #doc_policy]
        #(#cfgs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #(#cfgs)*
        const _: () = {
            // Inside the anonymous const: where the attribute is misplaced (a function in an
            // `impl` block), it adds no error of its own to the const's.
            impl #name {
                #[doc = #handler_doc]
                #handler_sig {
                    #(#fn_attrs)*
                    #inner_sig #inner_block

                    #name(#(#arg_names),*)#await_inner
                }
            }

            #[automatically_derived]
            impl #private::SecureEndpoint for #name {
                // Built, not written as a struct literal: the policy types are
                // `#[non_exhaustive]`, so that they can grow.
                const POLICY: &'static #private::EndpointPolicy =
                    &#private::PolicyBuilder::new(#name_str, #auth)
                        .authorization(
                            #private::AuthorizationBuilder::new()
                                .any_authenticated(#any_authenticated)
                                .roles(&[#(#roles),*])
                                .scopes(&[#(#scopes),*])
                                .owner(#owner)
                                .build(),
                        )
                        .rate(#rate)
                        .fields(#fields)
                        .body_limit(#body_limit)
                        .raw_body(#raw_body)
                        .graphql(#graphql)
                        .multipart(#multipart)
                        .lifecycle(#lifecycle)
                        .waivers(&[#(#waivers),*])
                        .reason(#reason)
                        .flow(#flow)
                        .body(#body_spec)
                        .build();

                #owner_field
            }

            #track

            #responses

            #schemas_fn

            #[automatically_derived]
            impl<#s> #private::EndpointHandler<#s> for #name
            where
                #s: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
                #(#bounds,)*
                #loader_bound
            {
                #load_fn

                #[allow(clippy::manual_async_fn)]
                fn call<#life, #g: #private::Stage + #life>(
                    #state: #s,
                    mut #stage: #g,
                ) -> impl ::core::future::Future<Output = #private::Response> + ::core::marker::Send + #life
                where
                    #s: #life,
                {
                    async move {
                        #owner_first
                        #read_body
                        #(#extract)*
                        #respond
                    }
                }
            }
        };
    }
}
