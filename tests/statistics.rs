//! Statistics against the simulated cluster: the numbers equal what the
//! test did and what the brokers saw (records, bytes, retries the injected
//! errors forced, failures), and the JSON `statistics.interval.ms` emits
//! says the same.

mod sim;

use kafka_producer_component::{Producer, Record, Statistics};
use sim::{Fault, Sim};

/// Sends `n` records with values of `len` bytes to `partition` of `t`.
fn send_to(sim: &mut Sim, p: &mut Producer, partition: i32, n: usize, tag: &str) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let value = format!("{tag}-{i:04}-{}", "v".repeat(20));
            sim.send(p, "t", &Record { partition: Some(partition), value: Some(value.as_bytes()), ..Default::default() }).unwrap()
        })
        .collect()
}

fn partition(s: &Statistics, p: i32) -> &kafka_producer_component::statistics::PartitionStatistics {
    s.topics.iter().find(|t| t.topic == "t").unwrap().partitions.iter().find(|x| x.partition == p).unwrap()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn counts_equal_what_was_delivered_failed_and_retried_under_injected_errors() {
    let mut sim = Sim::new(3, &[("t", 3)]);
    sim.latency_ms = 3;
    // t-0: two retriable errors, then success; t-1: MESSAGE_TOO_LARGE for
    // a batch of one record (cannot be split: it fails); t-2: a leader
    // that is not one (retriable, with a metadata refresh), then success.
    sim.faults.insert(("t".into(), 0), [Fault::Error(7), Fault::Error(19)].into());
    sim.faults.insert(("t".into(), 1), [Fault::Error(10)].into());
    sim.faults.insert(("t".into(), 2), [Fault::Error(6)].into());
    let mut p = sim.producer(&[("linger.ms", "0"), ("enable.idempotence", "false"), ("statistics.interval.ms", "1000")]);
    let mut ids = send_to(&mut sim, &mut p, 0, 40, "a");
    ids.extend(send_to(&mut sim, &mut p, 1, 1, "b"));
    ids.extend(send_to(&mut sim, &mut p, 2, 25, "c"));
    sim.run(&mut p, sim.now + 10_000);
    ids.extend(send_to(&mut sim, &mut p, 0, 10, "d"));
    p.close(sim.now, 5_000);
    sim.run(&mut p, sim.now + 6_000);
    sim.assert_one_report_each(ids.iter().copied());

    let delivered: usize = sim.reports.iter().filter(|r| r.error.is_none()).map(|r| r.records.len()).sum();
    let failed: usize = sim.reports.iter().filter(|r| r.error.is_some()).map(|r| r.records.len()).sum();
    assert_eq!((delivered, failed), (75, 1));
    let s = p.statistics(sim.now);
    assert_eq!(s.msgs, 76, "records accepted");
    assert_eq!(s.txmsgs, 75, "delivered, as the reports say");
    assert_eq!(s.txmsgs, sim.appended_records, "and as the brokers' logs say");
    assert_eq!(s.txmsg_bytes, sim.appended_batch_bytes, "bytes of the batches the brokers appended");
    assert_eq!(s.msgs_failed, 1);
    assert_eq!(s.txretries, 3, "one retry per retriable error injected");
    assert_eq!(sim.faults_injected, 4);
    assert_eq!((s.msg_cnt, s.msg_size, s.waitresp_cnt), (0, 0, 0), "nothing left after close");
    assert_eq!((partition(&s, 0).txmsgs, partition(&s, 0).txretries), (50, 2));
    assert_eq!((partition(&s, 1).msgs_failed, partition(&s, 1).txretries), (1, 0));
    assert_eq!((partition(&s, 2).txmsgs, partition(&s, 2).txretries), (25, 1));
    let per_partition: u64 = (0..3).map(|i| partition(&s, i).txbytes).sum();
    assert_eq!(per_partition, s.txmsg_bytes);
    assert_eq!(partition(&s, 0).compression_ratio, 1.0, "no compression");
    // Requests: the brokers answered every one; the round trips took the
    // simulated 3 ms (in microseconds).
    assert_eq!(s.tx, s.rx);
    assert!(s.tx as usize >= sim.produce_requests + sim.metadata_requests);
    // The bootstrap connection became broker 0's (the same address): its
    // requests and answers are counted there, so each broker's add up.
    let names: Vec<&str> = s.brokers.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["broker-0:9092/0", "broker-1:9092/1", "broker-2:9092/2"]);
    for b in &s.brokers {
        assert_eq!((b.tx, b.state), (b.rx, "DOWN"), "{}: answered, and closed", b.name);
    }
    assert_eq!(s.brokers.iter().map(|b| b.connects).sum::<u64>(), sim.connects as u64);
    for b in s.brokers.iter().filter(|b| b.rtt.cnt > 0) {
        assert_eq!((b.rtt.min, b.rtt.max, b.rtt.p99), (3_000, 3_000, 3_000), "{}", b.name);
    }

    // The JSON emitted as close completed says the same.
    let last = json(sim.statistics.borrow().last().expect("a statistics line at close"));
    assert_eq!(last["txmsgs"].as_u64(), Some(75));
    assert_eq!(last["txmsg_bytes"].as_u64(), Some(sim.appended_batch_bytes));
    assert_eq!(last["txretries"].as_u64(), Some(3));
    assert_eq!(last["msgs_failed"].as_u64(), Some(1));
    assert_eq!(last["msg_cnt"].as_u64(), Some(0));
    assert_eq!(last["topics"]["t"]["partitions"]["0"]["txmsgs"].as_u64(), Some(50));
    assert!(sim.statistics.borrow().len() >= 11, "one a second while running (10 s), one at close");
}

