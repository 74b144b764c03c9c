//! Unit tests of `producer::transaction_manager`: sequences, the epoch
//! bump's bookkeeping, and the disposition table.

use super::*;
use crate::accumulator::Accumulator;
use crate::error_codes::{
    CORRUPT_MESSAGE, INVALID_RECORD, NETWORK_EXCEPTION, NOT_LEADER_OR_FOLLOWER, TOPIC_AUTHORIZATION_FAILED, UNKNOWN_SERVER_ERROR,
};
use crate::record::Record;
use Disposition::*;

fn granted(producer_id: i64, epoch: i16) -> TransactionManager {
    let mut t = TransactionManager::default();
    t.on_granted(ProducerIdAndEpoch { producer_id, epoch });
    t
}

#[test]
fn drained_batches_get_consecutive_sequences_and_keep_them_for_retries() {
    // (Was the accumulator's test: the sequences are the transaction
    // manager's now, and the count in flight the sender's.)
    let mut acc = Accumulator::default();
    acc.ensure_partitions(0, 1);
    let rec = Record { value: Some(&[1u8; 100]), ..Default::default() };
    for id in 0..30 {
        acc.append(0, 0, &rec, 1000, id, 0, 1024);
    }
    let mut txn = granted(7, 0);
    let a = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    let b = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    let (ia, ib) = (a.identity.unwrap(), b.identity.unwrap());
    assert_eq!((ia.producer_id, ia.producer_epoch, ia.base_sequence), (7, 0, 0));
    assert_eq!(ib.base_sequence, a.record_count() as i32);
    assert_eq!(i32::from_be_bytes(a.bytes()[53..57].try_into().unwrap()), 0, "baseSequence in the header");
    assert_eq!(txn.sequences((0, 0)).next_sequence, (a.record_count() + b.record_count()) as i32);
    // A retry in the same epoch keeps its sequence; after an epoch bump it
    // is re-stamped from 0.
    acc.reenqueue(a);
    let again = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    assert_eq!(again.identity.unwrap().base_sequence, 0);
    acc.reenqueue(again);
    txn.on_granted(ProducerIdAndEpoch { producer_id: 7, epoch: 1 });
    acc.clear_unresolved();
    let bumped = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    assert_eq!(bumped.identity.unwrap().producer_epoch, 1);
    assert_eq!(bumped.identity.unwrap().base_sequence, 0);
    assert_eq!(i16::from_be_bytes(bumped.bytes()[51..53].try_into().unwrap()), 1, "epoch re-stamped");
    assert_eq!(u32::from_be_bytes(bumped.bytes()[17..21].try_into().unwrap()), crate::batch::crc32c(&bumped.bytes()[21..]));
}

#[test]
fn without_a_producer_id_batches_carry_no_identity() {
    let mut acc = Accumulator::default();
    acc.ensure_partitions(0, 1);
    acc.append(0, 0, &Record { value: Some(b"v"), ..Default::default() }, 1, 1, 0, 1024);
    let mut txn = TransactionManager::default();
    let b = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    assert_eq!(b.identity, None);
    assert_eq!(crate::batch::stamped_identity(b.bytes()), Some(ProducerIdentity::NONE));
}

#[test]
fn acks_shifts_and_unwritten_ranges_are_per_partition() {
    let mut acc = Accumulator::default();
    acc.ensure_partitions(0, 2);
    let rec = Record { value: Some(&[1u8; 100]), ..Default::default() };
    for id in 0..4 {
        acc.append(0, (id % 2) as i32, &rec, 1000, id, 0, 150); // one record per batch
    }
    let mut txn = granted(3, 0);
    let first = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    let second = acc.take_front(0, 0, |b| txn.stamp(b)).unwrap();
    assert!(txn.is_next_expected(&first) && !txn.is_next_expected(&second));
    txn.on_acked(&first);
    assert_eq!(txn.sequences((0, 0)).last_acked, 0);
    assert!(txn.is_next_expected(&second));
    assert_eq!(txn.sequences((0, 1)), PartitionSequences::default(), "the other partition is untouched");
    // The second batch failed for good: the next sequence moves back.
    txn.shift_next_sequence((0, 0), second.identity.unwrap(), 1);
    assert_eq!(txn.sequences((0, 0)).next_sequence, 1);
    // A batch after a range known never written is not of unknown outcome.
    let mut third = acc.take_front(0, 1, |b| txn.stamp(b)).unwrap();
    third.unresolved = true;
    assert!(txn.is_unresolved(&third) && txn.holds_bump_back(&third));
    txn.request_bump((0, 1), true);
    assert!(!txn.holds_bump_back(&third), "its partition is broken anyway");
    txn.never_written((0, 1), ProducerIdentity { producer_id: 3, producer_epoch: 0, base_sequence: -1 });
    assert!(!txn.is_unresolved(&third));
}

