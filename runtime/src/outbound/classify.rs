//! Which IP addresses an outbound request may reach: small pure functions over `std::net`
//! addresses and `ipnet` ranges, tested with a table below.
//!
//! An address is refused when it is not a public unicast destination: loopback, private
//! (RFC 1918, ULA), link-local (cloud metadata at 169.254.169.254 included), shared (CGNAT),
//! multicast, broadcast, unspecified, documentation, benchmarking or otherwise reserved
//! (the IANA special-purpose registries), and an IPv6 address that embeds such an IPv4 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). IPv6 outside global unicast
//! (`2000::/3`) is refused, except the well-known NAT64 prefix with a public IPv4 inside.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// The special-purpose range an address was refused for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Range {
    /// `0.0.0.0`, `::`.
    Unspecified,
    /// `0.0.0.0/8`: "this network".
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`: shared address space (carrier-grade NAT).
    SharedAddressSpace,
    /// `169.254.0.0/16` (cloud metadata services live here), `fe80::/10`.
    LinkLocal,
    /// `192.0.0.0/24`: IETF protocol assignments.
    ProtocolAssignments,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`: benchmarking.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `fc00::/7`: unique local addresses.
    UniqueLocal,
    /// `fec0::/10`: deprecated site-local addresses.
    SiteLocal,
    /// `64:ff9b:1::/48`: local-use NAT64 (RFC 8215), a translator inside the network.
    LocalNat64,
    /// Anything else reserved: `240.0.0.0/4`, `192.88.99.0/24`, the IPv4-compatible `::/96`,
    /// `100::/64`, ORCHID, and IPv6 outside `2000::/3`.
    Reserved,
}

impl Range {
    /// A short name for logs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Unspecified => "unspecified",
            Range::ThisNetwork => "this-network",
            Range::Loopback => "loopback",
            Range::Private => "private",
            Range::SharedAddressSpace => "shared address space (CGNAT)",
            Range::LinkLocal => "link-local",
            Range::ProtocolAssignments => "IETF protocol assignments",
            Range::Documentation => "documentation",
            Range::Benchmarking => "benchmarking",
            Range::Multicast => "multicast",
            Range::Broadcast => "broadcast",
            Range::UniqueLocal => "unique local",
            Range::SiteLocal => "site-local",
            Range::LocalNat64 => "local-use NAT64",
            Range::Reserved => "reserved",
        }
    }
}

/// How an IPv4 address was carried inside an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Embedding {
    /// `::ffff:a.b.c.d`.
    Ipv4Mapped,
    /// `::a.b.c.d` (deprecated).
    Ipv4Compatible,
    /// `64:ff9b::a.b.c.d` (RFC 6052).
    Nat64,
    /// `2002:aabb:ccdd::/48` (RFC 3056).
    SixToFour,
    /// `2001:0::/32`, server or (obfuscated) client address (RFC 4380).
    Teredo,
}

impl Embedding {
    /// A short name for logs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Embedding::Ipv4Mapped => "IPv4-mapped",
            Embedding::Ipv4Compatible => "IPv4-compatible",
            Embedding::Nat64 => "NAT64",
            Embedding::SixToFour => "6to4",
            Embedding::Teredo => "Teredo",
        }
    }
}

/// Why an address is refused: its range, and the IPv6 form it was embedded in, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blocked {
    /// The special-purpose range.
    pub range: Range,
    /// Set when the refused IPv4 address was inside an IPv6 address.
    pub embedded: Option<Embedding>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            None => f.write_str(self.range.as_str()),
            Some(e) => write!(f, "{} (embedded, {})", self.range.as_str(), e.as_str()),
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, len: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0), len)
}

/// IPv4 ranges without a std method (yet, on stable).
const V4_RANGES: &[(Ipv4Net, Range)] = &[
    (v4(0, 0, 0, 0, 8), Range::ThisNetwork),
    (v4(100, 64, 0, 0, 10), Range::SharedAddressSpace),
    (v4(192, 0, 0, 0, 24), Range::ProtocolAssignments),
    (v4(192, 88, 99, 0, 24), Range::Reserved),
    (v4(198, 18, 0, 0, 15), Range::Benchmarking),
    (v4(240, 0, 0, 0, 4), Range::Reserved),
];

