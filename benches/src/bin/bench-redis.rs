//! `bench-redis`: rate decisions per second and their latency (p50, p99, p99.9), through the
//! router's limiter (`RateLimiter::check`), in memory and on Redis over loopback, side by side
//! in one run.
//!
//! ```sh
//! cargo run --release -p secure-endpoint-bench --bin bench-redis            # starts redis-server
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --release -p secure-endpoint-bench --bin bench-redis
//! ```
//!
//! Each case runs `tasks` concurrent callers for 5 s on a 2-worker Tokio runtime, over 10 000
//! client addresses with a quota that admits them all (so every decision writes), after a 1 s
//! warm-up. Without `REDIS_URL`, a `redis-server` (no persistence) is started on a free port.

use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{RateLimiter, RateSubject};
use secure_endpoint::redis::RedisStore;
use secure_endpoint::store::Outage;

const KEYS: u32 = 10_000;
const RUN: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_secs(1);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> (String, Server) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server), or set REDIS_URL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (format!("redis://127.0.0.1:{port}/"), Server(child))
}

struct Outcome {
    decisions: u64,
    elapsed: Duration,
    latencies_ns: Vec<u64>,
}

/// `tasks` callers deciding for `run`; latencies of every decision.
async fn run(limiter: Arc<RateLimiter>, tasks: u32, run: Duration) -> Outcome {
    let started = Instant::now();
    let until = started + run;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let limiter = limiter.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut i = task;
            loop {
                let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i % KEYS));
                let t = Instant::now();
                let decided = limiter.check(RateSubject::Ip(ip)).await;
                let now = Instant::now();
                assert!(decided.is_ok(), "the quota admits every request");
                latencies.push((now - t).as_nanos() as u64);
                i = i.wrapping_add(tasks);
                if now >= until {
                    break latencies;
                }
                if latencies.len() % 64 == 0 {
                    // In memory a decision never waits: let the other callers run.
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    let mut latencies_ns = Vec::new();
    for h in handles {
        latencies_ns.extend(h.await.unwrap());
    }
    Outcome {
        decisions: latencies_ns.len() as u64,
        elapsed: started.elapsed(),
        latencies_ns,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (url, _server) = match std::env::var("REDIS_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let (url, server) = start_redis();
            (url, Some(server))
        }
    };
    // Admits all: 10 000 keys at most a few hundred thousand decisions a second between them.
    let spec = RateSpec::new(1_000_000, Duration::from_secs(1));
    println!("| store | callers | decisions/s | p50 µs | p99 µs | p99.9 µs |");
    println!("|---|---|---|---|---|---|");
    for tasks in [1u32, 16, 64] {
        for store in ["memory", "redis"] {
            let outcome = runtime.block_on(async {
                let limiter = RateLimiter::new("bench", spec);
                let limiter = if store == "redis" {
                    let redis = Arc::new(RedisStore::open(&url).expect("a Redis URL"));
                    redis.ping().await.expect("Redis answers");
                    limiter.shared(format!("bench-{tasks}"), redis, Outage::FailClosed)
                } else {
                    limiter
                };
                let limiter = Arc::new(limiter);
                run(limiter.clone(), tasks, WARM_UP).await;
                run(limiter, tasks, RUN).await
            });
            let mut latencies = outcome.latencies_ns;
            latencies.sort_unstable();
            println!(
                "| {store} | {tasks} | {:.0} | {:.2} | {:.2} | {:.2} |",
                outcome.decisions as f64 / outcome.elapsed.as_secs_f64(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 0.999),
            );
        }
    }
}
