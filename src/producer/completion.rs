//! Completion: the one delivery report each accepted record gets, and
//! the count of records still awaiting theirs (what `unreported`,
//! `queue.buffering.max.messages` and `close` read). Every report leaves
//! through here, so the count cannot drift from the reports.

use alloc::vec::Vec;

use super::{Output, Producer};
use crate::accumulator::ProducerBatch;
use crate::metadata::TopicIdx;
use crate::record::RecordId;
use crate::report::{DeliveryReport, ProduceError};

/// Records accepted and not yet reported.
#[derive(Debug, Default)]
pub struct Completion {
    unreported: u64,
}

impl Completion {
    pub fn unreported(&self) -> u64 {
        self.unreported
    }

    /// A record was accepted: it will get one report.
    pub fn accepted(&mut self) {
        self.unreported += 1;
    }

    /// `n` records got their report.
    fn reported(&mut self, n: usize) {
        self.unreported -= n as u64;
    }
}

impl Producer {
    /// One report for records that never made it into a batch.
    pub(super) fn report_ids(&mut self, t: TopicIdx, partition: i32, ids: Vec<RecordId>, error: ProduceError) {
        if ids.is_empty() {
            return;
        }
        self.txn_batch_failed(&error, false);
        self.completion.reported(ids.len());
        self.stats.reported(t, partition, ids.len(), 0, false);
        self.outputs.push_back(Output::Report(DeliveryReport {
            topic: self.metadata.topic(t).name.clone(),
            partition,
            base_offset: -1,
            log_append_time_ms: -1,
            records: ids,
            error: Some(error),
        }));
    }

    /// The one report of a batch: delivered at `Ok((base_offset,
    /// log_append_time_ms))`, or failed. Its `buffer.memory` is released.
    pub(super) fn report_batch(&mut self, b: ProducerBatch, outcome: Result<(i64, i64), ProduceError>) {
        self.completion.reported(b.record_ids.len());
        self.stats.reported(b.topic, b.partition, b.record_ids.len(), b.byte_len(), outcome.is_ok());
        self.accumulator.release(&b);
        let (base_offset, log_append_time_ms, error) = match outcome {
            Ok((offset, time)) => (offset, time, None),
            Err(e) => (-1, -1, Some(e)),
        };
        self.outputs.push_back(Output::Report(DeliveryReport {
            topic: self.metadata.topic(b.topic).name.clone(),
            partition: b.partition,
            base_offset,
            log_append_time_ms,
            records: b.record_ids,
            error,
        }));
    }

    pub(super) fn fail_batch(&mut self, b: ProducerBatch, error: ProduceError) {
        self.txn_batch_failed(&error, b.identity.is_some());
        self.report_batch(b, Err(error));
    }

    /// Fails every batch not in flight and every record waiting for metadata.
    pub(super) fn fail_unsent(&mut self, error: impl Fn() -> ProduceError) {
        let mut batches = Vec::new();
        self.accumulator.expire(u64::MAX, |b| batches.push(b));
        for b in batches {
            self.fail_batch(b, error());
        }
        for t in 0..self.accumulator.topics.len() {
            let mut pending = self.accumulator.take_pending(t);
            let mut ids = Vec::new();
            pending.drain(|r, _| ids.push(r.id));
            self.report_ids(t, -1, ids, error());
        }
    }
}
