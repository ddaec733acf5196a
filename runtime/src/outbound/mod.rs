//! Outbound HTTP that cannot be pointed inside (OWASP API7, server-side request forgery), and
//! safe consumption of what comes back (OWASP API10).
//!
//! [`OutboundClient`] is a [`reqwest`] client with a guard around every connection:
//!
//! - **Only `https`** (plain `http` only with [`allow_http`](OutboundClientBuilder::allow_http),
//!   for tests), **only port 443** unless [`allow_ports`](OutboundClientBuilder::allow_ports)
//!   says otherwise, **no userinfo** (`https://user:pass@host/`) and, when
//!   [`allow_hosts`](OutboundClientBuilder::allow_hosts) is set, only those hosts.
//! - **Every address is vetted after resolution** (see [`classify`]): loopback, private
//!   (RFC 1918, ULA), link-local (cloud metadata at `169.254.169.254` included), CGNAT,
//!   multicast, broadcast, unspecified, documentation, benchmarking and reserved ranges, and
//!   IPv6 forms that embed such an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
//!   Teredo) are refused, as is anything outside
//!   [`allow_networks`](OutboundClientBuilder::allow_networks) when it is set. A name that
//!   resolves to any refused address is refused as a whole. Exceptions are explicit:
//!   [`allow_internal`](OutboundClientBuilder::allow_internal).
//! - **One resolution, then the vetted addresses**: the client's DNS resolver is the guard (a
//!   [`GuardedResolver`]), and the connector connects to what it returned, so a name that
//!   answers differently a moment later (DNS rebinding) cannot slip through. No proxy is used
//!   (`HTTPS_PROXY` and friends are ignored: a proxy would resolve the name itself).
//! - **Numeric host tricks** (`0x7f000001`, `2130706433`, `127.1`, `0177.0.0.1`,
//!   `[::ffff:127.0.0.1]`) are normalised by the WHATWG URL parser (the `url` crate) into the
//!   address they mean before the check.
//! - **Every redirect is checked** by the same rules before it is followed, at most
//!   [`max_redirects`](OutboundClientBuilder::max_redirects) of them (3 by default).
//! - **TLS is rustls with the ring provider**, trusting the web PKI roots (the Mozilla set of
//!   the `webpki-roots` crate, not the system store) and only the roots added with
//!   [`root_certificate_pem`](OutboundClientBuilder::root_certificate_pem) or
//!   [`root_certificate_der`](OutboundClientBuilder::root_certificate_der); it does not
//!   depend on a process-wide default crypto provider.
//! - **Connect and total timeouts** (5 s and 10 s by default) and a **response size cap**
//!   (1 MiB by default) counted while the body streams in, whatever `Content-Length` says.
//!
//! What comes back is data from a third party. [`OutboundClient::get_json`] decodes it into
//! your type, within the size cap, only from a JSON media type, and validates it with garde.
//! Errors are an [`OutboundError`] that names the rule or the failure and never carries the
//! upstream's body, status text or headers. Answer your own client with
//! [`OutboundError::to_problem`] (or `?` into a [`Problem`]): 502, or 504 for a timeout,
//! with an error id and nothing from upstream.
//!
//! ```no_run
//! # async fn example() -> Result<(), secure_endpoint::Problem> {
//! use secure_endpoint::outbound::OutboundClient;
//!
//! #[derive(serde::Deserialize, garde::Validate)]
//! struct Rates {
//!     #[garde(length(min = 3, max = 3))]
//!     base: String,
//!     #[garde(range(min = 0.0))]
//!     rate: f64,
//! }
//!
//! let client = OutboundClient::builder()
//!     .allow_hosts(["rates.example.com"])
//!     .max_response_bytes(64 * 1024)
//!     .build()
//!     .expect("client");
//! // A refused URL, an unreachable host, a 500, an oversized or invalid answer: all are an
//! // `OutboundError`, and `?` turns it into a 502 (504 on timeout) problem.
//! let rates: Rates = client.get_json("https://rates.example.com/v1/eur").await?;
//! # let _ = rates; Ok(()) }
//! ```

use std::fmt;
use std::net::IpAddr;

use http::StatusCode;

use crate::problem::Problem;

mod classify;
mod client;
mod resolve;

pub use classify::{classify, classify_v4, classify_v6, Blocked, Embedding, Range};
pub use client::{Fetched, OutboundClient, OutboundClientBuilder, OutboundRequest};
pub use ipnet::IpNet;
pub use resolve::{GuardedResolver, Lookup, LookupFuture, SystemLookup};

/// Which rule refused a URL or an address, before any connection to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Not an absolute URL with a host.
    Url,
    /// The scheme is not `https` (or `http` when allowed).
    Scheme,
    /// The URL carries a user name or password.
    Userinfo,
    /// The port is not in the port allowlist.
    Port(u16),
    /// The host is not in the host allowlist.
    Host,
    /// The address is in a special-purpose range.
    Address(IpAddr, Blocked),
    /// The address is public but outside the network allowlist.
    NotAllowlisted(IpAddr),
    /// The name resolved to no address.
    NoAddress,
    /// More redirects than allowed.
    TooManyRedirects(usize),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Url => f.write_str("not an absolute URL with a host"),
            Refusal::Scheme => f.write_str("scheme not allowed"),
            Refusal::Userinfo => f.write_str("userinfo in the URL"),
            Refusal::Port(port) => write!(f, "port {port} not allowed"),
            Refusal::Host => f.write_str("host not in the allowlist"),
            Refusal::Address(ip, blocked) => write!(f, "address {ip} is {blocked}"),
            Refusal::NotAllowlisted(ip) => write!(f, "address {ip} is outside the allowlist"),
            Refusal::NoAddress => f.write_str("the name resolved to no address"),
            Refusal::TooManyRedirects(limit) => write!(f, "more than {limit} redirects"),
        }
    }
}

