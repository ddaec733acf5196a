//! The oracle of an accepted endpoint: the default-deny contract and, when one applies, the
//! policy file's rules, read back from the checked [`Endpoint`].

use crate::model::{Auth, Endpoint, Scheme};
use crate::notation;
use crate::policy_file::{self, Rules};
use crate::values::{MAX_BODY_LIMIT, MAX_PERIOD_SECS};

/// An accepted endpoint satisfies the default-deny contract and, when it applies, the policy.
pub(crate) fn contract(ep: &Endpoint, rules: Option<&Rules>) {
    let name = ep.name().to_string();
    let sig = &ep.func.sig;
    assert!(sig.asyncness.is_some(), "`{name}` is not async");
    assert!(
        sig.generics.params.is_empty() && sig.generics.where_clause.is_none(),
        "`{name}` is generic"
    );
    assert!(
        sig.receiver().is_none() && sig.variadic.is_none(),
        "`{name}` takes self or is variadic"
    );

    let values = |list: &[syn::LitStr]| list.iter().map(|s| s.value()).collect::<Vec<_>>();
    let (roles, scopes, waivers) = (values(&ep.roles), values(&ep.scopes), values(&ep.waivers));
    let waived = |rule: &str| waivers.iter().any(|w| w == rule);
    let anonymous = matches!(ep.auth, Auth::None | Auth::Optional(_));
    let schemes: &[Scheme] = match &ep.auth {
        Auth::None => {
            assert!(
                !ep.any_authenticated
                    && roles.is_empty()
                    && scopes.is_empty()
                    && ep.owner.is_none(),
                "public endpoint `{name}` has an authorization"
            );
            &[]
        }
        Auth::Schemes(schemes) => {
            assert!(!schemes.is_empty(), "`{name}` has no scheme");
            for (i, s) in schemes.iter().enumerate() {
                assert!(!schemes[..i].contains(s), "`{name}` repeats a scheme");
            }
            let declared = !roles.is_empty() || !scopes.is_empty() || ep.owner.is_some();
            assert!(
                ep.any_authenticated != declared,
                "`{name}`: authorization must be either `allow` or roles/scopes/owner"
            );
            schemes
        }
        Auth::Optional(schemes) => {
            assert!(!schemes.is_empty(), "`{name}` has no scheme");
            for (i, s) in schemes.iter().enumerate() {
                assert!(!schemes[..i].contains(s), "`{name}` repeats a scheme");
            }
            assert!(
                !ep.any_authenticated
                    && roles.is_empty()
                    && scopes.is_empty()
                    && ep.owner.is_none(),
                "optional-auth endpoint `{name}` has an authorization"
            );
            schemes
        }
    };
    for name in roles.iter().chain(&scopes) {
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "role or scope {name:?}"
        );
    }

    // The body: `fields` exactly when a body is read, by the last argument.
    let typed = sig
        .inputs
        .iter()
        .filter(|a| matches!(a, syn::FnArg::Typed(_)))
        .count();
    assert_eq!(
        ep.fields.is_some(),
        ep.body_arg.is_some(),
        "`{name}`: fields and body"
    );
    if let Some(i) = ep.body_arg {
        assert_eq!(i + 1, typed, "`{name}`: the body is not the last argument");
    }
    if let Some(fields) = &ep.fields {
        let fields = values(fields);
        assert!(
            (1..=64).contains(&fields.len()),
            "`{name}`: {} fields",
            fields.len()
        );
        for (i, f) in fields.iter().enumerate() {
            assert!(!f.is_empty() && !fields[..i].contains(f), "field {f:?}");
        }
    }
    assert!(
        !(ep.raw_body && ep.fields.is_some()),
        "`{name}`: a raw body with fields"
    );
    if let Some(limit) = &ep.body_limit {
        assert!(
            ep.fields.is_some() || ep.raw_body,
            "`{name}`: a body limit without a body"
        );
        assert!((1..=MAX_BODY_LIMIT).contains(&limit.bytes));
        assert_eq!(notation::parse_body_limit(&limit.text), Ok(limit.bytes));
    }
    if let Some(rate) = &ep.rate {
        assert!(rate.count >= 1 && (1..=MAX_PERIOD_SECS).contains(&rate.period_secs));
        assert_eq!(
            notation::parse_rate(&rate.text),
            Ok((rate.count, rate.period_secs))
        );
    }

    let lifecycle = &ep.lifecycle;
    if let (Some(d), Some(s)) = (lifecycle.deprecated, lifecycle.sunset) {
        assert!(d <= s, "`{name}`: sunset {s} before deprecation {d}");
    }
    if let Some(successor) = &lifecycle.successor {
        assert!(lifecycle.deprecated.is_some() || lifecycle.sunset.is_some());
        assert_eq!(notation::check_successor(&successor.value()), Ok(()));
    }

    for (i, w) in waivers.iter().enumerate() {
        assert!(policy_file::RULES.contains(&w.as_str()) && !waivers[..i].contains(w));
    }
    let reason = ep.reason.as_ref().map(syn::LitStr::value);
    if let Some(reason) = &reason {
        assert!(!reason.trim().is_empty(), "`{name}`: a blank reason");
        assert!(
            anonymous || !waivers.is_empty(),
            "`{name}`: a reason for nothing"
        );
    }
    assert!(
        waivers.is_empty() || reason.is_some(),
        "`{name}`: a waiver without a reason"
    );

    let Some(rules) = rules else {
        return;
    };
    if rules.require_rate {
        assert!(
            ep.rate.is_some() || waived("require_rate"),
            "`{name}`: no rate"
        );
    }
    // Anyone may call a public endpoint, and one with optional authentication.
    if anonymous && !waived("public") {
        if let Some(allow) = &rules.public_allow {
            assert!(allow.contains(&name), "`{name}` is public");
        }
        assert!(
            !rules.public_require_reason || reason.is_some(),
            "`{name}` is public without a reason"
        );
    }
    if let (Some((_, max_count, max_period)), Some(rate)) = (&rules.max_rate, &ep.rate) {
        assert!(
            waived("max_rate")
                || u128::from(rate.count) * u128::from(*max_period)
                    <= u128::from(*max_count) * u128::from(rate.period_secs),
            "`{name}`: rate {} above the maximum",
            rate.text
        );
    }
    if let Some(allowed) = &rules.allowed_schemes {
        for scheme in schemes {
            let scheme = match scheme {
                Scheme::Jwt => "jwt",
                Scheme::ApiKey => "api_key",
                Scheme::Hmac => "hmac",
                Scheme::Signature => "signature",
                Scheme::GithubWebhook => "github_webhook",
                Scheme::StripeWebhook => "stripe_webhook",
                Scheme::StandardWebhook => "standard_webhook",
                Scheme::Dpop => "dpop",
                Scheme::Mtls => "mtls",
            };
            assert!(
                waived("allowed_schemes") || allowed.iter().any(|a| a == scheme),
                "`{name}`: scheme {scheme} not allowed"
            );
        }
    }
    if rules.api_key_requires_scopes && schemes.contains(&Scheme::ApiKey) {
        assert!(
            waived("api_key_requires_scopes") || !scopes.is_empty(),
            "`{name}`: api_key without scopes"
        );
    }
    if let (Some((_, max)), Some(limit)) = (&rules.max_body_limit, &ep.body_limit) {
        assert!(
            waived("max_body_limit") || limit.bytes <= *max,
            "`{name}`: body limit above the maximum"
        );
    }
}