/// IPv6 ranges inside `2000::/3` that are not public destinations.
const V6_RANGES: &[(Ipv6Net, Range)] = &[
    (v6(0x2001, 0x0002, 0, 0, 48), Range::Benchmarking),
    (v6(0x2001, 0x0db8, 0, 0, 32), Range::Documentation),
    (v6(0x3fff, 0, 0, 0, 20), Range::Documentation),
    (v6(0x2001, 0x0010, 0, 0, 28), Range::Reserved), // ORCHID (deprecated)
    (v6(0x2001, 0x0020, 0, 0, 28), Range::Reserved), // ORCHIDv2
];

const GLOBAL_UNICAST: Ipv6Net = v6(0x2000, 0, 0, 0, 3);
const NAT64: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);
const LOCAL_NAT64: Ipv6Net = v6(0x64, 0xff9b, 1, 0, 48);
const SIX_TO_FOUR: Ipv6Net = v6(0x2002, 0, 0, 0, 16);
const TEREDO: Ipv6Net = v6(0x2001, 0, 0, 0, 32);
const DISCARD: Ipv6Net = v6(0x0100, 0, 0, 0, 64);

/// `Ok` when `ip` is a public unicast address an outbound request may reach.
pub fn classify(ip: IpAddr) -> Result<(), Blocked> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip).map_err(|range| Blocked {
            range,
            embedded: None,
        }),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

/// `Ok` when `ip` is a public unicast IPv4 address.
pub fn classify_v4(ip: Ipv4Addr) -> Result<(), Range> {
    let range = if ip.is_unspecified() {
        Range::Unspecified
    } else if ip.is_loopback() {
        Range::Loopback
    } else if ip.is_private() {
        Range::Private
    } else if ip.is_link_local() {
        Range::LinkLocal
    } else if ip.is_documentation() {
        Range::Documentation
    } else if ip.is_multicast() {
        Range::Multicast
    } else if ip.is_broadcast() {
        Range::Broadcast
    } else if let Some((_, range)) = V4_RANGES.iter().find(|(net, _)| net.contains(&ip)) {
        *range
    } else {
        return Ok(());
    };
    Err(range)
}

/// `Ok` when `ip` is a public unicast IPv6 address (or embeds a public IPv4 address in a form
/// that reaches it).
pub fn classify_v6(ip: Ipv6Addr) -> Result<(), Blocked> {
    let plain = |range| {
        Err(Blocked {
            range,
            embedded: None,
        })
    };
    let inside = |embedding, v4: Ipv4Addr| {
        classify_v4(v4).map_err(|range| Blocked {
            range,
            embedded: Some(embedding),
        })
    };
    if ip.is_unspecified() {
        return plain(Range::Unspecified);
    }
    if ip.is_loopback() {
        return plain(Range::Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return inside(Embedding::Ipv4Mapped, v4);
    }
    let bits = ip.to_bits();
    if bits >> 32 == 0 {
        // `::a.b.c.d`: deprecated (RFC 4291); refused even around a public address.
        inside(Embedding::Ipv4Compatible, Ipv4Addr::from_bits(bits as u32))?;
        return plain(Range::Reserved);
    }
    if NAT64.contains(&ip) {
        return inside(Embedding::Nat64, Ipv4Addr::from_bits(bits as u32));
    }
    if LOCAL_NAT64.contains(&ip) {
        return plain(Range::LocalNat64);
    }
    if ip.is_multicast() {
        return plain(Range::Multicast);
    }
    if ip.is_unicast_link_local() {
        return plain(Range::LinkLocal);
    }
    if ip.is_unique_local() {
        return plain(Range::UniqueLocal);
    }
    if (ip.segments()[0] & 0xffc0) == 0xfec0 {
        return plain(Range::SiteLocal);
    }
    if DISCARD.contains(&ip) || !GLOBAL_UNICAST.contains(&ip) {
        return plain(Range::Reserved);
    }
    if SIX_TO_FOUR.contains(&ip) {
        return inside(
            Embedding::SixToFour,
            Ipv4Addr::from_bits((bits >> 80) as u32),
        );
    }
    if TEREDO.contains(&ip) {
        inside(Embedding::Teredo, Ipv4Addr::from_bits((bits >> 64) as u32))?;
        return inside(Embedding::Teredo, Ipv4Addr::from_bits(!(bits as u32)));
    }
    if let Some((_, range)) = V6_RANGES.iter().find(|(net, _)| net.contains(&ip)) {
        return plain(*range);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
}
