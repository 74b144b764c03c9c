//! An embedding host for the `kafka:producer` engine component.
//!
//! The component does no I/O; this host does it on its behalf: it opens the
//! TCP connections the producer asks for (one reader thread per socket
//! feeding a channel), writes the bytes it hands out, feeds back what
//! arrives, and supplies the clock. [`Client`] wraps all of that behind
//! `send` / `flush` / `poll`, the way an application uses a Kafka producer.

pub mod broker;
mod runtime;

pub use runtime::{compile_cache_dir, default_component_path, LoadOutcome, Runtime};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use wasmtime::component::{Linker, ResourceAny};
use wasmtime::{ResourceLimiter, Store};

wasmtime::component::bindgen!({ world: "engine", path: "../../wit" });

pub use exports::kafka::producer::producer::{
    DeliveryReport, ErrorKind, Header, KafkaRecord, ProduceError, Rejected, SendOutcome,
};
use exports::kafka::producer::producer::{Event, Output};

/// 32 random bytes from the operating system, for the producer's SCRAM
/// nonces.
pub fn entropy() -> Vec<u8> {
    let mut buf = vec![0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut buf);
    }
    buf
}

/// Milliseconds since the Unix epoch: the clock the producer runs on.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// What socket threads tell the driving thread.
enum IoEvent {
    Connected(u32, TcpStream),
    Received(u32, Vec<u8>),
    Closed(u32, String),
}

/// The host's side of the sockets.
struct Io {
    tx: Sender<IoEvent>,
    rx: Receiver<IoEvent>,
    streams: HashMap<u32, TcpStream>,
    /// Events for the next `step` that did not come through the channel.
    local: Vec<Event>,
    connect_timeout: Duration,
}

impl Io {
    fn new() -> Io {
        let (tx, rx) = channel();
        Io { tx, rx, streams: HashMap::new(), local: Vec::new(), connect_timeout: Duration::from_secs(10) }
    }

    fn connect(&mut self, conn: u32, host: String, port: u16) {
        let tx = self.tx.clone();
        let timeout = self.connect_timeout;
        std::thread::spawn(move || {
            let stream = (host.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| e.to_string())
                .and_then(|mut addrs| addrs.next().ok_or_else(|| format!("{host} resolves to no address")))
                .and_then(|addr| TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string()));
            let mut stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(IoEvent::Closed(conn, format!("connect to {host}:{port} failed: {e}")));
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            match stream.try_clone() {
                Ok(w) => {
                    if tx.send(IoEvent::Connected(conn, w)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(IoEvent::Closed(conn, e.to_string()));
                    return;
                }
            }
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => {
                        let _ = tx.send(IoEvent::Closed(conn, "closed by the broker".into()));
                        return;
                    }
                    Ok(n) => {
                        if tx.send(IoEvent::Received(conn, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(IoEvent::Closed(conn, e.to_string()));
                        return;
                    }
                }
            }
        });
    }

    fn transmit(&mut self, conn: u32, data: &[u8]) {
        let Some(s) = self.streams.get_mut(&conn) else { return };
        if let Err(e) = s.write_all(data) {
            let _ = s.shutdown(Shutdown::Both);
            self.streams.remove(&conn);
            self.local.push(Event::Closed((conn, format!("write failed: {e}"))));
        }
    }

    fn close(&mut self, conn: u32) {
        if let Some(s) = self.streams.remove(&conn) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn accept(&mut self, e: IoEvent, events: &mut Vec<Event>) {
        match e {
            IoEvent::Connected(c, s) => {
                self.streams.insert(c, s);
                events.push(Event::Connected(c));
            }
            IoEvent::Received(c, b) => {
                // Merge consecutive reads of one connection: fewer, larger
                // crossings of the component boundary.
                if let Some(Event::Received((last, buf))) = events.last_mut() {
                    if *last == c {
                        buf.extend_from_slice(&b);
                        return;
                    }
                }
                events.push(Event::Received((c, b)));
            }
            IoEvent::Closed(c, why) => {
                self.streams.remove(&c);
                events.push(Event::Closed((c, why)));
            }
        }
    }

    /// Waits until `deadline` for socket events and returns all that came.
    fn wait(&mut self, deadline: Instant) -> Vec<Event> {
        let mut events = std::mem::take(&mut self.local);
        if events.is_empty() {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(e) => self.accept(e, &mut events),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
        }
        while let Ok(e) = self.rx.try_recv() {
            self.accept(e, &mut events);
        }
        events
    }
}

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

/// Counters a host may print.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub steps: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connects: u64,
}

