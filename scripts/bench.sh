#!/usr/bin/env bash
# Throughput of the component (kafka-produce, wasmtime) against librdkafka
# (confluent-kafka) producing the same lines to the same Tansu broker in the
# same run, with the same settings. Prints each run and the ratio.
#   bash scripts/bench.sh [records] [value-bytes]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
. scripts/env.sh
n=${1:-500000}
size=${2:-100}
. scripts/tansu.sh
"$TANSU_BIN" topic create ours --broker "tcp://127.0.0.1:$port" --partitions 6 >/dev/null
"$TANSU_BIN" topic create peer --broker "tcp://127.0.0.1:$port" --partitions 6 >/dev/null
"$KPC_PYTHON" bench/make_lines.py "$n" "$size" "$work/lines"
settings=(acks=all linger.ms=5 batch.size=1000000)
echo "$n records of key-N + $size-byte values, 6 partitions, ${settings[*]}"
ours=$("$CARGO_TARGET_DIR/host/kafka-produce" -b "127.0.0.1:$port" -t ours -l -K "$(printf '\t')" \
    $(printf -- '-X %s ' "${settings[@]}") "$work/lines")
echo "component (wasmtime):        $ours"
peer=$("$KPC_PYTHON" bench/librdkafka_produce.py "127.0.0.1:$port" peer "$work/lines" "${settings[@]}")
echo "librdkafka (confluent-kafka): $peer"
rate() { sed -E 's/.* ([0-9]+) msgs\/s.*/\1/' <<<"$1"; }
"$KPC_PYTHON" -c "print('ratio component / librdkafka: %.2f' % ($(rate "$ours") / $(rate "$peer")))"
