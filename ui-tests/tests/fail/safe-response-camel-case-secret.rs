//! camelCase names are split into words too: `apiKey` is `api key`.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
#[allow(non_snake_case)]
struct Integration {
    name: String,
    apiKey: String,
}

fn main() {}
