//! The idempotent half of the Java client's `TransactionManager`: the
//! producer id and epoch, each partition's sequence numbers, and the rule
//! for what a partition's error means for its batch
//! ([`disposition`], a pure function).
//!
//! The broker deduplicates a partition's batches by (producer id, epoch,
//! sequence). When sequences go out of step with the broker (it lost the
//! producer's state, or a batch failed for good and left a gap), the
//! producer asks for a new epoch (KIP-360) once nothing is in flight, and
//! every partition's sequences start again from 0.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::accumulator::ProducerBatch;
use crate::batch::ProducerIdentity;
use crate::error_codes::{
    is_retriable, DUPLICATE_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, MESSAGE_TOO_LARGE, NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    OUT_OF_ORDER_SEQUENCE_NUMBER, PRODUCER_FENCED, REQUEST_TIMED_OUT, UNKNOWN_PRODUCER_ID,
};
use crate::metadata::TopicIdx;
use crate::report::ProduceError;

/// A topic's index and a partition number.
pub type TopicPartition = (TopicIdx, i32);

/// The Java client's `ProducerIdAndEpoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdAndEpoch {
    pub producer_id: i64,
    pub epoch: i16,
}

impl ProducerIdAndEpoch {
    /// What InitProducerId sends for a fresh producer id.
    pub const NONE: ProducerIdAndEpoch = ProducerIdAndEpoch { producer_id: -1, epoch: -1 };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidState {
    /// No producer id yet: one is requested before any batch is sent.
    None,
    /// An InitProducerId request is in flight.
    Requesting,
    Ready(ProducerIdAndEpoch),
    /// The broker refused for good (e.g. not authorised for idempotent
    /// writes); every record fails with this error.
    Failed(ProduceError),
}

/// One partition's sequence numbers in the current epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionSequences {
    /// The sequence number the next new batch gets.
    pub next_sequence: i32,
    /// The last sequence number the broker acknowledged, -1 for none.
    pub last_acked: i32,
    /// (epoch, sequence): a batch starting here is known never written
    /// (it was split), so no later batch of the epoch can have been
    /// either: the broker refuses a gap in the sequences.
    pub unwritten_from: Option<(i16, i32)>,
}

impl Default for PartitionSequences {
    fn default() -> Self {
        PartitionSequences { next_sequence: 0, last_acked: -1, unwritten_from: None }
    }
}

#[derive(Debug)]
pub struct TransactionManager {
    pub state: PidState,
    /// Sequences are out of step: bump the epoch once nothing is in flight.
    pub bump_requested: bool,
    /// No InitProducerId before this (backoff after a retriable error).
    pub retry_at_ms: u64,
    /// Id and epoch held before the request in flight (for the bump).
    previous: Option<ProducerIdAndEpoch>,
    /// Partitions whose sequences are out of step with the broker: they
    /// send nothing until the bump. Others may still retry batches already
    /// stamped in the current epoch, to resolve them before it.
    pub broken: BTreeSet<TopicPartition>,
    /// Sequences of the partitions written to in this epoch; absent means
    /// the default (next 0, nothing acknowledged).
    sequences: BTreeMap<TopicPartition, PartitionSequences>,
}

impl Default for TransactionManager {
    fn default() -> Self {
        TransactionManager {
            state: PidState::None,
            bump_requested: false,
            retry_at_ms: 0,
            previous: None,
            broken: BTreeSet::new(),
            sequences: BTreeMap::new(),
        }
    }
}

impl TransactionManager {
    /// The current id and epoch, if there is one.
    pub fn identity(&self) -> Option<ProducerIdAndEpoch> {
        match self.state {
            PidState::Ready(id) => Some(id),
            _ => None,
        }
    }

    /// Whether to send InitProducerId now; returns the id and epoch to
    /// send, `ProducerIdAndEpoch::NONE` for a fresh id. A bump waits until
    /// no batch is in flight and no batch outside the broken partitions
    /// has an unknown outcome: re-stamping such a batch in a new epoch
    /// could write it twice.
    pub fn wants_request(&self, now: u64, batches_in_flight: usize, unresolved_elsewhere: bool) -> Option<ProducerIdAndEpoch> {
        if now < self.retry_at_ms {
            return None;
        }
        match self.state {
            PidState::None => Some(self.previous.unwrap_or(ProducerIdAndEpoch::NONE)),
            PidState::Ready(id) if self.bump_requested && batches_in_flight == 0 && !unresolved_elsewhere => {
                Some(id)
            }
            _ => None,
        }
    }

