//! Compile-fail and compile-pass cases for `#[secure_endpoint]`, in one trybuild run.
//!
//! Regenerate the expected errors with `TRYBUILD=overwrite cargo test -p secure-endpoint-ui-tests`
//! and review every changed `.stderr` like code: it must point at the offending token and name
//! the fix.

#[test]
fn ui() {
    // trybuild builds its cases as a separate Cargo project, which does not see this workspace's
    // profiles. Left to the defaults, every compile-pass case links an 80 MB binary with full
    // debug info (3.9 GB for the run, enough to fill a CI disk); without debug info and
    // stripped, 1.1 GB. The cases only need to compile and run. (Edition 2021: `set_var` is
    // safe, and this binary has no other test running beside this one.)
    std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "false");
    std::env::set_var("CARGO_PROFILE_DEV_STRIP", "true");
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/*.rs");
    t.pass("tests/pass/*.rs");
    // Under the organisation policy file of each directory (`secure-endpoint.toml`, every
    // rule enabled); the cases above have no policy file on their way up to this crate.
    t.compile_fail("tests/fail/policy/*.rs");
    t.pass("tests/pass/policy/*.rs");
    t.compile_fail("tests/fail/policy-malformed/*.rs");
}
