//! Owner of the producer id and epoch of an idempotent producer (the
//! idempotent half of the Java client's `TransactionManager`).
//!
//! The broker deduplicates a partition's batches by (producer id, epoch,
//! sequence). When sequences go out of step with the broker (it lost the
//! producer's state, or a batch failed for good and left a gap), the
//! producer asks for a new epoch (KIP-360) once nothing is in flight, and
//! every partition's sequences start again from 0.

use alloc::collections::BTreeSet;

use crate::metadata::TopicIdx;
use crate::report::ProduceError;


#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidState {
    /// No producer id yet: one is requested before any batch is sent.
    None,
    /// An InitProducerId request is in flight.
    Requesting,
    Ready { producer_id: i64, epoch: i16 },
    /// The broker refused for good (e.g. not authorised for idempotent
    /// writes); every record fails with this error.
    Failed(ProduceError),
}

#[derive(Debug)]
pub struct Idempotence {
    pub state: PidState,
    /// Sequences are out of step: bump the epoch once nothing is in flight.
    pub bump_requested: bool,
    /// No InitProducerId before this (backoff after a retriable error).
    pub retry_at_ms: u64,
    /// Id and epoch held before the request in flight (for the bump).
    previous: Option<(i64, i16)>,
    /// Partitions whose sequences are out of step with the broker: they
    /// send nothing until the bump. Others may still retry batches already
    /// stamped in the current epoch, to resolve them before it.
    pub broken: BTreeSet<(TopicIdx, i32)>,
}

impl Default for Idempotence {
    fn default() -> Self {
        Idempotence { state: PidState::None, bump_requested: false, retry_at_ms: 0, previous: None, broken: BTreeSet::new() }
    }
}

impl Idempotence {
    /// The current id and epoch, if there is one.
    pub fn identity(&self) -> Option<(i64, i16)> {
        match self.state {
            PidState::Ready { producer_id, epoch } => Some((producer_id, epoch)),
            _ => None,
        }
    }

    /// Whether to send InitProducerId now; returns the (id, epoch) to send,
    /// (-1, -1) for a fresh id. A bump waits until no batch is in flight
    /// and no batch outside the broken partitions has an unknown outcome:
    /// re-stamping such a batch in a new epoch could write it twice.
    pub fn wants_request(&self, now: u64, batches_in_flight: usize, unresolved_elsewhere: bool) -> Option<(i64, i16)> {
        if now < self.retry_at_ms {
            return None;
        }
        match self.state {
            PidState::None => Some(self.previous.unwrap_or((-1, -1))),
            PidState::Ready { producer_id, epoch } if self.bump_requested && batches_in_flight == 0 && !unresolved_elsewhere => {
                Some((producer_id, epoch))
            }
            _ => None,
        }
    }

    pub fn on_request_sent(&mut self) {
        if let PidState::Ready { producer_id, epoch } = self.state {
            self.previous = Some((producer_id, epoch));
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

    /// A new id or epoch: sequences start again (the caller resets them).
    pub fn on_granted(&mut self, producer_id: i64, epoch: i16) {
        self.state = PidState::Ready { producer_id, epoch };
        self.bump_requested = false;
        self.previous = None;
        self.broken.clear();
    }

    /// Bump the epoch. `broken`: the broker has lost `partition`'s
    /// sequence state, so nothing of it can be sent before the bump;
    /// otherwise its sequences are only uncertain, and its batches already
    /// stamped may still go, to resolve them first.
    pub fn request_bump(&mut self, partition: (TopicIdx, i32), broken: bool) {
        if broken {
            self.broken.insert(partition);
        }
        self.bump_requested = true;
    }

    /// Whether a batch of `partition` may be sent now: `stamped` tells
    /// whether it already carries a sequence of the current epoch.
    pub fn may_send(&self, partition: (TopicIdx, i32), stamped_in_current_epoch: bool) -> bool {
        match self.state {
            PidState::Ready { .. } if !self.bump_requested => true,
            PidState::Ready { .. } => stamped_in_current_epoch && !self.broken.contains(&partition),
            _ => false,
        }
    }
}
