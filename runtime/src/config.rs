//! The security configuration a [`SecureRouter`](crate::SecureRouter) enforces endpoints with.

use std::sync::Arc;
use std::time::Duration;

use crate::abuse::{Enumeration, FlowBudget};
use crate::auth::api_key::ApiKeyStore;
use crate::auth::hmac::HmacVerifier;
use crate::auth::jwt::JwtVerifier;
use crate::body::DEFAULT_BODY_LIMIT;
use crate::cors::Cors;
use crate::events::{EventSink, Observer};
use crate::perimeter::{IpNet, Perimeter, ProxyHeaders};
use crate::policy::RateSpec;
use crate::problem::{ProblemRenderer, Renderer};
use crate::rate::{RateLimiter, RateStore};
use crate::store::Outage;

/// Shared, immutable security configuration. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Security {
    pub(crate) engine: Arc<Engine>,
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) jwt: Option<JwtVerifier>,
    pub(crate) api_keys: Option<Arc<dyn ApiKeyStore>>,
    pub(crate) hmac: Option<HmacVerifier>,
    /// RFC 9421 signatures and the webhook formats.
    pub(crate) signed: crate::auth::webhook::Signed,
    /// Applies to endpoints that declare no `rate`, per principal (or per IP when public).
    pub(crate) default_limiter: Arc<RateLimiter>,
    /// Applies to every request, per client IP, before any authentication work.
    pub(crate) ip_limiter: Option<Arc<RateLimiter>>,
    pub(crate) body_limit: usize,
    pub(crate) perimeter: Perimeter,
    pub(crate) cors: Option<Cors>,
    /// Longest time a request may take, end to end (503 after).
    pub(crate) request_timeout: Option<Duration>,
    /// Longest time reading a request body may take (408 after).
    pub(crate) body_timeout: Duration,
    /// Where security events go: `tracing`, and the sink when one is configured.
    pub(crate) observer: Observer,
    /// Where rate limits are counted when not in this instance's memory.
    pub(crate) rate_store: Option<(Arc<dyn RateStore>, Outage)>,
    /// Keys each in-memory limiter holds at most.
    pub(crate) rate_max_keys: usize,
    /// Writes rejections in the application's error format instead of RFC 9457.
    pub(crate) problem_renderer: Option<Renderer>,
    /// Flow budgets and abuse detectors.
    pub(crate) abuse: Arc<crate::abuse::Abuse>,
    /// Where API keys are read; `None`: `X-API-Key`.
    pub(crate) api_key_credentials: Option<crate::auth::credential::Credentials>,
    /// DPoP proofs (`auth = "dpop"`), with the tokens verified by `jwt`.
    pub(crate) dpop: Option<crate::auth::dpop::DpopVerifier>,
    /// `auth = "mtls"`: client certificates.
    pub(crate) mtls: Option<crate::auth::mtls::MtlsVerifier>,
}

impl Engine {
    /// The limiter for one limit: in memory, or in the shared store under `id`.
    pub(crate) fn limiter(&self, name: &'static str, id: &str, spec: RateSpec) -> RateLimiter {
        shared_limiter(&self.rate_store, self.rate_max_keys, name, id, spec)
    }
}

/// Builds a [`Security`]. Defaults are safe: a general limit of 300 requests per minute per
/// principal for endpoints without `rate`, a pre-authentication limit of 6000 requests per
/// minute per client IP, and a 64 KiB body limit.
#[derive(Debug)]
#[must_use]
pub struct SecurityBuilder {
    jwt: Option<JwtVerifier>,
    api_keys: Option<Arc<dyn ApiKeyStore>>,
    hmac: Option<HmacVerifier>,
    signed: crate::auth::webhook::Signed,
    default_rate: RateSpec,
    ip_rate: Option<RateSpec>,
    body_limit: usize,
    perimeter: Perimeter,
    cors: Option<Cors>,
    request_timeout: Option<Duration>,
    body_timeout: Duration,
    events: Option<Arc<dyn EventSink>>,
    record_allowed: bool,
    rate_store: Option<(Arc<dyn RateStore>, Outage)>,
    rate_max_keys: usize,
    problem_renderer: Option<Renderer>,
    abuse: crate::abuse::AbuseConfig,
    api_key_credentials: Option<crate::auth::credential::Credentials>,
    dpop: Option<crate::auth::dpop::DpopVerifier>,
    mtls: Option<crate::auth::mtls::MtlsVerifier>,
}

fn shared_limiter(
    store: &Option<(Arc<dyn RateStore>, Outage)>,
    max_keys: usize,
    name: &'static str,
    id: &str,
    spec: RateSpec,
) -> RateLimiter {
    let limiter = RateLimiter::new(name, spec).max_keys(max_keys);
    match store {
        Some((store, outage)) => limiter.shared(id, store.clone(), *outage),
        None => limiter,
    }
}

