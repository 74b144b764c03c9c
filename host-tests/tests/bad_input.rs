//! Bad input gets a clear error and loses nothing: invalid config, records
//! too large, invalid partitions, unknown topics, unreachable brokers and
//! brokers that send garbage. The component never traps: a trap would make
//! the next call into it fail, and every test keeps calling it.

use std::time::Duration;

use host_tests::fake::{FakeBroker, Misbehaviour};
use host_tests::*;

#[test]
fn invalid_config_is_refused_with_the_key_named() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("bootstrap.servers", "localhost:9092"), ("linger.ms", "soon")], "linger.ms"),
        (&[("bootstrap.servers", "localhost:9092"), ("acks", "2")], "acks"),
        (&[("bootstrap.servers", "localhost:9092"), ("bacth.size", "1")], "bacth.size"),
        (&[("bootstrap.servers", "localhost")], "bootstrap.servers"),
        (&[("acks", "all")], "bootstrap.servers"),
        (&[("bootstrap.servers", "h:1"), ("compression.type", "brotli")], "compression.type"),
    ];
    for (config, key) in cases {
        match Client::new(runtime(), config).unwrap() {
            Ok(_) => panic!("{config:?} was accepted"),
            Err(e) => assert!(e.contains(&format!("`{key}`")), "{config:?}: error does not name {key}: {e}"),
        }
    }
}

#[test]
fn a_record_too_large_is_refused_alone() {
    let broker = Broker::start().unwrap();
    broker.create_topic("big", 1).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("message.max.bytes", "10000")]);
    let records = vec![keyed(b"a", b"small"), keyed(b"b", &[7u8; 20_000]), keyed(b"c", b"also small")];
    let outcome = c.send("big", &records).unwrap();
    assert_eq!(outcome.rejected.len(), 1);
    assert_eq!(outcome.rejected[0].index, 1);
    assert_eq!(outcome.rejected[0].error.kind, ErrorKind::RecordTooLarge);
    assert!(outcome.rejected[0].error.message.contains("message.max.bytes"), "{}", outcome.rejected[0].error.message);
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    let delivered: Vec<u64> = reports.iter().inspect(|r| assert!(r.error.is_none())).flat_map(|r| r.records.clone()).collect();
    assert_eq!(delivered, vec![outcome.first_id, outcome.first_id + 2]);
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "big", 1, 2).unwrap();
    let values: Vec<_> = read.iter().map(|r| r.value.clone().unwrap()).collect();
    assert_eq!(values, vec![b"small".to_vec(), b"also small".to_vec()]);
}

#[test]
fn an_invalid_partition_fails_that_record_only() {
    let broker = Broker::start().unwrap();
    broker.create_topic("three", 3).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap())]);
    let bad = KafkaRecord { partition: Some(3), ..keyed(b"k", b"v") };
    // Before metadata: the record waits, then fails with a report.
    let first = c.send("three", &[keyed(b"k", b"v"), bad.clone()]).unwrap();
    assert!(first.rejected.is_empty());
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    let failed: Vec<_> = reports.iter().filter(|r| r.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].records, vec![first.first_id + 1]);
    assert_eq!(failed[0].error.as_ref().unwrap().kind, ErrorKind::InvalidPartition);
    // Once the topic is known, it is refused at once.
    let second = c.send("three", &[bad, keyed(b"k", b"v2")]).unwrap();
    assert_eq!(second.rejected.len(), 1);
    assert_eq!(second.rejected[0].error.kind, ErrorKind::InvalidPartition);
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()) && reports.iter().map(|r| r.records.len()).sum::<usize>() == 1);
    assert_eq!(read_back(Reader::KafkaPython, &broker.bootstrap(), "three", 3, 2).unwrap().len(), 2);
}

