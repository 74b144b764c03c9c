//! Transactions (KIP-98) against the simulated coordinator
//! (`tests/sim/coordinator.rs`): control markers, a read_committed view,
//! fencing, faults on every transactional request. The invariants: a
//! committed transaction's records are all visible to read_committed
//! readers, exactly once and in order; an aborted or fenced one's are
//! never visible; every record gets one report. These are the guarantees
//! Tansu cannot show (its read_committed view includes aborted records).

mod sim;

use kafka_producer_component::{ErrorKind, GroupMetadata, OffsetToCommit, ProduceError, Producer, TxnCall};
use sim::txn::{begun, call, txn_producer, Ledger, TXN};
use sim::{Fault, Rng, Sim, TxnFault};

#[test]
fn committed_transactions_are_visible_once_and_aborted_ones_never() {
    let mut sim = Sim::new(3, &[("a", 3), ("b", 2)]);
    sim.latency_ms = 2;
    let mut p = txn_producer(&mut sim, &[]);
    call(&mut sim, &mut p, TxnCall::Init).expect("init");
    let mut ledger = Ledger::default();
    for round in 0..6 {
        call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
        let mut ids = sim.send_n(&mut p, "a", 40);
        ids.extend(sim.send_n(&mut p, "b", 25));
        // Some batches go before the transaction ends.
        let t = sim.now + 30;
        sim.run(&mut p, t);
        let commit = round % 2 == 0;
        call(&mut sim, &mut p, if commit { TxnCall::Commit } else { TxnCall::Abort }).expect("end");
        ledger.txns.push((ids, commit));
    }
    let t = sim.now + 1_000;
    sim.run(&mut p, t);
    assert_eq!(sim.txn_outcomes, vec![true, false, true, false, true, false]);
    ledger.check(&sim);
    // Committed records were all delivered; an aborted transaction's were
    // delivered (written, then aborted) or failed as aborted.
    for r in &sim.reports {
        let no = sim.record_number(r.records[0]);
        let committed = ledger.txns.iter().find(|(ids, _)| ids.contains(&r.records[0])).map(|t| t.1).unwrap();
        match &r.error {
            None => {}
            Some(e) => assert!(!committed && e.kind == ErrorKind::Aborted, "record {no}: {e:?}"),
        }
    }
    // Five partitions, six transactions: a marker each time a partition was in one.
    let markers: usize = sim.topics.values().flatten().map(|p| p.markers.len()).sum();
    assert_eq!(markers, 6 * 5);
}

#[test]
fn statistics_name_the_transactional_state_as_librdkafka_does() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = txn_producer(&mut sim, &[]);
    let state = |sim: &Sim, p: &Producer| {
        let s = p.statistics(sim.now);
        let json: serde_json::Value = serde_json::from_str(&s.to_json()).expect("statistics JSON");
        assert_eq!(json["eos"]["txn_state"], s.txn_state.as_str(), "the JSON carries the same state");
        assert_eq!(json["eos"]["txn_may_enq"], s.txn_may_enq);
        (s.txn_state, s.txn_may_enq)
    };
    assert_eq!(state(&sim, &p), ("Init".into(), false));
    call(&mut sim, &mut p, TxnCall::Init).expect("init");
    assert_eq!(state(&sim, &p), ("Ready".into(), false));
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    assert_eq!(state(&sim, &p), ("InTransaction".into(), true));
    sim.send_n(&mut p, "a", 5);
    p.transaction(TxnCall::Commit).expect("commit starts");
    assert_eq!(state(&sim, &p), ("CommittingTransaction".into(), false));
    let t = sim.now + 1_000;
    sim.run(&mut p, t);
    assert_eq!(sim.txn_outcomes, vec![true]);
    assert_eq!(state(&sim, &p), ("Ready".into(), false));
    // Without transactional.id: librdkafka's "Init", and records are welcome.
    let plain = sim.producer(&[]);
    assert_eq!(state(&sim, &plain), ("Init".into(), true));
}

#[test]
fn an_empty_transaction_ends_without_the_coordinator() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = begun(&mut sim, &[]);
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
    assert!(sim.txn_outcomes.is_empty(), "EndTxn for a transaction the coordinator never saw");
}

