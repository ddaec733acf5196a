//! Abuse of sensitive business flows (OWASP API6), object enumeration (how BOLA, API1, is
//! probed for) and credential stuffing: detected and slowed at the handler level, as declared
//! contract, with every counter in the configured rate store so that instances sharing one
//! (Redis) share one view.
//!
//! - **Flows.** `#[secure_endpoint(flow = "login", ...)]` names the business flow an endpoint
//!   belongs to. [`SecurityBuilder::flow`] gives the flow its [`FlowBudget`]: per client IP
//!   (IPv6 by the perimeter's prefix, /64 by default), per principal, and for the whole flow,
//!   across all its endpoints and all principals. Over budget: 429 `flow_limited`. An endpoint
//!   naming a flow without a budget refuses to start (a panic in `SecureRouter::route`).
//! - **Enumeration.** With [`SecurityBuilder::enumeration`], every 404 answered on a route
//!   with path parameters (the ownership check's "not yours", a loader's or the handler's
//!   "not found") adds a hash of the request path to the caller's set of distinct objects
//!   (per principal, or per client IP when anonymous). At the threshold within the window the
//!   caller is refused with 429 `enumeration_suspected` for the cool-down, and one critical
//!   security event ([`EventKind::EnumerationSuspected`]) names the principal, the endpoint
//!   and the count, never an id. Successful answers are never counted, and cost nothing.
//! - **Credential stuffing.** A flow's [`Stuffing`] guard counts, through
//!   [`FlowAttempts`] in the handler, the distinct identifiers failing from one client and the
//!   distinct clients failing for one identifier; past either threshold the client (or the
//!   identifier) is refused with 429 `credential_abuse_suspected` for the cool-down, with one
//!   [`EventKind::CredentialAbuseSuspected`] event.
//!
//! # Across instances
//!
//! Counts and cool-downs live in the rate store ([`SecurityBuilder::rate_store`]), one atomic
//! script per observation on Redis. A cool-down is also cached by the instance that learns of
//! it, so a refused caller costs no round trip; an instance learns of a cool-down another one
//! started at the caller's next not-found answer there (which is then refused too). When the
//! shared store cannot answer, the detectors count in this instance's memory.
//!
//! [`SecurityBuilder::flow`]: crate::SecurityBuilder::flow
//! [`SecurityBuilder::enumeration`]: crate::SecurityBuilder::enumeration
//! [`SecurityBuilder::rate_store`]: crate::SecurityBuilder::rate_store
//! [`EventKind::EnumerationSuspected`]: crate::events::EventKind::EnumerationSuspected
//! [`EventKind::CredentialAbuseSuspected`]: crate::events::EventKind::CredentialAbuseSuspected

mod enumeration;
mod flow;
mod stuffing;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

use crate::events::Observer;
use crate::policy::{EndpointPolicy, RateSpec};
use crate::problem::Problem;
use crate::rate::{MemoryRateStore, RateKey, RateStore};
use crate::store::{Health, Outage};

pub use crate::store::distinct::{Distinct, DistinctTable, DEFAULT_DETECTOR_KEYS};
pub(crate) use enumeration::not_found;
pub(crate) use flow::FlowRuntime;
pub(crate) use stuffing::AttemptContext;
pub use stuffing::FlowAttempts;

/// The most distinct members a detector's threshold may ask for (a set holds at most this
/// many hashes per key).
pub const MAX_THRESHOLD: u32 = 10_000;

/// A flow's budgets: [`SecurityBuilder::flow`](crate::SecurityBuilder::flow).
///
/// ```
/// use std::time::Duration;
/// use secure_endpoint::abuse::{FlowBudget, Stuffing};
/// use secure_endpoint::policy::RateSpec;
///
/// let login = FlowBudget::new()
///     .per_ip(RateSpec::new(20, Duration::from_secs(60)))
///     .total(RateSpec::new(1_000, Duration::from_secs(60)))
///     .stuffing(Stuffing::new());
/// assert_eq!(
///     login.to_string(),
///     "per client IP 20/1m, total 1000/1m; stuffing: 20 identifiers per client, 20 clients \
///      per identifier, within 15m, cool-down 15m"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct FlowBudget {
    per_ip: Option<RateSpec>,
    per_principal: Option<RateSpec>,
    total: Option<RateSpec>,
    stuffing: Option<Stuffing>,
}

