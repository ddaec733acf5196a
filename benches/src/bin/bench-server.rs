//! `bench-server <bare|headers|secured|tower> <addr>`: serves one of the compared apps, on one worker
//! thread, until killed. `bench-server token` prints the bearer token the load uses.

use std::net::SocketAddr;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_default();
    if kind == "token" {
        println!("{}", secure_endpoint_bench::token());
        return;
    }
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .expect("an address");
    let app = match kind.as_str() {
        "bare" => secure_endpoint_bench::bare(),
        "headers" => secure_endpoint_bench::bare_with_headers(),
        "secured" => secure_endpoint_bench::secured(),
        "tower" => secure_endpoint_bench::tower_stack(),
        other => {
            eprintln!(
                "usage: bench-server <bare|headers|secured|tower|token> [addr] (got {other:?})"
            );
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
}
