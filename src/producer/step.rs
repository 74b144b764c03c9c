//! The calls that carry many records or outputs at once: `send_packed`
//! (a packed list of records in, per-record refusals out) and `step`
//! (socket events in, everything to do now out). The component glue and
//! the driver both use them, so the loop's contract is written once.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Output, Producer, REQUEST_BYTES_PER_DRIVE};
use crate::connection::ConnId;
use crate::record::{Record, RecordId};
use crate::report::{DeliveryReport, ErrorKind, ProduceError};
use crate::wire::Reader;

/// Everything a step asks the host to do, in this order: open `connects`,
/// write `transmits` (each after earlier ones on its connection), close
/// `closes`; `reports` and `warnings` are for the application.
#[derive(Debug, Default)]
pub struct Step {
    pub connects: Vec<(ConnId, String, u16)>,
    pub transmits: Vec<(ConnId, Vec<u8>)>,
    pub closes: Vec<ConnId>,
    pub reports: Vec<DeliveryReport>,
    pub warnings: Vec<String>,
    /// Statistics JSON lines (`statistics.interval.ms`).
    pub statistics: Vec<String>,
    /// Outcomes of transactional calls, in the order they finished.
    pub transactions: Vec<super::TxnResult>,
    /// Step again by this time even if no event arrives; `Some(now)` when
    /// the step stopped at its transmit budget and has more to hand out.
    pub deadline: Option<u64>,
    /// Records accepted and not yet reported.
    pub unreported: u64,
}

impl Step {
    /// Empties the lists, keeping their capacity.
    pub fn clear(&mut self) {
        self.connects.clear();
        self.transmits.clear();
        self.closes.clear();
        self.reports.clear();
        self.warnings.clear();
        self.statistics.clear();
        self.transactions.clear();
        self.deadline = None;
        self.unreported = 0;
    }
}

/// A record `send_packed` refused at once: its index in the call's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: u32,
    pub error: ProduceError,
}

impl Producer {
    /// Accepts the packed records (`crate::packed`) for `topic`. Record `i`
    /// of the list has id `first + i` (returned), accepted or not; refused
    /// ones are appended to `refused`. A malformed record is refused as
    /// `InvalidRecord` and ends the call: the records after it are not
    /// read. After a `QueueFull` refusal every later record of the call is
    /// refused too, so resending the tail keeps the order.
    pub fn send_packed(&mut self, topic: &str, packed: &[u8], now: u64, refused: &mut Vec<Refusal>) -> RecordId {
        let first = self.next_record_id();
        let mut headers = Vec::new();
        let mut r = Reader::new(packed);
        let mut index = 0u32;
        // Once the queue is full, the rest of the call is refused with the
        // same error, without trying each record (and formatting a message
        // for each).
        let mut full: Option<ProduceError> = None;
        while r.remaining() > 0 {
            match crate::packed::read(&mut r, &mut headers) {
                Ok(rec) => {
                    if let Some(error) = &full {
                        self.skip_record_id();
                        refused.push(Refusal { index, error: error.clone() });
                    } else if let Err(error) = self.send(topic, &Record { headers: &headers, ..rec }, now) {
                        if error.kind == ErrorKind::QueueFull {
                            full = Some(error.clone());
                        }
                        refused.push(Refusal { index, error });
                    }
                }
                Err(e) => {
                    self.skip_record_id();
                    let error = ProduceError::new(ErrorKind::InvalidRecord, format!("malformed packed record: {e}"));
                    refused.push(Refusal { index, error });
                    break;
                }
            }
            index += 1;
        }
        first
    }

    /// Runs the timers and collects everything there is to do now into
    /// `out` (cleared first). Requests copy their batches, so a step hands
    /// out at most `REQUEST_BYTES_PER_DRIVE` bytes of them: the copies never
    /// hold much memory at once, and a step that stopped there has the
    /// deadline `now` (step again straight away).
    pub fn step(&mut self, now: u64, out: &mut Step) {
        out.clear();
        self.handle_timeout(now);
        let mut budget = REQUEST_BYTES_PER_DRIVE;
        let mut more = false;
        while let Some(o) = self.poll(now) {
            match o {
                Output::Connect { conn, host, port } => out.connects.push((conn, host, port)),
                Output::Transmit { conn, data } => {
                    budget = budget.saturating_sub(data.len());
                    out.transmits.push((conn, data));
                    if budget == 0 {
                        more = true;
                        break;
                    }
                }
                Output::Close { conn } => out.closes.push(conn),
                Output::Report(r) => out.reports.push(r),
                Output::Warning(w) => out.warnings.push(w),
                Output::Statistics(s) => out.statistics.push(s),
                Output::Transaction(t) => out.transactions.push(t),
            }
        }
        out.deadline = if more { Some(now) } else { self.poll_timeout() };
        out.unreported = self.unreported();
    }
}

#[cfg(test)]
#[path = "../tests/step.rs"]
mod tests;
