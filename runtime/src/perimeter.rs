//! The perimeter: checks on the request as a whole, before any authentication work.
//!
//! - **Who is the client.** The connection's peer, unless the peer is a configured trusted
//!   proxy: then the forwarding headers (`Forwarded`, else `X-Forwarded-For`) are read from
//!   the right, skipping trusted proxies, and the first untrusted address is the client. A
//!   forwarding header from anyone else changes nothing, so a spoofed `X-Forwarded-For` does
//!   not escape a per-IP limit.
//! - **HTTPS.** By default every request must have arrived over TLS: on a listener marked
//!   [`Https`] (see [`mark_https`]), or from a trusted proxy that says `proto=https` /
//!   `X-Forwarded-Proto: https`. Anything else is refused with 403, without a redirect (a
//!   redirect would teach clients that plain HTTP works, and their credentials have already
//!   crossed the network in clear).
//! - **Shape.** A request target over 8 KiB is refused with 414, request headers over 16 KiB
//!   in total with 431, both as problem+json (hyper's own, larger, limits answer without a
//!   body).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{HeaderMap, StatusCode};

use crate::problem::Problem;

/// Default longest request target (path and query), in bytes.
pub const DEFAULT_MAX_URI_LEN: usize = 8 * 1024;

/// Default largest total of request header names and values, in bytes.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// Marks requests that arrived over TLS on this server. Insert it on every request of a TLS
/// listener with [`mark_https`]; without it (and without a trusted proxy saying `https`), a
/// router that requires HTTPS refuses the request with 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Https;

/// Marks every request of `router` as received over TLS: use it for the router served on a
/// TLS listener only.
pub fn mark_https<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.layer(axum::Extension(Https))
}

/// An IP network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or a single address).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl fmt::Debug for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A malformed network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidNetwork(pub String);

impl fmt::Display for InvalidNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an IP network in CIDR notation: {:?}", self.0)
    }
}

impl std::error::Error for InvalidNetwork {}

impl std::str::FromStr for IpNet {
    type Err = InvalidNetwork;

    fn from_str(s: &str) -> Result<Self, InvalidNetwork> {
        let invalid = || InvalidNetwork(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().map_err(|_| invalid())?
            }
            Some(_) => return Err(invalid()),
        };
        if prefix > max {
            return Err(invalid());
        }
        // An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps, with
        // the prefix counted in IPv4 bits (found by the fuzz corpus: the IPv6 prefix was kept
        // with the IPv4 address, and matching overflowed).
        match addr {
            IpAddr::V6(v6) if prefix >= 96 => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return Ok(IpNet {
                        addr: IpAddr::V4(v4),
                        prefix: prefix - 96,
                    });
                }
            }
            _ => {}
        }
        Ok(IpNet { addr, prefix })
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl IpNet {
    /// `true` if `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            match width.checked_sub(prefix) {
                Some(shift) if prefix > 0 => bits >> shift,
                Some(_) => 0,
                // Not reachable: parsing keeps the prefix within the address width.
                None => bits,
            }
        }
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// What the perimeter concluded about the client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    /// The address rate limits count by.
    pub(crate) ip: IpAddr,
    /// Whether the request reached the client-facing server over TLS.
    pub(crate) https: bool,
}

/// The perimeter configuration (part of [`Security`](crate::Security)).
#[derive(Debug, Clone)]
pub(crate) struct Perimeter {
    pub(crate) trusted_proxies: Vec<IpNet>,
    pub(crate) require_https: bool,
    pub(crate) max_uri_len: usize,
    pub(crate) max_header_bytes: usize,
}

