//! `cargo xtask test`: every check of the project, on a bare machine of this kind (a Rust
//! toolchain and node/npm), in the order CI runs them:
//!
//! 1. what the tests need and the toolchain lacks: `redis-server` and `redis-cli` (Debian's
//!    `redis-server` package, installed with apt-get when this user may, else the exact command
//!    is printed and the run fails);
//! 2. `cargo fmt --check`; the MSRV check (`cargo xtask msrv`, below); `cargo clippy -D
//!    warnings` over the whole workspace, whose `incompatible_msrv` lint refuses standard
//!    library items newer than the workspace's `rust-version`;
//! 3. `cargo test --workspace`: unit, integration over real HTTP, compile-fail (trybuild);
//! 4. the OpenAPI document of the demo, linted with Spectral and the OWASP ruleset (npm);
//!
//! Hand-written on `std::process` rather than a task-runner crate: it runs six commands in a
//! row, and a dependency would only add build time to every test run. Its one dependency,
//! `serde_json`, reads `cargo metadata` (and is built for the workspace anyway).
//!
//! The MSRV check: the toolchain installed is the newest, so the build cannot prove that the
//! declared `rust-version` compiles. What can be checked without the old toolchain is checked:
//! every package the published crates (`secure-endpoint` and `secure-endpoint-macros`, all
//! features, normal and build dependencies) build from the committed `Cargo.lock` declares a
//! `rust-version` no newer than ours (clippy checks our own code's use of the standard
//! library). Not caught: language features and compiler behaviour newer than the MSRV (clippy
//! knows only library items' stability), dependencies that declare no `rust-version` (listed)
//! or declare it wrongly, and a newer resolution than the lock's (users without our lock).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("setup") => setup(),
        Some("msrv") => msrv(),
        _ => {
            eprintln!(
                "usage: cargo xtask test    install what is missing, then run every check\n       \
                 cargo xtask setup   only install what is missing\n       \
                 cargo xtask msrv    check the locked dependencies' rust-version against ours"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate lives in `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}

fn test() -> Result<(), String> {
    setup()?;
    let root = root();
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    msrv()?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args(["test", "--workspace"]))?;
    openapi_lint(&root)?;
    // The official RealWorld suite (Postman collection, run by the pinned newman) against
    // `cargo run -p conduit` on a fresh database: any failed assertion fails the run.
    run(Command::new("bash").arg(root.join("examples/conduit/run-api-tests.sh")))
}

/// Installs what the tests need and a Rust toolchain does not bring.
fn setup() -> Result<(), String> {
    if on_path("redis-server") && on_path("redis-cli") {
        return Ok(());
    }
    let install = "apt-get install -y --no-install-recommends redis-server";
    if !on_path("apt-get") {
        return Err(format!(
            "the Redis tests need `redis-server` and `redis-cli` on the PATH, and this machine has \
             no apt-get to install them; install Redis (on Debian or Ubuntu: `{install}`) and run \
             again"
        ));
    }
    let sudo: &[&str] = if is_root() {
        &[]
    } else if on_path("sudo") {
        &["sudo", "-n"]
    } else {
        return Err(format!(
            "the Redis tests need `redis-server`; install it as root: `{install}`"
        ));
    };
    eprintln!("xtask: installing redis-server (Debian's package) for the Redis tests");
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut command = Command::new(all[0]);
        command
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(&mut apt(&["update", "-qq"]))
        .and_then(|()| {
            run(&mut apt(&[
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "redis-server",
            ]))
        })
        .map_err(|e| format!("{e}; install Redis yourself: `sudo {install}`"))?;
    // The tests start their own servers on free ports; the packaged service is not needed.
    let mut stop = Command::new("systemctl");
    stop.args(["disable", "--now", "redis-server"]);
    let _ = stop.output();
    if on_path("redis-server") && on_path("redis-cli") {
        Ok(())
    } else {
        Err(format!("redis-server is still missing after `{install}`"))
    }
}

/// The demo's OpenAPI document, linted with Spectral and the OWASP API Security ruleset
/// (`.spectral.yaml` lists the reviewed exceptions). Spectral is installed into `target/`.
fn openapi_lint(root: &Path) -> Result<(), String> {
    if !on_path("npm") {
        return Err(
            "npm is needed for the OpenAPI lint (on Debian or Ubuntu: `apt-get install npm`)"
                .to_owned(),
        );
    }
    let spectral = root.join("target/spectral");
    std::fs::create_dir_all(&spectral)
        .map_err(|e| format!("creating {}: {e}", spectral.display()))?;
    run(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&spectral)
        .args([
            "--no-audit",
            "--no-fund",
            "--silent",
            "@stoplight/spectral-cli@6",
            "@stoplight/spectral-owasp-ruleset@2",
        ]))?;
    let output = cargo()
        .args(["run", "-q", "-p", "demo", "--", "--openapi"])
        .output()
        .map_err(|e| format!("cargo run -p demo -- --openapi: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo run -p demo -- --openapi` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let document = root.join("target/openapi.json");
    std::fs::write(&document, &output.stdout)
        .map_err(|e| format!("writing {}: {e}", document.display()))?;
    run(Command::new(spectral.join("node_modules/.bin/spectral"))
        .arg("lint")
        .arg(&document)
        .arg("--ruleset")
        .arg(root.join(".spectral.yaml"))
        .args(["--fail-severity", "error"]))
}

/// The crates users depend on: their dependencies are what the MSRV promises to build.
const PUBLISHED: [&str; 2] = ["secure-endpoint", "secure-endpoint-macros"];

/// Every package the published crates build (all features; normal and build dependencies; as
/// locked) declares a `rust-version` no newer than the workspace's.
fn msrv() -> Result<(), String> {
    use serde_json::Value;

    eprintln!("xtask: MSRV check of the locked dependencies");
    let output = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--locked",
        ])
        .output()
        .map_err(|e| format!("could not run `cargo metadata`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata --locked` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("`cargo metadata` printed no JSON: {e}"))?;
    let packages: Vec<&Value> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let by_id = |id: &str| packages.iter().copied().find(|p| p["id"] == id);
    let ours: Vec<&Value> = packages
        .iter()
        .copied()
        .filter(|p| p["source"].is_null() && PUBLISHED.contains(&p["name"].as_str().unwrap_or("")))
        .collect();
    if ours.len() != PUBLISHED.len() {
        return Err(format!("`cargo metadata` does not list {PUBLISHED:?}"));
    }
    let declared = ours[0]["rust_version"]
        .as_str()
        .ok_or("the workspace declares no rust-version")?;
    let msrv =
        version(declared).ok_or_else(|| format!("rust-version {declared:?} is not a version"))?;

    // The dependency graph from the published crates, normal and build edges only.
    let nodes: Vec<&Value> = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut stack: Vec<&str> = ours.iter().filter_map(|p| p["id"].as_str()).collect();
    while let Some(id) = stack.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(node) = nodes.iter().find(|n| n["id"] == id) else {
            continue;
        };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let built = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if let (true, Some(pkg)) = (built, dep["pkg"].as_str()) {
                stack.push(pkg);
            }
        }
    }

    let mut newer = Vec::new();
    let mut undeclared = Vec::new();
    for id in &seen {
        let Some(package) = by_id(id) else { continue };
        let name = format!(
            "{} {}",
            package["name"].as_str().unwrap_or("?"),
            package["version"].as_str().unwrap_or("?")
        );
        match package["rust_version"].as_str() {
            None => undeclared.push(name),
            Some(theirs) => match version(theirs) {
                Some(v) if v <= msrv => {}
                _ => newer.push(format!("{name} needs Rust {theirs}")),
            },
        }
    }
    newer.sort();
    undeclared.sort();
    eprintln!(
        "xtask: {} packages built by {PUBLISHED:?}; {} declare no rust-version (not checked): {}",
        seen.len(),
        undeclared.len(),
        undeclared.join(", ")
    );
    if newer.is_empty() {
        eprintln!("xtask: every declared rust-version is at most {declared}");
        Ok(())
    } else {
        Err(format!(
            "rust-version is {declared}, but the locked dependencies need a newer Rust:\n  {}\n\
             Pin an older version (`cargo update -p NAME --precise VERSION`), or raise rust-version.",
            newer.join("\n  ")
        ))
    }
}

/// `1.88` or `1.88.0` as `(1, 88, 0)`.
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command` with this process's output, failing on a non-zero exit.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("xtask: {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
