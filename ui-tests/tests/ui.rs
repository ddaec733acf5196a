//! Compile-fail and compile-pass cases for `#[secure_endpoint]`, in one trybuild run.
//!
//! Regenerate the expected errors with `TRYBUILD=overwrite cargo test -p secure-endpoint-ui-tests`
//! and review every changed `.stderr` like code: it must point at the offending token and name
//! the fix.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/*.rs");
    t.pass("tests/pass/*.rs");
    // Under the organisation policy file of each directory (`secure-endpoint.toml`, every
    // rule enabled); the cases above have no policy file on their way up to this crate.
    t.compile_fail("tests/fail/policy/*.rs");
    t.pass("tests/pass/policy/*.rs");
    t.compile_fail("tests/fail/policy-malformed/*.rs");
}
