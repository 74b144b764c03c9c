//! The Java client's `Sender`: drains ready batches into Produce requests,
//! owns the batches in flight (by correlation id, as
//! `Sender.inFlightBatches`), and carries out what each partition's answer
//! means for its batch: complete it, retry it, split it, or fail it.
//! The decision itself is the transaction manager's `disposition`.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;

use super::transactions::{fatal_error, is_fatal_on_produce};
use super::transaction_manager::{self as txn, sequences_lost, BatchFacts, Disposition, PidState, ProducerIdAndEpoch, TopicPartition};
use super::{Output, Producer};
use crate::accumulator::{Accumulator, ProducerBatch};
use crate::batch::ProducerIdentity;
use crate::config::Acks;
use crate::connection::ConnId;
use crate::error_codes::{
    self, error_name, invalidates_metadata, is_retriable, CONCURRENT_TRANSACTIONS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
    OUT_OF_ORDER_SEQUENCE_NUMBER,
};
use crate::metadata::TopicIdx;
use crate::partitioner::TopicView;
use crate::report::{ErrorKind, ProduceError};
use crate::request::{self, ApiKey, PartitionData};
use crate::response::{InitProducerIdResponse, ProduceResponse};

/// Request bytes one `drive` encodes at most: requests copy their batches,
/// so this bounds the memory that copies take at once. What is left goes
/// at the next `poll`.
pub const REQUEST_BYTES_PER_DRIVE: usize = 2 << 20;

/// Exponential backoff: `base * 2^(attempt-1)`, capped at `max`.
pub fn backoff_ms(base: u64, max: u64, attempt: u32) -> u64 {
    let shift = attempt.saturating_sub(1).min(20);
    base.saturating_mul(1 << shift).min(max.max(base))
}

/// The batches in flight, and where the last drain stopped.
#[derive(Debug, Default)]
pub struct Sender {
    /// Produce requests awaiting a response: their batches, by
    /// correlation id.
    in_flight: BTreeMap<i32, Vec<ProducerBatch>>,
    /// Batches in flight per partition.
    partition_in_flight: BTreeMap<TopicPartition, u32>,
    /// The topic the next drain starts at, so no partition starves.
    drain_cursor: usize,
}

impl Sender {
    /// Batches in flight over all connections.
    pub fn batches_in_flight(&self) -> usize {
        self.in_flight.values().map(Vec::len).sum()
    }

    /// Batches of `partition` in flight.
    pub fn in_flight_of(&self, partition: TopicPartition) -> u32 {
        self.partition_in_flight.get(&partition).copied().unwrap_or(0)
    }

    /// A batch leaves for the broker.
    fn launched(&mut self, b: &ProducerBatch) {
        *self.partition_in_flight.entry((b.topic, b.partition)).or_default() += 1;
    }

    /// A batch came back from flight (answered, failed, or its connection
    /// dropped).
    fn landed(&mut self, b: &ProducerBatch) {
        if let Some(n) = self.partition_in_flight.get_mut(&(b.topic, b.partition)) {
            *n = n.saturating_sub(1);
        }
    }

    /// Takes back the batches of the Produce request `correlation_id`.
    pub fn take(&mut self, correlation_id: i32) -> Vec<ProducerBatch> {
        let batches = self.in_flight.remove(&correlation_id).unwrap_or_default();
        batches.iter().for_each(|b| self.landed(b));
        batches
    }

    /// Every batch in flight, mutably.
    fn in_flight_mut(&mut self) -> impl Iterator<Item = &mut ProducerBatch> {
        self.in_flight.values_mut().flat_map(|bs| bs.iter_mut())
    }

    /// Every batch in flight.
    pub fn in_flight(&self) -> impl Iterator<Item = &ProducerBatch> {
        self.in_flight.values().flat_map(|bs| bs.iter())
    }
}

