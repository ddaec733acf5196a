//! Unit tests of the outbound client's policy.

use super::*;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

/// What the WHATWG parser makes of numeric host tricks: the address they mean, which the
/// check then refuses.
#[test]
fn numeric_host_tricks_are_normalised_before_the_check() {
    let loopback = Refusal::Address(
        "127.0.0.1".parse().unwrap(),
        Blocked {
            range: Range::Loopback,
            embedded: None,
        },
    );
    for trick in [
        "https://0x7f000001/",
        "https://2130706433/",
        "https://127.1/",
        "https://0177.0.0.1/",
        "https://0x7f.0.0.1/",
        "https://127.0.0.1./",
        "https://127.000.000.001/",
        "https://%31%32%37.0.0.1/",
        "https://１２７.0.0.1/",
    ] {
        let parsed = url(trick);
        assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{trick}");
        assert_eq!(
            Policy::default().check_url(&parsed),
            Err(loopback.clone()),
            "{trick}"
        );
    }
    let mapped = url("https://[::ffff:127.0.0.1]/");
    assert_eq!(mapped.host_str(), Some("[::ffff:7f00:1]"));
    assert!(matches!(
        Policy::default().check_url(&mapped),
        Err(Refusal::Address(
            _,
            Blocked {
                range: Range::Loopback,
                embedded: Some(Embedding::Ipv4Mapped)
            }
        ))
    ));
    let metadata = url("https://0xa9.0xfe.0xa9.0xfe/latest/meta-data/");
    assert_eq!(metadata.host_str(), Some("169.254.169.254"));
    assert!(matches!(
        Policy::default().check_url(&metadata),
        Err(Refusal::Address(
            _,
            Blocked {
                range: Range::LinkLocal,
                ..
            }
        ))
    ));
    // Not a number in the last label: a name, resolved and vetted later.
    assert!(matches!(
        url("https://127.0.0.1.nip.io/").host(),
        Some(url::Host::Domain(_))
    ));
    // Ends in a number but is no IPv4 address: the parser refuses it outright.
    assert!(url::Url::parse("https://1.2.3.4.5/").is_err());
    assert!(url::Url::parse("https://0x100000000/").is_err());
}

#[test]
fn url_rules() {
    let p = Policy::default();
    assert_eq!(p.check_url(&url("https://api.example.com/x")), Ok(()));
    assert_eq!(
        p.check_url(&url("http://api.example.com/x")),
        Err(Refusal::Scheme)
    );
    assert_eq!(
        p.check_url(&url("ftp://api.example.com/x")),
        Err(Refusal::Scheme)
    );
    assert_eq!(
        p.check_url(&url("file:///etc/passwd")),
        Err(Refusal::Scheme)
    );
    assert_eq!(
        p.check_url(&url("gopher://127.0.0.1:6379/_x")),
        Err(Refusal::Scheme)
    );
    assert_eq!(
        p.check_url(&url("https://user:pw@api.example.com/")),
        Err(Refusal::Userinfo)
    );
    assert_eq!(
        p.check_url(&url("https://user@api.example.com/")),
        Err(Refusal::Userinfo)
    );
    assert_eq!(
        p.check_url(&url("https://:pw@api.example.com/")),
        Err(Refusal::Userinfo)
    );
    assert_eq!(
        p.check_url(&url("https://api.example.com:8443/")),
        Err(Refusal::Port(8443))
    );
    assert_eq!(p.check_url(&url("https://api.example.com:443/")), Ok(()));
    let http = Policy {
        allow_http: true,
        ports: vec![80],
        ..Policy::default()
    };
    assert_eq!(http.check_url(&url("http://api.example.com/")), Ok(()));
    assert_eq!(
        http.check_url(&url("https://api.example.com/")),
        Err(Refusal::Port(443))
    );
}

#[test]
fn host_and_network_allowlists() {
    let p = Policy {
        hosts: Some(vec!["idp.example.com".into(), "*.cdn.example.net".into()]),
        ..Policy::default()
    };
    assert_eq!(p.check_url(&url("https://idp.example.com/")), Ok(()));
    assert_eq!(p.check_url(&url("https://IDP.Example.com./")), Ok(()));
    assert_eq!(p.check_url(&url("https://a.cdn.example.net/")), Ok(()));
    assert_eq!(
        p.check_url(&url("https://cdn.example.net/")),
        Err(Refusal::Host)
    );
    assert_eq!(
        p.check_url(&url("https://evilcdn.example.net/")),
        Err(Refusal::Host)
    );
    assert_eq!(
        p.check_url(&url("https://idp.example.com.evil.test/")),
        Err(Refusal::Host)
    );
    assert_eq!(p.check_url(&url("https://8.8.8.8/")), Err(Refusal::Host));

    let nets = Policy {
        networks: vec![
            "203.0.113.0/24".parse().unwrap(),
            "8.8.8.0/24".parse().unwrap(),
        ],
        ..Policy::default()
    };
    assert_eq!(nets.check_ip("8.8.8.8".parse().unwrap()), Ok(()));
    assert_eq!(
        nets.check_ip("1.1.1.1".parse().unwrap()),
        Err(Refusal::NotAllowlisted("1.1.1.1".parse().unwrap()))
    );
    // The allowlist does not open special ranges: documentation space stays refused.
    assert!(matches!(
        nets.check_ip("203.0.113.5".parse().unwrap()),
        Err(Refusal::Address(..))
    ));

    let internal = Policy {
        internal: vec!["127.0.0.1/32".parse().unwrap()],
        ..Policy::default()
    };
    assert_eq!(internal.check_ip("127.0.0.1".parse().unwrap()), Ok(()));
    assert!(internal.check_ip("127.0.0.2".parse().unwrap()).is_err());
    assert!(internal.check_ip("::1".parse().unwrap()).is_err());
}

#[test]
fn problems_carry_nothing_from_upstream() {
    let p = OutboundError::Timeout.to_problem();
    assert_eq!((p.status().as_u16(), p.code()), (504, "upstream_timeout"));
    for e in [
        OutboundError::Status(StatusCode::INTERNAL_SERVER_ERROR),
        OutboundError::Decode,
        OutboundError::Refused(Refusal::Scheme),
        OutboundError::TooLarge(10),
    ] {
        let p = e.to_problem();
        assert_eq!((p.status().as_u16(), p.code()), (502, "upstream_error"));
        let body = String::from_utf8(p.body("e", None)).unwrap();
        assert!(!body.contains("500") && !body.contains("scheme"), "{body}");
    }
}