impl Security {
    /// Starts a configuration.
    pub fn builder() -> SecurityBuilder {
        SecurityBuilder {
            jwt: None,
            api_keys: None,
            hmac: None,
            signed: crate::auth::webhook::Signed::default(),
            default_rate: RateSpec::new(300, Duration::from_secs(60)),
            ip_rate: Some(RateSpec::new(6000, Duration::from_secs(60))),
            body_limit: DEFAULT_BODY_LIMIT,
            perimeter: Perimeter::default(),
            cors: None,
            request_timeout: Some(Duration::from_secs(30)),
            body_timeout: Duration::from_secs(10),
            events: None,
            record_allowed: false,
            rate_store: None,
            rate_max_keys: crate::rate::DEFAULT_MAX_KEYS,
            problem_renderer: None,
            abuse: crate::abuse::AbuseConfig::default(),
            api_key_credentials: None,
            dpop: None,
            mtls: None,
        }
    }
}

impl SecurityBuilder {
    /// Verifies `auth = "jwt"` endpoints with `verifier`.
    pub fn jwt(mut self, verifier: JwtVerifier) -> Self {
        self.jwt = Some(verifier);
        self
    }

    /// Verifies `auth = "api_key"` endpoints against `store`.
    pub fn api_keys(mut self, store: Arc<dyn ApiKeyStore>) -> Self {
        self.api_keys = Some(store);
        self
    }

    /// Verifies `auth = "hmac"` endpoints (signed requests, see `docs/hmac.md`) with `verifier`.
    pub fn hmac(mut self, verifier: HmacVerifier) -> Self {
        self.hmac = Some(verifier);
        self
    }

    /// The limit for endpoints that declare no `rate`.
    pub fn default_rate(mut self, rate: RateSpec) -> Self {
        self.default_rate = rate;
        self
    }

    /// The per-client-IP limit checked before authentication; `None` disables it.
    pub fn ip_rate(mut self, rate: Option<RateSpec>) -> Self {
        self.ip_rate = rate;
        self
    }

    /// The largest request body any endpoint accepts, in bytes. A larger one is refused with
    /// 413, and its rest is drained before the connection is closed ([`crate::request_body`]'s
    /// lingering close).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Believes the forwarding header chosen with [`proxy_headers`](Self::proxy_headers)
    /// (`X-Forwarded-For` and `X-Forwarded-Proto` by default) from peers in these networks
    /// (CIDR notation: `10.0.0.0/8`, `2001:db8::/32`, or single addresses): the client is then
    /// the rightmost address that is not a trusted proxy, and the scheme the one the proxy
    /// reports. A malformed hop at or right of the client is refused with 400. Without
    /// trusted proxies every forwarding header is ignored.
    ///
    /// # Panics
    /// At start-up, on a malformed network.
    pub fn trusted_proxies<I>(mut self, networks: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for network in networks {
            let network = network.as_ref();
            let parsed: IpNet = network
                .parse()
                .unwrap_or_else(|e| panic!("`Security::trusted_proxies`: {e}"));
            self.perimeter.trusted_proxies.push(parsed);
        }
        self
    }

    /// Which header the trusted proxies set (default [`ProxyHeaders::XForwardedFor`]):
    /// `X-Forwarded-For` with `X-Forwarded-Proto` (nginx, AWS ALB), RFC 7239 `Forwarded`
    /// ([`ProxyHeaders::Forwarded`]), or one single-address header such as `CF-Connecting-IP`
    /// ([`ProxyHeaders::client_header`]). Only that header is read, never another in its
    /// place: a header the proxy passes through untouched is the client's to choose.
    pub fn proxy_headers(mut self, headers: ProxyHeaders) -> Self {
        self.perimeter.proxy_headers = headers;
        self
    }

