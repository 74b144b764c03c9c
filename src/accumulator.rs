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

use crate::batch::{BatchWriter, ProducerIdentity};
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
    /// Order among this partition's batches.
    pub seq: u64,
}

impl ProducerBatch {
    pub fn is_open(&self) -> bool {
        matches!(self.body, Body::Open(_))
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

    /// Seals the batch: no more appends; header and CRC written.
    pub fn close(&mut self) {
        if !self.is_open() {
            return;
        }
        if let Body::Open(w) = core::mem::replace(&mut self.body, Body::Empty) {
            self.body = Body::Closed(w.finish(ProducerIdentity::NONE));
        }
    }

    /// The finished RecordBatch bytes (empty until closed).
    pub fn bytes(&self) -> &[u8] {
        match &self.body {
            Body::Closed(b) => b,
            _ => &[],
        }
    }
}

/// The batches of one partition, oldest first.
#[derive(Debug, Default)]
pub struct PartitionQueue {
    pub batches: VecDeque<ProducerBatch>,
    next_seq: u64,
}

impl PartitionQueue {
    /// Puts a batch that failed back where it was, before younger batches.
    pub fn reenqueue(&mut self, batch: ProducerBatch) {
        let at = self.batches.iter().position(|b| b.seq > batch.seq).unwrap_or(self.batches.len());
        self.batches.insert(at, batch);
    }
}

/// Records accepted for a topic whose partitions are not known yet.
#[derive(Debug, Default)]
pub struct Pending {
    buf: Vec<u8>,
    pub count: usize,
    pub oldest_ms: Option<u64>,
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
        let mut w = Writer::new(&mut self.buf);
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
        self.oldest_ms.get_or_insert(now);
    }

    /// Hands every waiting record to `f` (headers in a reused scratch
    /// vector) and empties the buffer.
    pub fn drain(&mut self, mut f: impl FnMut(&PendingRecord<'_>, &[Header<'_>])) {
        let buf = core::mem::take(&mut self.buf);
        let mut r = Reader::new(&buf);
        let mut headers: Vec<Header<'_>> = Vec::new();
        while r.remaining() > 0 {
            // The buffer holds only what `push` wrote, so this cannot fail;
            // if it ever did, the rest is dropped rather than trapping.
            let Ok((rec, hs)) = read_pending(&mut r, &mut headers) else { break };
            f(&rec, hs);
        }
        self.count = 0;
        self.oldest_ms = None;
        // Keep the allocation for the next burst.
        let mut buf = buf;
        buf.clear();
        self.buf = buf;
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
}

/// What `append` did, for the partitioner.
pub struct Appended {
    /// A batch was closed to make room: the sticky partition moves on.
    pub closed_a_batch: bool,
}

#[derive(Debug, Default)]
pub struct Accumulator {
    pub topics: Vec<TopicQueues>,
    /// Open and queued (not in-flight) batches, over all partitions.
    queued_batches: usize,
}

impl Accumulator {
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
    /// when the record does not fit in `batch_size` bytes. The partition
    /// must exist (see `ensure_partitions`).
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        topic: TopicIdx,
        partition: i32,
        rec: &Record<'_>,
        timestamp: i64,
        id: RecordId,
        now: u64,
        batch_size: usize,
    ) -> Appended {
        let Some(q) = self.topics.get_mut(topic).and_then(|t| t.partitions.get_mut(partition as usize)) else {
            return Appended { closed_a_batch: false };
        };
        let mut closed_a_batch = false;
        if let Some(last) = q.batches.back_mut() {
            if let Body::Open(w) = &mut last.body {
                if w.len() + w.len_of(rec, timestamp) <= batch_size {
                    w.append(rec, timestamp);
                    last.record_ids.push(id);
                    return Appended { closed_a_batch };
                }
                last.close();
                closed_a_batch = true;
            }
        }
        // One allocation of the batch's full size, so records are copied in
        // once and never moved by a regrowth.
        let need = crate::batch::single_record_batch_len(rec);
        let mut w = BatchWriter::new(Vec::with_capacity(batch_size.max(need)));
        w.append(rec, timestamp);
        let mut record_ids = Vec::with_capacity(16);
        record_ids.push(id);
        let seq = q.next_seq;
        q.next_seq += 1;
        q.batches.push_back(ProducerBatch {
            topic,
            partition,
            body: Body::Open(w),
            record_ids,
            created_ms: now,
            attempts: 0,
            retry_at_ms: 0,
            seq,
        });
        self.queued_batches += 1;
        Appended { closed_a_batch }
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

    /// Takes the front batch of a partition for sending, sealed.
    pub fn take_front(&mut self, topic: TopicIdx, partition: usize) -> Option<ProducerBatch> {
        let mut b = self.topics.get_mut(topic)?.partitions.get_mut(partition)?.batches.pop_front()?;
        b.close();
        self.queued_batches -= 1;
        Some(b)
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
