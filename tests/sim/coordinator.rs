//! A simulated transaction coordinator (KIP-98), on the broker
//! `Sim::coordinator_node`: FindCoordinator, InitProducerId with a
//! transactional id (fencing: a new epoch aborts the open transaction),
//! AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn, each
//! of which can be made to fail (`Sim::txn_faults`). Ending a transaction
//! writes a control marker into each of its partitions' logs, so
//! `read_committed` shows what a read_committed consumer would see: a
//! transaction's records once a commit marker follows them, never after
//! an abort marker, and not while it is open.

use std::collections::{BTreeSet, HashMap};

use kafka_protocol::messages::add_partitions_to_txn_response::{AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult};
use kafka_protocol::messages::txn_offset_commit_response::{TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, InitProducerIdRequest, InitProducerIdResponse, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};

use super::records::Stored;
use super::{node_host, trace, Sim};

pub const NOT_COORDINATOR: i16 = 16;
pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
pub const CONCURRENT_TRANSACTIONS: i16 = 51;
pub const INVALID_TXN_STATE: i16 = 48;
pub const PRODUCER_FENCED: i16 = 90;

/// What the coordinator does with the next request of one API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnFault {
    /// Answer with this error code, doing nothing.
    Error(i16),
    /// Drop the connection before doing anything.
    DropBefore,
    /// Do it, then drop the connection before answering.
    DropAfter,
}

/// The coordinator's record of one transactional id.
#[derive(Debug, Clone, Default)]
pub struct SimTxn {
    pub producer_id: i64,
    pub epoch: i16,
    /// Partitions of the open transaction (empty: none open).
    pub partitions: BTreeSet<(String, i32)>,
    /// Groups whose offsets the open transaction commits, and the offsets
    /// staged for them.
    pub groups: BTreeSet<String>,
    pub staged_offsets: Vec<(String, String, i32, i64)>,
    /// The last transaction's outcome, for a retried EndTxn.
    pub last_end: Option<bool>,
    /// The epoch before the last bump, for a retried InitProducerId.
    pub last_epoch: Option<i16>,
}

/// One control marker in a partition's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub offset: usize,
    pub producer_id: i64,
    pub commit: bool,
}

impl Stored {
    /// The place a control record takes in a log (one offset, as in Kafka).
    pub fn control() -> Stored {
        Stored { key: Some(b"__control__".to_vec()), value: None, headers: Vec::new(), timestamp: i64::MIN }
    }
    pub fn is_control(&self) -> bool {
        self.timestamp == i64::MIN
    }
}

impl Sim {
    /// Takes the fault for the next request of `api`, if any; counts it.
    fn txn_fault(&mut self, api: i16) -> Option<TxnFault> {
        let f = self.txn_faults.get_mut(&api).and_then(|q| q.pop_front());
        if f.is_some() {
            self.faults_injected += 1;
        }
        f
    }

    /// Applies a fault before the request: `Some(code)` to answer with,
    /// `None` to go on; `Err` when the connection was dropped.
    fn before(&mut self, conn: u32, api: i16) -> Result<(Option<i16>, bool), ()> {
        match self.txn_fault(api) {
            Some(TxnFault::Error(code)) => Ok((Some(code), false)),
            Some(TxnFault::DropBefore) => {
                self.drop_conn(conn);
                Err(())
            }
            Some(TxnFault::DropAfter) => Ok((None, true)),
            None => Ok((None, false)),
        }
    }

    /// FindCoordinator: the coordinator node for any key. `None`: dropped.
    pub(super) fn find_coordinator(&mut self, conn: u32, req: &FindCoordinatorRequest) -> Option<(FindCoordinatorResponse, bool)> {
        let (code, drop_after) = self.before(conn, 10).ok()?;
        trace(|| format!("t={} FindCoordinator {} type {} -> {code:?}", self.now, req.key, req.key_type));
        if let Some(code) = code {
            return Some((FindCoordinatorResponse::default().with_error_code(code).with_node_id((-1).into()).with_host("".into()), false));
        }
        let node = self.coordinator_node;
        let port = self.brokers[&node];
        Some((FindCoordinatorResponse::default().with_node_id(node.into()).with_host(node_host(node).into()).with_port(i32::from(port)), drop_after))
    }