/// A producer instance and the I/O that drives it.
pub struct Client {
    store: Store<MemoryTracker>,
    bindings: Engine,
    producer: ResourceAny,
    io: Io,
    deadline: Option<u64>,
    unreported: u64,
    /// Warnings the producer reported (dropped connections and the like).
    pub warnings: Vec<String>,
    pub stats: Stats,
    /// Print warnings to stderr as they come.
    pub verbose: bool,
}

/// The producer's configuration with what only a host can do done: the
/// file `ssl.ca.location` names is read and passed as `ssl.ca.pem` (the
/// component reads no files).
pub fn host_config(config: &[(&str, &str)]) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(config.len());
    let has_pem = config.iter().any(|(k, _)| k.trim() == "ssl.ca.pem");
    for (k, v) in config {
        if k.trim() == "ssl.ca.location" && !has_pem {
            let pem = std::fs::read_to_string(v.trim())
                .map_err(|e| format!("invalid configuration `ssl.ca.location`: cannot read {}: {e}", v.trim()))?;
            out.push(("ssl.ca.pem".into(), pem));
        } else {
            out.push((k.to_string(), v.to_string()));
        }
    }
    Ok(out)
}

impl Client {
    /// Instantiates a producer with `config` (Java / librdkafka property
    /// names). The inner error is the component's: an invalid setting.
    pub fn new(runtime: &Runtime, config: &[(&str, &str)]) -> Result<std::result::Result<Client, String>> {
        let mut store = Store::new(&runtime.engine, MemoryTracker::default());
        store.limiter(|t| t);
        let linker: Linker<MemoryTracker> = Linker::new(&runtime.engine);
        let bindings = Engine::instantiate(&mut store, &runtime.component, &linker)?;
        let config = match host_config(config) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let created = bindings.kafka_producer_producer().producer().call_create(&mut store, &config, now_ms(), &entropy())?;
        Ok(created.map(|producer| Client {
            store,
            bindings,
            producer,
            io: Io::new(),
            deadline: None,
            unreported: 0,
            warnings: Vec::new(),
            stats: Stats::default(),
            verbose: false,
        }))
    }

    /// Hands records to the producer in one call. Refused records are in
    /// the outcome; the others will each get one delivery report.
    pub fn send(&mut self, topic: &str, records: &[KafkaRecord]) -> Result<SendOutcome> {
        let p = self.bindings.kafka_producer_producer().producer();
        let outcome = p.call_send(&mut self.store, self.producer, topic, records, now_ms())?;
        self.unreported += (records.len() - outcome.rejected.len()) as u64;
        Ok(outcome)
    }

