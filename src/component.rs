//! The WIT glue of the `engine` world: translates WIT types to the core's
//! and back, nothing else. Built only for wasm32.
#![allow(unsafe_code)] // generated bindings and the allocator

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::config::Config;
use crate::producer::{Producer, Step, TxnCall, TxnOp, TxnResult};
use crate::request::{GroupMetadata, OffsetToCommit};
use crate::record::{Header, Record};
use crate::report::{DeliveryReport, ErrorKind, ProduceError};

wit_bindgen::generate!({ world: "engine", path: "wit" });

use exports::kafka::producer::producer as wit;

crate::statistics_into_wit!(wit);

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic would trap and lose every record in the instance; the core is
/// written not to panic, and this only ends the instance if it ever did.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// Without std there is no libc: `memcpy` and `memset` compile to wasm's
/// bulk-memory instructions, but comparisons still call `memcmp`/`bcmp`.
///
/// # Safety
/// `a` and `b` must be valid for `n` bytes of reads (the compiler's contract).
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// As `memcmp`.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}

/// The canonical ABI's allocator entry point: the host calls it to place
/// lists and strings in our memory. With no_std we export it ourselves.
///
/// # Safety
/// Called by the host per the canonical ABI: `old_ptr`/`old_len`/`align`
/// describe an earlier allocation from this function, or `old_len` is 0.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    use alloc::alloc::{alloc, realloc, Layout};
    if new_len == 0 {
        return align as *mut u8;
    }
    let ptr = if old_len == 0 {
        alloc(Layout::from_size_align_unchecked(new_len, align))
    } else {
        realloc(old_ptr, Layout::from_size_align_unchecked(old_len, align), new_len)
    };
    if ptr.is_null() {
        // Out of memory: nothing sensible can continue.
        core::arch::wasm32::unreachable();
    }
    ptr
}

struct Component;

impl wit::Guest for Component {
    type Producer = ProducerResource;
}

struct ProducerResource(RefCell<Producer>);

fn error_kind(k: ErrorKind) -> wit::ErrorKind {
    match k {
        ErrorKind::Broker => wit::ErrorKind::Broker,
        ErrorKind::TimedOut => wit::ErrorKind::TimedOut,
        ErrorKind::RecordTooLarge => wit::ErrorKind::RecordTooLarge,
        ErrorKind::InvalidPartition => wit::ErrorKind::InvalidPartition,
        ErrorKind::TopicFailed => wit::ErrorKind::TopicFailed,
        ErrorKind::InvalidRecord => wit::ErrorKind::InvalidRecord,
        ErrorKind::QueueFull => wit::ErrorKind::QueueFull,
        ErrorKind::Closed => wit::ErrorKind::Closed,
        ErrorKind::Authentication => wit::ErrorKind::Authentication,
        ErrorKind::Transaction => wit::ErrorKind::Transaction,
        ErrorKind::Aborted => wit::ErrorKind::Aborted,
        ErrorKind::Fatal => wit::ErrorKind::Fatal,
    }
}

fn txn_result(r: TxnResult) -> wit::TransactionResult {
    let op = match r.op {
        TxnOp::Init => wit::TransactionOp::Init,
        TxnOp::SendOffsets => wit::TransactionOp::SendOffsets,
        TxnOp::Commit => wit::TransactionOp::Commit,
        TxnOp::Abort => wit::TransactionOp::Abort,
    };
    wit::TransactionResult { op, error: r.error.map(produce_error) }
}

fn produce_error(e: ProduceError) -> wit::ProduceError {
    wit::ProduceError { kind: error_kind(e.kind), code: e.code, message: e.message }
}

fn report(r: DeliveryReport) -> wit::DeliveryReport {
    wit::DeliveryReport {
        topic: r.topic,
        partition: r.partition,
        base_offset: r.base_offset,
        log_append_time: r.log_append_time_ms,
        records: r.records,
        error: r.error.map(produce_error),
    }
}

impl wit::GuestProducer for ProducerResource {
    fn create(config: Vec<(String, String)>, now: u64, entropy: Vec<u8>) -> Result<wit::Producer, String> {
        let config = Config::from_pairs(config.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| alloc::format!("{e}"))?;
        let producer = Producer::seeded(config, now, &entropy)?;
        Ok(wit::Producer::new(ProducerResource(RefCell::new(producer))))
    }

