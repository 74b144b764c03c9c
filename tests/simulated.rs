//! The producer core against a simulated cluster: deterministic scenarios
//! of what a Kafka user relies on, faults included.

mod sim;

use kafka_producer_component::{ErrorKind, Record};
use sim::{Fault, Rng, Sim};

#[test]
fn every_record_is_delivered_once_in_send_order() {
    let mut sim = Sim::new(3, &[("t", 6)]);
    let mut p = sim.producer(&[("linger.ms", "5"), ("batch.size", "1024")]);
    let ids = sim.send_n(&mut p, "t", 2_000);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    // The log holds each record once, where its report says, in order.
    sim.check_delivery(true);
    let total: usize = sim.topics["t"].iter().map(|p| p.log.len()).sum();
    assert_eq!(total, 2_000);
    assert_eq!(p.unreported(), 0);
    assert_eq!(p.poll_timeout().map(|t| t > sim.now + 60_000), Some(true), "only the metadata refresh is left");
}

#[test]
fn every_negotiable_version_round_trips() {
    // Classic encodings (Produce v3-v8, Metadata v4-v8) and flexible ones,
    // each chosen by negotiation as the highest both sides support.
    for (produce, metadata) in [(3, 4), (5, 6), (7, 8), (8, 9), (9, 10), (10, 11), (11, 12), (11, 13)] {
        let mut sim = Sim::new(2, &[("t", 3)]);
        sim.max_produce_version = produce;
        sim.max_metadata_version = metadata;
        let mut p = sim.producer(&[("linger.ms", "1")]);
        let ids = sim.send_n(&mut p, "t", 300);
        sim.run(&mut p, sim.now + 5_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "v{produce}: {:?}", sim.reports[0].error);
        assert_eq!(sim.topics["t"].iter().map(|p| p.log.len()).sum::<usize>(), 300);
        assert!(sim.produce_versions_seen.iter().all(|&v| v == produce), "{:?}", sim.produce_versions_seen);
        assert!(sim.metadata_versions_seen.iter().all(|&v| v == metadata.min(12)));
    }
}

#[test]
fn a_broker_without_a_common_version_is_reported_not_used() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.max_produce_version = 2; // Kafka before RecordBatch v2
    let mut p = sim.producer(&[("delivery.timeout.ms", "3000"), ("request.timeout.ms", "1000"), ("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 3);
    sim.run(&mut p, sim.now + 3_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.warnings.iter().any(|w| w.contains("no common protocol version")), "{:?}", sim.warnings);
    assert_eq!(sim.produce_requests, 0);
}

#[test]
fn linger_holds_a_batch_until_it_expires_or_a_flush() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "1000")]);
    sim.send_n(&mut p, "t", 1);
    let start = sim.now;
    sim.run(&mut p, start + 999);
    assert!(sim.reports.is_empty(), "sent before linger.ms");
    sim.run(&mut p, start + 1_000);
    assert_eq!(sim.reports.len(), 1);
    sim.send_n(&mut p, "t", 1);
    p.flush();
    let t = sim.now;
    sim.run(&mut p, t);
    assert_eq!(sim.reports.len(), 2, "flush ignores linger.ms");
}

#[test]
fn retriable_errors_are_retried_and_fatal_ones_reported() {
    let mut sim = Sim::new(1, &[("t", 2)]);
    // Partition 0: two retriable errors, then success. Partition 1: fatal.
    sim.faults.insert(("t".into(), 0), [Fault::Error(7), Fault::Error(19)].into());
    sim.faults.insert(("t".into(), 1), [Fault::Error(10)].into());
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let r0 = sim.send(&mut p, "t", &Record { partition: Some(0), value: Some(b"a"), ..Default::default() }).unwrap();
    let r1 = sim.send(&mut p, "t", &Record { partition: Some(1), value: Some(b"b"), ..Default::default() }).unwrap();
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each([r0, r1]);
    let report = |id| sim.reports.iter().find(|r| r.records.contains(&id)).unwrap();
    assert_eq!(report(r0).error, None);
    assert_eq!(report(r0).base_offset, 0, "appended once");
    let e = report(r1).error.as_ref().unwrap();
    assert_eq!((e.kind, e.code), (ErrorKind::Broker, 10));
    assert!(e.message.contains("MESSAGE_TOO_LARGE"), "{}", e.message);
    assert_eq!(sim.topics["t"][0].log.len(), 1);
    assert!(sim.topics["t"][1].log.is_empty());
}

