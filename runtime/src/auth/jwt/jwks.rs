//! Verification keys by `kid` from a JSON Web Key Set (RFC 7517), read from a file or fetched
//! over HTTPS from the identity provider.
//!
//! - **Refresh on an unknown `kid`**, at most once per [`JwksSource::min_refresh_interval`]
//!   (60 s by default) and one fetch at a time: a flood of tokens with random `kid`s costs one
//!   fetch per interval, not one per token.
//! - **The last good key set is kept** when a fetch fails or yields no usable key.
//! - **A refreshed set replaces the old one**, so a key the provider has removed stops
//!   verifying, and tokens it verified are dropped from the verified-token cache.
//! - **Stale sets are refreshed in the background** after [`JwksSource::max_age`] (1 hour).
//! - **Only the configured location is ever fetched.** Nothing in a token (`jku`, `x5u`, `jwk`)
//!   makes the verifier connect anywhere; such tokens are refused.
//! - Over HTTPS only (feature `jwks-https`), without redirects, with a timeout and a size cap (512 KiB), through the
//!   SSRF-guarded [`OutboundClient`](crate::outbound::OutboundClient): only the configured
//!   host and port, and never an internal address (loopback, private, link-local...) unless
//!   allowed with [`JwksSource::allow_internal`].
//! - Each key gets exactly one algorithm: its `alg` member, or the one its type implies (RSA →
//!   RS256, EC P-256 → ES256, EC P-384 → ES384, OKP Ed25519 → EdDSA). Symmetric (`oct`) keys,
//!   encryption keys (`use: "enc"`) and keys of unsupported types are skipped.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::error::ConfigError;
#[cfg(feature = "jwks-https")]
use crate::outbound::{IpNet, OutboundClient, OutboundError};

/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_SIZE: usize = 512 * 1024;

/// Default for [`JwksSource::min_refresh_interval`].
pub(crate) const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(60);

/// Default for [`JwksSource::max_age`].
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Default for [`JwksSource::timeout`].
#[cfg(feature = "jwks-https")]
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a JWKS document comes from, and how often it may be fetched.
pub struct JwksSource {
    location: Location,
    min_refresh: Duration,
    max_age: Duration,
    #[cfg(feature = "jwks-https")]
    timeout: Duration,
    /// The PEM documents of the roots added with [`JwksSource::root_certificate_pem`].
    #[cfg(feature = "jwks-https")]
    roots: Vec<Vec<u8>>,
    #[cfg(feature = "jwks-https")]
    internal: Vec<IpNet>,
}

enum Location {
    File(PathBuf),
    #[cfg(feature = "jwks-https")]
    Https(String),
}

impl fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = match &self.location {
            Location::File(path) => path.display().to_string(),
            #[cfg(feature = "jwks-https")]
            Location::Https(url) => url.clone(),
        };
        let mut debug = f.debug_struct("JwksSource");
        debug
            .field("location", &location)
            .field("min_refresh", &self.min_refresh)
            .field("max_age", &self.max_age);
        #[cfg(feature = "jwks-https")]
        debug
            .field("timeout", &self.timeout)
            .field("extra_roots", &self.roots.len())
            .field("internal", &self.internal);
        debug.finish()
    }
}

