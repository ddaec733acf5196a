//! Reading the header a trusted proxy reports the client in, hop by hop from the right.
//!
//! Every list (the lines of a header, in order, then the comma-separated entries of each) is
//! walked from the nearest hop outwards: each entry is parsed on its own, trusted proxies are
//! skipped, and the first entry that is not a trusted proxy is the client. An entry that does
//! not parse, met before the client is found, makes the whole header malformed (the request is
//! refused); entries left of the client are never parsed, whatever they contain.

use std::net::IpAddr;

use http::HeaderMap;

use super::canonical;

/// One parsed hop: the address it names and, for `Forwarded`, whether its `proto` is `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hop {
    pub(super) ip: IpAddr,
    pub(super) https: Option<bool>,
}

/// What walking a forwarding header found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Walk {
    /// The header is not there: the request is the proxy's own.
    Absent,
    /// The client's hop.
    Client(Hop),
    /// A hop at or right of the client does not parse.
    Malformed,
}

/// Walks `entries` (nearest first): the first untrusted hop, else the farthest (every hop a
/// trusted proxy), else [`Walk::Absent`] when there is no entry at all.
fn walk<'a>(
    entries: impl Iterator<Item = &'a [u8]>,
    parse: impl Fn(&[u8]) -> Option<Hop>,
    trusted: impl Fn(IpAddr) -> bool,
) -> Walk {
    let mut farthest = None;
    for entry in entries {
        let Some(hop) = parse(entry) else {
            return Walk::Malformed;
        };
        if !trusted(hop.ip) {
            return Walk::Client(hop);
        }
        farthest = Some(hop);
    }
    farthest.map_or(Walk::Absent, Walk::Client)
}

/// `X-Forwarded-For`: every line, then every comma-separated address, from the right.
pub(super) fn x_forwarded_for(headers: &HeaderMap, trusted: impl Fn(IpAddr) -> bool) -> Walk {
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|line| line.as_bytes().rsplit(|&b| b == b','));
    let parse = |entry: &[u8]| parse_node(trim(entry)).map(|ip| Hop { ip, https: None });
    walk(entries, parse, trusted)
}

/// RFC 7239 `Forwarded`: every line, then every element, from the right; the client's element
/// says the scheme it used (`proto`).
pub(super) fn forwarded(headers: &HeaderMap, trusted: impl Fn(IpAddr) -> bool) -> Walk {
    let mut elements: Vec<&[u8]> = Vec::new();
    for line in headers.get_all(http::header::FORWARDED) {
        elements.extend(split_outside_quotes(line.as_bytes(), b','));
    }
    walk(elements.into_iter().rev(), forwarded_element, trusted)
}

/// A header that holds the client's address alone (`X-Real-IP`, `CF-Connecting-IP`): exactly
/// one line with exactly one address, which the nearest proxy set.
pub(super) fn single(headers: &HeaderMap, name: &http::HeaderName) -> Walk {
    let mut lines = headers.get_all(name).iter();
    let Some(line) = lines.next() else {
        return Walk::Absent;
    };
    if lines.next().is_some() {
        return Walk::Malformed;
    }
    match parse_node(trim(line.as_bytes())) {
        Some(ip) => Walk::Client(Hop { ip, https: None }),
        None => Walk::Malformed,
    }
}

/// A scheme header (`X-Forwarded-Proto`): the nearest proxy's value (the rightmost entry of
/// the last line) is `https`; `None` when the header is absent.
pub(super) fn scheme_is_https(headers: &HeaderMap, name: &http::HeaderName) -> Option<bool> {
    let line = headers.get_all(name).iter().next_back()?;
    let last = line.as_bytes().rsplit(|&b| b == b',').next().unwrap_or(b"");
    Some(trim(last).eq_ignore_ascii_case(b"https"))
}