    /// How many leading bits of an IPv6 client's address per-IP limits count it by (default
    /// 64: one ordinary allocation, which holds 2^64 addresses, is one client). IPv4 clients,
    /// and IPv4-mapped IPv6 ones, are counted by address. Applies to the per-IP limit and to
    /// the limits of public endpoints; the `ClientIp` extractor still sees the whole address.
    ///
    /// # Panics
    /// At start-up, when `bits` is over 128.
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        assert!(
            bits <= 128,
            "`Security::ipv6_prefix`: {bits} is over 128 bits"
        );
        self.perimeter.ipv6_prefix = bits;
        self
    }

    /// Accepts requests that did not arrive over TLS. By default every request must have come
    /// over HTTPS (a listener marked with [`mark_https`](crate::perimeter::mark_https), or a
    /// trusted proxy reporting `https`), and anything else is refused with 403. For tests and
    /// local development only.
    pub fn allow_plain_http(mut self) -> Self {
        self.perimeter.require_https = false;
        self
    }

    /// The longest request target (path and query) accepted, in bytes (default 8 KiB; 414).
    pub fn max_uri_len(mut self, bytes: usize) -> Self {
        self.perimeter.max_uri_len = bytes;
        self
    }

    /// The largest total of request header names and values, in bytes (default 16 KiB; 431).
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.perimeter.max_header_bytes = bytes;
        self
    }

    /// Answers cross-origin requests from the origins `cors` allows (none by default: without
    /// this, no `Access-Control-Allow-*` header is ever sent).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// The longest a request may take end to end, body and handler included, before it is
    /// answered with 503 (default 30 s; `None` for no limit).
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The longest reading a request body may take before it is answered with 408 (default
    /// 10 s): a client trickling its body cannot hold the request open.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sends every refusal's security event to `sink` (the audit trail:
    /// `audit::Auditor`), besides the `tracing` event every decision emits.
    pub fn events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// Also sends allowed requests' events to the sink (default: refusals only).
    pub fn record_allowed(mut self, all: bool) -> Self {
        self.record_allowed = all;
        self
    }

    /// Counts every rate limit (the endpoints' own, the default and the per-IP one) in
    /// `store`, shared by every instance that uses it (a `RedisStore`, feature `redis`),
    /// instead of in this instance's memory. `outage` says what a limit does while the store
    /// cannot answer: [`Outage::FailClosed`] (503, the safe choice) or
    /// [`Outage::FallBackToLocal`].
    pub fn rate_store(mut self, store: Arc<dyn RateStore>, outage: Outage) -> Self {
        self.rate_store = Some((store, outage));
        self
    }

    /// The most keys (principals or client addresses) each limiter holds in memory (default
    /// 1 000 000, about 70 MB): when that many are live, requests of new keys are refused with
    /// 429 until some expire. A spray of addresses or identities cannot grow memory past it.
    pub fn rate_max_keys(mut self, max_keys: usize) -> Self {
        self.rate_max_keys = max_keys.max(1);
        self
    }

    /// Verifies `auth = "signature"` endpoints: HTTP Message Signatures (RFC 9421), see
    /// `docs/hmac.md`.
    pub fn signatures(mut self, verifier: crate::auth::signature::SignatureVerifier) -> Self {
        self.signed.signature = Some(verifier);
        self
    }

    /// Verifies `auth = "github_webhook"` endpoints: GitHub's `X-Hub-Signature-256`.
    pub fn github_webhook(mut self, verifier: crate::auth::webhook::GithubWebhook) -> Self {
        self.signed.github = Some(verifier);
        self
    }

    /// Verifies `auth = "stripe_webhook"` endpoints: Stripe's `Stripe-Signature`.
    pub fn stripe_webhook(mut self, verifier: crate::auth::webhook::StripeWebhook) -> Self {
        self.signed.stripe = Some(verifier);
        self
    }

    /// Verifies `auth = "standard_webhook"` endpoints: Standard Webhooks signatures.
    pub fn standard_webhook(mut self, verifier: crate::auth::webhook::StandardWebhook) -> Self {
        self.signed.standard = Some(verifier);
        self
    }

    /// Finishes the configuration.
    pub fn build(self) -> Security {
        let default_limiter = shared_limiter(
            &self.rate_store,
            self.rate_max_keys,
            "default",
            "default",
            self.default_rate,
        );
        let ip_limiter = self
            .ip_rate
            .map(|r| shared_limiter(&self.rate_store, self.rate_max_keys, "ip", "ip", r));
        let observer = Observer::new(self.events, self.record_allowed);
        let abuse = crate::abuse::Abuse::build(
            self.abuse,
            &self.rate_store,
            self.rate_max_keys,
            observer.clone(),
            self.perimeter.ipv6_prefix,
        );
        Security {
            engine: Arc::new(Engine {
                jwt: self.jwt,
                api_keys: self.api_keys,
                hmac: self.hmac,
                signed: self.signed,
                default_limiter: Arc::new(default_limiter),
                ip_limiter: ip_limiter.map(Arc::new),
                body_limit: self.body_limit,
                perimeter: self.perimeter,
                cors: self.cors,
                request_timeout: self.request_timeout,
                body_timeout: self.body_timeout,
                observer,
                rate_store: self.rate_store,
                rate_max_keys: self.rate_max_keys,
                problem_renderer: self.problem_renderer,
                abuse: Arc::new(abuse),
                api_key_credentials: self.api_key_credentials,
                dpop: self.dpop,
                mtls: self.mtls,
            }),
        }
    }
}

