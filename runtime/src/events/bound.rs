//! Bounds on what a [`SecurityEvent`] may hold, and the claimed identity of a refused JWT.
//!
//! Much of an event comes from the request (the path when the route is not known, the user
//! agent, the method, field names from the body, the principal's subject), so a client could
//! make every record as large as its request. Every text field is cut to
//! [`FieldLimits::text`] bytes (at a character boundary), the list of field names to
//! [`FieldLimits::fields`] names of at most [`FieldLimits::field_name`] bytes each, and every
//! cut is marked in the event's [`truncated`](SecurityEvent::truncated) map: field name →
//! original length in bytes (for `fields`, the original number of names; a cut name is
//! `fields.<index>`). A record therefore has a size bound that does not depend on the request.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::SecurityEvent;

/// How much of each field a security event keeps. The defaults fit every route template,
/// user agent and subject seen in practice and keep one record under about 6 KB of JSON (at
/// most 1.5 KB in `fields`, the text fields 256 bytes each before JSON escaping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLimits {
    /// The most bytes of each text field: `route`, `method`, `user_agent`, `principal`,
    /// `claimed_subject`, `handler`, `policy`, `client_ip`, `scheme`, `code`, `reason`,
    /// `request_id`, `error_id` (not `time` and `outcome`, the server's own). Default 256.
    pub text: usize,
    /// The most field names kept in `fields`. Default 16.
    pub fields: usize,
    /// The most bytes of one field name. Default 64.
    pub field_name: usize,
}

impl Default for FieldLimits {
    fn default() -> Self {
        FieldLimits {
            text: 256,
            fields: 16,
            field_name: 64,
        }
    }
}

/// Cuts `value` to at most `max` bytes at a character boundary; returns the original length
/// when it cut.
fn cut(value: &mut String, max: usize) -> Option<u64> {
    if value.len() <= max {
        return None;
    }
    let original = value.len() as u64;
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.truncate(end);
    value.shrink_to_fit();
    Some(original)
}

impl SecurityEvent {
    /// Cuts every field to `limits`, marking each cut in [`truncated`](Self::truncated).
    /// Idempotent: an event already within `limits` is left as it is.
    pub fn bound(&mut self, limits: &FieldLimits) {
        let mut marks = BTreeMap::new();
        let mut text = |name: &str, value: &mut String| {
            if let Some(original) = cut(value, limits.text) {
                marks.insert(name.to_owned(), original);
            }
        };
        // `time`, `last_time` and `outcome` are the server's own, of a fixed form.
        text("request_id", &mut self.request_id);
        text("method", &mut self.method);
        text("route", &mut self.route);
        for (name, value) in [
            ("code", &mut self.code),
            ("reason", &mut self.reason),
            ("error_id", &mut self.error_id),
            ("handler", &mut self.handler),
            ("policy", &mut self.policy),
            ("principal", &mut self.principal),
            ("scheme", &mut self.scheme),
            ("client_ip", &mut self.client_ip),
            ("user_agent", &mut self.user_agent),
            ("claimed_subject", &mut self.claimed_subject),
        ] {
            if let Some(value) = value {
                text(name, value);
            }
        }
        if self.fields.len() > limits.fields {
            marks.insert("fields".to_owned(), self.fields.len() as u64);
            self.fields.truncate(limits.fields);
        }
        for (i, name) in self.fields.iter_mut().enumerate() {
            if let Some(original) = cut(name, limits.field_name) {
                marks.insert(format!("fields.{i}"), original);
            }
        }
        // Marks from an earlier cut (a larger limit) keep the true original length.
        for (name, original) in marks {
            self.truncated.entry(name).or_insert(original);
        }
    }
}

/// The longest JWT payload segment read for its `sub` (longer ones are not decoded: the
/// failure is then kept apart by client and reason only).
const MAX_PAYLOAD: usize = 4096;

/// The base64url payload segment of a bearer JWT (`header.payload.signature`), when the
/// request carries one of a sane size. Not a credential on its own (the signature is not
/// kept), and decoded only if authentication fails.
pub(crate) fn bearer_payload(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut parts = token.trim().split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && !payload.is_empty() && payload.len() <= MAX_PAYLOAD)
        .then(|| payload.to_owned())
}