#[test]
fn retries_stop_at_the_retries_setting() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::Error(7); 10].into());
    let mut p = sim.producer(&[("linger.ms", "0"), ("retries", "2")]);
    let id = sim.send_n(&mut p, "t", 1)[0];
    sim.run(&mut p, sim.now + 60_000);
    sim.assert_one_report_each([id]);
    assert_eq!(sim.reports[0].error.as_ref().unwrap().code, 7);
    assert_eq!(sim.produce_requests, 3, "one attempt and two retries");
}

#[test]
fn a_leader_move_is_followed_from_the_produce_response_kip_951() {
    let mut sim = Sim::new(2, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "0")]);
    sim.send_n(&mut p, "t", 1);
    sim.run(&mut p, sim.now + 1_000);
    let metadata_before = sim.metadata_requests;
    // Leadership of t-0 moves to broker 1 when the next batch arrives.
    sim.move_leader.insert(("t".into(), 0), 1);
    let ids = sim.send_n(&mut p, "t", 10);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(std::iter::once(0).chain(ids.iter().copied()));
    assert_eq!(sim.reports.iter().filter(|r| r.error.is_some()).count(), 0);
    assert_eq!(sim.topics["t"][0].log.len(), 11);
    assert_eq!(sim.metadata_requests, metadata_before, "rerouted by CurrentLeader, no Metadata round trip");
}

#[test]
fn a_dropped_connection_retries_its_batches() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::DropBefore].into());
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 5);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    assert_eq!(sim.topics["t"][0].log.len(), 5, "not lost, not duplicated");
    assert!(sim.warnings.iter().any(|w| w.contains("connection reset")), "{:?}", sim.warnings);
}

#[test]
fn without_idempotence_a_lost_response_duplicates_as_documented() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::DropAfter].into());
    let mut p = sim.producer(&[("linger.ms", "0"), ("enable.idempotence", "false")]);
    let ids = sim.send_n(&mut p, "t", 3);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    // The README says so: the batch is in the log twice; the report names the second copy.
    assert_eq!(sim.topics["t"][0].log.len(), 6);
    assert_eq!(sim.reports[0].base_offset, 3);
}

#[test]
fn acks_0_reports_when_handed_over() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("acks", "0"), ("linger.ms", "0")]);
    assert!(!p.config().idempotent, "acks=0 rules idempotence out");
    let ids = sim.send_n(&mut p, "t", 100);
    sim.run(&mut p, sim.now + 1_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none() && r.base_offset == -1));
    assert_eq!(sim.topics["t"][0].log.len(), 100);
    sim.check_delivery(true);
}

