//! `auth = "jwt"`, `auth = ["jwt", "api_key"]`, `auth = optional("jwt")` or `auth = "none"`:
//! the schemes, each named once, read into [`Auth`].

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::model::{value_tokens, Auth, AuthRead, RawValue, Scheme};
use crate::notation::unknown;
use crate::symbol::{AUTH_SCHEMES, OPTIONAL};

/// The schemes of `auth`, and every scheme name written.
pub(super) fn read(cx: &Ctxt, value: &RawValue) -> AuthRead {
    AuthRead {
        auth: schemes(cx, value),
        names: names(value),
    }
}

/// The scheme names written as strings, known or not: a string, a list's strings, the strings
/// inside `optional(...)`.
fn names(value: &RawValue) -> Vec<LitStr> {
    match value {
        RawValue::Str(s) => vec![s.clone()],
        RawValue::List { items, .. } => items.clone(),
        RawValue::Other(syn::Expr::Call(call)) => call
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn schemes(cx: &Ctxt, value: &RawValue) -> Option<Auth> {
    let scheme = |s: &LitStr| -> Option<Option<Scheme>> {
        match s.value().as_str() {
            "jwt" => Some(Some(Scheme::Jwt)),
            "api_key" => Some(Some(Scheme::ApiKey)),
            "hmac" => Some(Some(Scheme::Hmac)),
            "signature" => Some(Some(Scheme::Signature)),
            "github_webhook" => Some(Some(Scheme::GithubWebhook)),
            "stripe_webhook" => Some(Some(Scheme::StripeWebhook)),
            "standard_webhook" => Some(Some(Scheme::StandardWebhook)),
            "dpop" => Some(Some(Scheme::Dpop)),
            "mtls" => Some(Some(Scheme::Mtls)),
            "none" => Some(None),
            // `jwt+dpop`, `DPoP`, `bearer_dpop`...: say how the two forms are written.
            other if other.to_ascii_lowercase().contains("dpop") => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "unknown auth scheme `{other}`; a DPoP-bound token (RFC 9449) is \
                         `auth = \"dpop\"`, and `auth = [\"jwt\", \"dpop\"]` accepts plain \
                         bearer tokens too"
                    ),
                );
                None
            }
            other => {
                let message = match other.strip_suffix('?') {
                    Some(base) if AUTH_SCHEMES.contains(&base) && base != "none" => format!(
                        "unknown auth scheme `{other}`; for optional authentication write \
                         `auth = {OPTIONAL}(\"{base}\")`"
                    ),
                    _ => unknown(other, "auth scheme", AUTH_SCHEMES),
                };
                cx.error_spanned_by(s, message);
                None
            }
        }
    };
    match value {
        RawValue::Str(s) => match scheme(s)? {
            None => Some(Auth::None),
            Some(sch) => Some(Auth::Schemes(vec![sch])),
        },
        RawValue::List { items, bad, span } => {
            for b in bad {
                cx.error_spanned_by(b, "expected a string such as \"jwt\"");
            }
            if items.is_empty() && bad.is_empty() {
                cx.error_at(
                    *span,
                    "`auth` lists no scheme; add one such as \"jwt\", or write `auth = \"none\"`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = bad.is_empty();
            for item in items {
                match scheme(item) {
                    Some(Some(sch)) if out.contains(&sch) => {
                        cx.error_spanned_by(
                            item,
                            format!("auth scheme `{}` is listed twice", item.value()),
                        );
                        ok = false;
                    }
                    Some(Some(sch)) => out.push(sch),
                    Some(None) => {
                        cx.error_spanned_by(
                            item,
                            "`none` cannot be combined with other schemes; write `auth = \"none\"` alone",
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Auth::Schemes(out))
        }
        RawValue::Other(syn::Expr::Call(call)) if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident(OPTIONAL)) =>
        {
            if call.args.is_empty() {
                cx.error_spanned_by(
                    call,
                    "`optional()` names no scheme; write `auth = optional(\"jwt\")`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for arg in &call.args {
                match arg {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => match scheme(s) {
                        Some(Some(sch)) if out.contains(&sch) => {
                            cx.error_spanned_by(
                                s,
                                format!("auth scheme `{}` is listed twice", s.value()),
                            );
                            ok = false;
                        }
                        Some(Some(sch)) => out.push(sch),
                        Some(None) => {
                            cx.error_spanned_by(
                                s,
                                "`none` cannot be optional: `auth = \"none\"` alone makes the \
                                 endpoint public; `optional(...)` names the schemes whose \
                                 credentials are read when presented, e.g. `optional(\"jwt\")`",
                            );
                            ok = false;
                        }
                        None => ok = false,
                    },
                    other => {
                        cx.error_spanned_by(
                            other,
                            "`optional(...)` takes scheme names as strings: \
                             `auth = optional(\"jwt\", \"api_key\")`",
                        );
                        ok = false;
                    }
                }
            }
            ok.then_some(Auth::Optional(out))
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`auth` takes a string such as \"jwt\", a list such as [\"jwt\", \"api_key\"], \
                 or `optional(\"jwt\")` for optional authentication",
            );
            None
        }
    }
}