#[test]
fn a_bump_waits_for_batches_in_flight_and_batches_of_unknown_outcome() {
    let mut txn = granted(9, 4);
    assert_eq!(txn.wants_request(0, 0, false), None, "nothing asked for");
    txn.request_bump((0, 0), true);
    assert!(!txn.may_send((0, 0), true), "a broken partition sends nothing before the bump");
    assert!(txn.may_send((0, 1), true) && !txn.may_send((0, 1), false), "others only what is stamped already");
    assert_eq!(txn.wants_request(0, 1, false), None);
    assert_eq!(txn.wants_request(0, 0, true), None);
    let current = ProducerIdAndEpoch { producer_id: 9, epoch: 4 };
    assert_eq!(txn.wants_request(0, 0, false), Some(current));
    txn.on_request_sent();
    txn.on_request_failed(100, 50);
    assert_eq!(txn.wants_request(149, 0, false), None, "backing off");
    assert_eq!(txn.wants_request(150, 0, false), Some(current), "the bump asks with the old epoch");
    txn.on_granted(ProducerIdAndEpoch { producer_id: 9, epoch: 5 });
    assert!(txn.may_send((0, 0), false) && txn.broken.is_empty());
}

/// The facts of an idempotent batch of several records, nothing unusual.
fn idem() -> BatchFacts {
    BatchFacts { idempotent: true, splittable: true, next_expected: false, earlier_outstanding: true, ..BatchFacts::default() }
}

/// The facts of a batch without idempotence.
fn plain() -> BatchFacts {
    BatchFacts { splittable: true, ..BatchFacts::default() }
}

