//! A business flow's budgets, enforced across its endpoints.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::perimeter::IpNet;
use crate::problem::Problem;
use crate::rate::{RateLimiter, RateStore, RateSubject};
use crate::store::Outage;

use super::FlowBudget;

/// One flow: its limiters, shared by every endpoint naming it. Limits are named
/// `flow:<name>:ip`, `flow:<name>:principal` and `flow:<name>:total` in a shared store.
pub(crate) struct FlowRuntime {
    name: Arc<str>,
    budget: FlowBudget,
    per_ip: Option<RateLimiter>,
    per_principal: Option<RateLimiter>,
    total: Option<RateLimiter>,
}

impl std::fmt::Debug for FlowRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRuntime")
            .field("name", &self.name)
            .field("budget", &self.budget)
            .finish()
    }
}

/// The one key of a flow's total budget: every request of the flow counts against it.
const EVERYONE: RateSubject<'static> = RateSubject::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED));

impl FlowRuntime {
    pub(crate) fn new(
        name: &str,
        budget: FlowBudget,
        store: &Option<(Arc<dyn RateStore>, Outage)>,
        max_keys: usize,
    ) -> Self {
        let limiter = |part: &str, spec| {
            let limiter = RateLimiter::new("flow", spec).max_keys(max_keys);
            match store {
                Some((store, outage)) => {
                    limiter.shared(format!("flow:{name}:{part}"), store.clone(), *outage)
                }
                None => limiter,
            }
        };
        FlowRuntime {
            name: Arc::from(name),
            per_ip: budget.per_ip.map(|s| limiter("ip", s)),
            per_principal: budget.per_principal.map(|s| limiter("principal", s)),
            total: budget.total.map(|s| limiter("total", s)),
            budget,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn budget(&self) -> &FlowBudget {
        &self.budget
    }

    /// The stuffing guard, when the flow has one.
    pub(crate) fn stuffing(&self) -> Option<&super::Stuffing> {
        self.budget.stuffing.as_ref()
    }

    /// Counts one request of the flow: per client, per principal, then in total. Over any
    /// budget: 429 `flow_limited` (with the limiter's `Retry-After` and `RateLimit` fields).
    pub(crate) async fn check(
        &self,
        principal: Option<&crate::extract::Principal>,
        client: IpNet,
        fell_back: &mut bool,
    ) -> Result<(), Problem> {
        let flow_limited = |p: Problem| {
            if p.status() == http::StatusCode::TOO_MANY_REQUESTS {
                p.with_code("flow_limited").with_detail(
                    "Too many requests in this flow. Retry after the time given in Retry-After.",
                )
            } else {
                p
            }
        };
        if let Some(limiter) = &self.per_ip {
            limiter
                .check_noting(RateSubject::Network(client), fell_back)
                .await
                .map_err(flow_limited)?;
        }
        if let (Some(limiter), Some(principal)) = (&self.per_principal, principal) {
            limiter
                .check_noting(RateSubject::Principal(principal), fell_back)
                .await
                .map_err(flow_limited)?;
        }
        if let Some(limiter) = &self.total {
            limiter
                .check_noting(EVERYONE, fell_back)
                .await
                .map_err(flow_limited)?;
        }
        Ok(())
    }
}
