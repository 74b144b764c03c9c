#!/usr/bin/env bash
# What TLS costs: the component (kafka-produce, wasmtime) and librdkafka
# (confluent-kafka, OpenSSL) each produce the same lines to Tansu in
# plaintext, then with security.protocol=SSL through the same TLS front
# (host-tests' tls-front: rustls + ring, one thread per connection), in
# one run. Prints each run and the ratios.
#   bash scripts/bench_tls.sh [records] [value-bytes]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
. scripts/env.sh
cargo build --profile host -p host-tests --bin tls-front >/dev/null 2>&1 || cargo build --profile host -p host-tests --bin tls-front
n=${1:-300000}
size=${2:-100}
work=$(mktemp -d)
free() { "$KPC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(free); secure=$(free); front=$(free)
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$plain" --advertised-listener-url "tcp://127.0.0.1:$plain" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
b1=$!
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$secure" --advertised-listener-url "tcp://127.0.0.1:$front" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
b2=$!
"$CARGO_TARGET_DIR/host/tls-front" "$front" "$secure" "$work/ca.pem" >"$work/front.log" 2>&1 &
f=$!
trap 'kill $b1 $b2 $f 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1
for t in ours peer; do
    "$TANSU_BIN" topic create "$t" --broker "tcp://127.0.0.1:$plain" --partitions 6 >/dev/null
    "$TANSU_BIN" topic create "$t" --broker "tcp://127.0.0.1:$secure" --partitions 6 >/dev/null
done
"$KPC_PYTHON" bench/make_lines.py "$n" "$size" "$work/lines"
settings=(acks=all linger.ms=5 batch.size=1000000)
tls=(security.protocol=SSL "ssl.ca.location=$work/ca.pem")
echo "$n records of key-N + $size-byte values, 6 partitions, ${settings[*]}"
ours() { "$CARGO_TARGET_DIR/host/kafka-produce" -b "$1" -t ours -l -K "$(printf '\t')" $(printf -- '-X %s ' "${@:2}") "$work/lines"; }
peer() { "$KPC_PYTHON" bench/librdkafka_produce.py "$1" peer "$work/lines" "${@:2}"; }
ours_plain=$(ours "127.0.0.1:$plain" "${settings[@]}")
echo "component, plaintext:   $ours_plain"
ours_tls=$(ours "127.0.0.1:$front" "${settings[@]}" "${tls[@]}")
echo "component, TLS:         $ours_tls"
peer_plain=$(peer "127.0.0.1:$plain" "${settings[@]}")
echo "librdkafka, plaintext:  $peer_plain"
peer_tls=$(peer "127.0.0.1:$front" "${settings[@]}" "${tls[@]}")
echo "librdkafka, TLS:        $peer_tls"
rate() { sed -E 's/.* ([0-9]+) msgs\/s.*/\1/' <<<"$1"; }
"$KPC_PYTHON" -c "
o, ot, p, pt = $(rate "$ours_plain"), $(rate "$ours_tls"), $(rate "$peer_plain"), $(rate "$peer_tls")
print('TLS / plaintext: component %.2f, librdkafka %.2f' % (ot / o, pt / p))
print('component / librdkafka: plaintext %.2f, TLS %.2f' % (o / p, ot / pt))
"
