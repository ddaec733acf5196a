#!/usr/bin/env bash
# Runs the official RealWorld API suite (Postman collection, with newman) against Conduit:
# builds the server, starts it on a fresh temporary database and a free port over HTTPS, runs
# the collection, stops the server. Exits non-zero on any failed assertion.
#
#   examples/conduit/run-api-tests.sh [extra newman arguments, e.g. --verbose]
#
# Environment:
#   REALWORLD_DIR   the folder with Conduit.postman_collection.json (default: ../shared/realworld
#                   beside the repository root)
#   CARGO_PROFILE   cargo profile to build (default: dev)
#   STARTUP_TIMEOUT seconds to wait for the server to answer (default: 120; covers a cold build's
#                   start, not the build)
# Needs: cargo, node/npm (newman is installed from package-lock.json with `npm ci`), curl.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
realworld_dir="${REALWORLD_DIR:-$repo_root/../shared/realworld}"
collection="$realworld_dir/Conduit.postman_collection.json"
profile="${CARGO_PROFILE:-dev}"
startup_timeout="${STARTUP_TIMEOUT:-120}"

if [[ ! -f "$collection" ]]; then
    echo "run-api-tests: no collection at $collection (set REALWORLD_DIR)" >&2
    exit 2
fi
for tool in cargo npm curl; do
    command -v "$tool" >/dev/null || { echo "run-api-tests: $tool is required" >&2; exit 2; }
done

# newman, exactly as pinned by package-lock.json.
newman="$script_dir/node_modules/.bin/newman"
if [[ ! -x "$newman" || "$script_dir/package-lock.json" -nt "$script_dir/node_modules/.package-lock.json" ]]; then
    (cd "$script_dir" && npm ci --no-audit --no-fund)
fi

# The server binary.
binary="$(
    cd "$repo_root" &&
        cargo build --locked -p conduit --bin conduit --profile "$profile" \
            --message-format=json-render-diagnostics |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
)"
if [[ -z "$binary" || ! -x "$binary" ]]; then
    echo "run-api-tests: could not build the conduit binary" >&2
    exit 2
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A fresh database and a free port (port 0: the server prints the one it got).
CONDUIT_ADDR=127.0.0.1:0 \
    CONDUIT_DATABASE_URL="sqlite://$work/conduit.sqlite?mode=rwc" \
    "$binary" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!

base_url=""
deadline=$((SECONDS + startup_timeout))
while [[ -z "$base_url" ]]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run-api-tests: the server exited before listening:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    if ((SECONDS > deadline)); then
        echo "run-api-tests: the server did not print its address within ${startup_timeout}s" >&2
        exit 1
    fi
    base_url="$(sed -n 's/^listening on \(https:\/\/[^ ]*\)$/\1/p' "$work/stdout" | head -n 1)"
    [[ -n "$base_url" ]] || sleep 0.2
done

# Answering: any HTTP status will do (000 means no answer yet).
until [[ "$(curl --silent --insecure --output /dev/null --write-out '%{http_code}' \
    --max-time 2 "$base_url/api/tags" || true)" != "000" ]]; do
    if ((SECONDS > deadline)); then
        echo "run-api-tests: $base_url does not answer" >&2
        exit 1
    fi
    sleep 0.2
done
echo "run-api-tests: conduit at $base_url (database in $work)"

# A user of this run only (the collection registers it first).
run_id="$(date +%s)$RANDOM"
status=0
"$newman" run "$collection" \
    --insecure \
    --global-var "APIURL=$base_url/api" \
    --global-var "USERNAME=u$run_id" \
    --global-var "EMAIL=u$run_id@example.com" \
    --global-var "PASSWORD=pw-$run_id-$RANDOM" \
    "$@" || status=$?

if ((status != 0)); then
    echo "run-api-tests: newman failed (exit $status); server log:" >&2
    tail -n 50 "$work/stderr" >&2
fi
exit "$status"