/// Every record gets exactly one report, an error, within the timeout.
fn expect_all_fail(c: &mut Client, topic: &str, n: usize) -> Vec<DeliveryReport> {
    let records: Vec<KafkaRecord> = (0..n).map(|i| keyed(format!("k{i}").as_bytes(), b"v")).collect();
    let outcome = c.send(topic, &records).unwrap();
    assert!(outcome.rejected.is_empty());
    let reports = c.flush_and_wait(Duration::from_secs(60)).unwrap();
    let mut ids: Vec<u64> = reports.iter().flat_map(|r| r.records.clone()).collect();
    ids.sort();
    assert_eq!(ids, (outcome.first_id..outcome.first_id + n as u64).collect::<Vec<_>>(), "one report per record");
    for r in &reports {
        assert!(r.error.is_some(), "a record was reported delivered: {r:?}");
    }
    reports
}

const QUICK: [(&str, &str); 4] =
    [("delivery.timeout.ms", "2500"), ("request.timeout.ms", "1000"), ("linger.ms", "0"), ("socket.connection.setup.timeout.ms", "1000")];

fn quick_client(bootstrap: &str, extra: &[(&str, &str)]) -> Client {
    let mut config = vec![("bootstrap.servers", bootstrap)];
    config.extend_from_slice(&QUICK);
    config.extend_from_slice(extra);
    client(&config)
}

#[test]
fn unreachable_bootstrap_servers_time_every_record_out() {
    // A port nothing listens on.
    let port = free_port().unwrap();
    let mut c = quick_client(&format!("127.0.0.1:{port}"), &[]);
    let reports = expect_all_fail(&mut c, "t", 50);
    for r in &reports {
        let e = r.error.as_ref().unwrap();
        assert_eq!(e.kind, ErrorKind::TimedOut);
        assert!(e.message.contains("not present in metadata"), "{}", e.message);
    }
    assert!(c.warnings.iter().any(|w| w.contains("connect")), "{:?}", c.warnings);
}

#[test]
fn an_unknown_topic_times_out_with_a_clear_error() {
    let broker = Broker::start().unwrap();
    let mut c = quick_client(&broker.bootstrap(), &[("allow.auto.create.topics", "false")]);
    for r in expect_all_fail(&mut c, "no-such-topic", 10) {
        let e = r.error.unwrap();
        assert_eq!(e.kind, ErrorKind::TimedOut);
        assert!(e.message.contains("no-such-topic"), "{}", e.message);
    }
}

fn misbehaving(how: Misbehaviour, expect_warning: &str) {
    let fake = FakeBroker::start(how);
    let mut c = quick_client(&fake.bootstrap(), &[]);
    for r in expect_all_fail(&mut c, "t", 20) {
        assert_eq!(r.error.unwrap().kind, ErrorKind::TimedOut);
    }
    assert!(c.warnings.iter().any(|w| w.contains(expect_warning)), "no warning with {expect_warning:?}: {:?}", c.warnings);
    // The connection was dropped and retried with backoff, not hammered.
    let conns = fake.connections.load(std::sync::atomic::Ordering::Relaxed);
    assert!((1..=40).contains(&conns), "{conns} connections in 2.5 s");
    // The instance is alive and still takes records.
    assert!(c.send("t", &[keyed(b"k", b"v")]).unwrap().rejected.is_empty());
    c.step_now().unwrap();
}

#[test]
fn garbage_in_reply_to_api_versions_drops_the_connection() {
    misbehaving(Misbehaviour::GarbageFirst, "closed");
}

#[test]
fn garbage_metadata_drops_the_connection() {
    misbehaving(Misbehaviour::GarbageAfterApiVersions, "response");
}

#[test]
fn a_truncated_response_drops_the_connection() {
    misbehaving(Misbehaviour::TruncateAfterApiVersions, "closed");
}

#[test]
fn a_silent_broker_hits_the_request_timeout() {
    misbehaving(Misbehaviour::SilentAfterApiVersions, "request.timeout.ms");
}
