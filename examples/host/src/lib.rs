//! An embedding host for the `kafka:producer` engine component.
//!
//! The component does no I/O. This host drives it with the core crate's
//! driver (`kafka_producer_component::driver`), the same loop every host
//! uses: [`ComponentEngine`] makes the component a driver engine, and the
//! native socket layer (`NativeIo`, non-blocking sockets) does the I/O.
//! [`Client`] wraps that behind `send` / `flush` / `poll`, the way an
//! application uses a Kafka producer.

pub mod broker;
mod engine;
mod runtime;

pub use engine::{ComponentEngine, MemoryTracker};
pub use runtime::{compile_cache_dir, default_component_path, LoadOutcome, Runtime};

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use kafka_producer_component::driver::native::NativeIo;
use kafka_producer_component::driver::{self, Driver, EngineFailed};
pub use kafka_producer_component::driver::Stats;
pub use kafka_producer_component::packed::Packed;
pub use kafka_producer_component::{DeliveryReport, ErrorKind, GroupMetadata, OffsetToCommit, ProduceError, TxnCall};
use wasmtime::component::Linker;
use wasmtime::Store;

mod bindings {
    wasmtime::component::bindgen!({ world: "engine", path: "../../wit" });
}

pub use bindings::exports::kafka::producer::producer::{Header, KafkaRecord, Statistics};

/// Milliseconds since the Unix epoch: the clock the producer runs on.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A record `send` refused at once: its index in the call's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub index: u32,
    pub error: ProduceError,
}

/// What one `send` call did: record `i` of the call has id `first_id + i`.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub first_id: u64,
    pub rejected: Vec<Rejected>,
}

/// What `send_all` did.
#[derive(Debug, Default)]
pub struct SendAll {
    /// The id of the first record accepted.
    pub first_id: Option<u64>,
    /// Ids of the accepted records, in order.
    pub ids: Vec<u64>,
    /// Records refused for good: (index, error).
    pub rejected: Vec<(usize, ProduceError)>,
    /// Reports that arrived while waiting for room.
    pub reports: Vec<DeliveryReport>,
}

/// The driver, driving a component engine over native sockets.
pub type ComponentDriver = Driver<ComponentEngine, NativeIo>;

/// Instantiates the engine component and creates a producer in it from
/// `config` (Java / librdkafka names; `ssl.ca.location` read here), seeded
/// from the operating system's entropy, ready to drive. The outer error is
/// the host's (wasmtime, sockets); the inner one names the setting at
/// fault (`key` empty when it is not one setting: no entropy, say).
/// `allow`: the only addresses the producer may connect to (`None`: any);
/// a connect elsewhere fails like an unreachable broker.
pub fn open_driver(
    runtime: &Runtime,
    config: &[(String, String)],
    allow: Option<driver::native::AddrCheck>,
) -> Result<std::result::Result<ComponentDriver, driver::OpenError>> {
    let mut io = NativeIo::new()?;
    if let Some(allow) = allow {
        io = io.restrict(allow);
    }
    let config = match driver::host_config(config) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let seed = match driver::entropy(&mut io) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let mut store = Store::new(&runtime.engine, MemoryTracker::default());
    store.limiter(|t| t);
    let linker: Linker<MemoryTracker> = Linker::new(&runtime.engine);
    let bindings = bindings::Engine::instantiate(&mut store, &runtime.component, &linker)?;
    let created = bindings.kafka_producer_producer().producer().call_create(&mut store, &config, now_ms(), &seed)?;
    Ok(match created {
        Ok(producer) => Ok(Driver::new(ComponentEngine::new(store, bindings, producer), io)),
        Err(reason) => Err(config_error(&reason)),
    })
}

/// The component's `create` error as a structured one: it reads
/// "invalid configuration `KEY`: REASON" when one setting is at fault.
fn config_error(message: &str) -> driver::OpenError {
    let parsed = message
        .strip_prefix("invalid configuration `")
        .and_then(|rest| rest.split_once("`: "))
        .map(|(key, reason)| (key.to_string(), reason.to_string()));
    let (key, reason) = parsed.unwrap_or_else(|| (String::new(), message.to_string()));
    driver::OpenError { key, reason }
}

/// A producer instance and the I/O that drives it, for applications and
/// tests written against a client API.
pub struct Client {
    pub driver: ComponentDriver,
    /// Warnings the producer reported (dropped connections and the like).
    pub warnings: Vec<String>,
    /// Print warnings to stderr as they come.
    pub verbose: bool,
}

fn host(e: EngineFailed) -> anyhow::Error {
    anyhow::anyhow!(e)
}

impl Client {
    /// Instantiates a producer with `config`. The inner error is an
    /// invalid setting (as the component or the host words it).
    pub fn new(runtime: &Runtime, config: &[(&str, &str)]) -> Result<std::result::Result<Client, String>> {
        Client::with_allowed(runtime, config, None)
    }

    /// As `new`, reaching only the addresses `allow` accepts.
    pub fn with_allowed(
        runtime: &Runtime,
        config: &[(&str, &str)],
        allow: Option<Box<dyn Fn(&SocketAddr) -> bool>>,
    ) -> Result<std::result::Result<Client, String>> {
        let pairs: Vec<(String, String)> = config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Ok(open_driver(runtime, &pairs, allow)?.map_err(|e| e.to_string()).map(|driver| Client {
            driver,
            warnings: Vec::new(),
            verbose: false,
        }))
    }

