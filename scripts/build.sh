#!/usr/bin/env bash
# Builds the engine component and the native host, after setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo build --release --target wasm32-wasip2 -p kafka-producer-component
# Binaryen's optimiser over the linked module: 15% smaller (README, "The
# interface"). -O3, not -Oz: the hot path stays optimised for speed. The
# features are those rustc enables for wasm32-wasip2.
if command -v wasm-opt >/dev/null; then
    python3 scripts/wasm_opt.py "$KAFKA_PRODUCER_WASM" -O3 \
        --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
        --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types --enable-simd
else
    echo "build: no wasm-opt (binaryen): the engine component is not size-optimised" >&2
fi
wasm-tools validate "$KAFKA_PRODUCER_WASM"
# The kcat-style command for the wasmtime CLI (a WASI command). Its own
# target directory: it builds the core without the component glue, and
# that build would otherwise replace the engine component above.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/kcat" cargo build --release --target wasm32-wasip2 -p kafka-kcat
# The HTTP-to-Kafka plugin for `wasmtime serve` (the core with its driver,
# without the component glue): its own target directory too.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/http-proxy" cargo build --release --target wasm32-wasip2 -p kafka-http-proxy
wasm-tools validate "$CARGO_TARGET_DIR/http-proxy/wasm32-wasip2/release/kafka_http_proxy.wasm"
# World `client`: the producer as a component that does its own I/O
# (wasi:sockets, wasi:io/poll, clocks, random) for applications. Its own
# target directory too: it builds the core with the driver, without the
# engine glue.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/client" cargo build --release --target wasm32-wasip2 -p kafka-producer-client
client_wasm="$CARGO_TARGET_DIR/client/wasm32-wasip2/release/kafka_producer_client.wasm"
wasm-tools validate "$client_wasm"
client_wit=$(wasm-tools component wit "$client_wasm")
grep -q "export kafka:producer/client-producer" <<<"$client_wit" \
    || { echo "build: the client component lost its export" >&2; exit 1; }
# Its imports: WASI sockets, io, clocks, random; cli and filesystem come
# with Rust's std (README, "World client"); the types of kafka:producer.
if grep -E '^ *import ' <<<"$client_wit" | grep -vqE 'import (wasi:(sockets|io|clocks|random|cli|filesystem)/|kafka:producer/producer@)'; then
    echo "build: the client component imports more than it should:" >&2
    grep -E '^ *import ' <<<"$client_wit" >&2
    exit 1
fi
wasm-tools component wit "$KAFKA_PRODUCER_WASM" | grep -q "export kafka:producer/producer" \
    || { echo "build: the engine component lost its export" >&2; exit 1; }
# The record-cipher bench (its own workspace), built for wasm: its
# `--check` compares the producer's ChaCha20-Poly1305 on simd128 with
# RustCrypto's (host-tests' chacha_simd).
(cd bench/aead_speed && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/aead-speed" cargo build --release --target wasm32-wasip2)
# The same component as JavaScript, for examples/node (jco).
gen="$KPC_CACHE/node/gen"
mkdir -p "$gen"
"$KPC_CACHE/node/node_modules/.bin/jco" transpile "$KAFKA_PRODUCER_WASM" -o "$gen" --name kafka_producer --quiet
echo '{ "type": "module" }' > "$gen/package.json"
# The client world too, for examples/node/client.mjs (on jco's
# preview2-shim, which implements wasi:sockets with node's sockets).
client_gen="$KPC_CACHE/node/client-gen"
mkdir -p "$client_gen"
"$KPC_CACHE/node/node_modules/.bin/jco" transpile "$client_wasm" -o "$client_gen" --name client --quiet
echo '{ "type": "module" }' > "$client_gen/package.json"
cargo build --profile host -p kafka-producer-host
