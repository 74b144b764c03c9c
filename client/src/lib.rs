//! World `client`: the producer as a component that does its own I/O. The
//! loop is the driver's (`Driver<Producer, WasiIo>`, over `wasi:sockets`,
//! `wasi:io/poll`, `wasi:clocks`, `wasi:random`); this file only translates
//! the WIT types to the core's and back. Built for wasm32-wasip2 only.
#![cfg(target_os = "wasi")]

use std::cell::RefCell;

use kafka_producer_component::driver::wasi::WasiIo;
use kafka_producer_component::driver::{Driver, Io};
use kafka_producer_component::packed::Packed;
use kafka_producer_component::{DeliveryReport, ErrorKind, GroupMetadata, Header, OffsetToCommit, ProduceError, Producer, Record, TxnCall};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::Pollable;

wit_bindgen::generate!({
    world: "client",
    path: "../wit",
    with: {
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
        "wasi:random/random@0.2.12": wasi::random::random,
        "wasi:sockets/network@0.2.12": wasi::sockets::network,
        "wasi:sockets/instance-network@0.2.12": wasi::sockets::instance_network,
        "wasi:sockets/ip-name-lookup@0.2.12": wasi::sockets::ip_name_lookup,
        "wasi:sockets/tcp@0.2.12": wasi::sockets::tcp,
        "wasi:sockets/tcp-create-socket@0.2.12": wasi::sockets::tcp_create_socket,
        "kafka:producer/producer@0.1.0": generate,
    },
});

use exports::kafka::producer::client_producer as wit;
use kafka::producer::producer as types;

kafka_producer_component::statistics_into_wit!(types);

/// How long `send` waits while the queue is full, unless `max.block.ms`
/// says otherwise (the Java client's default).
const MAX_BLOCK_MS: u64 = 60_000;

/// While records await their reports, `subscribe`'s pollable is ready no
/// later than this after the call: an answer on a socket cannot wake it.
const SUBSCRIBE_RECHECK_MS: u64 = 10;

struct Component;

impl wit::Guest for Component {
    type Producer = ClientProducer;
}

export!(Component);

struct ClientProducer(RefCell<Inner>);

struct Inner {
    driver: Driver<Producer, WasiIo>,
    max_block_ms: u64,
    /// The records of the current call, packed; kept for its allocation.
    packed: Packed,
    /// `close` was called: every report has been handed over, and there
    /// is nothing left to wait for.
    closed: bool,
}

fn error_kind(k: ErrorKind) -> types::ErrorKind {
    match k {
        ErrorKind::Broker => types::ErrorKind::Broker,
        ErrorKind::TimedOut => types::ErrorKind::TimedOut,
        ErrorKind::RecordTooLarge => types::ErrorKind::RecordTooLarge,
        ErrorKind::InvalidPartition => types::ErrorKind::InvalidPartition,
        ErrorKind::TopicFailed => types::ErrorKind::TopicFailed,
        ErrorKind::InvalidRecord => types::ErrorKind::InvalidRecord,
        ErrorKind::QueueFull => types::ErrorKind::QueueFull,
        ErrorKind::Closed => types::ErrorKind::Closed,
        ErrorKind::Authentication => types::ErrorKind::Authentication,
        ErrorKind::Transaction => types::ErrorKind::Transaction,
        ErrorKind::Aborted => types::ErrorKind::Aborted,
        ErrorKind::Fatal => types::ErrorKind::Fatal,
    }
}

fn produce_error(e: ProduceError) -> types::ProduceError {
    types::ProduceError { kind: error_kind(e.kind), code: e.code, message: e.message }
}

fn report(r: DeliveryReport) -> types::DeliveryReport {
    types::DeliveryReport {
        topic: r.topic,
        partition: r.partition,
        base_offset: r.base_offset,
        log_append_time: r.log_append_time_ms,
        records: r.records,
        error: r.error.map(produce_error),
    }
}

fn reports(v: Vec<DeliveryReport>) -> Vec<types::DeliveryReport> {
    v.into_iter().map(report).collect()
}

