//! The producer core against a simulated cluster: deterministic scenarios
//! of what a Kafka user relies on, faults included.

mod sim;

use kafka_producer_component::{ErrorKind, Record};
use sim::{Fault, Sim, Stored};

#[test]
fn every_record_is_delivered_once_in_send_order() {
    let mut sim = Sim::new(3, &[("t", 6)]);
    let mut p = sim.producer(&[("linger.ms", "5"), ("batch.size", "1024")]);
    let ids = sim::send_n(&mut p, "t", 2_000, sim.now);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    // The log holds each record once, where its report says, in order.
    let delivered = sim.delivered();
    for (i, id) in ids.iter().enumerate() {
        let (_, partition, offset) = &delivered[id];
        let stored = &sim.topics["t"][*partition as usize].log[*offset as usize];
        assert_eq!(stored.value.as_deref(), Some(format!("v{i}").as_bytes()));
    }
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
        let ids = sim::send_n(&mut p, "t", 300, sim.now);
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
    let ids = sim::send_n(&mut p, "t", 3, sim.now);
    sim.run(&mut p, sim.now + 3_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.warnings.iter().any(|w| w.contains("no common protocol version")), "{:?}", sim.warnings);
    assert_eq!(sim.produce_requests, 0);
}

#[test]
fn linger_holds_a_batch_until_it_expires_or_a_flush() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "1000")]);
    sim::send_n(&mut p, "t", 1, sim.now);
    let start = sim.now;
    sim.run(&mut p, start + 999);
    assert!(sim.reports.is_empty(), "sent before linger.ms");
    sim.run(&mut p, start + 1_000);
    assert_eq!(sim.reports.len(), 1);
    sim::send_n(&mut p, "t", 1, sim.now);
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
    let r0 = p.send("t", &Record { partition: Some(0), value: Some(b"a"), ..Default::default() }, sim.now).unwrap();
    let r1 = p.send("t", &Record { partition: Some(1), value: Some(b"b"), ..Default::default() }, sim.now).unwrap();
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
    let id = sim::send_n(&mut p, "t", 1, sim.now)[0];
    sim.run(&mut p, sim.now + 60_000);
    sim.assert_one_report_each([id]);
    assert_eq!(sim.reports[0].error.as_ref().unwrap().code, 7);
    assert_eq!(sim.produce_requests, 3, "one attempt and two retries");
}

#[test]
fn a_leader_move_is_followed_from_the_produce_response_kip_951() {
    let mut sim = Sim::new(2, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "0")]);
    sim::send_n(&mut p, "t", 1, sim.now);
    sim.run(&mut p, sim.now + 1_000);
    let metadata_before = sim.metadata_requests;
    // Leadership of t-0 moves to broker 1 when the next batch arrives.
    sim.move_leader.insert(("t".into(), 0), 1);
    let ids = sim::send_n(&mut p, "t", 10, sim.now);
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
    let ids = sim::send_n(&mut p, "t", 5, sim.now);
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
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim::send_n(&mut p, "t", 3, sim.now);
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
    let ids = sim::send_n(&mut p, "t", 100, sim.now);
    sim.run(&mut p, sim.now + 1_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none() && r.base_offset == -1));
    let log: Vec<Stored> = sim.topics["t"][0].log.clone();
    assert_eq!(log.len(), 100);
    assert!(log.iter().enumerate().all(|(i, s)| s.key.as_deref() == Some(format!("k{i}").as_bytes())));
}

#[test]
fn delivery_timeout_fails_records_that_cannot_be_sent() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.brokers.clear(); // nothing answers: every connect fails
    let mut p = sim.producer(&[("delivery.timeout.ms", "5000"), ("request.timeout.ms", "1000"), ("linger.ms", "0")]);
    let ids = sim::send_n(&mut p, "t", 10, sim.now);
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

/// A small deterministic PRNG for fault schedules.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Seeded chaos: random bytes injected into live connections, random
/// connection drops, random retriable errors. Whatever happens, nothing
/// panics and every record gets exactly one report. A failing seed replays
/// by its number.
#[test]
fn seeded_garbage_and_drops_never_lose_a_report() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut sim = Sim::new(2, &[("a", 3), ("b", 1)]);
        for (t, p) in [("a", 0), ("a", 1), ("b", 0)] {
            let faults: Vec<Fault> = (0..rng.below(4))
                .map(|_| match rng.below(3) {
                    0 => Fault::Error([6, 7, 19, 10, 87][rng.below(5) as usize]),
                    1 => Fault::DropBefore,
                    _ => Fault::DropAfter,
                })
                .collect();
            sim.faults.insert((t.into(), p), faults.into());
        }
        let mut p = sim.producer(&[("linger.ms", "2"), ("delivery.timeout.ms", "20000"), ("request.timeout.ms", "2000")]);
        let mut ids = Vec::new();
        for round in 0..20 {
            let topic = if round % 3 == 0 { "b" } else { "a" };
            ids.extend(sim::send_n(&mut p, topic, 1 + rng.below(50) as usize, sim.now));
            let horizon = sim.now + rng.below(30);
            sim.run(&mut p, horizon);
            let conns = sim.open_conns();
            if !conns.is_empty() && rng.below(4) == 0 {
                let c = conns[rng.below(conns.len() as u64) as usize];
                if rng.below(2) == 0 {
                    sim.drop_conn(c);
                } else {
                    let len = rng.below(64) as usize;
                    let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    sim.inject(c, junk);
                }
            }
        }
        sim.run(&mut p, sim.now + 120_000);
        assert_eq!(p.unreported(), 0, "seed {seed}");
        sim.assert_one_report_each(ids.iter().copied());
    }
}
