//! A host for the `client` world: wasmtime with `wasmtime-wasi` (WASI 0.2)
//! linked and nothing else, network allowed to 127.0.0.1 only. The
//! component does its own I/O; the host only calls its exports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use wasmtime::component::{Component, Linker, Resource, ResourceAny, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::io::poll::HostPollable;
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    world: "client",
    path: "../wit",
    with: { "wasi": wasmtime_wasi::p2::bindings::sync },
    require_store_data_send: true,
});

pub use exports::kafka::producer::client_producer::ConfigError;
pub use kafka::producer::producer::{DeliveryReport, ErrorKind, Header, KafkaRecord, ProduceError, Statistics};

/// The address the host lets the component reach.
pub const ALLOWED: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub struct State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

/// `$KAFKA_PRODUCER_CLIENT_WASM`, else where `scripts/build.sh` puts it.
pub fn client_wasm() -> PathBuf {
    if let Ok(p) = std::env::var("KAFKA_PRODUCER_CLIENT_WASM") {
        return p.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    PathBuf::from(target).join("client/wasm32-wasip2/release/kafka_producer_client.wasm")
}

fn loaded() -> &'static (Engine, Component, Linker<State>) {
    static LOADED: OnceLock<(Engine, Component, Linker<State>)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).expect("engine");
        let path = client_wasm();
        let component = Component::from_file(&engine, &path)
            .map_err(|e| anyhow!("loading {} (run scripts/build.sh): {e}", path.display()))
            .unwrap();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
        (engine, component, linker)
    })
}

/// The host's rule: TCP connects to `ALLOWED` only. A connect first binds
/// implicitly to the wildcard address, port 0, which wasmtime-wasi checks
/// too (`TcpBind`); that alone is allowed. No listening, no UDP.
pub fn allowed(addr: SocketAddr, use_: SocketAddrUse) -> bool {
    match use_ {
        SocketAddrUse::TcpConnect => addr.ip() == ALLOWED,
        SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
        _ => false,
    }
}

/// One instance of the client component, and (once opened) its producer.
pub struct ClientHost {
    store: Store<State>,
    bindings: Client,
    producer: Option<ResourceAny>,
}

impl ClientHost {
    /// An instance whose TCP connects may reach `ALLOWED` only; no
    /// preopened directories, no stdio, no name lookups.
    pub fn new() -> Result<ClientHost> {
        ClientHost::build(None)
    }

    /// As `new`, with the host directory `dir` readable by the component
    /// at `guest` (for `ssl.ca.location`).
    pub fn with_dir(dir: &Path, guest: &str) -> Result<ClientHost> {
        ClientHost::build(Some((dir, guest)))
    }