#[test]
fn the_disposition_of_each_answer() {
    let oos = OUT_OF_ORDER_SEQUENCE_NUMBER;
    #[rustfmt::skip]
    let table: &[(&str, BatchFacts, Option<i16>, Disposition)] = &[
        ("success", plain(), Some(NONE), Complete),
        ("success, idempotent", idem(), Some(NONE), Complete),
        ("a duplicate is already written", idem(), Some(DUPLICATE_SEQUENCE_NUMBER), Complete),
        ("without idempotence a duplicate is an error", plain(), Some(DUPLICATE_SEQUENCE_NUMBER), Fail),
        ("missing from the response", plain(), None, Fail),
        ("missing, idempotent: sequences unknown", idem(), None, BumpEpochThenFail),
        ("retriable", plain(), Some(NOT_LEADER_OR_FOLLOWER), Retry),
        ("retriable, idempotent", idem(), Some(NETWORK_EXCEPTION), Retry),
        ("retriable after append", idem(), Some(REQUEST_TIMED_OUT), Retry),
        ("CORRUPT_MESSAGE is retriable", plain(), Some(CORRUPT_MESSAGE), Retry),
        ("fatal", plain(), Some(TOPIC_AUTHORIZATION_FAILED), Fail),
        ("fatal, unknown code", plain(), Some(31_000), Fail),
        ("fatal, idempotent, never written: shift", idem(), Some(INVALID_RECORD), ShiftAndFail),
        ("fatal, idempotent, maybe written: bump", BatchFacts { unresolved: true, ..idem() }, Some(UNKNOWN_SERVER_ERROR), BumpEpochThenFail),
        ("too large: split", plain(), Some(MESSAGE_TOO_LARGE), Split),
        ("too large, idempotent: split", idem(), Some(MESSAGE_TOO_LARGE), Split),
        ("too large, one record", BatchFacts { splittable: false, ..plain() }, Some(MESSAGE_TOO_LARGE), Fail),
        ("too large, one record, idempotent", BatchFacts { splittable: false, ..idem() }, Some(MESSAGE_TOO_LARGE), ShiftAndFail),
        ("too large, maybe written: no split", BatchFacts { unresolved: true, ..plain() }, Some(MESSAGE_TOO_LARGE), Fail),
        ("too large, maybe written, idempotent", BatchFacts { unresolved: true, ..idem() }, Some(MESSAGE_TOO_LARGE), BumpEpochThenFail),
        ("too large after the close deadline", BatchFacts { closed: true, ..plain() }, Some(MESSAGE_TOO_LARGE), Fail),
        ("out of order, without idempotence: fatal", plain(), Some(oos), Fail),
        ("out of order behind an earlier failure", idem(), Some(oos), Retry),
        ("out of order, the next expected: state lost", BatchFacts { next_expected: true, ..idem() }, Some(oos), BumpEpochThenRetry),
        ("out of order, nothing earlier left: stranded", BatchFacts { earlier_outstanding: false, ..idem() }, Some(oos), BumpEpochThenRetry),
        ("out of order after a shift: expected", BatchFacts { shifted: true, next_expected: true, ..idem() }, Some(oos), Retry),
        ("out of order, shifted and stranded", BatchFacts { shifted: true, earlier_outstanding: false, ..idem() }, Some(oos), Retry),
        ("unknown producer id", idem(), Some(UNKNOWN_PRODUCER_ID), BumpEpochThenRetry),
        ("invalid producer epoch", idem(), Some(INVALID_PRODUCER_EPOCH), BumpEpochThenRetry),
        ("producer fenced", BatchFacts { unresolved: true, ..idem() }, Some(PRODUCER_FENCED), BumpEpochThenRetry),
        ("producer fenced, without idempotence", plain(), Some(PRODUCER_FENCED), Fail),
    ];
    for (what, facts, error, want) in table {
        assert_eq!(disposition(facts, *error), *want, "{what}");
    }
}

#[test]
fn whether_an_answer_leaves_the_outcome_unknown() {
    #[rustfmt::skip]
    let table: &[(&str, i16, bool, bool, bool)] = &[
        // (what, code, idempotent, unresolved before, after)
        ("success resolves", NONE, false, true, false),
        ("a duplicate resolves", DUPLICATE_SEQUENCE_NUMBER, true, true, false),
        ("a duplicate without idempotence does not", DUPLICATE_SEQUENCE_NUMBER, false, true, true),
        ("timed out after append: maybe written", REQUEST_TIMED_OUT, false, false, true),
        ("not enough replicas after append", NOT_ENOUGH_REPLICAS_AFTER_APPEND, true, false, true),
        ("out of order: never written", OUT_OF_ORDER_SEQUENCE_NUMBER, true, true, false),
        ("out of order without idempotence: unchanged", OUT_OF_ORDER_SEQUENCE_NUMBER, false, true, true),
        ("unknown producer id: the broker holds nothing", UNKNOWN_PRODUCER_ID, true, true, false),
        ("an error to a retry says nothing of an earlier attempt", NOT_LEADER_OR_FOLLOWER, true, true, true),
        ("nor does a fatal one", MESSAGE_TOO_LARGE, true, false, false),
    ];
    for &(what, code, idempotent, before, after) in table {
        assert_eq!(unresolved_after(code, idempotent, before), after, "{what}");
    }
}

#[test]
fn only_a_lost_state_releases_a_partitions_batches_of_unknown_outcome_to_a_bump() {
    // An epoch error says nothing of an earlier attempt: a batch of
    // unknown outcome is resolved before the bump re-stamps it.
    let table: &[(&str, i16, bool)] = &[
        ("unknown producer id: the broker lost the sequences", UNKNOWN_PRODUCER_ID, true),
        ("out of order for the next sequence", OUT_OF_ORDER_SEQUENCE_NUMBER, true),
        ("invalid producer epoch", INVALID_PRODUCER_EPOCH, false),
        ("producer fenced", PRODUCER_FENCED, false),
    ];
    for &(what, code, lost) in table {
        assert_eq!(sequences_lost(code), lost, "{what}");
    }
}
