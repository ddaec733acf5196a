//! Value notations, read from text: rates (`"100/15m"`), sizes (`"100kb"`), dates
//! (`"2026-06-30"`), `successor` links, identifiers, and the "did you mean" of an unknown name.
//!
//! A leaf: the attribute's values (read at parse time, in `syntax`) and the policy file are all
//! read with these functions, and nothing here knows about keys or endpoints.

use crate::model::Date;

/// "unknown key `atuh`; did you mean `auth`?" (or the list of what is accepted).
pub(crate) fn unknown(got: &str, what: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(got, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, k)) => format!("unknown {what} `{got}`; did you mean `{k}`?"),
        None => format!(
            "unknown {what} `{got}`; expected one of {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Levenshtein distance on chars (inputs are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `"100/15m"` → (100, 900). Units: s, m, h, d, with an optional multiplier.
pub(crate) fn parse_rate(text: &str) -> Result<(u32, u64), &'static str> {
    let (count, period) = text.split_once('/').ok_or("missing `/`")?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| "the count is not a whole number")?;
    if count == 0 {
        return Err("the count must be at least 1");
    }
    let period = period.trim();
    let unit_at = period
        .find(|c: char| !c.is_ascii_digit())
        .ok_or("the period has no unit (s, m, h or d)")?;
    let (n, unit) = period.split_at(unit_at);
    let n: u64 = if n.is_empty() {
        1
    } else {
        n.parse().map_err(|_| "the period is not a whole number")?
    };
    if n == 0 {
        return Err("the period must be at least 1");
    }
    let unit_secs = match unit {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("the unit must be s, m, h or d"),
    };
    let secs = n.checked_mul(unit_secs).ok_or("the period is too long")?;
    if secs > 366 * 86_400 {
        return Err("the period is longer than a year");
    }
    Ok((count, secs))
}

/// The largest `body_limit`: 1 GiB.
const MAX_BODY_LIMIT: u64 = 1024 * 1024 * 1024;

/// Why a `body_limit` value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLimitError {
    Malformed(&'static str),
    Zero,
    TooLarge,
}

impl BodyLimitError {
    pub(crate) fn message(&self, text: &str) -> String {
        match self {
            BodyLimitError::Malformed(why) => format!(
                "malformed body limit `{}`: {why}; write `<number><unit>` such as \"100kb\", \
                 \"2mb\" or \"512b\" (units b, kb = 1024 b, mb = 1024 kb)",
                text.escape_debug()
            ),
            BodyLimitError::Zero => format!(
                "body limit `{text}` admits no body at all; write at least \"1b\", or remove \
                 `fields` and `body_limit` if the endpoint takes no body"
            ),
            BodyLimitError::TooLarge => format!(
                "body limit `{text}` is more than 1 GiB, the largest body the endpoint may \
                 buffer; write at most \"1024mb\""
            ),
        }
    }
}

/// `"100kb"` → 102 400. Units `b`, `kb`, `mb` (any case, binary multiples); 1 byte to 1 GiB.
pub(crate) fn parse_body_limit(text: &str) -> Result<usize, BodyLimitError> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    if number.is_empty() {
        return Err(BodyLimitError::Malformed(
            "it does not start with a whole number",
        ));
    }
    let unit_bytes: u64 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        "" => return Err(BodyLimitError::Malformed("the unit is missing")),
        u if matches!(u.trim(), "b" | "kb" | "mb") => {
            return Err(BodyLimitError::Malformed(
                "there is a space between the number and the unit",
            ))
        }
        u if u.starts_with(['.', ',']) => {
            return Err(BodyLimitError::Malformed(
                "the number must be whole (\"1536kb\", not \"1.5mb\")",
            ))
        }
        _ => return Err(BodyLimitError::Malformed("the unit must be b, kb or mb")),
    };
    // Only digits, so a failed parse is an overflow.
    let number: u64 = number.parse().map_err(|_| BodyLimitError::TooLarge)?;
    let bytes = number
        .checked_mul(unit_bytes)
        .ok_or(BodyLimitError::TooLarge)?;
    if bytes == 0 {
        return Err(BodyLimitError::Zero);
    }
    if bytes > MAX_BODY_LIMIT {
        return Err(BodyLimitError::TooLarge);
    }
    usize::try_from(bytes).map_err(|_| BodyLimitError::TooLarge)
}

