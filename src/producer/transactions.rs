//! The transactional half of the Java client's `TransactionManager`
//! (KIP-98): the transaction's state, the partitions added to it, the
//! offsets it commits, and the verbs an application calls
//! (`init_transactions`, `begin_transaction`, `send_offsets_to_transaction`,
//! `commit_transaction`, `abort_transaction`).
//!
//! The verbs that need the coordinator return at once and finish later:
//! their outcome leaves as [`Output::Transaction`]. One such call at a time;
//! calling it again while it runs is allowed (a host that gave up waiting
//! resumes it), another one is refused. Requests to the coordinators are
//! `coordinator`'s.
//!
//! Errors are classified as the Java client does: *abortable* (a record or
//! a request of the transaction failed: only `abort_transaction` is
//! allowed, after which the producer carries on) and *fatal* (fenced by a
//! newer producer with the same `transactional.id`, or refused for good:
//! every call fails; close the producer).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::transaction_manager::{PidState, TopicPartition};
use super::{Output, Producer};
use crate::error_codes::{
    CLUSTER_AUTHORIZATION_FAILED, INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE, PRODUCER_FENCED,
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TRANSACTION_COORDINATOR_FENCED, UNSUPPORTED_VERSION,
};
use crate::report::{ErrorKind, ProduceError};
use super::coordinator::TxnRequest;
use crate::request::{GroupMetadata, OffsetToCommit};

/// A transactional call that finishes through the coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnOp {
    Init,
    SendOffsets,
    Commit,
    Abort,
}

impl TxnOp {
    pub fn name(self) -> &'static str {
        match self {
            TxnOp::Init => "init_transactions",
            TxnOp::SendOffsets => "send_offsets_to_transaction",
            TxnOp::Commit => "commit_transaction",
            TxnOp::Abort => "abort_transaction",
        }
    }
}

/// A transactional call, as one value (for hosts that pass calls through:
/// the driver's `Engine`, the component glue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnCall {
    Init,
    Begin,
    SendOffsets(Vec<OffsetToCommit>, GroupMetadata),
    Commit,
    Abort,
}

impl TxnCall {
    /// The call's outcome to wait for; `None` for `Begin`, which finishes at once.
    pub fn op(&self) -> Option<TxnOp> {
        match self {
            TxnCall::Init => Some(TxnOp::Init),
            TxnCall::Begin => None,
            TxnCall::SendOffsets(..) => Some(TxnOp::SendOffsets),
            TxnCall::Commit => Some(TxnOp::Commit),
            TxnCall::Abort => Some(TxnOp::Abort),
        }
    }
}

/// The outcome of a transactional call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnResult {
    pub op: TxnOp,
    pub error: Option<ProduceError>,
}

/// The Java client's `TransactionManager.State`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Uninitialized,
    /// InitProducerId through the coordinator: for `init_transactions`, or
    /// to bump the epoch after an abort left sequences out of step.
    Initializing,
    Ready,
    InTransaction,
    Committing,
    Aborting,
    /// Only `abort_transaction` is allowed.
    AbortableError(ProduceError),
    /// Nothing is allowed: close the producer.
    Fatal(ProduceError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionState {
    /// Has a batch; AddPartitionsToTxn not sent yet.
    New,
    Adding,
    /// The coordinator has it in the transaction: its batches may go.
    Added,
}

/// Where `send_offsets_to_transaction` is: AddOffsetsToTxn to the
/// transaction's coordinator, then TxnOffsetCommit to the group's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOffsets {
    pub group: GroupMetadata,
    pub offsets: Vec<OffsetToCommit>,
    /// AddOffsetsToTxn answered: TxnOffsetCommit is next.
    pub added: bool,
}

#[derive(Debug)]
pub struct Transactions {
    pub id: String,
    pub phase: Phase,
    /// The call whose outcome the host awaits.
    pub op: Option<TxnOp>,
    /// The transaction coordinator's node, once found.
    pub coordinator: Option<i32>,
    /// The offsets' group and its coordinator's node, once found.
    pub group_coordinator: Option<(String, i32)>,
    /// The transactional request in flight: one at a time.
    pub in_flight: Option<TxnRequest>,
    /// No transactional request before this (backoff after an error).
    pub retry_at_ms: u64,
    pub partitions: BTreeMap<TopicPartition, PartitionState>,
    /// The coordinator knows of this transaction (a partition or offsets
    /// were added): ending it takes an EndTxn.
    pub started: bool,
    /// An AddPartitionsToTxn or AddOffsetsToTxn went unanswered (its
    /// connection dropped): the coordinator may know of the transaction
    /// though `started` is false, so an abort still sends EndTxn.
    pub maybe_started: bool,
    pub offsets: Option<PendingOffsets>,
    /// Sequences went out of step during the transaction: after the abort,
    /// InitProducerId bumps the epoch (KIP-360) before the next one.
    pub bump_after_abort: bool,
}

