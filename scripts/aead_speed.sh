#!/usr/bin/env bash
# The record ciphers' speed (bench/aead_speed): MB/s sealing 16 KiB TLS
# records with each AEAD, and each half alone, for the RustCrypto versions
# before (aes-gcm / chacha20poly1305 0.10) and after (0.11); compiled for
# wasm32-wasip2 and run under the wasmtime CLI, then natively.
# The wasm build has simd128 on (.cargo/config.toml); --no-simd128 turns it
# off for comparison. The producer's own ChaCha20-Poly1305 is one of the rows.
#   bash scripts/aead_speed.sh [--no-simd128]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
flags=""
dir="$CARGO_TARGET_DIR/aead-speed"
if [ "${1:-}" = --no-simd128 ]; then
    flags="-C target-feature=-simd128"
    dir="$dir-no-simd128"
fi
cd bench/aead_speed
if [ -n "$flags" ]; then
    CARGO_TARGET_DIR="$dir" RUSTFLAGS="$flags" cargo build -q --release --target wasm32-wasip2
else
    CARGO_TARGET_DIR="$dir" cargo build -q --release --target wasm32-wasip2
fi
echo "wasm32-wasip2 under $("$KPC_WASMTIME" --version)${flags:+, $flags}:"
"$KPC_WASMTIME" run "$dir/wasm32-wasip2/release/aead-speed.wasm"
echo "native:"
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/aead-speed" cargo run -q --release
