//! What the driver drives: a producer in this process, or a host's handle
//! to one inside a component (which may fail, if the instance traps).

use alloc::string::String;
use alloc::vec::Vec;

use crate::connection::ConnId;
use crate::producer::{Producer, Refusal, Step, TxnCall};
use crate::report::ProduceError;
use crate::record::RecordId;

/// An engine call that failed (a trap in a component engine): the
/// producer is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineFailed(pub String);

impl core::fmt::Display for EngineFailed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the producer failed: {}", self.0)
    }
}

impl std::error::Error for EngineFailed {}

/// A producer the driver can drive: [`Producer`] itself, or a host's
/// handle to one inside a component. The event calls may be buffered and
/// handed over with the next `step`.
pub trait Engine {
    /// As [`Producer::send_packed`].
    fn send_packed(&mut self, topic: &str, packed: &[u8], now: u64, refused: &mut Vec<Refusal>) -> Result<RecordId, EngineFailed>;
    fn flush(&mut self, now: u64) -> Result<(), EngineFailed>;
    fn close(&mut self, timeout_ms: u64, now: u64) -> Result<(), EngineFailed>;
    fn connected(&mut self, conn: ConnId, now: u64);
    fn received(&mut self, conn: ConnId, bytes: &[u8], now: u64);
    fn closed(&mut self, conn: ConnId, reason: &str, now: u64);
    /// As [`Producer::step`], after the events given since the last step.
    fn step(&mut self, now: u64, out: &mut Step) -> Result<(), EngineFailed>;
    /// As [`Producer::transaction`]: the call's immediate answer (its
    /// outcome comes in a step's `transactions`).
    fn transaction(&mut self, call: TxnCall, now: u64) -> Result<Result<(), ProduceError>, EngineFailed>;
}

impl Engine for Producer {
    fn send_packed(&mut self, topic: &str, packed: &[u8], now: u64, refused: &mut Vec<Refusal>) -> Result<RecordId, EngineFailed> {
        Ok(Producer::send_packed(self, topic, packed, now, refused))
    }
    fn flush(&mut self, _now: u64) -> Result<(), EngineFailed> {
        Producer::flush(self);
        Ok(())
    }
    fn close(&mut self, timeout_ms: u64, now: u64) -> Result<(), EngineFailed> {
        Producer::close(self, now, timeout_ms);
        Ok(())
    }
    fn connected(&mut self, conn: ConnId, now: u64) {
        self.handle_connected(conn, now);
    }
    fn received(&mut self, conn: ConnId, bytes: &[u8], now: u64) {
        self.handle_received(conn, bytes, now);
    }
    fn closed(&mut self, conn: ConnId, reason: &str, now: u64) {
        self.handle_closed(conn, reason, now);
    }
    fn step(&mut self, now: u64, out: &mut Step) -> Result<(), EngineFailed> {
        Producer::step(self, now, out);
        Ok(())
    }
    fn transaction(&mut self, call: TxnCall, _now: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        Ok(Producer::transaction(self, call))
    }
}

/// A borrowed engine drives like an owned one (a test keeps its producer).
impl<E: Engine + ?Sized> Engine for &mut E {
    fn send_packed(&mut self, topic: &str, packed: &[u8], now: u64, refused: &mut Vec<Refusal>) -> Result<RecordId, EngineFailed> {
        (**self).send_packed(topic, packed, now, refused)
    }
    fn flush(&mut self, now: u64) -> Result<(), EngineFailed> {
        (**self).flush(now)
    }
    fn close(&mut self, timeout_ms: u64, now: u64) -> Result<(), EngineFailed> {
        (**self).close(timeout_ms, now)
    }
    fn connected(&mut self, conn: ConnId, now: u64) {
        (**self).connected(conn, now)
    }
    fn received(&mut self, conn: ConnId, bytes: &[u8], now: u64) {
        (**self).received(conn, bytes, now)
    }
    fn closed(&mut self, conn: ConnId, reason: &str, now: u64) {
        (**self).closed(conn, reason, now)
    }
    fn step(&mut self, now: u64, out: &mut Step) -> Result<(), EngineFailed> {
        (**self).step(now, out)
    }
    fn transaction(&mut self, call: TxnCall, now: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        (**self).transaction(call, now)
    }
}
