#!/usr/bin/env bash
# Compile-time cost of the attribute: generates two crates with the same 100 handlers, one
# with #[secure_endpoint] on a SecureRouter, one plain on an axum Router, builds their
# dependencies once, then times (CPU: user + sys) REPS rebuilds of each crate alone (dev profile), the two
# crates interleaved (plain, secured, plain, ...) so that a change in the machine's load hits
# both alike, and prints the medians, the median of the per-pair ratios and the extra time
# per endpoint. COMPILE_BENCH_DIR moves the generated crates and their target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-5}
N=${N:-100}
DIR=${COMPILE_BENCH_DIR:-$ROOT/target/compile-bench}
mkdir -p "$DIR"
export CARGO_TARGET_DIR=$DIR/target
# A rebuild of an unchanged file with incremental compilation on reuses most of the previous
# session's work: every rebuild must be a whole one.
export CARGO_INCREMENTAL=0

gen() { # $1 = secured|plain
  local crate=$DIR/$1
  mkdir -p "$crate/src"
  cat > "$crate/Cargo.toml" <<TOML
[package]
name = "compile-bench-$1"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
secure-endpoint = { path = "$ROOT/runtime" }
axum = { version = "0.8", default-features = false, features = ["http1", "tokio", "json", "query", "matched-path", "tracing"] }
serde = { version = "1", features = ["derive"] }
garde = { version = "0.22", default-features = false, features = ["derive", "serde"] }
TOML
  {
    echo 'use axum::extract::Path;'
    echo '#[derive(serde::Deserialize, garde::Validate)] pub struct Body { #[garde(length(min = 1, max = 100))] pub name: String, #[garde(length(max = 200))] pub email: String }'
    if [ "$1" = secured ]; then
      # What a secured handler returns must be declared safe to send (SafeResponse).
      echo '#[derive(serde::Serialize, secure_endpoint::SafeResponse)] pub struct View { pub id: String, pub name: String }'
    else
      echo '#[derive(serde::Serialize)] pub struct View { pub id: String, pub name: String }'
    fi
    for i in $(seq "$N"); do
      if [ "$1" = secured ]; then
        echo "#[secure_endpoint::secure_endpoint(auth = \"jwt\", owner = \"user_id\", rate = \"100/15m\", fields = [\"name\", \"email\"])]"
        echo "pub async fn h$i(Path(user_id): Path<String>, secure_endpoint::Json(b): secure_endpoint::Json<Body>) -> secure_endpoint::Json<View> { secure_endpoint::Json(View { id: user_id, name: b.name }) }"
      else
        echo "pub async fn h$i(Path(user_id): Path<String>, axum::Json(b): axum::Json<Body>) -> axum::Json<View> { axum::Json(View { id: user_id, name: b.name }) }"
      fi
    done
    if [ "$1" = secured ]; then
      echo 'pub fn app(security: secure_endpoint::Security) -> axum::Router { secure_endpoint::SecureRouter::new(security)'
      for i in $(seq "$N"); do echo "  .route(\"/r$i/{user_id}\", secure_endpoint::routing::put(h$i))"; done
      echo '  .into_router() }'
    else
      echo 'pub fn app() -> axum::Router { axum::Router::new()'
      for i in $(seq "$N"); do echo "  .route(\"/r$i/{user_id}\", axum::routing::put(h$i))"; done
      echo '}'
    fi
  } > "$crate/src/lib.rs"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for kind in plain secured; do
  gen "$kind"
  cargo build -q --manifest-path "$DIR/$kind/Cargo.toml"   # dependencies, once
done
time_build() { # $1 = plain|secured: CPU seconds (user + sys, rustc included) of one rebuild
  # of that crate alone. CPU time, not wall time: on a shared or loaded machine the wall clock
  # measures the other processes too, and rustc's parallel code generation hides work.
  touch "$DIR/$1/src/lib.rs"
  local cpu
  cpu=$( { TIMEFORMAT='%3U + %3S'; time cargo build -q --manifest-path "$DIR/$1/Cargo.toml" 2>/dev/null; } 2>&1 )
  echo "$cpu" | bc
}
: > "$DIR/plain.times"; : > "$DIR/secured.times"; : > "$DIR/ratios"
for _ in $(seq "$REPS"); do
  p=$(time_build plain); s=$(time_build secured)
  echo "$p" >> "$DIR/plain.times"; echo "$s" >> "$DIR/secured.times"
  echo "scale=3; $s / $p" | bc >> "$DIR/ratios"
done
median < "$DIR/plain.times" > "$DIR/plain.median"
median < "$DIR/secured.times" > "$DIR/secured.median"
plain=$(cat "$DIR/plain.median"); secured=$(cat "$DIR/secured.median")
echo "| crate | $N handlers, CPU seconds, median of $REPS interleaved whole rebuilds |"
echo "|---|---|"
echo "| plain axum | ${plain} s |"
echo "| #[secure_endpoint] | ${secured} s |"
echo "ratio of the medians: $(echo "scale=2; $secured / $plain" | bc)x; median of the per-pair ratios: $(median < "$DIR/ratios")x; extra per endpoint: $(echo "scale=1; ($secured - $plain) * 1000 / $N" | bc) ms"
