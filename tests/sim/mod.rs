//! A simulated Kafka cluster for the sans-I/O core: brokers that speak the
//! protocol (ApiVersions, Metadata, InitProducerId, Produce) over simulated
//! connections, a simulated clock, and hooks for faults. Everything is
//! deterministic; a whole scenario runs in microseconds.
//!
//! The brokers are independent of the producer's code: they decode
//! requests and record batches with the `kafka-protocol` crate
//! (`broker.rs`, `records.rs`), and the test keeps its own account of what
//! it sent (`oracle.rs`), so a bug the producer's encoder and decoder
//! share cannot cancel out.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code, unused_imports)]

mod broker;
mod coordinator;
pub mod network;
mod oracle;
mod records;
pub mod txn;

use std::collections::{BTreeMap, HashMap, VecDeque};

use kafka_producer_component::{Config, DeliveryReport, Output, Producer, RecordId};

pub use broker::{check_sequence, last_seq, next_seq, DEDUP_WINDOW};
pub use coordinator::{Marker, SimTxn, TxnFault};
pub use oracle::{java_partition, murmur2, Rng, Sent};
pub use records::Stored;

/// What a broker remembers of one producer on one partition.
#[derive(Debug, Clone, Default)]
pub struct ProducerState {
    pub epoch: i16,
    pub last_seq: i32,
    /// (first sequence, last sequence, base offset) of the batches kept
    /// for deduplication (the last `dedup_window`).
    pub recent: VecDeque<(i32, i32, i64)>,
    /// Every (first, last) sequence range written in this epoch: a retry
    /// of one older than the window gets DUPLICATE_SEQUENCE_NUMBER.
    pub written: Vec<(i32, i32)>,
}

#[derive(Debug, Clone)]
pub struct SimPartition {
    pub leader: i32,
    pub epoch: i32,
    pub log: Vec<Stored>,
    /// Records before this were deleted by retention.
    pub log_start: usize,
    pub producers: HashMap<i64, ProducerState>,
    /// Offsets [start, end) written by a transactional producer (its id).
    pub txn_ranges: Vec<(usize, usize, i64)>,
    /// Control markers: where each transaction ended, and how.
    pub markers: Vec<Marker>,
}

/// What a broker does with the next Produce request for a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this error code; do not append.
    Error(i16),
    /// Drop the connection before appending.
    DropBefore,
    /// Append, then drop the connection before answering (the classic
    /// duplicate case without idempotence).
    DropAfter,
    /// Retention deletes the whole log first, and with it every producer's
    /// state (Kafka rebuilds that state from the log, so it is lost only
    /// with the batches it describes): the next batch of a producer gets
    /// UNKNOWN_PRODUCER_ID.
    LoseProducerState,
    /// Append, then answer only after this many ms (past the request
    /// timeout the producer gives up on the connection). Later responses
    /// on the connection wait behind it, as on a real broker.
    Stall(u64),
    /// Append, and ask the producer to pause this many ms (quota throttling).
    Throttle(u64),
    /// Append, then answer with this error code: REQUEST_TIMED_OUT or
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND, which a leader gives after it
    /// appended (replication did not complete in time).
    AppendThenError(i16),
}

struct SimConn {
    node: i32,
    inbuf: Vec<u8>,
    /// The broker's side of the TLS session, when the cluster speaks TLS.
    tls: Option<rustls::ServerConnection>,
    /// Responses not yet sent, in request order. A stalled one holds back
    /// those behind it.
    outbox: VecDeque<Response>,
}

/// A response a broker has made.
struct Response {
    ready_at: u64,
    frame: Vec<u8>,
    /// The throttle it carries: (node, until).
    throttle: Option<(i32, u64)>,
    /// Error codes it gives records: (test record number, code).
    answers: Vec<(usize, i16)>,
}

