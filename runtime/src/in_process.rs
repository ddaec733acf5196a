//! In-process tests: a secured router called with `tower::ServiceExt::oneshot`, without a
//! server. Such a request has no connection: no peer address (the per-IP limits' key, so the
//! router answers 500) and no TLS (so a router that requires HTTPS answers 403). The helper
//! supplies both, the way a test wants them.

use std::net::SocketAddr;

use axum::extract::connect_info::MockConnectInfo;

/// The client address [`in_process`] gives every request: `127.0.0.1:40000`.
pub const IN_PROCESS_CLIENT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

/// `router` ready for in-process tests: every request is marked as received over TLS and as
/// coming from [`IN_PROCESS_CLIENT`], as if it had arrived on a TLS listener served with
/// `into_make_service_with_connect_info`. Everything else is enforced as in production
/// (authentication, limits, allowlists, headers).
///
/// **For tests only**: served for real, it would take plain HTTP for HTTPS. A listener's own
/// peer address (`ConnectInfo`) still takes precedence over the one supplied here.
///
/// ```
/// use secure_endpoint::{in_process, routing::get, secure_endpoint, SecureRouter, Security};
/// use tower::ServiceExt;
///
/// #[secure_endpoint(auth = "none", rate = "10/s")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let app = SecureRouter::new(Security::builder().build())
///     .route("/health", get(health))
///     .into_router();
/// let request = http::Request::get("/health").body(axum::body::Body::empty()).unwrap();
/// let response = in_process(app).oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # });
/// ```
pub fn in_process<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    in_process_from(router, IN_PROCESS_CLIENT)
}

/// [`in_process`], with the requests coming from `client` (to test per-IP limits, or a
/// trusted proxy in front of the router).
pub fn in_process_from<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    client: SocketAddr,
) -> axum::Router<S> {
    crate::perimeter::mark_https(router).layer(MockConnectInfo(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_client_is_loopback() {
        assert!(IN_PROCESS_CLIENT.ip().is_loopback());
    }
}
