#!/usr/bin/env bash
# The producer core alone, natively: no sockets, no wasm, an instant fake
# broker; only the time spent inside Producer calls counts (send, poll,
# handle_received, ...), with every record's delivery report drained.
# Prints records/s and MB/s of values for 100 B and 1 KB values.
#   bash scripts/bench_core.sh [records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n=${1:-2000000}
cargo test --profile host -p kafka-producer-component --test throughput_probe --no-run >/dev/null 2>&1
for bytes in 100 1000; do
    for idem in true false; do
        PROBE_N=$n PROBE_VALUE_BYTES=$bytes PROBE_IDEMPOTENT=$idem cargo test --profile host -p kafka-producer-component \
            --test throughput_probe -- --ignored --nocapture 2>/dev/null | grep '^PROBE'
    done
done
