//! An embedding host for the `kafka:producer` engine component.
//!
//! The component does no I/O; this host does it on its behalf: it opens the
//! TCP connections the producer asks for (one reader thread per socket
//! feeding a channel), writes the bytes it hands out, feeds back what
//! arrives, and supplies the clock. [`Client`] wraps all of that behind
//! `send` / `flush` / `poll`, the way an application uses a Kafka producer.

pub mod broker;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Config, Engine as WasmEngine, ResourceLimiter, Store};

wasmtime::component::bindgen!({ world: "engine", path: "../../wit" });

pub use exports::kafka::producer::producer::{
    DeliveryReport, ErrorKind, Header, KafkaRecord, ProduceError, Rejected, SendOutcome,
};
use exports::kafka::producer::producer::{Event, Output};

/// Where `cargo build --release --target wasm32-wasip2 -p kafka-producer-component` puts the component,
/// honouring `CARGO_TARGET_DIR`; `KAFKA_PRODUCER_WASM` overrides it.
pub fn default_component_path() -> PathBuf {
    if let Ok(p) = std::env::var("KAFKA_PRODUCER_WASM") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("wasm32-wasip2/release/kafka_producer_component.wasm")
}

/// A compiled engine component, ready to instantiate many producers.
#[derive(Clone)]
pub struct Runtime {
    engine: WasmEngine,
    component: Component,
}

/// How [`Runtime::load_with_cache`] got its compiled component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// The path was itself a precompiled component (`wasmtime compile`,
    /// `Engine::precompile_component`), loaded without compiling.
    Precompiled,
    /// Served from the compile cache: this file.
    Cached(PathBuf),
    /// Compiled with Cranelift. `written` is the cache file now holding the
    /// artifact (`None`: the cache is disabled or could not be written);
    /// `rejected` says why a cache file that was there could not be used.
    Compiled { written: Option<PathBuf>, rejected: Option<String> },
}

/// Where compiled components are cached: `$KPC_CACHE/compiled`, else
/// `$XDG_CACHE_HOME/kafka-producer-component/compiled`, else
/// `$HOME/.cache/kafka-producer-component/compiled`; `None` when
/// `KPC_NO_COMPILE_CACHE` is set (to anything but empty or `0`) or no
/// such directory can be named.
pub fn compile_cache_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if std::env::var_os("KPC_NO_COMPILE_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    var("KPC_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("kafka-producer-component")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/kafka-producer-component")))
        .map(|d| d.join("compiled"))
}

fn new_engine() -> Result<WasmEngine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Ok(WasmEngine::new(&config)?)
}

/// Loads a precompiled component from `path`.
///
/// SAFETY argument (the only `unsafe` in the loader): `deserialize_file`
/// maps the file and runs its machine code as is, so the file must be an
/// artifact produced by wasmtime and not altered since. Callers pass either
/// (a) a file this host wrote into its own cache directory (created 0700,
/// written to a temp file and renamed into place, named by the engine's
/// compatibility hash and the hash of the .wasm it was compiled from), or
/// (b) a `.cwasm` the user explicitly chose to run in place of the .wasm,
/// which is exactly as trusted as this binary. wasmtime itself checks the
/// ELF header, that it is a component, and that the artifact was compiled
/// by this wasmtime version with compatible settings, and returns an error
/// (never UB) for a stale, truncated or foreign file (host-tests'
/// compile_cache tries garbage and a half file). Not guarded against: a
/// file whose code bytes were altered in place, by someone who can write
/// the cache (and so could equally replace this binary) or by disk
/// corruption; there is no checksum over the artifact.
fn deserialize_trusted(engine: &WasmEngine, path: &Path) -> Result<Component> {
    // SAFETY: see above: `path` is this host's own cache file or a
    // precompiled artifact the user supplied, and wasmtime validates its
    // header and compatibility before use.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

/// A stable 64-bit hash (SipHash-1-3 with fixed keys); a different Rust
/// release hashing differently only makes for a cache miss.
fn hash_of(h: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut s = std::hash::DefaultHasher::new();
    h.hash(&mut s);
    s.finish()
}

/// Writes `bytes` to `dest` atomically: a temp file in the same directory,
/// then a rename, so a reader sees the whole artifact or nothing.
fn write_atomically(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{}.{}.{nanos}.tmp", dest.file_name().and_then(|n| n.to_str()).unwrap_or("cwasm"), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Runtime {
    /// Loads the component at `path`, through the compile cache
    /// ([`compile_cache_dir`]). `path` may also be a precompiled component.
    pub fn load(path: &Path) -> Result<Runtime> {
        Ok(Runtime::load_with_cache(path, compile_cache_dir().as_deref())?.0)
    }

    /// Loads the component at `path`, caching the compiled artifact in
    /// `cache_dir` (`None`: no cache). A precompiled component (`.cwasm`)
    /// is loaded as is. A stale, corrupt or unreadable cache file, or a
    /// cache directory that cannot be written, falls back to compiling.
    pub fn load_with_cache(path: &Path, cache_dir: Option<&Path>) -> Result<(Runtime, LoadOutcome)> {
        let hint = "build it with `cargo build --release --target wasm32-wasip2 -p kafka-producer-component`";
        let engine = new_engine()?;
        let read_err = || format!("reading component {} ({hint})", path.display());
        // A .wasm starts with `\0asm`; a precompiled artifact is an ELF file
        // that wasmtime marks as a module or a component. Only the header is
        // read here: the artifact itself is mapped, not read.
        let mut magic = [0u8; 4];
        std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).with_context(read_err)?;
        if &magic == b"\x7fELF" {
            match WasmEngine::detect_precompiled_file(path).map_err(anyhow::Error::from).with_context(read_err)? {
                Some(wasmtime::Precompiled::Component) => {
                    let component = deserialize_trusted(&engine, path).with_context(|| {
                        format!("loading precompiled component {} (was it compiled by wasmtime 48.0.8 with default settings?)", path.display())
                    })?;
                    return Ok((Runtime { engine, component }, LoadOutcome::Precompiled));
                }
                Some(wasmtime::Precompiled::Module) => bail!("{} is a precompiled core module, not a component", path.display()),
                None => bail!("{} is an ELF file but not a wasmtime artifact", path.display()),
            }
        }
        let bytes = std::fs::read(path).with_context(read_err)?;
        let cache_file = cache_dir.map(|dir| {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("component");
            let engine_hash = hash_of(engine.precompile_compatibility_hash());
            let content_hash = hash_of((bytes.len(), &bytes[..]));
            dir.join(format!("{stem}-{engine_hash:016x}-{content_hash:016x}.cwasm"))
        });
        let mut rejected = None;
        if let Some(file) = cache_file.as_deref().filter(|f| f.is_file()) {
            match deserialize_trusted(&engine, file) {
                Ok(component) => return Ok((Runtime { engine, component }, LoadOutcome::Cached(file.to_path_buf()))),
                Err(e) => rejected = Some(format!("{e:#}")),
            }
        }
        let component = Component::from_binary(&engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling component {}", path.display()))?;
        // The same bytes `Engine::precompile_component` would give.
        let written = cache_file.filter(|f| component.serialize().is_ok_and(|art| write_atomically(f, &art).is_ok()));
        Ok((Runtime { engine, component }, LoadOutcome::Compiled { written, rejected }))
    }

    pub fn load_default() -> Result<Runtime> {
        Runtime::load(&default_component_path())
    }
}

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
