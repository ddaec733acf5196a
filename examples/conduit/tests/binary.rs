//! The `conduit` binary as `run-api-tests.sh` drives it: configured by the environment, it
//! creates its database, prints `listening on https://HOST:PORT` first and answers there.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn port_zero_prints_the_real_address_and_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db_file = dir.path().join("fresh.sqlite");
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_conduit"))
            .env("CONDUIT_ADDR", "127.0.0.1:0")
            .env(
                "CONDUIT_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", db_file.display()),
            )
            .env_remove("CONDUIT_TLS_CERT")
            .env_remove("CONDUIT_TLS_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    let port: u16 = base
        .strip_prefix("https://127.0.0.1:")
        .unwrap_or_else(|| panic!("address: {base}"))
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    assert!(db_file.exists(), "the database is created on first start");

    // The certificate comes from a CA generated inside the process: not checked here (loopback).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    let tags = client.get(format!("{base}/api/tags")).send().await.unwrap();
    assert_eq!(tags.status(), reqwest::StatusCode::OK);
    assert_eq!(
        tags.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"tags": []})
    );
}

#[test]
fn a_bad_configuration_is_refused_at_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_conduit"))
        .env("CONDUIT_ADDR", "127.0.0.1:0")
        .env("CONDUIT_DATABASE_URL", "postgres://localhost/conduit")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing listens");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CONDUIT_DATABASE_URL"), "{stderr}");
}