pub struct Sim {
    pub now: u64,
    pub brokers: BTreeMap<i32, u16>,
    pub topics: BTreeMap<String, Vec<SimPartition>>,
    conns: HashMap<u32, SimConn>,
    /// Bytes for the producer: responses (encrypted on the way when the
    /// connection speaks TLS), or raw bytes (TLS records, junk).
    to_producer: VecDeque<(u32, ToProducer)>,
    /// Brokers terminate TLS with this configuration (rustls with ring, a
    /// crypto implementation independent of the producer's).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Per broker, a TLS configuration in place of `tls` (a broker whose
    /// certificate differs from the others').
    pub tls_by_node: HashMap<i32, std::sync::Arc<rustls::ServerConfig>>,
    /// TLS errors the brokers saw.
    pub tls_errors: Vec<String>,
    pub connects: usize,
    /// Split responses into pieces of at most this many bytes (partial reads).
    pub fragment: Option<usize>,
    /// Milliseconds between a request and its response, so records can be
    /// sent while batches are in flight.
    pub latency_ms: u64,
    pub supports_idempotence: bool,
    next_producer_id: i64,
    pub faults_injected: usize,
    current_cid: i32,
    /// conn -> (throttled until, highest correlation id seen when the
    /// producer read the throttled response).
    throttled_until: HashMap<u32, (u64, i32)>,
    throttle_pending: Option<(i32, u64)>,
    corrupted: std::collections::HashSet<u32>,
    max_cid_seen: i32,
    /// Produce requests a broker received while it had the producer throttled.
    pub throttle_violations: usize,
    /// Requests over max.request.size, batches over message.max.bytes:
    /// each is answered as Kafka would and noted here.
    pub violations: Vec<String>,
    connecting: VecDeque<u32>,
    closing: VecDeque<(u32, String)>,
    /// Faults to apply, per (topic, partition), in order.
    pub faults: HashMap<(String, i32), VecDeque<Fault>>,
    /// Error codes for the next InitProducerId requests, in order.
    pub init_faults: VecDeque<i16>,
    /// The broker that coordinates every transaction and group.
    pub coordinator_node: i32,
    /// Faults for the next transactional requests, by API key.
    pub txn_faults: HashMap<i16, VecDeque<TxnFault>>,
    /// The coordinator's transactions, by transactional id.
    pub transactions: HashMap<String, SimTxn>,
    /// Committed consumer offsets: (group, topic, partition) -> offset.
    pub group_offsets: HashMap<(String, String, i32), i64>,
    /// Every EndTxn that ended a transaction: commit (true) or abort.
    pub txn_outcomes: Vec<bool>,
    /// Transactional InitProducerId requests granted.
    pub inits: usize,
    /// Outcomes of the producer's transactional calls, as they came.
    pub txn_results: Vec<kafka_producer_component::TxnResult>,
    /// A fatal InitProducerId error the brokers gave, if any.
    pub fatal_init: Option<i16>,
    /// Batches per producer and partition kept for deduplication.
    pub dedup_window: usize,
    /// Move a partition's leadership once it receives a produce request:
    /// (topic, partition) -> new leader; the old leader answers
    /// NOT_LEADER_OR_FOLLOWER with a KIP-951 CurrentLeader.
    pub move_leader: HashMap<(String, i32), i32>,
    /// Highest Produce and Metadata versions the brokers advertise.
    pub max_produce_version: i16,
    pub max_metadata_version: i16,
    /// Per-partition codes for the next TxnOffsetCommit (partition, code);
    /// partitions not named are committed.
    pub txn_offset_partition_codes: Vec<(i32, i16)>,
    /// Highest TxnOffsetCommit version the brokers advertise.
    pub max_txn_offset_commit_version: i16,
    /// Versions the producer used, as seen by the brokers.
    pub produce_versions_seen: Vec<i16>,
    pub metadata_versions_seen: Vec<i16>,
    pub metadata_requests: usize,
    pub produce_requests: usize,
    /// Bytes of the RecordBatches the brokers appended (as sent: framing
    /// and compression included), and their records.
    pub appended_batch_bytes: u64,
    pub appended_records: u64,
    /// The statistics JSON lines the producer emitted, in order (the
    /// driver's `on_statistics`).
    pub statistics: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    /// Limits the brokers enforce (a test that sets the producer's must set these).
    pub max_request_size: usize,
    pub message_max_bytes: usize,
    /// A topic-level limit below the producer's (max.message.bytes on the
    /// topic): larger batches get MESSAGE_TOO_LARGE.
    pub topic_max_message_bytes: Option<usize>,
    pub reports: Vec<DeliveryReport>,
    /// The simulated time each report was polled.
    pub report_times: Vec<u64>,
    pub warnings: Vec<String>,
    /// The oracle (oracle.rs): the test's records, by the test's number.
    pub sent: Vec<Sent>,
    by_content: HashMap<Stored, usize>,
    by_producer_id: HashMap<RecordId, usize>,
    /// Error codes the producer received, per test record number.
    pub answers: HashMap<usize, Vec<i16>>,
    /// ... and those that reached it on a connection junk had been
    /// injected into, which it may not have been able to read.
    pub answers_maybe_read: HashMap<usize, Vec<i16>>,
    answers_pending: Vec<(usize, i16)>,
    records_rng: Rng,
    /// The producer's delivery.timeout.ms (from `Sim::producer`).
    pub delivery_timeout_ms: u64,
    /// The driver's state between runs (its connections): one producer
    /// at a time runs in a simulation.
    parked: Option<kafka_producer_component::driver::Driver<(), ()>>,
}

enum ToProducer {
    Response(Response),
    Raw(Vec<u8>),
}