#[test]
fn delivery_timeout_fails_records_that_cannot_be_sent() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.brokers.clear(); // nothing answers: every connect fails
    let mut p = sim.producer(&[("delivery.timeout.ms", "5000"), ("request.timeout.ms", "1000"), ("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 10);
    let start = sim.now;
    sim.run(&mut p, start + 4_999);
    assert!(sim.reports.is_empty(), "failed before delivery.timeout.ms");
    sim.run(&mut p, start + 5_000);
    sim.assert_one_report_each(ids.iter().copied());
    let e = sim.reports[0].error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::TimedOut);
    // Reconnects back off exponentially to reconnect.backoff.max.ms: about
    // one attempt a second, not a storm.
    let before = sim.warnings.len();
    sim.run(&mut p, start + 65_000);
    let attempts = sim.warnings.len() - before;
    assert!((50..=70).contains(&attempts), "{attempts} connection attempts in 60 s");
}

#[test]
fn with_idempotence_a_lost_response_is_deduplicated() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::DropAfter].into());
    let mut p = sim.producer(&[("linger.ms", "0")]);
    assert!(p.config().idempotent, "on by default");
    let ids = sim.send_n(&mut p, "t", 3);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert_eq!(sim.topics["t"][0].log.len(), 3, "the retry was recognised as a duplicate");
    assert_eq!(sim.reports[0].base_offset, 0, "and reported at the first copy's offset");
    sim.check_delivery(true);
}

#[test]
fn a_stalled_response_times_out_and_the_retry_is_deduplicated() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::Stall(5_000)].into());
    let mut p = sim.producer(&[("linger.ms", "0"), ("request.timeout.ms", "1000")]);
    let ids = sim.send_n(&mut p, "t", 4);
    sim.run(&mut p, sim.now + 20_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    assert_eq!(sim.topics["t"][0].log.len(), 4);
    assert!(sim.warnings.iter().any(|w| w.contains("request.timeout.ms")), "{:?}", sim.warnings);
}

#[test]
fn lost_producer_state_bumps_the_epoch_and_keeps_order() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "0"), ("batch.size", "200")]);
    let first = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 1_000);
    sim.faults.insert(("t".into(), 0), [Fault::LoseProducerState].into());
    let second = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(first.iter().chain(&second).copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
    let st = &sim.topics["t"][0].producers;
    assert!(st.values().any(|s| s.epoch == 1), "the epoch was bumped: {st:?}");
    assert_eq!(sim.topics["t"][0].log.len(), 40);
    sim.check_delivery(true);
}

#[test]
fn compressed_batches_stay_within_the_limits_even_when_incompressible() {
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let mut sim = Sim::new(1, &[("t", 3)]);
        sim.max_request_size = 20_000;
        sim.message_max_bytes = 8_000;
        let mut p = sim.producer(&[
            ("compression.type", codec),
            ("batch.size", "1000000"),
            ("max.request.size", "20000"),
            ("message.max.bytes", "8000"),
            ("linger.ms", "50"),
        ]);
        let mut x = 99u32;
        let mut ids = Vec::new();
        for i in 0..300u32 {
            let noise: Vec<u8> = (0..200)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let value = format!("id{i}");
            let headers = [kafka_producer_component::Header { key: "noise", value: Some(&noise) }];
            ids.push(sim.send(&mut p, "t", &Record { key: Some(&i.to_le_bytes()), value: Some(value.as_bytes()), headers: &headers, ..Default::default() }).unwrap());
        }
        // Every request and batch is checked against the limits as it arrives.
        sim.run(&mut p, sim.now + 10_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{codec}");
        sim.check_delivery(true);
        assert!(sim.produce_requests > 3, "{codec}: the limits split the work");
    }
}

