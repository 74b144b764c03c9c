//! The producer state machine: the public [`Producer`], its verbs, and the
//! overview of how a record becomes a delivery report.
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
//!
//! # How a record travels
//!
//! `send` partitions a record (`crate::partitioner`, KIP-480 sticky for
//! keyless records) and appends it to its partition's open batch
//! (`crate::accumulator`); a record of a topic whose partitions are not
//! known yet waits there for metadata. Each [`Producer::poll`] that has
//! something to do runs one `drive`, in this order:
//!
//! 1. `timers`: batches and waiting records past `delivery.timeout.ms`
//!    fail; connections past their setup or request timeout close.
//! 2. `cluster`: a Metadata request if the view is due for a refresh.
//! 3. `sender`: with idempotence, an InitProducerId request if a
//!    producer id or an epoch bump is wanted and may go now
//!    (`transaction_manager` decides); then ready batches are drained
//!    into Produce requests.
//! 4. `cluster`: connections to leaders of partitions with batches.
//! 5. `close`'s deadline: what is left fails; then connections close.
//!
//! Every request goes out through the `network_client`; a new
//! connection first goes through its `handshake` (TLS, ApiVersions,
//! SASL). Responses are framed by the network client and dispatched here
//! (`handle_frame`) by API to the module that owns it; a
//! connection that drops hands each request it had in flight to
//! `on_request_lost`. A Produce response's batches are the
//! sender's, by correlation id; for each partition's answer the
//! transaction manager's `disposition` decides: complete, retry, split,
//! bump the epoch, or fail. Every outcome leaves as a report through
//! `completion`.

mod cluster;
mod completion;
mod coordinator;
mod handshake;
mod network_client;
mod oauthbearer;
mod sender;
mod statistics;
mod step;
mod timers;
mod transaction_manager;
mod transactions;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::accumulator::Accumulator;
use crate::batch::single_record_batch_len;
use crate::config::Config;
use crate::connection::{ConnId, InFlight};
use crate::metadata::{Metadata, TopicIdx, TopicState};
use crate::partitioner::{Partitioner, TopicView};
use crate::record::{Record, RecordId};
use crate::report::{ErrorKind, ProduceError};
use crate::request::{self, ApiKey};
use crate::response::{self, Response};

use completion::Completion;
use network_client::NetworkClient;
use sender::Sender;
pub use sender::REQUEST_BYTES_PER_DRIVE;
pub use step::{Refusal, Step};
use transaction_manager::{PidState, TransactionManager};
pub use transactions::{TxnCall, TxnOp, TxnResult};
use transactions::Transactions;

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
    Report(crate::report::DeliveryReport),
    /// Something the operator may want to know (a broker dropped, refused
    /// versions, sent garbage); the producer carries on.
    Warning(String),
    /// The statistics as one line of JSON, every `statistics.interval.ms`
    /// and once more as `close` completes.
    Statistics(String),
    /// The outcome of a transactional call (`init_transactions`,
    /// `commit_transaction`, ...).
    Transaction(TxnResult),
}

/// A Kafka producer that does no I/O: see the module docs for how to drive it.
pub struct Producer {
    config: Config,
    /// The cluster view: topics, partitions, leaders, brokers.
    metadata: Metadata,
    partitioner: Partitioner,
    /// Batches not yet sent, and records waiting for metadata.
    accumulator: Accumulator,
    /// Batches in flight, by correlation id.
    sender: Sender,
    /// Connections, correlation ids, backoff, throttling.
    client: NetworkClient,
    /// Producer id, epoch and sequences, with `enable.idempotence`.
    transactions: TransactionManager,
    /// The transaction, with `transactional.id`.
    txn: Option<Transactions>,
    /// Records awaiting their report.
    completion: Completion,
    outputs: VecDeque<Output>,
    next_record_id: RecordId,
    flushing: bool,
    /// The state changed since the last `drive`.
    dirty: bool,
    /// The time of the last `drive`: everything due by then was acted on.
    driven_at: u64,
    /// `close` was called: no new records; at this time, fail what is left.
    closing_at: Option<u64>,
    /// Host-supplied randomness, for SCRAM nonces.
    entropy: [u8; 32],
    nonces: u64,
    /// Counters for `statistics` (the wire's are the network client's).
    stats: crate::statistics::Counters,
    /// With sasl.mechanism=OAUTHBEARER: the token and its refresh.
    oauth: Option<crate::oauthbearer::TokenState>,
}

impl Producer {
    /// A producer that will connect on the first `send`. `now` is the
    /// host's clock in milliseconds since the Unix epoch; it also seeds the
    /// sticky partitioner.
    pub fn new(config: Config, now: u64) -> Producer {
        Producer::with_entropy(config, now, &[])
    }

