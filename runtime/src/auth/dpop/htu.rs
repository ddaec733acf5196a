//! The `htu` comparison (RFC 9449 §4.3 step 9): the request's target URI without query and
//! fragment, both sides normalized per RFC 3986 §6.2.2 (syntax: case, percent-encoding, dot
//! segments) and §6.2.3 (scheme: default port, empty path).
//!
//! The WHATWG parser of the `url` crate does most of it (lower-case scheme and host, IDNA,
//! default port dropped, dot segments, `%2e` ones included, resolved, empty path as `/`);
//! what it leaves (percent-encodings of unreserved characters, lower-case hex digits) is done
//! here.

use url::Url;

/// Percent-encoding normalization (RFC 3986 §6.2.2.2): `%XX` of an unreserved character
/// decoded, other `%xx` upper-cased.
fn normalize_percent(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let byte = (hi * 16 + lo) as u8;
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(byte as char);
                } else {
                    out.push('%');
                    out.push(bytes[i + 1].to_ascii_uppercase() as char);
                    out.push(bytes[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // `path` is ASCII after the WHATWG parser (it percent-encodes everything else).
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

/// `scheme://host[:port]` and the path of an absolute `http`/`https` URI, normalized; the
/// query and fragment dropped. `None` for anything else, or a URI with user information.
pub(crate) fn normalize(uri: &str) -> Option<(String, String)> {
    let url = Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.host().is_none()
    {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    Some((origin, normalize_percent(url.path())))
}

/// The origin of a configured external URL (`https://api.example.com`), normalized; `None`
/// when it has anything besides scheme, host and port.
pub(crate) fn normalize_origin(origin: &str) -> Option<String> {
    let url = Url::parse(origin).ok()?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    normalize(origin).map(|(origin, _)| origin)
}

/// The request's path (`/a/b`, as sent), normalized the same way.
pub(crate) fn normalize_path(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    normalize(&format!("https://h{path}")).map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_and_scheme_based_normalization() {
        let n = |s: &str| normalize(s).map(|(o, p)| format!("{o}{p}"));
        let same = [
            (
                "https://server.example.com/token",
                "HTTPS://Server.EXAMPLE.com:443/token",
            ),
            ("https://a.example/", "https://a.example"),
            ("https://a.example/x?q=1#f", "https://a.example/x"),
            ("https://a.example/%7Euser/a", "https://a.example/~user/a"),
            ("https://a.example/%7euser", "https://a.example/~user"),
            ("https://a.example/a%2fb", "https://a.example/a%2Fb"),
            ("https://a.example/a/./b/../c", "https://a.example/a/c"),
            ("https://a.example/a/%2e%2E/c", "https://a.example/c"),
            ("http://a.example:80/x", "http://a.example/x"),
            ("https://127.0.0.1:8443/api", "https://127.0.0.1:8443/api"),
        ];
        for (a, b) in same {
            assert_eq!(n(a), n(b), "{a} vs {b}");
            assert!(n(a).is_some());
        }
        let different = [
            ("https://a.example/x", "http://a.example/x"),
            ("https://a.example/x", "https://a.example:8443/x"),
            ("https://a.example/x", "https://b.example/x"),
            ("https://a.example/x", "https://a.example/X"),
            ("https://a.example/a%2Fb", "https://a.example/a/b"),
        ];
        for (a, b) in different {
            assert_ne!(n(a), n(b), "{a} vs {b}");
        }
        for bad in [
            "ftp://a.example/x",
            "https://user@a.example/x",
            "/relative",
            "mailto:a@example.com",
            "",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
        assert_eq!(
            normalize_path("/api/%7Eme/./x").as_deref(),
            Some("/api/~me/x")
        );
        assert_eq!(normalize_path("*"), None);
        assert_eq!(
            normalize_origin("HTTPS://API.example.com:443").as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(normalize_origin("https://api.example.com/v1"), None);
    }
}
