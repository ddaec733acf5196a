//! Stage 2: [`Raw`] → [`Endpoint`]. The values arrive read in their notations (`syntax`);
//! here is their meaning: the default-deny contract and its cross-checks with the function
//! signature, one concern per file (as serde's `check.rs` reads), and the organisation's policy.
//! Every error is collected so the user sees all of them at once, in the order of the concerns
//! below; each concern reports the errors reading its keys' values in its turn.

mod args;
mod auth;
mod body;
mod lifecycle;
mod multipart;
mod organisation;
mod rate;
mod response;
mod signature;

pub(crate) use signature::typed_inputs;
#[cfg(test)]
mod tests;

use self::args::Args;
use self::organisation::PolicyInput;
use crate::ctxt::Ctxt;
use crate::model::{Endpoint, Owner, Raw};
use crate::policy_file::PolicyFile;

/// Checks the attribute against the contract, the function and the organisation's policy file
/// (if one applies); returns the validated endpoint.
pub(crate) fn check(raw: Raw, policy: Option<&PolicyFile>) -> syn::Result<Endpoint> {
    let cx = Ctxt::new();
    let Raw {
        attr_span,
        args: raw_args,
        func,
    } = raw;
    let name = func.sig.ident.clone();

    signature::check_function(&cx, &func.sig);
    let args = Args::new(&cx, &raw_args);
    let authz = auth::check(&cx, &args, attr_span, &name);
    let rate = rate::check_rate(&cx, &args);
    let inputs = signature::typed_inputs(&func.sig);
    let body = body::check(&cx, &args, &inputs, &name);
    let lifecycle = lifecycle::check(&cx, &args);
    let owner_bind = auth::check_owner(&cx, &args, &authz, &inputs, &name);
    auth::check_principal(&cx, &authz, &inputs);
    let responses = response::check(&cx, &func.sig.output, &name);
    let (waivers, reason) = organisation::check_waivers(&cx, &args, authz.auth.as_ref(), &name);
    let flow = rate::check_flow(&cx, &args);
    if let Some(policy) = policy {
        organisation::check_policy(
            &cx,
            policy,
            &PolicyInput {
                name: &name,
                auth: authz.auth.as_ref(),
                scheme_names: &authz.scheme_names,
                args: &args,
                rate: rate.as_ref(),
                body_limit: body.body_limit.as_ref(),
                inputs: &inputs,
                waivers: &waivers,
            },
        );
    }

    cx.check()?;
    Ok(Endpoint {
        func,
        auth: authz.auth.expect("checked above"),
        any_authenticated: authz.any_authenticated,
        roles: authz.roles,
        scopes: authz.scopes,
        owner: authz.owner_param.map(|param| Owner {
            param,
            loader: authz.loader,
            binding: owner_bind,
            status: authz.owner_status,
        }),
        rate,
        fields: body.fields,
        body_limit: body.body_limit,
        raw_body: body.raw_body,
        graphql: body.graphql,
        multipart: body.multipart,
        lifecycle,
        body_arg: body.body_arg,
        responses,
        waivers,
        reason,
        flow,
        body: body.decl,
    })
}
