#!/usr/bin/env bash
# Each codec's throughput and ratio in wasm: the same generated JSON lines
# produced through the component (kafka-produce, wasmtime) to one Tansu
# broker with every compression.type; prints records/s, MB/s of payload and
# the bytes that crossed the wire relative to the payload.
#   bash scripts/bench_codecs.sh [records]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null 2>&1
. scripts/env.sh
n=${1:-200000}
. scripts/tansu.sh
"$KPC_PYTHON" -c "
import json, random
r = random.Random(7)
with open('$work/lines', 'w') as f:
    for i in range($n):
        f.write('user-%d\t%s\n' % (i % 5003, json.dumps({'user': 'user-%d' % (i % 5003), 'event': r.choice(['click', 'view', 'buy']), 'n': i, 'price': round(r.random() * 100, 2), 'tags': r.sample(['a', 'b', 'c', 'd', 'e', 'f'], 3)})))
"
printf '%-7s %12s %10s %14s\n' codec 'records/s' 'MB/s' 'wire/payload'
for codec in none gzip snappy lz4 zstd; do
    "$TANSU_BIN" topic create "t-$codec" --broker "tcp://127.0.0.1:$port" --partitions 6 >/dev/null
    out=$("$CARGO_TARGET_DIR/host/kafka-produce" -b "127.0.0.1:$port" -t "t-$codec" -l -K "$(printf '\t')" \
        -X compression.type=$codec -X linger.ms=5 -X batch.size=262144 "$work/lines")
    "$KPC_PYTHON" - "$codec" "$out" <<'PY'
import re, sys
codec, out = sys.argv[1], sys.argv[2]
m = lambda p: float(re.search(p, out).group(1))
print('%-7s %12.0f %10.2f %14.3f' % (codec, m(r'([0-9.]+) msgs/s'), m(r'([0-9.]+) MB/s'), m(r'wire: ([0-9]+) bytes') / m(r'bytes: ([0-9]+)')))
PY
done