    /// Answers NOT_COORDINATOR when the request reached another broker.
    fn wrong_node(&self, node: i32) -> Option<i16> {
        (node != self.coordinator_node).then_some(NOT_COORDINATOR)
    }

    /// InitProducerId with a transactional id: the id's producer id with
    /// the next epoch; an open transaction of an older epoch is aborted.
    pub(super) fn txn_init_producer_id(&mut self, conn: u32, node: i32, req: &InitProducerIdRequest) -> Option<(InitProducerIdResponse, bool)> {
        let id = req.transactional_id.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
        let (code, drop_after) = self.before(conn, 22).ok()?;
        let fail = |code: i16| InitProducerIdResponse::default().with_error_code(code).with_producer_id((-1).into()).with_producer_epoch(-1);
        if let Some(code) = code.or(self.wrong_node(node)) {
            return Some((fail(code), false));
        }
        let txn = self.transactions.get(&id).cloned();
        let (pid, epoch) = match txn {
            None => {
                self.next_producer_id += 1;
                (self.next_producer_id, 0)
            }
            Some(t) => {
                // KIP-360: a producer that names its id and epoch must name
                // the current ones, or the ones just bumped from (its retry
                // of the bump, answered with the current epoch again).
                let named = (req.producer_id.0, req.producer_epoch);
                if named.0 >= 0 && named.0 == t.producer_id && Some(named.1) == t.last_epoch {
                    return Some((InitProducerIdResponse::default().with_producer_id(t.producer_id.into()).with_producer_epoch(t.epoch), drop_after));
                }
                if named.0 >= 0 && named != (t.producer_id, t.epoch) {
                    return Some((fail(PRODUCER_FENCED), false));
                }
                (t.producer_id, t.epoch + 1)
            }
        };
        self.abort_open(&id, epoch);
        let t = self.transactions.entry(id.clone()).or_default();
        t.last_epoch = (epoch > 0).then_some(epoch - 1).filter(|_| t.producer_id == pid);
        t.producer_id = pid;
        t.epoch = epoch;
        self.inits += 1;
        trace(|| format!("t={} InitProducerId {id} -> {pid}/{epoch}", self.now));
        Some((InitProducerIdResponse::default().with_producer_id(pid.into()).with_producer_epoch(epoch), drop_after))
    }

    /// Another instance with transactional id `id` starts: the epoch moves
    /// on and the open transaction is aborted, as its InitProducerId would.
    pub fn fence(&mut self, id: &str) {
        let epoch = self.transactions.get(id).map_or(0, |t| t.epoch + 1);
        self.abort_open(id, epoch);
        if let Some(t) = self.transactions.get_mut(id) {
            t.epoch = epoch;
            t.last_epoch = None;
        }
    }

    /// Aborts `id`'s open transaction, if any, with markers of `epoch`.
    fn abort_open(&mut self, id: &str, epoch: i16) {
        let Some(t) = self.transactions.get_mut(id) else { return };
        let parts = std::mem::take(&mut t.partitions);
        let pid = t.producer_id;
        t.groups.clear();
        t.staged_offsets.clear();
        if !parts.is_empty() {
            t.last_end = Some(false);
        }
        self.write_markers(&parts, pid, epoch, false);
    }

    fn write_markers(&mut self, parts: &BTreeSet<(String, i32)>, pid: i64, epoch: i16, commit: bool) {
        for (topic, p) in parts {
            let Some(part) = self.topics.get_mut(topic).and_then(|ps| ps.get_mut(*p as usize)) else { continue };
            part.markers.push(Marker { offset: part.log.len(), producer_id: pid, commit });
            part.log.push(Stored::control());
            // A marker of a newer epoch fences the older one on this partition.
            let st = part.producers.entry(pid).or_default();
            if epoch > st.epoch {
                st.epoch = epoch;
                st.last_seq = -1;
                st.recent.clear();
                st.written.clear();
            }
        }
    }

