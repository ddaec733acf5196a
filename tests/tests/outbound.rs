//! The SSRF guard of the outbound client (OWASP API7) over real HTTP, never leaving the
//! machine: fixtures on 127.0.0.1 allowed explicitly by each test's configuration, "tripwire"
//! listeners on loopback addresses or ports that are NOT allowed (they count every TCP
//! connection they accept, and must count none), and a test DNS lookup that maps names to
//! addresses. Addresses that are not loopback (metadata, private) are only ever checked by pure
//! functions (the URL check, the resolver asked directly) or handed to the resolver behind an
//! allowed loopback fixture that would record a connection.

mod common;
mod outbound_fixture;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use outbound_fixture::*;
use reqwest::StatusCode;
use secure_endpoint::outbound::{
    Blocked, Embedding, OutboundClient, OutboundError, Range, Refusal,
};

#[tokio::test]
async fn an_explicitly_allowed_fixture_is_fetched_and_validated() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    let widget: Widget = client
        .get_json(&format!("http://{addr}/json"))
        .await
        .unwrap();
    assert_eq!((widget.name.as_str(), widget.count), ("widget", 3));
    let fetched = client.get(&format!("http://{addr}/html")).await.unwrap();
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.content_type.as_deref(), Some("text/html"));
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_without_connecting() {
    let (addr, hits) = upstream().await;
    let url = format!("http://{addr}/json");
    // Defaults: https only.
    let default = OutboundClient::builder().build().unwrap();
    assert_eq!(
        default.get(&url).await.unwrap_err(),
        OutboundError::Refused(Refusal::Scheme)
    );
    // http and the port allowed, but not the address.
    let no_internal = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port()])
        .build()
        .unwrap();
    let error = no_internal.get(&url).await.unwrap_err();
    assert_eq!(refused_address(&error), (LOCALHOST, loopback()));
    // [::1] and the numeric spellings of 127.0.0.1 are the same refusal.
    for trick in [
        format!("http://2130706433:{}/json", addr.port()),
        format!("http://0x7f000001:{}/json", addr.port()),
        format!("http://127.1:{}/json", addr.port()),
        format!("http://0177.0.0.1:{}/json", addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/json", addr.port()),
    ] {
        let error = no_internal.get(&trick).await.unwrap_err();
        let (_, blocked) = refused_address(&error);
        assert_eq!(blocked.range, Range::Loopback, "{trick}");
    }
    // The allowance is for 127.0.0.1 only: its IPv4-mapped form stays refused.
    let allowed = fixture_client(addr.port()).build().unwrap();
    let error = allowed
        .get(&format!("http://[::ffff:127.0.0.1]:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(
        refused_address(&error).1,
        Blocked {
            range: Range::Loopback,
            embedded: Some(Embedding::Ipv4Mapped)
        }
    );
    assert_eq!(hits.get(), 0, "nothing reached the fixture");
}

#[tokio::test]
async fn metadata_and_private_addresses_are_refused_before_connecting() {
    let (addr, hits) = upstream().await;
    let dns = Arc::new(TestDns {
        names: HashMap::from([
            ("metadata.test", vec![ip("169.254.169.254")]),
            ("private.test", vec![ip("10.0.0.5")]),
            ("ula.test", vec![ip("fd00::1")]),
            ("nat64.test", vec![ip("64:ff9b::a9fe:a9fe")]),
            // An allowed fixture first, the metadata address second: refused as a whole. Were
            // the guard to let it through, the connector would reach the fixture (counted).
            ("mixed.test", vec![LOCALHOST, ip("169.254.169.254")]),
            ("public.test", vec![ip("8.8.8.8")]),
        ]),
        ..TestDns::default()
    });
    let client = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();

    // The resolver the connector uses, asked directly: no request at all.
    let refused = |host: &'static str| {
        let client = client.clone();
        async move { client.resolver().vetted(host).await.unwrap_err() }
    };
    assert_eq!(
        refused_address(&refused("metadata.test").await).1.range,
        Range::LinkLocal
    );
    assert_eq!(
        refused_address(&refused("private.test").await).1.range,
        Range::Private
    );
    assert_eq!(
        refused_address(&refused("ula.test").await).1.range,
        Range::UniqueLocal
    );
    assert_eq!(
        refused_address(&refused("nat64.test").await).1,
        Blocked {
            range: Range::LinkLocal,
            embedded: Some(Embedding::Nat64)
        }
    );
    assert_eq!(refused("unknown.test").await, OutboundError::Dns);
    assert_eq!(
        client.resolver().vetted("public.test").await.unwrap(),
        vec![ip("8.8.8.8")],
        "public answers pass (only vetted, never connected here)"
    );

    // Through the client: the mixed answer is refused, and the fixture saw nothing.
    let error = client
        .get(&format!("http://mixed.test:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error).1.range, Range::LinkLocal);
    assert_eq!(hits.get(), 0);

    // IP literals of metadata and private addresses: refused by the URL check, which needs
    // no lookup and no connection (the same check `get` runs first).
    for (url, range) in [
        ("http://169.254.169.254/latest/meta-data/", Range::LinkLocal),
        ("http://0xa9fea9fe/latest/meta-data/", Range::LinkLocal),
        (
            "http://[fd00:ec2::254]/latest/meta-data/",
            Range::UniqueLocal,
        ),
        ("http://[fe80::1]/", Range::LinkLocal),
        ("http://192.168.0.1/", Range::Private),
        ("http://100.100.100.200/", Range::SharedAddressSpace),
        ("http://[::ffff:a9fe:a9fe]/", Range::LinkLocal),
        ("http://[2002:a9fe:a9fe::1]/", Range::LinkLocal),
    ] {
        let client = OutboundClient::builder()
            .allow_http()
            .allow_ports([80])
            .build()
            .unwrap();
        let error = client.check_url(url).unwrap_err();
        assert_eq!(refused_address(&error).1.range, range, "{url}");
    }
}

#[tokio::test]
async fn a_redirect_to_a_loopback_address_that_is_not_allowed_is_refused() {
    let (addr, hits) = upstream().await;
    // 127.0.0.2 on a port the client allows: the address is what refuses it.
    let (trip, accepted) = tripwire("127.0.0.2").await;
    let client = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port(), trip.port()])
        .allow_internal([LOCALHOST])
        .build()
        .unwrap();
    let error = client
        .get(&format!("http://{addr}/redirect?to=http://{trip}/json"))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!(hits.get(), 1, "the allowed hop was made");
    assert_eq!(accepted.get(), 0, "the refused hop was never connected");
}

