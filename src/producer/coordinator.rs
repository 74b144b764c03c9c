//! The transactional requests (the Java client's `TxnRequestHandler`s):
//! FindCoordinator, InitProducerId with the transactional id,
//! AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn. One is
//! in flight at a time; which one comes next is read from the
//! transaction's state (`next_txn_request`), so a lost or refused request
//! is simply asked again after the backoff. Each response moves the state
//! on, retries, or classifies the error as abortable or fatal.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::transaction_manager::{ProducerIdAndEpoch, TopicPartition};
use super::transactions::{fatal_error, is_fatal_code, PartitionState, Phase, TxnOp};
use super::{Output, Producer};
use crate::error_codes::{
    self, is_retriable, CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
    OPERATION_NOT_ATTEMPTED, REQUEST_TIMED_OUT, UNKNOWN_TOPIC_OR_PARTITION,
};
use crate::report::{ErrorKind, ProduceError};
use crate::request::{self, ApiKey, GroupMetadata, Transactional, TxnIdentity};
use crate::response::{FindCoordinatorResponse, InitProducerIdResponse, PartitionErrors};

/// Backoff after CONCURRENT_TRANSACTIONS on AddPartitionsToTxn: the
/// previous transaction is still completing, which takes milliseconds (the
/// Java client's short retry).
const CONCURRENT_TRANSACTIONS_BACKOFF_MS: u64 = 20;

/// A transactional request, as sent (kept while it is in flight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnRequest {
    /// Key type 1: the transaction's coordinator.
    FindTransactionCoordinator,
    /// Key type 0: the offsets' group's coordinator.
    FindGroupCoordinator(String),
    InitProducerId,
    AddPartitions(Vec<TopicPartition>),
    AddOffsets,
    TxnOffsetCommit,
    EndTxn { commit: bool },
}

/// Whether a group's metadata names a member (a generation, member id or
/// static instance id), not just the group.
fn has_member(g: &GroupMetadata) -> bool {
    g.generation_id != -1 || !g.member_id.is_empty() || g.group_instance_id.is_some()
}

/// What the transaction needs next.
enum Next {
    Send(TxnRequest),
    /// The transaction ends without the coordinator: nothing was added to it.
    EndLocally { commit: bool },
}

/// How a transactional request's error is handled.
enum Handling {
    Retry { backoff_ms: u64, rediscover: bool },
    Abortable(ProduceError),
    /// Abortable, and the epoch is bumped after the abort (the coordinator
    /// lost track of the producer id).
    AbortableBump(ProduceError),
    Fatal(ProduceError),
}

impl Handling {
    /// Of two partitions' handlings, the one the request gets: fatal over
    /// abortable over retry.
    fn worst(a: Option<Handling>, b: Handling) -> Handling {
        match (a, b) {
            (Some(Handling::Fatal(e)), _) | (_, Handling::Fatal(e)) => Handling::Fatal(e),
            (Some(Handling::AbortableBump(e)), _) | (_, Handling::AbortableBump(e)) => Handling::AbortableBump(e),
            (Some(Handling::Abortable(e)), _) | (_, Handling::Abortable(e)) => Handling::Abortable(e),
            (_, retry) => retry,
        }
    }
}