impl Producer {
    /// With idempotence: asks for a producer id, or an epoch bump, when
    /// the transaction manager wants one and nothing holds it back (the
    /// Java `Sender.maybeSendAndPollTransactionalRequest`).
    pub(super) fn maybe_init_producer_id(&mut self, now: u64) {
        let unresolved = self.accumulator.queued().any(|b| self.transactions.holds_bump_back(b));
        let in_flight = self.sender.batches_in_flight();
        let Some(current) = self.transactions.wants_request(now, in_flight, unresolved) else { return };
        // Nothing to do until there is something to send.
        if self.completion.unreported() == 0 && self.transactions.state == PidState::None {
            return;
        }
        let sent = self.send_to_any_broker(ApiKey::InitProducerId, now, |buf, version, cid, client_id| {
            // Before v3 an epoch cannot be bumped: ask for a new producer id.
            let current = if version >= 3 { current } else { ProducerIdAndEpoch::NONE };
            request::init_producer_id(buf, version, cid, client_id, None, (current.producer_id, current.epoch))
        });
        if sent {
            self.transactions.on_request_sent();
        }
    }

    /// An InitProducerId response: a new id or epoch starts every
    /// partition's sequences again. The coordinator errors, transient for
    /// this request though not retriable in the Java table, are asked
    /// again after the backoff, like retriable ones; anything else fails
    /// idempotence, and so every record, for good.
    pub(super) fn on_init_producer_id(&mut self, r: InitProducerIdResponse, now: u64) {
        match r.error_code {
            error_codes::NONE => {
                self.transactions.on_granted(ProducerIdAndEpoch { producer_id: r.producer_id, epoch: r.producer_epoch });
                self.stats.epoch_cnt += 1;
                self.accumulator.clear_unresolved();
            }
            code if is_retriable(code) || matches!(code, COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR | CONCURRENT_TRANSACTIONS) => {
                self.outputs.push_back(Output::Warning(format!("InitProducerId failed, retrying: {}", error_name(code))));
                self.transactions.on_request_failed(now, self.config.retry_backoff_ms);
            }
            code => {
                let e = ProduceError::broker(
                    ErrorKind::Broker,
                    code,
                    Some("the broker refused a producer id for idempotence (enable.idempotence=false avoids it)"),
                );
                self.outputs.push_back(Output::Warning(format!("idempotence failed for good: {}", e.message)));
                self.transactions.state = PidState::Failed(e);
            }
        }
    }

    /// Drains ready batches into Produce requests on every ready broker
    /// connection, within `max.in.flight.requests.per.connection` and
    /// `REQUEST_BYTES_PER_DRIVE`.
    pub(super) fn send_ready_batches(&mut self, now: u64) {
        if self.config.idempotent {
            if let PidState::Failed(e) = self.transactions.state.clone() {
                let mut batches = Vec::new();
                self.accumulator.expire(u64::MAX, |b| batches.push(b));
                for b in batches {
                    self.fail_batch(b, e.clone());
                }
                return;
            }
            if self.transactions.identity().is_none() {
                return; // waiting for a producer id or an epoch bump
            }
            if let Some(super::transactions::Phase::AbortableError(e)) = self.txn.as_ref().map(|t| &t.phase) {
                // As the Java client does: what is not sent of a
                // transaction that can only abort fails now.
                let msg = alloc::format!("the transaction must be aborted: {}", e.message);
                self.fail_unsent(|| ProduceError::new(ErrorKind::Aborted, msg.clone()));
            }
        }
        let mut budget = REQUEST_BYTES_PER_DRIVE;
        for conn in self.client.produce_ready(now) {
            while let Some(c) = self.client.conn(conn) {
                let in_flight_limited = self.config.acks != Acks::None && c.in_flight.len() >= self.config.max_in_flight as usize;
                if in_flight_limited {
                    break;
                }
                let (node, version) = (c.node, c.produce_version);
                if budget == 0 {
                    // More may be ready: the next poll drives again.
                    self.dirty = true;
                    return;
                }
                let batches = self.drain(node, now);
                if batches.is_empty() {
                    break;
                }
                let bytes: usize = batches.iter().map(ProducerBatch::byte_len).sum();
                budget = budget.saturating_sub(bytes);
                self.send_produce(conn, version, batches, now);
            }
        }
    }

