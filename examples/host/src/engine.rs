//! The `engine` component as a [`driver::Engine`]: each call crosses into
//! the component; socket events are buffered and handed over with the next
//! `step`, so one crossing carries all of them. Type translation only: the
//! loop is the driver's.

use kafka_producer_component::connection::ConnId;
use kafka_producer_component::driver::{self, EngineFailed};
use kafka_producer_component::producer::{Refusal, Step, TxnCall, TxnOp, TxnResult};
use kafka_producer_component::report as core;
use wasmtime::component::ResourceAny;
use wasmtime::{ResourceLimiter, Store};

use crate::bindings::exports::kafka::producer::producer as wit;
use crate::bindings::Engine as Bindings;

/// Records how large the component's linear memory grows: wasm memory
/// never shrinks, so its size is the peak of what the producer held.
#[derive(Default)]
pub struct MemoryTracker {
    pub peak_bytes: usize,
}

impl ResourceLimiter for MemoryTracker {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// A producer inside an instance of the `engine` component.
pub struct ComponentEngine {
    pub(crate) store: Store<MemoryTracker>,
    pub(crate) bindings: Bindings,
    pub(crate) producer: ResourceAny,
    events: Vec<wit::Event>,
}

fn failed(e: wasmtime::Error) -> EngineFailed {
    EngineFailed(format!("{e:#}"))
}

pub(crate) fn error_kind(k: wit::ErrorKind) -> core::ErrorKind {
    match k {
        wit::ErrorKind::Broker => core::ErrorKind::Broker,
        wit::ErrorKind::TimedOut => core::ErrorKind::TimedOut,
        wit::ErrorKind::RecordTooLarge => core::ErrorKind::RecordTooLarge,
        wit::ErrorKind::InvalidPartition => core::ErrorKind::InvalidPartition,
        wit::ErrorKind::TopicFailed => core::ErrorKind::TopicFailed,
        wit::ErrorKind::InvalidRecord => core::ErrorKind::InvalidRecord,
        wit::ErrorKind::QueueFull => core::ErrorKind::QueueFull,
        wit::ErrorKind::Closed => core::ErrorKind::Closed,
        wit::ErrorKind::Authentication => core::ErrorKind::Authentication,
        wit::ErrorKind::Transaction => core::ErrorKind::Transaction,
        wit::ErrorKind::Aborted => core::ErrorKind::Aborted,
        wit::ErrorKind::Fatal => core::ErrorKind::Fatal,
    }
}

fn txn_result(r: wit::TransactionResult) -> TxnResult {
    let op = match r.op {
        wit::TransactionOp::Init => TxnOp::Init,
        wit::TransactionOp::SendOffsets => TxnOp::SendOffsets,
        wit::TransactionOp::Commit => TxnOp::Commit,
        wit::TransactionOp::Abort => TxnOp::Abort,
    };
    TxnResult { op, error: r.error.map(produce_error) }
}

pub(crate) fn produce_error(e: wit::ProduceError) -> core::ProduceError {
    core::ProduceError { kind: error_kind(e.kind), code: e.code, message: e.message }
}

fn report(r: wit::DeliveryReport) -> core::DeliveryReport {
    core::DeliveryReport {
        topic: r.topic,
        partition: r.partition,
        base_offset: r.base_offset,
        log_append_time_ms: r.log_append_time,
        records: r.records,
        error: r.error.map(produce_error),
    }
}

impl ComponentEngine {
    pub(crate) fn new(store: Store<MemoryTracker>, bindings: Bindings, producer: ResourceAny) -> Self {
        ComponentEngine { store, bindings, producer, events: Vec::new() }
    }

    /// The component's `send` export (records as WIT values, not packed).
    pub fn send_records(&mut self, topic: &str, records: &[wit::KafkaRecord], now: u64) -> Result<wit::SendOutcome, EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_send(&mut self.store, self.producer, topic, records, now).map_err(failed)
    }

    /// The component's `statistics` export (README, Statistics).
    pub fn statistics(&mut self, now: u64) -> Result<wit::Statistics, EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_statistics(&mut self.store, self.producer, now).map_err(failed)
    }

    /// The largest the component's linear memory has been, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().peak_bytes
    }
}

impl driver::Engine for ComponentEngine {
    fn send_packed(&mut self, topic: &str, packed: &[u8], now: u64, refused: &mut Vec<Refusal>) -> Result<u64, EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        let outcome = p.call_send_packed(&mut self.store, self.producer, topic, packed, now).map_err(failed)?;
        refused.extend(outcome.rejected.into_iter().map(|r| Refusal { index: r.index, error: produce_error(r.error) }));
        Ok(outcome.first_id)
    }

    fn flush(&mut self, now: u64) -> Result<(), EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_flush(&mut self.store, self.producer, now).map_err(failed)
    }

    fn close(&mut self, timeout_ms: u64, now: u64) -> Result<(), EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_close(&mut self.store, self.producer, timeout_ms, now).map_err(failed)
    }

    fn connected(&mut self, conn: ConnId, _now: u64) {
        self.events.push(wit::Event::Connected(conn));
    }

    fn received(&mut self, conn: ConnId, bytes: &[u8], _now: u64) {
        // Consecutive reads of one connection go over as one.
        if let Some(wit::Event::Received((last, buf))) = self.events.last_mut() {
            if *last == conn {
                buf.extend_from_slice(bytes);
                return;
            }
        }
        self.events.push(wit::Event::Received((conn, bytes.to_vec())));
    }

    fn closed(&mut self, conn: ConnId, reason: &str, _now: u64) {
        self.events.push(wit::Event::Closed((conn, reason.to_string())));
    }

    fn step(&mut self, now: u64, out: &mut Step) -> Result<(), EngineFailed> {
        let events = std::mem::take(&mut self.events);
        let p = self.bindings.kafka_producer_producer().producer();
        let o = p.call_step(&mut self.store, self.producer, &events, now).map_err(failed)?;
        out.clear();
        out.connects.extend(o.connects.into_iter().map(|c| (c.conn, c.host, c.port)));
        out.transmits.extend(o.transmits.into_iter().map(|t| (t.conn, t.data)));
        out.closes.extend(o.closes);
        out.reports.extend(o.reports.into_iter().map(report));
        out.warnings.extend(o.warnings);
        out.statistics.extend(o.statistics);
        out.deadline = o.deadline;
        out.unreported = o.unreported;
        out.transactions.extend(o.transactions.into_iter().map(txn_result));
        Ok(())
    }

    fn transaction(&mut self, call: TxnCall, now: u64) -> Result<Result<(), core::ProduceError>, EngineFailed> {
        let p = self.bindings.kafka_producer_producer().producer();
        let (store, producer) = (&mut self.store, self.producer);
        let answer = match call {
            TxnCall::Init => p.call_init_transactions(store, producer, now),
            TxnCall::Begin => p.call_begin_transaction(store, producer),
            TxnCall::SendOffsets(offsets, group) => {
                let offsets: Vec<wit::OffsetToCommit> = offsets
                    .into_iter()
                    .map(|o| wit::OffsetToCommit { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata })
                    .collect();
                let group = wit::GroupMetadata {
                    group_id: group.group_id,
                    generation_id: group.generation_id,
                    member_id: group.member_id,
                    group_instance_id: group.group_instance_id,
                };
                p.call_send_offsets_to_transaction(store, producer, &offsets, &group, now)
            }
            TxnCall::Commit => p.call_commit_transaction(store, producer, now),
            TxnCall::Abort => p.call_abort_transaction(store, producer, now),
        };
        Ok(answer.map_err(failed)?.map_err(produce_error))
    }
}
