//! The response: every `Json<T>` of the return type is a JSON object whose type is checked by
//! `SafeResponse` (no top-level array or tuple, no `impl Trait` that cannot be checked).

use syn::{Ident, ReturnType};

use crate::ctxt::Ctxt;
use crate::exposure::{self, TopLevelArray};

/// Every `T` of a `Json<T>` in `output`, each to be asserted `SafeResponse`; those that cannot
/// be are reported.
pub(crate) fn check(cx: &Ctxt, output: &ReturnType, name: &Ident) -> Vec<syn::Type> {
    let mut responses = Vec::new();
    if let ReturnType::Type(_, ty) = output {
        let mut payloads = Vec::new();
        exposure::json_payloads(ty, &mut payloads);
        for payload in payloads {
            match exposure::top_level_array(payload) {
                Some(TopLevelArray::Sequence(item)) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with a top-level JSON array, which is refused \
                         (JSON hijacking, and no room to add paging later); return \
                         `Json<secure_endpoint::List<{}>>` instead, built with \
                         `Json(List::new(items))`: it serializes as `{{\"data\": [...], \"count\": n}}`",
                        exposure::type_text(item)
                    ),
                ),
                Some(TopLevelArray::Tuple) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with a tuple, which serializes as a top-level \
                         JSON array and is refused; return a struct deriving `Serialize` and \
                         `SafeResponse` instead"
                    ),
                ),
                None if exposure::contains_impl_trait(payload) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with `Json<impl ...>`, which cannot be checked \
                         for data exposure; name a type deriving `Serialize` and `SafeResponse`"
                    ),
                ),
                None => responses.push(payload.clone()),
            }
        }
    }
    responses
}
