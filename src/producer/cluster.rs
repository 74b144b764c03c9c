//! The producer's use of its cluster view (`crate::metadata`, the Java
//! client's `Metadata`): when to ask for a refresh and of whom, what a
//! Metadata response changes (waiting records go into batches, refused
//! topics fail), and which brokers to connect to.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Output, Producer};
use crate::error_codes::{self, error_name};
use crate::metadata::{TopicIdx, TopicState};
use crate::record::{Record, RecordId};
use crate::report::{ErrorKind, ProduceError};
use crate::request::{self, ApiKey};
use crate::response::MetadataResponse;

impl Producer {
    /// Sends a Metadata request if one is due (asked for, or the view is
    /// older than `metadata.max.age.ms`) for every topic not refused.
    pub(super) fn maybe_request_metadata(&mut self, now: u64) {
        let due = self.metadata.due_at().is_some_and(|t| now >= t)
            || self.metadata.stale_at(self.config.metadata_max_age_ms).is_some_and(|t| now >= t);
        if !due {
            return;
        }
        let names: Vec<String> =
            self.metadata.topics().iter().filter(|t| !matches!(t.state, TopicState::Failed(_))).map(|t| t.name.clone()).collect();
        let auto_create = self.config.allow_auto_create_topics;
        let sent = self.send_to_any_broker(ApiKey::Metadata, now, |buf, version, cid, client_id| {
            request::metadata(buf, version, cid, client_id, names.iter().map(String::as_str), auto_create)
        });
        if sent {
            self.metadata.on_request_sent();
        }
    }

    /// Sends a request any broker can answer (Metadata, InitProducerId) on
    /// the least loaded ready connection; with no connection at all, opens
    /// one. Returns whether it was sent.
    pub(super) fn send_to_any_broker(&mut self, api: ApiKey, now: u64, encode: impl FnOnce(&mut Vec<u8>, i16, i32, &str)) -> bool {
        let Some((conn, version)) = self.client.least_loaded_ready().map(|c| (c.id, c.version(api))) else {
            if self.client.conns.is_empty() {
                self.open_any_broker(now);
            }
            return false;
        };
        let client_id = &self.config.client_id;
        let sent = self.client.send_request(conn, api, version, 128, true, now, &mut self.outputs, |buf, cid| encode(buf, version, cid, client_id));
        self.dirty |= sent.broke;
        true
    }

    /// Opens a connection to some broker for metadata: a known one first,
    /// else the next bootstrap server; none while all are backing off.
    fn open_any_broker(&mut self, now: u64) {
        let known: Vec<i32> = self.metadata.broker_ids().collect();
        for node in known {
            if self.client.backoff_allows(node, now) {
                if let Some((host, port)) = self.metadata.broker(node).cloned() {
                    self.client.connect(node, host, port, now, &mut self.outputs);
                    return;
                }
            }
        }
        let n = self.config.bootstrap_servers.len();
        for k in 0..n {
            let i = (self.client.bootstrap_cursor + k) % n;
            let node = -(i as i32) - 1;
            if self.client.backoff_allows(node, now) {
                let (host, port) = self.config.bootstrap_servers[i].clone();
                self.client.bootstrap_cursor = i;
                self.client.connect(node, host, port, now, &mut self.outputs);
                return;
            }
        }
    }

    /// A Metadata response: the view is updated; records of topics that
    /// became known go into batches, those of refused topics fail.
    pub(super) fn on_metadata(&mut self, resp: &MetadataResponse<'_>, now: u64) {
        let update = self.metadata.apply(resp, now, self.config.retry_backoff_ms);
        if resp.error_code != error_codes::NONE {
            self.outputs.push_back(Output::Warning(format!("metadata request failed: {}", error_name(resp.error_code))));
        }
        for (t, code) in update.failed {
            let mut pending = self.accumulator.take_pending(t);
            let mut ids = Vec::new();
            pending.drain(|r, _| ids.push(r.id));
            let name = self.metadata.topic(t).name.clone();
            self.report_ids(t, -1, ids, ProduceError::broker(ErrorKind::TopicFailed, code, Some(&name)));
            let mut batches = Vec::new();
            self.accumulator.remove_topic_batches(t, |b| batches.push(b));
            for b in batches {
                self.fail_batch(b, ProduceError::broker(ErrorKind::TopicFailed, code, Some(&name)));
            }
        }
        for t in update.newly_known {
            self.replay_pending(t, now);
        }
        self.adopt_bootstrap_connections();
    }

    /// A bootstrap connection to the very address a broker advertises
    /// (same host name, same port) becomes that broker's connection, so the
    /// first Produce needs no second connection, handshake and ApiVersions
    /// to the same place (librdkafka likewise matches bootstrap servers to
    /// the brokers it learns by address).
    fn adopt_bootstrap_connections(&mut self) {
        for i in 0..self.client.conns.len() {
            let c = &self.client.conns[i];
            if c.node >= 0 {
                continue;
            }
            let same = |n: &i32| self.metadata.broker(*n).is_some_and(|(h, p)| *p == c.port && h.eq_ignore_ascii_case(&c.host));
            let Some(node) = self.metadata.broker_ids().find(same) else { continue };
            if !self.client.is_connected_to(node) {
                let bootstrap = core::mem::replace(&mut self.client.conns[i].node, node);
                self.client.wire.merge(bootstrap, node);
            }
        }
    }

    /// Moves records that waited for metadata into batches, in send order.
    fn replay_pending(&mut self, t: TopicIdx, now: u64) {
        let mut pending = self.accumulator.take_pending(t);
        let mut rejected: Vec<(RecordId, ProduceError)> = Vec::new();
        pending.drain(|r, headers| {
            let rec = Record { key: r.key, value: r.value, headers, partition: r.partition, timestamp: Some(r.timestamp) };
            // Linger and delivery timeout count from acceptance.
            if let Err(e) = self.append_known(t, &rec, r.timestamp, r.id, r.accepted_ms.min(now)) {
                rejected.push((r.id, e));
            }
        });
        if self.accumulator.topics[t].pending.count == 0 {
            self.accumulator.topics[t].pending = pending; // keeps its allocation
        }
        for (id, e) in rejected {
            self.report_ids(t, -1, alloc::vec![id], e);
        }
    }

    /// Connects to each leader of a partition with batches waiting (once
    /// its backoff allows); a partition without a leader, or a leader
    /// whose address is unknown, asks for a metadata refresh.
    pub(super) fn connect_to_leaders(&mut self, now: u64) {
        if self.has_leaderless_batches() {
            self.metadata.request_update();
        }
        for node in self.nodes_with_batches() {
            if self.client.is_connected_to(node) || !self.client.backoff_allows(node, now) {
                continue;
            }
            match self.metadata.broker(node).cloned() {
                Some((host, port)) => {
                    self.client.connect(node, host, port, now, &mut self.outputs);
                }
                None => self.metadata.request_update(),
            }
        }
    }
}
