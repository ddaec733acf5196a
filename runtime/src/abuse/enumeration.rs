//! Object enumeration: distinct objects not found per caller, and the alert.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::events::{rfc3339_now, EventKind, Observer, SecurityEvent};
use crate::extract::Principal;
use crate::perimeter::IpNet;
use crate::problem::Problem;
use crate::rate::RateSubject;

use super::{hash64, local_key, refusal, Abuse};

/// The 429 a caller cooling down after enumeration gets.
pub(super) fn problem(wait: Duration) -> Problem {
    refusal(
        "enumeration_suspected",
        "Too many requests for objects that do not exist or are not yours. Retry after the \
         time given in Retry-After.",
        wait,
    )
}

/// Where an alert happened: the request and the endpoint, never an object id.
pub(super) struct Where<'a> {
    pub(super) request_id: &'a str,
    pub(super) method: &'a str,
    pub(super) route: &'a str,
    pub(super) handler: &'static str,
    pub(super) principal: Option<&'a Principal>,
    pub(super) client_ip: IpAddr,
}

/// One critical security event for a detector that tripped: the principal (or client), the
/// endpoint, the distinct count.
pub(super) fn alert(
    observer: &Observer,
    kind: EventKind,
    code: &'static str,
    reason: &'static str,
    distinct: u32,
    at: &Where<'_>,
) {
    let event = SecurityEvent {
        time: rfc3339_now(),
        kind,
        outcome: "denied".to_owned(),
        status: 429,
        code: Some(code.to_owned()),
        reason: Some(reason.to_owned()),
        request_id: at.request_id.to_owned(),
        error_id: None,
        method: at.method.to_owned(),
        route: at.route.to_owned(),
        handler: Some(at.handler.to_owned()),
        policy: None,
        principal: at.principal.map(|p| p.subject().to_owned()),
        scheme: at.principal.map(|p| p.scheme().as_str().to_owned()),
        client_ip: Some(at.client_ip.to_string()),
        user_agent: None,
        fields: Vec::new(),
        claimed_subject: None,
        count: 1,
        last_time: None,
        truncated: BTreeMap::new(),
        distinct: Some(u64::from(distinct)),
    };
    // An audit trail that cannot take the alert refuses requests on its own account; the
    // caller is refused here either way.
    let _ = observer.dispatch(event);
}

/// After a 404 on a watched route: counts the request path (hashed) in the caller's set and
/// answers the 429 to send instead when the caller now cools down.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn not_found(
    abuse: &Abuse,
    path: &str,
    principal: Option<&Principal>,
    client_ip: IpAddr,
    request_id: &crate::extract::RequestId,
    method: &http::Method,
    route: &str,
    handler: &'static str,
) -> Option<Problem> {
    let config = abuse.enumeration?;
    let client = IpNet::of(client_ip, abuse.ipv6_prefix);
    let subject = match principal {
        Some(p) => RateSubject::Principal(p),
        None => RateSubject::Network(client),
    };
    let key = format!("enum:{}", subject.shared_key());
    let member = hash64(&[path.as_bytes()]);
    let seen = abuse
        .distinct(
            &key,
            member,
            config.window,
            config.threshold,
            config.cool_down,
        )
        .await;
    let wait = seen.cooling?;
    abuse.blocked.insert(local_key(principal, client), wait);
    if seen.tripped {
        alert(
            &abuse.observer,
            EventKind::EnumerationSuspected,
            "enumeration_suspected",
            "distinct_objects_not_found",
            seen.count,
            &Where {
                request_id: request_id.as_str(),
                method: method.as_str(),
                route,
                handler,
                principal,
                client_ip,
            },
        );
    }
    Some(problem(wait))
}
