//! The perimeter's unit tests: networks, who the client is, per-IP keys.

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn cidr_parsing_and_matching() {
    assert!(net("10.0.0.0/8").contains("10.255.1.2".parse().unwrap()));
    assert!(!net("10.0.0.0/8").contains("11.0.0.1".parse().unwrap()));
    assert!(net("10.0.0.0/8").contains("::ffff:10.1.2.3".parse().unwrap()));
    assert!(net("0.0.0.0/0").contains("192.0.2.1".parse().unwrap()));
    assert!(net("2001:db8::/32").contains("2001:db8:1::5".parse().unwrap()));
    assert!(!net("2001:db8::/32").contains("2001:db9::5".parse().unwrap()));
    assert!(net("192.0.2.7").contains("192.0.2.7".parse().unwrap()));
    // IPv4-mapped networks are their IPv4 network (regression from the fuzz corpus).
    assert!(net("::ffff:10.0.0.1/128").contains("10.0.0.1".parse().unwrap()));
    assert!(!net("::ffff:10.0.0.1/128").contains("10.0.0.2".parse().unwrap()));
    assert!(net("::ffff:10.0.0.0/104").contains("::ffff:10.9.9.9".parse().unwrap()));
    assert!(!net("::ffff:0:0/95").contains("10.0.0.1".parse().unwrap()));
    assert!(!net("192.0.2.7").contains("192.0.2.8".parse().unwrap()));
    for bad in [
        "10.0.0.0/33",
        "10.0.0.0/",
        "10.0.0/8",
        "nope",
        "::/129",
        "10.0.0.0/+8",
    ] {
        assert!(bad.parse::<IpNet>().is_err(), "{bad}");
    }
}

fn parts(peer: &str, https: bool, headers: &[(&str, &str)]) -> Parts {
    let mut req = http::Request::builder().uri("/x");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (mut parts, ()) = req.body(()).unwrap().into_parts();
    parts
        .extensions
        .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
    if https {
        parts.extensions.insert(Https);
    }
    parts
}

fn perimeter(trusted: &[&str]) -> Perimeter {
    Perimeter {
        trusted_proxies: trusted.iter().map(|s| net(s)).collect(),
        ..Perimeter::default()
    }
}