pub fn node_host(node: i32) -> String {
    format!("broker-{node}")
}

/// Prints what the brokers see with KPC_SIM_TRACE set.
pub fn trace(line: impl FnOnce() -> String) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("KPC_SIM_TRACE").is_some()) {
        eprintln!("{}", line());
    }
}

impl Sim {
    /// A cluster of `brokers` nodes; `topics` name -> partition count,
    /// partition p led by node p % brokers.
    pub fn new(brokers: i32, topics: &[(&str, i32)]) -> Sim {
        let mut t = BTreeMap::new();
        for (name, n) in topics {
            t.insert(
                name.to_string(),
                (0..*n)
                    .map(|p| SimPartition {
                        leader: p % brokers,
                        epoch: 0,
                        log: Vec::new(),
                        log_start: 0,
                        producers: HashMap::new(),
                        txn_ranges: Vec::new(),
                        markers: Vec::new(),
                    })
                    .collect(),
            );
        }
        Sim {
            now: 1_700_000_000_000,
            brokers: (0..brokers).map(|b| (b, 9092)).collect(),
            topics: t,
            conns: HashMap::new(),
            to_producer: VecDeque::new(),
            tls: None,
            tls_by_node: HashMap::new(),
            tls_errors: Vec::new(),
            connects: 0,
            fragment: None,
            latency_ms: 0,
            supports_idempotence: true,
            next_producer_id: 1000,
            faults_injected: 0,
            current_cid: 0,
            throttled_until: HashMap::new(),
            throttle_pending: None,
            corrupted: Default::default(),
            max_cid_seen: 0,
            throttle_violations: 0,
            violations: Vec::new(),
            connecting: VecDeque::new(),
            closing: VecDeque::new(),
            faults: HashMap::new(),
            init_faults: VecDeque::new(),
            coordinator_node: 0,
            txn_faults: HashMap::new(),
            transactions: HashMap::new(),
            group_offsets: HashMap::new(),
            txn_outcomes: Vec::new(),
            inits: 0,
            txn_results: Vec::new(),
            fatal_init: None,
            dedup_window: DEDUP_WINDOW,
            move_leader: HashMap::new(),
            max_produce_version: 11,
            max_metadata_version: 12,
            max_txn_offset_commit_version: 5,
            txn_offset_partition_codes: Vec::new(),
            produce_versions_seen: Vec::new(),
            metadata_versions_seen: Vec::new(),
            metadata_requests: 0,
            produce_requests: 0,
            max_request_size: 1_048_576,
            message_max_bytes: 1_048_588,
            topic_max_message_bytes: None,
            reports: Vec::new(),
            report_times: Vec::new(),
            warnings: Vec::new(),
            sent: Vec::new(),
            by_content: HashMap::new(),
            by_producer_id: HashMap::new(),
            answers: HashMap::new(),
            answers_maybe_read: HashMap::new(),
            answers_pending: Vec::new(),
            records_rng: Rng(0x005e_ed0f_7e57),
            delivery_timeout_ms: 120_000,
            appended_batch_bytes: 0,
            appended_records: 0,
            statistics: Default::default(),
            parked: None,
        }
    }

    /// A producer bootstrapping from broker 0, with `extra` settings.
    pub fn producer(&mut self, extra: &[(&str, &str)]) -> Producer {
        let mut pairs = vec![("bootstrap.servers", "broker-0:9092")];
        pairs.extend_from_slice(extra);
        let config = Config::from_pairs(pairs).expect("config");
        self.delivery_timeout_ms = config.delivery_timeout_ms;
        self.parked = None;
        Producer::new(config, self.now)
    }

    /// Runs the producer and the cluster until `until` (simulated ms),
    /// driven by the core's driver (the loop every host uses) over the
    /// simulated network (`network.rs`). Panics if the producer asks to be
    /// woken in the past again and again without making progress (a busy
    /// loop in a real host).
    pub fn run(&mut self, p: &mut Producer, until: u64) {
        network::run(self, p, until);
    }

