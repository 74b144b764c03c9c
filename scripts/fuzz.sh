#!/usr/bin/env bash
# Fuzzes every response decoder, config parsing, and the whole producer fed
# arbitrary bytes and events (fuzz/fuzz_targets/), SECONDS each (default 60),
# growing the kept corpus in fuzz/corpus/. Prints executions per target.
# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP enables them on the
# stable toolchain; libFuzzer runs without a sanitizer (the code under test
# forbids unsafe outside the wasm glue).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd fuzz
export RUSTC_BOOTSTRAP=1
for target in responses config producer packed; do
    mkdir -p "corpus/$target"
    log=$(mktemp)
    cargo fuzz run --sanitizer none -O -j 2 "$target" "corpus/$target" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
    execs=$(grep -E '^#[0-9]+: .*exec/s' "$log" | tail -1 | sed -E 's/^#([0-9]+).*/\1/')
    echo "$target: $execs executions in ${secs}s, no crash"
done
