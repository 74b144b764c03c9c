#!/usr/bin/env bash
# What TLS costs: the component (kafka-produce, wasmtime) and librdkafka
# (confluent-kafka, OpenSSL) each produce the same lines to Tansu in
# plaintext, then with security.protocol=SSL through the same TLS front
# (host-tests' tls-front: rustls + ring, one thread per connection), in
# one run. Prints each run and the ratios. The component also runs through
# two fronts that pick the cipher suite by their own preference,
# AES-256-GCM first (as an OpenSSL broker does): TLS 1.3 and TLS 1.2.
#   bash scripts/bench_tls.sh [records] [value-bytes]
# KAFKA_PRODUCER_WASM=other.wasm KPC_BENCH_NO_BUILD=1 measures another
# build of the engine component (e.g. before and after a change).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KPC_BENCH_NO_BUILD:-}" ] || bash scripts/build.sh >/dev/null
. scripts/env.sh
cargo build --profile host -p host-tests --bin tls-front >/dev/null 2>&1 || cargo build --profile host -p host-tests --bin tls-front
n=${1:-300000}
size=${2:-100}
work=$(mktemp -d)
free() { "$KPC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(free)
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$plain" --advertised-listener-url "tcp://127.0.0.1:$plain" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
# A Tansu behind a TLS front (its own CA, written to $work/NAME.pem) that
# chooses the cipher suite as CHOICE says; Tansu advertises the front.
#   secure NAME CHOICE  -> sets front_NAME (the front's port), tansu_NAME
secure() {
    local tansu front
    tansu=$(free); front=$(free)
    "$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$tansu" --advertised-listener-url "tcp://127.0.0.1:$front" \
        --storage-engine memory://tansu/ >/dev/null 2>&1 &
    pids+=($!)
    "$CARGO_TARGET_DIR/host/tls-front" "$front" "$tansu" "$work/$1.pem" "$2" >"$work/$1.log" 2>&1 &
    pids+=($!)
    printf -v "front_$1" %s "$front"
    printf -v "tansu_$1" %s "$tansu"
}
secure front client-order
secure front13 tls13-aes256
secure front12 tls12-aes256
sleep 1
for t in ours peer; do
    for port in "$plain" "$tansu_front" "$tansu_front13" "$tansu_front12"; do
        "$TANSU_BIN" topic create "$t" --broker "tcp://127.0.0.1:$port" --partitions 6 >/dev/null
    done
done
"$KPC_PYTHON" bench/make_lines.py "$n" "$size" "$work/lines"
settings=(acks=all linger.ms=5 batch.size=1000000)
tls=(security.protocol=SSL "ssl.ca.location=$work/front.pem")
echo "$n records of key-N + $size-byte values, 6 partitions, ${settings[*]}"
# The suites the front negotiated (each connection's handshake).
suite() { grep -h '^handshake: ' "$work/$1.log" | sed 's/^handshake: //' | sort | uniq -c | sed -E 's/^ *([0-9]+) (.*)/\2 x\1/' | paste -sd, -; }
ours() { "$CARGO_TARGET_DIR/host/kafka-produce" -b "$1" -t ours -l -K "$(printf '\t')" $(printf -- '-X %s ' "${@:2}") "$work/lines"; }
peer() { "$KPC_PYTHON" bench/librdkafka_produce.py "$1" peer "$work/lines" "${@:2}"; }
ours_plain=$(ours "127.0.0.1:$plain" "${settings[@]}")
echo "component, plaintext:   $ours_plain"
ours_tls=$(ours "127.0.0.1:$front_front" "${settings[@]}" "${tls[@]}")
echo "component, TLS:         $ours_tls  [$(suite front)]"
ours_13=$(ours "127.0.0.1:$front_front13" "${settings[@]}" security.protocol=SSL "ssl.ca.location=$work/front13.pem")
echo "component, TLS server order 1.3: $ours_13  [$(suite front13)]"
ours_12=$(ours "127.0.0.1:$front_front12" "${settings[@]}" security.protocol=SSL "ssl.ca.location=$work/front12.pem")
echo "component, TLS server order 1.2: $ours_12  [$(suite front12)]"
peer_plain=$(peer "127.0.0.1:$plain" "${settings[@]}")
echo "librdkafka, plaintext:  $peer_plain"
peer_tls=$(peer "127.0.0.1:$front_front" "${settings[@]}" "${tls[@]}")
echo "librdkafka, TLS:        $peer_tls"
rate() { sed -E 's/.* ([0-9]+) msgs\/s.*/\1/' <<<"$1"; }
"$KPC_PYTHON" -c "
o, ot, p, pt = $(rate "$ours_plain"), $(rate "$ours_tls"), $(rate "$peer_plain"), $(rate "$peer_tls")
o13, o12 = $(rate "$ours_13"), $(rate "$ours_12")
print('TLS / plaintext: component %.2f, librdkafka %.2f' % (ot / o, pt / p))
print('component TLS / plaintext, server order: TLS 1.3 %.2f, TLS 1.2 %.2f' % (o13 / o, o12 / o))
print('component / librdkafka: plaintext %.2f, TLS %.2f' % (o / p, ot / pt))
"