impl JwksSource {
    /// A JWKS document in a file, read when the verifier is built and re-read on refresh.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(Location::File(path.into()))
    }

    /// A JWKS document at an `https://` URL, fetched on first use (or by
    /// [`JwtVerifier::refresh_keys`](super::JwtVerifier::refresh_keys)) and on refresh.
    /// Plain `http://` is refused: keys fetched in clear text can be replaced on the way.
    #[cfg(feature = "jwks-https")]
    pub fn https(url: impl Into<String>) -> Result<Self, ConfigError> {
        let url = url.into();
        let parsed = url::Url::parse(&url)
            .map_err(|_| ConfigError::new("the JWKS URL is not a valid URL"))?;
        if parsed.scheme() != "https" || parsed.host().is_none() {
            return Err(ConfigError::new(
                "the JWKS URL must be https:// with a host: keys fetched in clear text can be replaced",
            ));
        }
        Ok(Self::new(Location::Https(url)))
    }

    fn new(location: Location) -> Self {
        JwksSource {
            location,
            min_refresh: DEFAULT_MIN_REFRESH,
            max_age: DEFAULT_MAX_AGE,
            #[cfg(feature = "jwks-https")]
            timeout: DEFAULT_TIMEOUT,
            #[cfg(feature = "jwks-https")]
            roots: Vec::new(),
            #[cfg(feature = "jwks-https")]
            internal: Vec::new(),
        }
    }

    /// Lets the HTTPS fetch reach these internal addresses (loopback, private, link-local...),
    /// which are refused otherwise: an identity provider on a private network, or a test
    /// fixture on `127.0.0.1`. Keep them narrow; an `IpAddr` is a single address.
    #[cfg(feature = "jwks-https")]
    pub fn allow_internal(mut self, networks: impl IntoIterator<Item = impl Into<IpNet>>) -> Self {
        self.internal.extend(networks.into_iter().map(Into::into));
        self
    }

    /// Also trusts the CA certificates in `pem` for the HTTPS fetch, besides the web PKI roots:
    /// for a provider on a private PKI. An error unless it holds at least one certificate and
    /// every one parses.
    #[cfg(feature = "jwks-https")]
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        // Checked now, so that a bad certificate is an error here, not when the verifier is built.
        let checked = OutboundClient::builder()
            .root_certificate_pem(pem)
            .map_err(|_| ConfigError::new("the JWKS root certificate is not a PEM certificate"))?;
        drop(checked);
        self.roots.push(pem.to_vec());
        Ok(self)
    }

    /// The shortest time between two fetches (default 60 s). Unknown `kid`s within this time
    /// are refused without a fetch.
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    /// After this long the key set is refreshed in the background (default 1 hour).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Time allowed for one fetch (default 5 s).
    #[cfg(feature = "jwks-https")]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A key the verifier may use: bound to exactly one algorithm.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// Why a JWKS refresh failed. Says what went wrong, never the document's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksError(String);

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JwksError {}

fn err(what: impl Into<String>) -> JwksError {
    JwksError(what.into())
}

/// A key set and its generation, read together.
#[derive(Clone)]
pub(crate) struct KeySnapshot {
    pub(crate) keys: Arc<[VerifyKey]>,
    pub(crate) generation: u64,
}