/// One `Forwarded` element: `for=…;proto=…;by=…;host=…`, each parameter at most once, `for`
/// an IP address.
fn forwarded_element(element: &[u8]) -> Option<Hop> {
    let mut ip = None;
    let mut https = None;
    for pair in split_outside_quotes(element, b';') {
        let pair = trim(pair);
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (name, value) = (&pair[..eq], &pair[eq + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return None;
        }
        let value = unquote(value)?;
        if name.eq_ignore_ascii_case(b"for") {
            if ip.is_some() {
                return None;
            }
            ip = Some(parse_node(&value)?);
        } else if name.eq_ignore_ascii_case(b"proto") {
            let scheme_char = |b: &u8| b.is_ascii_alphanumeric() || b"+-.".contains(b);
            if https.is_some()
                || !value.first().is_some_and(u8::is_ascii_alphabetic)
                || !value.iter().all(scheme_char)
            {
                return None;
            }
            https = Some(value.eq_ignore_ascii_case(b"https"));
        }
    }
    Some(Hop { ip: ip?, https })
}

/// A parameter value: a quoted-string (escapes resolved) or an unquoted run of visible ASCII.
/// Unquoted values are taken as they are (`for=2001:db8::1` is common, if not RFC 7239).
fn unquote(value: &[u8]) -> Option<Vec<u8>> {
    let Some(inner) = value.strip_prefix(b"\"") else {
        return (!value.is_empty() && value.iter().all(|&b| b.is_ascii_graphic() && b != b'"'))
            .then(|| value.to_vec());
    };
    let inner = inner.strip_suffix(b"\"")?;
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => out.push(*bytes.next()?),
            b'"' => return None,
            _ => out.push(b),
        }
    }
    Some(out)
}

/// Splits on `sep` outside quoted-strings (a `\` inside quotes escapes the next byte). An
/// unterminated quote runs to the end: that piece then fails to parse.
fn split_outside_quotes(bytes: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            pieces.push(&bytes[start..i]);
            start = i + 1;
        }
    }
    pieces.push(&bytes[start..]);
    pieces
}