#[test]
fn offsets_commit_with_the_transaction_and_not_with_an_abort() {
    let mut sim = Sim::new(2, &[("out", 2), ("in", 2)]);
    let mut p = txn_producer(&mut sim, &[]);
    call(&mut sim, &mut p, TxnCall::Init).expect("init");
    let group = GroupMetadata { group_id: "etl".into(), generation_id: 3, member_id: "m-1".into(), group_instance_id: None };
    let offsets = |o: i64| {
        vec![
            OffsetToCommit { topic: "in".into(), partition: 0, offset: o, metadata: None },
            OffsetToCommit { topic: "in".into(), partition: 1, offset: o + 1, metadata: Some("x".into()) },
        ]
    };
    let mut ledger = Ledger::default();
    for (o, commit) in [(42, true), (99, false), (50, true)] {
        call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
        let ids = sim.send_n(&mut p, "out", 10);
        call(&mut sim, &mut p, TxnCall::SendOffsets(offsets(o), group.clone())).expect("send offsets");
        call(&mut sim, &mut p, if commit { TxnCall::Commit } else { TxnCall::Abort }).expect("end");
        ledger.txns.push((ids, commit));
    }
    ledger.check(&sim);
    assert_eq!(sim.group_offsets.get(&("etl".into(), "in".into(), 0)), Some(&50));
    assert_eq!(sim.group_offsets.get(&("etl".into(), "in".into(), 1)), Some(&51));
}

#[test]
fn a_fenced_producer_fails_for_good_and_its_transaction_stays_invisible() {
    let mut sim = Sim::new(2, &[("a", 2)]);
    let mut p = begun(&mut sim, &[]);
    let ids = sim.send_n(&mut p, "a", 30);
    let t = sim.now + 100;
    sim.run(&mut p, t);
    // A newer instance with the same transactional.id starts.
    sim.fence(TXN);
    let more = sim.send_n(&mut p, "a", 5);
    let e = call(&mut sim, &mut p, TxnCall::Commit).expect_err("a fenced producer cannot commit");
    // INVALID_PRODUCER_EPOCH on Produce makes the transaction abortable (as
    // in the Java client); the abort then meets the fence at the
    // coordinator, which is fatal.
    let e = match e.kind {
        ErrorKind::Fatal => e,
        _ => call(&mut sim, &mut p, TxnCall::Abort).expect_err("a fenced producer cannot abort"),
    };
    assert_eq!(e.kind, ErrorKind::Fatal, "{e:?}");
    assert!(e.message.contains("fenced"), "{}", e.message);
    for c in [TxnCall::Begin, TxnCall::Abort, TxnCall::Commit] {
        assert_eq!(p.transaction(c).unwrap_err().kind, ErrorKind::Fatal);
    }
    let e = p.send("a", &kafka_producer_component::Record { value: Some(b"late"), ..Default::default() }, sim.now).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal);
    let t = sim.now + 1_000;
    sim.run(&mut p, t);
    let mut all = ids;
    all.extend(more);
    Ledger { txns: vec![(all, false)] }.check(&sim);
}

#[test]
fn a_run_killed_mid_transaction_is_aborted_when_the_next_instance_starts() {
    let mut sim = Sim::new(2, &[("a", 3)]);
    let mut first = begun(&mut sim, &[]);
    let lost = sim.send_n(&mut first, "a", 40);
    let t = sim.now + 200;
    sim.run(&mut first, t);
    assert!(sim.topics["a"].iter().map(|p| p.log.len()).sum::<usize>() > 0, "the first instance wrote records");
    sim.forget_producer();
    drop(first);
    // The records of the killed run never got reports: the oracle's
    // account starts again with the next instance.
    sim.sent.clear();
    let mut next = txn_producer(&mut sim, &[]);
    call(&mut sim, &mut next, TxnCall::Init).expect("init fences the killed run");
    assert_eq!(sim.transactions[TXN].epoch, 1);
    for p in 0..3 {
        assert!(sim.read_committed("a", p).is_empty(), "a-{p}: the killed run's records are visible");
    }
    assert!(lost.len() == 40);
    call(&mut sim, &mut next, TxnCall::Begin).expect("begin");
    let mine = sim.send_n(&mut next, "a", 20);
    call(&mut sim, &mut next, TxnCall::Commit).expect("commit");
    let visible: usize = (0..3).map(|p| sim.read_committed("a", p).len()).sum();
    assert_eq!(visible, mine.len());
}

