//! Collects records into per-partition batches (the Java client's
//! `RecordAccumulator`). Each partition has a queue of batches; only the
//! last one is open for appends. A batch is ready to send when it is full
//! (`batch.size`), has lingered `linger.ms`, is being flushed, or waits for
//! a retry whose backoff has passed.
//!
//! Records for a topic whose partitions are not known yet wait, encoded
//! compactly in one buffer per topic, until metadata arrives.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::batch::{restamp, BatchWriter, ProducerIdentity};
use crate::codec::Codec;
use crate::metadata::TopicIdx;
use crate::record::{Header, Record, RecordId};
use crate::wire::{Reader, Writer};

#[derive(Debug)]
enum Body {
    Open(BatchWriter),
    Closed(Vec<u8>),
    /// Only while switching from open to closed.
    Empty,
}

/// One RecordBatch on its way to a partition, with the ids of its records.
#[derive(Debug)]
pub struct ProducerBatch {
    pub topic: TopicIdx,
    pub partition: i32,
    body: Body,
    pub record_ids: Vec<RecordId>,
    /// When the first record was accepted: linger and delivery timeout
    /// count from here.
    pub created_ms: u64,
    /// Produce attempts so far.
    pub attempts: u32,
    /// Not to be sent again before this (retry backoff).
    pub retry_at_ms: u64,
    /// Its place among this partition's batches (not a Kafka sequence
    /// number): a batch owns the keys `order_key .. order_key +
    /// order_span`, which its halves share if it is split, so a retry goes
    /// back before younger batches.
    pub order_key: u64,
    order_span: u64,
    /// Producer id, epoch and base sequence, once drained (idempotence).
    pub identity: Option<ProducerIdentity>,
    /// Bytes of `buffer.memory` this batch holds until it is reported.
    pub reserved: usize,
    /// It was sent and no answer came (connection lost, request timed
    /// out): the broker may or may not have it.
    pub unresolved: bool,
}

impl ProducerBatch {
    pub fn is_open(&self) -> bool {
        matches!(self.body, Body::Open(_))
    }

    /// Whether new records may join it: open and never sent. A split
    /// half is open (it is encoded when sent again) but keeps its place
    /// before batches already in flight, so new records must not join it.
    pub fn takes_records(&self) -> bool {
        self.is_open() && self.attempts == 0
    }

    pub fn byte_len(&self) -> usize {
        match &self.body {
            Body::Open(w) => w.len(),
            Body::Closed(b) => b.len(),
            Body::Empty => 0,
        }
    }

    pub fn record_count(&self) -> usize {
        self.record_ids.len()
    }

    /// Seals the batch with `identity` (header and CRC written), or
    /// re-stamps an already sealed batch whose identity changed.
    pub fn seal(&mut self, identity: ProducerIdentity, codec: (Codec, i32), transactional: bool) {
        match core::mem::replace(&mut self.body, Body::Empty) {
            Body::Open(w) => self.body = Body::Closed(w.finish_with(identity, codec.0, codec.1, transactional)),
            Body::Closed(mut b) => {
                if self.stamped() != Some(identity) {
                    restamp(&mut b, identity);
                }
                self.body = Body::Closed(b);
            }
            Body::Empty => {}
        }
        self.identity = (identity != ProducerIdentity::NONE).then_some(identity);
    }

    /// The identity in the sealed bytes, which differs from `identity`
    /// once the sequences were shifted after the batch was sent (see the
    /// transaction manager).
    pub fn stamped(&self) -> Option<ProducerIdentity> {
        let Body::Closed(b) = &self.body else { return None };
        crate::batch::stamped_identity(b)
    }

    /// The finished RecordBatch bytes (empty until closed).
    pub fn bytes(&self) -> &[u8] {
        match &self.body {
            Body::Closed(b) => b,
            _ => &[],
        }
    }
}

