//! Closing a transactional producer (against the simulated coordinator,
//! `tests/sim/coordinator.rs`): an open transaction is aborted, its
//! records not yet sent fail as aborted without being written, a commit
//! that fails while closing is aborted too, and the host may still call
//! `abort_transaction` and get that abort's outcome.

mod sim;

use kafka_producer_component::{ErrorKind, TxnCall, TxnOp};
use sim::txn::{begun, call, Ledger};
use sim::{Fault, Sim};

/// Records written to the partitions' logs (control markers not counted).
fn stored(sim: &Sim) -> usize {
    sim.topics.values().flatten().map(|p| p.log.len() - p.markers.len()).sum()
}

#[test]
fn closing_with_an_open_transaction_aborts_it() {
    let mut sim = Sim::new(1, &[("a", 2)]);
    let mut p = begun(&mut sim, &[]);
    let ids = sim.send_n(&mut p, "a", 30);
    let t = sim.now + 50;
    sim.run(&mut p, t);
    p.close(sim.now, 5_000);
    let t = sim.now + 6_000;
    sim.run(&mut p, t);
    assert_eq!(p.unreported(), 0);
    assert_eq!(sim.txn_outcomes, vec![false], "the open transaction was aborted at the coordinator");
    Ledger { txns: vec![(ids, false)] }.check(&sim);
}

#[test]
fn a_commit_that_fails_while_closing_is_aborted_before_the_producer_closes() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = begun(&mut sim, &[]);
    let ids = sim.send_n(&mut p, "a", 10);
    let t = sim.now + 50;
    sim.run(&mut p, t);
    // The commit runs when close is called; a record then fails.
    sim.faults.insert(("a".into(), 0), [Fault::Error(87)].into()); // INVALID_RECORD
    let more = sim.send_n(&mut p, "a", 5);
    p.transaction(TxnCall::Commit).expect("commit starts");
    p.close(sim.now, 5_000);
    let t = sim.now + 6_000;
    sim.run(&mut p, t);
    assert_eq!(p.unreported(), 0);
    let commit = sim.txn_results.iter().find(|r| r.op == kafka_producer_component::TxnOp::Commit).expect("the commit's outcome");
    assert_eq!(commit.error.as_ref().map(|e| e.code), Some(87), "{commit:?}");
    assert_eq!(sim.txn_outcomes, vec![false], "the failed transaction was aborted at the coordinator before closing");
    Ledger { txns: vec![([ids, more].concat(), false)] }.check(&sim);
}

#[test]
fn closing_fails_an_open_transactions_queued_records_as_aborted_without_writing_them() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    let mut p = begun(&mut sim, &[("linger.ms", "1000")]);
    let written = sim.send_n(&mut p, "a", 5);
    let t = sim.now + 1_500;
    sim.run(&mut p, t);
    assert_eq!(stored(&sim), 5, "the first records went out after linger.ms");
    // These wait for linger.ms when close is called.
    let queued = sim.send_n(&mut p, "a", 5);
    p.close(sim.now, 5_000);
    let t = sim.now + 6_000;
    sim.run(&mut p, t);
    assert_eq!(p.unreported(), 0);
    for id in &queued {
        let r = sim.reports.iter().find(|r| r.records.contains(id)).expect("a report for every record");
        assert_eq!(r.error.as_ref().map(|e| e.kind), Some(ErrorKind::Aborted), "{r:?}");
    }
    assert_eq!(stored(&sim), 5, "records of a transaction being aborted are not sent");
    assert_eq!(sim.txn_outcomes, vec![false]);
    Ledger { txns: vec![([written, queued].concat(), false)] }.check(&sim);
}

#[test]
fn an_abort_called_after_a_commit_failed_while_closing_gets_that_aborts_outcome() {
    let mut sim = Sim::new(1, &[("a", 1)]);
    // Time for the host to call while the abort is under way.
    sim.latency_ms = 5;
    let mut p = begun(&mut sim, &[]);
    sim.faults.insert(("a".into(), 0), [Fault::Error(87)].into()); // INVALID_RECORD
    let ids = sim.send_n(&mut p, "a", 5);
    p.transaction(TxnCall::Commit).expect("commit starts");
    p.close(sim.now, 5_000);
    let give_up = sim.now + 5_000;
    while !sim.txn_results.iter().any(|r| r.op == TxnOp::Commit) {
        assert!(sim.now < give_up, "the commit never finished");
        let t = sim.now + 1;
        sim.run(&mut p, t);
    }
    // Closing has started the abort; the host's own abort waits for it.
    call(&mut sim, &mut p, TxnCall::Abort).expect("the abort's outcome");
    let t = sim.now + 6_000;
    sim.run(&mut p, t);
    assert_eq!(p.unreported(), 0);
    assert_eq!(sim.txn_outcomes, vec![false]);
    Ledger { txns: vec![(ids, false)] }.check(&sim);
}

#[test]
fn a_transactional_call_still_running_at_the_close_deadline_fails_as_closed() {
    // The abort close starts is answered after the deadline: the host's
    // abort, made during the close or after it, gets an outcome (closed)
    // instead of none.
    for call_after_ms in [5, 100] {
        let mut sim = Sim::new(1, &[("a", 1)]);
        sim.latency_ms = 40;
        let mut p = begun(&mut sim, &[]);
        let ids = sim.send_n(&mut p, "a", 5);
        let t = sim.now + 300;
        sim.run(&mut p, t);
        p.close(sim.now, 30);
        let t = sim.now + call_after_ms;
        sim.run(&mut p, t);
        let e = call(&mut sim, &mut p, TxnCall::Abort).expect_err("closed before the abort was answered");
        assert_eq!(e.kind, ErrorKind::Closed, "after {call_after_ms} ms: {e:?}");
        // Closed means closed: no connection is opened again.
        let connects = sim.connects;
        let t = sim.now + 10_000;
        sim.run(&mut p, t);
        assert_eq!(sim.connects, connects, "after {call_after_ms} ms");
        assert_eq!(p.unreported(), 0);
        Ledger { txns: vec![(ids, false)] }.check(&sim);
    }
}
