# Sourced by the benchmark scripts (after env.sh): starts a Tansu broker on
# a free loopback port, sets $port, and stops it (and removes $work) on exit.
work=$(mktemp -d)
port=$("$KPC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >/dev/null 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 0.5
