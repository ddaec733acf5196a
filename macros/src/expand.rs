//! The attribute's whole pipeline, [`syntax`](crate::syntax) → [`check`](crate::check) →
//! [`emit`](crate::emit), once the policy file is looked up. `lib.rs` looks it up (that needs a
//! live macro call) and calls [`secure_endpoint`]; the fuzz targets and the corpus replay call
//! the same two functions through `macros/harness`, with a policy file of their own.

use proc_macro2::TokenStream;

use crate::model::Endpoint;
use crate::policy_file::Lookup;
use crate::{check, emit, syntax};

/// What `#[secure_endpoint(args)] item` expands to under `lookup`: the endpoint, or the errors
/// and an item that cannot be routed.
pub(crate) fn secure_endpoint(
    args: TokenStream,
    item: TokenStream,
    lookup: &Lookup,
) -> TokenStream {
    let tracked = lookup.path();
    // Too deep to parse safely: the error alone (building the unroutable stand-in parses the
    // signature too).
    if let Err(err) = nesting(&args, &item) {
        let mut errors = err.to_compile_error();
        errors.extend(emit::track(tracked));
        return errors;
    }
    match endpoint(args, item.clone(), lookup) {
        Ok(endpoint) => emit::emit(endpoint, tracked),
        Err(err) => emit::unroutable(&item, err, tracked),
    }
}

/// The attribute's arguments and the item, body aside, within [`syntax::MAX_NESTING`].
fn nesting(args: &TokenStream, item: &TokenStream) -> syn::Result<()> {
    syntax::check_nesting(args, false)?;
    syntax::check_nesting(item, true)
}

/// Stages 1 and 2: the checked endpoint, or every error (a broken policy file's first).
pub(crate) fn endpoint(
    args: TokenStream,
    item: TokenStream,
    lookup: &Lookup,
) -> syn::Result<Endpoint> {
    nesting(&args, &item)?;
    let parsed = syntax::parse(args, item)?;
    let (policy, broken) = match lookup {
        Lookup::None => (None, None),
        Lookup::Found(file) => (Some(&**file), None),
        // Reported at the attribute, together with the endpoint's own errors.
        Lookup::Broken(_, message) => (None, Some(syn::Error::new(parsed.attr_span, message))),
    };
    match (check::check(parsed, policy), broken) {
        (Ok(endpoint), None) => Ok(endpoint),
        (Ok(_), Some(err)) | (Err(err), None) => Err(err),
        (Err(err), Some(mut broken)) => {
            broken.combine(err);
            Err(broken)
        }
    }
}
