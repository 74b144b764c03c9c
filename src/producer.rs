//! The producer state machine: wires record -> partitioner -> accumulator
//! -> batch -> request, and response -> delivery report, and is the only
//! place that knows about time.
//!
//! # Driving it
//!
//! The host owns sockets and the clock. Feed the machine with
//! [`Producer::send`], [`Producer::handle_connected`],
//! [`Producer::handle_received`], [`Producer::handle_closed`],
//! [`Producer::handle_timeout`] and [`Producer::flush`]; after any of them,
//! drain [`Producer::poll`] until it returns `None`, carry out each
//! [`Output`], then sleep until [`Producer::poll_timeout`] or the next
//! socket event, whichever comes first.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::accumulator::{Accumulator, Pending, ProducerBatch};
use crate::batch::single_record_batch_len;
use crate::config::{Acks, Config};
use crate::connection::{next_frame, ConnId, ConnState, Connection, InFlight, InFlightKind};
use crate::error_codes::{error_name, invalidates_metadata, is_retriable};
use crate::idempotence::{self as idem, Idempotence, PidState};
use crate::metadata::{Metadata, TopicIdx, TopicState};
use crate::partitioner::{Partitioner, TopicView};
use crate::record::{Record, RecordId};
use crate::report::{DeliveryReport, ErrorKind, ProduceError};
use crate::request::{self, ApiKey, PartitionData};
use crate::response::{self, ApiVersionsResponse, InitProducerIdResponse, MetadataResponse, ProduceResponse};

/// NETWORK_EXCEPTION: what a batch in flight on a dropped connection failed with.
const NETWORK_EXCEPTION: i16 = 13;
const MESSAGE_TOO_LARGE: i16 = 10;
const REQUEST_TIMED_OUT: i16 = 7;
const NOT_ENOUGH_REPLICAS_AFTER_APPEND: i16 = 20;

/// Request bytes one `drive` encodes at most: requests copy their batches,
/// so this bounds the memory that copies take at once. What is left goes
/// at the next `poll`.
pub const REQUEST_BYTES_PER_DRIVE: usize = 2 << 20;

/// Something for the host to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection; report the outcome with `handle_connected`
    /// or `handle_closed`.
    Connect { conn: ConnId, host: String, port: u16 },
    /// Write these bytes to the connection, in order, after earlier ones.
    Transmit { conn: ConnId, data: Vec<u8> },
    /// Close the connection; the producer has forgotten it.
    Close { conn: ConnId },
    /// The outcome of a batch of records.
    Report(DeliveryReport),
    /// Something the operator may want to know (a broker dropped, refused
    /// versions, sent garbage); the producer carries on.
    Warning(String),
}

#[derive(Debug, Default, Clone, Copy)]
struct Backoff {
    failures: u32,
    until_ms: u64,
}

/// Exponential backoff: `base * 2^(attempt-1)`, capped at `max`.
fn backoff_ms(base: u64, max: u64, attempt: u32) -> u64 {
    let shift = attempt.saturating_sub(1).min(20);
    base.saturating_mul(1 << shift).min(max.max(base))
}

/// A Kafka producer that does no I/O: see the module docs for how to drive it.
pub struct Producer {
    config: Config,
    metadata: Metadata,
    accumulator: Accumulator,
    partitioner: Partitioner,
    conns: Vec<Connection>,
    node_backoff: BTreeMap<i32, Backoff>,
    /// Brokers that asked for a pause (KIP-219 throttling), until when.
    throttled: BTreeMap<i32, u64>,
    next_conn_id: ConnId,
    next_correlation_id: i32,
    next_record_id: RecordId,
    bootstrap_cursor: usize,
    drain_cursor: usize,
    outputs: VecDeque<Output>,
    unreported: u64,
    flushing: bool,
    /// The state changed since the last `drive`.
    dirty: bool,
    /// The time of the last `drive`: everything due by then was acted on.
    driven_at: u64,
    /// Producer id and epoch, with `enable.idempotence`.
    idempotence: Idempotence,
    /// `close` was called: no new records; at this time, fail what is left.
    closing_at: Option<u64>,
    /// Host-supplied randomness, for SCRAM nonces.
    entropy: [u8; 32],
    nonces: u64,
}

impl Producer {
    /// A producer that will connect on the first `send`. `now` is the
    /// host's clock in milliseconds since the Unix epoch; it also seeds the
    /// sticky partitioner.
    pub fn new(config: Config, now: u64) -> Producer {
        Producer::with_entropy(config, now, &[])
    }