impl Inner {
    fn send(&mut self, topic: &str, records: &[types::KafkaRecord]) -> Vec<Result<u64, types::ProduceError>> {
        self.packed.clear();
        let mut headers: Vec<Header<'_>> = Vec::new();
        for r in records {
            headers.clear();
            headers.extend(r.headers.iter().map(|h| Header { key: &h.key, value: h.value.as_deref() }));
            self.packed.push(&Record {
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: &headers,
                partition: r.partition,
                timestamp: r.timestamp,
            });
        }
        match self.driver.send(topic, &self.packed, self.max_block_ms) {
            Ok(sent) => sent.into_outcomes(records.len()).into_iter().map(|r| r.map_err(produce_error)).collect(),
            // The in-process producer never fails this way; a record is
            // never lost silently all the same.
            Err(e) => {
                let e = types::ProduceError { kind: types::ErrorKind::Closed, code: 0, message: e.to_string() };
                records.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }
}

impl ClientProducer {
    fn transaction(&self, call: TxnCall, timeout_ms: u64) -> Result<(), types::ProduceError> {
        let mut inner = self.0.borrow_mut();
        if inner.closed {
            return Err(types::ProduceError { kind: types::ErrorKind::Closed, code: 0, message: "the producer is closed".into() });
        }
        match inner.driver.transaction(call, timeout_ms) {
            Ok(answer) => answer.map_err(produce_error),
            Err(e) => Err(types::ProduceError { kind: types::ErrorKind::Fatal, code: 0, message: e.to_string() }),
        }
    }
}

impl wit::GuestProducer for ClientProducer {
    fn open(config: Vec<(String, String)>) -> Result<wit::Producer, wit::ConfigError> {
        let mut max_block_ms = MAX_BLOCK_MS;
        let mut pairs = Vec::with_capacity(config.len());
        for (k, v) in config {
            if k.trim() == "max.block.ms" {
                max_block_ms = v.trim().parse().map_err(|_| wit::ConfigError {
                    key: "max.block.ms".into(),
                    reason: format!("expected milliseconds (a whole number), got {:?}", v.trim()),
                })?;
            } else {
                pairs.push((k, v));
            }
        }
        let mut driver = Driver::open(WasiIo::new(), &pairs).map_err(|e| wit::ConfigError { key: e.key, reason: e.reason })?;
        // Warnings are for operators (dropped connections, refused
        // versions); failures reach the application in delivery reports.
        driver.on_warning = Some(Box::new(|_| {}));
        let inner = Inner { driver, max_block_ms, packed: Packed::default(), closed: false };
        Ok(wit::Producer::new(ClientProducer(RefCell::new(inner))))
    }

    fn send(&self, topic: String, record: types::KafkaRecord) -> Result<u64, types::ProduceError> {
        let mut out = self.0.borrow_mut().send(&topic, std::slice::from_ref(&record));
        out.pop().unwrap_or_else(|| Err(types::ProduceError { kind: types::ErrorKind::InvalidRecord, code: 0, message: "no outcome".into() }))
    }

    fn send_batch(&self, topic: String, records: Vec<types::KafkaRecord>) -> Vec<Result<u64, types::ProduceError>> {
        self.0.borrow_mut().send(&topic, &records)
    }

    fn poll_reports(&self, timeout_ms: u64) -> Vec<types::DeliveryReport> {
        let mut inner = self.0.borrow_mut();
        if inner.closed {
            return Vec::new();
        }
        let d = &mut inner.driver;
        // Reports already gathered by an earlier call are returned without
        // waiting for more.
        let wait = if d.has_reports() { 0 } else { timeout_ms };
        // (The driver steps after its last wait: answers it read are in.)
        let _ = d.poll(wait);
        reports(d.take_reports())
    }

    fn flush(&self, timeout_ms: u64) -> bool {
        let mut inner = self.0.borrow_mut();
        inner.closed || inner.driver.flush(timeout_ms).unwrap_or(false)
    }

    fn close(&self, timeout_ms: u64) -> Vec<types::DeliveryReport> {
        let mut inner = self.0.borrow_mut();
        if inner.closed {
            return Vec::new();
        }
        let _ = inner.driver.close(timeout_ms);
        inner.closed = true;
        reports(inner.driver.take_reports())
    }

    fn subscribe(&self) -> Pollable {
        let mut inner = self.0.borrow_mut();
        let d = &mut inner.driver;
        let now = d.io.now_ms();
        let at = if d.has_reports() {
            Some(now)
        } else if d.unreported() > 0 || d.buffered() > 0 {
            let recheck = now + SUBSCRIBE_RECHECK_MS;
            Some(d.wake_at().map_or(recheck, |w| w.min(recheck)))
        } else {
            d.wake_at()
        };
        let ns = match at {
            Some(at) => at.saturating_sub(now).saturating_mul(1_000_000),
            None => u64::MAX,
        };
        monotonic_clock::subscribe_duration(ns)
    }

    fn statistics(&self) -> types::Statistics {
        let d = &mut self.0.borrow_mut().driver;
        let now = d.io.now_ms();
        statistics_into_wit(d.engine.statistics(now))
    }

    fn poll_statistics(&self) -> Vec<String> {
        self.0.borrow_mut().driver.take_statistics()
    }

    fn init_transactions(&self, timeout_ms: u64) -> Result<(), types::ProduceError> {
        self.transaction(TxnCall::Init, timeout_ms)
    }

    fn begin_transaction(&self) -> Result<(), types::ProduceError> {
        self.transaction(TxnCall::Begin, 0)
    }

    fn send_offsets_to_transaction(
        &self,
        offsets: Vec<types::OffsetToCommit>,
        group: types::GroupMetadata,
        timeout_ms: u64,
    ) -> Result<(), types::ProduceError> {
        let offsets = offsets
            .into_iter()
            .map(|o| OffsetToCommit { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata })
            .collect();
        let group = GroupMetadata {
            group_id: group.group_id,
            generation_id: group.generation_id,
            member_id: group.member_id,
            group_instance_id: group.group_instance_id,
        };
        self.transaction(TxnCall::SendOffsets(offsets, group), timeout_ms)
    }

    fn commit_transaction(&self, timeout_ms: u64) -> Result<(), types::ProduceError> {
        self.transaction(TxnCall::Commit, timeout_ms)
    }

    fn abort_transaction(&self, timeout_ms: u64) -> Result<(), types::ProduceError> {
        self.transaction(TxnCall::Abort, timeout_ms)
    }

    fn set_oauthbearer_token(&self, token: String, lifetime_ms: u64, extensions: Vec<(String, String)>) -> Result<(), wit::ConfigError> {
        let mut inner = self.0.borrow_mut();
        let d = &mut inner.driver;
        let now = d.io.now_ms();
        d.engine.set_oauthbearer_token(&token, lifetime_ms, &extensions, now).map_err(|e| wit::ConfigError { key: e.key, reason: e.reason })
    }
}
