#!/usr/bin/env python3
"""The librdkafka peer for scripts/bench.sh: produces the lines of a file
with confluent-kafka (librdkafka inside), same settings as our run, and
prints the same summary line as kafka-produce."""
import sys
import time

from confluent_kafka import Producer


def main():
    bootstrap, topic, path = sys.argv[1:4]
    props = dict(a.split("=", 1) for a in sys.argv[4:])
    lines = [l.rstrip(b"\n") for l in open(path, "rb")]
    failed = delivered = 0

    def report(err, _msg):
        nonlocal failed, delivered
        if err:
            failed += 1
        else:
            delivered += 1

    p = Producer({"bootstrap.servers": bootstrap, **props})
    start = time.perf_counter()
    nbytes = 0
    for line in lines:
        k, _, v = line.partition(b"\t")
        nbytes += len(k) + len(v)
        while True:
            try:
                p.produce(topic, v, k, on_delivery=report)
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    p.flush(600)
    secs = time.perf_counter() - start
    print(f"records: {len(lines)}  delivered: {delivered}  failed: {failed}  bytes: {nbytes}  time: {secs:.3f} s  "
          f"{delivered / secs:.0f} msgs/s  {nbytes / secs / 1e6:.2f} MB/s")


if __name__ == "__main__":
    main()
