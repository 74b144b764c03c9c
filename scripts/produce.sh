#!/usr/bin/env bash
# The main job: produce lines to Kafka through the engine component and
# print a delivery summary. With no arguments it starts an embedded Tansu
# broker, produces 100,000 generated keyed lines ("key<TAB>value") to the
# topic `lines`, and stops the broker. Any arguments go to kafka-produce
# (see `bash scripts/produce.sh -h`), e.g.:
#   bash scripts/produce.sh -b localhost:9092 -t events -l -K : events.txt
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >&2
. scripts/env.sh
bin="$CARGO_TARGET_DIR/host/kafka-produce"
if [ $# -eq 0 ]; then
    echo "producing 100000 generated lines to an embedded broker" >&2
    seq 1 100000 | awk '{ printf "user-%d\t{\"n\":%d,\"payload\":\"%s\"}\n", $1 % 977, $1, "lorem-ipsum-dolor-sit-amet" }' \
        | "$bin" -t lines -K "$(printf '\t')"
else
    exec "$bin" "$@"
fi