impl FlowBudget {
    /// No budget yet: add at least one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests per client IP (IPv6 clients by the perimeter's prefix), across the flow's
    /// endpoints and whoever is signed in.
    pub fn per_ip(mut self, rate: RateSpec) -> Self {
        self.per_ip = Some(rate);
        self
    }

    /// Requests per authenticated principal, across the flow's endpoints (anonymous requests
    /// are not counted here).
    pub fn per_principal(mut self, rate: RateSpec) -> Self {
        self.per_principal = Some(rate);
        self
    }

    /// Requests of the whole flow, everyone together: the ceiling a botnet of fresh keys and
    /// addresses still meets.
    pub fn total(mut self, rate: RateSpec) -> Self {
        self.total = Some(rate);
        self
    }

    /// Credential stuffing and spraying detection, reported by the handler through
    /// [`FlowAttempts`].
    pub fn stuffing(mut self, stuffing: Stuffing) -> Self {
        self.stuffing = Some(stuffing);
        self
    }
}

impl fmt::Display for FlowBudget {
    /// `per client IP 20/1m, per principal 100/1h, total 1000/1m; stuffing: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(r) = self.per_ip {
            parts.push(format!("per client IP {r}"));
        }
        if let Some(r) = self.per_principal {
            parts.push(format!("per principal {r}"));
        }
        if let Some(r) = self.total {
            parts.push(format!("total {r}"));
        }
        let mut text = if parts.is_empty() {
            "no rate budget".to_owned()
        } else {
            parts.join(", ")
        };
        if let Some(s) = &self.stuffing {
            text.push_str(&format!(
                "; stuffing: {} identifiers per client, {} clients per identifier, within {}, cool-down {}",
                s.identifiers_per_client,
                s.clients_per_identifier,
                duration_text(s.window),
                duration_text(s.cool_down)
            ));
        }
        f.write_str(&text)
    }
}

/// Credential stuffing and spraying detection for a flow (defaults: 20 distinct identifiers
/// failing from one client, or 20 distinct clients failing for one identifier, within 15
/// minutes; a cool-down of 15 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Stuffing {
    identifiers_per_client: u32,
    clients_per_identifier: u32,
    window: Duration,
    cool_down: Duration,
}

impl Default for Stuffing {
    fn default() -> Self {
        Stuffing {
            identifiers_per_client: 20,
            clients_per_identifier: 20,
            window: Duration::from_secs(15 * 60),
            cool_down: Duration::from_secs(15 * 60),
        }
    }
}

impl Stuffing {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Distinct identifiers failing from one client (IPv6 by prefix) before it is refused.
    ///
    /// # Panics
    /// Outside `2..=`[`MAX_THRESHOLD`].
    pub fn identifiers_per_client(mut self, n: u32) -> Self {
        self.identifiers_per_client = threshold(n, "Stuffing::identifiers_per_client");
        self
    }

    /// Distinct clients failing for one identifier before the identifier is refused (from
    /// every client: the real owner too, for the cool-down).
    ///
    /// # Panics
    /// Outside `2..=`[`MAX_THRESHOLD`].
    pub fn clients_per_identifier(mut self, n: u32) -> Self {
        self.clients_per_identifier = threshold(n, "Stuffing::clients_per_identifier");
        self
    }

    /// The window the distinct failures are counted in (from the first one).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_secs(1));
        self
    }

    /// How long a client or identifier is refused once a threshold is reached.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down.max(Duration::from_secs(1));
        self
    }
}

/// Object enumeration detection: [`SecurityBuilder::enumeration`](crate::SecurityBuilder::enumeration)
/// (defaults: 20 distinct objects not found within 10 minutes, a cool-down of 15 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Enumeration {
    threshold: u32,
    window: Duration,
    cool_down: Duration,
}

impl Default for Enumeration {
    fn default() -> Self {
        Enumeration {
            threshold: 20,
            window: Duration::from_secs(10 * 60),
            cool_down: Duration::from_secs(15 * 60),
        }
    }
}

impl Enumeration {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Distinct objects not found (or not the caller's) before the caller is refused.
    ///
    /// # Panics
    /// Outside `2..=`[`MAX_THRESHOLD`].
    pub fn threshold(mut self, n: u32) -> Self {
        self.threshold = threshold(n, "Enumeration::threshold");
        self
    }

    /// The window they are counted in (from the first one).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_secs(1));
        self
    }

    /// How long the caller is refused once the threshold is reached.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down.max(Duration::from_secs(1));
        self
    }
}