/// Why an outbound request failed. Names the rule or the failure; never carries the
/// upstream's body, status text or headers (nor the URL, which may hold secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboundError {
    /// Refused by the guard before connecting (the URL, a redirect, or a resolved address).
    Refused(Refusal),
    /// The name could not be resolved.
    Dns,
    /// No connection could be made (or TLS failed).
    Connect,
    /// The connect or total timeout passed.
    Timeout,
    /// The upstream answered with a status other than 2xx (its body was not read).
    Status(StatusCode),
    /// The response body is larger than the cap, in bytes.
    TooLarge(usize),
    /// The response is not of the expected media type.
    ContentType,
    /// The body is not JSON of the expected shape.
    Decode,
    /// The decoded body failed validation: the paths of the invalid fields.
    Invalid(Vec<String>),
    /// Any other transport failure.
    Transport,
}

impl fmt::Display for OutboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundError::Refused(r) => write!(f, "outbound request refused: {r}"),
            OutboundError::Dns => f.write_str("the upstream name could not be resolved"),
            OutboundError::Connect => f.write_str("could not connect to the upstream"),
            OutboundError::Timeout => f.write_str("the upstream timed out"),
            OutboundError::Status(s) => write!(f, "the upstream answered HTTP {}", s.as_u16()),
            OutboundError::TooLarge(limit) => {
                write!(f, "the upstream response is over {limit} bytes")
            }
            OutboundError::ContentType => f.write_str("the upstream response is not JSON"),
            OutboundError::Decode => {
                f.write_str("the upstream response is not JSON of the expected shape")
            }
            OutboundError::Invalid(fields) => write!(
                f,
                "the upstream response failed validation: {}",
                fields.join(", ")
            ),
            OutboundError::Transport => f.write_str("the upstream request failed"),
        }
    }
}

impl std::error::Error for OutboundError {}

impl OutboundError {
    /// `true` when the guard refused the request before connecting.
    pub fn is_refused(&self) -> bool {
        matches!(self, OutboundError::Refused(_))
    }

    /// The problem to answer your own client with: 504 `upstream_timeout` for a timeout, else
    /// 502 `upstream_error`. A fixed detail and the error id only: nothing of the upstream's
    /// answer, and not which rule refused (that is logged, under the target
    /// `secure_endpoint::outbound`).
    ///
    /// When the URL came from your client (an "import from URL" endpoint), a refusal is their
    /// mistake, not an upstream failure: answer [`is_refused`](Self::is_refused) errors with a
    /// 422 of your own instead.
    pub fn to_problem(&self) -> Problem {
        tracing::warn!(target: "secure_endpoint::outbound", error = %self, "upstream request failed");
        if *self == OutboundError::Timeout {
            Problem::new(StatusCode::GATEWAY_TIMEOUT)
                .with_code("upstream_timeout")
                .with_detail("An upstream service did not answer in time.")
        } else {
            Problem::new(StatusCode::BAD_GATEWAY)
                .with_code("upstream_error")
                .with_detail(
                    "An upstream service could not be used. Quote the error id when reporting it.",
                )
        }
    }
}

impl From<OutboundError> for Problem {
    fn from(error: OutboundError) -> Self {
        error.to_problem()
    }
}

/// What may be reached: the rules every URL and every resolved address are checked against.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) allow_http: bool,
    pub(crate) ports: Vec<u16>,
    /// Lowercase names without a trailing dot; `*.example.com` matches subdomains.
    pub(crate) hosts: Option<Vec<String>>,
    pub(crate) networks: Vec<IpNet>,
    pub(crate) internal: Vec<IpNet>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_http: false,
            ports: vec![443],
            hosts: None,
            networks: Vec::new(),
            internal: Vec::new(),
        }
    }
}

impl Policy {
    /// Checks one resolved (or literal) address.
    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.internal.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        classify::classify(ip).map_err(|blocked| Refusal::Address(ip, blocked))?;
        if !self.networks.is_empty() && !self.networks.iter().any(|net| net.contains(&ip)) {
            return Err(Refusal::NotAllowlisted(ip));
        }
        Ok(())
    }

    /// Checks a URL (the first one or a redirect's) before anything connects: scheme,
    /// userinfo, port, host allowlist, and the address when the host is an IP literal.
    pub(crate) fn check_url(&self, url: &url::Url) -> Result<(), Refusal> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(Refusal::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Userinfo);
        }
        let host = url.host().ok_or(Refusal::Url)?;
        let port = url.port_or_known_default().ok_or(Refusal::Url)?;
        if !self.ports.contains(&port) {
            return Err(Refusal::Port(port));
        }
        if let Some(hosts) = &self.hosts {
            let name = url.host_str().unwrap_or_default();
            let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
            if !hosts.iter().any(|pattern| host_matches(pattern, &name)) {
                return Err(Refusal::Host);
            }
        }
        match host {
            url::Host::Ipv4(ip) => self.check_ip(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => self.check_ip(IpAddr::V6(ip)),
            url::Host::Domain(_) => Ok(()),
        }
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => pattern == host,
    }
}

/// The first [`OutboundError`] in an error's source chain (the guard's refusals travel through
/// reqwest and hyper as boxed sources).
pub(crate) fn find_outbound_error(
    error: &(dyn std::error::Error + 'static),
) -> Option<OutboundError> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<OutboundError>() {
            return Some(found.clone());
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests;
