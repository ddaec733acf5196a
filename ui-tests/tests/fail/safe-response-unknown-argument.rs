use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct Session {
    #[safe(hide)]
    token: String,
}

fn main() {}
