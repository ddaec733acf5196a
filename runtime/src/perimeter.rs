//! The perimeter: checks on the request as a whole, before any authentication work.
//!
//! - **Who is the client.** The connection's peer, unless the peer is a configured trusted
//!   proxy: then the one header that proxy is configured to set ([`ProxyHeaders`]:
//!   `X-Forwarded-For` by default, RFC 7239 `Forwarded`, or a single-address header such as
//!   `CF-Connecting-IP`) is read hop by hop from the right, skipping trusted proxies, and the
//!   first untrusted address is the client. No other forwarding header is ever read, and a
//!   forwarding header from anyone but a trusted proxy changes nothing, so a spoofed
//!   `X-Forwarded-For` or `Forwarded` does not escape a per-IP limit. A malformed hop at or
//!   right of the client is refused with 400 (`malformed_forwarding_header`); hops left of
//!   the client are the client's own and are ignored.
//! - **Per-IP keys.** IPv4 clients (IPv4-mapped IPv6 ones included) are counted by address,
//!   IPv6 clients by their /64 network (one ordinary allocation; see
//!   [`SecurityBuilder::ipv6_prefix`](crate::SecurityBuilder::ipv6_prefix)).
//! - **The peer must be known.** A router served without connect info
//!   (`into_make_service_with_connect_info::<SocketAddr>()`) answers every request with 500
//!   and logs the fix once, rather than counting every client in one shared bucket. In-process
//!   (`oneshot`) tests wrap the router in [`in_process`](crate::in_process) instead.
//! - **HTTPS.** By default every request must have arrived over TLS: on a listener marked
//!   [`Https`] (see [`mark_https`]), or from a trusted proxy whose configured scheme source
//!   says `https`. Anything else is refused with 403, without a redirect (a redirect would
//!   teach clients that plain HTTP works, and their credentials have already crossed the
//!   network in clear).
//! - **Shape.** A request target over 8 KiB is refused with 414, request headers over 16 KiB
//!   in total with 431, both as problem+json (hyper's own, larger, limits answer without a
//!   body).

mod forwarding;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{HeaderMap, HeaderName, StatusCode};

use crate::problem::Problem;
use forwarding::Walk;

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
/// IPv4-mapped IPv6 networks (`::ffff:10.0.0.0/104`) are the IPv4 networks they map, and
/// IPv4-mapped addresses are matched as IPv4. Built on the `ipnet` crate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet(ipnet::IpNet);

impl fmt::Debug for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.addr(), self.0.prefix_len())
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
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
        // Parsed here rather than by `ipnet`'s `FromStr`: a single address (no `/`) is a
        // network too, and the prefix is plain digits only.
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
        // An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps, with
        // the prefix counted in IPv4 bits (found by the fuzz corpus: the IPv6 prefix was kept
        // with the IPv4 address, and matching overflowed).
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if prefix >= 96 && prefix <= max => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (addr, prefix),
            },
            _ => (addr, prefix),
        };
        ipnet::IpNet::new(addr, prefix)
            .map(IpNet)
            .map_err(|_| invalid())
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
        self.0.contains(&canonical(ip))
    }

    /// The network `ip` is in when only its first `prefix` bits count (IPv4-mapped addresses
    /// as IPv4; a prefix longer than the address is the address itself).
    pub fn of(ip: IpAddr, prefix: u8) -> IpNet {
        let ip = canonical(ip);
        let max = if ip.is_ipv4() { 32 } else { 128 };
        IpNet(ipnet::IpNet::new_assert(ip, prefix.min(max)).trunc())
    }

    /// The address the network was written with (its first address, for [`IpNet::of`]).
    pub fn addr(&self) -> IpAddr {
        self.0.addr()
    }

    /// The prefix length, in bits.
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// `true` when the network is one address (`/32`, `/128`).
    pub fn is_single_address(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }
}