#[test]
fn a_failed_record_makes_the_transaction_abortable_and_the_next_one_commits() {
    let mut sim = Sim::new(1, &[("a", 2)]);
    let mut p = begun(&mut sim, &[]);
    sim.faults.insert(("a".into(), 0), [Fault::Error(87)].into()); // INVALID_RECORD
    let doomed = sim.send_n(&mut p, "a", 30);
    let e = call(&mut sim, &mut p, TxnCall::Commit).expect_err("the commit fails");
    assert_eq!((e.kind, e.code), (ErrorKind::Broker, 87), "{e:?}");
    // Only an abort is allowed now.
    assert_eq!(p.transaction(TxnCall::Commit).unwrap_err().kind, ErrorKind::Transaction);
    assert_eq!(p.transaction(TxnCall::Begin).unwrap_err().kind, ErrorKind::Transaction);
    call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin again");
    let good = sim.send_n(&mut p, "a", 30);
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    Ledger { txns: vec![(doomed, false), (good, true)] }.check(&sim);
}

#[test]
fn calls_out_of_order_are_clear_errors() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut plain = sim.producer(&[]);
    let e = plain.transaction(TxnCall::Init).unwrap_err();
    assert!(e.kind == ErrorKind::Transaction && e.message.contains("transactional.id is not set"), "{e:?}");

    let mut p = txn_producer(&mut sim, &[]);
    let rec = kafka_producer_component::Record { value: Some(b"v"), ..Default::default() };
    let expect = |r: Result<(), ProduceError>, words: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transaction, "{e:?}");
        assert!(e.message.contains(words), "{:?} does not say {words:?}", e.message);
    };
    expect(p.transaction(TxnCall::Begin), "init_transactions first");
    expect(p.send("a", &rec, sim.now).map(drop), "init_transactions first");
    call(&mut sim, &mut p, TxnCall::Init).expect("init");
    expect(p.transaction(TxnCall::Init), "already called");
    expect(p.transaction(TxnCall::Commit), "begin_transaction first");
    expect(p.transaction(TxnCall::Abort), "no transaction is open");
    expect(p.send("a", &rec, sim.now).map(drop), "begin_transaction first");
    let group = GroupMetadata { group_id: "g".into(), generation_id: -1, member_id: String::new(), group_instance_id: None };
    expect(p.transaction(TxnCall::SendOffsets(vec![], group)), "begin_transaction first");
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    expect(p.transaction(TxnCall::Begin), "already open");
    // A call still running refuses another; the same call again waits for it.
    sim.send_n(&mut p, "a", 3);
    p.transaction(TxnCall::Commit).expect("commit starts");
    expect(p.transaction(TxnCall::Abort), "commit_transaction is still running");
    call(&mut sim, &mut p, TxnCall::Commit).expect("the same call again waits for it");
    assert_eq!(sim.txn_outcomes, vec![true]);
}

#[test]
fn transactional_settings_are_checked() {
    use kafka_producer_component::Config;
    let bad = [
        (vec![("transactional.id", "t"), ("enable.idempotence", "false")], "transactional.id"),
        (vec![("transactional.id", "t"), ("acks", "1")], "transactional.id"),
        (vec![("transactional.id", "")], "transactional.id"),
        (vec![("transactional.id", "t"), ("transaction.timeout.ms", "0")], "transaction.timeout.ms"),
    ];
    for (extra, key) in bad {
        let mut pairs = vec![("bootstrap.servers", "b:9092")];
        pairs.extend(extra.iter().copied());
        let e = Config::from_pairs(pairs).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }
}

