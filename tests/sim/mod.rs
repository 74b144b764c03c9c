//! A simulated Kafka cluster for the sans-I/O core: brokers that speak the
//! protocol (ApiVersions, Metadata, Produce) over simulated connections, a
//! simulated clock, and hooks for faults. Everything is deterministic; a
//! whole scenario runs in microseconds.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};

use kafka_producer_component::wire::{Reader, Writer};
use kafka_producer_component::{Config, DeliveryReport, Output, Producer, Record};

/// One record as a simulated broker stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: i64,
}

/// What a broker remembers of one producer on one partition (Kafka keeps
/// the last 5 batches for deduplication).
#[derive(Debug, Clone, Default)]
pub struct ProducerState {
    pub epoch: i16,
    pub last_seq: i32,
    /// (first sequence, last sequence, base offset) of recent batches.
    pub recent: VecDeque<(i32, i32, i64)>,
}

#[derive(Debug, Clone)]
pub struct SimPartition {
    pub leader: i32,
    pub epoch: i32,
    pub log: Vec<Stored>,
    /// Records before this were deleted by retention.
    pub log_start: usize,
    pub producers: HashMap<i64, ProducerState>,
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
    /// timeout the producer gives up on the connection).
    Stall(u64),
    /// Append, and ask the producer to pause this many ms (quota throttling).
    Throttle(u64),
}

struct SimConn {
    node: i32,
    inbuf: Vec<u8>,
    /// The broker's side of the TLS session, when the cluster speaks TLS.
    tls: Option<rustls::ServerConnection>,
}

pub struct Sim {
    pub now: u64,
    pub brokers: BTreeMap<i32, u16>,
    pub topics: BTreeMap<String, Vec<SimPartition>>,
    conns: HashMap<u32, SimConn>,
    /// Bytes for the producer, with the throttle a response carries;
    /// `sealed`: already TLS records (or no TLS), else encrypted on the way.
    to_producer: VecDeque<(u32, Vec<u8>, Option<(i32, u64)>, bool)>,
    /// Brokers terminate TLS with this configuration (rustls with ring, a
    /// crypto implementation independent of the producer's).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// TLS errors the brokers saw.
    pub tls_errors: Vec<String>,
    pub connects: usize,
    /// Responses held back until a time (stalls).
    held: Vec<(u64, u32, Vec<u8>)>,
    /// Split responses into pieces of at most this many bytes (partial reads).
    pub fragment: Option<usize>,
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
    connecting: VecDeque<u32>,
    closing: VecDeque<(u32, String)>,
    /// Faults to apply, per (topic, partition), in order.
    pub faults: HashMap<(String, i32), VecDeque<Fault>>,
    /// Move a partition's leadership once it receives a produce request:
    /// (topic, partition) -> new leader; the old leader answers
    /// NOT_LEADER_OR_FOLLOWER with a KIP-951 CurrentLeader.
    pub move_leader: HashMap<(String, i32), i32>,
    /// Highest Produce and Metadata versions the brokers advertise.
    pub max_produce_version: i16,
    pub max_metadata_version: i16,
    /// Versions the producer used, as seen by the brokers.
    pub produce_versions_seen: Vec<i16>,
    pub metadata_versions_seen: Vec<i16>,
    pub metadata_requests: usize,
    pub produce_requests: usize,
    /// Limits the brokers enforce (a test that sets the producer's must set these).
    pub max_request_size: usize,
    pub message_max_bytes: usize,
    /// A topic-level limit below the producer's (max.message.bytes on the
    /// topic): larger batches get MESSAGE_TOO_LARGE.
    pub topic_max_message_bytes: Option<usize>,
    pub reports: Vec<DeliveryReport>,
    pub warnings: Vec<String>,
}

pub fn node_host(node: i32) -> String {
    format!("broker-{node}")
}

