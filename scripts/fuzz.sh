#!/usr/bin/env bash
# Fuzzes every response decoder, config parsing, packed records, the whole
# producer against a scripted cluster that answers the handshake and lets
# the input decide each Produce answer (`producer`: delivery, retries,
# idempotent sequences, epoch bumps, splitting, expiry, with invariants
# checked), and the producer fed arbitrary bytes and events on plaintext or
# TLS connections (`connection`), SECONDS each (default 60), growing the
# kept corpus in fuzz/corpus/. Prints executions per target. TARGETS
# (default: all) picks some: scripts/fuzz.sh 120 producer.
# scripts/fuzz_coverage.sh shows what the corpora reach.
# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP enables them on the
# stable toolchain; libFuzzer runs without a sanitizer (the code under test
# forbids unsafe outside the wasm glue).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd fuzz
export RUSTC_BOOTSTRAP=1
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(responses config producer connection packed)
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log=$(mktemp)
    extra=()
    # Structured inputs: a scenario needs room from the start.
    [ "$target" = producer ] && extra=(-max_len=4096 -len_control=0)
    cargo fuzz run --sanitizer none -O -j 2 "$target" "corpus/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1 || { tail -60 "$log"; exit 1; }
    execs=$(grep -E '^#[0-9]+: .*exec/s' "$log" | tail -1 | sed -E 's/^#([0-9]+).*/\1/')
    echo "$target: $execs executions in ${secs}s, no crash"
done