#[test]
fn a_batch_over_the_topic_limit_is_split_until_it_fits() {
    for codec in ["none", "lz4", "gzip"] {
        let mut sim = Sim::new(1, &[("t", 1)]);
        sim.topic_max_message_bytes = Some(2_000);
        let mut p = sim.producer(&[("compression.type", codec), ("linger.ms", "20")]);
        let ids = sim.send_n(&mut p, "t", 3_000);
        sim.run(&mut p, sim.now + 30_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{codec}: {:?}", sim.reports.iter().find(|r| r.error.is_some()));
        assert!(sim.warnings.iter().any(|w| w.contains("splitting")), "{codec}: no split happened");
        sim.check_delivery(true);
    }
    // A single record over the topic limit cannot be split: it fails.
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.topic_max_message_bytes = Some(100);
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let id = sim.send(&mut p, "t", &Record { value: Some(&[1u8; 500]), ..Default::default() }).unwrap();
    sim.run(&mut p, sim.now + 5_000);
    sim.assert_one_report_each([id]);
    assert_eq!(sim.reports[0].error.as_ref().unwrap().code, 10);
}

#[test]
fn a_throttled_connection_is_muted_for_the_time_asked() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::Throttle(2_000)].into());
    let mut p = sim.producer(&[("linger.ms", "0")]);
    sim.send_n(&mut p, "t", 1);
    let start = sim.now;
    sim.run(&mut p, start + 10);
    assert_eq!(sim.reports.len(), 1);
    let ids = sim.send_n(&mut p, "t", 5);
    sim.run(&mut p, start + 1_999);
    assert_eq!(sim.reports.len(), 1, "nothing sent while throttled");
    sim.run(&mut p, start + 2_100);
    sim.assert_one_report_each(std::iter::once(0).chain(ids.iter().copied()));
    assert_eq!(sim.throttle_violations, 0);
}

#[test]
fn bootstrap_goes_through_the_next_listed_server() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let config = kafka_producer_component::Config::from_pairs([("bootstrap.servers", "broker-7:9092,broker-0:9092"), ("linger.ms", "0")]).unwrap();
    let mut p = kafka_producer_component::Producer::new(config, sim.now);
    let ids = sim.send_n(&mut p, "t", 3);
    sim.run(&mut p, sim.now + 5_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    assert!(sim.warnings.iter().any(|w| w.contains("broker-7")), "{:?}", sim.warnings);
}

#[test]
fn metadata_is_refreshed_every_max_age_and_not_more() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("metadata.max.age.ms", "1000")]);
    sim.send_n(&mut p, "t", 1);
    let start = sim.now;
    sim.run(&mut p, start + 10_500);
    assert!((10..=12).contains(&sim.metadata_requests), "{} metadata requests in 10.5 s", sim.metadata_requests);
}

#[test]
fn a_broker_without_init_producer_id_is_reported() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.supports_idempotence = false;
    let mut p = sim.producer(&[("delivery.timeout.ms", "3000"), ("request.timeout.ms", "1000"), ("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 2);
    sim.run(&mut p, sim.now + 3_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.warnings.iter().any(|w| w.contains("enable.idempotence=false")), "{:?}", sim.warnings);
}

#[test]
fn the_memory_bound_refuses_records_at_once_and_frees_on_delivery() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("buffer.memory", "100000"), ("batch.size", "16384")]);
    let value = [7u8; 1000];
    let mut accepted = 0;
    let refused = loop {
        match p.send("t", &Record { value: Some(&value), ..Default::default() }, sim.now) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(refused.kind, ErrorKind::QueueFull);
    assert!((90..=120).contains(&accepted), "{accepted} records of 1000 B under a 100000 B bound");
    sim.run(&mut p, sim.now + 10_000);
    assert_eq!(p.unreported(), 0);
    assert!(p.send("t", &Record { value: Some(&value), ..Default::default() }, sim.now).is_ok(), "room again after delivery");
    let mut q = sim.producer(&[("queue.buffering.max.messages", "10")]);
    sim.send_n(&mut q, "t", 10);
    let e = q.send("t", &Record::default(), sim.now).unwrap_err();
    assert_eq!(e.kind, ErrorKind::QueueFull);
    assert!(e.message.contains("queue.buffering.max.messages"), "{}", e.message);
}

