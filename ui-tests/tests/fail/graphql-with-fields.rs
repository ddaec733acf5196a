use secure_endpoint::policy::GraphQlLimits;
use secure_endpoint::secure_endpoint;

const LIMITS: GraphQlLimits = GraphQlLimits::DEFAULT;

struct GraphQlRequest;

#[secure_endpoint(auth = "jwt", allow = "authenticated", graphql = LIMITS, fields = ["query"])]
async fn graphql(request: GraphQlRequest) -> String {
    let _ = request;
    String::new()
}

fn main() {}
