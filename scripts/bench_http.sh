#!/usr/bin/env bash
# Latency of the HTTP-to-Kafka plugin on loopback: single-record POSTs
# (REST Proxy v2, binary embedded format) to `wasmtime serve` in front of a
# local Tansu broker, one at a time, each on a new HTTP connection. Each
# request is a fresh instance of the component that opens its producer,
# connects to the broker, fetches metadata, produces with acks=all and
# answers after the ack: all of that is in the figure. For comparison, the
# same requests refused before any Kafka work (405): HTTP and instance only.
#   bash scripts/bench_http.sh [REQUESTS]      (default 1000, after 50 warm-up)
# KAFKA_* variables in the environment are passed to the plugin, e.g.
#   KAFKA_ENABLE_IDEMPOTENCE=true bash scripts/bench_http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
bash scripts/setup.sh >/dev/null
. scripts/env.sh
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/http-proxy" cargo build -q --release --target wasm32-wasip2 -p kafka-http-proxy
wasm="$CARGO_TARGET_DIR/http-proxy/wasm32-wasip2/release/kafka_http_proxy.wasm"
. scripts/tansu.sh
"$TANSU_BIN" topic create bench --broker "tcp://127.0.0.1:$port" --partitions 3 >/dev/null
props=()
while IFS='=' read -r name _; do
    case "$name" in KAFKA_BOOTSTRAP_SERVERS|KAFKA_PRODUCER_WASM) ;; KAFKA_?*) props+=(--env "$name") ;; esac
done < <(env)
http=$("$KPC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$KPC_WASMTIME" serve -S cli=y -S inherit-network=y --addr "127.0.0.1:$http" \
    --env "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port" ${props[@]+"${props[@]}"} "$wasm" >"$work/serve.log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null || true; kill $broker 2>/dev/null || true; rm -rf "$work"' EXIT
echo "component: $(stat -c %s "$wasm") bytes; $n requests; ${props[*]:-defaults}"
"$KPC_PYTHON" - "$http" "$n" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
body = json.dumps({"records": [{"key": "a2V5", "value": "aGVsbG8="}]})
headers = {"Content-Type": "application/vnd.kafka.binary.v2+json"}

def once(method="POST"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t = time.perf_counter()
    c.request(method, "/topics/bench", body, headers)
    r = c.getresponse()
    answer = json.loads(r.read())
    dt = time.perf_counter() - t
    c.close()
    if method == "POST":
        o = answer["offsets"][0]
        assert r.status == 200 and o["error_code"] is None and o["offset"] >= 0, answer
    else:
        assert r.status == 405, answer
    return dt * 1000

deadline = time.time() + 120
while True:  # until wasmtime serve has compiled the component and listens
    try:
        once(); break
    except (ConnectionRefusedError, ConnectionResetError):
        if time.time() > deadline: raise
        time.sleep(0.1)
for _ in range(50):
    once()
def report(what, ms):
    ms.sort()
    pct = lambda p: ms[min(len(ms) - 1, int(p / 100 * len(ms)))]
    print(f"{what}: p50 {pct(50):.2f} ms  p90 {pct(90):.2f} ms  p99 {pct(99):.2f} ms  max {ms[-1]:.2f} ms  ({len(ms)} requests)")

report("single-record POST, loopback, acks=all", [once() for _ in range(n)])
# The same request refused before any Kafka work (PUT: 405): the cost of
# the HTTP exchange and a fresh instance alone.
report("no produce (PUT, 405)             ", [once("PUT") for _ in range(n)])
PY
