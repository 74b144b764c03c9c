#!/usr/bin/env bash
# The record ciphers' speed (bench/aead_speed): MB/s sealing 16 KiB TLS
# records with each AEAD, and each half alone, for the RustCrypto versions
# before (aes-gcm / chacha20poly1305 0.10) and after (0.11); compiled for
# wasm32-wasip2 and run under the wasmtime CLI, then natively.
#   bash scripts/aead_speed.sh [--simd128]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
flags=""
dir="$CARGO_TARGET_DIR/aead-speed"
if [ "${1:-}" = --simd128 ]; then
    flags="-C target-feature=+simd128"
    dir="$dir-simd128"
fi
cd bench/aead_speed
CARGO_TARGET_DIR="$dir" RUSTFLAGS="$flags" cargo build -q --release --target wasm32-wasip2
echo "wasm32-wasip2 under $("$KPC_WASMTIME" --version)${flags:+, $flags}:"
"$KPC_WASMTIME" run "$dir/wasm32-wasip2/release/aead-speed.wasm"
echo "native:"
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/aead-speed" cargo run -q --release
