//! Lingering close: a body refused with 413 (by `Content-Length`, while reading a chunked body,
//! or on an endpoint that takes none) is answered, then the rest of the body is read and
//! discarded up to a bound in bytes and time, so a client that writes its whole body before it
//! reads still reads the 413 rather than a connection reset. The answer says
//! `Connection: close`, and the drain stops at its bounds.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use secure_endpoint::request_body::{LINGER_MAX_BYTES, LINGER_MAX_TIME};
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Json, SecureRouter, Security};
use serde::Deserialize;

#[derive(Deserialize, garde::Validate)]
struct Upload {
    #[garde(length(max = 1_000_000))]
    data: String,
}

#[secure_endpoint(auth = "none", fields = ["data"])]
async fn upload(Json(u): Json<Upload>) -> String {
    u.data.len().to_string()
}

#[secure_endpoint(auth = "none")]
async fn no_body() -> &'static str {
    "ok"
}

/// The app: a 4 KiB body limit.
async fn serve() -> SocketAddr {
    let app = SecureRouter::new(
        Security::builder()
            .allow_plain_http()
            .body_limit(4 * 1024)
            .build(),
    )
    .route("/upload", post(upload))
    .route("/nobody", post(no_body))
    .into_router();
    common::serve(app).await
}

const BIG: usize = 2 * 1024 * 1024;

fn payload(len: usize) -> Vec<u8> {
    format!(r#"{{"data":"{}"}}"#, "x".repeat(len - 12)).into_bytes()
}

fn head(path: &str, framing: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{framing}\r\n")
        .into_bytes()
}

/// Writes `head` and `body` completely, then reads one response (Content-Length framed) and
/// checks the connection is closed after it. Any reset along the way is an error.
fn write_then_read(addr: SocketAddr, head: &[u8], body: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(head)
        .map_err(|e| format!("writing the head: {e}"))?;
    // As a client on a real network does: the body goes out over some time, all of it before
    // the first read.
    for piece in body.chunks(16 * 1024) {
        stream
            .write_all(piece)
            .map_err(|e| format!("writing the body: {e}"))?;
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                return Err(format!(
                    "reading after {} bytes: {e}: {}",
                    out.len(),
                    String::from_utf8_lossy(&out)
                ))
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn assert_readable_413(response: &str, what: &str) {
    assert!(response.starts_with("HTTP/1.1 413"), "{what}: {response}");
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nconnection: close\r\n"),
        "{what}: {response}"
    );
    assert!(
        lower.contains("\r\ncontent-type: application/problem+json\r\n"),
        "{what}: {response}"
    );
    assert!(lower.contains("\r\nx-content-type-options: nosniff\r\n"));
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 413, "{what}");
    assert!(problem["error_id"].is_string(), "{what}");
}

#[tokio::test]
async fn a_413_by_content_length_is_readable_after_the_whole_body_is_written() {
    let addr = serve().await;
    let body = payload(BIG);
    let head = head("/upload", &format!("Content-Length: {}\r\n", body.len()));
    let response = tokio::task::spawn_blocking(move || write_then_read(addr, &head, &body))
        .await
        .unwrap()
        .unwrap();
    assert_readable_413(&response, "content-length");
}

#[tokio::test]
async fn a_413_while_reading_a_chunked_body_is_readable_after_the_whole_body_is_written() {
    let addr = serve().await;
    let body = common::chunked(&payload(BIG), 8 * 1024);
    let head = head("/upload", "Transfer-Encoding: chunked\r\n");
    let response = tokio::task::spawn_blocking(move || write_then_read(addr, &head, &body))
        .await
        .unwrap()
        .unwrap();
    assert_readable_413(&response, "chunked");
}

#[tokio::test]
async fn a_413_on_an_endpoint_without_a_body_is_readable_after_the_whole_body_is_written() {
    let addr = serve().await;
    for chunked in [false, true] {
        let body = payload(BIG);
        let (head, body) = if chunked {
            (
                head("/nobody", "Transfer-Encoding: chunked\r\n"),
                common::chunked(&body, 8 * 1024),
            )
        } else {
            let framing = format!("Content-Length: {}\r\n", body.len());
            (head("/nobody", &framing), body)
        };
        let response = tokio::task::spawn_blocking(move || write_then_read(addr, &head, &body))
            .await
            .unwrap()
            .unwrap();
        assert_readable_413(&response, &format!("no body, chunked={chunked}"));
    }
}

/// A body within the limit still works on the same app, and a connection answered 413 is
/// not reused (the next request gets a new connection).
#[tokio::test]
async fn bodies_within_the_limit_are_unaffected() {
    let addr = serve().await;
    let client = common::client_from(None);
    let res = client
        .post(format!("http://{addr}/upload"))
        .header("content-type", "application/json")
        .body(payload(2000))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "1988");
    let res = client
        .post(format!("http://{addr}/upload"))
        .header("content-type", "application/json")
        .body(payload(BIG))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["connection"], "close");
    let res = client
        .post(format!("http://{addr}/upload"))
        .header("content-type", "application/json")
        .body(payload(100))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The drain is bounded in bytes: a client that keeps sending past `LINGER_MAX_BYTES` is cut
/// off (its writes fail) rather than read for ever, and it can read the 413 that was sent
/// first if it reads while it writes.
#[tokio::test]
async fn the_drain_stops_at_its_byte_bound() {
    let addr = serve().await;
    let written = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let total = 64 * LINGER_MAX_BYTES;
        let framing = format!("Content-Length: {total}\r\n");
        stream.write_all(&head("/upload", &framing)).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0usize;
        let started = Instant::now();
        while written < total && started.elapsed() < Duration::from_secs(30) {
            match stream.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break,
            }
        }
        written
    })
    .await
    .unwrap();
    assert!(
        written < 16 * LINGER_MAX_BYTES,
        "the server read {written} bytes of an oversized body"
    );
}

/// The drain is bounded in time: a client that trickles its body is answered at once and then
/// disconnected after about `LINGER_MAX_TIME`.
#[tokio::test]
async fn the_drain_stops_at_its_time_bound() {
    let addr = serve().await;
    let (response, closed_after) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let framing = "Content-Length: 100000000\r\n";
        stream.write_all(&head("/upload", framing)).unwrap();
        stream.write_all(&[b'x'; 8 * 1024]).unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        let closed_after = loop {
            if started.elapsed() > LINGER_MAX_TIME + Duration::from_secs(10) {
                break None;
            }
            // A few bytes every 100 ms: never idle, never done.
            if stream.write_all(b"xxxx").is_err() {
                break Some(started.elapsed());
            }
            match stream.read(&mut buf) {
                Ok(0) => break Some(started.elapsed()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break Some(started.elapsed()),
            }
        };
        (String::from_utf8_lossy(&out).into_owned(), closed_after)
    })
    .await
    .unwrap();
    assert_readable_413(&response, "trickled");
    let closed_after = closed_after.expect("the connection was never closed");
    assert!(
        closed_after >= LINGER_MAX_TIME - Duration::from_millis(500),
        "closed after {closed_after:?}"
    );
    assert!(
        closed_after <= LINGER_MAX_TIME + Duration::from_secs(3),
        "closed after {closed_after:?}"
    );
}
