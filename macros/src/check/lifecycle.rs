//! Retirement: `deprecated` and `sunset` dates (in order) and the `successor` link, which is
//! sent only for an endpoint being retired. The values were read at parse time.

use super::args::Args;
use crate::ctxt::Ctxt;
use crate::model::{Lifecycle, Typed};
use crate::symbol::{DEPRECATED, SUCCESSOR, SUNSET};

/// The dates and the successor, each well formed, and consistent with each other.
pub(crate) fn check(cx: &Ctxt, args: &Args<'_>) -> Lifecycle {
    let get = |key: &str| args.get(key);
    let date = |key: &str| match args.typed(cx, key) {
        Some(Typed::Date(date, lit)) => Some((*date, lit)),
        _ => None,
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
    let successor = match args.typed(cx, SUCCESSOR) {
        Some(Typed::Successor(link)) => Some(link.clone()),
        _ => None,
    };
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
