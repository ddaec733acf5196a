#!/usr/bin/env bash
# The one benchmark command: in-process criterion benches, then HTTP load with wrk against
# (a) bare axum, (b) #[secure_endpoint], (c) the hand-composed tower stack, back to back,
# REPS times, each server on core 0 (one tokio worker) and wrk on core 1; prints medians.
#   benches/run.sh                 # everything (about 5 minutes)
#   SKIP_CRITERION=1 REPS=5 DURATION=10s CONNS=32 benches/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
if ! command -v wrk >/dev/null; then
  echo "benches/run.sh needs wrk: apt-get install wrk" >&2
  exit 1
fi
cargo build --release -q -p secure-endpoint-bench --bins
if [ -z "${SKIP_CRITERION:-}" ]; then
  cargo bench -q -p secure-endpoint-bench --bench inprocess
fi
BIN=target/release/bench-server
TOKEN=$("$BIN" token)
OUT=$(mktemp)
PORT=39100
for rep in $(seq "$REPS"); do
  for method in GET POST; do
    for kind in bare secured tower; do
      PORT=$((PORT + 1))
      taskset -c 0 "$BIN" "$kind" "127.0.0.1:$PORT" &
      pid=$!
      for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
      if [ "$method" = POST ]; then
        url="http://127.0.0.1:$PORT/users/alice/notes"; script=(-s benches/post.lua)
      else
        url="http://127.0.0.1:$PORT/users/alice"; script=()
      fi
      log=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency "${script[@]}" \
        -H "Authorization: Bearer $TOKEN" "$url")
      kill "$pid"; wait "$pid" 2>/dev/null || true
      if grep -q "Non-2xx" <<<"$log"; then
        echo "$kind $method answered errors:" >&2; echo "$log" >&2; exit 1
      fi
      python3 - "$rep" "$kind" "$method" >>"$OUT" <<PY
import re, sys
log = """$log"""
def us(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", log).group(1)
# Anchored: "73.50%" in the thread-stats table must not be read as the 50th percentile.
p50 = us(re.search(r"^\s+50%\s+(\S+)", log, re.M).group(1))
p99 = us(re.search(r"^\s+99%\s+(\S+)", log, re.M).group(1))
print(*sys.argv[1:], rps, p50, p99)
PY
      tail -n1 "$OUT" >&2
    done
  done
done
python3 benches/summarize.py "$OUT"