    /// As `with_entropy`, refusing too little entropy for what `config`
    /// needs: 32 bytes with TLS, 16 with SCRAM. Every host that creates a
    /// producer from user input goes through here.
    pub fn seeded(config: Config, now: u64, entropy: &[u8]) -> Result<Producer, String> {
        if config.tls.is_some() && entropy.len() < 32 {
            return Err("TLS (security.protocol SSL / SASL_SSL) needs at least 32 bytes of entropy from the host".into());
        }
        let scram = matches!(config.sasl_mechanism, Some(crate::sasl::Mechanism::ScramSha256 | crate::sasl::Mechanism::ScramSha512));
        if scram && config.security_protocol.uses_sasl() && entropy.len() < 16 {
            return Err("SCRAM needs at least 16 bytes of entropy from the host".into());
        }
        Ok(Producer::with_entropy(config, now, entropy))
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
        Producer {
            metadata: Metadata::default(),
            partitioner: Partitioner::new(config.partitioner, now),
            accumulator: Accumulator::new((config.compression, config.compression_level), config.transactional_id.is_some(), config.buffer_memory),
            sender: Sender::default(),
            client: NetworkClient::default(),
            transactions: TransactionManager::default(),
            txn: config.transactional_id.clone().map(Transactions::new),
            completion: Completion::default(),
            outputs: VecDeque::new(),
            next_record_id: 0,
            flushing: false,
            dirty: true,
            driven_at: 0,
            closing_at: None,
            entropy,
            nonces: 0,
            stats: crate::statistics::Counters::new(config.statistics_interval_ms, now),
            oauth: oauthbearer::configured(&config),
            config,
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
        self.completion.unreported()
    }

    /// Accepts a record for `topic`, or rejects it at once (too large,
    /// invalid partition, topic refused). An accepted record gets exactly
    /// one delivery report; a rejected one gets none. Either way it uses
    /// up one record id.
    pub fn send(&mut self, topic: &str, rec: &Record<'_>, now: u64) -> Result<RecordId, ProduceError> {
        let result = self.accept(topic, rec, now);
        if let (Err(e), Some(_)) = (&result, &self.txn) {
            // As in the Java client: a record refused by a transaction's
            // producer leaves the transaction unable to commit (queue-full
            // is only a wait; a state error changes nothing).
            if !matches!(e.kind, ErrorKind::QueueFull | ErrorKind::Transaction | ErrorKind::Fatal | ErrorKind::Closed) {
                self.txn_abortable(e.clone());
            }
        }
        result
    }

    fn accept(&mut self, topic: &str, rec: &Record<'_>, now: u64) -> Result<RecordId, ProduceError> {
        let id = self.next_record_id;
        self.next_record_id += 1;
        if self.closing_at.is_some() {
            return Err(ProduceError::new(ErrorKind::Closed, "the producer is closed".into()));
        }
        if let PidState::Failed(e) = &self.transactions.state {
            return Err(e.clone());
        }
        self.txn_allows_send()?;
        // Checked before anything else, so once a call hits the bound every
        // later record of it is refused too: a host can resend the tail in
        // order.
        let unreported = self.completion.unreported();
        if unreported >= self.config.max_queued_records {
            return Err(ProduceError::new(
                ErrorKind::QueueFull,
                format!("{unreported} records await delivery: queue.buffering.max.messages reached"),
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
            TopicState::Failed(code) => return Err(ProduceError::broker(ErrorKind::TopicFailed, code, Some(topic))),
            TopicState::Unknown => self.accumulator.push_pending(t, id, now, timestamp, rec),
            TopicState::Known => self.append_known(t, rec, timestamp, id, now)?,
        }
        self.completion.accepted();
        self.stats.accepted();
        self.dirty = true;
        Ok(id)
    }

    /// The largest a batch of `topic` may grow, uncompressed, so that once
    /// compressed it fits both `message.max.bytes` and, in a request of
    /// its own, `max.request.size`.
    fn max_batch_len(&self, topic: &str) -> usize {
        let c = &self.config;
        let limit = c.message_max_bytes.min(c.max_request_size.saturating_sub(request::produce_overhead(&c.client_id, c.transactional_id.as_deref(), topic)));
        let header = crate::batch::BATCH_HEADER_LEN;
        header + c.compression.max_input_for(limit.saturating_sub(header))
    }

    /// The uncompressed bytes a batch of topic `t` may hold (see
    /// `Accumulator::batch_limit`).
    pub(super) fn batch_limit(&self, t: TopicIdx) -> usize {
        self.accumulator.batch_limit(t, self.config.batch_size, self.max_batch_len(&self.metadata.topic(t).name))
    }

    /// Partitions and appends a record of a topic whose partitions are known.
    fn append_known(&mut self, t: TopicIdx, rec: &Record<'_>, ts: i64, id: RecordId, now: u64) -> Result<(), ProduceError> {
        let count = self.metadata.topic(t).partition_count();
        let batch_size = self.batch_limit(t);
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
        let opened = self.accumulator.append(t, partition as i32, rec, ts, id, now, batch_size);
        if let (true, Some(txn)) = (opened, self.txn.as_mut()) {
            // A partition's first batch in a transaction is always a new
            // one (a commit or abort leaves none behind).
            txn.add_partition((t, partition as i32));
        }
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
        self.start_handshake(conn, now);
    }

    /// The connection `conn` is closed or could not be opened.
    pub fn handle_closed(&mut self, conn: ConnId, reason: &str, now: u64) {
        self.dirty = true;
        let hint = self.suspect_tls_listener(conn, &format!("closed the connection ({reason})"));
        self.close_conn(conn, hint.as_deref().unwrap_or(reason), false, now);
    }

    /// Bytes arrived on `conn`.
    pub fn handle_received(&mut self, conn: ConnId, bytes: &[u8], now: u64) {
        self.dirty = true;
        if self.config.tls.is_some() {
            if !self.receive_tls(conn, bytes, now) {
                return;
            }
        } else if let Some(c) = self.client.conn_mut(conn) {
            c.receive(bytes);
            if handshake::looks_like_tls(c.input()) {
                if let Some(hint) = self.suspect_tls_listener(conn, "answered with a TLS record") {
                    self.close_conn(conn, &hint, true, now);
                    return;
                }
            }
        } else {
            return;
        }
        self.read_frames(conn, now);
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
    /// once `poll` has returned `None`. The deadlines: a batch's
    /// `linger.ms` or retry backoff, `delivery.timeout.ms`, a connection's
    /// setup and request timeouts, a throttle lifting, a metadata refresh,
    /// `close`'s deadline, an InitProducerId or reconnect backoff.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.next_deadline()
    }

    // ---- the engine ----

    fn drive(&mut self, now: u64) {
        self.driven_at = now;
        self.oauthbearer_refresh(now);
        self.expire(now);
        self.maybe_request_metadata(now);
        // Closing aborts an open transaction, as the Java client does, and
        // one whose commit failed while closing; before anything more is
        // sent, so its queued records fail as aborted rather than being
        // written for nothing. At the deadline nothing more is sent: the
        // coordinator aborts it at transaction.timeout.ms, or the next
        // instance's init_transactions does.
        if self.closing_at.is_some_and(|at| now < at) && self.txn_open_and_idle() {
            self.begin_abort();
        }
        if self.txn.is_some() {
            self.maybe_send_txn_request(now);
        } else if self.config.idempotent {
            self.maybe_init_producer_id(now);
        }
        self.send_ready_batches(now);
        self.connect_to_leaders(now);
        if self.flushing && self.accumulator.queued_batches() == 0 && self.accumulator.topics.iter().all(|t| t.pending.count == 0) {
            self.flushing = false;
        }
        self.maybe_emit_statistics(now, false);
        if self.closing_at.is_some() {
            self.finish_close(now);
        }
    }

    /// At the close deadline, fails every record left; once none is left,
    /// closes the connections.
    fn finish_close(&mut self, now: u64) {
        let Some(at) = self.closing_at else { return };
        if now >= at && self.completion.unreported() > 0 {
            let closed = || ProduceError::new(ErrorKind::Closed, "the producer was closed before the record was delivered".into());
            // Requests in flight are forgotten: a late response answers nothing.
            let mut in_flight = Vec::new();
            for c in &mut self.client.conns {
                in_flight.extend(core::mem::take(&mut c.in_flight).into_iter().filter(|r| r.api == ApiKey::Produce).map(|r| r.correlation_id));
            }
            self.fail_in_flight(in_flight, closed);
            self.fail_unsent(closed);
        }
        if now >= at {
            // A transactional call still running gets its outcome, or a
            // host waiting for it would wait for ever.
            self.fail_txn_op_on_close();
        }
        if self.completion.unreported() == 0 && (!self.txn_ending() || now >= at) {
            self.maybe_emit_statistics(now, true);
            for c in core::mem::take(&mut self.client.conns) {
                self.outputs.push_back(Output::Close { conn: c.id });
            }
        }
    }

    // ---- the dispatch: each response, or its loss, to the module that owns its API ----

    /// Handles one response frame; an error drops the connection.
    fn handle_frame(&mut self, conn: ConnId, frame: &[u8], now: u64) -> Result<(), String> {
        let Some(c) = self.client.conn_mut(conn) else { return Ok(()) };
        let Some(inf) = c.in_flight.pop_front() else {
            return Err("the broker sent a response to no request".into());
        };
        let node = c.node;
        let decoded = response::decode(inf.api, inf.version, frame)
            .map_err(|e| format!("{e} (ApiKey {} v{})", inf.api as i16, inf.version))
            .and_then(|(cid, resp)| {
                if cid == inf.correlation_id {
                    Ok(resp)
                } else {
                    Err(format!("response correlation id {cid} does not match request {}", inf.correlation_id))
                }
            });
        let resp = match decoded {
            Ok(r) => r,
            Err(e) => {
                // Back in flight: dropping the connection fails it.
                c.in_flight.push_front(inf);
                return Err(e);
            }
        };
        self.client.wire.received(node, frame.len() + 4, now.saturating_sub(inf.sent_ms));
        // Only a connection that carried real work resets its broker's
        // reconnect backoff: not one that negotiated or authenticated and
        // then failed.
        if !matches!(resp, Response::ApiVersions(_) | Response::SaslHandshake(_) | Response::SaslAuthenticate(_)) {
            self.client.reset_backoff(node);
        }
        match resp {
            Response::ApiVersions(r) => {
                let Some(c) = self.client.conn_mut(conn) else { return Ok(()) };
                let step = handshake::on_api_versions(c, inf.version, &r, &self.config);
                self.handshake_step(conn, step, now)
            }
            Response::SaslHandshake(r) => {
                let Some(c) = self.client.conn_mut(conn) else { return Ok(()) };
                let (entropy, nonces) = (&self.entropy, &mut self.nonces);
                let oauth = &self.oauth;
                let token = || oauth.as_ref().map_or(Err("no OAUTHBEARER token".into()), |o| o.initial_message(now));
                let step = handshake::on_sasl_handshake(c, &r, &self.config, || handshake::scram_nonce(entropy, nonces), token);
                self.handshake_step(conn, step, now)
            }
            Response::SaslAuthenticate(r) => {
                let Some(c) = self.client.conn_mut(conn) else { return Ok(()) };
                let step = handshake::on_sasl_authenticate(c, &r);
                self.handshake_step(conn, step, now)
            }
            Response::Metadata(r) => {
                self.on_metadata(&r, now);
                Ok(())
            }
            Response::InitProducerId(r) if self.txn.is_some() => {
                self.on_txn_init_producer_id(r, now);
                Ok(())
            }
            Response::InitProducerId(r) => {
                self.on_init_producer_id(r, now);
                Ok(())
            }
            Response::FindCoordinator(r) => {
                self.on_find_coordinator(&r, now);
                Ok(())
            }
            Response::AddPartitionsToTxn(r) => {
                self.on_add_partitions(&r, now);
                Ok(())
            }
            Response::AddOffsetsToTxn(code) => {
                self.on_add_offsets(code, now);
                Ok(())
            }
            Response::TxnOffsetCommit(r) => {
                self.on_txn_offset_commit(&r, now);
                Ok(())
            }
            Response::EndTxn(code) => {
                self.on_end_txn(code, now);
                Ok(())
            }
            Response::Produce(r) => {
                self.client.wire.broker(node).throttle.record(r.throttle_time_ms.max(0) as u64);
                if r.throttle_time_ms > 0 {
                    // KIP-219: answered at once, with a pause asked for.
                    self.client.throttle(node, now.saturating_add(r.throttle_time_ms as u64));
                }
                self.on_produce(inf.correlation_id, &r, now);
                Ok(())
            }
        }
    }

    /// A request whose connection dropped before its response came.
    fn on_request_lost(&mut self, inf: InFlight, reason: &str, now: u64) {
        match inf.api {
            ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate => {}
            ApiKey::Metadata => self.metadata.on_request_failed(now, self.config.retry_backoff_ms),
            ApiKey::InitProducerId if self.txn.is_some() => self.on_txn_request_lost(now),
            ApiKey::InitProducerId => self.transactions.on_request_failed(now, self.config.retry_backoff_ms),
            ApiKey::FindCoordinator | ApiKey::AddPartitionsToTxn | ApiKey::AddOffsetsToTxn | ApiKey::EndTxn | ApiKey::TxnOffsetCommit => {
                self.on_txn_request_lost(now)
            }
            ApiKey::Produce => self.on_produce_lost(inf.correlation_id, reason, now),
        }
    }
}