#[test]
fn gauges_show_records_queued_and_in_flight() {
    let mut sim = Sim::new(1, &[("t", 2)]);
    sim.latency_ms = 50;
    let mut p = sim.producer(&[("linger.ms", "10000"), ("enable.idempotence", "false")]);
    send_to(&mut sim, &mut p, 0, 7, "q");
    sim.run(&mut p, sim.now + 100); // metadata known, the batch lingers
    let s = p.statistics(sim.now);
    assert_eq!((s.msg_cnt, partition(&s, 0).msgq_cnt, partition(&s, 0).msgs_inflight), (7, 7, 0));
    assert!(s.msg_size > 0 && partition(&s, 0).msgq_bytes > 0);
    assert_eq!(partition(&s, 0).leader, 0);
    p.flush();
    let now = sim.now;
    sim.run(&mut p, now + 10); // sent, not yet answered
    let s = p.statistics(sim.now);
    assert_eq!((s.msg_cnt, partition(&s, 0).msgq_cnt, partition(&s, 0).msgs_inflight, s.waitresp_cnt), (7, 0, 7, 1));
    let b = s.brokers.iter().find(|b| b.nodeid == 0).unwrap();
    assert_eq!((b.state, b.waitresp_cnt), ("UP", 1));
    assert_eq!(b.toppars, vec![("t".to_string(), 0), ("t".to_string(), 1)]);
    sim.run(&mut p, now + 200);
    let s = p.statistics(sim.now);
    assert_eq!((s.msg_cnt, s.txmsgs, s.waitresp_cnt), (0, 7, 0));
}

#[test]
fn splits_epoch_bumps_and_throttling_are_counted() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.topic_max_message_bytes = Some(2_000);
    let mut p = sim.producer(&[("linger.ms", "20"), ("compression.type", "gzip")]);
    let ids = sim.send_n(&mut p, "t", 1_000);
    sim.run(&mut p, sim.now + 30_000);
    sim.assert_one_report_each(ids.iter().copied());
    let s = p.statistics(sim.now);
    let split_warnings = sim.warnings.iter().filter(|w| w.contains("splitting a batch")).count() as u64;
    assert!(split_warnings > 0);
    assert_eq!(s.splits, split_warnings);
    let bump_warnings = sim.warnings.iter().filter(|w| w.contains("bumping the producer epoch")).count() as u64;
    assert!(bump_warnings > 0, "idempotent splits bump the epoch");
    assert_eq!(s.epoch_bumps, bump_warnings);
    assert_eq!(s.epoch_cnt, 1 + s.epoch_bumps, "the first producer id, then one per bump");
    assert_eq!((s.producer_id >= 0, s.producer_epoch as u64), (true, s.epoch_bumps));
    assert_eq!(s.txmsgs, 1_000);
    assert_eq!(s.txmsg_bytes, sim.appended_batch_bytes);
    let t0 = partition(&s, 0);
    assert!(t0.compression_ratio > 1.0, "gzip shrinks the batches: {}", t0.compression_ratio);
    assert!(t0.batches > 1 && t0.batchcnt_avg > 1);
    let t = &s.topics[0];
    assert_eq!(t.batchcnt.cnt, t0.batches, "one sample per batch sealed");
    assert!(t.batchsize.max <= t.batchsize.p99_99 && t.batchsize.min > 0);

    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.faults.insert(("t".into(), 0), [Fault::Throttle(2_000)].into());
    let mut p = sim.producer(&[("linger.ms", "0")]);
    sim.send_n(&mut p, "t", 1);
    sim.run(&mut p, sim.now + 10);
    let b = p.statistics(sim.now).brokers.into_iter().find(|b| b.nodeid == 0).unwrap();
    assert_eq!((b.throttle.cnt, b.throttle.max), (1, 2_000), "one Produce response, asking for 2 s");
}

#[test]
fn without_an_interval_nothing_is_emitted_and_the_producer_sleeps() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = sim.producer(&[("linger.ms", "0")]);
    let ids = sim.send_n(&mut p, "t", 5);
    sim.run(&mut p, sim.now + 5_000);
    sim.assert_one_report_each(ids);
    assert!(sim.statistics.borrow().is_empty());
    assert!(p.poll_timeout().is_some_and(|t| t > sim.now + 60_000), "only the metadata refresh is left");
    // With an interval, the producer wakes for it.
    let mut p = sim.producer(&[("linger.ms", "0"), ("statistics.interval.ms", "250")]);
    let start = sim.now;
    sim.run(&mut p, start + 1_000);
    assert_eq!(sim.statistics.borrow().len(), 4, "at 250, 500, 750 and 1000 ms");
    let v = json(&sim.statistics.borrow()[0]);
    assert_eq!((v["type"].as_str(), v["msgs"].as_u64()), (Some("producer"), Some(0)));
}
