//! A field whose type was never checked: `Credentials` could hold anything.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize)]
struct Settings {
    theme: String,
}

#[derive(Serialize, SafeResponse)]
struct Account {
    id: String,
    settings: Option<Settings>,
}

fn main() {}
