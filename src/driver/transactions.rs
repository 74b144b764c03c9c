//! The transactional calls for hosts: each makes the call and drives the
//! I/O until its outcome comes, as the Java client's `initTransactions`,
//! `commitTransaction`, ... block up to `max.block.ms`.

use alloc::format;

use super::{Driver, Engine, EngineFailed, Io};
use crate::producer::TxnCall;
use crate::report::{ErrorKind, ProduceError};

impl<E: Engine, I: Io> Driver<E, I> {
    /// Makes a transactional call and waits up to `timeout_ms` for its
    /// outcome. A call that did not finish in time fails with `TimedOut`
    /// and keeps running: making the same call again waits for it.
    pub fn transaction(&mut self, call: TxnCall, timeout_ms: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        let now = self.io.now_ms();
        let op = call.op();
        // The outcome of the same call that timed out earlier and finished
        // since: that is this call's answer (as the Java client returns
        // the pending result when a timed-out call is made again).
        if let Some(i) = op.and_then(|op| self.txn_results.iter().position(|r| r.op == op)) {
            let result = self.txn_results.remove(i);
            return Ok(result.error.map_or(Ok(()), Err));
        }
        let answer = self.engine.transaction(call, now)?;
        self.dirty = true;
        let (Ok(()), Some(op)) = (&answer, op) else {
            self.turn(now)?;
            return Ok(answer);
        };
        let finished = self.run_until(now.saturating_add(timeout_ms), |d| d.txn_results.iter().any(|r| r.op == op))?;
        if !finished {
            return Ok(Err(ProduceError::new(
                ErrorKind::TimedOut,
                format!("{} did not finish within {timeout_ms} ms; call it again to keep waiting", op.name()),
            )));
        }
        let Some(i) = self.txn_results.iter().position(|r| r.op == op) else { return Ok(Ok(())) };
        let result = self.txn_results.remove(i);
        Ok(result.error.map_or(Ok(()), Err))
    }

    /// Outcomes of transactional calls made on the engine directly (not
    /// through `transaction`), in the order they finished.
    pub fn take_txn_results(&mut self) -> alloc::vec::Vec<crate::producer::TxnResult> {
        core::mem::take(&mut self.txn_results)
    }

    pub fn init_transactions(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        self.transaction(TxnCall::Init, timeout_ms)
    }

    pub fn begin_transaction(&mut self) -> Result<Result<(), ProduceError>, EngineFailed> {
        self.transaction(TxnCall::Begin, 0)
    }

    pub fn commit_transaction(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        self.transaction(TxnCall::Commit, timeout_ms)
    }

    pub fn abort_transaction(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>, EngineFailed> {
        self.transaction(TxnCall::Abort, timeout_ms)
    }
}
