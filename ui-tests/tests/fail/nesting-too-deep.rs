use secure_endpoint::secure_endpoint;

// The macro measures how deep its arguments and the signature nest before it parses them:
// past 64 levels, an error at the token, not a stack overflow that crashes the compiler.
#[secure_endpoint(auth = "none", rate = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("1/1s"))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
