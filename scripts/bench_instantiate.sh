#!/usr/bin/env bash
# Instantiate and first ack, in process (examples/host/src/bin/first_ack.rs):
# a fresh engine instance and producer per run against a local Tansu broker,
# one record each, acks=all; idempotent (the default) and not.
#   bash scripts/bench_instantiate.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null 2>&1
. scripts/env.sh
. scripts/tansu.sh
runs=${1:-100}
bin="$CARGO_TARGET_DIR/host/first-ack"
"$bin" -b "127.0.0.1:$port" -n 3 >/dev/null   # creates the topic, warms up
echo "idempotent (acks=all, enable.idempotence=true):"
"$bin" -b "127.0.0.1:$port" -n "$runs"
echo "acks=all, enable.idempotence=false:"
"$bin" -b "127.0.0.1:$port" -n "$runs" -X enable.idempotence=false