#[tokio::test]
async fn a_redirect_to_another_port_of_the_allowed_address_is_refused() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.1").await;
    let client = fixture_client(addr.port()).build().unwrap();
    let error = client
        .get(&format!("http://{addr}/redirect?to=http://{trip}/json"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Port(trip.port())));
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}

#[tokio::test]
async fn a_redirect_to_a_name_resolving_inside_is_refused_at_resolution() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.2").await;
    let dns = Arc::new(TestDns {
        names: HashMap::from([("internal.test", vec![trip.ip()])]),
        ..TestDns::default()
    });
    let client = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port(), trip.port()])
        .allow_internal([LOCALHOST])
        .lookup(dns.clone())
        .build()
        .unwrap();
    let error = client
        .get(&format!(
            "http://{addr}/redirect?to=http://internal.test:{}/json",
            trip.port()
        ))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!(dns.lookups.load(Ordering::SeqCst), 1);
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}

#[tokio::test]
async fn https_by_default_and_no_downgrade_on_redirect() {
    let (addr, ca_pem, hits) = tls_upstream().await;
    let (plain, plain_hits) = upstream().await;
    let client = OutboundClient::builder()
        .allow_ports([addr.port(), plain.port()])
        .allow_internal([LOCALHOST])
        .root_certificate_pem(ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("https://{addr}/json"))
        .await
        .unwrap();
    assert_eq!(widget.name, "secure");
    // https -> http: refused before the plain fixture is reached.
    let error = client
        .get(&format!("https://{addr}/redirect?to=http://{plain}/json"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Scheme));
    assert_eq!((hits.get(), plain_hits.get()), (2, 0));
}