    /// The transaction of `id` at `pid`/`epoch`, or the error for a stale one.
    fn current(&mut self, id: &str, pid: i64, epoch: i16) -> Result<&mut SimTxn, i16> {
        let t = self.transactions.get_mut(id).ok_or(INVALID_TXN_STATE)?;
        if t.producer_id != pid {
            return Err(49); // INVALID_PRODUCER_ID_MAPPING
        }
        if epoch < t.epoch {
            return Err(PRODUCER_FENCED);
        }
        if epoch > t.epoch {
            return Err(47); // INVALID_PRODUCER_EPOCH
        }
        Ok(t)
    }

    pub(super) fn add_partitions_to_txn(&mut self, conn: u32, node: i32, req: &AddPartitionsToTxnRequest) -> Option<(AddPartitionsToTxnResponse, bool)> {
        let (code, drop_after) = self.before(conn, 24).ok()?;
        let id = req.v3_and_below_transactional_id.0.to_string();
        let code = code.or(self.wrong_node(node)).unwrap_or_else(|| match self.current(&id, req.v3_and_below_producer_id.0, req.v3_and_below_producer_epoch) {
            Err(c) => c,
            Ok(t) => {
                for topic in &req.v3_and_below_topics {
                    for p in &topic.partitions {
                        t.partitions.insert((topic.name.0.to_string(), *p));
                    }
                }
                0
            }
        });
        trace(|| format!("t={} AddPartitionsToTxn {id} -> {code}", self.now));
        let results = req
            .v3_and_below_topics
            .iter()
            .map(|t| {
                AddPartitionsToTxnTopicResult::default().with_name(t.name.clone()).with_results_by_partition(
                    t.partitions.iter().map(|p| AddPartitionsToTxnPartitionResult::default().with_partition_index(*p).with_partition_error_code(code)).collect(),
                )
            })
            .collect();
        Some((AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results), drop_after))
    }

    pub(super) fn add_offsets_to_txn(&mut self, conn: u32, node: i32, req: &AddOffsetsToTxnRequest) -> Option<(AddOffsetsToTxnResponse, bool)> {
        let (code, drop_after) = self.before(conn, 25).ok()?;
        let id = req.transactional_id.0.to_string();
        let code = code.or(self.wrong_node(node)).unwrap_or_else(|| match self.current(&id, req.producer_id.0, req.producer_epoch) {
            Err(c) => c,
            Ok(t) => {
                t.groups.insert(req.group_id.0.to_string());
                0
            }
        });
        Some((AddOffsetsToTxnResponse::default().with_error_code(code), drop_after))
    }

    pub(super) fn txn_offset_commit(&mut self, conn: u32, node: i32, req: &TxnOffsetCommitRequest) -> Option<(TxnOffsetCommitResponse, bool)> {
        let (code, drop_after) = self.before(conn, 28).ok()?;
        let id = req.transactional_id.0.to_string();
        let group = req.group_id.0.to_string();
        let partition_codes = std::mem::take(&mut self.txn_offset_partition_codes);
        let code_of = |p: i32| partition_codes.iter().find(|(q, _)| *q == p).map_or(0, |(_, c)| *c);
        let code = code.or(self.wrong_node(node)).unwrap_or_else(|| match self.current(&id, req.producer_id.0, req.producer_epoch) {
            Err(c) => c,
            Ok(t) if !t.groups.contains(&group) => INVALID_TXN_STATE,
            Ok(t) => {
                for topic in &req.topics {
                    for p in topic.partitions.iter().filter(|p| code_of(p.partition_index) == 0) {
                        t.staged_offsets.push((group.clone(), topic.name.0.to_string(), p.partition_index, p.committed_offset));
                    }
                }
                0
            }
        });
        let topics = req
            .topics
            .iter()
            .map(|t| {
                TxnOffsetCommitResponseTopic::default().with_name(t.name.clone()).with_partitions(
                    t.partitions.iter().map(|p| TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(if code == 0 { code_of(p.partition_index) } else { code })).collect(),
                )
            })
            .collect();
        Some((TxnOffsetCommitResponse::default().with_topics(topics), drop_after))
    }

    pub(super) fn end_txn(&mut self, conn: u32, node: i32, req: &EndTxnRequest) -> Option<(EndTxnResponse, bool)> {
        let (code, drop_after) = self.before(conn, 26).ok()?;
        let id = req.transactional_id.0.to_string();
        let commit = req.committed;
        let code = code.or(self.wrong_node(node)).unwrap_or_else(|| {
            let t = match self.current(&id, req.producer_id.0, req.producer_epoch) {
                Err(c) => return c,
                Ok(t) => t,
            };
            if t.partitions.is_empty() && t.groups.is_empty() {
                // A retry of the EndTxn that completed it is answered as it was.
                return if t.last_end == Some(commit) { 0 } else { INVALID_TXN_STATE };
            }
            let parts = std::mem::take(&mut t.partitions);
            let staged = std::mem::take(&mut t.staged_offsets);
            t.groups.clear();
            t.last_end = Some(commit);
            let (pid, epoch) = (t.producer_id, t.epoch);
            if commit {
                for (group, topic, p, offset) in staged {
                    self.group_offsets.insert((group, topic, p), offset);
                }
            }
            self.write_markers(&parts, pid, epoch, commit);
            self.txn_outcomes.push(commit);
            0
        });
        trace(|| format!("t={} EndTxn {id} commit={commit} -> {code}", self.now));
        Some((EndTxnResponse::default().with_error_code(code), drop_after))
    }

    /// A transactional batch for `topic`-`partition` from `pid`: it must be
    /// in the producer's open transaction (AddPartitionsToTxn first).
    /// (A batch of an older epoch is fenced by the broker instead.)
    pub(super) fn check_transactional_batch(&mut self, topic: &str, partition: i32, pid: i64, epoch: i16) {
        let Some(t) = self.transactions.values().find(|t| t.producer_id == pid) else {
            return self.violations.push(format!("a transactional batch from producer {pid}, which no coordinator knows"));
        };
        if epoch == t.epoch && !t.partitions.contains(&(topic.to_string(), partition)) {
            self.violations.push(format!("a transactional batch for {topic}-{partition} not added to producer {pid}'s transaction"));
        }
    }

    /// What a read_committed consumer reads of `topic`-`partition`:
    /// records outside transactions, and those of committed transactions.
    pub fn read_committed(&self, topic: &str, partition: i32) -> Vec<&Stored> {
        let part = &self.topics[topic][partition as usize];
        let mut out = Vec::new();
        for (offset, s) in part.log.iter().enumerate().skip(part.log_start) {
            if s.is_control() {
                continue;
            }
            let Some(&(_, _, pid)) = part.txn_ranges.iter().find(|(a, b, _)| (*a..*b).contains(&offset)) else {
                out.push(s);
                continue;
            };
            let ended = part.markers.iter().find(|m| m.producer_id == pid && m.offset > offset);
            if ended.is_some_and(|m| m.commit) {
                out.push(s);
            }
        }
        out
    }

    /// Every record a read_committed consumer sees, with how many times.
    pub fn committed_counts(&self) -> HashMap<Stored, usize> {
        let mut counts = HashMap::new();
        for (topic, parts) in &self.topics {
            for p in 0..parts.len() {
                for s in self.read_committed(topic, p as i32) {
                    *counts.entry(s.clone()).or_default() += 1;
                }
            }
        }
        counts
    }
}
