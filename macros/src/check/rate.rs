//! Abuse limits: `rate` (requests per period, per principal or client) and `flow` (the
//! business flow whose budgets the router applies).

use syn::LitStr;

use super::args::{value_tokens, Args};
use crate::ctxt::Ctxt;
use crate::model::{Rate, RawArg, RawValue, Typed};
use crate::notation::is_ident;
use crate::symbol::RATE;

/// `rate = "100/15m"`, if written and well formed.
pub(crate) fn check_rate(cx: &Ctxt, args: &Args<'_>) -> Option<Rate> {
    match args.typed(cx, RATE) {
        Some(Typed::Rate(rate)) => Some(rate.clone()),
        _ => None,
    }
}

/// `flow = "login"`: an identifier naming the business flow (the router's budgets are keyed
/// by it, and it shows in the inventory and in metrics), so `"password reset"` or `"login!"`
/// is refused.
pub(crate) fn check_flow(cx: &Ctxt, arg: &RawArg) -> Option<LitStr> {
    match &arg.value {
        RawValue::Str(s) if is_ident(&s.value()) && s.value().is_ascii() => Some(s.clone()),
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                format!(
                    "`flow` names a business flow with an identifier such as \"login\" or \
                     \"password_reset\" (ASCII letters, digits and `_`, not starting with a \
                     digit); {:?} is not one",
                    s.value()
                ),
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`flow` takes a string naming the business flow: `flow = \"login\"`",
            );
            None
        }
    }
}
