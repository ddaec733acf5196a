//! The attribute's value strings: rates, body limits, dates, successors. Parsed or refused,
//! never a panic; what is accepted is consistent, and the macro agrees with the runtime on
//! dates and on the rate notation the runtime prints.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| secure_endpoint_macros_harness::values(data));
