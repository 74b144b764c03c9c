//! The WIT glue of the `engine` world: translates WIT types to the core's
//! and back, nothing else. Built only for wasm32.
#![allow(unsafe_code)] // generated bindings and the allocator

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::config::Config;
use crate::producer::{Output, Producer};
use crate::record::{Header, Record};
use crate::report::{DeliveryReport, ErrorKind, ProduceError};

wit_bindgen::generate!({ world: "engine", path: "wit" });

use exports::kafka::producer::producer as wit;

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
    }
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
        if config.sasl_mechanism.is_some_and(|m| m != crate::sasl::Mechanism::Plain) && entropy.len() < 16 {
            return Err("SCRAM needs at least 16 bytes of entropy from the host in create".into());
        }
        if config.tls.is_some() && entropy.len() < 32 {
            return Err("TLS (security.protocol SSL / SASL_SSL) needs at least 32 bytes of entropy from the host in create".into());
        }
        Ok(wit::Producer::new(ProducerResource(RefCell::new(Producer::with_entropy(config, now, &entropy)))))
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
        let mut p = self.0.borrow_mut();
        let first_id = p.next_record_id();
        let mut rejected = Vec::new();
        let mut headers = Vec::new();
        let mut r = crate::wire::Reader::new(&records);
        let mut index = 0u32;
        while r.remaining() > 0 {
            match crate::packed::read(&mut r, &mut headers) {
                Ok(rec) => {
                    let rec = Record { headers: &headers, ..rec };
                    if let Err(e) = p.send(&topic, &rec, now) {
                        rejected.push(wit::Rejected { index, error: produce_error(e) });
                    }
                }
                Err(e) => {
                    p.skip_record_id();
                    let error = ProduceError::new(ErrorKind::InvalidRecord, alloc::format!("malformed packed record: {e}"));
                    rejected.push(wit::Rejected { index, error: produce_error(error) });
                    break;
                }
            }
            index += 1;
        }
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
        p.handle_timeout(now);
        let mut out = wit::Output {
            connects: Vec::new(),
            transmits: Vec::new(),
            closes: Vec::new(),
            reports: Vec::new(),
            warnings: Vec::new(),
            deadline: None,
            unreported: 0,
        };
        // Requests copy their batches: hand over at most this many bytes of
        // them per step, so the copies never hold much memory at once; the
        // deadline `now` asks the host to step again straight away.
        let mut transmit_budget = crate::producer::REQUEST_BYTES_PER_DRIVE;
        let mut more = false;
        while let Some(o) = p.poll(now) {
            match o {
                Output::Connect { conn, host, port } => out.connects.push(wit::Connect { conn, host, port }),
                Output::Transmit { conn, data } => {
                    transmit_budget = transmit_budget.saturating_sub(data.len());
                    out.transmits.push(wit::Transmit { conn, data });
                    if transmit_budget == 0 {
                        more = true;
                        break;
                    }
                }
                Output::Close { conn } => out.closes.push(conn),
                Output::Report(r) => out.reports.push(report(r)),
                Output::Warning(w) => out.warnings.push(w),
            }
        }
        out.deadline = if more { Some(now) } else { p.poll_timeout() };
        out.unreported = p.unreported();
        out
    }
}

export!(Component);
