//! Every codec end to end: produced through the component to Tansu, read
//! back byte-exact by kafka-python and by confluent-kafka (librdkafka),
//! with compressible records, incompressible ones and a 1 MB record.

use host_tests::*;

fn noise(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn round_trip(codec: &str) {
    let broker = Broker::start().unwrap();
    broker.create_topic("z", 3).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("compression.type", codec), ("linger.ms", "5"), ("batch.size", "65536")]);
    let mut records: Vec<KafkaRecord> = (0..3_000)
        .map(|i| {
            let value = format!("{{\"user\":\"user-{}\",\"event\":\"click\",\"n\":{i},\"pad\":\"{}\"}}", i % 89, "abc".repeat(i % 40));
            KafkaRecord {
                headers: vec![Header { key: "codec".into(), value: Some(codec.as_bytes().to_vec()) }],
                ..keyed(format!("user-{}", i % 89).as_bytes(), value.as_bytes())
            }
        })
        .collect();
    let compressible: usize = records.iter().map(|r| r.value.as_ref().unwrap().len()).sum();
    // Compressible records go first and alone, to measure what crossed the wire.
    let first = produce_all(&mut c, "z", records.clone(), 500).unwrap();
    let wire = c.stats().bytes_sent;
    assert!(wire * 2 < compressible as u64, "{codec}: {wire} bytes sent for {compressible} bytes of text: not compressed");
    // Then incompressible values, nulls and one record of 1 MB.
    let more: Vec<KafkaRecord> = (0..40)
        .map(|i| keyed(format!("noise-{i}").as_bytes(), &noise(i, 10_000)))
        .chain([KafkaRecord { value: None, ..keyed(b"null-value", b"") }, keyed(b"big", &noise(7, 1_000_000))])
        .collect();
    let second = produce_all(&mut c, "z", more.clone(), 10).unwrap();
    records.extend(more);
    let all = Produced {
        records,
        ids: first.ids.iter().chain(&second.ids).copied().collect(),
        reports: first.reports.into_iter().chain(second.reports).collect(),
        sent_from_ms: first.sent_from_ms,
        sent_to_ms: second.sent_to_ms,
    };
    for reader in [Reader::KafkaPython, Reader::Confluent] {
        let read = read_back(reader, &broker.bootstrap(), "z", 3, all.records.len()).unwrap();
        assert_eq!(verify(&all, &read, true).unwrap(), 0, "{codec} read by {reader:?}");
    }
}

#[test]
fn gzip() {
    round_trip("gzip");
}

#[test]
fn snappy() {
    round_trip("snappy");
}

#[test]
fn lz4() {
    round_trip("lz4");
}

#[test]
fn zstd() {
    round_trip("zstd");
}
