#!/usr/bin/env bash
# Serves the HTTP-to-Kafka plugin (examples/http-proxy) with `wasmtime
# serve`: REST Proxy v2 produce requests (POST /topics/{topic}) in, Kafka
# records out. Builds the plugin first if needed (after scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: bash scripts/serve.sh [--addr HOST:PORT] [-b BOOTSTRAP] [-X KEY=VALUE]... [--max-body BYTES] [--dir DIR]...

  --addr HOST:PORT   where to listen (default 127.0.0.1:8082, the REST Proxy's port)
  -b BOOTSTRAP       Kafka bootstrap servers, host:port[,host:port...] (default localhost:9092)
  -X KEY=VALUE       a producer property (e.g. -X acks=1 -X compression.type=lz4),
                     passed to the plugin as KAFKA_<KEY upper-cased, dots as underscores>
  --max-body BYTES   the largest request body taken (default 4194304; larger: 413)
  --dir DIR          let the plugin read DIR (e.g. the CA file of -X ssl.ca.location=DIR/ca.pem)
  -h                 this help

KAFKA_* variables already in the environment are passed on too. Example:
  bash scripts/serve.sh --addr 127.0.0.1:8082 -b localhost:9092 &
  curl -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' \
       --data '{"records":[{"key":"k","value":{"n":1}}]}' http://127.0.0.1:8082/topics/events
USAGE
}

addr=127.0.0.1:8082
bootstrap=localhost:9092
envs=()
dirs=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --addr) addr=${2:?--addr needs HOST:PORT}; shift 2 ;;
        -b) bootstrap=${2:?-b needs BOOTSTRAP}; shift 2 ;;
        -X) kv=${2:?-X needs KEY=VALUE}
            case "$kv" in *=*) ;; *) echo "serve.sh: -X $kv is not KEY=VALUE" >&2; exit 2 ;; esac
            key=${kv%%=*}; key=${key//./_}
            envs+=(--env "KAFKA_${key^^}=${kv#*=}"); shift 2 ;;
        --dir) dirs+=(--dir "${2:?--dir needs DIR}"); shift 2 ;;
        --max-body) envs+=(--env "HTTP_MAX_BODY_BYTES=${2:?--max-body needs BYTES}"); shift 2 ;;
        *) echo "serve.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

bash scripts/setup.sh >&2
. scripts/env.sh
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/http-proxy" cargo build --release --target wasm32-wasip2 -p kafka-http-proxy >&2
wasm="$CARGO_TARGET_DIR/http-proxy/wasm32-wasip2/release/kafka_http_proxy.wasm"
# KAFKA_* from the environment first, so -X wins (KAFKA_PRODUCER_WASM is
# env.sh's path to the engine component, not a property).
inherited=()
while IFS='=' read -r name _; do
    case "$name" in KAFKA_BOOTSTRAP_SERVERS|KAFKA_PRODUCER_WASM) ;; KAFKA_?*) inherited+=(--env "$name") ;; esac
done < <(env)
exec "$KPC_WASMTIME" serve -S cli=y -S inherit-network=y -S allow-ip-name-lookup=y --addr "$addr" \
    --env "KAFKA_BOOTSTRAP_SERVERS=$bootstrap" ${inherited[@]+"${inherited[@]}"} ${envs[@]+"${envs[@]}"} \
    ${dirs[@]+"${dirs[@]}"} "$wasm"