/// One seeded schedule: transactions committed or aborted at random, with
/// transient faults on every transactional request and on Produce.
fn faulty_schedule(seed: u64) -> (Sim, Ledger) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut sim = Sim::new(3, &[("a", 3), ("b", 2)]);
    sim.latency_ms = rng.below(4);
    sim.coordinator_node = rng.below(3) as i32;
    let transient = [
        TxnFault::Error(15),
        TxnFault::Error(16),
        TxnFault::Error(14),
        TxnFault::Error(51),
        TxnFault::DropBefore,
        TxnFault::DropAfter,
    ];
    for api in [10i16, 22, 24, 25, 26, 28] {
        let n = rng.below(3);
        let faults = (0..n).map(|_| transient[rng.below(transient.len() as u64) as usize]).collect();
        sim.txn_faults.insert(api, faults);
    }
    for (t, n) in [("a", 3), ("b", 2)] {
        for part in 0..n {
            let faults = (0..rng.below(3))
                .map(|_| match rng.below(4) {
                    0 => Fault::Error(6),
                    1 => Fault::DropBefore,
                    2 => Fault::DropAfter,
                    _ => Fault::Stall(rng.below(200)),
                })
                .collect();
            sim.faults.insert((t.to_string(), part), faults);
        }
    }
    let mut p = txn_producer(&mut sim, &[("request.timeout.ms", "1000"), ("linger.ms", "3")]);
    call(&mut sim, &mut p, TxnCall::Init).unwrap_or_else(|e| panic!("seed {seed}: init: {e:?}"));
    let mut ledger = Ledger::default();
    let group = GroupMetadata { group_id: "g".into(), generation_id: 1, member_id: "m".into(), group_instance_id: None };
    for _ in 0..(1 + rng.below(4)) {
        call(&mut sim, &mut p, TxnCall::Begin).unwrap_or_else(|e| panic!("seed {seed}: begin: {e:?}"));
        let mut ids = sim.send_n(&mut p, "a", 1 + rng.below(30) as usize);
        ids.extend(sim.send_n(&mut p, "b", rng.below(10) as usize));
        if rng.below(3) == 0 {
            let offsets = vec![OffsetToCommit { topic: "in".into(), partition: 0, offset: rng.below(1000) as i64, metadata: None }];
            call(&mut sim, &mut p, TxnCall::SendOffsets(offsets, group.clone())).unwrap_or_else(|e| panic!("seed {seed}: offsets: {e:?}"));
        }
        let t = sim.now + rng.below(50);
        sim.run(&mut p, t);
        let commit = rng.below(3) != 0;
        let end = call(&mut sim, &mut p, if commit { TxnCall::Commit } else { TxnCall::Abort });
        end.unwrap_or_else(|e| panic!("seed {seed}: {}: {e:?}", if commit { "commit" } else { "abort" }));
        ledger.txns.push((ids, commit));
    }
    let t = sim.now + 2_000;
    sim.run(&mut p, t);
    (sim, ledger)
}

#[test]
fn faults_on_every_transactional_request_keep_the_guarantees() {
    let seeds: u64 = std::env::var("KPC_TXN_SCHEDULES").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let mut faults = 0;
    for seed in 0..seeds {
        let (sim, ledger) = faulty_schedule(seed);
        faults += sim.faults_injected;
        ledger.check(&sim);
        let committed = ledger.txns.iter().filter(|t| t.1).count();
        assert_eq!(sim.txn_outcomes.iter().filter(|c| **c).count(), committed, "seed {seed}: commits at the coordinator");
    }
    eprintln!("{seeds} transactional schedules, {faults} faults injected");
    assert!(faults > seeds as usize, "the schedules inject faults");
}

// --- Found in review (each failed before its fix) ---------------------------

/// The bytes of one batch of 10 records, to set a topic limit that makes
/// such a batch too large (MESSAGE_TOO_LARGE, then a split).
fn batch_of_10_bytes() -> usize {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = begun(&mut sim, &[]);
    sim.send_n(&mut p, "a", 10);
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    sim.appended_batch_bytes as usize
}

#[test]
fn a_batch_split_while_the_transaction_aborts_stays_out_of_the_next_one() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    sim.latency_ms = 20;
    sim.topic_max_message_bytes = Some(batch_of_10_bytes() * 3 / 4);
    let mut p = begun(&mut sim, &[("linger.ms", "0")]);
    let aborted = sim.send_n(&mut p, "a", 10);
    while sim.produce_requests == 0 {
        let t = sim.now + 1;
        sim.run(&mut p, t);
    }
    // The abort starts while the too-large batch is in flight.
    call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    let committed = sim.send_n(&mut p, "a", 2);
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    let t = sim.now + 1_000;
    sim.run(&mut p, t);
    Ledger { txns: vec![(aborted, false), (committed, true)] }.check(&sim);
}