fn with(headers: ProxyHeaders) -> Perimeter {
    Perimeter {
        proxy_headers: headers,
        ..perimeter(&["10.0.0.0/8"])
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The client's address and scheme, or the refusal's status and code.
fn resolve(
    p: &Perimeter,
    peer: &str,
    tls: bool,
    h: &[(&str, &str)],
) -> Result<(IpAddr, bool), (u16, &'static str)> {
    p.client(&parts(peer, tls, h))
        .map(|c| (c.ip, c.https))
        .map_err(|e| (e.status().as_u16(), e.code()))
}

#[test]
fn forwarding_headers_count_only_from_trusted_proxies() {
    let spoofed = [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=203.0.113.10;proto=https"),
        ("x-real-ip", "203.0.113.11"),
    ];
    // Untrusted peer: the headers change nothing, whichever header is configured.
    for p in [
        perimeter(&[]),
        perimeter(&["10.0.0.0/8"]),
        with(ProxyHeaders::Forwarded),
        with(ProxyHeaders::client_header("x-real-ip")),
    ] {
        assert_eq!(
            resolve(&p, "198.51.100.7", false, &spoofed),
            Ok((ip("198.51.100.7"), false))
        );
    }
    // Trusted proxy: the rightmost untrusted address; spoofed entries to its left ignored.
    let h = [
        ("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5"),
        ("x-forwarded-proto", "https"),
    ];
    let p = perimeter(&["10.0.0.0/8"]);
    assert_eq!(
        resolve(&p, "10.0.0.2", false, &h),
        Ok((ip("203.0.113.9"), true))
    );
    // All hops trusted: the leftmost.
    let h = [("x-forwarded-for", "10.1.1.1, 10.2.2.2")];
    assert_eq!(
        resolve(&p, "10.0.0.2", false, &h),
        Ok((ip("10.1.1.1"), false))
    );
    // No forwarding header: the proxy's own request.
    assert_eq!(
        resolve(&p, "10.0.0.2", true, &[]),
        Ok((ip("10.0.0.2"), true))
    );
}

#[test]
fn only_the_configured_header_is_read_never_another() {
    // A client's own `Forwarded`, passed through by a proxy that appends X-Forwarded-For.
    let h = [
        ("forwarded", "for=203.0.113.66;proto=https"),
        ("x-forwarded-for", "198.51.100.7"),
        ("x-forwarded-proto", "http"),
    ];
    let xff = perimeter(&["10.0.0.0/8"]);
    assert_eq!(
        resolve(&xff, "10.0.0.2", false, &h),
        Ok((ip("198.51.100.7"), false))
    );
    // Only `Forwarded` present: X-Forwarded-For mode treats the request as the proxy's.
    let h = [("forwarded", "for=203.0.113.66;proto=https")];
    assert_eq!(
        resolve(&xff, "10.0.0.2", false, &h),
        Ok((ip("10.0.0.2"), false))
    );
    // Forwarded mode ignores X-Forwarded-*, and uses the client element's proto.
    let fwd = with(ProxyHeaders::Forwarded);
    let h = [
        (
            "forwarded",
            "for=1.1.1.1;proto=https, for=\"[2001:db8::7]:443\";proto=http",
        ),
        ("x-forwarded-for", "9.9.9.9"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(
        resolve(&fwd, "10.0.0.2", true, &h),
        Ok((ip("2001:db8::7"), false))
    );
    let h = [
        ("x-forwarded-for", "9.9.9.9"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(
        resolve(&fwd, "10.0.0.2", false, &h),
        Ok((ip("10.0.0.2"), false))
    );
    // A single-address header: nothing else counts.
    let real = with(ProxyHeaders::client_header("X-Real-IP"));
    let h = [
        ("x-real-ip", "203.0.113.5"),
        ("x-forwarded-for", "9.9.9.9"),
        ("forwarded", "for=8.8.8.8;proto=https"),
    ];
    assert_eq!(
        resolve(&real, "10.0.0.2", false, &h),
        Ok((ip("203.0.113.5"), false))
    );
    let h = [("x-real-ip", "203.0.113.5"), ("x-forwarded-proto", "https")];
    assert_eq!(
        resolve(&real, "10.0.0.2", false, &h),
        Ok((ip("203.0.113.5"), true))
    );
    // ... with the scheme taken from the connection.
    let conn = with(ProxyHeaders::ClientHeader {
        address: HeaderName::from_static("cf-connecting-ip"),
        scheme: SchemeSource::Connection,
    });
    let h = [
        ("cf-connecting-ip", "2001:db8::5"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(
        resolve(&conn, "10.0.0.2", false, &h),
        Ok((ip("2001:db8::5"), false))
    );
    assert_eq!(
        resolve(&conn, "10.0.0.2", true, &h),
        Ok((ip("2001:db8::5"), true))
    );
}

#[test]
fn a_malformed_hop_right_of_the_client_is_refused_left_of_it_ignored() {
    let p = perimeter(&["10.0.0.0/8"]);
    let bad = Err((400, "malformed_forwarding_header"));
    for xff in [
        "203.0.113.9, garbage",
        "203.0.113.9, 10.0.0.5, ",
        "",
        "203.0.113.9:99999",
        "203.0.113.9, 10.0.0.5 10.0.0.6",
    ] {
        assert_eq!(
            resolve(&p, "10.0.0.2", false, &[("x-forwarded-for", xff)]),
            bad,
            "{xff:?}"
        );
    }
    // A non-ASCII byte in the nearest hop.
    let mut parts = parts("10.0.0.2", false, &[]);
    parts.headers.insert(
        "x-forwarded-for",
        http::HeaderValue::from_bytes(b"203.0.113.9, 10.0.0.\xff").unwrap(),
    );
    assert_eq!(
        p.client(&parts).unwrap_err().status(),
        StatusCode::BAD_REQUEST
    );
    // Left of the client: anything at all, non-ASCII included.
    let mut parts = self::parts("10.0.0.2", false, &[]);
    parts.headers.insert(
        "x-forwarded-for",
        http::HeaderValue::from_bytes(b"\xff\xfe, garbage, , 203.0.113.9, 10.0.0.5").unwrap(),
    );
    assert_eq!(p.client(&parts).unwrap().ip, ip("203.0.113.9"));
    // Several lines are one list, in order.
    let h = [
        ("x-forwarded-for", "garbage, 203.0.113.1"),
        ("x-forwarded-for", "203.0.113.2, 10.0.0.9"),
    ];
    assert_eq!(
        resolve(&p, "10.0.0.2", false, &h),
        Ok((ip("203.0.113.2"), false))
    );
    let h = [
        ("x-forwarded-for", "203.0.113.1"),
        ("x-forwarded-for", "10.0.0.9, nope"),
    ];
    assert_eq!(resolve(&p, "10.0.0.2", false, &h), bad);

    let fwd = with(ProxyHeaders::Forwarded);
    for value in [
        "for=203.0.113.9;proto=https, for=unknown",
        "for=_hidden",
        "proto=https",
        "for=203.0.113.9;for=198.51.100.1",
        "for=203.0.113.9;proto=\"ht tp\"",
        "for=\"203.0.113.9",
        "for=\"[2001:db8::1]:80x\"",
        "garbage",
    ] {
        assert_eq!(
            resolve(&fwd, "10.0.0.2", false, &[("forwarded", value)]),
            bad,
            "{value:?}"
        );
    }
    let h = [(
        "forwarded",
        "for=_hidden;by=x;weird, for=\"oops, for=203.0.113.9;proto=https",
    )];
    assert_eq!(
        resolve(&fwd, "10.0.0.2", false, &h),
        bad,
        "a quote left open swallows the rest"
    );
    let h = [
        ("forwarded", "for=_hidden;by=x;weird"),
        (
            "forwarded",
            "for=\"[2001:db8::9]:4711\";proto=https;by=\"10.0.0.2\"",
        ),
    ];
    assert_eq!(
        resolve(&fwd, "10.0.0.2", false, &h),
        Ok((ip("2001:db8::9"), true))
    );
    let h = [(
        "forwarded",
        "For=\"203.0.113.9\" ; PROTO=HTTPS ;host=\"a;b,c\"",
    )];
    assert_eq!(
        resolve(&fwd, "10.0.0.2", false, &h),
        Ok((ip("203.0.113.9"), true))
    );

    let real = with(ProxyHeaders::client_header("cf-connecting-ip"));
    for h in [
        vec![("cf-connecting-ip", "203.0.113.9, 203.0.113.8")],
        vec![
            ("cf-connecting-ip", "203.0.113.9"),
            ("cf-connecting-ip", "203.0.113.8"),
        ],
        vec![("cf-connecting-ip", "unknown")],
    ] {
        assert_eq!(resolve(&real, "10.0.0.2", false, &h), bad, "{h:?}");
    }
}

#[test]
fn without_the_peer_address_the_request_is_refused_not_pooled() {
    let (parts, ()) = http::Request::new(()).into_parts();
    let problem = perimeter(&[]).client(&parts).unwrap_err();
    assert_eq!(problem.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // axum's MockConnectInfo layer is how in-process callers say who the peer is.
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts
        .extensions
        .insert(MockConnectInfo(SocketAddr::from(([192, 0, 2, 4], 1))));
    assert_eq!(perimeter(&[]).client(&parts).unwrap().ip, ip("192.0.2.4"));
}

#[test]
fn ipv6_clients_are_keyed_by_their_network() {
    let p = perimeter(&[]);
    let key = |s: &str| p.key(ip(s));
    assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
    assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    assert_eq!(key("2001:db8:1:2:aaaa::1").to_string(), "2001:db8:1:2::/64");
    // IPv4 and IPv4-mapped: the address, the same key.
    assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    assert_eq!(key("192.0.2.1").to_string(), "192.0.2.1/32");
    // Configurable per router.
    let p56 = Perimeter {
        ipv6_prefix: 56,
        ..perimeter(&[])
    };
    assert_eq!(
        p56.key(ip("2001:db8:1:2ff::1")),
        p56.key(ip("2001:db8:1:200::1"))
    );
    assert_ne!(
        p56.key(ip("2001:db8:1:300::1")),
        p56.key(ip("2001:db8:1:200::1"))
    );
    let p128 = Perimeter {
        ipv6_prefix: 128,
        ..perimeter(&[])
    };
    assert_ne!(p128.key(ip("2001:db8::1")), p128.key(ip("2001:db8::2")));
    // The client's own address is kept whole.
    let c = p
        .client(&parts("2001:db8:1:2:aaaa::1", false, &[]))
        .unwrap();
    assert_eq!(
        (c.ip, c.key.to_string()),
        (ip("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64".to_owned())
    );
}

#[test]
fn a_shared_store_counts_by_the_same_network() {
    use crate::rate::RateSubject;
    let p = perimeter(&[]);
    let shared = |s: &str| RateSubject::Network(p.key(ip(s))).shared_key();
    assert_eq!(shared("2001:db8:1:2:aaaa::1"), "ip:2001:db8:1:2::/64");
    assert_eq!(shared("2001:db8:1:2:ffff::9"), "ip:2001:db8:1:2::/64");
    // IPv4 keys are what they were (`RateSubject::Ip`'s), so stored limits carry over.
    assert_eq!(shared("::ffff:192.0.2.1"), "ip:192.0.2.1");
    assert_eq!(
        RateSubject::Ip(ip("192.0.2.1")).shared_key(),
        "ip:192.0.2.1"
    );
    let p128 = Perimeter {
        ipv6_prefix: 128,
        ..perimeter(&[])
    };
    assert_eq!(
        RateSubject::Network(p128.key(ip("2001:db8::1"))).shared_key(),
        "ip:2001:db8::1"
    );
}
