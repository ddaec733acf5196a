//! `cargo xtask test`: every check of the project, on a bare machine of this kind (a Rust
//! toolchain and node/npm), in the order CI runs them:
//!
//! 1. what the tests need and the toolchain lacks: `redis-server` and `redis-cli` (Debian's
//!    `redis-server` package, installed with apt-get when this user may, else the exact command
//!    is printed and the run fails);
//! 2. `cargo fmt --check` and `cargo clippy -D warnings` over the whole workspace;
//! 3. `cargo test --workspace`: unit, integration over real HTTP, compile-fail (trybuild);
//! 4. the OpenAPI document of the demo, linted with Spectral and the OWASP ruleset (npm);
//!
//! Hand-written on `std::process` rather than a task-runner crate: it runs six commands in a
//! row, and a dependency would only add build time to every test run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("setup") => setup(),
        _ => {
            eprintln!(
                "usage: cargo xtask test    install what is missing, then run every check\n       \
                 cargo xtask setup   only install what is missing"
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
