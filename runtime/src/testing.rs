//! Generated negative tests (feature `testing`): walk a router's inventory and check, over real
//! HTTP, what each endpoint's contract promises, so a new endpoint is covered without anyone
//! writing its tests:
//!
//! - without credentials → 401 problem with `WWW-Authenticate` (authenticated endpoints);
//! - another principal's resource → 404 (`owner` endpoints);
//! - a principal lacking a required role or scope → 403;
//! - a body with a field outside `fields`, in the endpoint's media type (JSON, or a URL-encoded
//!   form for `Form<T>`) → 422 `unknown_fields`;
//! - the declared `rate` + 1 requests → 429 (at the latest);
//! - every response carries the security headers and a request id.
//!
//! Credentials come from the test through [`TestCredentials`]. A check that cannot be made (no
//! credential for a scheme, no known resource id) is *skipped and reported*, never silently
//! passed: [`ContractReport::skipped`] lists each one with its reason, for the test to assert.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use crate::error::ConfigError;
use crate::inventory::{Inventory, InventoryEntry};

/// The principal a check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPrincipal {
    /// Its subject.
    pub subject: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its scopes.
    pub scopes: Vec<String>,
}

/// A request about to be sent, for credentials that sign what they send.
#[derive(Debug)]
pub struct PendingRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// Path and query, as sent.
    pub path_and_query: &'a str,
    /// The body, as sent.
    pub body: &'a [u8],
}

/// How the test authenticates: adds to `request` a credential of `scheme` (`"jwt"`,
/// `"api_key"`, `"hmac"`) for `who`. `None` when it cannot make one (the check is skipped and
/// reported). A credential may stand for a different subject than asked when the scheme fixes
/// it (an API key's owner, an HMAC client): return it with [`Credential::subject`] set.
pub trait TestCredentials: Send + Sync {
    /// A credential of `scheme` for `who`, for `request`.
    fn credential(
        &self,
        scheme: &str,
        who: &TestPrincipal,
        request: &PendingRequest<'_>,
    ) -> Option<Credential>;
}

/// Headers that authenticate a request, and the subject they authenticate.
#[derive(Debug, Clone)]
pub struct Credential {
    /// Headers to add.
    pub headers: Vec<(String, String)>,
    /// The subject the server will see.
    pub subject: String,
}

/// What the checks found.
#[derive(Debug, Default, Clone)]
pub struct ContractReport {
    /// `"401 GET /api/users/me"`-style lines of the checks that passed.
    pub passed: Vec<String>,
    /// Checks not made, with the reason.
    pub skipped: Vec<String>,
    /// Checks that failed, with what was seen.
    pub failures: Vec<String>,
}

impl ContractReport {
    /// Panics with every failure, if any.
    pub fn assert_ok(&self) {
        assert!(
            self.failures.is_empty(),
            "{} contract check(s) failed:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// Walks an inventory and checks each endpoint's contract against a running server.
///
/// It speaks HTTP/1.1 through its own client: no proxy, a timeout per request (10 s), and for
/// `https` rustls with the ring provider, trusting the web PKI roots and the roots added with
/// [`root_certificate_pem`](Self::root_certificate_pem) (a test server's CA). No HTTP client
/// type of a dependency is part of its API, and no process-wide crypto provider is needed.
pub struct ContractChecker<'c> {
    base: String,
    client: Client,
    roots: RootCertStore,
    timeout: Duration,
    credentials: &'c dyn TestCredentials,
    existing: HashMap<String, String>,
}

impl std::fmt::Debug for ContractChecker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractChecker")
            .field("base", &self.base)
            .field("extra_roots", &self.roots.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

const UNKNOWN_FIELD: &str = "contract_check_unknown_field";

/// Default for [`ContractChecker::timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl<'c> ContractChecker<'c> {
    /// Checks the server at `base` (`https://127.0.0.1:8443`, or `http://` for a plain one).
    pub fn new(base: impl Into<String>, credentials: &'c dyn TestCredentials) -> Self {
        let roots = RootCertStore::empty();
        ContractChecker {
            base: base.into(),
            client: client(&roots, DEFAULT_TIMEOUT),
            roots,
            timeout: DEFAULT_TIMEOUT,
            credentials,
            existing: HashMap::new(),
        }
    }

    /// Also trusts the CA certificates in `pem` (one or more `CERTIFICATE` sections), besides
    /// the web PKI roots: the CA of a test server's certificate. An error unless it holds at
    /// least one certificate and every one parses.
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::new("the root certificate is not a PEM certificate");
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            self.roots
                .add(cert.map_err(|_| invalid())?)
                .map_err(|_| invalid())?;
            found = true;
        }
        if !found {
            return Err(invalid());
        }
        self.client = client(&self.roots, self.timeout);
        Ok(self)
    }

