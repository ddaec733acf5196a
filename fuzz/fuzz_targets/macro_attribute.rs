//! `#[secure_endpoint]` on arbitrary tokens: the first line is the attribute's arguments, the
//! rest the item. The macro's own parser, checker and code generator (through
//! `macros/harness`), under no policy file and under one with every rule on: the expansion is
//! the endpoint, checked against the contract, or a compile error and nothing routable; never
//! a panic. `#[derive(SafeResponse)]` runs on the same item.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| secure_endpoint_macros_harness::attribute(data));
