//! The declared parts of an upload (`multipart = [...]`, read in `syntax::parts` and checked in
//! `check::multipart`) as generated code: the runtime's `PartSpec`s and the endpoint's doc line.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::model::Part;

/// `&[PartSpec { .. }, ...]` for the policy.
pub(crate) fn emit(parts: &[Part], private: &TokenStream) -> TokenStream {
    let parts = parts.iter().map(|p| {
        let (name, types, max, optional) = (&p.name, &p.types, p.max, p.optional);
        quote! {
            #private::PartSpec { name: #name, types: &[#(#types),*], max: #max, optional: #optional }
        }
    });
    quote!(&[#(#parts),*])
}

/// `multipart `file` (image/png, image/jpeg; ≤ 1mb)` for the endpoint's docs.
pub(crate) fn doc(parts: &[Part]) -> String {
    let listed: Vec<String> = parts
        .iter()
        .map(|p| {
            let kind = if p.types.is_empty() {
                "text".to_owned()
            } else {
                p.types
                    .iter()
                    .map(LitStr::value)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let optional = if p.optional { ", optional" } else { "" };
            format!("`{}` ({kind}; ≤ {}{optional})", p.name.value(), p.max_text)
        })
        .collect();
    format!("multipart {}", listed.join(", "))
}
