use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = optional())]
async fn a() {}

#[secure_endpoint(auth = optional("none"))]
async fn b() {}

#[secure_endpoint(auth = optional("jwt", "jwt"))]
async fn c() {}

#[secure_endpoint(auth = optional(["jwt"]))]
async fn d() {}

#[secure_endpoint(auth = optional("jtw"))]
async fn e() {}

#[secure_endpoint(auth = "jwt?")]
async fn f() {}

#[secure_endpoint(auth = maybe("jwt"))]
async fn g() {}

fn main() {}
