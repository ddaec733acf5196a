use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", deprecated = "30.06.2026")]
async fn day_first() {}

#[secure_endpoint(auth = "none", sunset = "2026-6-30")]
async fn month_without_zero() {}

#[secure_endpoint(auth = "none", deprecated = "2026-06-30T00:00:00Z")]
async fn with_a_time() {}

#[secure_endpoint(auth = "none", sunset = "next year")]
async fn not_a_date() {}

fn main() {}