impl Transactions {
    pub fn new(id: String) -> Self {
        Transactions {
            id,
            phase: Phase::Uninitialized,
            op: None,
            coordinator: None,
            group_coordinator: None,
            in_flight: None,
            retry_at_ms: 0,
            partitions: BTreeMap::new(),
            started: false,
            maybe_started: false,
            offsets: None,
            bump_after_abort: false,
        }
    }

    /// Whether a batch of `partition` may be sent: it is in the transaction.
    pub fn may_send(&self, partition: TopicPartition) -> bool {
        self.partitions.get(&partition) == Some(&PartitionState::Added)
    }

    /// A partition got its first batch of the transaction.
    pub fn add_partition(&mut self, partition: TopicPartition) {
        self.partitions.entry(partition).or_insert(PartitionState::New);
    }

    pub fn is_fatal(&self) -> bool {
        matches!(self.phase, Phase::Fatal(_))
    }

    /// The state by librdkafka's name for it (`eos.txn_state` in its
    /// statistics).
    pub fn state_name(&self) -> &'static str {
        match self.phase {
            Phase::Uninitialized => "Init",
            Phase::Initializing => "WaitPID",
            Phase::Ready => "Ready",
            Phase::InTransaction => "InTransaction",
            Phase::Committing => "CommittingTransaction",
            Phase::Aborting => "AbortingTransaction",
            Phase::AbortableError(_) => "AbortableError",
            Phase::Fatal(_) => "FatalError",
        }
    }

    /// Whether the transaction is ending (EndTxn, or the epoch bump
    /// after an abort, still to come).
    pub fn ending(&self) -> bool {
        matches!(self.phase, Phase::Committing | Phase::Aborting) || (self.phase == Phase::Initializing && self.op == Some(TxnOp::Abort))
    }
}

/// Whether an error code ends the producer (the Java client's fatal
/// errors): another instance took the transactional id over, or the
/// cluster refuses it for good.
pub fn is_fatal_code(code: i16) -> bool {
    matches!(
        code,
        PRODUCER_FENCED
            | INVALID_PRODUCER_EPOCH
            | TRANSACTION_COORDINATOR_FENCED
            | TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            | CLUSTER_AUTHORIZATION_FAILED
            | INVALID_TXN_STATE
            | INVALID_PRODUCER_ID_MAPPING
            | UNSUPPORTED_VERSION
    )
}

/// Whether a Produce error code ends a transactional producer. Fewer than
/// on the transactional requests, as in the Java client: the other codes
/// (INVALID_PRODUCER_EPOCH after the coordinator aborted a transaction
/// that ran past transaction.timeout.ms, INVALID_TXN_STATE, ...) make the
/// transaction abortable, and the epoch is bumped after the abort.
pub fn is_fatal_on_produce(code: i16) -> bool {
    matches!(code, PRODUCER_FENCED | TRANSACTIONAL_ID_AUTHORIZATION_FAILED | CLUSTER_AUTHORIZATION_FAILED | UNSUPPORTED_VERSION)
}

/// The error a fatal code becomes, saying what it means for the producer.
pub fn fatal_error(code: i16, during: &str) -> ProduceError {
    let what = match code {
        PRODUCER_FENCED | INVALID_PRODUCER_EPOCH | TRANSACTION_COORDINATOR_FENCED => {
            "fenced: a newer producer with the same transactional.id has started; close this one"
        }
        _ => "the producer cannot go on; close it",
    };
    ProduceError::broker(ErrorKind::Fatal, code, Some(&format!("{during}: {what}")))
}

fn state_error(message: String) -> ProduceError {
    ProduceError::new(ErrorKind::Transaction, message)
}

impl Producer {
    /// Makes a transactional call (see the verbs below).
    pub fn transaction(&mut self, call: TxnCall) -> Result<(), ProduceError> {
        match call {
            TxnCall::Init => self.init_transactions(),
            TxnCall::Begin => self.begin_transaction(),
            TxnCall::SendOffsets(offsets, group) => self.send_offsets_to_transaction(offsets, group),
            TxnCall::Commit => self.commit_transaction(),
            TxnCall::Abort => self.abort_transaction(),
        }
    }

    fn txn_or_err(&mut self, verb: &str) -> Result<&mut Transactions, ProduceError> {
        self.txn.as_mut().ok_or_else(|| state_error(format!("{verb}: transactional.id is not set")))
    }

    /// Checks that no other call is running; `Ok(true)` if `op` itself is
    /// (a repeated call resumes it).
    fn start_op(&mut self, op: TxnOp) -> Result<bool, ProduceError> {
        let txn = self.txn_or_err(op.name())?;
        if let Phase::Fatal(e) = &txn.phase {
            return Err(e.clone());
        }
        match txn.op {
            Some(running) if running == op => Ok(true),
            Some(running) => Err(state_error(format!("{} is still running: call it again to wait for it", running.name()))),
            None => Ok(false),
        }
    }