impl SecurityBuilder {
    /// Writes every rejection in the application's own error format instead of the default
    /// RFC 9457 problem: the library's refusals, the router's 404 and 405 fallbacks, a panic's
    /// or a timeout's answer, [`Json`](crate::Json)/[`Query`](crate::Query) validation
    /// failures, and a handler's own [`Problem`](crate::Problem) or error status. `renderer`
    /// sees a [`ProblemView`](crate::problem::ProblemView) (status, code, title, detail, field
    /// errors with their paths, error id, request id, `Retry-After`, ...), never anything
    /// internal, and chooses the body and its content type; `None` keeps the default for that
    /// problem. The status, the security headers, `X-Request-ID` and the headers a rejection
    /// needs (`WWW-Authenticate`, `Retry-After`, `RateLimit*`, `Allow`) stay as they are. A
    /// renderer that panics gets the default problem sent instead (and an error logged).
    ///
    /// Applies to the responses of the secure routers built with this configuration, and of
    /// plain axum routes wrapped in [`Security::layer`]; a [`Problem`](crate::Problem) answered
    /// elsewhere (a bare axum route, one behind
    /// [`SecurityLayer`](crate::response::SecurityLayer)) keeps the default. See
    /// [`ProblemRenderer`](crate::ProblemRenderer) for a RealWorld-shaped example.
    pub fn problem_renderer(mut self, renderer: impl ProblemRenderer) -> Self {
        self.problem_renderer = Some(Renderer(Arc::new(renderer)));
        self
    }
}

impl Security {
    /// [`SecurityLayer`](crate::response::SecurityLayer)'s treatment (security headers,
    /// request id, errors as problems) for plain axum routes, with this configuration's
    /// [`problem_renderer`](SecurityBuilder::problem_renderer): routes merged beside the secure
    /// router then answer errors in the same format as its endpoints.
    pub fn layer(&self) -> crate::response::RenderingSecurityLayer {
        crate::response::RenderingSecurityLayer {
            renderer: self.engine.problem_renderer.clone(),
        }
    }
}

impl SecurityBuilder {
    /// Where `auth = "api_key"` endpoints read the key (default: the `X-API-Key` header):
    /// another header, an `Authorization` scheme, or a cookie (with its CSRF check); the 401's
    /// `WWW-Authenticate` names them. See [`credential`](crate::auth::credential).
    pub fn api_key_credentials(
        mut self,
        credentials: crate::auth::credential::Credentials,
    ) -> Self {
        self.api_key_credentials = Some(credentials);
        self
    }

    /// Verifies `auth = "dpop"` endpoints (RFC 9449): `Authorization: DPoP <JWT>`, the token
    /// verified by the [`jwt`](Self::jwt) verifier and bound (`cnf.jkt`) to the key of the
    /// request's `DPoP` proof, which `verifier` checks. See [`dpop`](crate::dpop).
    pub fn dpop(mut self, verifier: crate::auth::dpop::DpopVerifier) -> Self {
        self.dpop = Some(verifier);
        self
    }

    /// Verifies `auth = "mtls"` endpoints: the client certificate, from the TLS connection
    /// (served with [`TlsListener`](crate::mtls::TlsListener), which must ask for it) or from
    /// a trusted proxy's header ([`MtlsVerifier::proxy_header`](crate::mtls::MtlsVerifier::proxy_header)),
    /// verified against the client CAs and CRLs; the principal is the certificate name the
    /// verifier's [`Identity`](crate::mtls::Identity) picks. The same source serves
    /// certificate-bound JWTs (`cnf.x5t#S256`, RFC 8705). See [`crate::mtls`].
    pub fn mtls(mut self, verifier: crate::auth::mtls::MtlsVerifier) -> Self {
        self.mtls = Some(verifier);
        self
    }
}

impl SecurityBuilder {
    /// The budgets of the business flow `name` (endpoints with `flow = "name"`); see
    /// [`abuse`](crate::abuse). Every flow an endpoint names needs one.
    ///
    /// # Panics
    /// When `name` is not an identifier (ASCII letters, digits, `_`), or is configured twice.
    pub fn flow(mut self, name: &str, budget: FlowBudget) -> Self {
        self.abuse.add_flow(name, budget);
        self
    }

    /// Detects object enumeration (see [`abuse`](crate::abuse)): callers whose answers on
    /// routes with path parameters are too often "not found" are refused for a cool-down.
    pub fn enumeration(mut self, enumeration: Enumeration) -> Self {
        self.abuse.set_enumeration(enumeration);
        self
    }
}
