//! Retirement: `deprecated` and `sunset` dates (in order) and the `successor` link, which is
//! sent only for an endpoint being retired.

use super::args::{value_tokens, Args};
use crate::ctxt::Ctxt;
use crate::model::{Lifecycle, RawValue};
use crate::notation::{check_successor, parse_date};
use crate::symbol::{DEPRECATED, SUCCESSOR, SUNSET};

/// The dates and the successor, each well formed, and consistent with each other.
pub(crate) fn check(cx: &Ctxt, args: &Args<'_>) -> Lifecycle {
    let get = |key: &str| args.get(key);
    let date = |key: &str| {
        get(key).and_then(|arg| match &arg.value {
            RawValue::Str(s) => match parse_date(&s.value()) {
                Ok(date) => Some((date, s)),
                Err(err) => {
                    cx.error_spanned_by(s, err.message(key, &s.value()));
                    None
                }
            },
            other => {
                cx.error_spanned_by(
                    value_tokens(other),
                    format!("`{key}` takes a date string `YYYY-MM-DD`, such as \"2026-06-30\""),
                );
                None
            }
        })
    };
    let deprecated = date(DEPRECATED);
    let sunset = date(SUNSET);
    if let (Some((deprecated, _)), Some((sunset, lit))) = (deprecated, sunset) {
        if sunset < deprecated {
            cx.error_spanned_by(
                lit,
                format!(
                    "`sunset` ({sunset}) is before `deprecated` ({deprecated}); an endpoint is \
                     deprecated first and removed later: set `sunset` to {deprecated} or after"
                ),
            );
        }
    }
    let successor = get(SUCCESSOR).and_then(|arg| match &arg.value {
        RawValue::Str(s) => match check_successor(&s.value()) {
            Ok(()) => Some(s.clone()),
            Err(why) => {
                cx.error_spanned_by(s, why);
                None
            }
        },
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`successor` takes a string such as \"/api/v2/users/{user_id}\"",
            );
            None
        }
    });
    if let (Some(arg), None, None) = (get(SUCCESSOR), get(DEPRECATED), get(SUNSET)) {
        cx.error_spanned_by(
            &arg.key,
            "`successor` needs `deprecated` or `sunset`: the successor-version link is sent only \
             for an endpoint that is being retired; add `deprecated = \"YYYY-MM-DD\"` or remove \
             `successor`",
        );
    }
    Lifecycle {
        deprecated: deprecated.map(|(date, _)| date),
        sunset: sunset.map(|(date, _)| date),
        successor,
    }
}
