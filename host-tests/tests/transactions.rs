//! Transactions through the engine component against Tansu, read back by
//! confluent-kafka. Tansu shows the protocol path (InitProducerId with a
//! transactional id, AddPartitionsToTxn, EndTxn, fencing of an older
//! instance, control batches); it cannot show isolation: its
//! read_committed view includes aborted records. What aborted and fenced
//! transactions leave visible is verified against the simulated
//! coordinator (`tests/transactions.rs` in the core).

use std::time::Duration;

use host_tests::*;
use kafka_producer_host::value_record;

const T: Duration = Duration::from_secs(30);

/// `request.timeout.ms` below the calls' 30 s, so a request left
/// unanswered is retried within a call. Once in a CI run, init did not
/// finish within 30 s (the default request timeout) and could not be
/// reproduced in 80 loaded runs; a failing call now prints the producer's
/// warnings.
fn txn_client(broker: &Broker, id: &str) -> Client {
    client(&[("bootstrap.servers", &broker.bootstrap()), ("transactional.id", id), ("linger.ms", "5"), ("request.timeout.ms", "5000")])
}

fn ok(c: &mut Client, call: TxnCall) {
    let what = format!("{call:?}");
    // On failure, the producer's warnings say what it met on the way.
    if let Err(e) = c.transaction(call, T).unwrap() {
        panic!("{what}: {e:?}; warnings: {:?}", c.warnings);
    }
}

#[test]
fn committed_transactions_read_back_byte_exact() {
    let broker = Broker::start().unwrap();
    broker.create_topic("orders", 3).unwrap();
    let mut c = txn_client(&broker, "orders-1");
    ok(&mut c, TxnCall::Init);
    let records = mixed_records(3_000);
    let (mut ids, mut reports) = (Vec::new(), Vec::new());
    let sent_from_ms = now_ms();
    for chunk in records.chunks(1_000) {
        ok(&mut c, TxnCall::Begin);
        let sent = c.send_all("orders", chunk, T).unwrap();
        assert!(sent.rejected.is_empty(), "{:?}", sent.rejected);
        ids.extend(sent.ids);
        reports.extend(sent.reports);
        ok(&mut c, TxnCall::Commit);
        // A commit returns once every record of the transaction is acknowledged.
        assert_eq!(c.unreported(), 0);
        reports.extend(c.driver.take_reports());
    }
    reports.extend(c.close(T).unwrap());
    let produced = Produced { records, ids, reports, sent_from_ms, sent_to_ms: now_ms() };
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "orders", 3, 3_000).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
}

#[test]
fn a_newer_instance_fences_the_older_one() {
    let broker = Broker::start().unwrap();
    broker.create_topic("fence", 2).unwrap();
    let mut old = txn_client(&broker, "fence-1");
    ok(&mut old, TxnCall::Init);
    ok(&mut old, TxnCall::Begin);
    let recs: Vec<KafkaRecord> = (0..50).map(|i| KafkaRecord { partition: Some(0), ..value_record(format!("old-{i}").as_bytes()) }).collect();
    old.send_all("fence", &recs, T).unwrap();
    old.flush_and_wait(T).unwrap();

    let mut new = txn_client(&broker, "fence-1");
    ok(&mut new, TxnCall::Init);
    // Its next records (to a partition not yet in its transaction, so an
    // AddPartitionsToTxn goes too) meet the new epoch.
    let more: Vec<KafkaRecord> = (0..10).map(|i| KafkaRecord { partition: Some(1), ..value_record(format!("old-more-{i}").as_bytes()) }).collect();
    old.send_all("fence", &more, T).unwrap();
    let _ = old.flush_and_wait(Duration::from_secs(5));
    let e = old.transaction(TxnCall::Commit, T).unwrap().expect_err("the older instance is fenced");
    assert_eq!(e.kind, ErrorKind::Fatal, "{e:?}");
    assert!(e.message.contains("fenced") || e.message.contains("EPOCH"), "{}", e.message);
    let late = old.send_all("fence", &[value_record(b"late")], T).unwrap();
    assert_eq!(late.rejected.len(), 1, "a fenced producer takes no records");
    assert_eq!(late.rejected[0].1.kind, ErrorKind::Fatal);

    ok(&mut new, TxnCall::Begin);
    let recs: Vec<KafkaRecord> = (0..50).map(|i| value_record(format!("new-{i}").as_bytes())).collect();
    new.send_all("fence", &recs, T).unwrap();
    ok(&mut new, TxnCall::Commit);
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "fence", 2, 100).unwrap();
    let new_seen = read.iter().filter(|r| r.value.as_deref().is_some_and(|v| v.starts_with(b"new-"))).count();
    assert_eq!(new_seen, 50, "the newer instance's transaction committed");
}

#[test]
fn calls_out_of_order_are_errors_not_hangs() {
    let broker = Broker::start().unwrap();
    let mut c = txn_client(&broker, "order-1");
    let e = c.transaction(TxnCall::Commit, T).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transaction);
    let sent = c.send_all("order", &[value_record(b"x")], T).unwrap();
    assert_eq!(sent.rejected[0].1.kind, ErrorKind::Transaction, "a send outside a transaction is refused");
    ok(&mut c, TxnCall::Init);
    let e = c.transaction(TxnCall::Abort, T).unwrap().unwrap_err();
    assert!(e.message.contains("no transaction is open"), "{}", e.message);
}