    /// Time allowed for each request, the answer included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.client = client(&self.roots, timeout);
        self
    }

    /// An existing resource id for path parameter `param` (for `owner` endpoints with a loader:
    /// a fresh principal does not own it, so it must get 404).
    pub fn existing_resource(mut self, param: &str, id: &str) -> Self {
        self.existing.insert(param.to_owned(), id.to_owned());
        self
    }

    /// Runs every check on every endpoint of `inventory`.
    pub async fn check(&self, inventory: &Inventory) -> ContractReport {
        let mut report = ContractReport::default();
        for e in &inventory.endpoints {
            let name = format!("{} {}", e.method, e.path);
            let retired = e
                .sunset
                .as_deref()
                .and_then(crate::policy::LifecycleDate::parse)
                .is_some_and(|d| d.unix <= now());
            if retired {
                // A retired endpoint answers 410 before anything else; check that instead.
                let (path, _) = self.path_for(e, "probe");
                let res = self.send(e, &path, None, None).await;
                self.expect(&mut report, "410", &name, res, StatusCode::GONE)
                    .await;
                continue;
            }
            if e.public {
                self.check_unknown_field(&mut report, e, &name).await;
                self.check_quota(&mut report, e, &name).await;
                continue;
            }
            if e.optional_auth {
                // Anonymous callers are admitted: no credential is not a 401.
                let (path, _) = self.path_for(e, "probe");
                match self.send(e, &path, None, None).await.map(|r| r.status()) {
                    Some(StatusCode::UNAUTHORIZED) => report.failures.push(format!(
                        "anonymous {name}: 401 on an optional-auth endpoint"
                    )),
                    Some(_) => report.passed.push(format!("anonymous {name}")),
                    None => report
                        .failures
                        .push(format!("anonymous {name}: no response")),
                }
                self.check_unknown_field(&mut report, e, &name).await;
                self.check_quota(&mut report, e, &name).await;
                continue;
            }
            // 401 without credentials.
            let (path, _) = self.path_for(e, "probe");
            let res = self.send(e, &path, None, None).await;
            if let Some(challenge) = self
                .expect(&mut report, "401", &name, res, StatusCode::UNAUTHORIZED)
                .await
            {
                if challenge.is_none() {
                    report
                        .failures
                        .push(format!("401 {name}: no WWW-Authenticate challenge"));
                }
            }
            self.check_forbidden(&mut report, e, &name).await;
            self.check_not_found(&mut report, e, &name).await;
            self.check_unknown_field(&mut report, e, &name).await;
            // Last: it uses up a quota (per principal, or per client IP when public).
            self.check_quota(&mut report, e, &name).await;
        }
        report
    }

    /// A principal that satisfies the endpoint's roles and scopes.
    fn able(e: &InventoryEntry, subject: &str) -> TestPrincipal {
        TestPrincipal {
            subject: subject.to_owned(),
            roles: e.roles.iter().take(1).map(|r| (*r).to_owned()).collect(),
            scopes: e.scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The path with every parameter filled: the owner parameter with `subject`, others with
    /// a known resource id or a placeholder. Also says whether a placeholder was used.
    fn path_for(&self, e: &InventoryEntry, subject: &str) -> (String, bool) {
        let mut placeholder = false;
        let path = e
            .path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => {
                        let param = param.trim_start_matches('*');
                        if e.owner == Some(param) && e.loader.is_none() {
                            subject.to_owned()
                        } else if let Some(id) = self.existing.get(param) {
                            id.clone()
                        } else {
                            placeholder = true;
                            "probe".to_owned()
                        }
                    }
                    None => segment.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        (path, placeholder)
    }

    async fn send(
        &self,
        e: &InventoryEntry,
        path: &str,
        who: Option<(&str, &TestPrincipal)>,
        body: Option<&str>,
    ) -> Option<Response> {
        let method = Method::from_bytes(e.method.as_bytes()).ok()?;
        let media = media_type(e);
        let body = body.unwrap_or(match media {
            Some(JSON) => "{}",
            _ => "",
        });
        let mut req: RequestBuilder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(media) = media {
            req = req.header("content-type", media).body(body.to_owned());
        }
        if let Some((scheme, principal)) = who {
            let pending = PendingRequest {
                method: &e.method,
                path_and_query: path,
                body: body.as_bytes(),
            };
            let credential = self.credentials.credential(scheme, principal, &pending)?;
            for (name, value) in credential.headers {
                req = req.header(name, value);
            }
        }
        req.send().await.ok()
    }

    /// Checks status and security headers; returns `Some(Some(challenge))` when the status
    /// matched (the `WWW-Authenticate` value, if any), `None` otherwise.
    async fn expect(
        &self,
        report: &mut ContractReport,
        check: &str,
        name: &str,
        res: Option<Response>,
        status: StatusCode,
    ) -> Option<Option<String>> {
        let Some(res) = res else {
            report.failures.push(format!("{check} {name}: no response"));
            return None;
        };
        let seen = res.status();
        let headers = res.headers().clone();
        let missing = missing_security_headers(&headers, self.base.starts_with("https://"));
        let body = res.text().await.unwrap_or_default();
        if seen != status {
            report.failures.push(format!(
                "{check} {name}: expected {status}, got {seen}: {body}"
            ));
            return None;
        }
        if !missing.is_empty() {
            report.failures.push(format!(
                "{check} {name}: missing security headers {missing:?}"
            ));
            return None;
        }
        if status.is_client_error()
            && headers.get("content-type").and_then(|v| v.to_str().ok())
                != Some("application/problem+json")
        {
            report
                .failures
                .push(format!("{check} {name}: {status} is not problem+json"));
            return None;
        }
        report.passed.push(format!("{check} {name}"));
        Some(
            headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        )
    }

    async fn check_forbidden(&self, report: &mut ContractReport, e: &InventoryEntry, name: &str) {
        if e.roles.is_empty() && e.scopes.is_empty() {
            return;
        }
        let subject = format!("contract-{}", uuid::Uuid::new_v4());
        let lacking = TestPrincipal {
            subject: subject.clone(),
            roles: Vec::new(),
            scopes: Vec::new(),
        };
        for scheme in &e.auth {
            let (path, _) = self.path_for(e, &subject);
            let who = Some((*scheme, &lacking));
            match self.send(e, &path, who, None).await {
                None => report.skipped.push(format!(
                    "403 {name} ({scheme}): no credential lacking the required roles/scopes"
                )),
                Some(res) => {
                    self.expect(report, "403", name, Some(res), StatusCode::FORBIDDEN)
                        .await;
                }
            }
        }
    }

    async fn check_not_found(&self, report: &mut ContractReport, e: &InventoryEntry, name: &str) {
        let Some(param) = e.owner else { return };
        let scheme = e.auth[0];
        let me = Self::able(e, &format!("contract-{}", uuid::Uuid::new_v4()));
        // Without a loader the owner is the path value: anyone else's value is someone else's
        // resource. With a loader, an existing resource a fresh principal cannot own.
        let path = if e.loader.is_none() {
            self.path_for(e, &format!("someone-else-{}", uuid::Uuid::new_v4()))
                .0
        } else if self.existing.contains_key(param) {
            self.path_for(e, &me.subject).0
        } else {
            report.skipped.push(format!(
                "404 {name}: no existing `{param}` given (ContractChecker::existing_resource)"
            ));
            return;
        };
        match self.send(e, &path, Some((scheme, &me)), None).await {
            None => report
                .skipped
                .push(format!("404 {name} ({scheme}): no credential")),
            Some(res) if e.owner_status == Some(403) => {
                self.expect(report, "403", name, Some(res), StatusCode::FORBIDDEN)
                    .await;
            }
            Some(res) => {
                self.expect(report, "404", name, Some(res), StatusCode::NOT_FOUND)
                    .await;
            }
        }
    }

    async fn check_unknown_field(
        &self,
        report: &mut ContractReport,
        e: &InventoryEntry,
        name: &str,
    ) {
        if e.fields.is_none() && e.graphql.is_none() {
            return;
        }
        // In the endpoint's media type: a form's unknown field is a form field.
        let body = if media_type(e) == Some(FORM) {
            format!("{UNKNOWN_FIELD}=true")
        } else {
            format!(r#"{{"{UNKNOWN_FIELD}":true}}"#)
        };
        let subject = format!("contract-{}", uuid::Uuid::new_v4());
        let me = Self::able(e, &subject);
        let (path, placeholder) = self.path_for(e, &subject);
        if e.loader.is_some() && placeholder {
            report.skipped.push(format!(
                "422 {name}: the principal must own a resource (loader); not generated"
            ));
            return;
        }
        let who = e.auth.first().map(|scheme| (*scheme, &me));
        let res = self.send(e, &path, who, Some(&body)).await;
        if res.is_none() && who.is_some() {
            report
                .skipped
                .push(format!("422 {name} ({}): no credential", e.auth[0]));
            return;
        }
        self.expect(report, "422", name, res, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }

    async fn check_quota(&self, report: &mut ContractReport, e: &InventoryEntry, name: &str) {
        let Some((count, period)) = e.rate.as_deref().and_then(parse_rate) else {
            return;
        };
        // A fresh principal, so the bucket is full; public endpoints count by client IP,
        // which earlier requests of this run may have used already.
        let subject = format!("contract-{}", uuid::Uuid::new_v4());
        let me = Self::able(e, &subject);
        let (path, _) = self.path_for(e, &subject);
        // The limit admits its burst plus one request per refill interval that passes while
        // the checker sends: on a slow or loaded machine the burst takes a while to use up, and
        // a request admitted by a refill is the contract kept, not broken.
        let interval = period.as_secs_f64() / f64::from(count);
        let start = std::time::Instant::now();
        let mut sent = 0u32;
        loop {
            sent += 1;
            let who = e.auth.first().map(|scheme| (*scheme, &me));
            let Some(res) = self.send(e, &path, who, None).await else {
                report.skipped.push(format!("429 {name}: no credential"));
                return;
            };
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                let policy = res.headers().contains_key("ratelimit-policy");
                if self
                    .expect(
                        report,
                        "429",
                        name,
                        Some(res),
                        StatusCode::TOO_MANY_REQUESTS,
                    )
                    .await
                    .is_some()
                    && !policy
                {
                    report
                        .failures
                        .push(format!("429 {name}: no RateLimit-Policy header"));
                }
                return;
            }
            // Whole refills so far; the cast saturates and the elapsed time is never negative.
            let refills = (start.elapsed().as_secs_f64() / interval).floor() as u32;
            if sent > count.saturating_add(refills) {
                report.failures.push(format!(
                    "429 {name}: request {sent} of a {count}-request quota ({refills} refilled \
                     while sending) got {}",
                    res.status()
                ));
                return;
            }
        }
    }
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The media type of the body the endpoint reads, if it parses one: a URL-encoded form for
/// `Form<T>`, JSON for `Json<T>` and GraphQL (whose fields are GraphQL's).
fn media_type(e: &InventoryEntry) -> Option<&'static str> {
    if e.fields.is_some() && e.form {
        Some(FORM)
    } else if e.fields.is_some() || e.graphql.is_some() {
        Some(JSON)
    } else {
        None
    }
}

/// `"100/15m"` (as the inventory writes a rate) → the count and the period.
fn parse_rate(rate: &str) -> Option<(u32, std::time::Duration)> {
    let (count, period) = rate.split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
    let period = period.trim();
    let unit_at = period.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = period.split_at(unit_at);
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().ok()?
    };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some((
        count,
        std::time::Duration::from_secs(number.checked_mul(seconds)?),
    ))
}

/// The security headers missing from `headers`.
fn missing_security_headers(headers: &http::HeaderMap, https: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let expect = [
        ("x-content-type-options", Some("nosniff")),
        ("x-frame-options", Some("DENY")),
        ("content-security-policy", None),
        ("referrer-policy", Some("no-referrer")),
        ("cache-control", Some("no-store")),
        ("x-request-id", None),
    ];
    for (name, value) in expect {
        let seen = headers.get(name).and_then(|v| v.to_str().ok());
        if seen.is_none() || value.is_some_and(|v| seen != Some(v)) {
            missing.push(name);
        }
    }
    if https && !headers.contains_key("strict-transport-security") {
        missing.push("strict-transport-security");
    }
    if headers.contains_key("server") {
        missing.push("(no) server");
    }
    missing
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The checker's HTTP client: the same TLS as the outbound client's (ring, the web PKI roots
/// and `extra`, HTTP/1.1), no proxy, `timeout` per request.
fn client(extra: &RootCertStore, timeout: Duration) -> Client {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.roots.extend(extra.roots.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Client::builder()
        .no_proxy()
        .timeout(timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .expect("a client with a preconfigured rustls configuration builds")
}

#[cfg(test)]
#[path = "testing_tests.rs"]
mod rate_tests;

#[cfg(test)]
mod root_tests {
    use super::*;

    struct NoCredentials;

    impl TestCredentials for NoCredentials {
        fn credential(
            &self,
            _: &str,
            _: &TestPrincipal,
            _: &PendingRequest<'_>,
        ) -> Option<Credential> {
            None
        }
    }

    #[test]
    fn added_roots_are_checked_when_added() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let checker = ContractChecker::new("https://127.0.0.1:8443", &NoCredentials)
            .root_certificate_pem(ca.pem().as_bytes())
            .unwrap()
            .timeout(Duration::from_secs(3));
        assert_eq!(checker.roots.len(), 1);
        for pem in [&b""[..], b"no certificate", key.serialize_pem().as_bytes()] {
            assert!(
                ContractChecker::new("https://127.0.0.1:8443", &NoCredentials)
                    .root_certificate_pem(pem)
                    .is_err()
            );
        }
    }
}
