//! The values that are one literal or one path: a rate, a size, a date, a link, a status, an
//! identifier, a keyword, some text, a type or constant. Each reader reports why its value
//! cannot be read and returns what it read.

use crate::ctxt::Ctxt;
use crate::model::{value_tokens, BodyForm, BodyLimit, Rate, RawValue, Typed};
use crate::notation::{
    check_successor, is_ident, parse_body_limit, parse_date, parse_rate, unknown,
};
use crate::symbol::{ALLOW_VALUES, BODY_VALUES};

/// `rate = "100/15m"`.
pub(super) fn rate(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    let RawValue::Str(s) = value else {
        cx.error_spanned_by(
            value_tokens(value),
            "`rate` takes a string such as \"100/15m\"",
        );
        return None;
    };
    match parse_rate(&s.value()) {
        Ok((count, period_secs)) => Some(Typed::Rate(Rate {
            count,
            period_secs,
            text: s.value(),
        })),
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
    }
}

/// `body_limit = "100kb"`.
pub(super) fn body_limit(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    let RawValue::Str(s) = value else {
        cx.error_spanned_by(
            value_tokens(value),
            "`body_limit` takes a string such as \"100kb\"",
        );
        return None;
    };
    match parse_body_limit(&s.value()) {
        Ok(bytes) => Some(Typed::BodyLimit(BodyLimit {
            bytes,
            text: s.value(),
        })),
        Err(err) => {
            cx.error_spanned_by(s, err.message(&s.value()));
            None
        }
    }
}

/// `deprecated` or `sunset = "2026-06-30"`.
pub(super) fn date(cx: &Ctxt, key: &str, value: &RawValue) -> Option<Typed> {
    let RawValue::Str(s) = value else {
        cx.error_spanned_by(
            value_tokens(value),
            format!("`{key}` takes a date string `YYYY-MM-DD`, such as \"2026-06-30\""),
        );
        return None;
    };
    match parse_date(&s.value()) {
        Ok(date) => Some(Typed::Date(date, s.clone())),
        Err(err) => {
            cx.error_spanned_by(s, err.message(key, &s.value()));
            None
        }
    }
}

/// `successor = "/api/v2/users/{user_id}"`.
pub(super) fn successor(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    let RawValue::Str(s) = value else {
        cx.error_spanned_by(
            value_tokens(value),
            "`successor` takes a string such as \"/api/v2/users/{user_id}\"",
        );
        return None;
    };
    match check_successor(&s.value()) {
        Ok(()) => Some(Typed::Successor(s.clone())),
        Err(why) => {
            cx.error_spanned_by(s, why);
            None
        }
    }
}

/// `owner_status = 403`: the status for another principal's resource, 403 or 404.
pub(super) fn owner_status(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Other(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        })) => match int.base10_parse::<u16>() {
            Ok(status @ (403 | 404)) if int.suffix().is_empty() => {
                return Some(Typed::OwnerStatus(status))
            }
            _ => cx.error_spanned_by(
                int,
                "`owner_status` is 404 (the default: another's resource looks like none at \
                 all) or 403 (where a published API specifies it)",
            ),
        },
        RawValue::Str(s) => cx.error_spanned_by(
            s,
            format!(
                "`owner_status` takes a number, not a string: `owner_status = {}`",
                s.value().trim()
            ),
        ),
        other => cx.error_spanned_by(
            value_tokens(other),
            "`owner_status` takes 403 or 404: `owner_status = 403`",
        ),
    }
    None
}

/// `allow = "authenticated"`.
pub(super) fn allow(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Str(s) if s.value() == "authenticated" => return Some(Typed::Authenticated),
        RawValue::Str(s) => {
            cx.error_spanned_by(s, unknown(&s.value(), "`allow` value", ALLOW_VALUES));
        }
        other => cx.error_spanned_by(
            value_tokens(other),
            "`allow` takes a string: `allow = \"authenticated\"`",
        ),
    }
    None
}

/// `owner = "user_id"`: the path parameter, an identifier.
pub(super) fn owner(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Str(s) if is_ident(&s.value()) => return Some(Typed::Ident(s.clone())),
        RawValue::Str(s) => cx.error_spanned_by(
            s,
            "`owner` names a path parameter, e.g. `owner = \"user_id\"`",
        ),
        other => cx.error_spanned_by(
            value_tokens(other),
            "`owner` takes a string: `owner = \"user_id\"`",
        ),
    }
    None
}

/// `flow = "login"`: an identifier naming the business flow (the router's budgets are keyed
/// by it, and it shows in the inventory and in metrics), so `"password reset"` or `"login!"`
/// is refused.
pub(super) fn flow(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Str(s) if is_ident(&s.value()) && s.value().is_ascii() => {
            return Some(Typed::Ident(s.clone()))
        }
        RawValue::Str(s) => cx.error_spanned_by(
            s,
            format!(
                "`flow` names a business flow with an identifier such as \"login\" or \
                 \"password_reset\" (ASCII letters, digits and `_`, not starting with a \
                 digit); {:?} is not one",
                s.value()
            ),
        ),
        other => cx.error_spanned_by(
            value_tokens(other),
            "`flow` takes a string naming the business flow: `flow = \"login\"`",
        ),
    }
    None
}

/// `reason = "..."`: not blank.
pub(super) fn reason(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Str(s) if !s.value().trim().is_empty() => return Some(Typed::Text(s.clone())),
        RawValue::Str(s) => cx.error_spanned_by(
            s,
            "`reason` is empty; say why this endpoint is an exception, for reviewers and the \
             inventory",
        ),
        other => cx.error_spanned_by(
            value_tokens(other),
            "`reason` takes a string such as \"status page, polled by the load balancer\"",
        ),
    }
    None
}

/// `body = "raw"` or `"ignored"`.
pub(super) fn body(cx: &Ctxt, value: &RawValue) -> Option<Typed> {
    match value {
        RawValue::Str(s) if BODY_VALUES.contains(&s.value().as_str()) => {
            Some(Typed::Body(if s.value() == "raw" {
                BodyForm::Raw
            } else {
                BodyForm::Ignored
            }))
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`body` takes \"raw\" (the handler takes the body unparsed, as `Bytes` or \
                 `String`) or \"ignored\" (a body may be sent; it is drained unread)",
            );
            None
        }
    }
}

/// `loader = Order` or `graphql = LIMITS`: a path; `expected` says what else is refused.
pub(super) fn path(cx: &Ctxt, value: &RawValue, expected: &str) -> Option<Typed> {
    match value {
        RawValue::Path(p) => Some(Typed::Path(p.clone())),
        other => {
            cx.error_spanned_by(value_tokens(other), expected);
            None
        }
    }
}
