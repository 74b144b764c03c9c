#!/usr/bin/env bash
# First ack of one record, whole process: from exec to the command's exit
# after its one record is acknowledged (acks=all, linger.ms=0), against one
# local Tansu broker, median of $RUNS runs (default 21), runs interleaved:
#   - kafka-kcat under `wasmtime run`, precompiled (`wasmtime compile`,
#     run with --allow-precompiled), and from the .wasm with the wasmtime
#     CLI's own compile cache warm;
#   - kafka-produce, the embedding, its compile cache warm.
#   bash scripts/bench_first_ack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null 2>&1
. scripts/env.sh
. scripts/tansu.sh
"$TANSU_BIN" topic create t --broker "tcp://127.0.0.1:$port" --partitions 1 >/dev/null
kcat="$CARGO_TARGET_DIR/kcat/wasm32-wasip2/release/kafka-kcat.wasm"
# The venv's `wasmtime` is a Python shim that execs the binary (about 80 ms
# of Python start-up): time the binary itself.
wasmtime=$("$KPC_PYTHON" -c 'import wasmtime_cli; print(wasmtime_cli._binary_path())' 2>/dev/null || echo "$KPC_WASMTIME")
"$wasmtime" compile "$kcat" -o "$work/kafka-kcat.cwasm"
args="-b 127.0.0.1:$port -t t -X linger.ms=0 -q"
export KPC_CACHE="$work/kpc"   # kafka-produce's private compile cache
"$KPC_PYTHON" - <<PY
import statistics, subprocess, sys, time
runs = int("${RUNS:-21}")
cmds = {
    "wasmtime run kafka-kcat.cwasm (precompiled)": "$wasmtime run -S inherit-network=y --allow-precompiled $work/kafka-kcat.cwasm $args",
    "wasmtime run kafka-kcat.wasm (CLI cache warm)": "$wasmtime run -S inherit-network=y $kcat $args",
    "kafka-produce (compile cache warm)": "$CARGO_TARGET_DIR/host/kafka-produce $args",
}
def once(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd.split(), input=b"hello\n", capture_output=True)
    dt = time.perf_counter() - t
    if p.returncode != 0 or b"delivered: 1 " not in p.stdout:
        sys.exit(f"{cmd}: status {p.returncode}\n{p.stdout.decode()}{p.stderr.decode()}")
    return dt * 1000
for cmd in cmds.values():   # warm-up: fills the compile caches, creates nothing new
    once(cmd); once(cmd)
times = {name: [] for name in cmds}
for _ in range(runs):
    for name, cmd in cmds.items():
        times[name].append(once(cmd))
print(f"first ack of one record, whole process, {runs} runs each (ms); $("$wasmtime" --version)")
for name, ts in times.items():
    print(f"  {name:48} median {statistics.median(ts):6.1f}  min {min(ts):6.1f}  max {max(ts):6.1f}")
PY