#[test]
fn close_delivers_what_it_can_then_fails_the_rest() {
    let mut sim = Sim::new(1, &[("t", 1), ("u", 1)]);
    sim.faults.insert(("u".into(), 0), [Fault::Error(7); 100].into()); // u never succeeds
    let mut p = sim.producer(&[("linger.ms", "10000")]);
    let good = sim.send_n(&mut p, "t", 5);
    let bad = sim.send_n(&mut p, "u", 5);
    p.close(sim.now, 3_000);
    assert_eq!(p.send("t", &Record::default(), sim.now).unwrap_err().kind, ErrorKind::Closed);
    let start = sim.now;
    sim.run(&mut p, start + 60_000);
    sim.assert_one_report_each(good.iter().chain(&bad).copied());
    let outcome = |id: u64| sim.reports.iter().find(|r| r.records.contains(&id)).unwrap().error.clone();
    assert!(good.iter().all(|&id| outcome(id).is_none()), "linger.ms is ignored on close");
    assert!(bad.iter().all(|&id| outcome(id).map(|e| e.kind) == Some(ErrorKind::Closed)));
    assert_eq!(p.unreported(), 0);
    assert!(sim.open_conns().is_empty(), "connections closed once all is reported");
    assert!(p.poll_timeout().is_none_or(|t| t > start + 3_000));
}

#[test]
fn the_tests_murmur2_matches_apache_kafkas_vectors() {
    // Apache Kafka's UtilsTest.testMurmur2: the oracle's partitions are
    // only as good as its own port of the hash.
    let cases: &[(&[u8], i32)] = &[
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ];
    for (data, want) in cases {
        assert_eq!(sim::murmur2(data), *want, "{:?}", std::str::from_utf8(data));
    }
}

#[test]
fn keyed_records_land_on_the_java_clients_partition() {
    // Keys whose murmur2 is negative, on partition counts where Java's
    // toPositive changes the answer: a producer that took the hash as
    // unsigned would put them elsewhere.
    let keys: Vec<Vec<u8>> = (0..200u32).map(|i| format!("user-{i}").into_bytes()).collect();
    for n in [3, 5, 6, 7] {
        let differs = keys.iter().filter(|k| {
            let h = sim::murmur2(k);
            h < 0 && (h as u32 % n as u32) as i32 != sim::java_partition(k, n)
        });
        assert!(differs.count() > 20, "the keys exercise toPositive on {n} partitions");
        let mut sim = Sim::new(2, &[("t", n)]);
        let mut p = sim.producer(&[("linger.ms", "1")]);
        for k in &keys {
            let value = [b"v-".as_slice(), k].concat();
            sim.send(&mut p, "t", &Record { key: Some(k), value: Some(&value), ..Default::default() }).unwrap();
        }
        sim.run(&mut p, sim.now + 5_000);
        assert!(sim.reports.iter().all(|r| r.error.is_none()));
        sim.check_delivery(true);
    }
}

#[test]
fn a_retry_older_than_the_brokers_deduplication_window_counts_as_delivered() {
    // The broker keeps one batch for deduplication; five are in flight
    // when the connection stalls. Retried, the four older ones get
    // DUPLICATE_SEQUENCE_NUMBER: written already, offset unknown.
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.dedup_window = 1;
    sim.faults.insert(("t".into(), 0), [Fault::Stall(5_000)].into());
    let mut p = sim.producer(&[("linger.ms", "0"), ("request.timeout.ms", "1000")]);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.extend(sim.send_n(&mut p, "t", 1));
        sim.run(&mut p, sim.now + 10);
    }
    sim.run(&mut p, sim.now + 20_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
    let duplicates = sim.answers.values().filter(|a| a.contains(&46)).count();
    assert_eq!(duplicates, 4, "{:?}", sim.answers);
    assert_eq!(sim.reports.iter().filter(|r| r.base_offset == -1).count(), 4, "reported with no offset");
    assert_eq!(sim.topics["t"][0].log.len(), 5, "each written once");
    sim.check_delivery(true);
}

