use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", rate = "100")]
async fn no_slash() {}

#[secure_endpoint(auth = "none", rate = "0/m")]
async fn zero_count() {}

#[secure_endpoint(auth = "none", rate = "10/0m")]
async fn zero_period() {}

#[secure_endpoint(auth = "none", rate = "10/15x")]
async fn unknown_unit() {}

#[secure_endpoint(auth = "none", rate = "10/")]
async fn no_unit() {}

#[secure_endpoint(auth = "none", rate = "ten/m")]
async fn count_not_a_number() {}

#[secure_endpoint(auth = "none", rate = "1/400d")]
async fn longer_than_a_year() {}

fn main() {}