    pub fn on_request_sent(&mut self) {
        if let PidState::Ready(id) = self.state {
            self.previous = Some(id);
        }
        self.state = PidState::Requesting;
    }

    /// The request was lost or failed retriably: ask again after `backoff_ms`.
    pub fn on_request_failed(&mut self, now: u64, backoff_ms: u64) {
        if self.state == PidState::Requesting {
            self.state = PidState::None;
        }
        self.retry_at_ms = now.saturating_add(backoff_ms);
    }

    /// A new id or epoch: every partition's sequences start again from 0.
    pub fn on_granted(&mut self, id: ProducerIdAndEpoch) {
        self.state = PidState::Ready(id);
        self.bump_requested = false;
        self.previous = None;
        self.broken.clear();
        self.sequences.clear();
    }

    /// Bump the epoch. `broken`: the broker has lost `partition`'s
    /// sequence state, so nothing of it can be sent before the bump;
    /// otherwise its sequences are only uncertain, and its batches already
    /// stamped may still go, to resolve them first.
    pub fn request_bump(&mut self, partition: TopicPartition, broken: bool) {
        if broken {
            self.broken.insert(partition);
        }
        self.bump_requested = true;
    }

    /// Whether a batch of `partition` may be sent now: `stamped` tells
    /// whether it already carries a sequence of the current epoch.
    pub fn may_send(&self, partition: TopicPartition, stamped_in_current_epoch: bool) -> bool {
        match self.state {
            PidState::Ready(_) if !self.bump_requested => true,
            PidState::Ready(_) => stamped_in_current_epoch && !self.broken.contains(&partition),
            _ => false,
        }
    }

    /// Whether `b` carries a sequence of the current id and epoch.
    pub fn stamped_in_current_epoch(&self, b: &ProducerBatch) -> bool {
        let current = self.identity();
        b.identity.is_some_and(|i| Some(ProducerIdAndEpoch { producer_id: i.producer_id, epoch: i.producer_epoch }) == current)
    }

    /// A partition's sequences.
    pub fn sequences(&self, partition: TopicPartition) -> PartitionSequences {
        self.sequences.get(&partition).copied().unwrap_or_default()
    }

    /// The identity a batch is sent with: its own if it was stamped in the
    /// current epoch (a retry keeps its sequence, so the broker can
    /// recognise a duplicate), else the partition's next sequences.
    /// Without a producer id (no idempotence), none.
    pub fn stamp(&mut self, b: &ProducerBatch) -> ProducerIdentity {
        let Some(id) = self.identity() else { return ProducerIdentity::NONE };
        match b.identity {
            Some(i) if i.producer_id == id.producer_id && i.producer_epoch == id.epoch => i,
            _ => {
                let s = self.sequences.entry((b.topic, b.partition)).or_default();
                let base_sequence = s.next_sequence;
                s.next_sequence = s.next_sequence.wrapping_add(b.record_ids.len() as i32) & i32::MAX;
                ProducerIdentity { producer_id: id.producer_id, producer_epoch: id.epoch, base_sequence }
            }
        }
    }

    /// The broker acknowledged `b` (or had it already).
    pub fn on_acked(&mut self, b: &ProducerBatch) {
        let Some(i) = b.identity else { return };
        let last = i.base_sequence.wrapping_add(b.record_ids.len() as i32 - 1);
        if i.producer_epoch == self.identity().map_or(i.producer_epoch, |x| x.epoch) {
            let s = self.sequences.entry((b.topic, b.partition)).or_default();
            s.last_acked = s.last_acked.max(last);
        }
    }

    /// Whether `b` is the batch the broker expects next on its partition.
    pub fn is_next_expected(&self, b: &ProducerBatch) -> bool {
        b.identity.is_some_and(|i| i.base_sequence == self.sequences((b.topic, b.partition)).last_acked.wrapping_add(1))
    }