#[tokio::test]
async fn redirects_with_userinfo_or_to_other_schemes_are_not_followed() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    let error = client
        .get(&format!(
            "http://{addr}/redirect?to=http://user:pw@{addr}/json"
        ))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Userinfo));
    assert_eq!(hits.get(), 1, "only the first hop");
    // Other schemes: refused by the guard's redirect check.
    for to in [
        "gopher://127.0.0.1:70/_x",
        "ftp://127.0.0.1/x",
        "dict://127.0.0.1:11211/x",
    ] {
        let error = client
            .get(&format!("http://{addr}/redirect?to={to}"))
            .await
            .unwrap_err();
        assert_eq!(error, OutboundError::Refused(Refusal::Scheme), "{to}");
    }
    // A `file:` location (no authority) is never attempted by reqwest's redirect layer: the
    // 3xx itself is the answer, an error to the caller, its body unread.
    let error = client
        .get(&format!("http://{addr}/redirect?to=file:///etc/passwd"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Status(StatusCode::TEMPORARY_REDIRECT));
    assert_eq!(hits.get(), 5);
    // And a plain-http URL from an https-only client is refused outright.
    let https_only = OutboundClient::builder()
        .allow_ports([addr.port()])
        .allow_internal([LOCALHOST])
        .build()
        .unwrap();
    assert_eq!(
        https_only
            .get(&format!("http://{addr}/json"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::Scheme)
    );
    assert_eq!(hits.get(), 5);
}

#[tokio::test]
async fn redirects_are_limited_in_number() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port())
        .max_redirects(3)
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("http://{addr}/hops?n=3"))
        .await
        .unwrap();
    assert_eq!(widget.name, "widget");
    assert_eq!(hits.get(), 4);
    assert_eq!(
        client
            .get(&format!("http://{addr}/hops?n=4"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::TooManyRedirects(3))
    );
    assert_eq!(hits.get(), 8, "the fourth redirect was not followed");
    let none = fixture_client(addr.port())
        .max_redirects(0)
        .build()
        .unwrap();
    assert_eq!(
        none.get(&format!("http://{addr}/hops?n=1"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::TooManyRedirects(0))
    );
}

#[tokio::test]
async fn userinfo_is_refused() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    for url in [
        format!("http://user:secret@{addr}/json"),
        format!("http://user@{addr}/json"),
        format!("http://:secret@{addr}/json"),
    ] {
        assert_eq!(
            client.get(&url).await.unwrap_err(),
            OutboundError::Refused(Refusal::Userinfo),
            "{url}"
        );
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn one_lookup_per_connection_so_a_rebinding_name_cannot_slip_through() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.2").await;
    // First answer: the allowed fixture. Every later answer: a loopback address that is not
    // allowed (its tripwire counts connections).
    let dns = Arc::new(TestDns {
        rebind: vec![LOCALHOST, trip.ip()],
        ..TestDns::default()
    });
    let client = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("http://rebind.test:{}/json", addr.port()))
        .await
        .unwrap();
    assert_eq!(widget.count, 3);
    assert_eq!(
        dns.lookups.load(Ordering::SeqCst),
        1,
        "the name was looked up once, and the connection went to that answer"
    );
    // A fresh client (no pooled connection): its lookup now answers 127.0.0.2, refused.
    let fresh = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();
    let error = fresh
        .get(&format!("http://rebind.test:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}