impl ProducerBatch {
    /// Splits a sealed batch of two or more records into two, in order,
    /// for a broker that found it too large (MESSAGE_TOO_LARGE). The
    /// halves keep the batch's place and attempts; they carry no sequence
    /// (the partition is re-sequenced after an epoch bump: see the
    /// sender's handling of MESSAGE_TOO_LARGE).
    pub fn split(&self, now: u64) -> Option<(ProducerBatch, ProducerBatch)> {
        let n = self.record_ids.len();
        if n < 2 {
            return None;
        }
        let half = n / 2;
        let cap = self.byte_len();
        let mut parts = [BatchWriter::new(Vec::with_capacity(cap / 2 + 64)), BatchWriter::new(Vec::with_capacity(cap / 2 + 64))];
        let mut i = 0;
        crate::batch::read_records(self.bytes(), |rec, ts| {
            parts[usize::from(i >= half)].append(rec, ts);
            i += 1;
        })
        .ok()?;
        if i != n {
            return None;
        }
        let [a, b] = parts;
        let (ids_a, ids_b) = self.record_ids.split_at(half);
        let make = |w: BatchWriter, ids: &[RecordId], identity: Option<ProducerIdentity>, reserved: usize| ProducerBatch {
            topic: self.topic,
            partition: self.partition,
            body: Body::Open(w),
            record_ids: ids.to_vec(),
            created_ms: self.created_ms,
            attempts: self.attempts,
            retry_at_ms: now,
            order_key: self.order_key,
            order_span: self.order_span,
            identity,
            reserved,
            unresolved: self.unresolved,
        };
        let (mut first, mut second) = (make(a, ids_a, None, self.reserved), make(b, ids_b, None, 0));
        first.order_span = self.order_span / 2;
        second.order_key = self.order_key + self.order_span / 2;
        second.order_span = self.order_span / 2;
        Some((first, second))
    }
}

/// The smallest buffer a new batch starts with (or `batch.size`, if less).
pub const MIN_BATCH_CAPACITY: usize = 16 * 1024;

/// The batches of one partition not in flight, oldest first. (Its
/// sequence numbers are the transaction manager's; its batches in flight
/// the sender's.)
#[derive(Debug, Default)]
pub struct PartitionQueue {
    pub batches: VecDeque<ProducerBatch>,
    /// The ordering key the next new batch gets.
    next_order_key: u64,
    /// How large the partition's last batch grew (unsealed): the next one
    /// starts with room for about as much.
    last_batch_len: usize,
}

impl PartitionQueue {
    /// The buffer a new batch of this partition starts with: room for
    /// what the last one held, rounded up to a power of two (so freed
    /// buffers fit the next ones and the heap does not fragment), at least
    /// `MIN_BATCH_CAPACITY`, at most `batch_size` (and always `need`, the
    /// first record). A batch grows on demand from there, doubling up to
    /// `batch_size`; in a steady flow it never has to, so each record is
    /// copied once, into its place in the batch.
    fn first_capacity(&self, batch_size: usize, need: usize) -> usize {
        self.last_batch_len.next_power_of_two().max(MIN_BATCH_CAPACITY).min(batch_size).max(need)
    }

    /// Puts a batch that failed back where it was, before younger batches.
    pub fn reenqueue(&mut self, batch: ProducerBatch) {
        let at = self.batches.iter().position(|b| b.order_key > batch.order_key).unwrap_or(self.batches.len());
        self.batches.insert(at, batch);
    }
}

/// Ordering keys each new batch owns: room for 32 splits in halves.
const ORDER_KEYS_PER_BATCH: u64 = 1 << 32;

/// Records accepted for a topic whose partitions are not known yet.
#[derive(Debug, Default)]
pub struct Pending {
    /// Records in chunks of about `PENDING_CHUNK` bytes: no large
    /// reallocation while they pile up, and each chunk is freed as soon as
    /// its records are replayed into batches.
    chunks: VecDeque<Vec<u8>>,
    pub count: usize,
    pub oldest_ms: Option<u64>,
    /// Bytes of `buffer.memory` the waiting records hold.
    pub reserved: usize,
}

const PENDING_CHUNK: usize = 64 * 1024;

/// Bytes of `buffer.memory` a waiting record holds.
pub fn pending_len(rec: &Record<'_>) -> usize {
    crate::batch::encoded_record_len(rec, 0, 0) + 32
}