    /// Notes that the batch stamped `identity` of `partition` was never
    /// written (it was split).
    pub fn never_written(&mut self, partition: TopicPartition, identity: ProducerIdentity) {
        let s = self.sequences.entry(partition).or_default();
        match s.unwritten_from {
            Some((e, q)) if e == identity.producer_epoch && q <= identity.base_sequence => {}
            _ => s.unwritten_from = Some((identity.producer_epoch, identity.base_sequence)),
        }
    }

    /// Whether the batch's outcome is unknown: an attempt may have been
    /// written, and nothing before it in its epoch is known unwritten.
    pub fn is_unresolved(&self, b: &ProducerBatch) -> bool {
        let after_gap = match (self.sequences((b.topic, b.partition)).unwritten_from, b.identity) {
            (Some((epoch, seq)), Some(i)) => i.producer_epoch == epoch && i.base_sequence > seq,
            _ => false,
        };
        b.unresolved && !after_gap
    }

    /// Whether `b` holds the epoch bump back: its outcome is unknown and
    /// its partition is not one whose sequences are out of step anyway.
    pub fn holds_bump_back(&self, b: &ProducerBatch) -> bool {
        !self.broken.contains(&(b.topic, b.partition)) && self.is_unresolved(b)
    }

    /// A batch stamped `failed` that failed for good never took its `n`
    /// sequences: the partition's next sequence moves down by `n` (the
    /// sender moves the later batches' own sequences).
    pub fn shift_next_sequence(&mut self, partition: TopicPartition, failed: ProducerIdentity, n: i32) {
        if self.identity().map(|c| c.epoch) != Some(failed.producer_epoch) {
            return;
        }
        if let Some(s) = self.sequences.get_mut(&partition) {
            if s.next_sequence > failed.base_sequence {
                s.next_sequence -= n;
            }
        }
    }
}

/// Moves `x` down by `n` sequences if it is a later batch of the same
/// partition and epoch as the batch stamped `failed`.
pub fn shift_if_later(x: &mut ProducerBatch, partition: TopicPartition, failed: ProducerIdentity, n: i32) {
    if (x.topic, x.partition) != partition {
        return;
    }
    if let Some(i) = &mut x.identity {
        if i.producer_epoch == failed.producer_epoch && i.base_sequence > failed.base_sequence {
            i.base_sequence -= n;
        }
    }
}

// ---- what a partition's answer means for its batch ----

/// What the sender knows of a batch when its partition's answer comes:
/// the inputs of [`disposition`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchFacts {
    /// It carries a producer id and sequence (idempotence).
    pub idempotent: bool,
    /// It holds more than one record: it can be split.
    pub splittable: bool,
    /// An earlier attempt may have been written (as updated by
    /// [`unresolved_after`] for this answer).
    pub unresolved: bool,
    /// Its sequences moved down after it was sent (an earlier batch failed
    /// for good): the broker was bound to find it out of order.
    pub shifted: bool,
    /// Its base sequence is the one the broker expects next on the
    /// partition (last acknowledged + 1).
    pub next_expected: bool,
    /// A batch of its partition with a lower sequence in its epoch is
    /// still queued or in flight, and may yet fill the gap the broker saw.
    pub earlier_outstanding: bool,
    /// The producer's close deadline has passed.
    pub closed: bool,
}

/// What happens to a batch after its partition's answer (the Java
/// `Sender.completeBatch` / `canRetry` / `TransactionManager`
/// `handleFailedBatch` decisions, as one table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delivered (or written already: DUPLICATE_SEQUENCE_NUMBER).
    Complete,
    /// MESSAGE_TOO_LARGE: send it as two halves in its place; with
    /// idempotence its sequences were never written, so the partition's
    /// start again after an epoch bump.
    Split,
    /// Retry after the backoff, if `retries` and `delivery.timeout.ms`
    /// allow.
    Retry,
    /// The partition's sequences are out of step with the broker: bump
    /// the epoch, then retry. Whether the broker lost the partition's
    /// state (so nothing of it goes until the bump) is [`sequences_lost`].
    BumpEpochThenRetry,
    /// Failed for good, and the partition's next sequence is unknown (an
    /// attempt may have been written, or the answer was missing): bump the
    /// epoch.
    BumpEpochThenFail,
    /// Failed for good and never written: the later batches of its
    /// partition move down into its sequences.
    ShiftAndFail,
    /// Failed for good.
    Fail,
}

