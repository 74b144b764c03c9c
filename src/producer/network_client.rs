//! The Java client's `NetworkClient`: the broker connections, correlation
//! ids, reconnect backoff per broker, throttling (KIP-219), and the one
//! path by which every request goes out ([`NetworkClient::send_request`]:
//! encode, note it in flight, hand it to the host, encrypted with TLS).
//! Responses are framed here and handed to the producer's dispatch.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::sender::backoff_ms;
use super::{Output, Producer};
use crate::config::Config;
use crate::connection::{next_frame, ConnId, Connection, InFlight};
use crate::metadata::Metadata;
use crate::request::ApiKey;

#[derive(Debug, Default, Clone, Copy)]
struct Backoff {
    failures: u32,
    until_ms: u64,
}

/// What became of a request handed to `send_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Its correlation id; `None` if the connection is gone.
    pub correlation_id: Option<i32>,
    /// The connection's TLS session could not encrypt it: the connection
    /// is marked broken, to be dropped (and what it carried retried) at the
    /// next drive.
    pub broke: bool,
}

pub struct NetworkClient {
    pub conns: Vec<Connection>,
    node_backoff: BTreeMap<i32, Backoff>,
    /// Brokers that asked for a pause (KIP-219 throttling), until when.
    throttled: BTreeMap<i32, u64>,
    next_conn_id: ConnId,
    next_correlation_id: i32,
    /// The bootstrap server to try next.
    pub bootstrap_cursor: usize,
    /// Brokers and bootstrap servers whose last handshake failed
    /// authentication (TLS refused, SASL refused), until one completes:
    /// records fail only when no broker that could serve them is left.
    auth_failed: BTreeSet<i32>,
    /// Why a plaintext connection to a node looked like it reached a TLS
    /// listener, until a handshake with it completes: records that time
    /// out carry it, since the timeout alone says nothing of the cause.
    tls_listener_hints: BTreeMap<i32, String>,
    /// Why the last connection that never completed its handshake closed
    /// (refused, unreachable, not allowed by the host), until a handshake
    /// completes: records that time out waiting for metadata carry it.
    pub unreachable: Option<String>,
    /// Requests, bytes and latencies per broker, for `statistics`.
    pub wire: crate::statistics::Wire,
}

impl Default for NetworkClient {
    fn default() -> Self {
        NetworkClient {
            conns: Vec::new(),
            node_backoff: BTreeMap::new(),
            throttled: BTreeMap::new(),
            next_conn_id: 1,
            next_correlation_id: 1,
            bootstrap_cursor: 0,
            auth_failed: BTreeSet::new(),
            tls_listener_hints: BTreeMap::new(),
            unreachable: None,
            wire: Default::default(),
        }
    }
}

impl NetworkClient {
    pub fn conn(&self, id: ConnId) -> Option<&Connection> {
        self.conns.iter().find(|c| c.id == id)
    }

