//! The parts of the endpoint's `const` policy that take more than a literal: the body's
//! description (with the function giving its schemas) and the lifecycle dates.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use crate::model::{Date, Endpoint, Lifecycle};

/// The policy's `BodySpec`, and the function giving the body and response types' schemas
/// (emitted only when the handler has such a type).
pub(super) fn body_spec(
    ep: &Endpoint,
    typed: &[&syn::PatType],
    private: &TokenStream,
) -> (TokenStream, TokenStream) {
    let crate::model::BodyDecl {
        form,
        nested,
        ignored,
    } = ep.body;
    let request = ep
        .fields
        .as_ref()
        .and(ep.body_arg)
        .and_then(|i| crate::fields::body_payload(&typed[i].ty));
    let response = ep.responses.first();
    if request.is_none() && response.is_none() {
        if !form && !nested && !ignored {
            return (quote!(#private::BodySpec::NONE), TokenStream::new());
        }
        return (
            quote!(#private::BodySpec { form: #form, nested: #nested, ignored: #ignored, schemas: ::core::option::Option::None }),
            TokenStream::new(),
        );
    }
    let schema = |ty: Option<&syn::Type>| match ty {
        None => quote!(::core::option::Option::None),
        Some(ty) => quote!(#private::schema_of!(#ty)),
    };
    let (request, response) = (schema(request), schema(response));
    let chosen = crate::fields::status_chosen(&ep.func.sig.output);
    let name = Ident::new("__secure_endpoint_schemas", Span::mixed_site());
    let func = quote! {
        #[allow(dead_code, clippy::all)]
        fn #name() -> #private::TypeSchemas {
            #private::TypeSchemas {
                request: #request,
                response: #response,
                any_success_status: #chosen,
            }
        }
    };
    (
        quote!(#private::BodySpec {
            form: #form,
            nested: #nested,
            ignored: #ignored,
            schemas: ::core::option::Option::Some(#private::Schemas(#name)),
        }),
        func,
    )
}

/// `Lifecycle::NONE`, or the literal with each date spelled out (its `unix` computed here).
pub(super) fn lifecycle(lifecycle: &Lifecycle, private: &TokenStream) -> TokenStream {
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