    /// Sends everything now, ignoring linger.ms.
    pub fn flush(&mut self) -> Result<()> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_flush(&mut self.store, self.producer, now_ms())?;
        Ok(())
    }

    /// Hands packed records to the producer in one call (`send-packed`).
    pub fn send_packed(&mut self, topic: &str, records: &Packed, from: usize) -> Result<SendOutcome> {
        let p = self.bindings.kafka_producer_producer().producer();
        let bytes = &records.buf[records.offsets.get(from).copied().unwrap_or(records.buf.len())..];
        let outcome = p.call_send_packed(&mut self.store, self.producer, topic, bytes, now_ms())?;
        self.unreported += (records.len() - from - outcome.rejected.len()) as u64;
        Ok(outcome)
    }

    /// `send_all` for packed records: waits while the queue is full and
    /// resends the refused tail, in order.
    pub fn send_all_packed(&mut self, topic: &str, records: &Packed, timeout: Duration) -> Result<SendAll> {
        self.send_waiting(records.len(), timeout, |c, from| c.send_packed(topic, records, from))
    }

    /// Sends every record, waiting while the producer's queue is full
    /// (like the Java client's blocking `send`, bounded by `timeout`):
    /// the refused tail of a call is resent, in order, once reports have
    /// freed room. Returns the records refused for other reasons, as
    /// (index into `records`, error), and the reports that came meanwhile.
    pub fn send_all(&mut self, topic: &str, records: &[KafkaRecord], timeout: Duration) -> Result<SendAll> {
        self.send_waiting(records.len(), timeout, |c, from| c.send(topic, &records[from..]))
    }

    /// The queue-full loop of `send_all`: `send_from(client, i)` sends
    /// records `i..` of `n` and returns the outcome.
    fn send_waiting(
        &mut self,
        n: usize,
        timeout: Duration,
        mut send_from: impl FnMut(&mut Client, usize) -> Result<SendOutcome>,
    ) -> Result<SendAll> {
        let end = Instant::now() + timeout;
        let mut out = SendAll::default();
        let mut from = 0;
        while from < n {
            let outcome = send_from(self, from)?;
            out.first_id.get_or_insert(outcome.first_id);
            let full = outcome.rejected.iter().find(|r| r.error.kind == ErrorKind::QueueFull).map(|r| r.index as usize);
            for r in outcome.rejected.iter().filter(|r| Some(r.index as usize) < full.or(Some(usize::MAX))) {
                out.rejected.push((from + r.index as usize, r.error.clone()));
            }
            out.ids.extend((0..full.unwrap_or(n - from)).map(|i| outcome.first_id + i as u64));
            match full {
                None => from = n,
                Some(i) => {
                    from += i;
                    if Instant::now() > end {
                        return Err(anyhow!("queue still full after {timeout:?}"));
                    }
                    out.reports.extend(self.poll(Duration::from_millis(20))?);
                }
            }
        }
        Ok(out)
    }

    /// Stops the producer: sends what is left, fails what is undelivered
    /// after `timeout`, and returns every remaining report.
    pub fn close(&mut self, timeout: Duration) -> Result<Vec<DeliveryReport>> {
        let p = self.bindings.kafka_producer_producer().producer();
        p.call_close(&mut self.store, self.producer, timeout.as_millis() as u64, now_ms())?;
        let mut reports = self.step_now()?;
        while self.unreported > 0 {
            reports.extend(self.poll(Duration::from_millis(100))?);
        }
        Ok(reports)
    }

    /// The largest the component's linear memory has been, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().peak_bytes
    }

    /// Records accepted and not yet reported.
    pub fn unreported(&self) -> u64 {
        self.unreported
    }

    /// One turn of the event loop: gives the producer the socket events
    /// that arrived (waiting at most `max_wait`, less if the producer has
    /// an earlier deadline), carries out what it asks, returns its reports.
    pub fn poll(&mut self, max_wait: Duration) -> Result<Vec<DeliveryReport>> {
        let mut wait_until = Instant::now() + max_wait;
        if let Some(d) = self.deadline {
            let until_deadline = Duration::from_millis(d.saturating_sub(now_ms()));
            wait_until = wait_until.min(Instant::now() + until_deadline);
        }
        let events = self.io.wait(wait_until);
        self.step(events)
    }

    /// Steps the producer without waiting.
    pub fn step_now(&mut self) -> Result<Vec<DeliveryReport>> {
        let events = self.io.wait(Instant::now());
        self.step(events)
    }

    fn step(&mut self, events: Vec<Event>) -> Result<Vec<DeliveryReport>> {
        for e in &events {
            if let Event::Received((_, b)) = e {
                self.stats.bytes_received += b.len() as u64;
            }
        }
        let p = self.bindings.kafka_producer_producer().producer();
        let out: Output = p.call_step(&mut self.store, self.producer, &events, now_ms())?;
        self.stats.steps += 1;
        for c in out.connects {
            self.stats.connects += 1;
            self.io.connect(c.conn, c.host, c.port);
        }
        for t in &out.transmits {
            self.stats.bytes_sent += t.data.len() as u64;
            self.io.transmit(t.conn, &t.data);
        }
        for c in out.closes {
            self.io.close(c);
        }
        for w in out.warnings {
            if self.verbose {
                eprintln!("warning: {w}");
            }
            self.warnings.push(w);
        }
        self.deadline = out.deadline;
        self.unreported = out.unreported;
        Ok(out.reports)
    }

    /// Flushes, then polls until every accepted record is reported or
    /// `timeout` passes. Returns the reports that came.
    pub fn flush_and_wait(&mut self, timeout: Duration) -> Result<Vec<DeliveryReport>> {
        self.flush()?;
        let end = Instant::now() + timeout;
        let mut reports = self.step_now()?;
        while self.unreported > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(anyhow!("{} record(s) still unreported after {timeout:?}", self.unreported));
            }
            reports.extend(self.poll(left.min(Duration::from_millis(100)))?);
        }
        Ok(reports)
    }
}

/// Records packed for `send-packed`, with where each one starts.
#[derive(Default)]
pub struct Packed {
    buf: Vec<u8>,
    offsets: Vec<usize>,
}

impl Packed {
    pub fn push(&mut self, rec: &kafka_producer_component::Record<'_>) {
        self.offsets.push(self.buf.len());
        kafka_producer_component::packed::write(&mut self.buf, rec);
    }
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
    pub fn clear(&mut self) {
        self.buf.clear();
        self.offsets.clear();
    }
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
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

/// A record with a value only, the commonest kind.
pub fn value_record(value: &[u8]) -> KafkaRecord {
    KafkaRecord { key: None, value: Some(value.to_vec()), headers: Vec::new(), partition: None, timestamp: None }
}
