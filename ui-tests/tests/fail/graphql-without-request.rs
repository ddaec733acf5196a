use secure_endpoint::policy::GraphQlLimits;
use secure_endpoint::secure_endpoint;

const LIMITS: GraphQlLimits = GraphQlLimits::DEFAULT;

#[secure_endpoint(auth = "jwt", allow = "authenticated", graphql = LIMITS)]
async fn graphql() -> String {
    String::new()
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", graphql = "LIMITS")]
async fn graphql_string() -> String {
    String::new()
}

fn main() {}
