use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", flow = "password reset")]
async fn with_a_space() {}

#[secure_endpoint(auth = "none", flow = "1login")]
async fn starts_with_a_digit() {}

#[secure_endpoint(auth = "none", flow = "")]
async fn empty() {}

#[secure_endpoint(auth = "none", flow = login)]
async fn not_a_string() {}

#[secure_endpoint(auth = "none", flow = "login", flow = "signup")]
async fn twice() {}

fn main() {}