    /// Gets a producer id and epoch for `transactional.id` from its
    /// coordinator, fencing any older producer with the same id (the
    /// coordinator aborts that one's open transaction). Finishes with an
    /// [`Output::Transaction`] for [`TxnOp::Init`].
    pub fn init_transactions(&mut self) -> Result<(), ProduceError> {
        if self.start_op(TxnOp::Init)? {
            return Ok(());
        }
        let txn = self.txn_or_err("init_transactions")?;
        if txn.phase != Phase::Uninitialized {
            return Err(state_error("init_transactions: already called".into()));
        }
        txn.phase = Phase::Initializing;
        txn.op = Some(TxnOp::Init);
        self.dirty = true;
        Ok(())
    }

    /// Opens a transaction: records sent from now on belong to it.
    pub fn begin_transaction(&mut self) -> Result<(), ProduceError> {
        let txn = self.txn_or_err("begin_transaction")?;
        if let Some(op) = txn.op {
            return Err(state_error(format!("begin_transaction: {} is still running: call it again to wait for it", op.name())));
        }
        match &txn.phase {
            Phase::Ready => {
                txn.phase = Phase::InTransaction;
                txn.started = false;
                txn.maybe_started = false;
                txn.partitions.clear();
                Ok(())
            }
            Phase::Uninitialized | Phase::Initializing => Err(state_error("begin_transaction: call init_transactions first".into())),
            Phase::Fatal(e) => Err(e.clone()),
            _ => Err(state_error("begin_transaction: a transaction is already open; commit or abort it first".into())),
        }
    }

    /// Adds consumed offsets to the transaction, committed with it to
    /// `group`'s offsets (consume-transform-produce, KIP-447). Finishes
    /// with an [`Output::Transaction`] for [`TxnOp::SendOffsets`].
    pub fn send_offsets_to_transaction(&mut self, offsets: Vec<OffsetToCommit>, group: GroupMetadata) -> Result<(), ProduceError> {
        if self.start_op(TxnOp::SendOffsets)? {
            return Ok(());
        }
        if group.group_id.is_empty() {
            return Err(state_error("send_offsets_to_transaction: the group id is empty".into()));
        }
        self.require_open("send_offsets_to_transaction")?;
        let txn = self.txn_or_err("send_offsets_to_transaction")?;
        txn.op = Some(TxnOp::SendOffsets);
        if offsets.is_empty() {
            self.finish_op(TxnOp::SendOffsets, None);
        } else {
            txn.offsets = Some(PendingOffsets { group, offsets, added: false });
            self.dirty = true;
        }
        Ok(())
    }

    /// Sends what is left of the transaction, waits for every record of it
    /// to be acknowledged, then commits it (EndTxn). Finishes with an
    /// [`Output::Transaction`] for [`TxnOp::Commit`]; if a record of the
    /// transaction failed, with that error: abort it then.
    pub fn commit_transaction(&mut self) -> Result<(), ProduceError> {
        if self.start_op(TxnOp::Commit)? {
            return Ok(());
        }
        self.require_open("commit_transaction")?;
        let txn = self.txn_or_err("commit_transaction")?;
        txn.phase = Phase::Committing;
        txn.op = Some(TxnOp::Commit);
        self.flush();
        Ok(())
    }

    /// Aborts the transaction: its records not yet sent fail with
    /// [`ErrorKind::Aborted`], those in flight are awaited, then EndTxn
    /// aborts it at the coordinator (read_committed consumers never see
    /// its records). Finishes with an [`Output::Transaction`] for
    /// [`TxnOp::Abort`].
    pub fn abort_transaction(&mut self) -> Result<(), ProduceError> {
        if self.start_op(TxnOp::Abort)? {
            return Ok(());
        }
        let txn = self.txn_or_err("abort_transaction")?;
        match &txn.phase {
            Phase::InTransaction | Phase::AbortableError(_) => {}
            // `close` started this abort (the transaction was open, or its
            // commit failed while closing): the call waits for it.
            Phase::Aborting => {
                txn.op = Some(TxnOp::Abort);
                self.dirty = true;
                return Ok(());
            }
            Phase::Fatal(e) => return Err(e.clone()),
            _ => return Err(state_error("abort_transaction: no transaction is open".into())),
        }
        txn.op = Some(TxnOp::Abort);
        self.begin_abort();
        Ok(())
    }

