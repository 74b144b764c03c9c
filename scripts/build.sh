#!/usr/bin/env bash
# Builds the engine component and the native host, after setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo build --release --target wasm32-wasip2
wasm-tools validate "$KAFKA_PRODUCER_WASM"
cargo build --profile host -p kafka-producer-host
