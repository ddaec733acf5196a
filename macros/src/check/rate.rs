//! Abuse limits: `rate` (requests per period, per principal or client) and `flow` (the
//! business flow whose budgets the router applies).

use syn::LitStr;

use super::args::Args;
use crate::ctxt::Ctxt;
use crate::model::{Rate, Typed};
use crate::symbol::{FLOW, RATE};

/// `rate = "100/15m"`, if written and well formed.
pub(crate) fn check_rate(cx: &Ctxt, args: &Args<'_>) -> Option<Rate> {
    match args.typed(cx, RATE) {
        Some(Typed::Rate(rate)) => Some(rate.clone()),
        _ => None,
    }
}

/// `flow = "login"`, if written and an identifier.
pub(crate) fn check_flow(cx: &Ctxt, args: &Args<'_>) -> Option<LitStr> {
    match args.typed(cx, FLOW) {
        Some(Typed::Ident(flow)) => Some(flow.clone()),
        _ => None,
    }
}