impl Producer {
    /// Sends the next transactional request, if one is due and none is in
    /// flight; ends a transaction the coordinator never heard of.
    pub(super) fn maybe_send_txn_request(&mut self, now: u64) {
        let Some(txn) = self.txn.as_ref() else { return };
        if txn.in_flight.is_some() || now < txn.retry_at_ms {
            return;
        }
        let request = match self.next_txn_request() {
            None => return,
            Some(Next::EndLocally { commit }) => return self.on_txn_ended(commit),
            Some(Next::Send(r)) => r,
        };
        let Some(txn) = self.txn.as_ref() else { return };
        // Where it goes: FindCoordinator to any broker, TxnOffsetCommit to
        // the group's coordinator, the rest to the transaction's; an
        // unknown coordinator is looked up first.
        let (node, request) = match request {
            r @ (TxnRequest::FindTransactionCoordinator | TxnRequest::FindGroupCoordinator(_)) => (None, r),
            TxnRequest::TxnOffsetCommit => {
                let group = txn.offsets.as_ref().map(|o| o.group.group_id.clone()).unwrap_or_default();
                match &txn.group_coordinator {
                    Some((g, node)) if *g == group => (Some(*node), TxnRequest::TxnOffsetCommit),
                    _ => (None, TxnRequest::FindGroupCoordinator(group)),
                }
            }
            r => match txn.coordinator {
                Some(node) => (Some(node), r),
                None => (None, TxnRequest::FindTransactionCoordinator),
            },
        };
        let api = match &request {
            TxnRequest::FindTransactionCoordinator | TxnRequest::FindGroupCoordinator(_) => ApiKey::FindCoordinator,
            TxnRequest::InitProducerId => ApiKey::InitProducerId,
            TxnRequest::AddPartitions(_) => ApiKey::AddPartitionsToTxn,
            TxnRequest::AddOffsets => ApiKey::AddOffsetsToTxn,
            TxnRequest::TxnOffsetCommit => ApiKey::TxnOffsetCommit,
            TxnRequest::EndTxn { .. } => ApiKey::EndTxn,
        };
        let encode = self.txn_encoder(&request);
        let sent = match node {
            None => self.send_to_any_broker(api, now, encode),
            Some(node) => self.send_to_node(node, api, now, encode),
        };
        if sent {
            if let TxnRequest::AddPartitions(parts) = &request {
                self.set_partition_states(parts, PartitionState::Adding);
            }
            if let Some(txn) = self.txn.as_mut() {
                txn.in_flight = Some(request);
            }
        }
    }

    /// What the transaction's state asks for next.
    fn next_txn_request(&self) -> Option<Next> {
        let txn = self.txn.as_ref()?;
        match txn.phase {
            Phase::Initializing => Some(Next::Send(TxnRequest::InitProducerId)),
            Phase::InTransaction | Phase::Committing => {
                let new: Vec<TopicPartition> =
                    txn.partitions.iter().filter(|(_, s)| **s == PartitionState::New).map(|(p, _)| *p).collect();
                if !new.is_empty() {
                    return Some(Next::Send(TxnRequest::AddPartitions(new)));
                }
                if let Some(o) = &txn.offsets {
                    return Some(Next::Send(if o.added { TxnRequest::TxnOffsetCommit } else { TxnRequest::AddOffsets }));
                }
                let all_added = txn.partitions.values().all(|s| *s == PartitionState::Added);
                if txn.phase == Phase::Committing && all_added && self.txn_records_settled() {
                    return Some(if txn.started { Next::Send(TxnRequest::EndTxn { commit: true }) } else { Next::EndLocally { commit: true } });
                }
                None
            }
            Phase::Aborting if self.sender.batches_in_flight() == 0 => {
                Some(if txn.started || txn.maybe_started { Next::Send(TxnRequest::EndTxn { commit: false }) } else { Next::EndLocally { commit: false } })
            }
            _ => None,
        }
    }

    /// Every record of the transaction is acknowledged (or failed).
    fn txn_records_settled(&self) -> bool {
        self.accumulator.queued_batches() == 0
            && self.sender.batches_in_flight() == 0
            && self.accumulator.topics.iter().all(|t| t.pending.count == 0)
    }

