//! [`OutboundClient`]: reqwest, with the guard as its DNS resolver and redirect policy.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::resolve::{GuardedResolver, Lookup, ReqwestResolver, SystemLookup};
use super::{find_outbound_error, IpNet, OutboundError, Policy, Refusal};

/// Default for [`OutboundClientBuilder::max_redirects`].
const DEFAULT_MAX_REDIRECTS: usize = 3;
/// Default for [`OutboundClientBuilder::connect_timeout`].
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for [`OutboundClientBuilder::timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`OutboundClientBuilder::max_response_bytes`].
const DEFAULT_MAX_RESPONSE: usize = 1024 * 1024;

/// An HTTP client that refuses to reach internal addresses; see the [module](super) docs.
///
/// Cheap to clone (connections are pooled and shared). Build one per upstream, with the
/// tightest allowlists that fit it.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    inner: reqwest::Client,
    policy: Arc<Policy>,
    resolver: GuardedResolver,
    max_response: usize,
}

/// Configures an [`OutboundClient`].
#[must_use]
pub struct OutboundClientBuilder {
    policy: Policy,
    lookup: Arc<dyn Lookup>,
    max_redirects: usize,
    connect_timeout: Duration,
    timeout: Duration,
    max_response: usize,
    /// The roots added to the web PKI roots, checked as they were added.
    roots: RootCertStore,
}

impl std::fmt::Debug for OutboundClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClientBuilder")
            .field("policy", &self.policy)
            .field("max_redirects", &self.max_redirects)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response", &self.max_response)
            .field("extra_roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

/// A successful (2xx) response, read in full within the size cap.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The status (always 2xx).
    pub status: StatusCode,
    /// The `Content-Type` header, if any and if it is valid text.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl OutboundClientBuilder {
    /// Also allows plain `http://` (for tests against a local fixture; never for production
    /// traffic, which can be read and altered on the way).
    pub fn allow_http(mut self) -> Self {
        self.policy.allow_http = true;
        self
    }

    /// The ports a URL may name (default: 443 only). Replaces the list.
    pub fn allow_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.policy.ports = ports.into_iter().collect();
        self
    }

    /// Only these hosts may be requested, redirects included: exact names, or `*.example.com`
    /// for its subdomains (case and a trailing dot do not matter). An IP-literal URL matches
    /// only its literal (`127.0.0.1`, `[::1]`). Adds to the list.
    pub fn allow_hosts(mut self, hosts: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let list = self.policy.hosts.get_or_insert_with(Vec::new);
        for host in hosts {
            let host = host.as_ref();
            let host = host.strip_suffix('.').unwrap_or(host);
            list.push(host.to_ascii_lowercase());
        }
        self
    }

    /// Only addresses in these networks may be connected to (the special-purpose ranges stay
    /// refused inside them). Adds to the list.
    pub fn allow_networks(mut self, networks: impl IntoIterator<Item = impl Into<IpNet>>) -> Self {
        self.policy
            .networks
            .extend(networks.into_iter().map(Into::into));
        self
    }

    /// Exceptions to the refusal of internal addresses: these addresses or networks may be
    /// connected to although they are loopback, private, link-local... Keep them as narrow as
    /// possible (`127.0.0.1/32` for a test fixture, one service's address in production). An
    /// [`IpAddr`](std::net::IpAddr) converts to a single-address network. Adds to the list.
    pub fn allow_internal(mut self, networks: impl IntoIterator<Item = impl Into<IpNet>>) -> Self {
        self.policy
            .internal
            .extend(networks.into_iter().map(Into::into));
        self
    }

    /// How many redirects are followed, each checked like the first URL (default 3; 0 follows
    /// none and fails on a redirect).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Time allowed to resolve and connect (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for the whole exchange, body included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body read, in bytes (default 1 MiB), counted as it streams in.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response = max;
        self
    }

    /// Also trusts the CA certificates in `pem` (one or more `CERTIFICATE` sections), besides
    /// the web PKI roots. Refused ([`OutboundError::Transport`]) unless every section parses
    /// and there is at least one.
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, OutboundError> {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|_| OutboundError::Transport)?;
            self.roots.add(cert).map_err(|_| OutboundError::Transport)?;
            found = true;
        }
        if !found {
            return Err(OutboundError::Transport);
        }
        Ok(self)
    }

    /// Also trusts this CA certificate (DER), besides the web PKI roots. Refused
    /// ([`OutboundError::Transport`]) if it is not an X.509 certificate.
    pub fn root_certificate_der(mut self, der: &[u8]) -> Result<Self, OutboundError> {
        self.roots
            .add(CertificateDer::from(der.to_vec()))
            .map_err(|_| OutboundError::Transport)?;
        Ok(self)
    }

    /// Resolves names with this instead of the system resolver (tests map names to addresses
    /// of their choosing). Its answers are vetted like any other.
    pub fn lookup(mut self, lookup: Arc<dyn Lookup>) -> Self {
        self.lookup = lookup;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<OutboundClient, OutboundError> {
        let policy = Arc::new(self.policy);
        let resolver = GuardedResolver::new(self.lookup, policy.clone());
        let redirect_policy = policy.clone();
        let max_redirects = self.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            // `previous` holds the URLs already requested: this is redirect number `len`.
            if attempt.previous().len() > max_redirects {
                return attempt.error(OutboundError::Refused(Refusal::TooManyRedirects(
                    max_redirects,
                )));
            }
            match redirect_policy.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refusal) => attempt.error(OutboundError::Refused(refusal)),
            }
        });
        let builder = reqwest::Client::builder()
            // A proxy would resolve and connect on our behalf, past the guard.
            .no_proxy()
            .dns_resolver(ReqwestResolver(resolver.clone()))
            .redirect(redirects)
            .https_only(!policy.allow_http)
            .referer(false)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(concat!("secure-endpoint/", env!("CARGO_PKG_VERSION")));
        let inner = builder
            .tls_backend_preconfigured(tls_config(self.roots)?)
            .build()
            .map_err(|_| OutboundError::Transport)?;
        Ok(OutboundClient {
            inner,
            policy,
            resolver,
            max_response: self.max_response,
        })
    }
}

