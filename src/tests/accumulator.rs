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
fn batches_grow_on_demand_and_buffer_memory_counts_what_they_hold() {
    let mut acc = Accumulator::new((Codec::None, -1), false, 32 << 20);
    acc.ensure_partitions(0, 1);
    let value = [3u8; 1000];
    let rec = Record { value: Some(&value), ..Default::default() };
    let batch_size = 1_000_000;
    acc.append(0, 0, &rec, 1, 0, 0, batch_size);
    let capacity = |acc: &Accumulator| match &acc.topics[0].partitions[0].batches[0].body {
        Body::Open(w) => w.capacity(),
        _ => unreachable!(),
    };
    // A new batch starts small, not at batch.size...
    assert_eq!(capacity(&acc), MIN_BATCH_CAPACITY);
    assert_eq!(acc.reserved, MIN_BATCH_CAPACITY);
    // ...and doubles as records come, buffer.memory following it.
    for id in 1..100 {
        acc.append(0, 0, &rec, 1, id, 0, batch_size);
    }
    let b = &acc.topics[0].partitions[0].batches[0];
    assert_eq!(acc.topics[0].partitions[0].batches.len(), 1, "100 KB fit one batch of batch.size 1 MB");
    assert!(b.byte_len() > 100_000);
    assert_eq!(capacity(&acc), MIN_BATCH_CAPACITY * 8, "16 KiB doubled to 128 KiB");
    assert_eq!((b.reserved, acc.reserved), (capacity(&acc), capacity(&acc)));
    // Never past batch.size: a batch that would be larger starts the next.
    let full = acc.topics[0].partitions[0].batches[0].byte_len();
    let taken = acc.take_front(0, 0, |_| ProducerIdentity::NONE).unwrap();
    acc.release(&taken);
    assert_eq!(acc.reserved, 0);
    // The next batch of the partition starts with room for what the last held.
    acc.append(0, 0, &rec, 1, 100, 0, batch_size);
    assert_eq!(capacity(&acc), full.next_power_of_two());
    for id in 101..2_000 {
        acc.append(0, 0, &rec, 1, id, 0, batch_size);
    }
    for b in &acc.topics[0].partitions[0].batches {
        assert!(b.byte_len() <= batch_size && b.reserved <= batch_size, "{} / {}", b.byte_len(), b.reserved);
    }
    let held: usize = acc.topics[0].partitions[0].batches.iter().map(|b| b.reserved).sum();
    assert_eq!(acc.reserved, held);
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

/// Fills and seals one batch of topic 0 at the current limit with 1,000
/// byte records taken from `data` in turn; returns its uncompressed and
/// compressed sizes.
fn fill_and_seal(acc: &mut Accumulator, data: &[u8], batch_size: usize, max_len: usize) -> (usize, usize) {
    let limit = acc.batch_limit(0, batch_size, max_len);
    let mut id = 0;
    while acc.topics[0].partitions[0].batches.len() < 2 {
        let at = (id as usize * 1000) % (data.len() - 999);
        let rec = Record { value: Some(&data[at..at + 1000]), ..Default::default() };
        acc.append(0, 0, &rec, 1, id, 0, limit);
        id += 1;
    }
    let open = acc.topics[0].partitions[0].batches[0].byte_len();
    let b = acc.take_front(0, 0, |_| ProducerIdentity::NONE).unwrap();
    acc.release(&b);
    acc.topics[0].partitions[0].batches.clear();
    acc.queued_batches = 0;
    (open, b.byte_len())
}

#[test]
fn with_compression_batch_size_bounds_the_compressed_batch() {
    // As in the Java client: compressible records fill batch.size after
    // compression, so a batch holds more than batch.size of records.
    let batch_size = 16_384;
    let max_len = 1_000_000;
    let mut acc = Accumulator::new((Codec::Lz4, -1), false, 32 << 20);
    acc.ensure_partitions(0, 1);
    assert_eq!(acc.batch_limit(0, batch_size, max_len), batch_size, "no estimate yet: batch.size as is");
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; ".iter().copied().cycle().take(1000).collect();
    let mut sizes = Vec::new();
    for _ in 0..20 {
        sizes.push(fill_and_seal(&mut acc, &text, batch_size, max_len));
    }
    let (open, sealed) = *sizes.last().unwrap();
    assert!(open > 4 * batch_size, "the batch held {open} bytes of records: batch.size scaled by the ratio");
    assert!(sealed <= batch_size * 3 / 2, "compressed to {sealed}: about batch.size");
    // Never past the bound that keeps any batch under the broker's limits.
    assert_eq!(acc.batch_limit(0, batch_size, 50_000), 50_000);
    // Records that stop compressing bring the limit back at once.
    let mut noise = alloc::vec![0u8; 2_000_000];
    let mut x = 0x9e37_79b9u32;
    for b in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    fill_and_seal(&mut acc, &noise, batch_size, max_len);
    assert!(acc.batch_limit(0, batch_size, max_len) <= batch_size * 21 / 20, "{}", acc.batch_limit(0, batch_size, max_len));
    // Without compression, batch.size is the records' bytes.
    let acc = Accumulator::new((Codec::None, -1), false, 32 << 20);
    assert_eq!(acc.batch_limit(0, batch_size, max_len), batch_size);
}
