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
#[path = "classify_tests.rs"]
mod tests;