/// Which header a trusted proxy reports the client in. Exactly this one is read (from trusted
/// proxies only); no other forwarding header is ever looked at, so a header the proxy passes
/// through untouched cannot pick the client's address or scheme.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyHeaders {
    /// `X-Forwarded-For` (appended to by every proxy: nginx
    /// `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`, AWS ALB, Cloudflare),
    /// and `X-Forwarded-Proto` for the scheme (the rightmost value: the nearest proxy's).
    /// `Forwarded` is ignored. The default.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`: `for=` of the client's element is the client, its `proto=` the
    /// scheme the client used. `X-Forwarded-*` are ignored.
    Forwarded,
    /// One header that holds the client's address alone, set (overwritten) by the nearest
    /// proxy: `X-Real-IP` (nginx `proxy_set_header X-Real-IP $remote_addr`) or
    /// `CF-Connecting-IP` (Cloudflare). It must be exactly one line with one address, or the
    /// request is refused with 400. `X-Forwarded-For` and `Forwarded` are ignored.
    ClientHeader {
        /// The header with the client's address.
        address: HeaderName,
        /// Where the scheme the client used comes from.
        scheme: SchemeSource,
    },
}

impl ProxyHeaders {
    /// [`ProxyHeaders::ClientHeader`] reading the address from `name` and the scheme from
    /// `X-Forwarded-Proto` (which Cloudflare sets, and nginx with
    /// `proxy_set_header X-Forwarded-Proto $scheme`).
    ///
    /// # Panics
    /// At start-up, when `name` is not a valid header name.
    pub fn client_header(name: &str) -> Self {
        let address = HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| {
            panic!("`ProxyHeaders::client_header`: {name:?} is not a header name")
        });
        ProxyHeaders::ClientHeader {
            address,
            scheme: SchemeSource::Header(HeaderName::from_static("x-forwarded-proto")),
        }
    }
}

/// Where the scheme a client used comes from with [`ProxyHeaders::ClientHeader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeSource {
    /// A header the proxy sets to `https` or `http` (its rightmost value counts);
    /// when absent, the scheme of the connection from the proxy.
    Header(HeaderName),
    /// The connection from the proxy: `https` only when it arrived on a listener marked
    /// with [`mark_https`] (a proxy that re-encrypts and serves only HTTPS to clients).
    Connection,
}

/// Default IPv6 prefix per-IP limits count a client by.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// What the perimeter concluded about the client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    /// The client's address (what `ClientIp` and security events see).
    pub(crate) ip: IpAddr,
    /// What per-IP rate limits count it by: the address for IPv4, its network for IPv6.
    pub(crate) key: IpNet,
    /// Whether the request reached the client-facing server over TLS.
    pub(crate) https: bool,
}

/// The perimeter configuration (part of [`Security`](crate::Security)).
#[derive(Debug, Clone)]
pub(crate) struct Perimeter {
    pub(crate) trusted_proxies: Vec<IpNet>,
    pub(crate) proxy_headers: ProxyHeaders,
    pub(crate) ipv6_prefix: u8,
    pub(crate) require_https: bool,
    pub(crate) max_uri_len: usize,
    pub(crate) max_header_bytes: usize,
    /// The missing-connect-info error has been logged (once per router).
    no_peer_logged: Arc<AtomicBool>,
}

impl Default for Perimeter {
    fn default() -> Self {
        Perimeter {
            trusted_proxies: Vec::new(),
            proxy_headers: ProxyHeaders::default(),
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
            require_https: true,
            max_uri_len: DEFAULT_MAX_URI_LEN,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            no_peer_logged: Arc::default(),
        }
    }
}