/// The `sub` claim of a JWT payload segment, unverified: whoever sent the token chose it.
pub(crate) fn claimed_subject(payload: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        sub: Option<String>,
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok()?.sub
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;

    fn event() -> SecurityEvent {
        SecurityEvent {
            time: "2026-12-02T05:00:00.000Z".into(),
            kind: EventKind::NotRouted,
            outcome: "denied".into(),
            status: 404,
            code: Some("not_found".into()),
            reason: None,
            request_id: "r1".into(),
            error_id: Some("e1".into()),
            method: "GET".into(),
            route: "(unrouted)".into(),
            handler: None,
            policy: None,
            principal: None,
            scheme: None,
            client_ip: Some("127.0.0.1".into()),
            user_agent: Some("curl/8".into()),
            fields: Vec::new(),
            claimed_subject: None,
            count: 1,
            last_time: None,
            truncated: BTreeMap::new(),
            distinct: None,
        }
    }

    #[test]
    fn fields_within_limits_are_untouched() {
        let mut e = event();
        e.bound(&FieldLimits::default());
        assert_eq!(e, event());
    }

    #[test]
    fn every_request_derived_field_is_cut_and_marked_with_its_original_length() {
        let limits = FieldLimits {
            text: 10,
            fields: 2,
            field_name: 4,
        };
        let mut e = event();
        e.route = format!("/{}", "a".repeat(60_000));
        e.method = "PROPFINDXYZ".into();
        // A 2-byte character straddles the limit: cut before it, never inside.
        e.user_agent = Some(format!("{}é tail", "u".repeat(9)));
        e.principal = Some("p".repeat(11));
        e.claimed_subject = Some("s".repeat(300));
        e.fields = vec!["ok".into(), "toolong".into(), "third".into()];
        e.bound(&limits);
        assert_eq!(e.route, format!("/{}", "a".repeat(9)));
        assert_eq!(e.method, "PROPFINDXY");
        assert_eq!(e.user_agent.as_deref(), Some("uuuuuuuuu"));
        assert_eq!(e.principal.as_deref(), Some("pppppppppp"));
        assert_eq!(e.claimed_subject.as_deref(), Some("ssssssssss"));
        assert_eq!(e.fields, ["ok", "tool"]);
        let marks: Vec<(&str, u64)> = e.truncated.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            marks,
            [
                ("claimed_subject", 300),
                ("fields", 3),
                ("fields.1", 7),
                ("method", 11),
                ("principal", 11),
                ("route", 60_001),
                ("user_agent", 16),
            ]
        );
        // Within limits now: a second pass changes nothing, a smaller one keeps the originals.
        let once = e.clone();
        e.bound(&limits);
        assert_eq!(e, once);
        e.bound(&FieldLimits { text: 5, ..limits });
        assert_eq!(e.route, "/aaaa");
        assert_eq!(e.truncated["route"], 60_001);
        assert_eq!(e.truncated["method"], 11);
        assert!(!e.truncated.contains_key("request_id"));
    }

    #[test]
    fn a_bounded_record_has_a_size_bound_whatever_the_request() {
        let huge = "\u{1}".repeat(100_000);
        let mut e = event();
        for field in [&mut e.route, &mut e.method, &mut e.request_id] {
            *field = huge.clone();
        }
        for field in [
            &mut e.code,
            &mut e.reason,
            &mut e.error_id,
            &mut e.handler,
            &mut e.policy,
            &mut e.principal,
            &mut e.scheme,
            &mut e.client_ip,
            &mut e.user_agent,
            &mut e.claimed_subject,
        ] {
            *field = Some(huge.clone());
        }
        e.fields = vec![huge.clone(); 1_000];
        e.bound(&FieldLimits::default());
        let json = serde_json::to_string(&e).unwrap();
        // 14 text fields × 256 bytes × 6 (`\u0001`) + 16 names × 64 × 6 + marks.
        assert!(json.len() < 32 * 1024, "{}", json.len());
        let plain = json.replace("\\u0001", "x");
        assert!(plain.len() < 7 * 1024, "{}", plain.len());
    }

    #[test]
    fn the_claimed_subject_of_a_bearer_jwt() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"mallory","exp":1}"#)
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let payload = bearer_payload(&headers).unwrap();
        assert!(!payload.contains("c2ln"), "the signature is not kept");
        assert_eq!(claimed_subject(&payload).as_deref(), Some("mallory"));
        // No `sub`, a number, not JSON, not base64: no claimed identity.
        for claims in [r#"{"exp":1}"#, r#"{"sub":7}"#, "not json"] {
            assert_eq!(claimed_subject(&b64(claims)), None, "{claims}");
        }
        assert_eq!(claimed_subject("%%%"), None);
        // Not a bearer JWT, or too large to look at.
        for value in [
            "Basic YTpi".to_owned(),
            "Bearer opaque-token".to_owned(),
            "Bearer a.b.c.d".to_owned(),
            format!("Bearer a.{}.c", "x".repeat(MAX_PAYLOAD + 1)),
        ] {
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer_payload(&headers), None, "{value}");
        }
    }
}
