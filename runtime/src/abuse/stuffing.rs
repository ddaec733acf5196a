//! Credential stuffing and spraying: what a flow's handler reports, and the refusals.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::events::EventKind;
use crate::perimeter::IpNet;
use crate::problem::Problem;
use crate::rate::{normalize_identifier, RateSubject};

use super::enumeration::{alert, Where};
use super::{hash64, refusal, Abuse, FlowRuntime};

/// What the pipeline hands [`FlowAttempts`] on an endpoint with a flow.
#[derive(Clone)]
pub(crate) struct AttemptContext {
    pub(crate) abuse: Arc<Abuse>,
    pub(crate) flow: Arc<FlowRuntime>,
    pub(crate) client_ip: IpAddr,
    pub(crate) route: Arc<str>,
    pub(crate) handler: &'static str,
}

/// A flow's credential checks, reported by its handler: many distinct identifiers failing
/// from one client (stuffing, spraying) or one identifier failing from many clients
/// (distributed guessing) refuse the client, or the identifier, for the
/// [`Stuffing`](super::Stuffing) guard's cool-down, with one
/// [`CredentialAbuseSuspected`](crate::events::EventKind::CredentialAbuseSuspected) event per
/// trip. The counts live in the rate store, shared by the instances using it; identifiers are
/// counted in their [`normalize_identifier`] form, hashed (never stored).
///
/// An extractor of endpoints with `flow = "..."` whose flow has a stuffing guard; elsewhere it
/// answers 500 (a wiring mistake, logged). Use it beside the per-identifier
/// [`FailureLimiter`](crate::rate::FailureLimiter):
///
/// ```no_run
/// # use secure_endpoint::abuse::FlowAttempts;
/// # use secure_endpoint::Problem;
/// # fn verify(_: &str, _: &str) -> bool { false }
/// # async fn login(attempts: FlowAttempts, email: &str, password: &str) -> Result<(), Problem> {
/// attempts.check(email).await?; // 429 `credential_abuse_suspected` while cooling down
/// if verify(email, password) {
///     attempts.succeeded(email).await;
///     Ok(())
/// } else {
///     attempts.failed(email).await?; // 429 when this failure trips a threshold
///     Err(Problem::new(http::StatusCode::UNAUTHORIZED))
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct FlowAttempts {
    context: AttemptContext,
    request_id: crate::extract::RequestId,
    method: http::Method,
}

impl std::fmt::Debug for FlowAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowAttempts")
            .field("flow", &self.context.flow.name())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FlowAttempts {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(context) = parts.extensions.get::<AttemptContext>().cloned() else {
            tracing::error!(
                target: crate::events::TARGET,
                "`FlowAttempts` used on an endpoint without `flow = \"...\"`"
            );
            return Err(Problem::internal());
        };
        if context.flow.stuffing().is_none() {
            tracing::error!(
                target: crate::events::TARGET,
                flow = context.flow.name(),
                "`FlowAttempts` used in a flow without a stuffing guard (`FlowBudget::stuffing`)"
            );
            return Err(Problem::internal());
        }
        let request_id = parts
            .extensions
            .get::<crate::extract::RequestContext>()
            .map(|c| c.request_id.clone())
            .unwrap_or_else(|| crate::extract::RequestId::from_request(&parts.headers));
        Ok(FlowAttempts {
            context,
            request_id,
            method: parts.method.clone(),
        })
    }
}

/// The stuffing guard's answer while cooling down.
fn problem(wait: std::time::Duration) -> Problem {
    refusal(
        "credential_abuse_suspected",
        "Too many failed sign-in attempts across accounts or clients. Retry after the time \
         given in Retry-After.",
        wait,
    )
}

impl FlowAttempts {
    fn client(&self) -> IpNet {
        IpNet::of(self.context.client_ip, self.context.abuse.ipv6_prefix)
    }

    /// `(client key, identifier key, identifier hash, client hash)` in the store.
    fn keys(&self, identifier: &str) -> (String, String, u64, u64) {
        let flow = self.context.flow.name();
        let client = RateSubject::Network(self.client()).shared_key();
        let normalized = normalize_identifier(identifier);
        let id_hash = hash64(&[flow.as_bytes(), normalized.as_bytes()]);
        let client_hash = hash64(&[client.as_bytes()]);
        (
            format!("stuff:{flow}:client:{client}"),
            format!("stuff:{flow}:id:{id_hash:016x}"),
            id_hash,
            client_hash,
        )
    }

    /// Before checking the credentials: 429 `credential_abuse_suspected` while this client or
    /// this identifier cools down.
    pub async fn check(&self, identifier: &str) -> Result<(), Problem> {
        let (client_key, id_key, _, _) = self.keys(identifier);
        let abuse = &self.context.abuse;
        let wait = match abuse.cooling(&client_key).await {
            Some(wait) => Some(wait),
            None => abuse.cooling(&id_key).await,
        };
        match wait {
            Some(wait) => Err(problem(wait)),
            None => Ok(()),
        }
    }

    /// The credentials for `identifier` were wrong: counted for this client and for the
    /// identifier. Answers the 429 to send when this failure reached a threshold (or the
    /// client or identifier already cools down); otherwise the handler answers its own 401.
    pub async fn failed(&self, identifier: &str) -> Result<(), Problem> {
        let Some(guard) = self.context.flow.stuffing().copied() else {
            return Ok(());
        };
        let (client_key, id_key, id_hash, client_hash) = self.keys(identifier);
        let abuse = &self.context.abuse;
        let by_client = abuse
            .distinct(
                &client_key,
                id_hash,
                guard.window,
                guard.identifiers_per_client,
                guard.cool_down,
            )
            .await;
        let by_identifier = abuse
            .distinct(
                &id_key,
                client_hash,
                guard.window,
                guard.clients_per_identifier,
                guard.cool_down,
            )
            .await;
        for (seen, reason) in [
            (by_client, "many_identifiers_one_client"),
            (by_identifier, "one_identifier_many_clients"),
        ] {
            if seen.tripped {
                alert(
                    &self.context.abuse.observer,
                    EventKind::CredentialAbuseSuspected,
                    "credential_abuse_suspected",
                    reason,
                    seen.count,
                    &Where {
                        request_id: self.request_id.as_str(),
                        method: self.method.as_str(),
                        route: &self.context.route,
                        handler: self.context.handler,
                        principal: None,
                        client_ip: self.context.client_ip,
                    },
                );
            }
        }
        match by_client.cooling.or(by_identifier.cooling) {
            Some(wait) => Err(problem(wait)),
            None => Ok(()),
        }
    }

    /// The credentials for `identifier` were right: this client's failures for it are
    /// forgiven (a user who mistyped, then signed in, does not count toward either
    /// threshold). A cool-down already started is not lifted.
    pub async fn succeeded(&self, identifier: &str) {
        let (client_key, id_key, id_hash, client_hash) = self.keys(identifier);
        let abuse = &self.context.abuse;
        abuse.forget(&client_key, id_hash).await;
        abuse.forget(&id_key, client_hash).await;
    }
}
