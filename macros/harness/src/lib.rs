//! `#[secure_endpoint]` outside a compiler, for fuzzing.
//!
//! A proc-macro crate exports nothing but its macros, and its entry points only run inside
//! rustc. This crate compiles the macro crate's own source files (`macros/src/*.rs` through
//! `#[path]`: the same files, not copies) as an ordinary library. Only `lib.rs` is left out:
//! its entry point looks up the policy file of the call site, which needs a live macro call,
//! and hands it to `expand::secure_endpoint`, the function [`attribute`] calls with a policy
//! file of its own. Outside a macro `proc_macro2` uses its own lexer, so the fuzzer's text
//! becomes token streams with `TokenStream::from_str`.
//!
//! [`attribute`] and [`values`] are the oracles of the fuzz targets `macro_attribute` and
//! `macro_values` (`fuzz/`) and of the replay of their corpora (`tests/tests/fuzz_corpus.rs`):
//! one copy of the checks for both. Each panics when a property does not hold.

#![forbid(unsafe_code)]

// `policy_file::load` names `proc_macro::Span`; it is compiled here but never called.
extern crate proc_macro;

#[path = "../../src/check.rs"]
mod check;
#[path = "../../src/ctxt.rs"]
mod ctxt;
#[path = "../../src/emit.rs"]
mod emit;
#[path = "../../src/expand.rs"]
mod expand;
#[path = "../../src/exposure.rs"]
mod exposure;
#[path = "../../src/fields.rs"]
mod fields;
#[path = "../../src/model.rs"]
mod model;
#[path = "../../src/multipart.rs"]
mod multipart;
// `load` and the file cache: the policy file comes from this crate instead.
#[allow(dead_code)]
#[path = "../../src/policy_file.rs"]
mod policy_file;
#[path = "../../src/symbol.rs"]
mod symbol;
#[path = "../../src/syntax.rs"]
mod syntax;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use secure_endpoint::policy::{LifecycleDate, RateSpec};
use syn::{Expr, Item, Stmt};

use crate::model::{Auth, Endpoint, Scheme};
use crate::policy_file::{Lookup, PolicyFile, Rules};

/// The fixed policy file every input is also expanded under: every rule on, as in ui-tests'
/// `tests/{fail,pass}/policy/secure-endpoint.toml`.
pub const EVERY_RULE: &str = r#"
[rules]
require_rate = true
public = { allow = ["health", "login"], require_reason = true }
max_rate = "1000/1m"
require_owner_for_ids = true
allowed_schemes = ["jwt", "api_key"]
api_key_requires_scopes = true
max_body_limit = "1mb"
"#;

/// No policy file, then [`EVERY_RULE`]. Nothing is read from disk: the path is only a name, for
/// messages and the emitted `include_bytes!`, so the current directory does not matter.
static POLICIES: LazyLock<[Lookup; 2]> = LazyLock::new(|| {
    let rules = policy_file::parse(EVERY_RULE).expect("the fixed policy file parses");
    let file = PolicyFile {
        path: PathBuf::from(policy_file::FILE_NAME),
        rules,
    };
    [Lookup::None, Lookup::Found(Arc::new(file))]
});

/// The largest `body_limit` (1 GiB) and rate period (366 days) the macro accepts.
const MAX_BODY_LIMIT: usize = 1 << 30;
const MAX_PERIOD_SECS: u64 = 366 * 86_400;

