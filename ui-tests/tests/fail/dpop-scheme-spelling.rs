use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt+dpop", allow = "authenticated")]
async fn me() -> &'static str {
    "me"
}

#[secure_endpoint(auth = ["jwt", "DPoP"], allow = "authenticated")]
async fn either() -> &'static str {
    "either"
}

fn main() {}