/// Whether an answer that bumps the epoch says the broker lost the
/// partition's sequences (UNKNOWN_PRODUCER_ID; OUT_OF_ORDER_SEQUENCE_NUMBER
/// for the batch that should have followed on), so that nothing of the
/// partition goes until the bump and its batches of unknown outcome need
/// no resolving first. An epoch error (INVALID_PRODUCER_EPOCH,
/// PRODUCER_FENCED) says nothing of whether an earlier attempt was
/// written: such a batch must still be resolved before a bump re-stamps
/// it, or it could be written twice.
pub fn sequences_lost(code: i16) -> bool {
    matches!(code, UNKNOWN_PRODUCER_ID | OUT_OF_ORDER_SEQUENCE_NUMBER)
}

/// Whether `code` means the batch is written: success, or, with
/// idempotence, DUPLICATE_SEQUENCE_NUMBER (the broker has it already).
pub fn is_delivered(code: i16, idempotent: bool) -> bool {
    code == NONE || (code == DUPLICATE_SEQUENCE_NUMBER && idempotent)
}

/// Whether the batch is of unknown outcome after an answer of `code`,
/// given `unresolved`, what was known before.
pub fn unresolved_after(code: i16, idempotent: bool, unresolved: bool) -> bool {
    if is_delivered(code, idempotent) {
        return false;
    }
    match code {
        // After the leader appended the batch: it may be written.
        REQUEST_TIMED_OUT | NOT_ENOUGH_REPLICAS_AFTER_APPEND => true,
        // Duplicates are checked first: out of order means no earlier
        // attempt of it was written.
        OUT_OF_ORDER_SEQUENCE_NUMBER if idempotent => false,
        // The broker holds nothing of ours on the partition.
        UNKNOWN_PRODUCER_ID if idempotent => false,
        _ => unresolved,
    }
}

/// The decision on a batch whose partition answered `error` (`None`: the
/// response left the partition out). `b.unresolved` is as updated by
/// [`unresolved_after`] for this answer.
pub fn disposition(b: &BatchFacts, error: Option<i16>) -> Disposition {
    let Some(code) = error else {
        // Nothing is known of it: with idempotence, of its partition's
        // sequences either.
        return if b.idempotent { Disposition::BumpEpochThenFail } else { Disposition::Fail };
    };
    if is_delivered(code, b.idempotent) {
        return Disposition::Complete;
    }
    // MESSAGE_TOO_LARGE: the topic's limit is below this batch (and
    // message.max.bytes). Split it, as the Java client does; a single
    // record too large fails. Not a batch of unknown outcome: if an
    // earlier attempt was written, halves with new boundaries could not
    // be recognised as duplicates.
    if code == MESSAGE_TOO_LARGE && b.splittable && !b.unresolved && !b.closed {
        return Disposition::Split;
    }
    if b.idempotent {
        match code {
            OUT_OF_ORDER_SEQUENCE_NUMBER => {
                // The next batch the broker expects failing out of order
                // means it lost our state; any later one only follows an
                // earlier failure and is retried after it. With no earlier
                // batch of the partition left to fill the gap the broker
                // sees (they failed for good, their outcome unknown), a
                // retry cannot succeed either: the sequences are out of
                // step. A batch whose sequence was shifted after it was
                // sent is expected to come back out of order.
                let stranded = !b.earlier_outstanding;
                return if (b.next_expected || stranded) && !b.shifted {
                    Disposition::BumpEpochThenRetry
                } else {
                    Disposition::Retry
                };
            }
            UNKNOWN_PRODUCER_ID | INVALID_PRODUCER_EPOCH | PRODUCER_FENCED => return Disposition::BumpEpochThenRetry,
            // An earlier attempt may have been written: the partition's
            // next sequence is unknown. Else it never took its sequences.
            code if !is_retriable(code) => {
                return if b.unresolved { Disposition::BumpEpochThenFail } else { Disposition::ShiftAndFail };
            }
            _ => {}
        }
    }
    if is_retriable(code) {
        Disposition::Retry
    } else {
        Disposition::Fail
    }
}

#[cfg(test)]
#[path = "../tests/transaction_manager.rs"]
mod tests;