impl OutboundClient {
    /// A builder with the defaults: `https` only, port 443, any public address, 3 redirects,
    /// 5 s to connect, 10 s in all, 1 MiB responses.
    pub fn builder() -> OutboundClientBuilder {
        OutboundClientBuilder {
            policy: Policy::default(),
            lookup: Arc::new(SystemLookup),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
            roots: RootCertStore::empty(),
        }
    }

    /// Parses `url` (WHATWG rules, so numeric host forms become the address they mean) and
    /// checks it against the rules that need no lookup. Nothing is connected.
    pub fn check_url(&self, url: &str) -> Result<url::Url, OutboundError> {
        let url = url::Url::parse(url).map_err(|_| OutboundError::Refused(Refusal::Url))?;
        self.policy
            .check_url(&url)
            .map_err(OutboundError::Refused)?;
        Ok(url)
    }

    /// The resolver the client connects through, to vet a name without requesting anything.
    pub fn resolver(&self) -> &GuardedResolver {
        &self.resolver
    }

    /// `GET url`: a 2xx response's body within the size cap.
    pub async fn get(&self, url: &str) -> Result<Fetched, OutboundError> {
        let url = self.check_url(url)?;
        self.execute(self.inner.get(url)).await
    }

    /// `GET url` as JSON, decoded into `T` and validated with garde. Refused unless the answer
    /// is 2xx, within the size cap, of a JSON media type (`application/json` or `…+json`),
    /// of `T`'s shape and valid; the error says which, never what the upstream sent.
    pub async fn get_json<T>(&self, url: &str) -> Result<T, OutboundError>
    where
        T: DeserializeOwned + garde::Validate,
        T::Context: Default,
    {
        let url = self.check_url(url)?;
        let request = self.inner.get(url).header(ACCEPT, JSON);
        decode_json(self.execute(request).await?)
    }

    /// `POST url` with a JSON body, the answer decoded and validated like
    /// [`get_json`](Self::get_json).
    pub async fn post_json<B, T>(&self, url: &str, body: &B) -> Result<T, OutboundError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned + garde::Validate,
        T::Context: Default,
    {
        let url = self.check_url(url)?;
        let body = serde_json::to_vec(body).map_err(|_| OutboundError::Transport)?;
        let request = self
            .inner
            .post(url)
            .header(ACCEPT, JSON)
            .header(CONTENT_TYPE, JSON)
            .body(body);
        decode_json(self.execute(request).await?)
    }

