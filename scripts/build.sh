#!/usr/bin/env bash
# Builds the engine component and the native host, after setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo build --release --target wasm32-wasip2
wasm-tools validate "$KAFKA_PRODUCER_WASM"
# The kcat-style command for the wasmtime CLI (a WASI command).
cargo build --release --target wasm32-wasip2 -p kafka-kcat
# The same component as JavaScript, for examples/node (jco).
gen="$KPC_CACHE/node/gen"
mkdir -p "$gen"
"$KPC_CACHE/node/node_modules/.bin/jco" transpile "$KAFKA_PRODUCER_WASM" -o "$gen" --name kafka_producer --quiet
echo '{ "type": "module" }' > "$gen/package.json"
cargo build --profile host -p kafka-producer-host