    /// The request's encoder, with what it carries copied out of `self`.
    fn txn_encoder(&self, request: &TxnRequest) -> impl FnOnce(&mut Vec<u8>, i16, i32, &str) + 'static {
        let txn = self.txn.as_ref();
        let id = txn.map(|t| t.id.clone()).unwrap_or_default();
        let pid = self.transactions.identity().unwrap_or(ProducerIdAndEpoch::NONE);
        let timeout_ms = self.config.transaction_timeout_ms.min(i32::MAX as u64) as i32;
        let offsets = txn.and_then(|t| t.offsets.clone());
        let partitions: Vec<(String, Vec<i32>)> = match request {
            TxnRequest::AddPartitions(parts) => {
                let mut topics: Vec<(String, Vec<i32>)> = Vec::new();
                for (t, p) in parts {
                    let name = &self.metadata.topic(*t).name;
                    match topics.last_mut() {
                        Some((n, ps)) if n == name => ps.push(*p),
                        _ => topics.push((name.clone(), alloc::vec![*p])),
                    }
                }
                topics
            }
            _ => Vec::new(),
        };
        let request = request.clone();
        move |buf: &mut Vec<u8>, version: i16, cid: i32, client_id: &str| {
            let ident = TxnIdentity { transactional_id: &id, producer_id: pid.producer_id, producer_epoch: pid.epoch };
            match request {
                TxnRequest::FindTransactionCoordinator => request::find_coordinator(buf, version, cid, client_id, &id, 1),
                TxnRequest::FindGroupCoordinator(group) => request::find_coordinator(buf, version, cid, client_id, &group, 0),
                TxnRequest::InitProducerId => {
                    // Before v3 an epoch cannot be bumped by id: the
                    // transactional id alone gets the next epoch.
                    let current = if version >= 3 { (pid.producer_id, pid.epoch) } else { (-1, -1) };
                    let t = Transactional { id: &id, timeout_ms };
                    request::init_producer_id(buf, version, cid, client_id, Some(t), current)
                }
                TxnRequest::AddPartitions(_) => {
                    let refs: Vec<(&str, Vec<i32>)> = partitions.iter().map(|(n, p)| (n.as_str(), p.clone())).collect();
                    request::add_partitions_to_txn(buf, version, cid, client_id, &ident, &refs)
                }
                TxnRequest::AddOffsets => {
                    let group = offsets.as_ref().map(|o| o.group.group_id.as_str()).unwrap_or("");
                    request::add_offsets_to_txn(buf, version, cid, client_id, &ident, group)
                }
                TxnRequest::TxnOffsetCommit => {
                    if let Some(o) = &offsets {
                        request::txn_offset_commit(buf, version, cid, client_id, &ident, &o.group, &o.offsets)
                    }
                }
                TxnRequest::EndTxn { commit } => request::end_txn(buf, version, cid, client_id, &ident, commit),
            }
        }
    }

    /// Sends a request on a ready connection to `node`, connecting first if
    /// there is none. Returns whether it was sent.
    fn send_to_node(&mut self, node: i32, api: ApiKey, now: u64, encode: impl FnOnce(&mut Vec<u8>, i16, i32, &str)) -> bool {
        let ready = self.client.conns.iter().find(|c| c.node == node && c.is_ready()).map(|c| (c.id, c.version(api)));
        let Some((conn, version)) = ready else {
            if !self.client.is_connected_to(node) && self.client.backoff_allows(node, now) {
                match self.metadata.broker(node).cloned() {
                    Some((host, port)) => {
                        self.client.connect(node, host, port, now, &mut self.outputs);
                    }
                    None => {
                        self.forget_coordinator(node);
                        self.metadata.request_update();
                    }
                }
            }
            return false;
        };
        if version < 0 {
            let e = ProduceError::new(
                ErrorKind::Fatal,
                format!("broker {node}, the transaction's coordinator, does not offer ApiKey {}", api as i16),
            );
            self.txn_fatal(e);
            return false;
        }
        if api == ApiKey::TxnOffsetCommit && version < 3 && self.txn.as_ref().and_then(|t| t.offsets.as_ref()).is_some_and(|o| has_member(&o.group)) {
            // Before v3 the request has no generation or member id: the
            // commit would not be fenced against a rebalance. The Java
            // client refuses the same way.
            let e = ProduceError::broker(
                ErrorKind::Fatal,
                error_codes::UNSUPPORTED_VERSION,
                Some(&format!(
                    "the group's coordinator offers TxnOffsetCommit up to v{version}; committing with the consumer's generation and member id needs v3 (Kafka 2.5 or later): pass the group id alone"
                )),
            );
            self.txn_fatal(e);
            return false;
        }
        let client_id = &self.config.client_id;
        let sent = self.client.send_request(conn, api, version, 128, true, now, &mut self.outputs, |buf, cid| encode(buf, version, cid, client_id));
        self.dirty |= sent.broke;
        sent.correlation_id.is_some()
    }

    fn set_partition_states(&mut self, parts: &[TopicPartition], state: PartitionState) {
        if let Some(txn) = self.txn.as_mut() {
            for p in parts {
                if let Some(s) = txn.partitions.get_mut(p) {
                    *s = state;
                }
            }
        }
    }

    /// Takes the request in flight off, for its response or its loss.
    fn take_txn_request(&mut self) -> Option<TxnRequest> {
        self.txn.as_mut()?.in_flight.take()
    }

    /// A transactional request's connection dropped before the answer: the
    /// coordinator may have moved; look it up again and retry.
    pub(super) fn on_txn_request_lost(&mut self, now: u64) {
        if let Some(r) = self.take_txn_request() {
            if matches!(r, TxnRequest::AddPartitions(_) | TxnRequest::AddOffsets) {
                if let Some(txn) = self.txn.as_mut() {
                    txn.maybe_started = true;
                }
            }
            self.retry_txn(&r, now, self.config.retry_backoff_ms, true);
        }
    }

    fn retry_txn(&mut self, request: &TxnRequest, now: u64, backoff_ms: u64, rediscover: bool) {
        if let TxnRequest::AddPartitions(parts) = request {
            self.set_partition_states(parts, PartitionState::New);
        }
        let Some(txn) = self.txn.as_mut() else { return };
        txn.retry_at_ms = now.saturating_add(backoff_ms);
        if rediscover {
            match request {
                TxnRequest::TxnOffsetCommit | TxnRequest::FindGroupCoordinator(_) => txn.group_coordinator = None,
                _ => txn.coordinator = None,
            }
        }
        self.dirty = true;
    }

    /// The Java client's handling of the errors every transactional
    /// request shares; `None` for those the request handles itself.
    fn common_handling(&self, code: i16, during: &str) -> Handling {
        let backoff_ms = self.config.retry_backoff_ms;
        match code {
            COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR | REQUEST_TIMED_OUT => Handling::Retry { backoff_ms, rediscover: true },
            COORDINATOR_LOAD_IN_PROGRESS | CONCURRENT_TRANSACTIONS => Handling::Retry { backoff_ms, rediscover: false },
            // The Java client's abortableErrorIfPossible: the transaction
            // is aborted and the producer gets a new epoch.
            error_codes::UNKNOWN_PRODUCER_ID | error_codes::INVALID_PRODUCER_ID_MAPPING | error_codes::TRANSACTION_ABORTABLE => {
                Handling::AbortableBump(ProduceError::broker(ErrorKind::Transaction, code, Some(during)))
            }
            c if is_fatal_code(c) => Handling::Fatal(fatal_error(c, during)),
            c if is_retriable(c) => Handling::Retry { backoff_ms, rediscover: false },
            c => Handling::Fatal(ProduceError::broker(ErrorKind::Fatal, c, Some(during))),
        }
    }

    fn apply(&mut self, request: &TxnRequest, handling: Handling, now: u64) {
        match handling {
            Handling::Retry { backoff_ms, rediscover } => {
                self.outputs.push_back(Output::Warning(format!("{request:?} failed, retrying in {backoff_ms} ms")));
                self.retry_txn(request, now, backoff_ms, rediscover);
            }
            Handling::Abortable(e) => self.txn_abortable(e),
            Handling::AbortableBump(e) => {
                if let Some(t) = self.txn.as_mut() {
                    t.bump_after_abort = true;
                }
                self.txn_abortable(e)
            }
            Handling::Fatal(e) => self.txn_fatal(e),
        }
    }

    pub(super) fn on_find_coordinator(&mut self, r: &FindCoordinatorResponse<'_>, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        if r.error_code != error_codes::NONE {
            let detail = format!("FindCoordinator for {}", if request == TxnRequest::FindTransactionCoordinator { "the transaction" } else { "the group" });
            let handling = match r.error_code {
                error_codes::GROUP_AUTHORIZATION_FAILED => Handling::Abortable(ProduceError::broker(ErrorKind::Transaction, r.error_code, Some(&detail))),
                code => self.common_handling(code, &detail),
            };
            return self.apply(&request, handling, now);
        }
        self.metadata.add_brokers(core::slice::from_ref(&r.coordinator));
        let node = r.coordinator.node_id;
        if let Some(txn) = self.txn.as_mut() {
            match request {
                TxnRequest::FindGroupCoordinator(group) => txn.group_coordinator = Some((group, node)),
                _ => txn.coordinator = Some(node),
            }
        }
        self.dirty = true;
    }

    /// InitProducerId for the transactional id: the producer id and epoch
    /// that fence every older instance.
    pub(super) fn on_txn_init_producer_id(&mut self, r: InitProducerIdResponse, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        if r.error_code != error_codes::NONE {
            let handling = self.common_handling(r.error_code, "InitProducerId");
            return self.apply(&request, handling, now);
        }
        self.transactions.on_granted(ProducerIdAndEpoch { producer_id: r.producer_id, epoch: r.producer_epoch });
        self.accumulator.clear_unresolved();
        if let Some(txn) = self.txn.as_mut() {
            txn.phase = Phase::Ready;
            txn.bump_after_abort = false;
        }
        self.finish_op(TxnOp::Init, None);
        self.finish_op(TxnOp::Abort, None);
    }

    pub(super) fn on_add_partitions(&mut self, r: &PartitionErrors<'_>, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        let TxnRequest::AddPartitions(parts) = &request else { return };
        let mut worst: Option<Handling> = None;
        let mut added = Vec::new();
        for &(t, p) in parts {
            let name = self.metadata.topic(t).name.as_str();
            let code = r.iter().filter(|(n, _)| *n == name).flat_map(|(_, ps)| ps.iter()).find(|(q, _)| *q == p).map(|(_, c)| *c);
            let handling = match code {
                Some(error_codes::NONE) => {
                    added.push((t, p));
                    continue;
                }
                None => Handling::Retry { backoff_ms: self.config.retry_backoff_ms, rediscover: false },
                Some(OPERATION_NOT_ATTEMPTED | UNKNOWN_TOPIC_OR_PARTITION) => {
                    Handling::Retry { backoff_ms: self.config.retry_backoff_ms, rediscover: false }
                }
                Some(CONCURRENT_TRANSACTIONS) => {
                    Handling::Retry { backoff_ms: CONCURRENT_TRANSACTIONS_BACKOFF_MS.min(self.config.retry_backoff_ms), rediscover: false }
                }
                Some(code @ error_codes::TOPIC_AUTHORIZATION_FAILED) => {
                    Handling::Abortable(ProduceError::broker(ErrorKind::Transaction, code, Some(&format!("AddPartitionsToTxn for {name}-{p}"))))
                }
                Some(code) => self.common_handling(code, "AddPartitionsToTxn"),
            };
            worst = Some(Handling::worst(worst, handling));
        }
        self.set_partition_states(&added, PartitionState::Added);
        if !added.is_empty() {
            if let Some(txn) = self.txn.as_mut() {
                txn.started = true;
            }
        }
        self.dirty = true;
        if let Some(handling) = worst {
            let rest: Vec<TopicPartition> = parts.iter().filter(|p| !added.contains(p)).copied().collect();
            self.apply(&TxnRequest::AddPartitions(rest), handling, now);
        }
    }

    pub(super) fn on_add_offsets(&mut self, code: i16, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        match code {
            error_codes::NONE => {
                if let Some(txn) = self.txn.as_mut() {
                    txn.started = true;
                    if let Some(o) = txn.offsets.as_mut() {
                        o.added = true;
                    }
                }
                self.dirty = true;
            }
            error_codes::GROUP_AUTHORIZATION_FAILED => {
                self.txn_abortable(ProduceError::broker(ErrorKind::Transaction, code, Some("AddOffsetsToTxn")))
            }
            code => {
                let handling = self.common_handling(code, "AddOffsetsToTxn");
                self.apply(&request, handling, now)
            }
        }
    }

    pub(super) fn on_txn_offset_commit(&mut self, r: &PartitionErrors<'_>, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        let mut worst: Option<Handling> = None;
        for code in r.iter().flat_map(|(_, ps)| ps.iter().map(|(_, c)| *c)).filter(|c| *c != error_codes::NONE) {
            let handling = match code {
                UNKNOWN_TOPIC_OR_PARTITION => Handling::Retry { backoff_ms: self.config.retry_backoff_ms, rediscover: false },
                error_codes::UNKNOWN_MEMBER_ID
                | error_codes::ILLEGAL_GENERATION
                | error_codes::FENCED_INSTANCE_ID
                | error_codes::GROUP_AUTHORIZATION_FAILED => Handling::Abortable(ProduceError::broker(
                    ErrorKind::Transaction,
                    code,
                    Some("TxnOffsetCommit: the consumer group moved on"),
                )),
                code => self.common_handling(code, "TxnOffsetCommit"),
            };
            worst = Some(Handling::worst(worst, handling));
        }
        match worst {
            // The partitions answered are committed with the transaction;
            // a retry sends them all again, which the coordinator allows.
            Some(handling) => self.apply(&request, handling, now),
            None => {
                if let Some(txn) = self.txn.as_mut() {
                    txn.offsets = None;
                }
                self.finish_op(TxnOp::SendOffsets, None);
                self.dirty = true;
            }
        }
    }

    pub(super) fn on_end_txn(&mut self, code: i16, now: u64) {
        let Some(request) = self.take_txn_request() else { return };
        let TxnRequest::EndTxn { commit } = request else { return };
        match code {
            error_codes::NONE => self.on_txn_ended(commit),
            // Sent only because an AddPartitionsToTxn or AddOffsetsToTxn
            // went unanswered: the coordinator has no transaction open, so
            // there is nothing to abort.
            error_codes::INVALID_TXN_STATE if !commit && self.txn.as_ref().is_some_and(|t| !t.started) => self.on_txn_ended(false),
            error_codes::UNKNOWN_PRODUCER_ID | error_codes::INVALID_PRODUCER_ID_MAPPING | error_codes::TRANSACTION_ABORTABLE if !commit => {
                // The coordinator has nothing of this producer to abort:
                // the abort is over once the epoch is bumped.
                if let Some(t) = self.txn.as_mut() {
                    t.bump_after_abort = true;
                }
                self.on_txn_ended(false)
            }
            code => {
                let handling = self.common_handling(code, if commit { "EndTxn (commit)" } else { "EndTxn (abort)" });
                self.apply(&request, handling, now)
            }
        }
    }

    /// The transaction is over: ready for the next, after an epoch bump if
    /// an abort left sequences out of step.
    fn on_txn_ended(&mut self, commit: bool) {
        let Some(txn) = self.txn.as_mut() else { return };
        txn.partitions.clear();
        txn.started = false;
        txn.maybe_started = false;
        txn.offsets = None;
        if !commit && (txn.bump_after_abort || self.transactions.bump_requested) {
            // The abort's outcome is told once the bump is through.
            txn.phase = Phase::Initializing;
            self.outputs.push_back(Output::Warning("bumping the producer epoch after the abort: sequences went out of step".into()));
        } else {
            txn.phase = Phase::Ready;
            self.finish_op(if commit { TxnOp::Commit } else { TxnOp::Abort }, None);
        }
        self.dirty = true;
    }
}