    fn build(dir: Option<(&Path, &str)>) -> Result<ClientHost> {
        let (engine, component, linker) = loaded();
        let mut builder = WasiCtxBuilder::new();
        builder
            .allow_tcp(true)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|addr, use_| Box::pin(async move { allowed(addr, use_) }));
        if let Some((dir, guest)) = dir {
            builder.preopened_dir(dir, guest, FsPerms::ReadOnly)?;
        }
        let ctx = builder.build();
        let mut store = Store::new(engine, State { ctx, table: ResourceTable::new() });
        let bindings = Client::instantiate(&mut store, component, linker)?;
        Ok(ClientHost { store, bindings, producer: None })
    }

    fn producer(&self) -> ResourceAny {
        self.producer.expect("open first")
    }

    /// `open`: the component's structured error when it refuses.
    pub fn open(&mut self, config: &[(&str, &str)]) -> Result<Result<(), ConfigError>> {
        let config: Vec<(String, String)> = config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match self.bindings.kafka_producer_client_producer().producer().call_open(&mut self.store, &config)? {
            Ok(p) => {
                self.producer = Some(p);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    pub fn set_oauthbearer_token(&mut self, token: &str, lifetime_ms: u64, extensions: &[(String, String)]) -> Result<Result<(), ConfigError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_set_oauthbearer_token(&mut self.store, p, token, lifetime_ms, extensions)?)
    }

    pub fn send(&mut self, topic: &str, record: &KafkaRecord) -> Result<Result<u64, ProduceError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_send(&mut self.store, p, topic, record)?)
    }

    pub fn send_batch(&mut self, topic: &str, records: &[KafkaRecord]) -> Result<Vec<Result<u64, ProduceError>>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_send_batch(&mut self.store, p, topic, records)?)
    }

    pub fn poll_reports(&mut self, timeout_ms: u64) -> Result<Vec<DeliveryReport>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_poll_reports(&mut self.store, p, timeout_ms)?)
    }

    pub fn flush(&mut self, timeout_ms: u64) -> Result<bool> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_flush(&mut self.store, p, timeout_ms)?)
    }

    pub fn close(&mut self, timeout_ms: u64) -> Result<Vec<DeliveryReport>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_close(&mut self.store, p, timeout_ms)?)
    }

    pub fn statistics(&mut self) -> Result<Statistics> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_statistics(&mut self.store, p)?)
    }

    pub fn poll_statistics(&mut self) -> Result<Vec<String>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_poll_statistics(&mut self.store, p)?)
    }

    pub fn init_transactions(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_init_transactions(&mut self.store, p, timeout_ms)?)
    }

    pub fn begin_transaction(&mut self) -> Result<Result<(), ProduceError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_begin_transaction(&mut self.store, p)?)
    }

    pub fn commit_transaction(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_commit_transaction(&mut self.store, p, timeout_ms)?)
    }

    pub fn abort_transaction(&mut self, timeout_ms: u64) -> Result<Result<(), ProduceError>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_abort_transaction(&mut self.store, p, timeout_ms)?)
    }

    pub fn subscribe(&mut self) -> Result<Resource<DynPollable>> {
        let p = self.producer();
        Ok(self.bindings.kafka_producer_client_producer().producer().call_subscribe(&mut self.store, p)?)
    }

    /// Whether a pollable from `subscribe` is ready, without waiting.
    /// wasmtime-wasi's timer for a time already past reports not ready the
    /// first time it is asked (it yields to its runtime once), so this asks
    /// twice.
    pub fn ready(&mut self, pollable: &Resource<DynPollable>) -> Result<bool> {
        for _ in 0..2 {
            let r = Resource::new_borrow(pollable.rep());
            if HostPollable::ready(&mut self.store.data_mut().table, r)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Waits until a pollable from `subscribe` is ready.
    pub fn block(&mut self, pollable: &Resource<DynPollable>) -> Result<()> {
        let r = Resource::new_borrow(pollable.rep());
        Ok(HostPollable::block(&mut self.store.data_mut().table, r)?)
    }

    pub fn drop_pollable(&mut self, pollable: Resource<DynPollable>) -> Result<()> {
        Ok(HostPollable::drop(&mut self.store.data_mut().table, pollable)?)
    }

    /// Drops the producer resource (its destructor runs in the component).
    pub fn drop_producer(&mut self) -> Result<()> {
        if let Some(p) = self.producer.take() {
            p.resource_drop(&mut self.store)?;
        }
        Ok(())
    }
}

/// A record of the engine world's host types as the client world's.
pub fn to_client(r: &crate::KafkaRecord) -> KafkaRecord {
    KafkaRecord {
        key: r.key.clone(),
        value: r.value.clone(),
        headers: r.headers.iter().map(|h| Header { key: h.key.clone(), value: h.value.clone() }).collect(),
        partition: r.partition,
        timestamp: r.timestamp,
    }
}

/// A report of the client world as the engine world's host type, for
/// `verify`.
pub fn to_host(r: DeliveryReport) -> crate::DeliveryReport {
    crate::DeliveryReport {
        topic: r.topic,
        partition: r.partition,
        base_offset: r.base_offset,
        log_append_time_ms: r.log_append_time,
        records: r.records,
        error: r.error.map(|e| crate::ProduceError { kind: to_host_kind(e.kind), code: e.code, message: e.message }),
    }
}

fn to_host_kind(k: ErrorKind) -> crate::ErrorKind {
    use crate::ErrorKind as H;
    match k {
        ErrorKind::Broker => H::Broker,
        ErrorKind::TimedOut => H::TimedOut,
        ErrorKind::RecordTooLarge => H::RecordTooLarge,
        ErrorKind::InvalidPartition => H::InvalidPartition,
        ErrorKind::TopicFailed => H::TopicFailed,
        ErrorKind::InvalidRecord => H::InvalidRecord,
        ErrorKind::QueueFull => H::QueueFull,
        ErrorKind::Closed => H::Closed,
        ErrorKind::Authentication => H::Authentication,
        ErrorKind::Transaction => H::Transaction,
        ErrorKind::Aborted => H::Aborted,
        ErrorKind::Fatal => H::Fatal,
    }
}
