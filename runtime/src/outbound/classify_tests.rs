//! Unit tests of the classification of outbound destinations.

use super::*;

fn check(addr: &str) -> Result<(), Blocked> {
    classify(addr.parse().unwrap_or_else(|_| panic!("{addr} parses")))
}

#[test]
fn the_table() {
    use Embedding as E;
    use Range as R;
    let blocked = |range| {
        Err(Blocked {
            range,
            embedded: None,
        })
    };
    let via = |e, range| {
        Err(Blocked {
            range,
            embedded: Some(e),
        })
    };
    let table: &[(&str, Result<(), Blocked>)] = &[
        // public
        ("8.8.8.8", Ok(())),
        ("1.1.1.1", Ok(())),
        ("93.184.215.14", Ok(())),
        ("100.63.255.255", Ok(())),
        ("100.128.0.0", Ok(())),
        ("172.15.255.255", Ok(())),
        ("172.32.0.0", Ok(())),
        ("192.167.255.255", Ok(())),
        ("198.17.255.255", Ok(())),
        ("198.20.0.0", Ok(())),
        ("223.255.255.255", Ok(())),
        ("2606:4700:4700::1111", Ok(())),
        ("2001:4860:4860::8888", Ok(())),
        ("::ffff:8.8.8.8", Ok(())),
        ("64:ff9b::808:808", Ok(())),
        ("2002:808:808::1", Ok(())),
        // unspecified, this network
        ("0.0.0.0", blocked(R::Unspecified)),
        ("0.1.2.3", blocked(R::ThisNetwork)),
        ("::", blocked(R::Unspecified)),
        // loopback
        ("127.0.0.1", blocked(R::Loopback)),
        ("127.0.0.2", blocked(R::Loopback)),
        ("127.255.255.254", blocked(R::Loopback)),
        ("::1", blocked(R::Loopback)),
        // RFC 1918
        ("10.0.0.1", blocked(R::Private)),
        ("10.255.255.255", blocked(R::Private)),
        ("172.16.0.1", blocked(R::Private)),
        ("172.31.255.255", blocked(R::Private)),
        ("192.168.1.1", blocked(R::Private)),
        // CGNAT
        ("100.64.0.1", blocked(R::SharedAddressSpace)),
        ("100.127.255.255", blocked(R::SharedAddressSpace)),
        // link-local and cloud metadata
        ("169.254.169.254", blocked(R::LinkLocal)),
        ("169.254.0.1", blocked(R::LinkLocal)),
        ("fe80::1", blocked(R::LinkLocal)),
        ("febf:ffff::1", blocked(R::LinkLocal)),
        ("fd00:ec2::254", blocked(R::UniqueLocal)),
        // protocol assignments, documentation, benchmarking
        ("192.0.0.1", blocked(R::ProtocolAssignments)),
        ("192.0.0.170", blocked(R::ProtocolAssignments)),
        ("192.0.2.1", blocked(R::Documentation)),
        ("198.51.100.7", blocked(R::Documentation)),
        ("203.0.113.9", blocked(R::Documentation)),
        ("2001:db8::1", blocked(R::Documentation)),
        ("3fff::1", blocked(R::Documentation)),
        ("198.18.0.1", blocked(R::Benchmarking)),
        ("198.19.255.255", blocked(R::Benchmarking)),
        ("2001:2::1", blocked(R::Benchmarking)),
        // multicast, broadcast, reserved
        ("224.0.0.1", blocked(R::Multicast)),
        ("239.255.255.250", blocked(R::Multicast)),
        ("ff02::1", blocked(R::Multicast)),
        ("ff05::1:3", blocked(R::Multicast)),
        ("255.255.255.255", blocked(R::Broadcast)),
        ("240.0.0.1", blocked(R::Reserved)),
        ("255.255.255.254", blocked(R::Reserved)),
        ("192.88.99.1", blocked(R::Reserved)),
        ("100::1", blocked(R::Reserved)),
        ("2001:10::1", blocked(R::Reserved)),
        ("2001:20::1", blocked(R::Reserved)),
        ("4000::1", blocked(R::Reserved)),
        ("5f00::1", blocked(R::Reserved)),
        ("1::1", blocked(R::Reserved)),
        // IPv6 private
        ("fc00::1", blocked(R::UniqueLocal)),
        ("fdff:ffff::1", blocked(R::UniqueLocal)),
        ("fec0::1", blocked(R::SiteLocal)),
        // embeddings
        ("::ffff:127.0.0.1", via(E::Ipv4Mapped, R::Loopback)),
        ("::ffff:7f00:1", via(E::Ipv4Mapped, R::Loopback)),
        ("::ffff:169.254.169.254", via(E::Ipv4Mapped, R::LinkLocal)),
        ("::ffff:10.0.0.1", via(E::Ipv4Mapped, R::Private)),
        ("::ffff:0.0.0.0", via(E::Ipv4Mapped, R::Unspecified)),
        ("::127.0.0.1", via(E::Ipv4Compatible, R::Loopback)),
        ("::10.1.2.3", via(E::Ipv4Compatible, R::Private)),
        ("::8.8.8.8", blocked(R::Reserved)),
        ("64:ff9b::127.0.0.1", via(E::Nat64, R::Loopback)),
        ("64:ff9b::a9fe:a9fe", via(E::Nat64, R::LinkLocal)),
        ("64:ff9b::192.168.0.1", via(E::Nat64, R::Private)),
        ("64:ff9b:1::808:808", blocked(R::LocalNat64)),
        ("64:ff9b:1:ffff::1", blocked(R::LocalNat64)),
        ("64:ff9b:0:0:0:1::1", blocked(R::Reserved)),
        ("2002:7f00:1::1", via(E::SixToFour, R::Loopback)),
        ("2002:a9fe:a9fe::", via(E::SixToFour, R::LinkLocal)),
        ("2002:c0a8:101::1", via(E::SixToFour, R::Private)),
        // Teredo: server 127.0.0.1; client 10.0.0.1 stored inverted (f5ff:fffe)
        ("2001:0:7f00:1::808:808", via(E::Teredo, R::Loopback)),
        ("2001:0:808:808::f5ff:fffe", via(E::Teredo, R::Private)),
        ("2001:0:808:808::f7f7:f7f7", Ok(())),
    ];
    for (addr, expected) in table {
        assert_eq!(&check(addr), expected, "{addr}");
    }
}

#[test]
fn every_ipv4_range_boundary() {
    // Just outside every special range is public; just inside is not.
    for (net, range) in V4_RANGES {
        // (The very first and last addresses may belong to `Unspecified`/`Broadcast`.)
        let first = Ipv4Addr::from_bits(net.network().to_bits() + 1);
        let last = Ipv4Addr::from_bits(net.broadcast().to_bits() - 1);
        assert_eq!(classify_v4(first), Err(*range), "{net}");
        assert_eq!(classify_v4(last), Err(*range), "{net}");
    }
    for outside in [
        "1.0.0.0",
        "11.0.0.0",
        "9.255.255.255",
        "169.253.255.255",
        "169.255.0.0",
        "192.0.1.0",
        "192.88.98.255",
        "192.88.100.0",
    ] {
        assert_eq!(classify_v4(outside.parse().unwrap()), Ok(()), "{outside}");
    }
}

#[test]
fn reasons_read_well() {
    let b = check("::ffff:169.254.169.254").unwrap_err();
    assert_eq!(b.to_string(), "link-local (embedded, IPv4-mapped)");
    assert_eq!(check("10.0.0.1").unwrap_err().to_string(), "private");
}