    /// As `new`, with random bytes from the host: the core reads no
    /// entropy source of its own. SCRAM nonces and TLS (its randoms and
    /// key exchanges) need them: give at least 32 bytes from a secure
    /// source; without, TLS handshakes fail.
    pub fn with_entropy(config: Config, now: u64, entropy: &[u8]) -> Producer {
        use sha2::Digest;
        crate::tls::HostRandom::seed(entropy);
        let mut seed = sha2::Sha256::new();
        seed.update(entropy);
        seed.update(now.to_le_bytes());
        let entropy: [u8; 32] = seed.finalize().into();
        let partitioner = Partitioner::new(config.partitioner, now);
        let accumulator = Accumulator::new((config.compression, config.compression_level));
        Producer {
            config,
            metadata: Metadata::default(),
            accumulator,
            partitioner,
            conns: Vec::new(),
            node_backoff: BTreeMap::new(),
            throttled: BTreeMap::new(),
            next_conn_id: 1,
            next_correlation_id: 1,
            next_record_id: 0,
            bootstrap_cursor: 0,
            drain_cursor: 0,
            outputs: VecDeque::new(),
            unreported: 0,
            flushing: false,
            dirty: true,
            driven_at: 0,
            idempotence: Idempotence::default(),
            closing_at: None,
            entropy,
            nonces: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The id the next record passed to `send` will get.
    pub fn next_record_id(&self) -> RecordId {
        self.next_record_id
    }

    /// Uses up one record id for a record that could not even be read
    /// (a malformed packed record), keeping ids aligned with indexes.
    pub fn skip_record_id(&mut self) {
        self.next_record_id += 1;
    }

    /// Records accepted whose delivery report has not been produced yet.
    /// Reports already produced may still wait in `poll`: drain it after
    /// this reaches 0.
    pub fn unreported(&self) -> u64 {
        self.unreported
    }

    /// Accepts a record for `topic`, or rejects it at once (too large,
    /// invalid partition, topic refused). An accepted record gets exactly
    /// one delivery report; a rejected one gets none. Either way it uses
    /// up one record id.
    pub fn send(&mut self, topic: &str, rec: &Record<'_>, now: u64) -> Result<RecordId, ProduceError> {
        let id = self.next_record_id;
        self.next_record_id += 1;
        if self.closing_at.is_some() {
            return Err(ProduceError::new(ErrorKind::Closed, "the producer is closed".into()));
        }
        if let PidState::Failed(e) = &self.idempotence.state {
            return Err(e.clone());
        }
        // Checked before anything else, so once a call hits the bound every
        // later record of it is refused too: a host can resend the tail in
        // order.
        if self.unreported >= self.config.max_queued_records {
            return Err(ProduceError::new(
                ErrorKind::QueueFull,
                format!("{} records await delivery: queue.buffering.max.messages reached", self.unreported),
            ));
        }
        if self.accumulator.reserved >= self.config.buffer_memory {
            return Err(ProduceError::new(
                ErrorKind::QueueFull,
                format!("{} bytes await delivery: buffer.memory ({}) reached", self.accumulator.reserved, self.config.buffer_memory),
            ));
        }
        if topic.is_empty() {
            return Err(ProduceError::new(ErrorKind::InvalidRecord, "the topic name is empty".into()));
        }
        let size = single_record_batch_len(rec);
        if size > self.max_batch_len(topic) {
            return Err(ProduceError::new(
                ErrorKind::RecordTooLarge,
                format!(
                    "the record is {size} bytes as a batch, more than message.max.bytes ({}) or max.request.size ({}) allows{}",
                    self.config.message_max_bytes,
                    self.config.max_request_size,
                    if self.config.compression == crate::config::Compression::None { "" } else { " before compression" }
                ),
            ));
        }
        let timestamp = rec.timestamp.unwrap_or(now as i64);
        let (t, _) = self.metadata.topic_index(topic);
        self.accumulator.ensure_topic(t);
        match self.metadata.topic(t).state {
            TopicState::Failed(code) => Err(ProduceError::broker(ErrorKind::TopicFailed, code, Some(topic))),
            TopicState::Unknown => {
                self.accumulator.push_pending(t, id, now, timestamp, rec);
                self.accepted();
                Ok(id)
            }
            TopicState::Known => {
                self.append_known(t, rec, timestamp, id, now)?;
                self.accepted();
                Ok(id)
            }
        }
    }

    /// The largest a batch of `topic` may grow, uncompressed, so that once
    /// compressed it fits both `message.max.bytes` and, in a request of
    /// its own, `max.request.size`.
    fn max_batch_len(&self, topic: &str) -> usize {
        let c = &self.config;
        let limit = c.message_max_bytes.min(c.max_request_size.saturating_sub(request::produce_overhead(&c.client_id, topic)));
        let header = crate::batch::BATCH_HEADER_LEN;
        header + c.compression.max_input_for(limit.saturating_sub(header))
    }

    fn accepted(&mut self) {
        self.unreported += 1;
        self.dirty = true;
    }

    /// Partitions and appends a record of a topic whose partitions are known.
    fn append_known(&mut self, t: TopicIdx, rec: &Record<'_>, ts: i64, id: RecordId, now: u64) -> Result<(), ProduceError> {
        let count = self.metadata.topic(t).partition_count();
        let batch_size = self.config.batch_size.min(self.max_batch_len(&self.metadata.topic(t).name));
        let partition = match rec.partition {
            Some(p) if p < 0 || p as u32 >= count => {
                return Err(ProduceError::new(
                    ErrorKind::InvalidPartition,
                    format!("partition {p} does not exist: topic {} has partitions 0 to {}", self.metadata.topic(t).name, count as i64 - 1),
                ));
            }
            Some(p) => p as u32,
            None => {
                let sticky = &mut self.accumulator.topics[t].sticky;
                let p = self.partitioner.partition(rec.key, TopicView { partitions: count, sticky });
                // KIP-480: a sticky record that would start a new batch
                // moves the sticky partition on instead.
                let is_sticky = self.accumulator.topics[t].sticky == Some(p);
                if is_sticky && self.accumulator.open_batch_full(t, p as i32, rec, batch_size) {
                    let sticky = &mut self.accumulator.topics[t].sticky;
                    self.partitioner.on_batch_closed(p, TopicView { partitions: count, sticky: &mut *sticky });
                    self.partitioner.partition(rec.key, TopicView { partitions: count, sticky })
                } else {
                    p
                }
            }
        };
        self.accumulator.ensure_partitions(t, count as usize);
        self.accumulator.append(t, partition as i32, rec, ts, id, now, batch_size);
        Ok(())
    }

    /// Makes every batch ready now, ignoring `linger.ms`, until all records
    /// accepted so far are in flight.
    pub fn flush(&mut self) {
        self.flushing = true;
        self.dirty = true;
    }

    /// Stops accepting records and sends everything now; records still
    /// undelivered at `now + timeout_ms` fail with `ErrorKind::Closed`.
    /// Poll until `unreported()` is 0: then every record has its report
    /// and the connections are closed.
    pub fn close(&mut self, now: u64, timeout_ms: u64) {
        let at = now.saturating_add(timeout_ms);
        self.closing_at = Some(self.closing_at.map_or(at, |c| c.min(at)));
        self.flush();
    }

    /// The connection `conn` is open.
    pub fn handle_connected(&mut self, conn: ConnId, now: u64) {
        self.dirty = true;
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return };
        let ConnState::Connecting { since_ms } = c.state else { return };
        let Some(setup) = self.config.tls.clone() else {
            c.state = ConnState::Negotiating;
            self.send_api_versions(conn, ApiKey::ApiVersions.supported().1, now);
            return;
        };
        setup.set_time(now);
        let mut hello = Vec::new();
        let started = setup.session(&c.host).and_then(|mut tls| {
            tls.receive(&[], &mut Vec::new(), &mut hello)?;
            Ok(tls)
        });
        match started {
            Ok(tls) => {
                c.tls = Some(tls);
                c.state = ConnState::Handshaking { since_ms };
                self.outputs.push_back(Output::Transmit { conn, data: hello });
            }
            Err(e) => self.tls_failed(conn, e, now),
        }
    }

    /// The connection `conn` is closed or could not be opened.
    pub fn handle_closed(&mut self, conn: ConnId, reason: &str, now: u64) {
        self.dirty = true;
        self.close_conn(conn, reason, false, now);
    }

    /// Bytes arrived on `conn`.
    pub fn handle_received(&mut self, conn: ConnId, bytes: &[u8], now: u64) {
        self.dirty = true;
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return };
        if let Some(setup) = &self.config.tls {
            setup.set_time(now);
            let mut out = Vec::new();
            let handshaking = matches!(c.state, ConnState::Handshaking { .. });
            let result = c.receive_tls(bytes, &mut out);
            let established = c.tls.as_ref().is_some_and(|t| t.is_established());
            if !out.is_empty() {
                self.outputs.push_back(Output::Transmit { conn, data: out });
            }
            match result {
                Err(e) if handshaking => return self.tls_failed(conn, e, now),
                Err(e) => return self.close_conn(conn, &format!("TLS: {e}"), true, now),
                Ok(()) if handshaking && established => {
                    if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
                        c.state = ConnState::Negotiating;
                    }
                    self.send_api_versions(conn, ApiKey::ApiVersions.supported().1, now);
                }
                Ok(()) => {}
            }
        } else {
            c.receive(bytes);
        }
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return };
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
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.restore_input(buf, at);
        }
    }

    /// The deadline from `poll_timeout` has passed.
    pub fn handle_timeout(&mut self, _now: u64) {
        self.dirty = true;
    }

    /// The next thing for the host to do, if any. Worth calling again
    /// after every `send`, `flush` and `handle_*` call.
    pub fn poll(&mut self, now: u64) -> Option<Output> {
        if self.outputs.is_empty() && self.dirty {
            self.dirty = false;
            self.drive(now);
        }
        self.outputs.pop_front()
    }

    /// When to call `handle_timeout` if nothing else happens first; `None`
    /// when only new records or socket events can make progress. Valid
    /// once `poll` has returned `None`.
    pub fn poll_timeout(&self) -> Option<u64> {
        let c = &self.config;
        let mut at: Option<u64> = None;
        // Whatever was due by the last drive was acted on then, or waits
        // for I/O (a connection, a response): it is no timer.
        let after = self.driven_at;
        let mut consider = |t: u64| {
            if t > after {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        for (t, tq) in self.accumulator.topics.iter().enumerate() {
            if let Some(oldest) = tq.pending.oldest_ms {
                consider(oldest.saturating_add(c.delivery_timeout_ms));
            }
            for (p, q) in tq.partitions.iter().enumerate() {
                let Some(front) = q.batches.front() else { continue };
                consider(front.created_ms.saturating_add(c.delivery_timeout_ms));
                let can_send = self.metadata.leader(t, p as i32).is_some();
                // A flush ignores linger.ms, not a retry's backoff.
                if can_send && (!self.flushing || front.attempts > 0) {
                    if let Some(ready) = Accumulator::front_ready_at(q, c.linger_ms) {
                        consider(ready);
                    }
                }
            }
        }
        for conn in &self.conns {
            if let ConnState::Connecting { since_ms } | ConnState::Handshaking { since_ms } = conn.state {
                consider(since_ms.saturating_add(c.connection_setup_timeout_ms));
            }
            if let Some(f) = conn.in_flight.front() {
                consider(f.sent_ms.saturating_add(c.request_timeout_ms));
            }
            if let Some(&t) = self.throttled.get(&conn.node) {
                consider(t);
            }
        }
        let wanted = match (self.metadata.due_at(), self.metadata.stale_at(c.metadata_max_age_ms)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(want) = wanted {
            if self.conns.is_empty() {
                // No connection can carry it: the wait is for a reconnect.
                consider(want.max(self.next_connect_at()));
            } else {
                consider(want);
            }
        }
        if let Some(at) = self.closing_at.filter(|_| self.unreported > 0) {
            consider(at);
        }
        if self.config.idempotent && self.idempotence.state == PidState::None {
            consider(self.idempotence.retry_at_ms);
        }
        // Reconnects to leaders waiting on a backoff.
        for node in self.wanted_nodes() {
            if !self.conns.iter().any(|c| c.node == node) {
                if let Some(b) = self.node_backoff.get(&node) {
                    consider(b.until_ms);
                }
            }
        }
        at
    }

    // ---- the engine ----

    fn drive(&mut self, now: u64) {
        self.driven_at = now;
        self.expire(now);
        self.maybe_request_metadata(now);
        if self.config.idempotent {
            self.maybe_init_producer_id(now);
        }
        self.send_ready_batches(now);
        self.connect_to_leaders(now);
        if self.flushing && self.accumulator.queued_batches() == 0 && self.accumulator.topics.iter().all(|t| t.pending.count == 0) {
            self.flushing = false;
        }
        if self.closing_at.is_some() {
            self.finish_close(now);
        }
    }

    /// At the close deadline, fails every record left; once none is left,
    /// closes the connections.
    fn finish_close(&mut self, now: u64) {
        let Some(at) = self.closing_at else { return };
        if now >= at && self.unreported > 0 {
            let closed = || ProduceError::new(ErrorKind::Closed, "the producer was closed before the record was delivered".into());
            let mut batches = Vec::new();
            for c in &mut self.conns {
                for inf in core::mem::take(&mut c.in_flight) {
                    if let InFlightKind::Produce(bs) = inf.kind {
                        batches.extend(bs);
                    }
                }
            }
            for b in batches {
                self.accumulator.landed(&b);
                self.fail_batch(b, closed());
            }
            self.fail_unsent(closed);
        }
        if self.unreported == 0 {
            for c in core::mem::take(&mut self.conns) {
                self.outputs.push_back(Output::Close { conn: c.id });
            }
        }
    }

    fn new_conn(&mut self, node: i32, host: String, port: u16, now: u64) -> ConnId {
        let id = self.next_conn_id;
        self.next_conn_id = self.next_conn_id.wrapping_add(1).max(1);
        self.outputs.push_back(Output::Connect { conn: id, host: host.clone(), port });
        self.conns.push(Connection::new(id, node, host, port, now));
        id
    }

    fn correlation_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        id
    }

    /// The earliest time some broker (known, or bootstrap) may be dialled.
    fn next_connect_at(&self) -> u64 {
        let n = self.config.bootstrap_servers.len() as i32;
        let until = |node: i32| self.node_backoff.get(&node).map_or(0, |b| b.until_ms);
        let known = self.metadata.broker_ids().map(until);
        let bootstrap = (1..=n).map(|i| until(-i));
        known.chain(bootstrap).min().unwrap_or(0)
    }

    fn backoff_allows(&self, node: i32, now: u64) -> bool {
        self.node_backoff.get(&node).is_none_or(|b| now >= b.until_ms)
    }

    fn send_api_versions(&mut self, conn: ConnId, version: i16, now: u64) {
        let cid = self.correlation_id();
        let mut data = Vec::with_capacity(64);
        request::api_versions(&mut data, version, cid, &self.config.client_id);
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.in_flight.push_back(InFlight {
                correlation_id: cid,
                api: ApiKey::ApiVersions,
                version,
                sent_ms: now,
                kind: InFlightKind::ApiVersions,
            });
            self.transmit(conn, data);
        }
    }

    /// Forgets a connection: its in-flight batches go back for a retry (or
    /// fail), its broker is backed off before the next attempt.
    fn close_conn(&mut self, conn: ConnId, reason: &str, tell_host: bool, now: u64) {
        let Some(i) = self.conns.iter().position(|c| c.id == conn) else { return };
        let c = self.conns.swap_remove(i);
        if tell_host {
            self.outputs.push_back(Output::Close { conn });
        }
        let what = if c.node >= 0 { format!("broker {}", c.node) } else { "bootstrap server".to_string() };
        self.outputs.push_back(Output::Warning(format!("connection to {what} at {}:{} closed: {reason}", c.host, c.port)));
        let b = self.node_backoff.entry(c.node).or_default();
        b.failures += 1;
        b.until_ms = now.saturating_add(backoff_ms(self.config.reconnect_backoff_ms, self.config.reconnect_backoff_max_ms, b.failures));
        if c.node < 0 {
            self.bootstrap_cursor += 1;
        }
        for inf in c.in_flight {
            match inf.kind {
                InFlightKind::ApiVersions | InFlightKind::SaslHandshake | InFlightKind::SaslAuthenticate => {}
                InFlightKind::Metadata => self.metadata.on_request_failed(now, self.config.retry_backoff_ms),
                InFlightKind::InitProducerId => self.idempotence.on_request_failed(now, self.config.retry_backoff_ms),
                InFlightKind::Produce(batches) => {
                    for mut b in batches {
                        self.accumulator.landed(&b);
                        b.unresolved = true;
                        let err = ProduceError::broker(ErrorKind::Broker, NETWORK_EXCEPTION, Some(reason));
                        self.retry_or_fail(b, err, now);
                    }
                }
            }
        }
        self.metadata.request_update();
    }

    fn expire(&mut self, now: u64) {
        let dt = self.config.delivery_timeout_ms;
        if let Some(cutoff) = now.checked_sub(dt) {
            let mut expired = Vec::new();
            self.accumulator.expire(cutoff, |b| expired.push(b));
            for b in expired {
                if b.identity.is_some() {
                    // Its sequences were sent and will never be acknowledged.
                    self.request_epoch_bump(&b, "a sent batch expired", false);
                }
                let msg = format!(
                    "delivery.timeout.ms ({dt} ms) passed after {} attempt(s) before the batch was acknowledged",
                    b.attempts
                );
                self.fail_batch(b, ProduceError::new(ErrorKind::TimedOut, msg));
            }
            for t in 0..self.accumulator.topics.len() {
                if self.accumulator.topics[t].pending.oldest_ms.is_some_and(|o| o <= cutoff) {
                    self.expire_pending(t, cutoff, dt);
                }
            }
        }
        let setup = self.config.connection_setup_timeout_ms;
        let req = self.config.request_timeout_ms;
        let mut closing = Vec::new();
        for c in &self.conns {
            match c.state {
                ConnState::Connecting { since_ms } if now >= since_ms.saturating_add(setup) => {
                    closing.push((c.id, format!("not connected within socket.connection.setup.timeout.ms ({setup} ms)")));
                }
                ConnState::Handshaking { since_ms } if now >= since_ms.saturating_add(setup) => closing.push((
                    c.id,
                    format!("TLS handshake not complete within socket.connection.setup.timeout.ms ({setup} ms): is the port a TLS listener?"),
                )),
                _ => {}
            }
            if let Some(why) = &c.broken {
                closing.push((c.id, why.clone()));
            }
            if let Some(f) = c.in_flight.front() {
                if now >= f.sent_ms.saturating_add(req) {
                    closing.push((c.id, format!("no response within request.timeout.ms ({req} ms)")));
                }
            }
        }
        for (id, why) in closing {
            self.close_conn(id, &why, true, now);
        }
    }

    /// Fails the waiting records of topic `t` accepted at or before `cutoff`.
    fn expire_pending(&mut self, t: TopicIdx, cutoff: u64, dt: u64) {
        let mut pending = self.accumulator.take_pending(t);
        let mut keep = Pending::default();
        let mut expired = Vec::new();
        pending.drain(|r, headers| {
            if r.accepted_ms <= cutoff {
                expired.push(r.id);
            } else {
                let rec = Record { key: r.key, value: r.value, headers, partition: r.partition, timestamp: None };
                keep.push(r.id, r.accepted_ms, r.timestamp, &rec);
            }
        });
        self.accumulator.reserved += keep.reserved;
        self.accumulator.topics[t].pending = keep;
        let name = &self.metadata.topic(t).name;
        let why = match self.metadata.topic(t).state {
            TopicState::Unknown => format!("topic {name} not present in metadata after delivery.timeout.ms ({dt} ms)"),
            _ => format!("delivery.timeout.ms ({dt} ms) passed waiting for metadata of topic {name}"),
        };
        self.report_ids(t, -1, expired, ProduceError::new(ErrorKind::TimedOut, why));
    }

    /// One report for records that never made it into a batch.
    fn report_ids(&mut self, t: TopicIdx, partition: i32, ids: Vec<RecordId>, error: ProduceError) {
        if ids.is_empty() {
            return;
        }
        self.unreported -= ids.len() as u64;
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
    /// log_append_time_ms))`, or failed.
    fn report_batch(&mut self, b: ProducerBatch, outcome: Result<(i64, i64), ProduceError>) {
        self.unreported -= b.record_ids.len() as u64;
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

    fn fail_batch(&mut self, b: ProducerBatch, error: ProduceError) {
        self.report_batch(b, Err(error));
    }

    /// A batch failed with a retriable error: retry it after a backoff if
    /// `retries` and `delivery.timeout.ms` allow, else report the failure.
    fn retry_or_fail(&mut self, mut b: ProducerBatch, err: ProduceError, now: u64) {
        let deadline = b.created_ms.saturating_add(self.config.delivery_timeout_ms);
        if self.closing_at.is_some_and(|c| now >= c) {
            self.fail_batch(b, ProduceError::new(ErrorKind::Closed, alloc::format!("the producer was closed; last error: {}", err.message)));
        } else if b.attempts <= self.config.retries && now < deadline {
            b.retry_at_ms = now.saturating_add(backoff_ms(self.config.retry_backoff_ms, self.config.retry_backoff_max_ms, b.attempts));
            self.accumulator.reenqueue(b);
        } else if now >= deadline {
            let msg = format!("delivery.timeout.ms passed after {} attempt(s); last error: {}", b.attempts, err.message);
            self.fail_batch(b, ProduceError { kind: ErrorKind::TimedOut, code: err.code, message: msg });
        } else {
            self.fail_batch(b, err);
        }
    }

    // ---- metadata ----

    fn maybe_request_metadata(&mut self, now: u64) {
        let due = self.metadata.due_at().is_some_and(|t| now >= t)
            || self.metadata.stale_at(self.config.metadata_max_age_ms).is_some_and(|t| now >= t);
        if !due {
            return;
        }
        let names: Vec<String> =
            self.metadata.topics().iter().filter(|t| !matches!(t.state, TopicState::Failed(_))).map(|t| t.name.clone()).collect();
        let auto_create = self.config.allow_auto_create_topics;
        let sent = self.send_to_any_broker(ApiKey::Metadata, InFlightKind::Metadata, now, |buf, version, cid, client_id| {
            request::metadata(buf, version, cid, client_id, names.iter().map(String::as_str), auto_create)
        });
        if sent {
            self.metadata.on_request_sent();
        }
    }

    /// Sends a request any broker can answer (Metadata, InitProducerId) on
    /// the least busy ready connection; with no connection at all, opens
    /// one. Returns whether it was sent.
    fn send_to_any_broker(
        &mut self,
        api: ApiKey,
        kind: InFlightKind,
        now: u64,
        encode: impl FnOnce(&mut Vec<u8>, i16, i32, &str),
    ) -> bool {
        let ready = self.conns.iter().filter(|c| c.is_ready()).min_by_key(|c| c.in_flight.len()).map(|c| (c.id, c.version(api)));
        let Some((conn, version)) = ready else {
            if self.conns.is_empty() {
                self.open_any_broker(now);
            }
            return false;
        };
        let cid = self.correlation_id();
        let mut data = Vec::with_capacity(128);
        encode(&mut data, version, cid, &self.config.client_id);
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.in_flight.push_back(InFlight { correlation_id: cid, api, version, sent_ms: now, kind });
        }
        self.transmit(conn, data);
        true
    }

    /// Opens a connection to some broker for metadata: a known one first,
    /// else the next bootstrap server; none while all are backing off.
    fn open_any_broker(&mut self, now: u64) {
        let known: Vec<i32> = self.metadata.broker_ids().collect();
        for node in known {
            if self.backoff_allows(node, now) {
                if let Some((host, port)) = self.metadata.broker(node).cloned() {
                    self.new_conn(node, host, port, now);
                    return;
                }
            }
        }
        let n = self.config.bootstrap_servers.len();
        for k in 0..n {
            let i = (self.bootstrap_cursor + k) % n;
            let node = -(i as i32) - 1;
            if self.backoff_allows(node, now) {
                let (host, port) = self.config.bootstrap_servers[i].clone();
                self.bootstrap_cursor = i;
                self.new_conn(node, host, port, now);
                return;
            }
        }
    }

    fn on_metadata(&mut self, resp: &MetadataResponse<'_>, now: u64) {
        let update = self.metadata.apply(resp, now, self.config.retry_backoff_ms);
        if resp.error_code != 0 {
            self.outputs.push_back(Output::Warning(format!(
                "metadata request failed: {}",
                crate::error_codes::error_name(resp.error_code)
            )));
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

    // ---- produce ----

    /// Node ids that lead a partition with batches waiting.
    fn wanted_nodes(&self) -> BTreeSet<i32> {
        let mut nodes = BTreeSet::new();
        for (t, tq) in self.accumulator.topics.iter().enumerate() {
            for (p, q) in tq.partitions.iter().enumerate() {
                if !q.batches.is_empty() {
                    if let Some(l) = self.metadata.leader(t, p as i32) {
                        nodes.insert(l);
                    }
                }
            }
        }
        nodes
    }

    fn connect_to_leaders(&mut self, now: u64) {
        let mut leaderless = false;
        for tq in self.accumulator.topics.iter().enumerate() {
            let (t, tq) = tq;
            if tq.partitions.iter().enumerate().any(|(p, q)| !q.batches.is_empty() && self.metadata.leader(t, p as i32).is_none()) {
                leaderless = true;
            }
        }
        if leaderless {
            self.metadata.request_update();
        }
        for node in self.wanted_nodes() {
            if self.conns.iter().any(|c| c.node == node) || !self.backoff_allows(node, now) {
                continue;
            }
            match self.metadata.broker(node).cloned() {
                Some((host, port)) => {
                    self.new_conn(node, host, port, now);
                }
                None => self.metadata.request_update(),
            }
        }
    }

    fn send_ready_batches(&mut self, now: u64) {
        if self.config.idempotent {
            if let PidState::Failed(e) = self.idempotence.state.clone() {
                let mut batches = Vec::new();
                self.accumulator.expire(u64::MAX, |b| batches.push(b));
                for b in batches {
                    self.fail_batch(b, e.clone());
                }
                return;
            }
            if self.idempotence.identity().is_none() {
                return; // waiting for a producer id or an epoch bump
            }
        }
        let mut budget = REQUEST_BYTES_PER_DRIVE;
        let throttled = |node: i32| self.throttled.get(&node).is_some_and(|&t| now < t);
        let ids: Vec<ConnId> = self.conns.iter().filter(|c| c.is_ready() && c.node >= 0 && !throttled(c.node)).map(|c| c.id).collect();
        for conn in ids {
            loop {
                let Some(c) = self.conns.iter().find(|c| c.id == conn) else { break };
                let in_flight_limited = self.config.acks != Acks::None && c.in_flight.len() >= self.config.max_in_flight as usize;
                if in_flight_limited {
                    break;
                }
                let (node, version) = (c.node, c.produce_version);
                if budget == 0 {
                    // More may be ready: the next poll drives again.
                    self.dirty = true;
                    return;
                }
                let batches = self.drain_for(node, now);
                if batches.is_empty() {
                    break;
                }
                let bytes: usize = batches.iter().map(ProducerBatch::byte_len).sum();
                budget = budget.saturating_sub(bytes);
                self.send_produce(conn, version, batches, now);
            }
        }
    }

    /// Takes at most one ready batch per partition led by `node`, within
    /// `max.request.size`, starting where the last drain stopped so no
    /// partition starves.
    fn drain_for(&mut self, node: i32, now: u64) -> Vec<ProducerBatch> {
        let c = &self.config;
        let mut out = Vec::new();
        let mut size = 4 + 10 + c.client_id.len() + 12;
        let n_topics = self.accumulator.topics.len();
        if n_topics == 0 {
            return out;
        }
        let start = self.drain_cursor % n_topics;
        'topics: for k in 0..n_topics {
            let t = (start + k) % n_topics;
            let mut topic_counted = false;
            let parts = self.accumulator.topics[t].partitions.len();
            for p in 0..parts {
                if self.metadata.leader(t, p as i32) != Some(node) {
                    continue;
                }
                let q = &self.accumulator.topics[t].partitions[p];
                if !Accumulator::front_ready(q, now, c.linger_ms, c.batch_size, self.flushing) {
                    continue;
                }
                if c.idempotent {
                    // A retry goes out only when nothing of its partition is
                    // in flight, so sequences reach the broker in order; and
                    // the broker deduplicates over at most 5 batches.
                    let front = q.batches.front();
                    let retry = front.is_some_and(|b| b.attempts > 0);
                    if (retry && q.in_flight > 0) || q.in_flight >= c.max_in_flight {
                        continue;
                    }
                    let current = self.idempotence.identity();
                    let stamped_now = front.and_then(|b| b.identity).is_some_and(|i| Some((i.producer_id, i.producer_epoch)) == current);
                    if !self.idempotence.may_send((t, p as i32), stamped_now) {
                        continue;
                    }
                }
                let Some(front) = q.batches.front() else { continue };
                let mut add = front.byte_len() + request::partition_overhead();
                if !topic_counted {
                    add += 6 + self.metadata.topic(t).name.len();
                }
                if !out.is_empty() && size + add > c.max_request_size {
                    self.drain_cursor = t;
                    break 'topics;
                }
                let was_open = front.is_open();
                let identity = if c.idempotent { self.idempotence.identity() } else { None };
                let Some(mut b) = self.accumulator.take_front(t, p, identity) else { continue };
                if was_open {
                    let count = self.metadata.topic(t).partition_count();
                    let sticky = &mut self.accumulator.topics[t].sticky;
                    self.partitioner.on_batch_closed(p as u32, TopicView { partitions: count, sticky });
                }
                b.attempts += 1;
                size += add;
                topic_counted = true;
                out.push(b);
            }
        }
        if !out.is_empty() {
            self.drain_cursor = self.drain_cursor.wrapping_add(1);
        }
        // Grouped by topic for the request.
        out.sort_by_key(|b| (b.topic, b.partition));
        out
    }

    fn send_produce(&mut self, conn: ConnId, version: i16, batches: Vec<ProducerBatch>, now: u64) {
        let cid = self.correlation_id();
        let total: usize = batches.iter().map(|b| b.byte_len() + 16).sum();
        let mut data = Vec::with_capacity(total + 64);
        {
            let mut topics: Vec<(&str, Vec<PartitionData<'_>>)> = Vec::new();
            for b in &batches {
                let name = self.metadata.topic(b.topic).name.as_str();
                let pd = PartitionData { partition: b.partition, records: b.bytes() };
                match topics.last_mut() {
                    Some((n, parts)) if *n == name => parts.push(pd),
                    _ => topics.push((name, alloc::vec![pd])),
                }
            }
            let refs: Vec<(&str, &[PartitionData<'_>])> = topics.iter().map(|(n, p)| (*n, p.as_slice())).collect();
            let c = &self.config;
            request::produce(&mut data, version, cid, &c.client_id, c.acks.wire(), c.request_timeout_ms.min(i32::MAX as u64) as i32, &refs);
        }
        self.transmit(conn, data);
        if self.config.acks == Acks::None {
            // No response will come: handing the request over is delivery.
            for b in batches {
                self.accumulator.landed(&b);
                self.report_batch(b, Ok((-1, -1)));
            }
            return;
        }
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.in_flight.push_back(InFlight { correlation_id: cid, api: ApiKey::Produce, version, sent_ms: now, kind: InFlightKind::Produce(batches) });
        }
    }

    fn on_produce(&mut self, batches: Vec<ProducerBatch>, resp: &ProduceResponse<'_>, now: u64) {
        if !resp.node_endpoints.is_empty() {
            self.metadata.add_brokers(&resp.node_endpoints);
        }
        for mut b in batches {
            self.accumulator.landed(&b);
            let name = self.metadata.topic(b.topic).name.as_str();
            let part = resp
                .topics
                .iter()
                .filter(|(n, _)| *n == name)
                .flat_map(|(_, ps)| ps.iter())
                .find(|p| p.partition == b.partition);
            let Some(p) = part else {
                let err = ProduceError::new(ErrorKind::Broker, format!("the broker's response omitted partition {}-{}", name, b.partition));
                if b.identity.is_some() {
                    self.request_epoch_bump(&b, "a partition was missing from a response", false);
                }
                self.fail_batch(b, err);
                continue;
            };
            // DUPLICATE_SEQUENCE_NUMBER: the broker has this batch already.
            if p.error_code == 0 || (p.error_code == idem::DUPLICATE_SEQUENCE_NUMBER && b.identity.is_some()) {
                // Only success resolves a batch whose earlier attempt may
                // have been written: an error to a retry says nothing of it.
                b.unresolved = false;
                if let (Some(i), Some(q)) = (b.identity, self.accumulator.partition_mut(b.topic, b.partition)) {
                    let last = i.base_sequence.wrapping_add(b.record_ids.len() as i32 - 1);
                    if i.producer_epoch == self.idempotence.identity().map_or(i.producer_epoch, |x| x.1) {
                        q.last_acked = q.last_acked.max(last);
                    }
                }
                self.report_batch(b, Ok((p.base_offset, p.log_append_time_ms)));
                continue;
            }
            let err = ProduceError::broker(ErrorKind::Broker, p.error_code, p.error_message);
            // REQUEST_TIMED_OUT and NOT_ENOUGH_REPLICAS_AFTER_APPEND come
            // after the leader appended the batch: it may be written.
            if matches!(p.error_code, REQUEST_TIMED_OUT | NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
                b.unresolved = true;
            }
            // MESSAGE_TOO_LARGE: the topic's limit is below this batch (and
            // message.max.bytes). Split it and send the halves, as the Java
            // client does; a single record too large fails. Not a batch of
            // unknown outcome: if an earlier attempt was written, halves
            // with new boundaries could not be recognised as duplicates.
            let splittable = b.record_count() > 1 && !b.unresolved;
            if p.error_code == MESSAGE_TOO_LARGE && splittable && !self.closing_at.is_some_and(|c| now >= c) {
                if let Some((first, second)) = b.split(now) {
                    if let Some(i) = b.identity {
                        // Its sequence range was never written: start the
                        // sequences again, once nothing is in flight, with
                        // the halves in the batch's place. Nothing after it
                        // in this epoch can have been written either (the
                        // broker refuses a gap), so the later batches need
                        // no resolving before the bump: they wait behind the
                        // halves, which wait for it.
                        if let Some(q) = self.accumulator.partition_mut(b.topic, b.partition) {
                            q.never_written(i.producer_epoch, i.base_sequence);
                        }
                        self.request_epoch_bump(&b, "a batch was split", false);
                    }
                    self.outputs.push_back(Output::Warning(format!(
                        "MESSAGE_TOO_LARGE for {}-{}: splitting a batch of {} records in two",
                        self.metadata.topic(b.topic).name,
                        b.partition,
                        b.record_count()
                    )));
                    self.accumulator.reenqueue(first);
                    self.accumulator.reenqueue(second);
                    self.dirty = true;
                    continue;
                }
                // Our own batch could not be reread (not expected): it fails.
            }
            if invalidates_metadata(p.error_code) {
                let moved = p.current_leader.is_some_and(|l| self.metadata.update_leader(b.topic, b.partition, l.leader_id, l.leader_epoch));
                if !moved {
                    self.metadata.request_update();
                }
            }
            if let Some(i) = b.identity {
                match p.error_code {
                    idem::OUT_OF_ORDER_SEQUENCE_NUMBER => {
                        // The next batch the broker expects failing out of order
                        // means it lost our state; any later one only follows
                        // an earlier failure and is retried after it.
                        // A batch whose sequence was shifted after it was
                        // sent is expected to come back out of order.
                        let shifted = b.stamped() != b.identity;
                        let next = self.accumulator.partition_mut(b.topic, b.partition).is_some_and(|q| i.base_sequence == q.last_acked.wrapping_add(1));
                        // With no earlier batch of the partition left to
                        // fill the gap the broker sees (they failed for
                        // good, their outcome unknown), a retry cannot
                        // succeed either: the sequences are out of step.
                        let stranded = !self.earlier_outstanding(&b, i);
                        // Duplicates are checked first: out of order means
                        // no earlier attempt of it was written.
                        b.unresolved = false;
                        if (next || stranded) && !shifted {
                            self.request_epoch_bump(&b, "OUT_OF_ORDER_SEQUENCE_NUMBER for the next sequence", true);
                        }
                        self.retry_or_fail(b, err, now);
                        continue;
                    }
                    idem::UNKNOWN_PRODUCER_ID | idem::INVALID_PRODUCER_EPOCH | idem::PRODUCER_FENCED => {
                        if p.error_code == idem::UNKNOWN_PRODUCER_ID {
                            b.unresolved = false; // the broker holds nothing of ours here
                        }
                        // Only UNKNOWN_PRODUCER_ID says the broker lost the
                        // partition's sequences; an epoch error says nothing
                        // of whether an earlier attempt was written, so a
                        // batch of unknown outcome is still resolved first.
                        let lost = p.error_code == idem::UNKNOWN_PRODUCER_ID;
                        self.request_epoch_bump(&b, error_name(p.error_code), lost);
                        self.retry_or_fail(b, err, now);
                        continue;
                    }
                    code if !is_retriable(code) => {
                        if b.unresolved {
                            // An earlier attempt may have been written: the
                            // partition's next sequence is unknown.
                            self.request_epoch_bump(&b, "a batch of unknown outcome failed for good", false);
                        } else {
                            self.shift_sequences_after(&b);
                        }
                        self.fail_batch(b, err);
                        continue;
                    }
                    _ => {}
                }
            }
            if is_retriable(p.error_code) {
                self.retry_or_fail(b, err, now);
            } else {
                self.fail_batch(b, err);
            }
        }
    }

    // ---- idempotence ----

    fn request_epoch_bump(&mut self, b: &ProducerBatch, why: &str, broken: bool) {
        if !self.idempotence.bump_requested {
            let name = &self.metadata.topic(b.topic).name;
            self.outputs.push_back(Output::Warning(format!(
                "bumping the producer epoch: {why} ({name}-{}, sequence {:?})",
                b.partition,
                b.identity.map(|i| i.base_sequence)
            )));
        }
        self.idempotence.request_bump((b.topic, b.partition), broken);
    }

    /// A batch that failed for good never took its sequences: the broker
    /// still expects its base sequence. Later batches of its partition,
    /// queued or in flight, move down by its record count (those in flight
    /// will come back out of order and go again, re-stamped).
    fn shift_sequences_after(&mut self, b: &ProducerBatch) {
        let Some(failed) = b.identity else { return };
        let n = b.record_ids.len() as i32;
        let shift = |x: &mut ProducerBatch| {
            if x.topic == b.topic && x.partition == b.partition {
                if let Some(i) = &mut x.identity {
                    if i.producer_epoch == failed.producer_epoch && i.base_sequence > failed.base_sequence {
                        i.base_sequence -= n;
                    }
                }
            }
        };
        for c in &mut self.conns {
            for f in &mut c.in_flight {
                if let InFlightKind::Produce(bs) = &mut f.kind {
                    bs.iter_mut().for_each(shift);
                }
            }
        }
        let current = self.idempotence.identity();
        if let Some(q) = self.accumulator.partition_mut(b.topic, b.partition) {
            q.batches.iter_mut().for_each(shift);
            if current.map(|c| c.1) == Some(failed.producer_epoch) && q.next_sequence > failed.base_sequence {
                q.next_sequence -= n;
            }
        }
    }

    /// Whether a batch of `b`'s partition with a lower sequence of the
    /// same epoch is still queued or in flight.
    fn earlier_outstanding(&self, b: &ProducerBatch, i: crate::batch::ProducerIdentity) -> bool {
        let earlier = |x: &ProducerBatch| {
            x.topic == b.topic
                && x.partition == b.partition
                && x.identity.is_some_and(|j| j.producer_epoch == i.producer_epoch && j.base_sequence < i.base_sequence)
        };
        let in_flight = self.conns.iter().flat_map(|c| c.in_flight.iter()).any(|f| matches!(&f.kind, InFlightKind::Produce(bs) if bs.iter().any(earlier)));
        in_flight || self.accumulator.partition(b.topic, b.partition).is_some_and(|q| q.batches.iter().any(earlier))
    }

    /// Batches in flight on any connection.
    fn batches_in_flight(&self) -> usize {
        self.conns
            .iter()
            .flat_map(|c| c.in_flight.iter())
            .map(|f| if let InFlightKind::Produce(b) = &f.kind { b.len() } else { 0 })
            .sum()
    }

    fn maybe_init_producer_id(&mut self, now: u64) {
        let broken = &self.idempotence.broken;
        let unresolved = self.accumulator.has_unresolved(|t, p| broken.contains(&(t, p)));
        let Some(current) = self.idempotence.wants_request(now, self.batches_in_flight(), unresolved) else { return };
        // Nothing to do until there is something to send.
        if self.unreported == 0 && self.idempotence.state == PidState::None {
            return;
        }
        let sent = self.send_to_any_broker(ApiKey::InitProducerId, InFlightKind::InitProducerId, now, |buf, version, cid, client_id| {
            // Before v3 an epoch cannot be bumped: ask for a new producer id.
            let current = if version >= 3 { current } else { (-1, -1) };
            request::init_producer_id(buf, version, cid, client_id, current)
        });
        if sent {
            self.idempotence.on_request_sent();
        }
    }

    fn on_init_producer_id(&mut self, r: InitProducerIdResponse, now: u64) {
        match r.error_code {
            0 => {
                self.idempotence.on_granted(r.producer_id, r.producer_epoch);
                self.accumulator.reset_sequences();
            }
            code if is_retriable(code) || matches!(code, 15 | 16 | 51) => {
                // COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, CONCURRENT_TRANSACTIONS
                self.outputs.push_back(Output::Warning(format!("InitProducerId failed, retrying: {}", error_name(code))));
                self.idempotence.on_request_failed(now, self.config.retry_backoff_ms);
            }
            code => {
                let e = ProduceError::broker(
                    ErrorKind::Broker,
                    code,
                    Some("the broker refused a producer id for idempotence (enable.idempotence=false avoids it)"),
                );
                self.outputs.push_back(Output::Warning(format!("idempotence failed for good: {}", e.message)));
                self.idempotence.state = PidState::Failed(e);
            }
        }
    }

    // ---- responses ----

    /// Handles one response frame; an error drops the connection.
    fn handle_frame(&mut self, conn: ConnId, frame: &[u8], now: u64) -> Result<(), String> {
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return Ok(()) };
        let Some(inf) = c.in_flight.pop_front() else {
            return Err("the broker sent a response to no request".into());
        };
        let node = c.node;
        let decoded = decode(&inf, frame);
        let resp = match decoded {
            Ok(r) => r,
            Err(e) => {
                c.in_flight.push_front(inf);
                return Err(e);
            }
        };
        // Only a connection that carried real work resets its broker's
        // reconnect backoff: not one that negotiated or authenticated and
        // then failed.
        if matches!(resp, Decoded::Metadata(_) | Decoded::Produce(_) | Decoded::InitProducerId(_)) {
            self.node_backoff.remove(&node);
        }
        match (inf.kind, resp) {
            (InFlightKind::ApiVersions, Decoded::ApiVersions(r)) => self.on_api_versions(conn, inf.version, r, now),
            (InFlightKind::Metadata, Decoded::Metadata(r)) => {
                self.on_metadata(&r, now);
                Ok(())
            }
            (InFlightKind::Produce(batches), Decoded::Produce(r)) => {
                if r.throttle_time_ms > 0 {
                    // KIP-219: the broker answered at once but asks for a
                    // pause; honour it by muting this connection.
                    let until = now.saturating_add(r.throttle_time_ms as u64);
                    let t = self.throttled.entry(node).or_default();
                    *t = (*t).max(until);
                }
                self.on_produce(batches, &r, now);
                Ok(())
            }
            (InFlightKind::InitProducerId, Decoded::InitProducerId(r)) => {
                self.on_init_producer_id(r, now);
                Ok(())
            }
            (InFlightKind::SaslHandshake, Decoded::SaslHandshake(r)) => self.on_sasl_handshake(conn, r, now),
            (InFlightKind::SaslAuthenticate, Decoded::SaslAuthenticate(r)) => self.on_sasl_authenticate(conn, r, now),
            (kind, _) => {
                // Unreachable by construction (decode follows inf.api), kept
                // as an error rather than a panic.
                if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
                    c.in_flight.push_front(InFlight { kind, ..inf });
                }
                Err("response of the wrong kind".into())
            }
        }
    }

    /// Hands `data` to the host for `conn`, encrypted when the connection
    /// is TLS. A session that cannot encrypt is marked broken (callers
    /// still record the request in flight) and dropped at the next drive,
    /// which retries what it carried.
    fn transmit(&mut self, conn: ConnId, data: Vec<u8>) {
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return };
        if c.broken.is_some() {
            return;
        }
        let Some(tls) = c.tls.as_mut() else {
            self.outputs.push_back(Output::Transmit { conn, data });
            return;
        };
        let mut sealed = Vec::with_capacity(data.len() + 64);
        match tls.encrypt(&data, &mut sealed) {
            Ok(()) => self.outputs.push_back(Output::Transmit { conn, data: sealed }),
            Err(e) => {
                c.broken = Some(format!("TLS: {e}"));
                self.dirty = true;
            }
        }
    }

    /// A TLS handshake failed (an untrusted or misnamed certificate, a
    /// broker that does not speak TLS on this port, ...): as with refused
    /// SASL credentials, every record not yet sent fails with the reason,
    /// once, and the connection drops; reconnects back off.
    fn tls_failed(&mut self, conn: ConnId, why: String, now: u64) {
        let Some(c) = self.conns.iter().find(|c| c.id == conn) else { return };
        let message = format!("TLS handshake with {}:{} failed: {why}", c.host, c.port);
        self.fail_unsent(|| ProduceError::new(ErrorKind::Authentication, message.clone()));
        self.close_conn(conn, &message, true, now);
    }

    /// Queues a request already encoded as `data` on `conn`.
    #[allow(clippy::too_many_arguments)]
    fn push_request(&mut self, conn: ConnId, api: ApiKey, version: i16, cid: i32, kind: InFlightKind, data: Vec<u8>, now: u64) {
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.in_flight.push_back(InFlight { correlation_id: cid, api, version, sent_ms: now, kind });
            self.transmit(conn, data);
        }
    }

    fn send_sasl_authenticate(&mut self, conn: ConnId, auth_bytes: &[u8], now: u64) {
        let Some(version) = self.conns.iter().find(|c| c.id == conn).map(|c| c.sasl_authenticate_version) else { return };
        let cid = self.correlation_id();
        let mut data = Vec::with_capacity(64 + auth_bytes.len());
        request::sasl_authenticate(&mut data, version, cid, &self.config.client_id, auth_bytes);
        self.push_request(conn, ApiKey::SaslAuthenticate, version, cid, InFlightKind::SaslAuthenticate, data, now);
    }

    /// A fresh SCRAM nonce from the host's entropy.
    fn nonce(&mut self) -> [u8; 24] {
        use sha2::Digest;
        self.nonces += 1;
        let mut h = sha2::Sha256::new();
        h.update(self.entropy);
        h.update(self.nonces.to_le_bytes());
        let d: [u8; 32] = h.finalize().into();
        let mut n = [0u8; 24];
        n.copy_from_slice(&d[..24]);
        n
    }

    fn on_sasl_handshake(&mut self, conn: ConnId, r: response::SaslHandshakeResponse, now: u64) -> Result<(), String> {
        let (Some(mechanism), Some(user), Some(password)) =
            (self.config.sasl_mechanism, self.config.sasl_username.clone(), self.config.sasl_password.clone())
        else {
            return Err("SASL is not configured".into());
        };
        if r.error_code != 0 {
            return self.authentication_failed(format!(
                "the broker does not enable {} ({}); it offers: {}",
                mechanism.name(),
                error_name(r.error_code),
                r.mechanisms.join(", ")
            ));
        }
        let nonce = self.nonce();
        let mut client = crate::sasl::SaslClient::new(mechanism, &user, &password, &nonce);
        let first = client.initial(&user, &password);
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) {
            c.sasl = Some(client);
        }
        self.send_sasl_authenticate(conn, &first, now);
        Ok(())
    }

    fn on_sasl_authenticate(&mut self, conn: ConnId, r: response::SaslAuthenticateResponse<'_>, now: u64) -> Result<(), String> {
        if r.error_code != 0 {
            let detail = r.error_message.filter(|m| !m.is_empty()).map(|m| format!(": {m}")).unwrap_or_default();
            return self.authentication_failed(format!("{}{detail}", error_name(r.error_code)));
        }
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return Ok(()) };
        let Some(client) = c.sasl.as_mut() else { return Err("SaslAuthenticate response without an exchange".into()) };
        match client.step(r.auth_bytes) {
            Ok(Some(next)) => {
                self.send_sasl_authenticate(conn, &next, now);
                Ok(())
            }
            Ok(None) => {
                c.sasl = None;
                c.state = ConnState::Ready;
                Ok(())
            }
            Err(e) => self.authentication_failed(e.0),
        }
    }

    /// Wrong credentials or mechanism: every record not yet sent fails
    /// with the reason (once, not in a retry loop); the connection drops
    /// and reconnects back off as after any failure.
    fn authentication_failed(&mut self, why: String) -> Result<(), String> {
        let message = format!("SASL authentication failed: {why}");
        self.fail_unsent(|| ProduceError::new(ErrorKind::Authentication, message.clone()));
        Err(message)
    }

    /// Fails every batch not in flight and every record waiting for metadata.
    fn fail_unsent(&mut self, error: impl Fn() -> ProduceError) {
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

    fn on_api_versions(&mut self, conn: ConnId, sent: i16, r: ApiVersionsResponse, now: u64) -> Result<(), String> {
        if r.error_code == response::UNSUPPORTED_VERSION {
            let theirs = r.api_keys.iter().find(|k| k.api_key == ApiKey::ApiVersions as i16).map_or(0, |k| k.max);
            let v = theirs.min(sent - 1).max(0);
            if v >= sent {
                return Err("the broker supports no ApiVersions version this client speaks".into());
            }
            self.send_api_versions(conn, v, now);
            return Ok(());
        }
        if r.error_code != 0 {
            return Err(format!("ApiVersions failed: {}", crate::error_codes::error_name(r.error_code)));
        }
        let (produce, metadata) = (r.negotiate(ApiKey::Produce), r.negotiate(ApiKey::Metadata));
        let (Some(produce), Some(metadata)) = (produce, metadata) else {
            let range = |k: ApiKey| r.api_keys.iter().find(|a| a.api_key == k as i16).map_or("none".to_string(), |a| format!("v{}-v{}", a.min, a.max));
            let (pm, px) = ApiKey::Produce.supported();
            let (mm, mx) = ApiKey::Metadata.supported();
            return Err(format!(
                "no common protocol version: the broker offers Produce {} and Metadata {}; this client speaks Produce v{pm}-v{px} and Metadata v{mm}-v{mx}",
                range(ApiKey::Produce),
                range(ApiKey::Metadata)
            ));
        };
        let init_producer_id = r.negotiate(ApiKey::InitProducerId);
        if self.config.idempotent && init_producer_id.is_none() {
            return Err("the broker does not support InitProducerId, so it cannot take an idempotent producer: set enable.idempotence=false".into());
        }
        let sasl = self.config.sasl_mechanism.filter(|_| self.config.security_protocol.uses_sasl());
        let sasl_versions = (r.negotiate(ApiKey::SaslHandshake), r.negotiate(ApiKey::SaslAuthenticate));
        if sasl.is_some() && (sasl_versions.0.is_none() || sasl_versions.1.is_none()) {
            return Err("the broker supports no SaslHandshake v1 / SaslAuthenticate: it cannot authenticate this client".into());
        }
        let Some(c) = self.conns.iter_mut().find(|c| c.id == conn) else { return Ok(()) };
        c.produce_version = produce;
        c.metadata_version = metadata;
        c.init_producer_id_version = init_producer_id.unwrap_or(-1);
        c.sasl_authenticate_version = sasl_versions.1.unwrap_or(-1);
        if let Some(mechanism) = sasl {
            c.state = ConnState::Authenticating;
            let cid = self.correlation_id();
            let mut data = Vec::with_capacity(64);
            request::sasl_handshake(&mut data, cid, &self.config.client_id, mechanism.name());
            self.push_request(conn, ApiKey::SaslHandshake, 1, cid, InFlightKind::SaslHandshake, data, now);
            return Ok(());
        }
        c.state = ConnState::Ready;
        // The reconnect backoff is reset only once a Metadata or Produce
        // response decodes: a broker that negotiates and then sends
        // garbage must not get a reconnect every reconnect.backoff.ms.
        Ok(())
    }
}