#[test]
fn init_producer_id_is_retried_when_the_coordinator_is_unavailable_and_fails_all_when_refused() {
    let mut sim = Sim::new(1, &[("t", 2)]);
    sim.init_faults = [15, 15].into(); // COORDINATOR_NOT_AVAILABLE twice
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    assert!(sim.warnings.iter().filter(|w| w.contains("InitProducerId")).count() >= 2, "{:?}", sim.warnings);
    sim.check_delivery(true);

    let mut sim = Sim::new(1, &[("t", 2)]);
    sim.init_faults = [31].into(); // CLUSTER_AUTHORIZATION_FAILED
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.as_ref().map(|e| e.code) == Some(31)), "{:?}", sim.reports);
    sim.check_liveness();
    assert_eq!(sim.produce_requests, 0);
    let refused = p.send("t", &Record::default(), sim.now).unwrap_err();
    assert_eq!(refused.code, 31, "later records are refused with the same error");
}

#[test]
fn a_broker_limit_below_the_producers_is_answered_message_too_large_and_batches_split() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.message_max_bytes = 1_000; // the producer believes 1048588
    let mut p = sim.producer(&[("linger.ms", "20")]);
    let ids = sim.send_n(&mut p, "t", 500);
    sim.run(&mut p, sim.now + 30_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
    assert!(!sim.violations.is_empty(), "the broker saw batches over its limit");
    sim.check_delivery(true);
}

#[test]
fn the_simulated_broker_wraps_sequences_to_zero_as_kafka_does() {
    use sim::{check_sequence, last_seq, next_seq, ProducerState};
    assert_eq!(next_seq(i32::MAX), 0);
    assert_eq!(last_seq(i32::MAX - 1, 4), 1);
    let mut st = ProducerState { epoch: 3, last_seq: i32::MAX - 2, recent: [(i32::MAX - 4, i32::MAX - 2, 10)].into(), written: vec![(i32::MAX - 4, i32::MAX - 2)] };
    assert_eq!(check_sequence(&mut st, 3, i32::MAX - 1, 4, 5), Ok(None), "a batch across the wrap follows on");
    assert_eq!(check_sequence(&mut st, 3, i32::MIN, 1, 5), Err(45), "never i32::MIN");
    assert_eq!(check_sequence(&mut st, 3, i32::MAX - 4, 3, 5), Ok(Some(10)), "a duplicate in the window");
    assert_eq!(check_sequence(&mut st, 2, 0, 1, 5), Err(47), "an older epoch");
}

#[test]
fn a_flush_keeps_a_retrys_backoff_and_delivers_promptly() {
    // Found by fuzzing: while flushing, the retry's backoff was no
    // deadline, so a host slept until the delivery timeout.
    // One request in flight at a time, so batches stay queued behind it
    // (the flush is still on) while the first one, stalled past the
    // request timeout, waits out its backoff.
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::Stall(5_000)].into());
    let mut p = sim.producer(&[
        ("linger.ms", "60000"),
        ("batch.size", "200"),
        ("max.in.flight.requests.per.connection", "1"),
        ("request.timeout.ms", "300"),
        ("retry.backoff.ms", "100"),
    ]);
    let ids = sim.send_n(&mut p, "t", 30);
    p.flush();
    let start = sim.now;
    sim.run(&mut p, start + 2_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    assert!(sim.report_times.iter().all(|&t| t < start + 1_000), "delivered {:?} ms after the flush", sim.report_times.iter().map(|t| t - start).collect::<Vec<_>>());
    sim.check_delivery(true);
}

#[test]
fn records_sent_after_a_split_keep_send_order() {
    // Found by fuzzing: a split half is re-queued ahead of batches already
    // in flight; new records joined it and overtook those batches.
    for seed in 0..20u64 {
        let mut sim = Sim::new(1, &[("t", 1)]);
        sim.topic_max_message_bytes = Some(400);
        sim.latency_ms = 5;
        let mut p = sim.producer(&[("linger.ms", "0"), ("batch.size", "1000")]);
        let mut rng = Rng(seed + 1);
        for _ in 0..30 {
            sim.send_n(&mut p, "t", 1 + rng.below(12) as usize);
            let horizon = sim.now + 1 + rng.below(3);
            sim.run(&mut p, horizon);
            sim.now = sim.now.max(horizon);
        }
        sim.run(&mut p, sim.now + 30_000);
        assert!(sim.warnings.iter().any(|w| w.contains("splitting")), "seed {seed}: no split happened");
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "seed {seed}: {:?}", sim.reports.iter().find(|r| r.error.is_some()));
        sim.check_delivery(true);
    }
}