    fn send(&self, topic: String, records: Vec<wit::KafkaRecord>, now: u64) -> wit::SendOutcome {
        let mut p = self.0.borrow_mut();
        let first_id = p.next_record_id();
        let mut rejected = Vec::new();
        let mut headers: Vec<Header<'_>> = Vec::new();
        for (i, r) in records.iter().enumerate() {
            headers.clear();
            headers.extend(r.headers.iter().map(|h| Header { key: &h.key, value: h.value.as_deref() }));
            let rec = Record {
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: &headers,
                partition: r.partition,
                timestamp: r.timestamp,
            };
            if let Err(e) = p.send(&topic, &rec, now) {
                rejected.push(wit::Rejected { index: i as u32, error: produce_error(e) });
            }
        }
        wit::SendOutcome { first_id, rejected }
    }

    fn send_packed(&self, topic: String, records: Vec<u8>, now: u64) -> wit::SendOutcome {
        let mut refused = Vec::new();
        let first_id = self.0.borrow_mut().send_packed(&topic, &records, now, &mut refused);
        let rejected = refused.into_iter().map(|r| wit::Rejected { index: r.index, error: produce_error(r.error) }).collect();
        wit::SendOutcome { first_id, rejected }
    }

    fn flush(&self, _now: u64) {
        self.0.borrow_mut().flush();
    }

    fn close(&self, timeout_ms: u64, now: u64) {
        self.0.borrow_mut().close(now, timeout_ms);
    }

    fn step(&self, events: Vec<wit::Event>, now: u64) -> wit::Output {
        let mut p = self.0.borrow_mut();
        for e in events {
            match e {
                wit::Event::Connected(c) => p.handle_connected(c, now),
                wit::Event::Received((c, bytes)) => p.handle_received(c, &bytes, now),
                wit::Event::Closed((c, why)) => p.handle_closed(c, &why, now),
            }
        }
        let mut step = Step::default();
        p.step(now, &mut step);
        wit::Output {
            connects: step.connects.into_iter().map(|(conn, host, port)| wit::Connect { conn, host, port }).collect(),
            transmits: step.transmits.into_iter().map(|(conn, data)| wit::Transmit { conn, data }).collect(),
            closes: step.closes,
            reports: step.reports.into_iter().map(report).collect(),
            warnings: step.warnings,
            statistics: step.statistics,
            deadline: step.deadline,
            unreported: step.unreported,
            transactions: step.transactions.into_iter().map(txn_result).collect(),
        }
    }

    fn statistics(&self, now: u64) -> wit::Statistics {
        statistics_into_wit(self.0.borrow().statistics(now))
    }

    fn init_transactions(&self, _now: u64) -> Result<(), wit::ProduceError> {
        self.transaction(TxnCall::Init)
    }

    fn begin_transaction(&self) -> Result<(), wit::ProduceError> {
        self.transaction(TxnCall::Begin)
    }

    fn send_offsets_to_transaction(&self, offsets: Vec<wit::OffsetToCommit>, group: wit::GroupMetadata, _now: u64) -> Result<(), wit::ProduceError> {
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
        self.transaction(TxnCall::SendOffsets(offsets, group))
    }

    fn commit_transaction(&self, _now: u64) -> Result<(), wit::ProduceError> {
        self.transaction(TxnCall::Commit)
    }

    fn abort_transaction(&self, _now: u64) -> Result<(), wit::ProduceError> {
        self.transaction(TxnCall::Abort)
    }

    fn set_oauthbearer_token(&self, token: String, lifetime: u64, extensions: Vec<(String, String)>, now: u64) -> Result<(), String> {
        self.0.borrow_mut().set_oauthbearer_token(&token, lifetime, &extensions, now).map_err(|e| alloc::format!("{e}"))
    }
}

impl ProducerResource {
    fn transaction(&self, call: TxnCall) -> Result<(), wit::ProduceError> {
        self.0.borrow_mut().transaction(call).map_err(produce_error)
    }
}

export!(Component);
