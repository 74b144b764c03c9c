//! A Kafka producer that does no I/O.
//!
//! This crate has no networking code, reads no clock and starts no thread:
//! it is a deterministic state machine. The host hands it records, bytes
//! received, connection events and the current time; it hands back
//! connections to open, bytes to send, the next deadline and delivery
//! reports. The same core runs natively and, built for `wasm32-wasip2`, as
//! the WebAssembly component `kafka:producer/engine`, which imports nothing.
//!
//! The data's path, one module per stage:
//! [`record`] -> [`partitioner`] -> [`accumulator`] -> [`batch`] -> the
//! producer's sender -> [`request`] -> the producer's network client ->
//! (the host's I/O) -> [`response`] -> the sender and the transaction
//! manager -> [`report`]. [`producer`] wires them together (its module
//! docs are the overview); the stages outside it never call each other.
//! [`config`] reads Java / librdkafka property names; [`metadata`] is the
//! cluster view; [`connection`] one broker connection's state;
//! [`error_codes`] names every Kafka error code.
//!
//! Time: every call takes the host's `now`. The producer's timers turn it
//! into deadlines; other modules hold times they were handed (when a batch
//! was created, a connection started, a backoff ends), and the TLS
//! certificate check sees the last `now` the producer gave it
//! ([`tls::TlsSetup::set_time`]: rustls asks a time provider, so the setup
//! keeps that `now` in an atomic). Nothing reads a clock.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
// Native builds (tests, simulations, native hosts) link std for its
// allocator and panic runtime; the code itself uses only core and alloc.
#[cfg(any(not(target_arch = "wasm32"), not(feature = "component")))]
extern crate std;

#[cfg(all(target_arch = "wasm32", feature = "component", feature = "driver"))]
compile_error!("on wasm32 the `driver` feature goes without `component` (build with default-features = false)");

pub mod accumulator;
pub mod batch;
pub mod codec;
pub mod config;
pub mod connection;
#[cfg(feature = "driver")]
pub mod driver;
pub mod error_codes;
pub mod metadata;
pub mod oauthbearer;
pub mod packed;
pub mod partitioner;
pub mod producer;
pub mod record;
pub mod report;
pub mod request;
pub mod response;
pub mod sasl;
pub mod statistics;
pub mod tls;
pub mod wire;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod component;

pub use config::{Config, ConfigError};
pub use producer::{Output, Producer, TxnCall, TxnOp, TxnResult};
pub use request::{GroupMetadata, OffsetToCommit};
pub use record::{Header, Record, RecordId};
pub use report::{DeliveryReport, ErrorKind, ProduceError};
pub use statistics::Statistics;
