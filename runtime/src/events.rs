//! Security events: one typed event for every decision the router makes, emitted as a
//! `tracing` event under the target [`TARGET`] (so any subscriber, JSON or OpenTelemetry,
//! receives them with no extra code) and, for the decisions that must be kept, written to the
//! audit trail ([`audit`](crate::audit)).
//!
//! An event never carries a credential: the reason is a class (`credential_missing`,
//! `credential_invalid`, `role_missing`, `not_owner`, ...), a validation failure names fields,
//! never values, and an internal error carries only the error id the client saw.
//!
//! Every field is bounded ([`FieldLimits`]): a request cannot make its record larger than a
//! few kilobytes, and a cut field is marked in [`SecurityEvent::truncated`]. The audit trail
//! also aggregates repeated refusals ([`audit::Aggregation`](crate::audit::Aggregation)).

mod bound;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use http::StatusCode;
use serde::{Deserialize, Serialize};

pub use bound::FieldLimits;

/// The `tracing` target of every security event.
pub const TARGET: &str = "secure_endpoint::security";

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The request passed every check (the principal, if any, was authenticated).
    Allowed,
    /// No credential, or a refused one.
    AuthenticationFailed,
    /// A required role or scope is missing.
    AuthorizationDenied,
    /// The resource belongs to someone else (answered 404).
    OwnershipDenied,
    /// Over a rate limit.
    RateLimited,
    /// The body or query was refused: unknown or duplicate fields, malformed, too deep, invalid.
    ValidationRejected,
    /// The body was over the limit.
    BodyTooLarge,
    /// The body was not uncompressed JSON.
    UnsupportedMediaType,
    /// The request did not come over HTTPS.
    HttpsRequired,
    /// A cross-origin request from an origin that is not allowed.
    CorsRejected,
    /// The endpoint is past its sunset date.
    VersionSunset,
    /// The request target or headers were too large.
    RequestTooLarge,
    /// The body or the whole request took too long.
    Timeout,
    /// No such route, or a method that is not routed.
    NotRouted,
    /// Refused for another reason (any other 4xx).
    Rejected,
    /// A shared store (Redis) the request needed could not answer: refused with 503.
    StoreUnavailable,
    /// The server failed (a 5xx; `error_id` is the one the client saw).
    InternalError,
    /// Critical: a caller's answers on routes with path parameters were "not found" (or "not
    /// yours") for `distinct` different objects within the window: it is refused for a
    /// cool-down ([`abuse`](crate::abuse)). Emitted once per trip; names the principal (or
    /// client) and the endpoint, never an object id.
    EnumerationSuspected,
    /// Critical: a flow's credential checks failed for many identifiers from one client, or
    /// for one identifier from many clients (`reason` says which; `distinct` how many): the
    /// client or the identifier is refused for a cool-down. Emitted once per trip.
    CredentialAbuseSuspected,
}