/// One waiting record, borrowed from the pending buffer.
pub struct PendingRecord<'a> {
    pub id: RecordId,
    pub accepted_ms: u64,
    pub timestamp: i64,
    pub partition: Option<i32>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

impl Pending {
    pub fn push(&mut self, id: RecordId, now: u64, timestamp: i64, rec: &Record<'_>) {
        let need = pending_len(rec);
        if self.chunks.back().is_none_or(|c| c.capacity() - c.len() < need) {
            self.chunks.push_back(Vec::with_capacity(PENDING_CHUNK.max(need)));
        }
        let Some(chunk) = self.chunks.back_mut() else { return };
        let mut w = Writer::new(chunk);
        w.i64(id as i64);
        w.i64(now as i64);
        w.i64(timestamp);
        w.i32(rec.partition.unwrap_or(-1));
        w.bool(rec.partition.is_some());
        put_bytes(&mut w, rec.key);
        put_bytes(&mut w, rec.value);
        w.varint(rec.headers.len() as i64);
        for h in rec.headers {
            put_bytes(&mut w, Some(h.key.as_bytes()));
            put_bytes(&mut w, h.value);
        }
        self.count += 1;
        self.reserved += need;
        self.oldest_ms.get_or_insert(now);
    }

    /// Hands every waiting record to `f`, in order (headers in a scratch
    /// vector), freeing each chunk once its records are handed over.
    pub fn drain(&mut self, mut f: impl FnMut(&PendingRecord<'_>, &[Header<'_>])) {
        while let Some(chunk) = self.chunks.pop_front() {
            let mut r = Reader::new(&chunk);
            let mut headers: Vec<Header<'_>> = Vec::new();
            while r.remaining() > 0 {
                // A chunk holds only what `push` wrote, so this cannot fail;
                // if it ever did, the rest is dropped rather than trapping.
                let Ok((rec, hs)) = read_pending(&mut r, &mut headers) else { break };
                f(&rec, hs);
            }
        }
        self.count = 0;
        self.reserved = 0;
        self.oldest_ms = None;
    }
}

fn put_bytes(w: &mut Writer<'_>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            w.varint(b.len() as i64);
            w.raw(b);
        }
        None => w.varint(-1),
    }
}

fn get_bytes<'a>(r: &mut Reader<'a>) -> crate::wire::Result<Option<&'a [u8]>> {
    let n = r.varint("pending bytes")?;
    if n < 0 {
        return Ok(None);
    }
    r.take(n as usize, "pending bytes").map(Some)
}