#[test]
fn a_batch_split_in_a_transaction_keeps_its_sequences_and_commits() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    sim.topic_max_message_bytes = Some(batch_of_10_bytes() * 3 / 4);
    let mut p = begun(&mut sim, &[("delivery.timeout.ms", "10000"), ("request.timeout.ms", "5000")]);
    let ids = sim.send_n(&mut p, "a", 10);
    let started = sim.now;
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    assert!(sim.now - started < 2_000, "the commit waited {} ms", sim.now - started);
    Ledger { txns: vec![(ids, true)] }.check(&sim);
}

#[test]
fn invalid_producer_epoch_on_produce_makes_the_transaction_abortable_not_fatal() {
    // As after a coordinator aborted a transaction that ran past
    // transaction.timeout.ms (KIP-588): abort, new epoch, next one commits.
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = begun(&mut sim, &[]);
    sim.faults.insert(("a".into(), 0), [Fault::Error(47)].into());
    let failed = sim.send_n(&mut p, "a", 5);
    let e = call(&mut sim, &mut p, TxnCall::Commit).expect_err("the commit fails");
    assert_ne!(e.kind, ErrorKind::Fatal, "{e:?}");
    call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    let ids = sim.send_n(&mut p, "a", 5);
    call(&mut sim, &mut p, TxnCall::Commit).expect("the next transaction commits");
    Ledger { txns: vec![(failed, false), (ids, true)] }.check(&sim);
}

#[test]
fn a_coordinator_that_lost_the_producer_id_makes_the_transaction_abortable() {
    // UNKNOWN_PRODUCER_ID, TRANSACTION_ABORTABLE on AddPartitionsToTxn: the
    // Java client aborts and bumps the epoch; so does the producer here.
    for code in [59i16, 120] {
        let mut sim = Sim::new(1, &[("a", 1)]);
        let mut p = begun(&mut sim, &[]);
        sim.txn_faults.insert(24, [TxnFault::Error(code)].into());
        let failed = sim.send_n(&mut p, "a", 5);
        let e = call(&mut sim, &mut p, TxnCall::Commit).expect_err("the commit fails");
        assert_eq!(e.kind, ErrorKind::Transaction, "code {code}: {e:?}");
        call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
        call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
        let ids = sim.send_n(&mut p, "a", 5);
        call(&mut sim, &mut p, TxnCall::Commit).expect("the next transaction commits");
        Ledger { txns: vec![(failed, false), (ids, true)] }.check(&sim);
    }
}

#[test]
fn a_commit_that_timed_out_and_is_made_again_gets_its_own_outcome() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    sim.latency_ms = 10;
    let mut p = begun(&mut sim, &[]);
    sim.send_n(&mut p, "a", 5);
    let e = sim::network::driver_call(&mut sim, &mut p, TxnCall::Commit, 0).expect_err("no time to finish");
    assert_eq!(e.kind, ErrorKind::TimedOut);
    sim::network::driver_poll(&mut sim, &mut p, 1_000);
    assert_eq!(sim.txn_outcomes, vec![true], "the commit went on in the background");
    // Made again, the commit answers with what happened to it.
    sim::network::driver_call(&mut sim, &mut p, TxnCall::Commit, 1_000).expect("the first commit's outcome");
    sim::network::driver_call(&mut sim, &mut p, TxnCall::Begin, 0).expect("begin");
    sim.send_n(&mut p, "a", 5);
    sim::network::driver_call(&mut sim, &mut p, TxnCall::Commit, 5_000).expect("the second commit");
    assert_eq!(sim.txn_outcomes, vec![true, true], "a commit reported done has its EndTxn");
}

#[test]
fn a_coordinator_that_goes_away_between_requests_is_looked_up_again() {
    let mut sim = Sim::new(2, &[("a", 1)]);
    sim.coordinator_node = 1;
    let mut p = begun(&mut sim, &[]);
    let ids = sim.send_n(&mut p, "a", 5);
    let t = sim.now + 200;
    sim.run(&mut p, t);
    // Nothing in flight to the coordinator when its broker goes.
    sim.kill_node(1);
    sim.coordinator_node = 0;
    let t = sim.now + 100;
    sim.run(&mut p, t);
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit through the new coordinator");
    Ledger { txns: vec![(ids, true)] }.check(&sim);
}