/// One decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// When, as RFC 3339 UTC with milliseconds.
    pub time: String,
    /// What was decided.
    pub kind: EventKind,
    /// `allowed`, `denied` (a 4xx) or `error` (a 5xx).
    pub outcome: String,
    /// The status sent.
    pub status: u16,
    /// The problem code sent (`unauthenticated`, `rate_limited`, ...).
    pub code: Option<String>,
    /// Why, as a class: never a credential or a value.
    pub reason: Option<String>,
    /// The request id (also in the response and its problem body).
    pub request_id: String,
    /// The error id of the problem the client received.
    pub error_id: Option<String>,
    /// The method.
    pub method: String,
    /// The route template (`/api/users/{user_id}`), or `(unrouted)`.
    pub route: String,
    /// The handler, when routed.
    pub handler: Option<String>,
    /// The endpoint's contract in short: schemes, roles, scopes, owner.
    pub policy: Option<String>,
    /// The authenticated principal's subject, when known.
    pub principal: Option<String>,
    /// The scheme that authenticated it.
    pub scheme: Option<String>,
    /// The client's address (as resolved through trusted proxies).
    pub client_ip: Option<String>,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// Field names of a validation failure (never values).
    pub fields: Vec<String>,
    /// For an authentication failure with a JWT that did not verify: the token's `sub` claim,
    /// **unverified** (whoever sent the token chose it; never a credential). The audit trail
    /// keeps failures for distinct claimed subjects apart.
    #[serde(default)]
    pub claimed_subject: Option<String>,
    /// How many refused requests this record stands for: 1, or more for an aggregate of
    /// repeated refusals (then `time`, `request_id`, `error_id`, `route` and `user_agent` are
    /// those of the first of them, and `last_time` the time of the last). The counts of a
    /// trail add up to the number of requests recorded.
    #[serde(default = "one")]
    pub count: u64,
    /// For an aggregate (`count` > 1): when the last of its requests was decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
    /// Fields cut to their [`FieldLimits`]: name → original length in bytes (for `fields`,
    /// the original number of names; a cut name is `fields.<index>`). Absent when nothing was
    /// cut.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub truncated: BTreeMap<String, u64>,
    /// For an abuse alert ([`EventKind::EnumerationSuspected`],
    /// [`EventKind::CredentialAbuseSuspected`]): how many distinct objects, identifiers or
    /// clients tripped it (never which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct: Option<u64>,
}

fn one() -> u64 {
    1
}

/// The reason of an event whose rate limit was decided by the instance's own limiter because
/// the shared store could not answer ([`Outage::FallBackToLocal`](crate::store::Outage)).
pub const RATE_FALLBACK: &str = "rate_store_fallback";

impl SecurityEvent {
    /// `true` when a safeguard ran degraded for this request (its rate limit was decided
    /// locally during a store outage): recorded by the sink even when allowed.
    pub fn is_degraded(&self) -> bool {
        self.reason.as_deref() == Some(RATE_FALLBACK)
    }

    /// `true` for a refusal or a failure (what the audit trail keeps by default).
    pub fn is_rejection(&self) -> bool {
        self.kind != EventKind::Allowed
    }

    /// Emits the event as a `tracing` event under [`TARGET`]: refusals at `INFO`, allowed
    /// requests at `DEBUG`, server errors at `ERROR`.
    pub fn emit(&self) {
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    target: TARGET,
                    $level,
                    kind = ?self.kind,
                    outcome = %self.outcome,
                    status = self.status,
                    code = self.code.as_deref(),
                    reason = self.reason.as_deref(),
                    request_id = %self.request_id,
                    error_id = self.error_id.as_deref(),
                    method = %self.method,
                    route = %self.route,
                    handler = self.handler.as_deref(),
                    policy = self.policy.as_deref(),
                    principal = self.principal.as_deref(),
                    scheme = self.scheme.as_deref(),
                    client_ip = self.client_ip.as_deref(),
                    user_agent = self.user_agent.as_deref(),
                    fields = ?self.fields,
                    count = self.count,
                    last_time = self.last_time.as_deref(),
                    distinct = self.distinct,
                    claimed_subject = self.claimed_subject.as_deref().map(tracing::field::debug),
                    truncated = (!self.truncated.is_empty()).then(|| tracing::field::debug(&self.truncated)),
                    "security event"
                )
            };
        }
        match self.kind {
            EventKind::Allowed if self.is_degraded() => event!(tracing::Level::WARN),
            EventKind::Allowed => event!(tracing::Level::DEBUG),
            EventKind::InternalError => event!(tracing::Level::ERROR),
            // Critical: an attack in progress.
            EventKind::EnumerationSuspected | EventKind::CredentialAbuseSuspected => {
                event!(tracing::Level::ERROR)
            }
            EventKind::StoreUnavailable => event!(tracing::Level::WARN),
            _ => event!(tracing::Level::INFO),
        }
    }
}

/// Receives the router's security events (the audit trail implements it).
pub trait EventSink: Send + Sync + std::fmt::Debug + 'static {
    /// Takes one event. `Err` refuses the request it describes (an audit trail that must not
    /// lose events and cannot take more): the client then gets 503.
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull>;

    /// The bounds every event is cut to before it is emitted and recorded. Default
    /// [`FieldLimits::default`]; an [`Auditor`](crate::audit::Auditor) answers its
    /// [`AuditConfig::limits`](crate::audit::AuditConfig::limits).
    fn field_limits(&self) -> FieldLimits {
        FieldLimits::default()
    }
}