    /// Moves the driver's warnings over, printing them if verbose.
    fn sync(&mut self) {
        for w in self.driver.take_warnings() {
            if self.verbose {
                eprintln!("warning: {w}");
            }
            self.warnings.push(w);
        }
    }

    /// I/O counters.
    pub fn stats(&self) -> Stats {
        self.driver.stats
    }

    /// The producer's statistics now (README, Statistics).
    pub fn statistics(&mut self) -> Result<Statistics> {
        let now = now_ms();
        self.driver.engine.statistics(now).map_err(host)
    }

    /// Hands records to the producer in one call of the component's
    /// `send`. Refused records are in the outcome; the others will each get
    /// one delivery report.
    pub fn send(&mut self, topic: &str, records: &[KafkaRecord]) -> Result<SendOutcome> {
        let outcome = self
            .driver
            .with_engine(|e, now| {
                let o = e.send_records(topic, records, now)?;
                let accepted = (records.len() - o.rejected.len()) as u64;
                Ok((o, accepted))
            })
            .map_err(host)?;
        self.sync();
        let rejected = outcome
            .rejected
            .into_iter()
            .map(|r| Rejected { index: r.index, error: engine::produce_error(r.error) })
            .collect();
        Ok(SendOutcome { first_id: outcome.first_id, rejected })
    }

    /// Sends everything now, ignoring linger.ms (does not wait).
    pub fn flush(&mut self) -> Result<()> {
        self.driver.flush(0).map_err(host)?;
        self.sync();
        Ok(())
    }

    /// Sends packed records, waiting while the queue is full and resending
    /// the refused tail in order (bounded by `timeout`).
    pub fn send_all_packed(&mut self, topic: &str, records: &Packed, timeout: Duration) -> Result<SendAll> {
        let sent = self.driver.send(topic, records, timeout.as_millis() as u64).map_err(host)?;
        self.sync();
        let mut out = SendAll { reports: self.driver.take_reports(), ..SendAll::default() };
        for (i, outcome) in sent.into_outcomes(records.len()).into_iter().enumerate() {
            match outcome {
                Ok(id) => {
                    out.first_id.get_or_insert(id);
                    out.ids.push(id);
                }
                Err(e) => out.rejected.push((i, e)),
            }
        }
        if out.rejected.iter().any(|(_, e)| e.kind == ErrorKind::QueueFull) {
            anyhow::bail!("queue still full after {timeout:?}");
        }
        Ok(out)
    }

    /// `send_all_packed` for records as WIT values (packed here).
    pub fn send_all(&mut self, topic: &str, records: &[KafkaRecord], timeout: Duration) -> Result<SendAll> {
        let mut packed = Packed::default();
        let mut headers = Vec::new();
        for r in records {
            headers.clear();
            headers.extend(r.headers.iter().map(|h| kafka_producer_component::Header { key: &h.key, value: h.value.as_deref() }));
            packed.push(&kafka_producer_component::Record {
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: &headers,
                partition: r.partition,
                timestamp: r.timestamp,
            });
        }
        self.send_all_packed(topic, &packed, timeout)
    }

    /// Stops the producer: sends what is left, fails what is undelivered
    /// after `timeout`, and returns every remaining report.
    pub fn close(&mut self, timeout: Duration) -> Result<Vec<DeliveryReport>> {
        self.driver.close(timeout.as_millis() as u64).map_err(host)?;
        self.sync();
        Ok(self.driver.take_reports())
    }

    /// The largest the component's linear memory has been, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.driver.engine.peak_memory()
    }

    /// A transactional call (`transactional.id`): waits up to `timeout` for
    /// its outcome. The inner error is the producer's answer.
    pub fn transaction(&mut self, call: TxnCall, timeout: Duration) -> Result<std::result::Result<(), ProduceError>> {
        let r = self.driver.transaction(call, timeout.as_millis() as u64).map_err(host)?;
        self.sync();
        Ok(r)
    }

    /// Records accepted and not yet reported.
    pub fn unreported(&self) -> u64 {
        self.driver.unreported()
    }

    /// Drives the I/O for up to `max_wait` (less once reports come) and
    /// returns the reports that came.
    pub fn poll(&mut self, max_wait: Duration) -> Result<Vec<DeliveryReport>> {
        self.driver.poll(max_wait.as_millis() as u64).map_err(host)?;
        self.sync();
        Ok(self.driver.take_reports())
    }

    /// Drives the I/O without waiting.
    pub fn step_now(&mut self) -> Result<Vec<DeliveryReport>> {
        self.poll(Duration::ZERO)
    }

    /// Flushes, then drives the I/O until every accepted record is
    /// reported or `timeout` passes. Returns the reports that came.
    pub fn flush_and_wait(&mut self, timeout: Duration) -> Result<Vec<DeliveryReport>> {
        let done = self.driver.flush(timeout.as_millis() as u64).map_err(host)?;
        self.sync();
        if !done {
            anyhow::bail!("{} record(s) still unreported after {timeout:?}", self.driver.unreported());
        }
        Ok(self.driver.take_reports())
    }
}

/// A record with a value only, the commonest kind.
pub fn value_record(value: &[u8]) -> KafkaRecord {
    KafkaRecord { key: None, value: Some(value.to_vec()), headers: Vec::new(), partition: None, timestamp: None }
}
