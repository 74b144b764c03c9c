//! Unit tests of `accumulator`.

use super::*;

#[test]
fn records_fill_a_batch_then_open_the_next() {
    let mut acc = Accumulator::default();
    acc.ensure_partitions(0, 1);
    let value = [7u8; 100];
    let rec = Record { value: Some(&value), ..Default::default() };
    for id in 0..50 {
        acc.append(0, 0, &rec, 1000, id, 0, 1024);
    }
    let q = &acc.topics[0].partitions[0];
    assert!(q.batches.len() > 1);
    for b in q.batches.iter().take(q.batches.len() - 1) {
        assert!(b.byte_len() <= 1024);
    }
    let ids: Vec<u64> = q.batches.iter().flat_map(|b| b.record_ids.iter().copied()).collect();
    assert_eq!(ids, (0..50).collect::<Vec<_>>());
    assert_eq!(acc.queued_batches(), q.batches.len());
    // Batches sealed when full keep their bytes when taken for sending.
    let n = q.batches.len();
    for _ in 0..n {
        let b = acc.take_front(0, 0, |_| ProducerIdentity::NONE).unwrap();
        assert_eq!(b.bytes().len(), b.byte_len());
        assert!(b.bytes().len() > crate::batch::BATCH_HEADER_LEN);
    }
}

#[test]
fn ready_after_linger_or_when_more_batches_wait() {
    let mut acc = Accumulator::default();
    acc.ensure_partitions(0, 1);
    let rec = Record { value: Some(b"v"), ..Default::default() };
    acc.append(0, 0, &rec, 1, 1, 100, 1 << 20);
    let q = &acc.topics[0].partitions[0];
    assert!(!Accumulator::front_ready(q, 104, 5, 1 << 20, false));
    assert!(Accumulator::front_ready(q, 105, 5, 1 << 20, false));
    assert!(Accumulator::front_ready(q, 100, 5, 1 << 20, true));
    assert_eq!(Accumulator::front_ready_at(q, 5), Some(105));
}

#[test]
fn pending_records_replay_byte_for_byte() {
    let mut p = Pending::default();
    let hs = [Header { key: "a", value: None }, Header { key: "b", value: Some(b"x") }];
    p.push(9, 50, 1234, &Record { key: None, value: Some(b""), headers: &hs, partition: Some(2), timestamp: None });
    p.push(10, 51, 1235, &Record { key: Some(b"k"), value: None, headers: &[], partition: None, timestamp: None });
    let mut seen = Vec::new();
    p.drain(|r, h| seen.push((r.id, r.accepted_ms, r.timestamp, r.partition, r.key.map(<[u8]>::to_vec), r.value.map(<[u8]>::to_vec), h.to_vec().len())));
    assert_eq!(seen[0], (9, 50, 1234, Some(2), None, Some(Vec::new()), 2));
    assert_eq!(seen[1], (10, 51, 1235, None, Some(b"k".to_vec()), None, 0));
    assert_eq!(p.count, 0);
}