    pub fn conn_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.conns.iter_mut().find(|c| c.id == id)
    }

    /// Opens a connection to `node` (negative: a bootstrap server).
    pub fn connect(&mut self, node: i32, host: String, port: u16, now: u64, outputs: &mut VecDeque<Output>) -> ConnId {
        let id = self.next_conn_id;
        self.next_conn_id = self.next_conn_id.wrapping_add(1).max(1);
        outputs.push_back(Output::Connect { conn: id, host: host.clone(), port });
        self.wire.broker(node).connects += 1;
        self.conns.push(Connection::new(id, node, host, port, now));
        id
    }

    /// Forgets a connection; its broker is backed off before the next
    /// attempt. Returns it, with its requests in flight.
    pub fn remove(&mut self, conn: ConnId, now: u64, config: &Config) -> Option<Connection> {
        let i = self.conns.iter().position(|c| c.id == conn)?;
        let c = self.conns.swap_remove(i);
        self.wire.broker(c.node).disconnects += 1;
        let b = self.node_backoff.entry(c.node).or_default();
        b.failures += 1;
        b.until_ms = now.saturating_add(backoff_ms(config.reconnect_backoff_ms, config.reconnect_backoff_max_ms, b.failures));
        if c.node < 0 {
            self.bootstrap_cursor += 1;
        }
        Some(c)
    }

    /// The one way a request goes out: a fresh correlation id, `encode`
    /// writes the request (given the buffer and the id) at `version`, it is
    /// noted in flight if a response is expected, and handed to the host.
    #[allow(clippy::too_many_arguments)]
    pub fn send_request(
        &mut self,
        conn: ConnId,
        api: ApiKey,
        version: i16,
        capacity: usize,
        expects_response: bool,
        now: u64,
        outputs: &mut VecDeque<Output>,
        encode: impl FnOnce(&mut Vec<u8>, i32),
    ) -> Sent {
        let Some(node) = self.conn(conn).map(|c| c.node) else {
            return Sent { correlation_id: None, broke: false };
        };
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let mut data = Vec::with_capacity(capacity);
        encode(&mut data, correlation_id);
        self.wire.sent(node, data.len());
        let Some(c) = self.conn_mut(conn) else { return Sent { correlation_id: None, broke: false } };
        if expects_response {
            c.in_flight.push_back(InFlight { correlation_id, api, version, sent_ms: now });
        }
        let broke = transmit(c, data, outputs);
        Sent { correlation_id: Some(correlation_id), broke }
    }

    /// The ready connection with the fewest requests in flight, for a
    /// request any broker can answer (Metadata, InitProducerId): the Java
    /// client's `leastLoadedNode`.
    pub fn least_loaded_ready(&self) -> Option<&Connection> {
        self.conns.iter().filter(|c| c.is_ready()).min_by_key(|c| c.in_flight.len())
    }

    /// Ready broker connections (not bootstrap ones) that no throttle mutes.
    pub fn produce_ready(&self, now: u64) -> Vec<ConnId> {
        let throttled = |node: i32| self.throttled.get(&node).is_some_and(|&t| now < t);
        self.conns.iter().filter(|c| c.is_ready() && c.node >= 0 && !throttled(c.node)).map(|c| c.id).collect()
    }

    pub fn is_connected_to(&self, node: i32) -> bool {
        self.conns.iter().any(|c| c.node == node)
    }

    /// KIP-219: the broker answered at once but asks for a pause; honour
    /// it by muting its connection until `until`.
    pub fn throttle(&mut self, node: i32, until: u64) {
        let t = self.throttled.entry(node).or_default();
        *t = (*t).max(until);
    }

    pub fn throttled_until(&self, node: i32) -> Option<u64> {
        self.throttled.get(&node).copied()
    }

    /// A connection carried real work: its broker's reconnect backoff
    /// starts again from the base.
    pub fn reset_backoff(&mut self, node: i32) {
        self.node_backoff.remove(&node);
    }

    pub fn backoff_allows(&self, node: i32, now: u64) -> bool {
        self.node_backoff.get(&node).is_none_or(|b| now >= b.until_ms)
    }

    /// When `node` may be dialled again, if it is backing off.
    pub fn reconnect_at(&self, node: i32) -> Option<u64> {
        self.node_backoff.get(&node).map(|b| b.until_ms)
    }

    /// `node` refused authentication: its connection drops and backs off
    /// like any other; whether records fail is `no_broker_authenticates`'s
    /// (or, for a leader, the caller's) decision.
    pub fn authentication_failed(&mut self, node: i32) {
        self.auth_failed.insert(node);
    }

    /// A handshake with `node` completed: it can be authenticated with
    /// again, and is evidently no TLS listener mistaken for plaintext.
    pub fn handshake_completed(&mut self, node: i32) {
        self.auth_failed.remove(&node);
        self.tls_listener_hints.remove(&node);
        self.unreachable = None;
    }

    /// Whether no broker that could answer Metadata can be authenticated
    /// with: every known broker and every bootstrap server failed
    /// authentication at its last attempt. Before metadata (`known`
    /// empty), that is every bootstrap server, as in librdkafka and the
    /// Java client, which move on to the next before giving up.
    pub fn no_broker_authenticates(&self, known: impl IntoIterator<Item = i32>, bootstrap_servers: usize) -> bool {
        let failed = |node: i32| self.auth_failed.contains(&node);
        let bootstrap = (1..=bootstrap_servers as i32).map(|i| -i);
        known.into_iter().chain(bootstrap).all(failed)
    }

    /// `node` looks like a TLS listener to this plaintext client.
    pub fn suspect_tls_listener(&mut self, node: i32, why: String) {
        self.tls_listener_hints.insert(node, why);
    }

    /// Why `node` (or, with `None`, any node) looks like a TLS listener.
    pub fn tls_listener_hint(&self, node: Option<i32>) -> Option<&str> {
        match node {
            Some(n) => self.tls_listener_hints.get(&n),
            None => self.tls_listener_hints.values().next(),
        }
        .map(String::as_str)
    }

    /// The earliest time some broker (known, or bootstrap) may be dialled.
    pub fn next_connect_at(&self, metadata: &Metadata, bootstrap_servers: usize) -> u64 {
        let n = bootstrap_servers as i32;
        let until = |node: i32| self.reconnect_at(node).unwrap_or(0);
        let known = metadata.broker_ids().map(until);
        let bootstrap = (1..=n).map(|i| until(-i));
        known.chain(bootstrap).min().unwrap_or(0)
    }
}