    /// Queues a response on `conn`, to go once `ready_at` has come and
    /// every response before it on the connection has gone.
    fn respond(&mut self, conn: u32, r: Response) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.outbox.push_back(r);
        }
    }

    /// Moves the responses that are due, in order per connection, to the
    /// producer's side.
    fn release_responses(&mut self) {
        let mut ids: Vec<u32> = self.conns.keys().copied().collect();
        ids.sort();
        for id in ids {
            let c = self.conns.get_mut(&id).unwrap();
            while c.outbox.front().is_some_and(|r| r.ready_at <= self.now) {
                let r = c.outbox.pop_front().unwrap();
                self.to_producer.push_back((id, ToProducer::Response(r)));
            }
        }
    }

    /// Every record id in `ids` got exactly one report, and nothing else did.
    pub fn assert_one_report_each(&self, ids: impl IntoIterator<Item = u64>) {
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for r in &self.reports {
            for id in &r.records {
                *seen.entry(*id).or_default() += 1;
            }
        }
        for id in ids {
            assert_eq!(seen.remove(&id), Some(1), "record {id}: not exactly one report");
        }
        assert!(seen.is_empty(), "reports for records never sent: {:?}", seen.keys().take(5).collect::<Vec<_>>());
    }

    /// Drops connection `conn` as a network failure would.
    pub fn drop_conn(&mut self, conn: u32) {
        trace(|| format!("t={} drop conn {conn}", self.now));
        if self.conns.remove(&conn).is_some() {
            self.closing.push_back((conn, "connection reset".into()));
        }
    }

    /// The producer is gone without a word (its process killed): every
    /// connection drops, and nothing of it is delivered to the next one.
    pub fn forget_producer(&mut self) {
        self.conns.clear();
        self.connecting.clear();
        self.closing.clear();
        self.to_producer.clear();
        self.parked = None;
    }

    pub fn open_conns(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.conns.keys().copied().collect();
        v.sort();
        v
    }

    /// Bytes for the producer as if a broker sent them on `conn`.
    pub fn inject(&mut self, conn: u32, bytes: Vec<u8>) {
        if self.conns.contains_key(&conn) {
            // The stream may no longer frame: responses after this may never
            // be read, so throttles on it are not checked.
            self.corrupted.insert(conn);
            self.to_producer.push_back((conn, ToProducer::Raw(bytes)));
        }
    }

    /// Frames requests out of what arrived on `conn`. A request over
    /// max.request.size is refused as Kafka refuses one over
    /// socket.request.max.bytes: the connection is closed.
    fn receive(&mut self, conn: u32, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.inbuf.extend_from_slice(data);
        loop {
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.inbuf.len() < 4 {
                return;
            }
            let size = i32::from_be_bytes(c.inbuf[..4].try_into().unwrap()) as usize;
            if 4 + size > self.max_request_size {
                self.violations.push(format!("a request of {} bytes, over max.request.size {}", 4 + size, self.max_request_size));
                self.drop_conn(conn);
                return;
            }
            if c.inbuf.len() < 4 + size {
                return;
            }
            let frame: Vec<u8> = c.inbuf.drain(..4 + size).skip(4).collect();
            let node = c.node;
            self.handle_request(conn, node, &frame);
        }
    }

    /// Bytes from the producer: through the broker's TLS session first,
    /// when there is one.
    fn from_producer(&mut self, conn: u32, data: &[u8]) {
        let Some(session) = self.conns.get_mut(&conn).and_then(|c| c.tls.as_mut()) else {
            return self.receive(conn, data);
        };
        use std::io::Read;
        let mut input = data;
        let mut plain = Vec::new();
        let mut failed = None;
        while !input.is_empty() && failed.is_none() {
            if let Err(e) = session.read_tls(&mut input) {
                failed = Some(e.to_string());
                break;
            }
            if let Err(e) = session.process_new_packets() {
                failed = Some(e.to_string());
            }
            let mut buf = [0u8; 16 << 10];
            loop {
                match session.reader().read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => plain.extend_from_slice(&buf[..n]),
                }
            }
        }
        let mut out = Vec::new();
        while session.wants_write() {
            if session.write_tls(&mut out).is_err() {
                break;
            }
        }
        if !out.is_empty() {
            self.to_producer.push_back((conn, ToProducer::Raw(out)));
        }
        if let Some(e) = failed {
            self.tls_errors.push(e.clone());
            self.conns.remove(&conn);
            self.closing.push_back((conn, format!("TLS: {e}")));
            return;
        }
        if !plain.is_empty() {
            self.receive(conn, &plain);
        }
    }

    /// A response encrypted by the broker's TLS session, if any.
    fn seal(&mut self, conn: u32, bytes: Vec<u8>) -> Vec<u8> {
        let Some(session) = self.conns.get_mut(&conn).and_then(|c| c.tls.as_mut()) else { return bytes };
        use std::io::Write;
        session.writer().write_all(&bytes).expect("TLS write");
        let mut out = Vec::new();
        while session.wants_write() {
            session.write_tls(&mut out).expect("TLS write");
        }
        out
    }

}

impl Sim {
    /// Broker `node` goes away: its connections drop and new ones are
    /// refused (it leaves the metadata too).
    pub fn kill_node(&mut self, node: i32) {
        self.brokers.remove(&node);
        let conns: Vec<u32> = self.conns.iter().filter(|(_, c)| c.node == node).map(|(k, _)| *k).collect();
        for c in conns {
            self.drop_conn(c);
        }
    }
}
