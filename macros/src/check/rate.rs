//! Abuse limits: `rate` (requests per period, per principal or client) and `flow` (the
//! business flow whose budgets the router applies).

use syn::LitStr;

use super::args::value_tokens;
use crate::ctxt::Ctxt;
use crate::model::{Rate, RawArg, RawValue};
use crate::notation::{is_ident, parse_rate};

/// `rate = "100/15m"`, if written and well formed.
pub(crate) fn check_rate(cx: &Ctxt, arg: Option<&RawArg>) -> Option<Rate> {
    arg.and_then(|arg| match &arg.value {
        RawValue::Str(s) => match parse_rate(&s.value()) {
            Ok((count, period_secs)) => Some(Rate {
                count,
                period_secs,
                text: s.value(),
            }),
            Err(why) => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "malformed rate `{}`: {why}; write `<count>/<period>` such as \
                         \"100/15m\", \"10/s\" or \"1000/1h\"",
                        s.value()
                    ),
                );
                None
            }
        },
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`rate` takes a string such as \"100/15m\"",
            );
            None
        }
    })
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