/// The live key set of one source.
pub(crate) struct Jwks {
    location: Location,
    min_refresh: Duration,
    max_age: Duration,
    #[cfg(feature = "jwks-https")]
    client: Option<OutboundClient>,
    keys: RwLock<KeySnapshot>,
    /// Bumped each time a set is installed; verified tokens remember it.
    generation: AtomicU64,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    last_attempt: Mutex<Option<Instant>>,
    last_success: Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks")
            .field("keys", &self.snapshot().keys.len())
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// Prepares the source; a file is read now, so a bad file is a configuration error.
    #[cfg_attr(not(feature = "jwks-https"), allow(irrefutable_let_patterns))]
    pub(crate) fn new(source: JwksSource) -> Result<Self, ConfigError> {
        #[cfg(feature = "jwks-https")]
        let client = match &source.location {
            Location::File(_) => None,
            Location::Https(url) => {
                // Only the configured host and port, no redirect: nothing else is ever fetched.
                let parsed = url::Url::parse(url)
                    .map_err(|_| ConfigError::new("the JWKS URL is not a valid URL"))?;
                let mut builder = OutboundClient::builder()
                    .allow_hosts(parsed.host_str())
                    .allow_ports(parsed.port_or_known_default())
                    .allow_internal(source.internal.iter().copied())
                    .max_redirects(0)
                    .connect_timeout(source.timeout)
                    .timeout(source.timeout)
                    .max_response_bytes(MAX_JWKS_SIZE);
                for pem in &source.roots {
                    builder = builder.root_certificate_pem(pem).map_err(|_| {
                        ConfigError::new("the JWKS root certificate is not a PEM certificate")
                    })?;
                }
                let client = builder
                    .build()
                    .map_err(|_| ConfigError::new("the JWKS HTTPS client cannot be built"))?;
                client.check_url(url).map_err(|_| {
                    ConfigError::new(
                        "the JWKS URL names an internal address: allow it with JwksSource::allow_internal",
                    )
                })?;
                Some(client)
            }
        };
        let jwks = Jwks {
            location: source.location,
            min_refresh: source.min_refresh,
            max_age: source.max_age,
            #[cfg(feature = "jwks-https")]
            client,
            keys: RwLock::new(KeySnapshot {
                keys: Arc::from(Vec::new()),
                generation: 0,
            }),
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(()),
            last_attempt: Mutex::new(None),
            last_success: Mutex::new(None),
            fetches: AtomicU64::new(0),
        };
        if let Location::File(path) = &jwks.location {
            let bytes = read_file(path).map_err(|_| {
                ConfigError::new("the JWKS file cannot be read (or is over 512 KiB)")
            })?;
            let keys = parse(&bytes)
                .map_err(|_| ConfigError::new("the JWKS file holds no usable signing key"))?;
            jwks.install(keys);
        }
        Ok(jwks)
    }

    pub(crate) fn snapshot(&self) -> KeySnapshot {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The current generation, without a lock.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn install(&self, keys: Vec<VerifyKey>) {
        {
            let mut current = self.keys.write().unwrap_or_else(|p| p.into_inner());
            let generation = current.generation + 1;
            *current = KeySnapshot {
                keys: Arc::from(keys),
                generation,
            };
            self.generation.store(generation, Ordering::Release);
        }
        *self.last_success.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// How many fetches have been made (for tests and metrics).
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// `true` when the set is older than `max_age` (or was never loaded).
    pub(crate) fn is_stale(&self) -> bool {
        self.last_success
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= self.max_age)
    }

    /// `true` if a fetch may start now (none within the minimum interval).
    fn may_fetch(&self) -> bool {
        self.last_attempt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= self.min_refresh)
    }

    /// Fetches and installs the key set, unless `rate_limited` and a fetch was attempted within
    /// the minimum interval. `Ok(true)` when a new set was installed. On failure the previous
    /// set stays.
    pub(crate) async fn refresh(&self, rate_limited: bool) -> Result<bool, JwksError> {
        if rate_limited && !self.may_fetch() {
            return Ok(false);
        }
        let _one_at_a_time = self.fetching.lock().await;
        {
            // Re-checked under the fetch lock: callers that queued behind a fetch do not
            // start another one.
            let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
            if rate_limited && last.is_some_and(|t| t.elapsed() < self.min_refresh) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let outcome = async {
            let bytes = self.fetch().await?;
            parse(&bytes)
        }
        .await;
        match outcome {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), "JWKS refreshed");
                self.install(keys);
                Ok(true)
            }
            Err(error) => {
                tracing::warn!(%error, "JWKS refresh failed; the previous key set stays");
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        match &self.location {
            Location::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read_file(&path))
                    .await
                    .map_err(|_| err("the JWKS file read did not complete"))?
            }
            #[cfg(feature = "jwks-https")]
            Location::Https(url) => {
                let Some(client) = &self.client else {
                    return Err(err("no HTTPS client"));
                };
                let fetched = client
                    .request(http::Method::GET, url)
                    .map_err(fetch_error)?
                    .header(
                        http::header::ACCEPT,
                        http::HeaderValue::from_static(
                            "application/jwk-set+json, application/json",
                        ),
                    )
                    .send()
                    .await
                    .map_err(fetch_error)?;
                if fetched.status != http::StatusCode::OK {
                    return Err(err(format!(
                        "JWKS fetch answered HTTP {}",
                        fetched.status.as_u16()
                    )));
                }
                Ok(fetched.body.to_vec())
            }
        }
    }
}

