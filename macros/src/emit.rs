//! Stage 3: [`Endpoint`] → tokens. The handler becomes a unit struct of the same name carrying a
//! `const` policy and an extraction wrapper; everything that enforces the policy is runtime code
//! under `::secure_endpoint::__private`.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ReturnType};

use crate::model::{Auth, Date, Endpoint, Lifecycle, Scheme};

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

pub(crate) fn emit(ep: Endpoint, policy: Option<&Path>) -> TokenStream {
    let track = track(policy);
    let private = quote!(::secure_endpoint::__private);
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
        Auth::Schemes(schemes) => {
            let schemes = schemes.iter().map(|s| match s {
                Scheme::Jwt => quote!(#private::AuthScheme::Jwt),
                Scheme::ApiKey => quote!(#private::AuthScheme::ApiKey),
                Scheme::Hmac => quote!(#private::AuthScheme::Hmac),
            });
            quote!(#private::Authentication::Required(&[#(#schemes),*]))
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
            quote!(::core::option::Option::Some(#private::Owner { param: #param, loader: #loader }))
        }
    };
    let rate = match &ep.rate {
        None => quote!(::core::option::Option::None),
        Some(rate) => {
            let (count, period) = (rate.count, rate.period_secs);
            quote!(::core::option::Option::Some(#private::RateSpec { count: #count, period_secs: #period }))
        }
    };
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
    let req = format_ident!("__secure_endpoint_req", span = Span::mixed_site());
    let state = format_ident!("__secure_endpoint_state", span = Span::mixed_site());
    let parts = format_ident!("__secure_endpoint_parts", span = Span::mixed_site());
    let body = format_ident!("__secure_endpoint_body", span = Span::mixed_site());

    let typed: Vec<&syn::PatType> = func
        .sig
        .inputs
        .iter()
        .filter_map(|a| {
            if let FnArg::Typed(t) = a {
                Some(t)
            } else {
                None
            }
        })
        .collect();
    let mut bounds = Vec::new();
    let mut extract = Vec::new();
    let mut arg_names = Vec::new();
    for (i, arg) in typed.iter().enumerate() {
        let ty = &arg.ty;
        let var = format_ident!("__secure_endpoint_arg{}", i, span = Span::mixed_site());
        if Some(i) == ep.body_arg {
            bounds.push(quote_spanned!(ty.span()=> #ty: #private::FromRequest<#s>));
            extract.push(quote_spanned! {ty.span()=>
                let #req = #private::Request::from_parts(#parts, #body);
                let #var = match <#ty as #private::FromRequest<#s>>::from_request(#req, &#state).await {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(rejection) => return #private::IntoResponse::into_response(rejection),
                };
            });
        } else {
            bounds.push(quote_spanned!(ty.span()=> #ty: #private::FromRequestParts<#s>));
            extract.push(quote_spanned! {ty.span()=>
                let #var = match <#ty as #private::FromRequestParts<#s>>::from_request_parts(&mut #parts, &#state).await {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(rejection) => return #private::IntoResponse::into_response(rejection),
                };
            });
        }
        arg_names.push(var);
    }
    if ep.body_arg.is_none() {
        // Keep `body` used so a handler without arguments compiles warning-free.
        extract.push(quote!(let _ = #body;));
    }

    // The user's function, unchanged, nested inside the wrapper.
    let inner_sig = &func.sig;
    let inner_block = &func.block;
    let ret_span = match &func.sig.output {
        ReturnType::Default => func.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    // "Fake return edge": an error about the return type points at the user's return type.
    let respond = quote_spanned! {ret_span=>
        #private::IntoResponse::into_response(#name(#(#arg_names),*).await)
    };

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
                quote_spanned!(loader.span()=> #loader: #private::OwnedResource<#s>,),
            )
        }
    };

    // Response safety: each `Json<T>` payload must be `SafeResponse`; the assertion carries the
    // payload's span, so the error points at `T` in the signature.
    let responses = if ep.responses.is_empty() {
        TokenStream::new()
    } else {
        let asserts = ep.responses.iter().map(|ty| {
            quote_spanned! {ty.span()=>
                ::secure_endpoint::__private::assert_safe_response::<#ty>();
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

    let doc_policy = policy_doc(&ep);
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
            #[automatically_derived]
            impl #private::SecureEndpoint for #name {
                const POLICY: &'static #private::EndpointPolicy = &#private::EndpointPolicy {
                    handler: #name_str,
                    auth: #auth,
                    authorization: #private::Authorization {
                        any_authenticated: #any_authenticated,
                        roles: &[#(#roles),*],
                        scopes: &[#(#scopes),*],
                        owner: #owner,
                    },
                    rate: #rate,
                    fields: #fields,
                    body_limit: #body_limit,
                    lifecycle: #lifecycle,
                    waivers: &[#(#waivers),*],
                    reason: #reason,
                    flow: #flow,
                };
            }

            #track

            #responses

            #[automatically_derived]
            impl<#s> #private::EndpointHandler<#s> for #name
            where
                #s: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
                #(#bounds,)*
                #loader_bound
            {
                #load_fn

                #[allow(clippy::manual_async_fn)]
                fn call(self, mut #parts: #private::Parts, #body: #private::Body, #state: #s)
                    -> impl ::core::future::Future<Output = #private::Response> + ::core::marker::Send
                {
                    #(#fn_attrs)*
                    #inner_sig #inner_block

                    async move {
                        #(#extract)*
                        #respond
                    }
                }
            }
        };
    }
}

/// `Lifecycle::NONE`, or the literal with each date spelled out (its `unix` computed here).
fn lifecycle(lifecycle: &Lifecycle, private: &TokenStream) -> TokenStream {
    let Lifecycle {
        deprecated,
        sunset,
        successor,
    } = lifecycle;
    if deprecated.is_none() && sunset.is_none() {
        return quote!(#private::Lifecycle::NONE);
    }
    let date = |date: &Option<Date>| match date {
        None => quote!(::core::option::Option::None),
        Some(Date {
            year,
            month,
            day,
            unix,
        }) => quote! {
            ::core::option::Option::Some(#private::LifecycleDate {
                year: #year, month: #month, day: #day, unix: #unix,
            })
        },
    };
    let (deprecated, sunset) = (date(deprecated), date(sunset));
    let successor = match successor {
        None => quote!(::core::option::Option::None),
        Some(url) => quote!(::core::option::Option::Some(#url)),
    };
    quote! {
        #private::Lifecycle {
            deprecated: #deprecated,
            sunset: #sunset,
            successor: #successor,
        }
    }
}

/// A one-line summary of the contract, appended to the endpoint's docs for reviewers.
fn policy_doc(ep: &Endpoint) -> String {
    let mut parts = Vec::new();
    parts.push(match &ep.auth {
        Auth::None => "**Security contract:** public (`auth = \"none\"`)".to_string(),
        Auth::Schemes(s) => format!(
            "**Security contract:** auth {}",
            s.iter()
                .map(|s| match s {
                    Scheme::Jwt => "`jwt`",
                    Scheme::ApiKey => "`api_key`",
                    Scheme::Hmac => "`hmac`",
                })
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    });
    if ep.any_authenticated {
        parts.push("any authenticated principal".into());
    }
    if !ep.roles.is_empty() {
        parts.push(format!("roles {}", list(&ep.roles)));
    }
    if !ep.scopes.is_empty() {
        parts.push(format!("scopes {}", list(&ep.scopes)));
    }
    if let Some(owner) = &ep.owner {
        parts.push(format!("owner `{}`", owner.param.value()));
    }
    if let Some(rate) = &ep.rate {
        parts.push(format!("rate `{}`", rate.text));
    }
    if let Some(fields) = &ep.fields {
        parts.push(format!("fields {}", list(fields)));
    }
    if let Some(limit) = &ep.body_limit {
        parts.push(format!("body limit `{}`", limit.text));
    }
    let Lifecycle {
        deprecated,
        sunset,
        successor,
    } = &ep.lifecycle;
    if let Some(date) = deprecated {
        parts.push(format!("deprecated {date}"));
    }
    if let Some(date) = sunset {
        parts.push(format!("sunset {date}"));
    }
    if let Some(url) = successor {
        parts.push(format!("successor `{}`", url.value()));
    }
    if !ep.waivers.is_empty() {
        parts.push(format!("waives {}", list(&ep.waivers)));
    }
    if let Some(reason) = &ep.reason {
        parts.push(format!("reason: {}", reason.value()));
    }
    if let Some(flow) = &ep.flow {
        parts.push(format!("flow `{}`", flow.value()));
    }
    parts.join("; ")
}

fn list(items: &[syn::LitStr]) -> String {
    items
        .iter()
        .map(|i| format!("`{}`", i.value()))
        .collect::<Vec<_>>()
        .join(", ")
}
