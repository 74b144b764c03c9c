//! Produce through the engine component into a real Tansu broker, read back
//! with kafka-python or confluent-kafka, check every byte.

use host_tests::*;

fn round_trip(acks: &str, reader: Reader, partitions: u32, n: usize) {
    let broker = Broker::start().unwrap();
    broker.create_topic("t", partitions).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("acks", acks)]);
    let produced = produce_all(&mut c, "t", mixed_records(n), 500).unwrap();
    let read = read_back(reader, &broker.bootstrap(), "t", partitions, n).unwrap();
    assert_eq!(verify(&produced, &read, acks != "0").unwrap(), 0, "every offset reported");
    let used: std::collections::BTreeSet<i32> = read.iter().map(|r| r.partition).collect();
    assert_eq!(used.len(), partitions as usize, "records spread over every partition");
    // The engine world's statistics count what the reader found.
    let s = c.statistics().unwrap();
    assert_eq!((s.msgs, s.txmsgs, s.msgs_failed, s.msg_cnt), (n as u64, n as u64, 0, 0), "acks={acks}");
    let topic = s.topics.iter().find(|t| t.topic == "t").unwrap();
    for p in &topic.partitions {
        assert_eq!(p.txmsgs, read.iter().filter(|r| r.partition == p.partition).count() as u64, "partition {}", p.partition);
    }
    let bytes: u64 = topic.partitions.iter().map(|p| p.txbytes).sum();
    assert_eq!(bytes, s.txmsg_bytes);
    if acks != "0" {
        assert_eq!(s.tx, s.rx, "every request answered");
    }
}

#[test]
fn acks_all_keys_nulls_headers_timestamps_read_by_kafka_python() {
    round_trip("all", Reader::KafkaPython, 4, 5_000);
}

#[test]
fn acks_1_read_by_confluent_kafka() {
    round_trip("1", Reader::Confluent, 3, 5_000);
}

#[test]
fn acks_0_delivers_every_record_in_order() {
    round_trip("0", Reader::KafkaPython, 3, 3_000);
}

#[test]
fn explicit_partitions_are_honoured() {
    let broker = Broker::start().unwrap();
    broker.create_topic("p", 5).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap())]);
    let records: Vec<KafkaRecord> = (0..1_000)
        .map(|i| KafkaRecord { partition: Some((i * 7 % 5) as i32), ..keyed(format!("k{i}").as_bytes(), b"v") })
        .collect();
    let produced = produce_all(&mut c, "p", records, 100).unwrap();
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "p", 5, 1_000).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
}

#[test]
fn values_from_0_bytes_to_1_mb() {
    let broker = Broker::start().unwrap();
    broker.create_topic("sizes", 2).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("linger.ms", "0")]);
    let sizes = [0usize, 1, 100, 16_383, 16_384, 100_000, 500_000, 1_000_000];
    let records: Vec<KafkaRecord> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| keyed(format!("size-{n}").as_bytes(), &(0..n).map(|j| (j * 31 + i) as u8).collect::<Vec<u8>>()))
        .collect();
    let produced = produce_all(&mut c, "sizes", records, 3).unwrap();
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "sizes", 2, sizes.len()).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
}

#[test]
fn hundred_thousand_records_in_one_run() {
    let broker = Broker::start().unwrap();
    broker.create_topic("bulk", 6).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("linger.ms", "10"), ("batch.size", "65536")]);
    let records: Vec<KafkaRecord> =
        (0..100_000).map(|i| keyed(format!("key-{}", i % 1013).as_bytes(), format!("{{\"n\":{i}}}").as_bytes())).collect();
    let produced = produce_all(&mut c, "bulk", records, 2_000).unwrap();
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "bulk", 6, 100_000).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
}

#[test]
fn packed_sends_carry_the_same_records() {
    let broker = Broker::start().unwrap();
    broker.create_topic("packed", 4).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap())]);
    let records = mixed_records(5_000);
    let mut packed = kafka_producer_host::Packed::default();
    for r in &records {
        let headers: Vec<kafka_producer_component::Header<'_>> =
            r.headers.iter().map(|h| kafka_producer_component::Header { key: &h.key, value: h.value.as_deref() }).collect();
        packed.push(&kafka_producer_component::Record {
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: &headers,
            partition: r.partition,
            timestamp: r.timestamp,
        });
    }
    let sent_from_ms = now_ms();
    let sent = c.send_all_packed("packed", &packed, std::time::Duration::from_secs(60)).unwrap();
    assert!(sent.rejected.is_empty());
    let sent_to_ms = now_ms();
    let mut reports = sent.reports;
    reports.extend(c.flush_and_wait(std::time::Duration::from_secs(60)).unwrap());
    let produced = Produced { records, ids: sent.ids, reports, sent_from_ms, sent_to_ms };
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "packed", 4, 5_000).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
}