/// `#[secure_endpoint(<first line>)] <rest>`, for arbitrary text, under no policy file and under
/// [`EVERY_RULE`]: either the endpoint, checked against the contract and the policy, or a
/// compile error (at the top level of the expansion) and nothing routable. When the item is
/// valid Rust the expansion is a list of items; the macro does not parse the handler's body,
/// so a body that is not Rust comes back as written, for rustc to report.
/// `#[derive(SafeResponse)]` on the same item, when it is a struct, an enum or a union (all
/// rustc hands a derive), expands to items too. Never a panic.
pub fn attribute(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (args, item) = text.split_once('\n').unwrap_or((text, ""));
    let (Ok(args), Ok(item)) = (TokenStream::from_str(args), TokenStream::from_str(item)) else {
        return;
    };
    // The macro's code runs here, on the calling thread's stack, as it runs in rustc.
    let mut expansions = Vec::new();
    for lookup in POLICIES.iter() {
        let rules = match lookup {
            Lookup::Found(file) => Some(&file.rules),
            _ => None,
        };
        // What the macro emits, exactly.
        let expansion = expand::secure_endpoint(args.clone(), item.clone(), lookup);
        let refused = has_compile_error(&expansion);
        let outcome = match expand::endpoint(args.clone(), item.clone(), lookup) {
            Ok(endpoint) => {
                assert!(!refused, "an accepted endpoint expanded to a compile error");
                contract(&endpoint, rules);
                Expansion::Endpoint(endpoint.name().to_string())
            }
            Err(err) => {
                assert!(
                    refused,
                    "a refused endpoint expanded without a compile error"
                );
                assert!(
                    err.into_iter().all(|e| !e.to_string().trim().is_empty()),
                    "an empty error message"
                );
                Expansion::Refused
            }
        };
        expansions.push((expansion.to_string(), outcome));
    }
    if is_derive_input(&item) {
        let expansion = exposure::derive(item.clone()).to_string();
        expansions.push((expansion, Expansion::Derive));
    }
    // The expansions are read back with syn's recursive parser, which descends into the
    // handler's body (the macro does not). A large item, which may nest deeply, is read on a
    // thread with a stack for any body.
    let large = token_count(&item) > 500;
    let item = item.to_string();
    let read = move || read_back(&item, expansions);
    if large {
        let reader = std::thread::Builder::new().stack_size(64 << 20);
        if let Err(panic) = reader.spawn(read).expect("a thread").join() {
            std::panic::resume_unwind(panic);
        }
    } else {
        read();
    }
}

/// Every expansion is a list of items, of the expected shape, when the item is valid Rust.
fn read_back(item: &str, expansions: Vec<(String, Expansion)>) {
    let valid = syn::parse_str::<Item>(item).is_ok();
    for (expansion, outcome) in expansions {
        if !valid && !matches!(outcome, Expansion::Derive) {
            continue;
        }
        let items = match syn::parse_str::<syn::File>(&expansion) {
            Ok(file) => file.items,
            Err(err) => {
                panic!("{outcome:?} expanded to something other than items ({err}): {expansion}")
            }
        };
        match outcome {
            Expansion::Endpoint(name) => routable(&items, &name),
            Expansion::Refused => unroutable(&items),
            Expansion::Derive => {}
        }
    }
}

/// Token trees, groups' contents included (without recursion).
fn token_count(stream: &TokenStream) -> usize {
    let mut count = 0;
    let mut streams = vec![stream.clone()];
    while let Some(stream) = streams.pop() {
        for token in stream {
            count += 1;
            if let TokenTree::Group(group) = token {
                streams.push(group.stream());
            }
        }
    }
    count
}

/// A `compile_error!` among the expansion's top-level tokens (not inside the handler's body).
fn has_compile_error(expansion: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = expansion.clone().into_iter().collect();
    tokens.windows(2).any(|pair| {
        matches!(&pair[0], TokenTree::Ident(i) if i == "compile_error")
            && matches!(&pair[1], TokenTree::Punct(p) if p.as_char() == '!')
    })
}

/// What an expansion should be.
#[derive(Debug)]
enum Expansion {
    /// The endpoint of this name.
    Endpoint(String),
    /// The errors, and nothing routable.
    Refused,
    /// `#[derive(SafeResponse)]`'s.
    Derive,
}

/// Outer attributes, `pub` or `pub(...)`, then `struct`, `enum` or `union`.
fn is_derive_input(item: &TokenStream) -> bool {
    let mut tokens = item.clone().into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                tokens.next();
            }
            TokenTree::Ident(i) if i == "pub" => {
                if matches!(tokens.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                {
                    tokens.next();
                }
            }
            TokenTree::Ident(i) => return i == "struct" || i == "enum" || i == "union",
            _ => return false,
        }
    }
    false
}