#[test]
fn an_abort_after_an_unanswered_add_partitions_still_ends_the_transaction_at_the_coordinator() {
    // The connection drops before AddPartitionsToTxn's answer: after the
    // coordinator added the partition (it has a transaction open), or
    // before (it has none). The abort must leave no transaction open.
    for fault in [TxnFault::DropAfter, TxnFault::DropBefore] {
        let mut sim = Sim::new(1, &[("a", 1)]);
        // A long backoff: the abort comes before AddPartitionsToTxn is retried.
        let mut p = sim.producer(&[("transactional.id", TXN), ("retry.backoff.ms", "2000"), ("retry.backoff.max.ms", "2000")]);
        call(&mut sim, &mut p, TxnCall::Init).expect("init");
        call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
        sim.txn_faults.insert(24, [fault].into());
        let doomed = sim.send_n(&mut p, "a", 5);
        let t = sim.now + 100;
        sim.run(&mut p, t);
        assert_eq!(sim.faults_injected, 1, "{fault:?}: AddPartitionsToTxn went out");
        call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
        let open = &sim.transactions[TXN];
        assert!(open.partitions.is_empty(), "{fault:?}: the coordinator's transaction was left open: {:?}", open.partitions);
        let expected: Vec<bool> = if fault == TxnFault::DropAfter { vec![false] } else { vec![] };
        assert_eq!(sim.txn_outcomes, expected, "{fault:?}");
        call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
        let ids = sim.send_n(&mut p, "a", 5);
        call(&mut sim, &mut p, TxnCall::Commit).expect("the next transaction commits");
        Ledger { txns: vec![(doomed, false), (ids, true)] }.check(&sim);
    }
}

#[test]
fn txn_offset_commit_acts_on_its_worst_partition_error() {
    // One partition retriable, another saying the consumer group moved on:
    // the offsets must not go in on a retry; the transaction is abortable.
    let mut sim = Sim::new(1, &[("out", 1), ("in", 2)]);
    let mut p = begun(&mut sim, &[]);
    let ids = sim.send_n(&mut p, "out", 3);
    sim.txn_offset_partition_codes = vec![(0, 3), (1, 22)]; // UNKNOWN_TOPIC_OR_PARTITION, ILLEGAL_GENERATION
    let group = GroupMetadata { group_id: "etl".into(), generation_id: 3, member_id: "m-1".into(), group_instance_id: None };
    let offsets = (0..2).map(|partition| OffsetToCommit { topic: "in".into(), partition, offset: 7, metadata: None }).collect();
    let e = call(&mut sim, &mut p, TxnCall::SendOffsets(offsets, group)).expect_err("the group moved on");
    assert_eq!((e.kind, e.code), (ErrorKind::Transaction, 22), "{e:?}");
    call(&mut sim, &mut p, TxnCall::Abort).expect("abort");
    assert!(sim.group_offsets.is_empty(), "{:?}", sim.group_offsets);
    Ledger { txns: vec![(ids, false)] }.check(&sim);
}

#[test]
fn group_metadata_before_txn_offset_commit_v3_is_refused_as_java_does() {
    let mut sim = Sim::new(1, &[("out", 1), ("in", 1)]);
    sim.max_txn_offset_commit_version = 2;
    let mut p = txn_producer(&mut sim, &[]);
    call(&mut sim, &mut p, TxnCall::Init).expect("init");
    let offsets = vec![OffsetToCommit { topic: "in".into(), partition: 0, offset: 7, metadata: None }];
    // The group id alone goes at v2.
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    let alone = GroupMetadata { group_id: "etl".into(), generation_id: -1, member_id: String::new(), group_instance_id: None };
    call(&mut sim, &mut p, TxnCall::SendOffsets(offsets.clone(), alone)).expect("group id alone");
    call(&mut sim, &mut p, TxnCall::Commit).expect("commit");
    assert_eq!(sim.group_offsets.get(&("etl".into(), "in".into(), 0)), Some(&7));
    // A generation and member id cannot be carried: refused, not dropped.
    call(&mut sim, &mut p, TxnCall::Begin).expect("begin");
    let member = GroupMetadata { group_id: "etl".into(), generation_id: 3, member_id: "m-1".into(), group_instance_id: None };
    let e = call(&mut sim, &mut p, TxnCall::SendOffsets(offsets, member)).expect_err("refused");
    assert_eq!((e.kind, e.code), (ErrorKind::Fatal, 35), "{e:?}");
    assert!(e.message.contains("needs v3"), "{}", e.message);
}