#[cfg(feature = "jwks-https")]
fn fetch_error(e: OutboundError) -> JwksError {
    match e {
        OutboundError::TooLarge(_) => err("the JWKS document is over 512 KiB"),
        OutboundError::Refused(crate::outbound::Refusal::TooManyRedirects(_)) => {
            err("JWKS fetch failed: redirected (not followed)")
        }
        OutboundError::Status(status) => {
            err(format!("JWKS fetch answered HTTP {}", status.as_u16()))
        }
        e => err(format!("JWKS fetch failed: {e}")),
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, JwksError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|_| err("the JWKS file cannot be opened"))?;
    let mut bytes = Vec::new();
    file.take(MAX_JWKS_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| err("the JWKS file cannot be read"))?;
    if bytes.len() > MAX_JWKS_SIZE {
        return Err(err("the JWKS file is over 512 KiB"));
    }
    Ok(bytes)
}

/// The usable signing keys of a JWKS document; an error if there is none.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<VerifyKey>, JwksError> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(bytes).map_err(|_| err("the JWKS document is not a key set"))?;
    let total = document.keys.len();
    let keys: Vec<VerifyKey> = document.keys.into_iter().filter_map(key_from_jwk).collect();
    if keys.len() < total {
        tracing::debug!(
            skipped = total - keys.len(),
            "JWKS keys skipped (unsupported or not for signatures)"
        );
    }
    if keys.is_empty() {
        return Err(err("the JWKS document holds no usable signing key"));
    }
    Ok(keys)
}

fn key_from_jwk(value: serde_json::Value) -> Option<VerifyKey> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let declared = jwk.common.key_algorithm;
    let alg = match (&jwk.algorithm, declared) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS384)) => Algorithm::RS384,
        (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS512)) => Algorithm::RS512,
        (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::PS256)) => Algorithm::PS256,
        (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::PS384)) => Algorithm::PS384,
        (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::PS512)) => Algorithm::PS512,
        (AlgorithmParameters::EllipticCurve(p), None | Some(KeyAlgorithm::ES256))
            if p.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        (AlgorithmParameters::EllipticCurve(p), None | Some(KeyAlgorithm::ES384))
            if p.curve == EllipticCurve::P384 =>
        {
            Algorithm::ES384
        }
        (AlgorithmParameters::OctetKeyPair(p), None | Some(KeyAlgorithm::EdDSA))
            if p.curve == EllipticCurve::Ed25519 =>
        {
            Algorithm::EdDSA
        }
        // Symmetric keys, mismatched alg/type pairs and anything else.
        _ => return None,
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(VerifyKey {
        kid: jwk.common.key_id,
        alg,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_get_one_algorithm_and_unusable_ones_are_skipped() {
        let doc = br#"{"keys":[
            {"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"oct","kid":"sym","k":"c2VjcmV0"},
            {"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"EC","crv":"P-256","kid":"mismatch","alg":"RS256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"XYZ","kid":"unknown"}
        ]}"#;
        let keys = parse(doc).unwrap();
        let found: Vec<(Option<&str>, Algorithm)> =
            keys.iter().map(|k| (k.kid.as_deref(), k.alg)).collect();
        assert_eq!(
            found,
            vec![
                (Some("ec"), Algorithm::ES256),
                (Some("ed"), Algorithm::EdDSA)
            ]
        );
        assert!(parse(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).is_err());
        assert!(parse(b"not json").is_err());
    }

    #[test]
    #[cfg(feature = "jwks-https")]
    fn only_https_urls() {
        assert!(JwksSource::https("http://idp.example/jwks.json").is_err());
        assert!(JwksSource::https("file:///etc/passwd").is_err());
        assert!(JwksSource::https("https://idp.example/.well-known/jwks.json").is_ok());
    }
}