fn threshold(n: u32, what: &str) -> u32 {
    assert!(
        (2..=MAX_THRESHOLD).contains(&n),
        "`{what}`: {n} is not within 2..={MAX_THRESHOLD}"
    );
    n
}

/// `15m`, `1h`, `90s`.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// What the builder collected.
#[derive(Debug, Default)]
pub(crate) struct AbuseConfig {
    flows: Vec<(String, FlowBudget)>,
    enumeration: Option<Enumeration>,
}

impl AbuseConfig {
    /// [`SecurityBuilder::flow`](crate::SecurityBuilder::flow): the budgets of the flow `name`.
    ///
    /// # Panics
    /// When `name` is not an identifier (ASCII letters, digits, `_`), or is configured twice.
    pub(crate) fn add_flow(&mut self, name: &str, budget: FlowBudget) {
        assert!(
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "`Security::flow`: {name:?} is not a flow name (an identifier such as \"login\")"
        );
        assert!(
            !self.flows.iter().any(|(n, _)| n == name),
            "`Security::flow`: the flow {name:?} is configured twice"
        );
        self.flows.push((name.to_owned(), budget));
    }

    /// [`SecurityBuilder::enumeration`](crate::SecurityBuilder::enumeration).
    pub(crate) fn set_enumeration(&mut self, enumeration: Enumeration) {
        self.enumeration = Some(enumeration);
    }
}

/// The detectors of one router, built with its [`Security`](crate::Security).
pub(crate) struct Abuse {
    flows: HashMap<String, Arc<FlowRuntime>>,
    enumeration: Option<Enumeration>,
    /// The configured rate store, or this instance's memory.
    store: Arc<dyn RateStore>,
    /// Where the detectors count while a shared store cannot answer.
    local: Option<MemoryRateStore>,
    health: Health,
    /// Enumeration cool-downs this instance knows of, by local key.
    blocked: Blocklist,
    /// Where the detectors' alerts go.
    observer: Observer,
    /// How many leading bits of an IPv6 client's address count it (the perimeter's).
    ipv6_prefix: u8,
}

impl fmt::Debug for Abuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Abuse")
            .field("flows", &self.flows.keys().collect::<Vec<_>>())
            .field("enumeration", &self.enumeration)
            .finish_non_exhaustive()
    }
}

impl Abuse {
    pub(crate) fn build(
        config: AbuseConfig,
        rate_store: &Option<(Arc<dyn RateStore>, Outage)>,
        max_keys: usize,
        observer: Observer,
        ipv6_prefix: u8,
    ) -> Self {
        let (store, local): (Arc<dyn RateStore>, _) = match rate_store {
            Some((store, _)) => (store.clone(), Some(MemoryRateStore::new())),
            None => (Arc::new(MemoryRateStore::new()), None),
        };
        let flows = config
            .flows
            .into_iter()
            .map(|(name, budget)| {
                let flow = FlowRuntime::new(&name, budget, rate_store, max_keys);
                (name, Arc::new(flow))
            })
            .collect();
        Abuse {
            flows,
            enumeration: config.enumeration,
            store,
            local,
            health: Health::default(),
            blocked: Blocklist::new(DEFAULT_DETECTOR_KEYS),
            observer,
            ipv6_prefix,
        }
    }

    /// What one endpoint routed on `path` needs.
    ///
    /// # Panics
    /// When the endpoint names a flow without a budget.
    pub(crate) fn endpoint(&self, policy: &EndpointPolicy, path: &str) -> EndpointAbuse {
        let flow = policy.flow.map(|name| {
            self.flows.get(name).cloned().unwrap_or_else(|| {
                panic!(
                    "endpoint `{}` belongs to the flow `{name}`, which this router's `Security` \
                     gives no budget; call `Security::builder().flow(\"{name}\", FlowBudget::new()...)`",
                    policy.handler
                )
            })
        });
        EndpointAbuse {
            flow,
            watch: self.enumeration.is_some() && path.contains('{'),
            guard: self.enumeration.is_some(),
        }
    }

    /// Panics, as [`endpoint`](Self::endpoint) would, when `policy` names a flow without a
    /// budget: a start-up check that runs when the endpoint is routed.
    pub(crate) fn check_flow(&self, policy: &EndpointPolicy) {
        if let Some(name) = policy.flow {
            assert!(
                self.flows.contains_key(name),
                "endpoint `{}` belongs to the flow `{name}`, which this router's `Security` \
                 gives no budget; call `Security::builder().flow(\"{name}\", FlowBudget::new()...)`",
                policy.handler
            );
        }
    }