/// An [`EventSink`] that cannot take the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkFull;

impl std::fmt::Display for SinkFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the security event sink is full")
    }
}

impl std::error::Error for SinkFull {}

/// Where a concern's security events go: `tracing` always, and the configured sink (the
/// audit trail) for the events it keeps. What the concerns that emit events are handed,
/// rather than the whole configuration. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observer {
    /// Where security events go besides `tracing`.
    sink: Option<Arc<dyn EventSink>>,
    /// Record allowed requests too, not only refusals.
    record_allowed: bool,
}

impl Observer {
    pub(crate) fn new(sink: Option<Arc<dyn EventSink>>, record_allowed: bool) -> Self {
        Observer {
            sink,
            record_allowed,
        }
    }

    /// `true` when a security event would go anywhere: an event sink, or a `tracing`
    /// subscriber for [`TARGET`].
    #[inline]
    pub(crate) fn observing(&self) -> bool {
        self.sink.is_some() || tracing_wants(false)
    }

    /// Cuts `event` to the sink's [`FieldLimits`], emits it to `tracing` and, when it is
    /// kept, to the sink. Returns the 503 to send instead when the sink refuses it.
    pub(crate) fn dispatch(&self, mut event: SecurityEvent) -> Option<axum::response::Response> {
        let limits = self
            .sink
            .as_ref()
            .map_or_else(FieldLimits::default, |sink| sink.field_limits());
        event.bound(&limits);
        event.emit();
        let sink = self.sink.as_ref()?;
        if !event.is_rejection() && !self.record_allowed && !event.is_degraded() {
            return None;
        }
        match sink.record(event) {
            Ok(()) => None,
            Err(SinkFull) => Some(axum::response::IntoResponse::into_response(
                crate::problem::Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                    .with_code("audit_unavailable")
                    .with_detail("The request cannot be recorded now; try again later."),
            )),
        }
    }
}

/// `true` when somebody listens: a subscriber for [`TARGET`] at `level`.
pub(crate) fn tracing_wants(allowed: bool) -> bool {
    if allowed {
        tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
    } else {
        tracing::enabled!(target: TARGET, tracing::Level::ERROR)
    }
}

/// The kind of a refusal, from what was sent.
pub(crate) fn classify(status: StatusCode, code: Option<&str>, reason: Option<&str>) -> EventKind {
    match (status.as_u16(), code.unwrap_or(""), reason.unwrap_or("")) {
        (s, _, _) if s < 400 => EventKind::Allowed,
        (_, "https_required", _) => EventKind::HttpsRequired,
        (_, "sunset", _) => EventKind::VersionSunset,
        (_, "timeout" | "body_timeout", _) => EventKind::Timeout,
        (503, "store_unavailable", _) => EventKind::StoreUnavailable,
        (401, _, _) => EventKind::AuthenticationFailed,
        (403, _, _) => EventKind::AuthorizationDenied,
        (404, _, "not_owner") => EventKind::OwnershipDenied,
        (404 | 405, _, _) => EventKind::NotRouted,
        (408, _, _) => EventKind::Timeout,
        (413, _, _) => EventKind::BodyTooLarge,
        (414 | 431, _, _) => EventKind::RequestTooLarge,
        (415, _, _) => EventKind::UnsupportedMediaType,
        (400 | 422, _, _) => EventKind::ValidationRejected,
        (429, _, _) => EventKind::RateLimited,
        (s, _, _) if s >= 500 => EventKind::InternalError,
        _ => EventKind::Rejected,
    }
}