impl Sim {
    /// A cluster of `brokers` nodes; `topics` name -> partition count,
    /// partition p led by node p % brokers.
    pub fn new(brokers: i32, topics: &[(&str, i32)]) -> Sim {
        let mut t = BTreeMap::new();
        for (name, n) in topics {
            t.insert(
                name.to_string(),
                (0..*n).map(|p| SimPartition { leader: p % brokers, epoch: 0, log: Vec::new(), log_start: 0, producers: HashMap::new() }).collect(),
            );
        }
        Sim {
            now: 1_700_000_000_000,
            brokers: (0..brokers).map(|b| (b, 9092)).collect(),
            topics: t,
            conns: HashMap::new(),
            to_producer: VecDeque::new(),
            tls: None,
            tls_errors: Vec::new(),
            connects: 0,
            held: Vec::new(),
            fragment: None,
            supports_idempotence: true,
            next_producer_id: 1000,
            faults_injected: 0,
            current_cid: 0,
            throttled_until: HashMap::new(),
            throttle_pending: None,
            corrupted: Default::default(),
            max_cid_seen: 0,
            throttle_violations: 0,
            connecting: VecDeque::new(),
            closing: VecDeque::new(),
            faults: HashMap::new(),
            move_leader: HashMap::new(),
            max_produce_version: 11,
            max_metadata_version: 12,
            produce_versions_seen: Vec::new(),
            metadata_versions_seen: Vec::new(),
            metadata_requests: 0,
            produce_requests: 0,
            max_request_size: 1_048_576,
            message_max_bytes: 1_048_588,
            topic_max_message_bytes: None,
            reports: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn producer(&self, extra: &[(&str, &str)]) -> Producer {
        let mut pairs = vec![("bootstrap.servers", "broker-0:9092")];
        pairs.extend_from_slice(extra);
        Producer::new(Config::from_pairs(pairs).expect("config"), self.now)
    }

    /// Runs the producer and the cluster until nothing moves and no
    /// deadline is pending, or `until` (simulated ms) passes. Panics if
    /// the producer asks to be woken in the past without making progress
    /// (a busy loop in a real host).
    pub fn run(&mut self, p: &mut Producer, until: u64) {
        let mut idle_wakeups = 0;
        loop {
            let mut moved = false;
            while let Some(o) = p.poll(self.now) {
                moved = true;
                match o {
                    Output::Connect { conn, host, port } => {
                        let node = host.strip_prefix("broker-").and_then(|n| n.parse().ok()).unwrap_or(-1);
                        self.connects += 1;
                        if self.brokers.get(&node) == Some(&port) {
                            let tls = self.tls.clone().map(|c| rustls::ServerConnection::new(c).expect("server session"));
                            self.conns.insert(conn, SimConn { node, inbuf: Vec::new(), tls });
                            self.connecting.push_back(conn);
                        } else {
                            self.closing.push_back((conn, "unknown host".into()));
                        }
                    }
                    Output::Transmit { conn, data } => match self.fragment {
                        // Partial writes: the broker reads the request in pieces.
                        Some(n) => data.chunks(n.max(1)).for_each(|piece| self.from_producer(conn, piece)),
                        None => self.from_producer(conn, &data),
                    },
                    Output::Close { conn } => {
                        self.conns.remove(&conn);
                    }
                    Output::Report(r) => self.reports.push(r),
                    Output::Warning(w) => self.warnings.push(w),
                }
            }
            while let Some(c) = self.connecting.pop_front() {
                moved = true;
                p.handle_connected(c, self.now);
            }
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = self.held.drain(..).partition(|h| h.0 <= now);
            self.held = later;
            for (_, c, bytes) in due {
                if self.conns.contains_key(&c) {
                    self.to_producer.push_back((c, bytes, None, false));
                }
            }
            while let Some((c, bytes, throttle, sealed)) = self.to_producer.pop_front() {
                moved = true;
                let bytes = if sealed { bytes } else { self.seal(c, bytes) };
                // Checked per connection: a response on a connection the
                // producer already dropped is never read.
                if let Some((_, until)) = throttle.filter(|_| !self.corrupted.contains(&c)) {
                    self.throttled_until.insert(c, (until, self.max_cid_seen));
                }
                match self.fragment {
                    Some(n) => {
                        for piece in bytes.chunks(n.max(1)) {
                            p.handle_received(c, piece, self.now);
                        }
                    }
                    None => p.handle_received(c, &bytes, self.now),
                }
            }
            while let Some((c, why)) = self.closing.pop_front() {
                moved = true;
                p.handle_closed(c, &why, self.now);
            }
            if moved {
                idle_wakeups = 0;
                continue;
            }
            let next_held = self.held.iter().map(|h| h.0).min();
            let next = match (p.poll_timeout(), next_held) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match next {
                Some(t) if next_held == Some(t) && t <= until => {
                    self.now = self.now.max(t);
                }
                Some(t) if t <= until => {
                    if t <= self.now {
                        idle_wakeups += 1;
                        assert!(idle_wakeups < 3, "deadline {t} is not after now {} and nothing moves: a busy loop", self.now);
                    }
                    self.now = self.now.max(t);
                    p.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }

    /// Records `send` and `run` saw delivered, by id: (partition, offset).
    pub fn delivered(&self) -> BTreeMap<u64, (String, i32, i64)> {
        let mut m = BTreeMap::new();
        for r in self.reports.iter().filter(|r| r.error.is_none()) {
            for (i, id) in r.records.iter().enumerate() {
                assert!(m.insert(*id, (r.topic.clone(), r.partition, r.base_offset + i as i64)).is_none(), "{id} reported twice");
            }
        }
        m
    }

    /// Every record id in `ids` got exactly one report.
    pub fn assert_one_report_each(&self, ids: impl IntoIterator<Item = u64>) {
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for r in &self.reports {
            for id in &r.records {
                *seen.entry(*id).or_default() += 1;
            }
        }
        let mut n = 0;
        for id in ids {
            assert_eq!(seen.remove(&id), Some(1), "record {id}: not exactly one report");
            n += 1;
        }
        assert!(seen.is_empty(), "reports for records never sent: {:?}", seen.keys().take(5).collect::<Vec<_>>());
        let _ = n;
    }

    /// Drops connection `conn` as a network failure would.
    pub fn drop_conn(&mut self, conn: u32) {
        if std::env::var("KPC_SIM_TRACE").is_ok() {
            eprintln!("t={} drop conn {conn}", self.now);
        }
        if self.conns.remove(&conn).is_some() {
            self.closing.push_back((conn, "connection reset".into()));
        }
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
            self.to_producer.push_back((conn, bytes, None, true));
        }
    }

    fn receive(&mut self, conn: u32, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.inbuf.extend_from_slice(data);
        loop {
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.inbuf.len() < 4 {
                return;
            }
            let size = i32::from_be_bytes(c.inbuf[..4].try_into().unwrap()) as usize;
            if c.inbuf.len() < 4 + size {
                return;
            }
            let frame: Vec<u8> = c.inbuf.drain(..4 + size).skip(4).collect();
            assert!(4 + size <= self.max_request_size, "a request of {} bytes, over max.request.size {}", 4 + size, self.max_request_size);
            let node = c.node;
            self.handle_request(conn, node, &frame);
        }
    }

    fn handle_request(&mut self, conn: u32, node: i32, frame: &[u8]) {
        let mut r = Reader::new(frame);
        let api = r.i16("api").unwrap();
        let version = r.i16("version").unwrap();
        let cid = r.i32("cid").unwrap();
        self.current_cid = cid;
        self.throttle_pending = None;
        self.max_cid_seen = self.max_cid_seen.max(cid);
        r.nullable_str(false, "client id").unwrap();
        let flexible = flexible_v(api, version);
        if flexible {
            r.skip_tagged_fields().unwrap();
        }
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.i32(0);
        w.i32(cid);
        if flexible && api != 18 {
            w.no_tagged_fields();
        }
        match api {
            18 => {
                w.i16(0);
                let mut keys = vec![(0i16, 3i16, self.max_produce_version), (3, 4, self.max_metadata_version), (18, 0, 3)];
                if self.supports_idempotence {
                    keys.push((22, 0, 5));
                }
                w.array_len(keys.len(), flexible);
                for (k, min, max) in keys {
                    w.i16(k);
                    w.i16(min);
                    w.i16(max);
                    if flexible {
                        w.no_tagged_fields();
                    }
                }
                if version >= 1 {
                    w.i32(0);
                }
                if flexible {
                    w.no_tagged_fields();
                }
            }
            22 => {
                r.nullable_str(flexible_v(22, version), "txn").unwrap();
                r.i32("timeout").unwrap();
                let (pid, epoch) = if version >= 3 { (r.i64("pid").unwrap(), r.i16("epoch").unwrap()) } else { (-1, -1) };
                if std::env::var("KPC_SIM_TRACE").is_ok() {
                    eprintln!("t={} conn {conn} InitProducerId v{version} with {pid}/{epoch}", self.now);
                }
                let (pid, epoch) = if pid < 0 {
                    self.next_producer_id += 1;
                    (self.next_producer_id, 0)
                } else {
                    (pid, epoch + 1)
                };
                w.i32(0);
                w.i16(0);
                w.i64(pid);
                w.i16(epoch);
                if flexible {
                    w.no_tagged_fields();
                }
            }
            3 => {
                self.metadata_requests += 1;
                self.metadata_versions_seen.push(version);
                self.metadata_response(&mut w, version, flexible);
            }
            0 => {
                self.produce_requests += 1;
                self.produce_versions_seen.push(version);
                match self.produce(conn, node, &mut r, version, flexible) {
                    Some(resp) => w.raw(&resp),
                    None => return, // dropped, or acks=0
                }
            }
            other => panic!("unexpected api {other}"),
        }
        let size = (out.len() - 4) as i32;
        out[..4].copy_from_slice(&size.to_be_bytes());
        let throttle = self.throttle_pending.take();
        self.to_producer.push_back((conn, out, throttle, false));
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
            self.to_producer.push_back((conn, out, None, true));
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

    fn metadata_response(&self, w: &mut Writer<'_>, v: i16, flex: bool) {
        w.i32(0); // throttle
        w.array_len(self.brokers.len(), flex);
        for (id, port) in &self.brokers {
            w.i32(*id);
            w.string(&node_host(*id), flex);
            w.i32(i32::from(*port));
            w.nullable_string(None, flex);
            if flex {
                w.no_tagged_fields();
            }
        }
        w.nullable_string(Some("sim"), flex);
        w.i32(0); // controller
        w.array_len(self.topics.len(), flex);
        for (name, parts) in &self.topics {
            w.i16(0);
            w.string(name, flex);
            if v >= 10 {
                w.raw(&[1; 16]);
            }
            w.bool(false);
            w.array_len(parts.len(), flex);
            for (i, p) in parts.iter().enumerate() {
                w.i16(0);
                w.i32(i as i32);
                w.i32(p.leader);
                if v >= 7 {
                    w.i32(p.epoch);
                }
                for _ in 0..2 {
                    w.array_len(1, flex);
                    w.i32(p.leader);
                }
                if v >= 5 {
                    w.array_len(0, flex);
                }
                if flex {
                    w.no_tagged_fields();
                }
            }
            if v >= 8 {
                w.i32(0);
            }
            if flex {
                w.no_tagged_fields();
            }
        }
        if (8..=10).contains(&v) {
            w.i32(0);
        }
        if flex {
            w.no_tagged_fields();
        }
    }

    /// Handles a Produce body; returns the response body, or None when no
    /// response is to be sent.
    fn produce(&mut self, conn: u32, node: i32, r: &mut Reader<'_>, v: i16, flex: bool) -> Option<Vec<u8>> {
        r.nullable_str(flex, "txn").unwrap();
        let acks = r.i16("acks").unwrap();
        r.i32("timeout").unwrap();
        let nt = r.array_len(flex, 1, "topics").unwrap();
        let mut results: Vec<(String, Vec<(i32, i16, i64, Option<(i32, i32)>)>)> = Vec::new();
        let mut drop_after = false;
        let mut stall = 0u64;
        let mut throttle = 0u64;
        // A request sent after the producer read a throttled response
        // (its correlation id is higher than any seen by then) and before
        // the throttle ends is a violation.
        if self.throttled_until.get(&conn).is_some_and(|&(t, floor)| self.now < t && self.current_cid > floor) {
            self.throttle_violations += 1;
            if std::env::var("KPC_SIM_TRACE").is_ok() {
                eprintln!("t={} VIOLATION conn {conn} cid {} throttle {:?}", self.now, self.current_cid, self.throttled_until.get(&conn));
            }
        }
        for _ in 0..nt {
            let name = r.str(flex, "name").unwrap().to_string();
            let np = r.array_len(flex, 1, "partitions").unwrap();
            let mut parts = Vec::new();
            for _ in 0..np {
                let index = r.i32("index").unwrap();
                let len = if flex { r.uvarint("len").unwrap() as usize - 1 } else { r.i32("len").unwrap() as usize };
                let batch = r.take(len, "records").unwrap();
                assert!(batch.len() <= self.message_max_bytes, "a batch of {} bytes, over message.max.bytes {}", batch.len(), self.message_max_bytes);
                if flex {
                    r.skip_tagged_fields().unwrap();
                }
                if self.topic_max_message_bytes.is_some_and(|limit| batch.len() > limit) {
                    // Checked before anything else, as Kafka does.
                    if std::env::var("KPC_SIM_TRACE").is_ok() {
                        eprintln!("t={} conn {conn} node {node} {name}-{index} {:?} n {} bytes {} -> MESSAGE_TOO_LARGE", self.now, batch_identity(batch), i32::from_be_bytes(batch[57..61].try_into().unwrap()), batch.len());
                    }
                    parts.push((index, 10, -1, None));
                    continue;
                }
                let key = (name.clone(), index);
                let fault = self.faults.get_mut(&key).and_then(VecDeque::pop_front);
                if let Some(&new_leader) = self.move_leader.get(&key) {
                    let p = &mut self.topics.get_mut(&name).unwrap()[index as usize];
                    if p.leader != new_leader {
                        p.leader = new_leader;
                        p.epoch += 1;
                    }
                }
                let p = &mut self.topics.get_mut(&name).expect("produce to a known topic")[index as usize];
                if p.leader != node {
                    parts.push((index, 6, -1, Some((p.leader, p.epoch))));
                    continue;
                }
                if fault.is_some() {
                    self.faults_injected += 1;
                }
                if fault == Some(Fault::LoseProducerState) {
                    p.producers.clear();
                    p.log_start = p.log.len();
                }
                match fault {
                    Some(Fault::Error(code)) => parts.push((index, code, -1, None)),
                    Some(Fault::DropBefore) => {
                        self.drop_conn(conn);
                        return None;
                    }
                    f => {
                        let records = decode_batch(batch);
                        let count = records.len() as i32;
                        let (pid, epoch, seq) = batch_identity(batch);
                        let verdict = if pid < 0 { Ok(None) } else { check_sequence(p.producers.entry(pid).or_default(), pid, epoch, seq, count, &p.log) };
                        if std::env::var("KPC_SIM_TRACE").is_ok() {
                            eprintln!("t={} conn {conn} node {node} {name}-{index} pid {pid} epoch {epoch} seq {seq} n {count} -> {verdict:?} fault {fault:?}", self.now);
                        }
                        match verdict {
                            Err(code) => parts.push((index, code, -1, None)),
                            Ok(Some(dup_offset)) => parts.push((index, 0, dup_offset, None)),
                            Ok(None) => {
                                let base = p.log.len() as i64;
                                p.log.extend(records);
                                if pid >= 0 {
                                    let st = p.producers.get_mut(&pid).unwrap();
                                    st.epoch = epoch;
                                    st.last_seq = seq + count - 1;
                                    st.recent.push_back((seq, seq + count - 1, base));
                                    if st.recent.len() > 5 {
                                        st.recent.pop_front();
                                    }
                                }
                                parts.push((index, 0, base, None));
                            }
                        }
                        drop_after |= f == Some(Fault::DropAfter);
                        if let Some(Fault::Stall(ms)) = f {
                            stall = stall.max(ms);
                        }
                        if let Some(Fault::Throttle(ms)) = f {
                            throttle = throttle.max(ms);
                            // Counts from when the producer reads the response.
                            self.throttle_pending = Some((node, self.now + ms));
                        }
                    }
                }
            }
            if flex {
                r.skip_tagged_fields().unwrap();
            }
            results.push((name, parts));
        }
        if drop_after {
            self.drop_conn(conn);
            return None;
        }
        if acks == 0 {
            return None;
        }
        let stall_until = (stall > 0).then(|| self.now + stall);
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.array_len(results.len(), flex);
        let mut leaders = Vec::new();
        for (name, parts) in &results {
            w.string(name, flex);
            w.array_len(parts.len(), flex);
            for (index, code, base, leader) in parts {
                w.i32(*index);
                w.i16(*code);
                w.i64(*base);
                w.i64(-1);
                if v >= 5 {
                    w.i64(0);
                }
                if v >= 8 {
                    w.array_len(0, flex);
                    w.nullable_string(None, flex);
                }
                if flex {
                    match leader {
                        Some((id, epoch)) if v >= 10 => {
                            leaders.push(*id);
                            w.uvarint(1);
                            w.uvarint(0);
                            w.uvarint(9);
                            w.i32(*id);
                            w.i32(*epoch);
                            w.no_tagged_fields();
                        }
                        _ => w.no_tagged_fields(),
                    }
                }
            }
            if flex {
                w.no_tagged_fields();
            }
        }
        w.i32(throttle as i32);
        if flex {
            if leaders.is_empty() || v < 10 {
                w.no_tagged_fields();
            } else {
                leaders.sort();
                leaders.dedup();
                let mut body = Vec::new();
                let mut b = Writer::new(&mut body);
                b.array_len(leaders.len(), true);
                for id in &leaders {
                    b.i32(*id);
                    b.string(&node_host(*id), true);
                    b.i32(9092);
                    b.nullable_string(None, true);
                    b.no_tagged_fields();
                }
                w.uvarint(1);
                w.uvarint(0);
                w.uvarint(body.len() as u64);
                w.raw(&body);
            }
        }
        if let Some(at) = stall_until {
            let mut framed = Vec::new();
            let mut w = Writer::new(&mut framed);
            w.i32(0);
            w.i32(self.current_cid);
            if flex {
                w.no_tagged_fields();
            }
            w.raw(&out);
            let size = (framed.len() - 4) as i32;
            framed[..4].copy_from_slice(&size.to_be_bytes());
            self.held.push((at, conn, framed));
            return None;
        }
        Some(out)
    }
}

fn flexible_v(api: i16, version: i16) -> bool {
    match api {
        18 => version >= 3,
        22 => version >= 2,
        _ => version >= 9,
    }
}

/// The producer identity in a RecordBatch header: (id, epoch, base sequence).
pub fn batch_identity(b: &[u8]) -> (i64, i16, i32) {
    (
        i64::from_be_bytes(b[43..51].try_into().unwrap()),
        i16::from_be_bytes(b[51..53].try_into().unwrap()),
        i32::from_be_bytes(b[53..57].try_into().unwrap()),
    )
}

/// Decodes an uncompressed RecordBatch v2, checking its CRC and counts.
pub fn decode_batch(b: &[u8]) -> Vec<Stored> {
    let mut r = Reader::new(b);
    r.i64("base offset").unwrap();
    let len = r.i32("length").unwrap() as usize;
    assert_eq!(len, b.len() - 12, "batchLength");
    r.i32("epoch").unwrap();
    assert_eq!(r.i8("magic").unwrap(), 2);
    let crc = r.i32("crc").unwrap() as u32;
    assert_eq!(crc, kafka_producer_component::batch::crc32c(&b[21..]), "crc");
    let attributes = r.i16("attributes").unwrap();
    assert_eq!(attributes & !7, 0, "CreateTime, not transactional, not control");
    let last_delta = r.i32("last offset delta").unwrap();
    let base_ts = r.i64("base ts").unwrap();
    r.i64("max ts").unwrap();
    r.i64("pid").unwrap();
    r.i16("epoch").unwrap();
    r.i32("seq").unwrap();
    let count = r.i32("count").unwrap();
    assert_eq!(last_delta, count - 1);
    let records = decompress(attributes & 7, &b[61..]);
    let mut r = Reader::new(&records);
    let mut out = Vec::new();
    for i in 0..count {
        let len = r.varint("len").unwrap() as usize;
        let mut rr = Reader::new(r.take(len, "record").unwrap());
        rr.i8("attrs").unwrap();
        let ts = base_ts + rr.varint("ts delta").unwrap();
        assert_eq!(rr.varint("offset delta").unwrap(), i as i64);
        let bytes = |rr: &mut Reader<'_>| {
            let n = rr.varint("len").unwrap();
            (n >= 0).then(|| rr.take(n as usize, "bytes").unwrap().to_vec())
        };
        let key = bytes(&mut rr);
        let value = bytes(&mut rr);
        let nh = rr.varint("headers").unwrap();
        for _ in 0..nh {
            bytes(&mut rr);
            bytes(&mut rr);
        }
        assert_eq!(rr.remaining(), 0, "record length");
        out.push(Stored { key, value, timestamp: ts });
    }
    assert_eq!(r.remaining(), 0, "batch length");
    out
}

/// The records section of a batch, decompressed by decoders that are not
/// the producer's encoders.
fn decompress(codec: i16, data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    match codec {
        0 => data.to_vec(),
        1 => {
            let (body, trailer) = data[10..].split_at(data.len() - 18);
            let out = miniz_oxide::inflate::decompress_to_vec(body).expect("gzip");
            assert_eq!(u32::from_le_bytes(trailer[4..8].try_into().unwrap()) as usize, out.len());
            out
        }
        2 => {
            assert_eq!(&data[..8], b"\x82SNAPPY\x00");
            let (mut at, mut out) = (16, Vec::new());
            while at < data.len() {
                let n = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
                out.extend(snap::raw::Decoder::new().decompress_vec(&data[at + 4..at + 4 + n]).expect("snappy"));
                at += 4 + n;
            }
            out
        }
        3 => {
            let mut out = Vec::new();
            lz4_flex::frame::FrameDecoder::new(data).read_to_end(&mut out).expect("lz4");
            out
        }
        4 => {
            let mut out = Vec::new();
            let mut d = ruzstd::decoding::StreamingDecoder::new(data).expect("zstd");
            ruzstd::io::Read::read_to_end(&mut d, &mut out).expect("zstd");
            out
        }
        other => panic!("codec {other}"),
    }
}

/// Sends `n` keyed records to `topic`, the value naming the record id
/// (`id{n}`), so a log can be checked for loss, duplicates and order.
pub fn send_n(p: &mut Producer, topic: &str, n: usize, now: u64) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let k = format!("k{}", i % 37);
            let v = format!("id{}", p.next_record_id());
            p.send(topic, &Record { key: Some(k.as_bytes()), value: Some(v.as_bytes()), ..Default::default() }, now).expect("accepted")
        })
        .collect()
}

impl Sim {
    /// Checks the logs against the reports: every delivered record is at
    /// the offset its report names; with `exactly_once`, no record is in
    /// any log twice and each partition holds its records in send order.
    pub fn check_logs(&self, exactly_once: bool) {
        let id_of = |s: &Stored| -> u64 { std::str::from_utf8(s.value.as_deref().unwrap()).unwrap()[2..].parse().unwrap() };
        for (id, (topic, partition, offset)) in self.delivered() {
            let part = &self.topics[&topic][partition as usize];
            let log = &part.log;
            if offset >= 0 && (offset as usize) < part.log_start {
                continue; // deleted by retention
            }
            if offset >= 0 {
                assert_eq!(log.get(offset as usize).map(id_of), Some(id), "record {id} not at {topic}-{partition}@{offset}");
            } else {
                assert!(log.iter().any(|s| id_of(s) == id), "record {id} reported delivered, not in {topic}-{partition}");
            }
        }
        if exactly_once {
            for (topic, parts) in &self.topics {
                for (p, part) in parts.iter().enumerate() {
                    let ids: Vec<u64> = part.log[part.log_start..].iter().map(id_of).collect();
                    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{topic}-{p}: duplicated or out of order: {ids:?}");
                }
            }
        }
    }
}

/// Kafka's sequence check for one producer on one partition: Ok(None) to
/// append, Ok(Some(offset)) for a duplicate of a recent batch, Err(code).
fn check_sequence(st: &mut ProducerState, _pid: i64, epoch: i16, seq: i32, count: i32, _log: &[Stored]) -> Result<Option<i64>, i16> {
    let fresh = st.recent.is_empty() && st.last_seq == 0 && st.epoch == 0;
    if fresh {
        // No state: only a batch starting a sequence is accepted.
        if seq != 0 {
            return Err(59); // UNKNOWN_PRODUCER_ID
        }
        st.epoch = epoch;
        st.last_seq = -1;
        return Ok(None);
    }
    if epoch < st.epoch {
        return Err(47); // INVALID_PRODUCER_EPOCH
    }
    if epoch > st.epoch {
        if seq != 0 {
            return Err(45);
        }
        st.recent.clear();
        st.last_seq = -1;
        return Ok(None);
    }
    if let Some(&(_, _, offset)) = st.recent.iter().find(|r| r.0 == seq && r.1 == seq + count - 1) {
        return Ok(Some(offset));
    }
    if seq != st.last_seq.wrapping_add(1) {
        return Err(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
    }
    Ok(None)
}