    /// The budget text of `flow`, for the inventory.
    pub(crate) fn budget_text(&self, flow: &str) -> Option<String> {
        self.flows.get(flow).map(|f| f.budget().to_string())
    }

    async fn distinct(
        &self,
        key: &str,
        member: u64,
        window: Duration,
        threshold: u32,
        cool_down: Duration,
    ) -> Distinct {
        match self
            .store
            .distinct(key, member, window, threshold, cool_down)
            .await
        {
            Ok(d) => {
                self.health.succeeded("abuse");
                d
            }
            Err(error) => {
                self.health.failed("abuse", &error);
                self.local_store()
                    .distinct(key, member, window, threshold, cool_down)
                    .await
                    .unwrap_or(Distinct {
                        count: 0,
                        cooling: None,
                        tripped: false,
                    })
            }
        }
    }

    async fn cooling(&self, key: &str) -> Option<Duration> {
        match self.store.cooling(key).await {
            Ok(c) => c,
            Err(error) => {
                self.health.failed("abuse", &error);
                self.local_store().cooling(key).await.ok().flatten()
            }
        }
    }

    async fn forget(&self, key: &str, member: u64) {
        if let Err(error) = self.store.forget(key, member).await {
            self.health.failed("abuse", &error);
            let _ = self.local_store().forget(key, member).await;
        }
    }

    fn local_store(&self) -> &dyn RateStore {
        match &self.local {
            Some(local) => local,
            None => self.store.as_ref(),
        }
    }
}

/// One endpoint's part in the detectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointAbuse {
    /// The endpoint's flow, when it names one.
    pub(crate) flow: Option<Arc<FlowRuntime>>,
    /// Count this endpoint's 404s: enumeration detection is on and the route has parameters.
    pub(crate) watch: bool,
    /// Refuse callers cooling down after enumeration.
    guard: bool,
}

/// Before the handler, after the endpoint's own limit: the enumeration cool-down (an atomic
/// load when nobody cools down) and the flow's budgets.
pub(crate) async fn admit(
    abuse: &Abuse,
    endpoint: &EndpointAbuse,
    principal: Option<&crate::extract::Principal>,
    client: crate::perimeter::IpNet,
    fell_back: &mut bool,
) -> Result<(), Problem> {
    if endpoint.guard {
        abuse.blocked.check(&local_key(principal, client))?;
    }
    if let Some(flow) = &endpoint.flow {
        flow.check(principal, client, fell_back).await?;
    }
    Ok(())
}

fn local_key(
    principal: Option<&crate::extract::Principal>,
    client: crate::perimeter::IpNet,
) -> RateKey {
    match principal {
        Some(p) => RateKey::Principal(p.rate_key()),
        None => RateKey::Network(client),
    }
}

/// The first 64 bits of SHA-256: the same on every instance, so sets agree across them.
fn hash64(parts: &[&[u8]]) -> u64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// A 429 of the detectors: `Retry-After` in whole seconds (at least 1).
fn refusal(code: &'static str, detail: &'static str, wait: Duration) -> Problem {
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    Problem::new(StatusCode::TOO_MANY_REQUESTS)
        .with_code(code)
        .with_detail(detail)
        .with_header(http::header::RETRY_AFTER, HeaderValue::from(secs))
}

/// The enumeration cool-downs this instance knows of, bounded; checked with one atomic load
/// while it is empty.
struct Blocklist {
    len: AtomicUsize,
    map: Mutex<HashMap<RateKey, Instant>>,
    max: usize,
}

impl Blocklist {
    fn new(max: usize) -> Self {
        Blocklist {
            len: AtomicUsize::new(0),
            map: Mutex::new(HashMap::new()),
            max,
        }
    }

    #[inline]
    fn check(&self, key: &RateKey) -> Result<(), Problem> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        self.check_slow(key)
    }

    #[cold]
    fn check_slow(&self, key: &RateKey) -> Result<(), Problem> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let Some(until) = map.get(key).copied() else {
            return Ok(());
        };
        if until > now {
            return Err(enumeration::problem(until - now));
        }
        map.remove(key);
        self.len.store(map.len(), Ordering::Relaxed);
        Ok(())
    }

    fn insert(&self, key: RateKey, wait: Duration) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= self.max {
            map.retain(|_, until| *until > now);
        }
        if map.len() < self.max {
            map.insert(key, now + wait);
        }
        self.len.store(map.len(), Ordering::Relaxed);
    }
}