impl Perimeter {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// `true` when the connection's peer is a trusted proxy: the one decision that lets a
    /// forwarding header (or an mTLS proxy's `Client-Cert`) be read at all.
    pub(crate) fn peer_is_trusted_proxy(&self, extensions: &http::Extensions) -> bool {
        let peer = match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => addr.ip(),
            None => match extensions.get::<MockConnectInfo<SocketAddr>>() {
                Some(MockConnectInfo(addr)) => addr.ip(),
                None => return false,
            },
        };
        self.trusted(canonical(peer))
    }

    /// [`client`](Self::client) for a whole request.
    pub(crate) fn client_of<B>(&self, request: &http::Request<B>) -> Result<Client, Problem> {
        self.client_from(request.extensions(), request.headers())
    }

    /// The client behind the connection (see the module documentation): 400 for a malformed
    /// forwarding header from a trusted proxy, 500 when the router is served without the
    /// peer's address.
    pub(crate) fn client(&self, parts: &Parts) -> Result<Client, Problem> {
        self.client_from(&parts.extensions, &parts.headers)
    }

    fn client_from(
        &self,
        extensions: &http::Extensions,
        headers: &HeaderMap,
    ) -> Result<Client, Problem> {
        let peer = match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => addr.ip(),
            None => match extensions.get::<MockConnectInfo<SocketAddr>>() {
                Some(MockConnectInfo(addr)) => addr.ip(),
                None => return Err(self.no_peer()),
            },
        };
        let peer = canonical(peer);
        let direct_tls = extensions.get::<Https>().is_some();
        let (ip, https) = if self.trusted_proxies.is_empty() || !self.trusted(peer) {
            (peer, direct_tls)
        } else {
            let trusted = |ip| self.trusted(ip);
            match &self.proxy_headers {
                ProxyHeaders::XForwardedFor => {
                    let ip = match forwarding::x_forwarded_for(headers, trusted) {
                        Walk::Absent => peer,
                        Walk::Client(hop) => hop.ip,
                        Walk::Malformed => {
                            return Err(malformed("The X-Forwarded-For header is malformed."))
                        }
                    };
                    let proto = HeaderName::from_static("x-forwarded-proto");
                    (
                        ip,
                        forwarding::scheme_is_https(headers, &proto).unwrap_or(direct_tls),
                    )
                }
                ProxyHeaders::Forwarded => match forwarding::forwarded(headers, trusted) {
                    Walk::Absent => (peer, direct_tls),
                    Walk::Client(hop) => (hop.ip, hop.https.unwrap_or(direct_tls)),
                    Walk::Malformed => return Err(malformed("The Forwarded header is malformed.")),
                },
                ProxyHeaders::ClientHeader { address, scheme } => {
                    let ip = match forwarding::single(headers, address) {
                        Walk::Absent => peer,
                        Walk::Client(hop) => hop.ip,
                        Walk::Malformed => {
                            return Err(malformed("The client address header is malformed."))
                        }
                    };
                    let https = match scheme {
                        SchemeSource::Header(name) => {
                            forwarding::scheme_is_https(headers, name).unwrap_or(direct_tls)
                        }
                        SchemeSource::Connection => direct_tls,
                    };
                    (ip, https)
                }
            }
        };
        Ok(Client {
            ip,
            key: self.key(ip),
            https,
        })
    }

    /// What per-IP limits count `ip` by: IPv4 by address, IPv6 by its `ipv6_prefix` network.
    pub(crate) fn key(&self, ip: IpAddr) -> IpNet {
        IpNet::of(ip, self.ipv6_prefix)
    }

    /// 500, and (once) the error that says how to serve the router.
    fn no_peer(&self) -> Problem {
        if !self.no_peer_logged.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "secure-endpoint: a request arrived without the peer's address, so per-IP \
                 limits cannot tell clients apart and every request is refused with 500. \
                 Serve the router with `into_make_service_with_connect_info::<SocketAddr>()` \
                 (or `SecureRouter::into_make_service()`); in-process callers (`oneshot`) add \
                 `axum::extract::connect_info::MockConnectInfo(addr)` as a layer"
            );
        }
        Problem::internal().with_reason("peer_address_unknown")
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

/// 400: a trusted proxy's forwarding header cannot be read where the client is.
fn malformed(detail: &'static str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST)
        .with_code("malformed_forwarding_header")
        .with_detail(detail)
        .with_reason("malformed_forwarding_header")
}

#[cfg(test)]
mod tests;
