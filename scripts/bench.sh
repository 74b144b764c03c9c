#!/usr/bin/env bash
# Whole-process throughput and cost of the component (kafka-produce: wasmtime
# driving the engine component) against a C peer, kcat 1.7.1 on librdkafka
# 2.12.1 (built once by scripts/build_kcat.sh), producing the same input
# from stdin to the same Tansu broker in one run. Start-up is included; the
# component's compile cache is warmed first. Both sides keep their defaults
# except what a row names (-X on both). Each row prints, per peer: msgs/s,
# process CPU per record (user + sys), peak RSS, and the broker's CPU per
# record during the run (from /proc/<pid>/stat); then a table with the
# ratios ours / kcat.
# Every row runs KPC_BENCH_RUNS times (default 5), rows interleaved, and the
# table gives each figure's median over the runs.
# KPC_BENCH_ROWS=regex runs only the rows whose label matches (e.g. 'KB.*lz4').
#   bash scripts/bench.sh [records-of-100-B] [records-of-1-KB]   (default 1000000 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh >/dev/null
cargo build -q --release --target wasm32-wasip2 -p kafka-producer-component
cargo build -q --profile host -p kafka-producer-host
# The TLS front is a test helper: built once (its crate pulls in wasmtime
# with the tests' features, a long first build).
[ -x "$CARGO_TARGET_DIR/host/tls-front" ] || cargo build -q --profile host -p host-tests --bin tls-front
kcat=$(bash scripts/build_kcat.sh)
produce="$CARGO_TARGET_DIR/host/kafka-produce"
n_small=${1:-1000000}
n_large=${2:-200000}
runs=${KPC_BENCH_RUNS:-5}
rows_filter=${KPC_BENCH_ROWS:-}

work=$(mktemp -d)
free_port() { "$KPC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(free_port); secure=$(free_port); front=$(free_port)
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$plain" --advertised-listener-url "tcp://127.0.0.1:$plain" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
b_plain=$!
# The TLS rows' broker advertises the TLS front (rustls, host-tests' tls-front).
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$secure" --advertised-listener-url "tcp://127.0.0.1:$front" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
b_tls=$!
"$CARGO_TARGET_DIR/host/tls-front" "$front" "$secure" "$work/ca.pem" >"$work/front.log" 2>&1 &
f=$!
trap 'kill $b_plain $b_tls $f 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1

"$KPC_PYTHON" bench/make_lines.py "$n_small" 100 "$work/small"
"$KPC_PYTHON" bench/make_lines.py "$n_large" 1000 "$work/large"
tab=$(printf '\t')
results="$work/results.jsonl"
row=0
topic() { # port name: a fresh 6-partition topic
    "$TANSU_BIN" topic create "$2" --broker "tcp://127.0.0.1:$1" --partitions 6 >/dev/null
}
run() { # label peer records size broker-pid input bootstrap topic -X-args...
    local label=$1 peer=$2 n=$3 size=$4 pid=$5 input=$6 bootstrap=$7 t=$8
    shift 8
    local cmd
    case $peer in
        ours*) cmd=("$produce" -b "$bootstrap" -t "$t" -K "$tab" "$@") ;;
        kcat) cmd=("$kcat" -P -b "$bootstrap" -t "$t" -K "$tab" "$@") ;;
        confluent-kafka*) cmd=("$KPC_PYTHON" bench/librdkafka_produce.py "$bootstrap" "$t" "$input" \
                               $(printf '%s\n' "$@" | grep -v '^-X$')) ;;
    esac
    "$KPC_PYTHON" bench/whole_process.py run "$results" "$label" "$peer" "$n" "$size" "$pid" "$input" -- "${cmd[@]}"
}
bench_row() { # label records size input tls(0|1) -X-args...: ours and kcat, alternating who goes first
    local label=$1 n=$2 size=$3 input=$4 tls=$5
    shift 5
    [[ -z $rows_filter || $label =~ $rows_filter ]] || return 0
    local port=$plain bootstrap="127.0.0.1:$plain" pid=$b_plain x=("$@")
    if [ "$tls" = 1 ]; then
        port=$secure bootstrap="127.0.0.1:$front" pid=$b_tls
        x+=(-X security.protocol=ssl -X "ssl.ca.location=$work/ca.pem")
    fi
    row=$((row + 1))
    echo "$label (${x[*]:-defaults}):"
    local order=(ours kcat)
    [ $((row % 2)) = 0 ] && order=(kcat ours)
    for peer in "${order[@]}"; do
        topic "$port" "r$row-$peer"
        run "$label" "$peer" "$n" "$size" "$pid" "$input" "$bootstrap" "r$row-$peer" "${x[@]}"
        "$TANSU_BIN" topic delete "r$row-$peer" --broker "tcp://127.0.0.1:$port" >/dev/null 2>&1 || true
    done
}

# Warm the component's compile cache and the input files' pages.
topic "$plain" warm
head -1000 "$work/small" | "$produce" -b "127.0.0.1:$plain" -t warm -K "$tab" >/dev/null
head -1000 "$work/small" | "$kcat" -P -b "127.0.0.1:$plain" -t warm -K "$tab"
cat "$work/small" "$work/large" >/dev/null

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); 6 partitions; keys key-0..key-10006; $runs runs"
for run_no in $(seq "$runs"); do
echo "--- run $run_no of $runs"
for spec in "100 B|$n_small|100|$work/small" "1 KB|$n_large|1000|$work/large"; do
    IFS='|' read -r name n size input <<<"$spec"
    bench_row "$name, acks=1" "$n" "$size" "$input" 0 -X acks=1
    bench_row "$name, acks=1, lz4" "$n" "$size" "$input" 0 -X acks=1 -X compression.type=lz4
    bench_row "$name, idempotent" "$n" "$size" "$input" 0 -X enable.idempotence=true
    bench_row "$name, idempotent, lz4" "$n" "$size" "$input" 0 -X enable.idempotence=true -X compression.type=lz4
    bench_row "$name, acks=1, TLS" "$n" "$size" "$input" 1 -X acks=1
done
# Extra rows, each against kcat in its row: our batch.size at the Java
# client's default (16384) and at librdkafka's (1000000), beside ours
# (262144), and librdkafka driven from Python (confluent-kafka, one
# produce() per record).
extra() { # label records size input peer -X-args...
    local label=$1 n=$2 size=$3 input=$4 peer=$5
    shift 5
    [[ -z $rows_filter || "$label, $peer" =~ $rows_filter ]] || return 0
    row=$((row + 1))
    topic "$plain" "r$row"
    echo "$label, $peer:"
    run "$label" "$peer" "$n" "$size" "$b_plain" "$input" "127.0.0.1:$plain" "r$row" "$@"
    "$TANSU_BIN" topic delete "r$row" --broker "tcp://127.0.0.1:$plain" >/dev/null 2>&1 || true
}
for bs in 16384 1000000; do
    extra "100 B, acks=1" "$n_small" 100 "$work/small" "ours, batch.size=$bs" -X acks=1 -X batch.size=$bs
    extra "1 KB, acks=1" "$n_large" 1000 "$work/large" "ours, batch.size=$bs" -X acks=1 -X batch.size=$bs
done
extra "100 B, acks=1" "$n_small" 100 "$work/small" "confluent-kafka (Python loop)" -X acks=1
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$KPC_PYTHON" bench/whole_process.py table "$results"