/// Hands `data` to the host for `c`, encrypted when the connection is TLS.
/// A session that cannot encrypt marks the connection broken (returns
/// true); it is dropped at the next drive, which retries what it carried.
fn transmit(c: &mut Connection, data: Vec<u8>, outputs: &mut VecDeque<Output>) -> bool {
    if c.broken.is_some() {
        return false;
    }
    let conn = c.id;
    let Some(tls) = c.tls.as_mut() else {
        outputs.push_back(Output::Transmit { conn, data });
        return false;
    };
    let mut sealed = Vec::with_capacity(data.len() + 64);
    match tls.encrypt(&data, &mut sealed) {
        Ok(()) => {
            outputs.push_back(Output::Transmit { conn, data: sealed });
            false
        }
        Err(e) => {
            c.broken = Some(format!("TLS: {e}"));
            true
        }
    }
}

impl Producer {
    /// Frames the bytes buffered on `conn` and hands each complete
    /// response to the dispatch; a frame or response that cannot be
    /// handled drops the connection.
    pub(super) fn read_frames(&mut self, conn: ConnId, now: u64) {
        let Some(c) = self.client.conn_mut(conn) else { return };
        let buf = c.take_input();
        let mut at = 0;
        loop {
            match next_frame(&buf, at) {
                Ok(Some(range)) => {
                    at = range.end;
                    if let Err(e) = self.handle_frame(conn, &buf[range], now) {
                        self.close_conn(conn, &e, true, now);
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.close_conn(conn, &e.to_string(), true, now);
                    return;
                }
            }
        }
        if let Some(c) = self.client.conn_mut(conn) {
            c.restore_input(buf, at);
        }
    }

    /// Forgets a connection: each request it had in flight fails (its
    /// batches go back for a retry, or fail), its broker is backed off
    /// before the next attempt, and metadata is refreshed.
    pub(super) fn close_conn(&mut self, conn: ConnId, reason: &str, tell_host: bool, now: u64) {
        let Some(c) = self.client.remove(conn, now, &self.config) else { return };
        if tell_host {
            self.outputs.push_back(Output::Close { conn });
        }
        let what = if c.node >= 0 { format!("broker {}", c.node) } else { "bootstrap server".to_string() };
        let warning = format!("connection to {what} at {}:{} closed: {reason}", c.host, c.port);
        if !c.is_ready() {
            self.client.unreachable = Some(warning.clone());
        }
        self.outputs.push_back(Output::Warning(warning));
        for inf in c.in_flight {
            self.on_request_lost(inf, reason, now);
        }
        self.forget_coordinator(c.node);
        self.metadata.request_update();
    }

    /// The transaction's (or the group's) coordinator on `node` dropped or
    /// is gone from metadata: it is looked up again before the next
    /// transactional request, as the Java client does on a disconnect.
    pub(super) fn forget_coordinator(&mut self, node: i32) {
        if let Some(t) = self.txn.as_mut() {
            if t.coordinator == Some(node) {
                t.coordinator = None;
            }
            if t.group_coordinator.as_ref().is_some_and(|(_, n)| *n == node) {
                t.group_coordinator = None;
            }
        }
    }
}

#[cfg(test)]
#[path = "../tests/network_client.rs"]
mod tests;
