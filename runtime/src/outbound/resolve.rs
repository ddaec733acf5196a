//! The guard at name resolution: [`GuardedResolver`] is the outbound client's DNS resolver. It
//! looks a name up once, vets every address, and hands the connector only vetted addresses,
//! so the connection goes to exactly what was checked (no second lookup to rebind).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{OutboundError, Policy, Refusal};

/// The future a [`Lookup`] returns.
pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Name resolution: a host name to its addresses. [`SystemLookup`] by default; tests map names
/// to addresses of their choosing.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host` (a domain name, never an IP literal).
    fn lookup<'a>(&'a self, host: &'a str) -> LookupFuture<'a>;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host, 0))
                .await?
                .map(|addr| addr.ip())
                .collect())
        })
    }
}

/// The outbound client's DNS resolver: refuses names resolving to addresses the policy refuses.
///
/// A name is refused as a whole if any of its addresses is refused (an answer mixing a public
/// and an internal address is an attack, not a fallback). The error is an [`OutboundError`],
/// found in the source chain of the HTTP client's error.
#[derive(Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    policy: Arc<Policy>,
}

impl fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl GuardedResolver {
    pub(crate) fn new(lookup: Arc<dyn Lookup>, policy: Arc<Policy>) -> Self {
        GuardedResolver { lookup, policy }
    }

    /// Looks `host` up and vets the answer: the addresses a connection may go to, or why not.
    pub async fn vetted(&self, host: &str) -> Result<Vec<IpAddr>, OutboundError> {
        let addresses = self
            .lookup
            .lookup(host)
            .await
            .map_err(|_| OutboundError::Dns)?;
        if addresses.is_empty() {
            return Err(OutboundError::Refused(Refusal::NoAddress));
        }
        for ip in &addresses {
            self.policy.check_ip(*ip).map_err(OutboundError::Refused)?;
        }
        Ok(addresses)
    }
}

/// The guard as reqwest's DNS resolver. A private adapter, so that `GuardedResolver`'s API
/// names no reqwest type (a reqwest major would otherwise change it).
pub(crate) struct ReqwestResolver(pub(crate) GuardedResolver);

impl Resolve for ReqwestResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.0.clone();
        Box::pin(async move {
            let addresses = this.vetted(name.as_str()).await?;
            // Port 0 is replaced by the URL's port (checked by the policy before sending).
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
