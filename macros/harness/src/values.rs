//! The oracle of the value notations: what the macro accepts is consistent, and agrees with
//! the runtime's own reading of it.

use std::time::Duration;

use secure_endpoint::policy::{LifecycleDate, RateSpec};

use crate::notation;

/// The largest `body_limit` (1 GiB) and rate period (366 days) the macro accepts.
pub(crate) const MAX_BODY_LIMIT: usize = 1 << 30;
pub(crate) const MAX_PERIOD_SECS: u64 = 366 * 86_400;

/// The value strings of the attribute, for arbitrary text: the rate, the body limit, the dates
/// and the successor are parsed or refused, never a panic; what is accepted is consistent and
/// agrees with the runtime (which prints rates, parses dates and builds the headers).
pub fn values(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    rate(text);
    body_limit(text);
    date(text);
    successor(text);
}

fn rate(text: &str) {
    let Ok((count, period_secs)) = notation::parse_rate(text) else {
        return;
    };
    assert!(count >= 1, "{text:?}: count {count}");
    assert!(
        (1..=MAX_PERIOD_SECS).contains(&period_secs),
        "{text:?}: period {period_secs} s"
    );
    assert!(
        text.chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || "+/secminhd".contains(c)),
        "{text:?} accepted with other characters"
    );
    // The runtime accepts the rate and prints it (inventory, RateLimit-Policy) in a notation
    // the macro parses back to the same rate.
    let spec = RateSpec::new(count, Duration::from_secs(period_secs));
    assert_eq!(spec, RateSpec { count, period_secs });
    assert_eq!(
        notation::parse_rate(&spec.to_string()),
        Ok((count, period_secs)),
        "{text:?} prints as {spec}"
    );
}

fn body_limit(text: &str) {
    let bytes = match notation::parse_body_limit(text) {
        Ok(bytes) => bytes,
        Err(err) => {
            assert!(!err.message(text).is_empty());
            return;
        }
    };
    assert!((1..=MAX_BODY_LIMIT).contains(&bytes), "{text:?}: {bytes}");
    // `<digits><unit>` and nothing else, the number times the unit.
    let at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(at);
    let unit: u128 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        other => panic!("{text:?} accepted with the unit {other:?}"),
    };
    let number: u128 = number.parse().expect("digits");
    assert_eq!(number * unit, bytes as u128, "{text:?}");
    // Every unit that divides the size says the same size.
    for (unit, size) in [("b", 1), ("kb", 1024), ("MB", 1024 * 1024)] {
        if bytes % size == 0 {
            let other = format!("{}{unit}", bytes / size);
            assert_eq!(notation::parse_body_limit(&other), Ok(bytes), "{other:?}");
        }
    }
}

fn date(text: &str) {
    match (notation::parse_date(text), LifecycleDate::parse(text)) {
        (Ok(ours), Some(runtime)) => {
            assert_eq!(
                (ours.year, ours.month, ours.day, ours.unix),
                (runtime.year, runtime.month, runtime.day, runtime.unix),
                "{text:?}"
            );
            assert_eq!(ours.to_string(), text);
            assert_eq!(runtime.to_string(), text);
            assert_eq!(ours.unix % 86_400, 0);
            // The headers the runtime builds from it (it would panic at start-up otherwise).
            http::HeaderValue::from_str(&runtime.http_date()).expect("an HTTP date");
        }
        (Err(_), None) => {}
        (ours, runtime) => {
            panic!("the macro and the runtime disagree on {text:?}: {ours:?} / {runtime:?}")
        }
    }
}

fn successor(text: &str) {
    if notation::check_successor(text).is_err() {
        return;
    }
    assert!(
        text.starts_with("https://") || (text.starts_with('/') && !text.starts_with("//")),
        "{text:?}"
    );
    // The runtime sends it as `Link: <successor>; rel="successor-version"`.
    let link = format!("<{text}>; rel=\"successor-version\"");
    assert!(
        http::HeaderValue::from_str(&link).is_ok(),
        "{text:?} is not a header value"
    );
}
