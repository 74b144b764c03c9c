#!/usr/bin/env bash
# Runs every test: the core's unit tests (native) and the host tests, which
# load the built component into wasmtime, start their own Tansu brokers and
# fake brokers, and read back what was produced with kafka-python and
# confluent-kafka.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
. scripts/env.sh
cargo test --profile host --workspace "$@"
# The fuzz targets (scripts/fuzz.sh) must still build against the
# producer's API. RUSTC_BOOTSTRAP: libfuzzer-sys uses nightly features.
RUSTC_BOOTSTRAP=1 cargo check -q --manifest-path fuzz/Cargo.toml --bins
