#!/usr/bin/env python3
"""Independent reader for the host tests: consumes a topic from the start
with a Kafka client nobody in this project wrote (kafka-python or
confluent-kafka) and prints one JSON object per record on stdout:

  {"p": partition, "o": offset, "k": hex|null, "v": hex|null,
   "h": [[key, hex|null], ...], "ts": timestamp, "m2": partition}

"m2" is where kafka-python's own port of the Java client's murmur2
partitioner puts the record's key (null for keyless records), so the test
can compare partitions against an implementation that is not ours.

READER_SASL_MECHANISM / _USERNAME / _PASSWORD make the confluent reader
authenticate (SASL_PLAINTEXT); READER_SSL_CAFILE makes either reader
connect with TLS, trusting that CA (SSL, or SASL_SSL with SASL);
READER_SSL_NO_HOSTNAME_CHECK=1 skips the broker name check.

Tansu's ListOffsets high watermark is unreliable, so the reader stops after
`expect` records or after `idle` seconds without a new one.
"""
import json
import os
import sys
import time


def hx(b):
    return None if b is None else b.hex()


def read_kafka_python(bootstrap, topic, partitions, expect, idle):
    from kafka import KafkaConsumer, TopicPartition

    tls = {}
    if os.environ.get("READER_SSL_CAFILE"):
        tls = {
            "security_protocol": "SSL",
            "ssl_cafile": os.environ["READER_SSL_CAFILE"],
            "ssl_check_hostname": not os.environ.get("READER_SSL_NO_HOSTNAME_CHECK"),
            "ssl_certfile": os.environ.get("READER_SSL_CERTFILE"),
            "ssl_keyfile": os.environ.get("READER_SSL_KEYFILE"),
        }
    c = KafkaConsumer(
        **tls,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=int(idle * 1000),
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    n = 0
    for m in c:
        yield m.partition, m.offset, m.key, m.value, [(k, v) for k, v in (m.headers or [])], m.timestamp
        n += 1
        if n >= expect:
            break
    c.close()


def read_confluent(bootstrap, topic, partitions, expect, idle):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "reader",
        "enable.auto.commit": False,
        "api.version.request": True,
        "fetch.message.max.bytes": 16 * 1024 * 1024,
        "receive.message.max.bytes": 128 * 1024 * 1024,
    }
    if os.environ.get("READER_SASL_MECHANISM"):
        conf.update({
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": os.environ["READER_SASL_MECHANISM"],
            "sasl.username": os.environ["READER_SASL_USERNAME"],
            "sasl.password": os.environ["READER_SASL_PASSWORD"],
        })
    if os.environ.get("READER_SSL_CAFILE"):
        conf.update({
            "security.protocol": "SASL_SSL" if os.environ.get("READER_SASL_MECHANISM") else "SSL",
            "ssl.ca.location": os.environ["READER_SSL_CAFILE"],
        })
        if os.environ.get("READER_SSL_NO_HOSTNAME_CHECK"):
            conf["ssl.endpoint.identification.algorithm"] = "none"
        if os.environ.get("READER_SSL_CERTFILE"):
            conf["ssl.certificate.location"] = os.environ["READER_SSL_CERTFILE"]
            conf["ssl.key.location"] = os.environ["READER_SSL_KEYFILE"]
    c = Consumer(conf)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    n = 0
    last = time.time()
    while n < expect and time.time() - last < idle:
        batch = c.consume(num_messages=10000, timeout=0.2)
        for m in batch:
            if m.error():
                raise SystemExit(f"reader: {m.error()}")
            last = time.time()
            yield m.partition(), m.offset(), m.key(), m.value(), list(m.headers() or []), m.timestamp()[1]
            n += 1
    c.close()


def main():
    client, bootstrap, topic, partitions, expect, idle = sys.argv[1:7]
    partitions, expect, idle = int(partitions), int(expect), float(idle)
    from kafka.partitioner.default import murmur2

    read = read_kafka_python if client == "kafka-python" else read_confluent
    out = sys.stdout
    for p, o, k, v, h, ts in read(bootstrap, topic, partitions, expect, idle):
        m2 = None if k is None else (murmur2(k) & 0x7FFFFFFF) % partitions
        out.write(json.dumps({"p": p, "o": o, "k": hx(k), "v": hx(v), "h": [[hk, hx(hv)] for hk, hv in h], "ts": ts, "m2": m2}))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