    /// Whether a batch that came back unanswered or with a retriable error
    /// is not to be retried: its transaction is aborting or can only abort.
    pub(super) fn txn_gives_up(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| matches!(t.phase, Phase::Aborting | Phase::AbortableError(_)))
    }

    /// Moves an open transaction to aborting: what is not sent fails.
    pub(super) fn begin_abort(&mut self) {
        let Some(txn) = self.txn.as_mut() else { return };
        txn.phase = Phase::Aborting;
        txn.offsets = None;
        if self.transactions.bump_requested {
            txn.bump_after_abort = true;
        }
        self.fail_unsent(|| ProduceError::new(ErrorKind::Aborted, "the record's transaction was aborted".into()));
        self.dirty = true;
    }

    /// Ok if a transaction is open and healthy.
    fn require_open(&self, verb: &str) -> Result<(), ProduceError> {
        let Some(txn) = self.txn.as_ref() else { return Err(state_error(format!("{verb}: transactional.id is not set"))) };
        match &txn.phase {
            Phase::InTransaction => Ok(()),
            Phase::AbortableError(e) => {
                Err(state_error(format!("{verb}: the transaction can only be aborted: an earlier record or request failed: {}", e.message)))
            }
            Phase::Fatal(e) => Err(e.clone()),
            Phase::Uninitialized | Phase::Initializing => Err(state_error(format!("{verb}: call init_transactions first"))),
            Phase::Ready => Err(state_error(format!("{verb}: no transaction is open: call begin_transaction first"))),
            Phase::Committing | Phase::Aborting => Err(state_error(format!("{verb}: the transaction is ending"))),
        }
    }

    /// Whether a transaction is open (healthy or abortable) with no call
    /// running on it: `close` aborts it.
    pub(super) fn txn_open_and_idle(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| matches!(t.phase, Phase::InTransaction | Phase::AbortableError(_)) && t.op.is_none())
    }

    /// Whether a transaction is ending: `close` waits for it.
    pub(super) fn txn_ending(&self) -> bool {
        self.txn.as_ref().is_some_and(Transactions::ending)
    }

    /// Whether `send` may take a record now (a transactional producer
    /// takes records only inside an open transaction).
    pub(super) fn txn_allows_send(&self) -> Result<(), ProduceError> {
        match &self.txn {
            None => Ok(()),
            Some(_) => self.require_open("send"),
        }
    }

    /// At the close deadline: the running call, if any, fails as closed.
    pub(super) fn fail_txn_op_on_close(&mut self) {
        let Some(op) = self.txn.as_ref().and_then(|t| t.op) else { return };
        self.finish_op(op, Some(ProduceError::new(ErrorKind::Closed, format!("{}: the producer was closed before it finished", op.name()))));
    }

    /// The outcome of the running call `op`, for the host.
    pub(super) fn finish_op(&mut self, op: TxnOp, error: Option<ProduceError>) {
        let Some(txn) = self.txn.as_mut() else { return };
        if txn.op == Some(op) {
            txn.op = None;
            self.outputs.push_back(Output::Transaction(TxnResult { op, error }));
        }
    }

    /// A record or request of the transaction failed: it can only be
    /// aborted now; a running commit or send-offsets fails with `error`.
    pub(super) fn txn_abortable(&mut self, error: ProduceError) {
        let Some(txn) = self.txn.as_mut() else { return };
        if !matches!(txn.phase, Phase::InTransaction | Phase::Committing) {
            return;
        }
        txn.phase = Phase::AbortableError(error.clone());
        txn.offsets = None;
        self.outputs.push_back(Output::Warning(format!("the transaction must be aborted: {}", error.message)));
        for op in [TxnOp::Commit, TxnOp::SendOffsets] {
            self.finish_op(op, Some(error.clone()));
        }
    }

    /// The producer cannot go on: every call and record fails with `error`.
    pub(super) fn txn_fatal(&mut self, error: ProduceError) {
        let Some(txn) = self.txn.as_mut() else { return };
        if txn.is_fatal() {
            return;
        }
        txn.phase = Phase::Fatal(error.clone());
        txn.offsets = None;
        let op = txn.op;
        self.outputs.push_back(Output::Warning(format!("transactional producer failed for good: {}", error.message)));
        if let Some(op) = op {
            self.finish_op(op, Some(error.clone()));
        }
        self.transactions.state = PidState::Failed(error.clone());
        self.fail_unsent(|| error.clone());
        self.dirty = true;
    }

    /// A batch of the transaction failed for good. `stamped`: it carried
    /// sequence numbers, which the broker may or may not have taken, so
    /// the epoch is bumped after the abort.
    pub(super) fn txn_batch_failed(&mut self, error: &ProduceError, stamped: bool) {
        let Some(txn) = self.txn.as_mut() else { return };
        if stamped {
            txn.bump_after_abort = true;
        }
        if error.kind == ErrorKind::Fatal {
            self.txn_fatal(error.clone());
        } else if error.kind != ErrorKind::Aborted {
            self.txn_abortable(error.clone());
        }
    }
}