fn read_pending<'a, 'h>(
    r: &mut Reader<'a>,
    headers: &'h mut Vec<Header<'a>>,
) -> crate::wire::Result<(PendingRecord<'a>, &'h [Header<'a>])> {
    let id = r.i64("id")? as u64;
    let accepted_ms = r.i64("accepted")? as u64;
    let timestamp = r.i64("timestamp")?;
    let p = r.i32("partition")?;
    let explicit = r.bool("explicit")?;
    let key = get_bytes(r)?;
    let value = get_bytes(r)?;
    let n = r.varint("headers")?;
    headers.clear();
    for _ in 0..n {
        let k = get_bytes(r)?.unwrap_or_default();
        let key = core::str::from_utf8(k).unwrap_or_default();
        headers.push(Header { key, value: get_bytes(r)? });
    }
    let rec = PendingRecord { id, accepted_ms, timestamp, partition: explicit.then_some(p), key, value };
    Ok((rec, headers))
}

/// The batches and waiting records of one topic.
#[derive(Debug, Default)]
pub struct TopicQueues {
    pub partitions: Vec<PartitionQueue>,
    pub sticky: Option<u32>,
    pub pending: Pending,
    pub compression_ratio: CompressionRatio,
}

/// What a topic's batches shrink to when compressed, in 1/1024ths,
/// estimated from the batches sealed so far. With compression,
/// `batch.size` bounds a batch's size after compression, as in the Java
/// client: a batch holds `batch.size / ratio` bytes of records (within the
/// uncompressed bound that keeps any batch under `message.max.bytes` and
/// `max.request.size`). The estimate starts at 1 (no gain), follows a
/// worse ratio at once and a better one in steps of a quarter of the
/// difference, so one unusually compressible batch does not make the
/// next ones overshoot much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionRatio(u32);

impl Default for CompressionRatio {
    fn default() -> Self {
        CompressionRatio(1024)
    }
}

impl CompressionRatio {
    /// The estimate never goes below 1/64: past that, batches are bounded
    /// by the uncompressed limit anyway.
    const FLOOR: u32 = 16;

    /// A batch of `uncompressed` bytes was sealed at `compressed` bytes.
    pub fn observe(&mut self, uncompressed: usize, compressed: usize) {
        if uncompressed == 0 {
            return;
        }
        let observed = ((compressed as u64 * 1024 / uncompressed as u64).min(1024) as u32).max(Self::FLOOR);
        self.0 = if observed >= self.0 { observed } else { self.0 - (self.0 - observed).div_ceil(4) };
    }

    /// The uncompressed bytes a batch may hold to come out at about
    /// `batch_size` bytes compressed.
    pub fn scale(self, batch_size: usize) -> usize {
        (batch_size as u64 * 1024 / u64::from(self.0)).min(usize::MAX as u64) as usize
    }
}

#[derive(Debug)]
pub struct Accumulator {
    pub topics: Vec<TopicQueues>,
    /// Open and queued (not in-flight) batches, over all partitions.
    queued_batches: usize,
    /// Bytes held by batches and waiting records until they are reported:
    /// what `buffer.memory` bounds.
    pub reserved: usize,
    /// `compression.type` and `compression.level`, applied when a batch is sealed.
    pub compression: (Codec, i32),
    /// Batches are sealed as transactional (`transactional.id`).
    pub transactional: bool,
    /// `buffer.memory`: a batch's buffer grows past it only by what its
    /// next record needs.
    pub memory_limit: usize,
}

impl Default for Accumulator {
    /// No compression, not transactional, no memory limit.
    fn default() -> Self {
        Accumulator::new((Codec::None, -1), false, usize::MAX)
    }
}

impl Accumulator {
    pub fn new(compression: (Codec, i32), transactional: bool, memory_limit: usize) -> Self {
        Accumulator { topics: Vec::new(), queued_batches: 0, reserved: 0, compression, transactional, memory_limit }
    }

    pub fn ensure_topic(&mut self, idx: TopicIdx) {
        if self.topics.len() <= idx {
            self.topics.resize_with(idx + 1, TopicQueues::default);
        }
    }

    pub fn ensure_partitions(&mut self, idx: TopicIdx, count: usize) {
        self.ensure_topic(idx);
        let t = &mut self.topics[idx];
        if t.partitions.len() < count {
            t.partitions.resize_with(count, PartitionQueue::default);
        }
    }

    pub fn queued_batches(&self) -> usize {
        self.queued_batches
    }

    /// Appends a record to its partition's open batch, opening a new one
    /// when the record does not fit in `batch_size` bytes (the full one
    /// stays open until it is drained, when it is sealed). The partition
    /// must exist (see `ensure_partitions`). Returns whether it opened a
    /// new batch.
    #[allow(clippy::too_many_arguments)]
    pub fn append(&mut self, topic: TopicIdx, partition: i32, rec: &Record<'_>, timestamp: i64, id: RecordId, now: u64, batch_size: usize) -> bool {
        let room = self.memory_limit.saturating_sub(self.reserved);
        let Some(q) = self.topics.get_mut(topic).and_then(|t| t.partitions.get_mut(partition as usize)) else { return false };
        if let Some(last) = q.batches.back_mut().filter(|b| b.takes_records()) {
            if let Body::Open(w) = &mut last.body {
                let need = w.len() + w.len_of(rec, timestamp);
                if need <= batch_size {
                    if need > w.capacity() {
                        // Grows on demand, doubling up to batch.size;
                        // buffer.memory counts what it holds.
                        let before = w.capacity();
                        w.grow_to((before * 2).min(batch_size).min(before + room).max(need));
                        let grown = w.capacity() - before;
                        last.reserved += grown;
                        self.reserved += grown;
                    }
                    w.append(rec, timestamp);
                    last.record_ids.push(id);
                    return false;
                }
            }
        }
        let capacity = q.first_capacity(batch_size.min(room), crate::batch::single_record_batch_len(rec));
        self.reserved += capacity;
        let mut w = BatchWriter::new(Vec::with_capacity(capacity));
        w.append(rec, timestamp);
        let mut record_ids = Vec::with_capacity(16);
        record_ids.push(id);
        // Each batch owns 2^32 ordering keys, so splits keep their place.
        let order_key = q.next_order_key;
        q.next_order_key += ORDER_KEYS_PER_BATCH;
        q.batches.push_back(ProducerBatch {
            topic,
            partition,
            body: Body::Open(w),
            record_ids,
            created_ms: now,
            attempts: 0,
            retry_at_ms: 0,
            order_key,
            order_span: ORDER_KEYS_PER_BATCH,
            identity: None,
            reserved: capacity,
            unresolved: false,
        });
        self.queued_batches += 1;
        true
    }

    /// The uncompressed bytes a batch of `topic` may hold: `batch_size`,
    /// scaled by the topic's compression ratio with compression, and at
    /// most `max_len` (the bound for any batch to fit the broker's limits).
    pub fn batch_limit(&self, topic: TopicIdx, batch_size: usize, max_len: usize) -> usize {
        let scaled = match (self.compression.0, self.topics.get(topic)) {
            (Codec::None, _) | (_, None) => batch_size,
            (_, Some(t)) => t.compression_ratio.scale(batch_size),
        };
        scaled.min(max_len)
    }

    /// Holds a record of a topic whose partitions are not known yet.
    pub fn push_pending(&mut self, topic: TopicIdx, id: RecordId, now: u64, timestamp: i64, rec: &Record<'_>) {
        self.ensure_topic(topic);
        self.reserved += pending_len(rec);
        self.topics[topic].pending.push(id, now, timestamp, rec);
    }

    /// Takes a topic's waiting records out, releasing their memory.
    pub fn take_pending(&mut self, topic: TopicIdx) -> Pending {
        self.ensure_topic(topic);
        let p = core::mem::take(&mut self.topics[topic].pending);
        self.reserved = self.reserved.saturating_sub(p.reserved);
        p
    }

    /// Gives back the memory of a batch that was reported.
    pub fn release(&mut self, b: &ProducerBatch) {
        self.reserved = self.reserved.saturating_sub(b.reserved);
    }

    /// Whether the partition's open batch cannot take `rec`.
    pub fn open_batch_full(&self, topic: TopicIdx, partition: i32, rec: &Record<'_>, batch_size: usize) -> bool {
        let q = self.topics.get(topic).and_then(|t| t.partitions.get(partition as usize));
        match q.and_then(|q| q.batches.back()).filter(|b| b.takes_records()).map(|b| &b.body) {
            Some(Body::Open(w)) => w.len() + w.len_of(rec, 0) > batch_size,
            _ => false,
        }
    }

    /// Whether the front batch of a partition may be sent now.
    pub fn front_ready(q: &PartitionQueue, now: u64, linger_ms: u64, batch_size: usize, flushing: bool) -> bool {
        let Some(b) = q.batches.front() else { return false };
        if b.attempts > 0 {
            return now >= b.retry_at_ms;
        }
        !b.is_open() || q.batches.len() > 1 || flushing || b.byte_len() >= batch_size || now >= b.created_ms.saturating_add(linger_ms)
    }

    /// When the front batch of a partition becomes ready, if it is not yet.
    pub fn front_ready_at(q: &PartitionQueue, linger_ms: u64) -> Option<u64> {
        let b = q.batches.front()?;
        if b.attempts > 0 {
            Some(b.retry_at_ms)
        } else {
            Some(b.created_ms.saturating_add(linger_ms))
        }
    }

    /// Takes the front batch of a partition for sending, sealed with the
    /// identity `stamp` gives it (producer id, epoch and base sequence from
    /// the transaction manager; `ProducerIdentity::NONE` without
    /// idempotence).
    pub fn take_front(
        &mut self,
        topic: TopicIdx,
        partition: usize,
        stamp: impl FnOnce(&ProducerBatch) -> ProducerIdentity,
    ) -> Option<ProducerBatch> {
        let t = self.topics.get_mut(topic)?;
        let q = t.partitions.get_mut(partition)?;
        let mut b = q.batches.pop_front()?;
        let first_seal = b.is_open() && b.attempts == 0;
        let open_len = b.byte_len();
        if first_seal {
            q.last_batch_len = open_len;
        }
        let identity = stamp(&b);
        b.seal(identity, self.compression, self.transactional);
        if first_seal && self.compression.0 != Codec::None {
            t.compression_ratio.observe(open_len, b.byte_len());
        }
        self.queued_batches -= 1;
        Some(b)
    }

    /// Every batch not in flight, in no particular order.
    pub fn queued(&self) -> impl Iterator<Item = &ProducerBatch> {
        self.topics.iter().flat_map(|t| t.partitions.iter()).flat_map(|q| q.batches.iter())
    }

    /// Every batch of `topic`-`partition` not in flight, mutably.
    pub fn queued_in_mut(&mut self, topic: TopicIdx, partition: i32) -> impl Iterator<Item = &mut ProducerBatch> {
        self.partition_mut(topic, partition).into_iter().flat_map(|q| q.batches.iter_mut())
    }

    pub fn partition(&self, topic: TopicIdx, partition: i32) -> Option<&PartitionQueue> {
        self.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)
    }

    pub fn partition_mut(&mut self, topic: TopicIdx, partition: i32) -> Option<&mut PartitionQueue> {
        self.topics.get_mut(topic)?.partitions.get_mut(usize::try_from(partition).ok()?)
    }

    /// After an epoch bump: no queued batch is of unknown outcome any
    /// more. A bump goes ahead only once every batch of unknown outcome is
    /// in a partition whose sequences were out of step anyway; those
    /// batches are re-stamped in the new epoch (left set, the flag would
    /// hold the next bump back for good: such a batch may not be sent
    /// until then).
    pub fn clear_unresolved(&mut self) {
        for t in &mut self.topics {
            for q in &mut t.partitions {
                q.batches.iter_mut().for_each(|b| b.unresolved = false);
            }
        }
    }

    /// Puts a batch back for a retry.
    pub fn reenqueue(&mut self, batch: ProducerBatch) {
        let (t, p) = (batch.topic, batch.partition as usize);
        self.ensure_topic(t);
        if let Some(q) = self.topics[t].partitions.get_mut(p) {
            q.reenqueue(batch);
            self.queued_batches += 1;
        }
    }

    /// Removes every queued batch created at or before `cutoff_ms`.
    pub fn expire(&mut self, cutoff_ms: u64, mut f: impl FnMut(ProducerBatch)) {
        for t in &mut self.topics {
            for q in &mut t.partitions {
                while q.batches.front().is_some_and(|b| b.created_ms <= cutoff_ms) {
                    if let Some(b) = q.batches.pop_front() {
                        self.queued_batches -= 1;
                        f(b);
                    }
                }
            }
        }
    }

    /// Removes every queued batch of the partitions `(topic, partition)`
    /// for which `which` holds.
    pub fn remove_partition_batches(&mut self, mut which: impl FnMut(TopicIdx, i32) -> bool, mut f: impl FnMut(ProducerBatch)) {
        for (t, tq) in self.topics.iter_mut().enumerate() {
            for (p, q) in tq.partitions.iter_mut().enumerate() {
                if q.batches.is_empty() || !which(t, p as i32) {
                    continue;
                }
                while let Some(b) = q.batches.pop_front() {
                    self.queued_batches -= 1;
                    f(b);
                }
            }
        }
    }

    /// Removes every queued batch of `topic`.
    pub fn remove_topic_batches(&mut self, topic: TopicIdx, mut f: impl FnMut(ProducerBatch)) {
        let Some(t) = self.topics.get_mut(topic) else { return };
        for q in &mut t.partitions {
            while let Some(b) = q.batches.pop_front() {
                self.queued_batches -= 1;
                f(b);
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/accumulator.rs"]
mod tests;
