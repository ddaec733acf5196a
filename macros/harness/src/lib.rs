//! `#[secure_endpoint]` outside a compiler, for fuzzing.
//!
//! A proc-macro crate exports nothing but its macros, and its entry points only run inside
//! rustc. This crate compiles the macro crate's own source files (`macros/src/**/*.rs` through
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

#[path = "../../src/check/mod.rs"]
mod check;
#[path = "../../src/ctxt.rs"]
mod ctxt;
#[path = "../../src/doc.rs"]
mod doc;
#[path = "../../src/emit/mod.rs"]
mod emit;
#[path = "../../src/expand.rs"]
mod expand;
#[path = "../../src/exposure/mod.rs"]
mod exposure;
#[path = "../../src/fields.rs"]
mod fields;
#[path = "../../src/model.rs"]
mod model;
#[path = "../../src/multipart.rs"]
mod multipart;
#[path = "../../src/notation/mod.rs"]
mod notation;
// `load` and the file cache: the policy file comes from this crate instead.
#[allow(dead_code)]
#[path = "../../src/policy_file.rs"]
mod policy_file;
#[path = "../../src/symbol.rs"]
mod symbol;
#[path = "../../src/syntax/mod.rs"]
mod syntax;

mod contract;
mod values;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Expr, Item, Stmt};

use crate::contract::contract;
use crate::policy_file::{Lookup, PolicyFile};
pub use crate::values::values;

/// The file media types the macro accepts in `parts`, which must equal the ones the runtime
/// recognises from their bytes (`secure_endpoint::multipart::SNIFFABLE_TYPES`); the two crates
/// cannot share the constant (a proc-macro crate exports only macros), so a test compares them.
pub const SNIFFABLE_TYPES: &[&str] = crate::syntax::parts::SNIFFABLE_TYPES;

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