    /// A request with another method, headers or a body, through the guard. The URL is
    /// checked now; finish with [`OutboundRequest::send`].
    pub fn request(
        &self,
        method: http::Method,
        url: &str,
    ) -> Result<OutboundRequest, OutboundError> {
        let url = self.check_url(url)?;
        Ok(OutboundRequest {
            client: self.clone(),
            inner: self.inner.request(method, url),
        })
    }

    async fn execute(&self, request: reqwest::RequestBuilder) -> Result<Fetched, OutboundError> {
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            // Redirects beyond what was followed land here too (3xx).
            return Err(OutboundError::Status(status));
        }
        let limit = self.max_response;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(OutboundError::TooLarge(limit));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > limit {
                return Err(OutboundError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            content_type,
            body: body.into(),
        })
    }
}

/// A request being built by [`OutboundClient::request`].
#[derive(Debug)]
#[must_use]
pub struct OutboundRequest {
    client: OutboundClient,
    inner: reqwest::RequestBuilder,
}

impl OutboundRequest {
    /// Adds a header.
    pub fn header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.inner = self.inner.header(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.inner = self.inner.body(body.into());
        self
    }

    /// Sends it: a 2xx answer within the size cap, or why not.
    pub async fn send(self) -> Result<Fetched, OutboundError> {
        self.client.execute(self.inner).await
    }

    /// Sends it and decodes the answer like [`OutboundClient::get_json`].
    pub async fn send_json<T>(self) -> Result<T, OutboundError>
    where
        T: DeserializeOwned + garde::Validate,
        T::Context: Default,
    {
        decode_json(self.client.execute(self.inner).await?)
    }
}

/// The TLS configuration of every outbound connection: rustls with the ring provider (the
/// project's only one, whatever process default an application installs), trusting the web
/// PKI roots and `extra`; HTTP/1.1 only, as the client speaks nothing else.
fn tls_config(extra: RootCertStore) -> Result<rustls::ClientConfig, OutboundError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.roots.extend(extra.roots);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| OutboundError::Transport)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

fn transport_error(error: reqwest::Error) -> OutboundError {
    if let Some(found) = find_outbound_error(&error) {
        return found;
    }
    if error.is_timeout() {
        OutboundError::Timeout
    } else if error.is_connect() {
        OutboundError::Connect
    } else {
        OutboundError::Transport
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn decode_json<T>(fetched: Fetched) -> Result<T, OutboundError>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
{
    if !is_json(fetched.content_type.as_deref()) {
        return Err(OutboundError::ContentType);
    }
    let value: T = serde_json::from_slice(&fetched.body).map_err(|_| OutboundError::Decode)?;
    value
        .validate_with(&T::Context::default())
        .map_err(|report| {
            OutboundError::Invalid(
                report
                    .iter()
                    .map(|(path, _)| {
                        let p = path.to_string();
                        if p.is_empty() {
                            "(body)".to_owned()
                        } else {
                            p
                        }
                    })
                    .collect(),
            )
        })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/jwk-set+json")));
        assert!(!is_json(Some("text/html")));
        assert!(!is_json(Some("text/json+html")));
        assert!(!is_json(None));
    }

    #[test]
    fn added_roots_are_checked_when_added() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let builder = OutboundClient::builder()
            .root_certificate_pem(ca.pem().as_bytes())
            .unwrap()
            .root_certificate_der(ca.der())
            .unwrap();
        assert_eq!(builder.roots.len(), 2);
        builder.build().unwrap();

        let not_pem = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        for pem in [
            &b""[..],
            b"no certificate here",
            &not_pem[..],
            key.serialize_pem().as_bytes(),
        ] {
            assert!(matches!(
                OutboundClient::builder().root_certificate_pem(pem),
                Err(OutboundError::Transport)
            ));
        }
        assert!(matches!(
            OutboundClient::builder().root_certificate_der(b"not DER"),
            Err(OutboundError::Transport)
        ));
    }
}
