//! Delivery reports: exactly one per accepted record, grouped by batch.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error_codes::error_name;
use crate::record::RecordId;

/// What went wrong with a record, or with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The broker answered with an error code (see `ProduceError::code`).
    Broker,
    /// `delivery.timeout.ms` passed before the record was acknowledged.
    TimedOut,
    /// The record cannot fit in one batch under `message.max.bytes` /
    /// `max.request.size`.
    RecordTooLarge,
    /// The explicit partition does not exist in the topic.
    InvalidPartition,
    /// The broker refused the topic (its error code is in `code`).
    TopicFailed,
    /// The request was invalid before it reached a broker (e.g. empty topic).
    InvalidRecord,
    /// `buffer.memory` or `queue.buffering.max.messages` is reached: send
    /// again once delivery reports have freed room.
    QueueFull,
    /// The producer was closed before the record was delivered.
    Closed,
    /// The broker refused the SASL credentials (or the mechanism).
    Authentication,
    /// A transactional call out of order (send outside a transaction,
    /// commit without begin), or a transaction that can no longer commit
    /// because one of its records or requests failed: abort it and carry on.
    Transaction,
    /// The record's transaction was aborted before it was delivered.
    Aborted,
    /// The producer cannot go on (fenced by a newer instance with the same
    /// transactional.id, or refused for good): close it; a new one may
    /// start over.
    Fatal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceError {
    pub kind: ErrorKind,
    /// The Kafka error code, or 0 where no broker said anything.
    pub code: i16,
    pub message: String,
}

impl ProduceError {
    pub fn new(kind: ErrorKind, message: String) -> Self {
        ProduceError { kind, code: 0, message }
    }
    pub fn broker(kind: ErrorKind, code: i16, detail: Option<&str>) -> Self {
        let mut message = String::from(error_name(code));
        if let Some(d) = detail.filter(|d| !d.is_empty()) {
            message.push_str(": ");
            message.push_str(d);
        }
        ProduceError { kind, code, message }
    }
}

impl fmt::Display for ProduceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of one batch: its records, in send order, got offsets
/// `base_offset`, `base_offset + 1`, ... or all failed with `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub topic: String,
    pub partition: i32,
    /// -1 when unknown: with acks=0, or on error.
    pub base_offset: i64,
    /// The broker's append time for LogAppendTime topics, else -1.
    pub log_append_time_ms: i64,
    pub records: Vec<RecordId>,
    pub error: Option<ProduceError>,
}

#[cfg(test)]
#[path = "tests/report.rs"]
mod tests;