#[test]
fn a_batch_written_then_answered_request_timed_out_is_not_written_again_by_an_epoch_bump() {
    // Found by fuzzing: REQUEST_TIMED_OUT (and NOT_ENOUGH_REPLICAS_AFTER_
    // APPEND) come after the leader appended; such a batch is of unknown
    // outcome and must be resolved before an epoch bump re-stamps it.
    for code in [7, 20] {
        // Partition 1 has a sequence going; then partition 0's batch is
        // written but answered `code`, while partition 1 loses its state
        // (UNKNOWN_PRODUCER_ID: an epoch bump is due).
        let mut sim = Sim::new(1, &[("t", 2)]);
        let mut p = sim.producer(&[("linger.ms", "0"), ("retry.backoff.ms", "500")]);
        let send_to = |sim: &mut Sim, p: &mut _, part: i32, v: &str| sim.send(p, "t", &Record { partition: Some(part), value: Some(v.as_bytes()), ..Default::default() }).unwrap();
        let mut ids = vec![send_to(&mut sim, &mut p, 1, "first")];
        sim.run(&mut p, sim.now + 100);
        sim.faults.insert(("t".into(), 0), [Fault::AppendThenError(code)].into());
        sim.faults.insert(("t".into(), 1), [Fault::LoseProducerState].into());
        ids.push(send_to(&mut sim, &mut p, 0, "written, then answered with an error"));
        ids.push(send_to(&mut sim, &mut p, 1, "second"));
        sim.run(&mut p, sim.now + 200);
        let more = sim.send_n(&mut p, "t", 20);
        sim.run(&mut p, sim.now + 10_000);
        sim.assert_one_report_each(ids.iter().chain(&more).copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
        sim.check_delivery(true);
    }
}

#[test]
fn an_epoch_error_does_not_release_a_batch_of_unknown_outcome_to_a_bump() {
    // Found by fuzzing: INVALID_PRODUCER_EPOCH marked the partition as one
    // whose sequences the broker lost, so its batch of unknown outcome (the
    // first attempt was written, the answer lost) was re-stamped by the
    // bump another partition's UNKNOWN_PRODUCER_ID asked for: written twice.
    let mut sim = Sim::new(2, &[("t", 2)]);
    let mut p = sim.producer(&[("linger.ms", "0"), ("retry.backoff.ms", "200")]);
    let send_to = |sim: &mut Sim, p: &mut _, part: i32, v: &str| sim.send(p, "t", &Record { partition: Some(part), value: Some(v.as_bytes()), ..Default::default() }).unwrap();
    let mut ids = vec![send_to(&mut sim, &mut p, 1, "first")];
    sim.run(&mut p, sim.now + 100);
    sim.faults.insert(("t".into(), 0), [Fault::DropAfter, Fault::Error(47)].into());
    sim.faults.insert(("t".into(), 1), [Fault::LoseProducerState].into());
    ids.push(send_to(&mut sim, &mut p, 0, "written, its answer lost"));
    ids.push(send_to(&mut sim, &mut p, 1, "second"));
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
    sim.check_delivery(true);
}

#[test]
fn the_bootstrap_connection_serves_the_broker_at_its_address() {
    // broker-0:9092 is both the bootstrap server and broker 0's address:
    // one connection, one ApiVersions, and the first Produce goes on it.
    let mut sim = Sim::new(2, &[("t", 2)]);
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    sim.check_delivery(true);
    assert_eq!(sim.connects, 2, "one connection per broker, none extra for bootstrap");
}