enum Decoded<'a> {
    ApiVersions(ApiVersionsResponse),
    SaslHandshake(response::SaslHandshakeResponse),
    SaslAuthenticate(response::SaslAuthenticateResponse<'a>),
    InitProducerId(InitProducerIdResponse),
    Metadata(MetadataResponse<'a>),
    Produce(ProduceResponse<'a>),
}

fn decode<'a>(inf: &InFlight, frame: &'a [u8]) -> Result<Decoded<'a>, String> {
    let malformed = |e: crate::wire::DecodeError| format!("{e} (ApiKey {} v{})", inf.api as i16, inf.version);
    let (cid, mut r) = response::header(frame, inf.api, inf.version).map_err(malformed)?;
    if cid != inf.correlation_id {
        return Err(format!("response correlation id {cid} does not match request {}", inf.correlation_id));
    }
    Ok(match inf.api {
        ApiKey::ApiVersions => Decoded::ApiVersions(response::api_versions(&mut r, inf.version).map_err(malformed)?),
        ApiKey::Metadata => Decoded::Metadata(response::metadata(&mut r, inf.version).map_err(malformed)?),
        ApiKey::Produce => Decoded::Produce(response::produce(&mut r, inf.version).map_err(malformed)?),
        ApiKey::InitProducerId => Decoded::InitProducerId(response::init_producer_id(&mut r, inf.version).map_err(malformed)?),
        ApiKey::SaslHandshake => Decoded::SaslHandshake(response::sasl_handshake(&mut r).map_err(malformed)?),
        ApiKey::SaslAuthenticate => Decoded::SaslAuthenticate(response::sasl_authenticate(&mut r, inf.version).map_err(malformed)?),
    })
}