/// What the router knows about a request when its answer is decided.
#[derive(Debug, Default)]
pub(crate) struct EventContext {
    pub(crate) method: String,
    pub(crate) route: String,
    pub(crate) handler: Option<&'static str>,
    pub(crate) policy: Option<String>,
    pub(crate) principal: Option<(String, &'static str)>,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) user_agent: Option<String>,
    /// The payload segment of a bearer JWT, decoded for its `sub` only if authentication fails.
    pub(crate) bearer_payload: Option<String>,
    /// A rate limit was decided locally because its shared store could not answer.
    pub(crate) rate_fallback: bool,
}

impl EventContext {
    /// The context of a request, from its head.
    pub(crate) fn of(method: &http::Method, headers: &http::HeaderMap, route: &str) -> Self {
        EventContext {
            method: method.as_str().to_owned(),
            route: route.to_owned(),
            handler: None,
            policy: None,
            principal: None,
            client_ip: None,
            rate_fallback: false,
            // Whole (hyper bounds the head); cut to the sink's limits on dispatch.
            user_agent: headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            bearer_payload: bound::bearer_payload(headers),
        }
    }

    /// The event for `response`.
    pub(crate) fn event(
        self,
        response: &axum::response::Response,
        request_id: &str,
    ) -> SecurityEvent {
        let status = response.status();
        let rendered = response
            .extensions()
            .get::<crate::problem::RenderedProblem>();
        let code = rendered.map(|r| r.problem.code());
        let reason = rendered.and_then(|r| r.problem.reason());
        let kind = classify(status, code, reason);
        let fields = rendered
            .map(|r| r.problem.errors().iter().map(|e| e.field.clone()).collect())
            .unwrap_or_default();
        let claimed_subject = match (kind, &self.principal, &self.bearer_payload) {
            (EventKind::AuthenticationFailed, None, Some(payload)) => {
                bound::claimed_subject(payload)
            }
            _ => None,
        };
        SecurityEvent {
            time: rfc3339_now(),
            kind,
            outcome: match kind {
                EventKind::Allowed => "allowed",
                EventKind::InternalError => "error",
                _ => "denied",
            }
            .to_owned(),
            status: status.as_u16(),
            code: code.map(str::to_owned),
            reason: reason
                .map(str::to_owned)
                .or_else(|| self.rate_fallback.then(|| RATE_FALLBACK.to_owned())),
            request_id: request_id.to_owned(),
            error_id: rendered.map(|r| r.error_id.to_string()),
            method: self.method,
            route: self.route,
            handler: self.handler.map(str::to_owned),
            policy: self.policy,
            scheme: self.principal.as_ref().map(|(_, s)| (*s).to_owned()),
            principal: self.principal.map(|(p, _)| p),
            client_ip: self.client_ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent,
            fields,
            claimed_subject,
            count: 1,
            last_time: None,
            truncated: BTreeMap::new(),
            distinct: None,
        }
    }
}

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn rfc3339_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let t = rfc3339_now();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.starts_with("20"), "{t}");
    }

    #[test]
    fn kinds_from_answers() {
        let k = |s: u16, c: Option<&str>, r: Option<&str>| {
            classify(StatusCode::from_u16(s).unwrap(), c, r)
        };
        assert_eq!(k(200, None, None), EventKind::Allowed);
        assert_eq!(
            k(401, Some("unauthenticated"), Some("credential_invalid")),
            EventKind::AuthenticationFailed
        );
        assert_eq!(
            k(403, Some("insufficient_scope"), None),
            EventKind::AuthorizationDenied
        );
        assert_eq!(
            k(404, Some("not_found"), Some("not_owner")),
            EventKind::OwnershipDenied
        );
        assert_eq!(k(404, Some("not_found"), None), EventKind::NotRouted);
        assert_eq!(k(429, Some("rate_limited"), None), EventKind::RateLimited);
        assert_eq!(
            k(422, Some("unknown_fields"), None),
            EventKind::ValidationRejected
        );
        assert_eq!(
            k(403, Some("https_required"), None),
            EventKind::HttpsRequired
        );
        assert_eq!(k(410, Some("sunset"), None), EventKind::VersionSunset);
        assert_eq!(k(503, Some("timeout"), None), EventKind::Timeout);
        assert_eq!(
            k(500, Some("internal_error"), None),
            EventKind::InternalError
        );
    }
}
