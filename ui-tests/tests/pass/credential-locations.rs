//! Where verifiers read credentials: an `Authorization` scheme, a header, a cookie.
use std::sync::Arc;

use secure_endpoint::api_key::InMemoryApiKeys;
use secure_endpoint::credential::{CookieCredential, Credentials};
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::Security;

fn main() {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .credentials(
            Credentials::authorization("Token")
                .or_header("X-Auth-Token")
                .or_cookie(
                    CookieCredential::new("__Host-session")
                        .allow_origin("https://app.example")
                        .csrf_header("X-Requested-With"),
                ),
        )
        .build()
        .unwrap();
    let _security = Security::builder()
        .jwt(verifier)
        .api_keys(Arc::new(InMemoryApiKeys::new()))
        .api_key_credentials(Credentials::authorization("ApiKey"))
        .build();
}
