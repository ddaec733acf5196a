use secure_endpoint::secure_endpoint;

struct Stats;

#[secure_endpoint(auth = "none")]
async fn stats() -> Stats {
    Stats
}

fn main() {}
