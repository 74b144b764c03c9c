#!/usr/bin/env bash
# Start-up of the main job: one record produced by kafka-produce to a Tansu
# broker, whole process, with the compile cache cold (emptied before each
# run), warm, and disabled (KPC_NO_COMPILE_CACHE=1), and with a precompiled
# .cwasm given as --component. Needs hyperfine (apt-get install hyperfine).
#   bash scripts/bench_startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null 2>&1
. scripts/env.sh
. scripts/tansu.sh
bin="$CARGO_TARGET_DIR/host/kafka-produce"
export KPC_CACHE="$work/kpc"   # a private compile cache: $KPC_CACHE/compiled
echo hello >"$work/one.txt"
run="$bin -b 127.0.0.1:$port -t t -l $work/one.txt"
$run >/dev/null   # creates the topic, fills the cache
cp "$KPC_CACHE"/compiled/*.cwasm "$work/producer.cwasm"
hyperfine -N --runs 5 --prepare "rm -rf $KPC_CACHE/compiled" -n cold "$run"
hyperfine -N --warmup 3 --runs 100 -n warm "$run" -n cwasm "$bin -b 127.0.0.1:$port -t t --component $work/producer.cwasm -l $work/one.txt" -n "process only (kafka-produce -h)" "$bin -h"
KPC_NO_COMPILE_CACHE=1 hyperfine -N --runs 5 -n disabled "$run"
