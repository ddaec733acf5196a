use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", sunset = "2026-02-30")]
async fn february_30() {}

#[secure_endpoint(auth = "none", deprecated = "2026-02-29")]
async fn not_a_leap_year() {}

#[secure_endpoint(auth = "none", deprecated = "2026-04-31")]
async fn april_31() {}

#[secure_endpoint(auth = "none", sunset = "2026-13-01")]
async fn month_13() {}

#[secure_endpoint(auth = "none", sunset = "2026-01-00")]
async fn day_0() {}

#[secure_endpoint(auth = "none", deprecated = "1969-12-31")]
async fn before_1970() {}

fn main() {}