fn is_compile_error(item: &Item) -> bool {
    matches!(item, Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error"))
}

/// The unit struct of the handler's name and, in a `const _` block, its policy and handler.
fn routable(items: &[Item], name: &str) {
    assert!(
        items
            .iter()
            .any(|item| matches!(item, Item::Struct(s) if s.ident == name)),
        "no struct `{name}` in the expansion"
    );
    let impls: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Item::Const(c) if c.ident == "_" => match &*c.expr {
                Expr::Block(block) => Some(&block.block.stmts),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .filter_map(|stmt| match stmt {
            Stmt::Item(Item::Impl(imp)) => {
                let (_, path, _) = imp.trait_.as_ref()?;
                let self_ty = &*imp.self_ty;
                let for_name = matches!(self_ty, syn::Type::Path(p) if p.path.is_ident(name));
                for_name.then(|| path.segments.last().unwrap().ident.to_string())
            }
            _ => None,
        })
        .collect();
    for expected in ["SecureEndpoint", "EndpointHandler"] {
        assert!(
            impls.iter().any(|i| i == expected),
            "`{name}` does not implement {expected}: {impls:?}"
        );
    }
}

/// The errors, a unit struct that implements nothing and the fn under a hidden name: nothing
/// a router accepts.
fn unroutable(items: &[Item]) {
    assert!(
        items.iter().any(is_compile_error),
        "a refused endpoint without its errors"
    );
    for item in items {
        match item {
            Item::Macro(_) => assert!(is_compile_error(item), "a macro call besides the errors"),
            Item::Struct(s) => assert!(
                matches!(s.fields, syn::Fields::Unit),
                "a refused endpoint's struct has fields"
            ),
            Item::Fn(f) => assert!(
                f.sig
                    .ident
                    .to_string()
                    .starts_with("__secure_endpoint_unroutable_"),
                "a refused endpoint kept its fn name"
            ),
            // The policy file's `include_bytes!`, so that editing it recompiles.
            Item::Const(c) => assert!(
                matches!(&*c.expr, Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "include_bytes")),
                "a refused endpoint has a `const` block"
            ),
            other => panic!(
                "a refused endpoint expanded to {}",
                quote::ToTokens::to_token_stream(other)
            ),
        }
    }
}

/// An accepted endpoint satisfies the default-deny contract and, when it applies, the policy.
fn contract(ep: &Endpoint, rules: Option<&Rules>) {
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
        assert_eq!(check::parse_body_limit(&limit.text), Ok(limit.bytes));
    }
    if let Some(rate) = &ep.rate {
        assert!(rate.count >= 1 && (1..=MAX_PERIOD_SECS).contains(&rate.period_secs));
        assert_eq!(
            check::parse_rate(&rate.text),
            Ok((rate.count, rate.period_secs))
        );
    }

    let lifecycle = &ep.lifecycle;
    if let (Some(d), Some(s)) = (lifecycle.deprecated, lifecycle.sunset) {
        assert!(d <= s, "`{name}`: sunset {s} before deprecation {d}");
    }
    if let Some(successor) = &lifecycle.successor {
        assert!(lifecycle.deprecated.is_some() || lifecycle.sunset.is_some());
        assert_eq!(check::check_successor(&successor.value()), Ok(()));
    }

    for (i, w) in waivers.iter().enumerate() {
        assert!(policy_file::RULES.contains(&w.as_str()) && !waivers[..i].contains(w));
    }
    let reason = ep.reason.as_ref().map(syn::LitStr::value);
    if let Some(reason) = &reason {
        assert!(!reason.trim().is_empty(), "`{name}`: a blank reason");
        assert!(
            schemes.is_empty() || !waivers.is_empty(),
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
    if schemes.is_empty() && !waived("public") {
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

/// The messages of the `compile_error!`s at the top level of what `#[secure_endpoint(args)]
/// item` (no policy file) and `#[derive(SafeResponse)] item` expand to, for tests that read
/// them. Only the top level is walked: the expansion carries the handler's body as written.
pub fn compile_errors(args: &str, item: &str) -> (Vec<String>, Vec<String>) {
    let args = TokenStream::from_str(args).expect("the arguments lex");
    let item = TokenStream::from_str(item).expect("the item lexes");
    let attribute = expand::secure_endpoint(args, item.clone(), &Lookup::None);
    (messages(&attribute), messages(&exposure::derive(item)))
}

/// The string literal in each top-level `compile_error! { "..." }`.
fn messages(expansion: &TokenStream) -> Vec<String> {
    let tokens: Vec<TokenTree> = expansion.clone().into_iter().collect();
    tokens
        .windows(3)
        .filter_map(|w| match (&w[0], &w[1], &w[2]) {
            (TokenTree::Ident(i), TokenTree::Punct(p), TokenTree::Group(g))
                if i == "compile_error" && p.as_char() == '!' =>
            {
                Some(g.stream().to_string())
            }
            _ => None,
        })
        .collect()
}

/// The value strings of the attribute, for arbitrary text: the rate, the body limit, the dates
/// and the successor are parsed or refused, never a panic; what is accepted is consistent and
/// agrees with the runtime (which prints rates, parses dates and builds the headers).
pub fn values(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    rate(text);
    body_limit(text);
    date(text);
    successor(text);
}

fn rate(text: &str) {
    let Ok((count, period_secs)) = check::parse_rate(text) else {
        return;
    };
    assert!(count >= 1, "{text:?}: count {count}");
    assert!(
        (1..=MAX_PERIOD_SECS).contains(&period_secs),
        "{text:?}: period {period_secs} s"
    );
    assert!(
        text.chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || "+/secminhd".contains(c)),
        "{text:?} accepted with other characters"
    );
    // The runtime accepts the rate and prints it (inventory, RateLimit-Policy) in a notation
    // the macro parses back to the same rate.
    let spec = RateSpec::new(count, Duration::from_secs(period_secs));
    assert_eq!(spec, RateSpec { count, period_secs });
    assert_eq!(
        check::parse_rate(&spec.to_string()),
        Ok((count, period_secs)),
        "{text:?} prints as {spec}"
    );
}

fn body_limit(text: &str) {
    let bytes = match check::parse_body_limit(text) {
        Ok(bytes) => bytes,
        Err(err) => {
            assert!(!err.message(text).is_empty());
            return;
        }
    };
    assert!((1..=MAX_BODY_LIMIT).contains(&bytes), "{text:?}: {bytes}");
    // `<digits><unit>` and nothing else, the number times the unit.
    let at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(at);
    let unit: u128 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        other => panic!("{text:?} accepted with the unit {other:?}"),
    };
    let number: u128 = number.parse().expect("digits");
    assert_eq!(number * unit, bytes as u128, "{text:?}");
    // Every unit that divides the size says the same size.
    for (unit, size) in [("b", 1), ("kb", 1024), ("MB", 1024 * 1024)] {
        if bytes % size == 0 {
            let other = format!("{}{unit}", bytes / size);
            assert_eq!(check::parse_body_limit(&other), Ok(bytes), "{other:?}");
        }
    }
}

fn date(text: &str) {
    match (check::parse_date(text), LifecycleDate::parse(text)) {
        (Ok(ours), Some(runtime)) => {
            assert_eq!(
                (ours.year, ours.month, ours.day, ours.unix),
                (runtime.year, runtime.month, runtime.day, runtime.unix),
                "{text:?}"
            );
            assert_eq!(ours.to_string(), text);
            assert_eq!(runtime.to_string(), text);
            assert_eq!(ours.unix % 86_400, 0);
            // The headers the runtime builds from it (it would panic at start-up otherwise).
            http::HeaderValue::from_str(&runtime.http_date()).expect("an HTTP date");
        }
        (Err(_), None) => {}
        (ours, runtime) => {
            panic!("the macro and the runtime disagree on {text:?}: {ours:?} / {runtime:?}")
        }
    }
}

fn successor(text: &str) {
    if check::check_successor(text).is_err() {
        return;
    }
    assert!(
        text.starts_with("https://") || (text.starts_with('/') && !text.starts_with("//")),
        "{text:?}"
    );
    // The runtime sends it as `Link: <successor>; rel="successor-version"`.
    let link = format!("<{text}>; rel=\"successor-version\"");
    assert!(
        http::HeaderValue::from_str(&link).is_ok(),
        "{text:?} is not a header value"
    );
}