impl Default for Perimeter {
    fn default() -> Self {
        Perimeter {
            trusted_proxies: Vec::new(),
            require_https: true,
            max_uri_len: DEFAULT_MAX_URI_LEN,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl Perimeter {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// [`client`](Self::client) for a whole request.
    pub(crate) fn client_of<B>(&self, request: &http::Request<B>) -> Client {
        self.client_from(request.extensions(), request.headers())
    }

    /// The client behind the connection (see the module documentation).
    pub(crate) fn client(&self, parts: &Parts) -> Client {
        self.client_from(&parts.extensions, &parts.headers)
    }

    fn client_from(&self, extensions: &http::Extensions, headers: &HeaderMap) -> Client {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| canonical(ci.0.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let direct_tls = extensions.get::<Https>().is_some();
        if self.trusted_proxies.is_empty() || !self.trusted(peer) {
            return Client {
                ip: peer,
                https: direct_tls,
            };
        }
        match forwarded(headers) {
            Some(hops) => {
                // From the nearest hop outwards: the first address that is not a trusted proxy
                // is the client; its `proto` is what the client used.
                let mut client = Client {
                    ip: peer,
                    https: direct_tls,
                };
                for hop in hops.iter().rev() {
                    let Some(ip) = hop.ip else {
                        // An obfuscated or malformed hop: the nearest known address stands.
                        break;
                    };
                    client = Client {
                        ip,
                        https: hop.https.unwrap_or(client.https),
                    };
                    if !self.trusted(ip) {
                        break;
                    }
                }
                client
            }
            None => Client {
                ip: x_forwarded_for(headers, |ip| self.trusted(ip)).unwrap_or(peer),
                https: x_forwarded_proto(headers).unwrap_or(direct_tls),
            },
        }
    }

    /// 403 without HTTPS, 414 for a long target, 431 for large headers.
    pub(crate) fn check(&self, parts: &Parts, client: &Client) -> Result<(), Problem> {
        if self.require_https && !client.https {
            return Err(Problem::new(StatusCode::FORBIDDEN)
                .with_code("https_required")
                .with_detail("HTTPS is required."));
        }
        let target_len = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if target_len > self.max_uri_len {
            return Err(Problem::new(StatusCode::URI_TOO_LONG)
                .with_detail("The request target is too long."));
        }
        let header_bytes: usize = parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > self.max_header_bytes {
            return Err(Problem::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
                .with_detail("The request headers are too large."));
        }
        Ok(())
    }
}

/// One hop of a `Forwarded` header (RFC 7239).
#[derive(Debug, PartialEq, Eq)]
struct Hop {
    ip: Option<IpAddr>,
    https: Option<bool>,
}

/// The hops of every `Forwarded` header, in order; `None` when there is none.
fn forwarded(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let mut values = headers.get_all(http::header::FORWARDED).iter().peekable();
    values.peek()?;
    let mut hops = Vec::new();
    for value in values {
        let Ok(value) = value.to_str() else {
            hops.push(Hop {
                ip: None,
                https: None,
            });
            continue;
        };
        for element in value.split(',') {
            let mut hop = Hop {
                ip: None,
                https: None,
            };
            for pair in element.split(';') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                if name.trim().eq_ignore_ascii_case("for") {
                    hop.ip = parse_node(value);
                } else if name.trim().eq_ignore_ascii_case("proto") {
                    hop.https = Some(value.eq_ignore_ascii_case("https"));
                }
            }
            hops.push(hop);
        }
    }
    Some(hops)
}

/// A `for=` node: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse().ok().map(canonical);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (ip, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The rightmost `X-Forwarded-For` address that is not a trusted proxy (or the leftmost, if
/// all are trusted). A malformed entry stops the walk.
fn x_forwarded_for(headers: &HeaderMap, trusted: impl Fn(IpAddr) -> bool) -> Option<IpAddr> {
    let mut entries: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        entries.extend(value.to_str().ok()?.split(','));
    }
    let mut client = None;
    for entry in entries.iter().rev() {
        let ip = parse_node(entry.trim())?;
        client = Some(ip);
        if !trusted(ip) {
            break;
        }
    }
    client
}

/// `X-Forwarded-Proto`: the value the nearest proxy set (the rightmost).
fn x_forwarded_proto(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get_all("x-forwarded-proto").iter().next_back()?;
    let last = value.to_str().ok()?.rsplit(',').next()?.trim();
    Some(last.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let spoofed = [
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ];
        // Untrusted peer: the headers change nothing.
        let c = perimeter(&[]).client(&parts("198.51.100.7", false, &spoofed));
        assert_eq!((c.ip, c.https), (ip("198.51.100.7"), false));
        let c = perimeter(&["10.0.0.0/8"]).client(&parts("198.51.100.7", false, &spoofed));
        assert_eq!((c.ip, c.https), (ip("198.51.100.7"), false));
        // Trusted proxy: the rightmost untrusted address; spoofed entries to its left ignored.
        let h = [
            ("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5"),
            ("x-forwarded-proto", "https"),
        ];
        let c = perimeter(&["10.0.0.0/8"]).client(&parts("10.0.0.2", false, &h));
        assert_eq!((c.ip, c.https), (ip("203.0.113.9"), true));
        // Forwarded (RFC 7239) wins over X-Forwarded-*.
        let h = [
            (
                "forwarded",
                "for=1.1.1.1;proto=https, for=\"[2001:db8::7]:443\";proto=http",
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ];
        let c = perimeter(&["10.0.0.0/8"]).client(&parts("10.0.0.2", true, &h));
        assert_eq!((c.ip, c.https), (ip("2001:db8::7"), false));
        // All hops trusted: the leftmost.
        let h = [("x-forwarded-for", "10.1.1.1, 10.2.2.2")];
        let c = perimeter(&["10.0.0.0/8"]).client(&parts("10.0.0.2", false, &h));
        assert_eq!(c.ip, ip("10.1.1.1"));
        // Malformed nearest entry: the proxy itself stands.
        let h = [("x-forwarded-for", "203.0.113.9, garbage")];
        let c = perimeter(&["10.0.0.0/8"]).client(&parts("10.0.0.2", false, &h));
        assert_eq!(c.ip, ip("10.0.0.2"));
    }
}