/// A node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`; IPv4-mapped addresses as IPv4.
pub(super) fn parse_node(node: &[u8]) -> Option<IpAddr> {
    let node = std::str::from_utf8(node).ok()?;
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return ip
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|ip| canonical(ip.into()));
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (ip, port) = node.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(port: &str) -> bool {
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Without surrounding spaces and tabs (RFC 9110 OWS).
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t');
    let Some(start) = start else {
        return &[];
    };
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .unwrap_or(start);
    &bytes[start..=end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn client(walk: Walk) -> Option<(IpAddr, Option<bool>)> {
        match walk {
            Walk::Client(hop) => Some((hop.ip, hop.https)),
            _ => None,
        }
    }

    #[test]
    fn nodes() {
        for (node, want) in [
            ("192.0.2.1", "192.0.2.1"),
            ("192.0.2.1:4711", "192.0.2.1"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("[::ffff:192.0.2.1]:80", "192.0.2.1"),
        ] {
            assert_eq!(parse_node(node.as_bytes()), Some(ip(want)), "{node}");
        }
        for node in [
            "",
            "unknown",
            "_gazonk",
            "192.0.2.1:",
            "192.0.2.1:65536",
            "192.0.2.1:+80",
            "[192.0.2.1]",
            "[2001:db8::1]x",
            "[2001:db8::1",
            "2001:db8::1:80:",
            "192.0.2.1 ",
            "192.0.2.1\u{ff}",
        ] {
            assert_eq!(parse_node(node.as_bytes()), None, "{node:?}");
        }
    }

    /// The examples of RFC 7239 (sections 4, 6, 7.1 and 7.4), byte for byte.
    #[test]
    fn rfc_7239_examples() {
        let none = |_: IpAddr| false;
        let fwd = |value: &str| forwarded(&headers(&[("forwarded", value)]), none);
        // Section 4: an obfuscated identifier is not an address the client can be counted by.
        assert_eq!(fwd("for=\"_gazonk\""), Walk::Malformed);
        assert_eq!(
            client(fwd("For=\"[2001:db8:cafe::17]:4711\"")),
            Some((ip("2001:db8:cafe::17"), None))
        );
        assert_eq!(
            client(fwd("for=192.0.2.60;proto=http;by=203.0.113.43")),
            Some((ip("192.0.2.60"), Some(false)))
        );
        assert_eq!(
            client(fwd("for=192.0.2.43, for=198.51.100.17")),
            Some((ip("198.51.100.17"), None))
        );
        // The nearest is the client unless it is trusted.
        let trusted = |ip: IpAddr| ip == "198.51.100.17".parse::<IpAddr>().unwrap();
        let h = headers(&[("forwarded", "for=192.0.2.43, for=198.51.100.17")]);
        assert_eq!(
            client(forwarded(&h, trusted)),
            Some((ip("192.0.2.43"), None))
        );
        // Section 6, node names with ports.
        assert_eq!(
            client(fwd("for=\"192.0.2.43:47011\"")),
            Some((ip("192.0.2.43"), None))
        );
        assert_eq!(
            client(fwd("for=\"[2001:db8:cafe::17]:47011\"")),
            Some((ip("2001:db8:cafe::17"), None))
        );
        // Section 7.4: the same hops as X-Forwarded-For and as Forwarded.
        let xff = headers(&[("x-forwarded-for", "192.0.2.43, 2001:db8:cafe::17")]);
        let fwd_h = headers(&[("forwarded", "for=192.0.2.43, for=\"[2001:db8:cafe::17]\"")]);
        assert_eq!(
            client(x_forwarded_for(&xff, none)),
            Some((ip("2001:db8:cafe::17"), None))
        );
        assert_eq!(
            client(forwarded(&fwd_h, none)),
            Some((ip("2001:db8:cafe::17"), None))
        );
        // Section 7.1's list, in one line and in two: `unknown` nearest leaves nothing to
        // count the client by.
        assert_eq!(
            fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown"),
            Walk::Malformed
        );
        let two_lines = headers(&[
            ("forwarded", "for=192.0.2.43"),
            ("forwarded", "for=\"[2001:db8:cafe::17]\", for=unknown"),
        ]);
        assert_eq!(forwarded(&two_lines, none), Walk::Malformed);
        let two_known = headers(&[
            ("forwarded", "for=192.0.2.43"),
            ("forwarded", "for=\"[2001:db8:cafe::17]\""),
        ]);
        assert_eq!(
            client(forwarded(&two_known, none)),
            Some((ip("2001:db8:cafe::17"), None))
        );
    }

    #[test]
    fn quoted_strings_and_lists() {
        assert_eq!(
            split_outside_quotes(b"a=\"x,y\",b=\"\\\",\",c", b','),
            [&b"a=\"x,y\""[..], b"b=\"\\\",\"", b"c"]
        );
        assert_eq!(unquote(b"\"a\\\"b\""), Some(b"a\"b".to_vec()));
        assert_eq!(unquote(b"\"ab"), None);
        assert_eq!(unquote(b"\"a\"b\""), None);
        assert_eq!(unquote(b""), None);
        assert_eq!(trim(b" \t a b \t"), b"a b");
        assert_eq!(trim(b"  "), b"");
        // Absent, empty and scheme headers.
        let none = |_: IpAddr| false;
        assert_eq!(x_forwarded_for(&HeaderMap::new(), none), Walk::Absent);
        assert_eq!(
            x_forwarded_for(&headers(&[("x-forwarded-for", "")]), none),
            Walk::Malformed
        );
        let proto = http::HeaderName::from_static("x-forwarded-proto");
        assert_eq!(scheme_is_https(&HeaderMap::new(), &proto), None);
        let h = headers(&[
            ("x-forwarded-proto", "http"),
            ("x-forwarded-proto", "http, HTTPS "),
        ]);
        assert_eq!(scheme_is_https(&h, &proto), Some(true));
        let h = headers(&[("x-forwarded-proto", "https, http")]);
        assert_eq!(scheme_is_https(&h, &proto), Some(false));
    }
}