/// Why a `deprecated` or `sunset` value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DateError {
    /// Not `YYYY-MM-DD`.
    Malformed,
    /// A year before 1970 or after 9999.
    OutOfRange,
    /// The right shape, but no such day: the reason.
    NoSuchDate(String),
}

impl DateError {
    pub(crate) fn message(&self, key: &str, text: &str) -> String {
        match self {
            DateError::Malformed => format!(
                "malformed `{key}` date `{}`: write `YYYY-MM-DD`, such as \"2026-06-30\"",
                text.escape_debug()
            ),
            DateError::OutOfRange => {
                format!("`{key}` date `{text}` is out of range: the year must be 1970 to 9999")
            }
            DateError::NoSuchDate(why) => {
                format!("`{key}` date `{text}` is not a calendar date: {why}")
            }
        }
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `"2026-06-30"` → the date and its Unix time. A real calendar date, year 1970 to 9999.
pub(crate) fn parse_date(text: &str) -> Result<Date, DateError> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateError::Malformed);
    }
    let number = |digits: &[u8]| -> Result<u16, DateError> {
        digits.iter().try_fold(0u16, |n, d| {
            if d.is_ascii_digit() {
                Ok(n * 10 + u16::from(d - b'0'))
            } else {
                Err(DateError::Malformed)
            }
        })
    };
    let year = number(&b[0..4])?;
    let month = number(&b[5..7])?;
    let day = number(&b[8..10])?;
    if !(1970..=9999).contains(&year) {
        return Err(DateError::OutOfRange);
    }
    if !(1..=12).contains(&month) {
        return Err(DateError::NoSuchDate(format!(
            "there is no month {month:02}; months are 01 to 12"
        )));
    }
    let month = month as u8;
    let last_day = days_in_month(year, month);
    if day == 0 || day > u16::from(last_day) {
        let name = MONTH_NAMES[usize::from(month - 1)];
        let why = if day == 0 {
            "days start at 01".to_owned()
        } else if month == 2 {
            format!("{name} {year} has {last_day} days")
        } else {
            format!("{name} has {last_day} days")
        };
        return Err(DateError::NoSuchDate(why));
    }
    let day = day as u8;
    Ok(Date {
        year,
        month,
        day,
        unix: days_from_civil(year, month, day) * 86_400,
    })
}

fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`). The runtime has the
/// same function; this crate cannot depend on it.
fn days_from_civil(year: u16, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `successor` is sent as `Link: <successor>; rel="successor-version"`: a path on this
/// server or an `https://` URL, made only of characters a URL and that header can carry.
pub(crate) fn check_successor(text: &str) -> Result<(), String> {
    const EXAMPLE: &str =
        "such as \"/api/v2/users/{user_id}\" or \"https://api.example.com/v2/users\"";
    if text.is_empty() {
        return Err(format!(
            "`successor` is empty; write the successor version's URL, {EXAMPLE}"
        ));
    }
    if let Some(c) = text.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || !c.is_ascii()
            || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '|')
    }) {
        let what = match c {
            ' ' => "a space".to_owned(),
            c if !c.is_ascii() => format!("the non-ASCII character `{}`", c.escape_debug()),
            c if c.is_ascii_control() => {
                format!("the control character `{}`", c.escape_default())
            }
            c => format!("`{c}`"),
        };
        let encoding = c
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>();
        return Err(format!(
            "`successor` contains {what}, which cannot go into the `Link: <...>` header; \
             percent-encode it as `{encoding}`"
        ));
    }
    if let Some(rest) = text.strip_prefix("https://") {
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!(
                "`successor` names no host after `https://`; write the successor version's URL, \
                 {EXAMPLE}"
            ));
        }
        return Ok(());
    }
    if text.starts_with("//") {
        return Err(
            "`successor` starts with `//`, which names another host, not a path; write \
             `https://` before the host, or start the path with a single `/`"
                .to_owned(),
        );
    }
    if text.starts_with('/') {
        return Ok(());
    }
    if text.starts_with("http://") {
        return Err(
            "`successor` is not HTTPS; write `https://`, or a path on this server starting with `/`"
                .to_owned(),
        );
    }
    Err(format!(
        "`successor` must be a path starting with `/` or an `https://` URL; write the successor \
         version's URL, {EXAMPLE}"
    ))
}

/// An identifier: a letter or `_`, then letters, digits or `_`.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