    /// Takes at most one ready batch per partition led by `node`, within
    /// `max.request.size`, starting where the last drain stopped so no
    /// partition starves (the Java `RecordAccumulator.drain`).
    fn drain(&mut self, node: i32, now: u64) -> Vec<ProducerBatch> {
        let c = &self.config;
        let mut out = Vec::new();
        let mut size = request::produce_header_overhead(&c.client_id, c.transactional_id.as_deref());
        let n_topics = self.accumulator.topics.len();
        if n_topics == 0 {
            return out;
        }
        let start = self.sender.drain_cursor % n_topics;
        'topics: for k in 0..n_topics {
            let t = (start + k) % n_topics;
            let mut topic_counted = false;
            let parts = self.accumulator.topics[t].partitions.len();
            let mut batch_limit = None;
            for p in 0..parts {
                if self.metadata.leader(t, p as i32) != Some(node) {
                    continue;
                }
                let limit = *batch_limit.get_or_insert_with(|| self.batch_limit(t));
                let q = &self.accumulator.topics[t].partitions[p];
                if !Accumulator::front_ready(q, now, c.linger_ms, limit, self.flushing) {
                    continue;
                }
                if c.idempotent {
                    // A retry goes out only when nothing of its partition is
                    // in flight, so sequences reach the broker in order; and
                    // the broker deduplicates over at most 5 batches.
                    let front = q.batches.front();
                    let retry = front.is_some_and(|b| b.attempts > 0);
                    let in_flight = self.sender.in_flight_of((t, p as i32));
                    if (retry && in_flight > 0) || in_flight >= c.max_in_flight {
                        continue;
                    }
                    let stamped_now = front.is_some_and(|b| self.transactions.stamped_in_current_epoch(b));
                    if !self.transactions.may_send((t, p as i32), stamped_now) {
                        continue;
                    }
                    // In a transaction, only once the coordinator added the partition.
                    if self.txn.as_ref().is_some_and(|txn| !txn.may_send((t, p as i32))) {
                        continue;
                    }
                }
                let Some(front) = q.batches.front() else { continue };
                let mut add = front.byte_len() + request::partition_overhead();
                if !topic_counted {
                    add += request::topic_overhead(&self.metadata.topic(t).name);
                }
                if !out.is_empty() && size + add > c.max_request_size {
                    self.sender.drain_cursor = t;
                    break 'topics;
                }
                let (was_open, open_len) = (front.is_open(), front.byte_len());
                let transactions = &mut self.transactions;
                let idempotent = c.idempotent;
                let stamp = |b: &ProducerBatch| if idempotent { transactions.stamp(b) } else { ProducerIdentity::NONE };
                let Some(mut b) = self.accumulator.take_front(t, p, stamp) else { continue };
                self.sender.launched(&b);
                if was_open {
                    self.stats.sealed(t, p as i32, b.record_count(), open_len, b.byte_len());
                    // KIP-480: the sticky partition moves on once its batch is sent.
                    let count = self.metadata.topic(t).partition_count();
                    let sticky = &mut self.accumulator.topics[t].sticky;
                    self.partitioner.on_batch_closed(p as u32, TopicView { partitions: count, sticky });
                }
                b.attempts += 1;
                size += add;
                topic_counted = true;
                out.push(b);
            }
        }
        if !out.is_empty() {
            self.sender.drain_cursor = self.sender.drain_cursor.wrapping_add(1);
        }
        // Grouped by topic for the request.
        out.sort_by_key(|b| (b.topic, b.partition));
        out
    }

    /// Sends one Produce request of `batches` on `conn`; with `acks=0`
    /// handing it over is delivery, else the batches wait in flight.
    fn send_produce(&mut self, conn: ConnId, version: i16, batches: Vec<ProducerBatch>, now: u64) {
        let capacity: usize = batches.iter().map(|b| b.byte_len() + 16).sum::<usize>() + 64;
        let expects_response = self.config.acks != Acks::None;
        let (metadata, c) = (&self.metadata, &self.config);
        let sent = self.client.send_request(conn, ApiKey::Produce, version, capacity, expects_response, now, &mut self.outputs, |data, cid| {
            let mut topics: Vec<(&str, Vec<PartitionData<'_>>)> = Vec::new();
            for b in &batches {
                let name = metadata.topic(b.topic).name.as_str();
                let pd = PartitionData { partition: b.partition, records: b.bytes() };
                match topics.last_mut() {
                    Some((n, parts)) if *n == name => parts.push(pd),
                    _ => topics.push((name, alloc::vec![pd])),
                }
            }
            let refs: Vec<(&str, &[PartitionData<'_>])> = topics.iter().map(|(n, p)| (*n, p.as_slice())).collect();
            request::produce(data, version, cid, &c.client_id, c.transactional_id.as_deref(), c.acks.wire(), c.request_timeout_ms.min(i32::MAX as u64) as i32, &refs);
        });
        self.dirty |= sent.broke;
        if !expects_response {
            // No response will come: handing the request over is delivery.
            for b in batches {
                self.sender.landed(&b);
                self.report_batch(b, Ok((-1, -1)));
            }
            return;
        }
        match sent.correlation_id {
            Some(cid) => {
                self.sender.in_flight.insert(cid, batches);
            }
            // The connection is gone (not expected: it was just found
            // ready): the batches go back for a retry.
            None => {
                for mut b in batches {
                    self.sender.landed(&b);
                    b.unresolved = true;
                    let err = ProduceError::broker(ErrorKind::Broker, error_codes::NETWORK_EXCEPTION, None);
                    self.retry_or_fail(b, err, now);
                }
            }
        }
    }

    /// The batches of a Produce request whose connection dropped (or was
    /// closed unanswered): they may have been written; retry them.
    pub(super) fn on_produce_lost(&mut self, correlation_id: i32, reason: &str, now: u64) {
        for mut b in self.sender.take(correlation_id) {
            b.unresolved = true;
            let err = ProduceError::broker(ErrorKind::Broker, error_codes::NETWORK_EXCEPTION, Some(reason));
            self.retry_or_fail(b, err, now);
        }
    }

    /// A Produce response: each batch of the request gets its partition's
    /// answer (the Java `Sender.handleProduceResponse` / `completeBatch`).
    pub(super) fn on_produce(&mut self, correlation_id: i32, resp: &ProduceResponse<'_>, now: u64) {
        if !resp.node_endpoints.is_empty() {
            self.metadata.add_brokers(&resp.node_endpoints);
        }
        for mut b in self.sender.take(correlation_id) {
            let name = self.metadata.topic(b.topic).name.as_str();
            let part =
                resp.topics.iter().filter(|(n, _)| *n == name).flat_map(|(_, ps)| ps.iter()).find(|p| p.partition == b.partition);
            let Some(p) = part else {
                let err = ProduceError::new(ErrorKind::Broker, format!("the broker's response omitted partition {}-{}", name, b.partition));
                let facts = self.batch_facts(&b, None, now);
                self.dispose(b, facts, None, err, now);
                continue;
            };
            let code = p.error_code;
            if self.txn.is_some() && is_fatal_on_produce(code) {
                let e = fatal_error(code, &format!("Produce to {name}-{}", b.partition));
                self.fail_batch(b, e);
                continue;
            }
            b.unresolved = txn::unresolved_after(code, b.identity.is_some(), b.unresolved);
            let facts = self.batch_facts(&b, Some(code), now);
            if txn::disposition(&facts, Some(code)) == Disposition::Complete {
                self.transactions.on_acked(&b);
                self.report_batch(b, Ok((p.base_offset, p.log_append_time_ms)));
                continue;
            }
            if invalidates_metadata(code) {
                let moved = p.current_leader.is_some_and(|l| self.metadata.update_leader(b.topic, b.partition, l.leader_id, l.leader_epoch));
                if !moved {
                    self.metadata.request_update();
                }
            }
            let err = ProduceError::broker(ErrorKind::Broker, code, p.error_message);
            self.dispose(b, facts, Some(code), err, now);
        }
    }

    /// What the sender knows of `b` as its partition answers `error`.
    fn batch_facts(&self, b: &ProducerBatch, error: Option<i16>, now: u64) -> BatchFacts {
        let out_of_order = error == Some(OUT_OF_ORDER_SEQUENCE_NUMBER) && b.identity.is_some();
        BatchFacts {
            idempotent: b.identity.is_some(),
            splittable: b.record_count() > 1,
            unresolved: b.unresolved,
            shifted: b.stamped() != b.identity,
            next_expected: self.transactions.is_next_expected(b),
            // A walk over the partition's batches: only asked for when it counts.
            earlier_outstanding: out_of_order && self.earlier_outstanding(b),
            closed: self.closing_at.is_some_and(|c| now >= c),
        }
    }

    /// Carries out the disposition of a batch that was not delivered.
    fn dispose(&mut self, b: ProducerBatch, mut facts: BatchFacts, error: Option<i16>, err: ProduceError, now: u64) {
        let mut d = txn::disposition(&facts, error);
        if d == Disposition::Split && self.txn_gives_up() {
            // The transaction is being aborted: its halves must not go out
            // (they would land in the next transaction).
            let msg = format!("the record's transaction was aborted; last error: {}", err.message);
            return self.fail_batch(b, ProduceError { kind: ErrorKind::Aborted, code: err.code, message: msg });
        }
        if d == Disposition::Split {
            match b.split(now) {
                Some((first, second)) => return self.requeue_split(b, first, second),
                None => {
                    // Our own batch could not be reread (not expected): it
                    // fails like a batch of one record.
                    facts.splittable = false;
                    d = txn::disposition(&facts, error);
                }
            }
        }
        let bumps = matches!(d, Disposition::Split | Disposition::BumpEpochThenRetry | Disposition::BumpEpochThenFail | Disposition::ShiftAndFail);
        if bumps && self.txn.is_some() {
            // A transaction's epoch cannot change while it is open: the
            // batch fails, the transaction can only be aborted, and the
            // epoch is bumped after the abort.
            if let Some(t) = self.txn.as_mut() {
                t.bump_after_abort = true;
            }
            return self.fail_batch(b, err);
        }
        match d {
            Disposition::Complete | Disposition::Split => {}
            Disposition::Retry => self.retry_or_fail(b, err, now),
            Disposition::BumpEpochThenRetry => {
                let why = match error {
                    Some(OUT_OF_ORDER_SEQUENCE_NUMBER) => "OUT_OF_ORDER_SEQUENCE_NUMBER for the next sequence",
                    Some(code) => error_name(code),
                    None => "no answer",
                };
                self.request_epoch_bump(&b, why, error.is_some_and(sequences_lost));
                self.retry_or_fail(b, err, now);
            }
            Disposition::BumpEpochThenFail => {
                let why = if error.is_some() { "a batch of unknown outcome failed for good" } else { "a partition was missing from a response" };
                self.request_epoch_bump(&b, why, false);
                self.fail_batch(b, err);
            }
            Disposition::ShiftAndFail => {
                self.shift_sequences_after(&b);
                self.fail_batch(b, err);
            }
            Disposition::Fail => self.fail_batch(b, err),
        }
    }

    /// MESSAGE_TOO_LARGE: the halves take the batch's place.
    fn requeue_split(&mut self, b: ProducerBatch, mut first: ProducerBatch, mut second: ProducerBatch) {
        if let (Some(i), true) = (b.identity, self.txn.is_some()) {
            // A transaction's epoch cannot change while it is open: the
            // halves take the batch's sequence range instead (the Java
            // client re-stamps split batches the same way). It was never
            // written, so the broker expects exactly these sequences.
            first.identity = Some(i);
            let base_sequence = i.base_sequence.wrapping_add(first.record_count() as i32) & i32::MAX;
            second.identity = Some(ProducerIdentity { base_sequence, ..i });
        } else if let Some(i) = b.identity {
            // Its sequence range was never written: start the sequences
            // again, once nothing is in flight, with the halves in the
            // batch's place. Nothing after it in this epoch can have been
            // written either (the broker refuses a gap), so the later
            // batches need no resolving before the bump: they wait behind
            // the halves, which wait for it.
            self.transactions.never_written((b.topic, b.partition), i);
            self.request_epoch_bump(&b, "a batch was split", false);
        }
        self.outputs.push_back(Output::Warning(format!(
            "MESSAGE_TOO_LARGE for {}-{}: splitting a batch of {} records in two",
            self.metadata.topic(b.topic).name,
            b.partition,
            b.record_count()
        )));
        self.stats.splits += 1;
        self.accumulator.reenqueue(first);
        self.accumulator.reenqueue(second);
        self.dirty = true;
    }

    /// A batch failed with a retriable error: retry it after a backoff if
    /// `retries` and `delivery.timeout.ms` allow, else report the failure
    /// (the Java `Sender.canRetry` / `reenqueueBatch` / `failBatch`).
    pub(super) fn retry_or_fail(&mut self, mut b: ProducerBatch, err: ProduceError, now: u64) {
        let deadline = b.created_ms.saturating_add(self.config.delivery_timeout_ms);
        if self.txn_gives_up() {
            let msg = format!("the record's transaction was aborted; last error: {}", err.message);
            self.fail_batch(b, ProduceError { kind: ErrorKind::Aborted, code: err.code, message: msg });
        } else if self.closing_at.is_some_and(|c| now >= c) {
            self.fail_batch(b, ProduceError::new(ErrorKind::Closed, format!("the producer was closed; last error: {}", err.message)));
        } else if b.attempts <= self.config.retries && now < deadline {
            b.retry_at_ms = now.saturating_add(backoff_ms(self.config.retry_backoff_ms, self.config.retry_backoff_max_ms, b.attempts));
            self.stats.retried(b.topic, b.partition);
            self.accumulator.reenqueue(b);
        } else if now >= deadline {
            let msg = format!("delivery.timeout.ms passed after {} attempt(s); last error: {}", b.attempts, err.message);
            self.fail_batch(b, ProduceError { kind: ErrorKind::TimedOut, code: err.code, message: msg });
        } else {
            self.fail_batch(b, err);
        }
    }

    pub(super) fn request_epoch_bump(&mut self, b: &ProducerBatch, why: &str, broken: bool) {
        if !self.transactions.bump_requested {
            self.stats.epoch_bumps += 1;
            let name = &self.metadata.topic(b.topic).name;
            self.outputs.push_back(Output::Warning(format!(
                "bumping the producer epoch: {why} ({name}-{}, sequence {:?})",
                b.partition,
                b.identity.map(|i| i.base_sequence)
            )));
        }
        self.transactions.request_bump((b.topic, b.partition), broken);
    }

    /// A batch that failed for good never took its sequences: the broker
    /// still expects its base sequence. Later batches of its partition,
    /// queued or in flight, move down by its record count (those in flight
    /// will come back out of order and go again, re-stamped).
    fn shift_sequences_after(&mut self, b: &ProducerBatch) {
        let Some(failed) = b.identity else { return };
        let n = b.record_ids.len() as i32;
        let partition = (b.topic, b.partition);
        self.sender.in_flight_mut().for_each(|x| txn::shift_if_later(x, partition, failed, n));
        self.accumulator.queued_in_mut(b.topic, b.partition).for_each(|x| txn::shift_if_later(x, partition, failed, n));
        self.transactions.shift_next_sequence(partition, failed, n);
    }

    /// Whether a batch of `b`'s partition with a lower sequence of the
    /// same epoch is still queued or in flight.
    fn earlier_outstanding(&self, b: &ProducerBatch) -> bool {
        let Some(i) = b.identity else { return false };
        let earlier = |x: &ProducerBatch| {
            (x.topic, x.partition) == (b.topic, b.partition)
                && x.identity.is_some_and(|j| j.producer_epoch == i.producer_epoch && j.base_sequence < i.base_sequence)
        };
        self.sender.in_flight().any(earlier) || self.accumulator.partition(b.topic, b.partition).is_some_and(|q| q.batches.iter().any(earlier))
    }

    /// Fails the batches of the Produce requests `correlation_ids` (at the
    /// close deadline, in the order the requests were sent).
    pub(super) fn fail_in_flight(&mut self, correlation_ids: Vec<i32>, error: impl Fn() -> ProduceError) {
        for cid in correlation_ids {
            for b in self.sender.take(cid) {
                self.fail_batch(b, error());
            }
        }
    }

    /// Node ids that lead a partition with batches waiting (the Java
    /// `RecordAccumulator.ready`'s ready nodes, without the readiness).
    pub(super) fn nodes_with_batches(&self) -> alloc::collections::BTreeSet<i32> {
        let mut nodes = alloc::collections::BTreeSet::new();
        for (t, tq) in self.accumulator.topics.iter().enumerate() {
            for (p, q) in tq.partitions.iter().enumerate() {
                if !q.batches.is_empty() {
                    if let Some(l) = self.metadata.leader(t, p as i32) {
                        nodes.insert(l);
                    }
                }
            }
        }
        nodes
    }

    /// Whether a partition with batches waiting has no leader.
    pub(super) fn has_leaderless_batches(&self) -> bool {
        let leaderless = |(t, tq): (TopicIdx, &crate::accumulator::TopicQueues)| {
            tq.partitions.iter().enumerate().any(|(p, q)| !q.batches.is_empty() && self.metadata.leader(t, p as i32).is_none())
        };
        self.accumulator.topics.iter().enumerate().any(leaderless)
    }
}

#[cfg(test)]
#[path = "../tests/sender.rs"]
pub(super) mod tests;
