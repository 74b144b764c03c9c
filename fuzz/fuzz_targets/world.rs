//! Runs one input: the producer against the scripted cluster, then checks
//! the invariants. Panics (the fuzzer's crash) on any violation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kafka_producer_component::{Config, ErrorKind, Header, Output, Producer, Record};

use crate::broker::{Cluster, UNKNOWN_TOPIC};
use crate::input::{Disp, Fate, Input, Mode, Op, Respond, Setup};

#[path = "respond.rs"]
mod respond;

const START: u64 = 1_700_000_000_000;
const DELIVERY_TIMEOUT_MS: u64 = 30_000;
/// With a healthy cluster, everything is reported within this.
const LIVENESS_MS: u64 = 20_000;
const MAX_RECORDS: u64 = 3_000;


/// KPC_FUZZ_TRACE=1 prints what the producer does (to debug a crash).
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("KPC_FUZZ_TRACE").is_some())
}

pub struct World {
    p: Producer,
    c: Cluster,
    setup: Setup,
    now: u64,
    /// Connections the producer asked for and has not closed.
    open: BTreeSet<u32>,
    connecting: Vec<u32>,
    connects: u32,
    /// Accepted record id -> its topic.
    accepted: BTreeMap<u64, String>,
    reported: BTreeSet<u64>,
    /// Record id -> (topic, partition, offset, producer epoch) of each append.
    appended: HashMap<u64, Vec<(usize, i32, usize, i16)>>,
    /// Records of batches answered MESSAGE_TOO_LARGE.
    too_large: BTreeSet<u64>,
    pub flags: BTreeSet<&'static str>,
}

fn config(s: &Setup) -> Config {
    let (idem, acks) = match s.mode {
        Mode::Idempotent => ("true", "all"),
        Mode::AcksAll => ("false", "all"),
        Mode::Acks1 => ("false", "1"),
        Mode::Acks0 => ("false", "0"),
    };
    let (mif, linger, batch) = (s.max_in_flight.to_string(), s.linger_ms.to_string(), s.batch_size.to_string());
    let retries = s.retries.map_or("2147483647".to_string(), |r| r.to_string());
    let dt = DELIVERY_TIMEOUT_MS.to_string();
    let pairs = [
        ("bootstrap.servers", "broker-0:9092,broker-1:9092"),
        ("enable.idempotence", idem),
        ("acks", acks),
        ("max.in.flight.requests.per.connection", &mif),
        ("linger.ms", &linger),
        ("batch.size", &batch),
        ("compression.type", s.compression),
        ("retries", &retries),
        ("request.timeout.ms", "1000"),
        ("delivery.timeout.ms", &dt),
        ("retry.backoff.ms", "50"),
        ("retry.backoff.max.ms", "400"),
        ("reconnect.backoff.ms", "20"),
        ("reconnect.backoff.max.ms", "400"),
        ("socket.connection.setup.timeout.ms", "2000"),
    ];
    Config::from_pairs(pairs).expect("valid config")
}

impl World {
    pub fn new(setup: Setup) -> World {
        let c = Cluster::new(setup.brokers, &setup.partitions, setup.versions, setup.init_errors);
        let p = Producer::new(config(&setup), START);
        World {
            p,
            c,
            setup,
            now: START,
            open: BTreeSet::new(),
            connecting: Vec::new(),
            connects: 0,
            accepted: BTreeMap::new(),
            reported: BTreeSet::new(),
            appended: HashMap::new(),
            too_large: BTreeSet::new(),
            flags: BTreeSet::new(),
        }
    }

    pub fn run(input: Input) -> BTreeSet<&'static str> {
        let mut w = World::new(input.setup);
        for op in input.ops {
            w.op(op);
        }
        w.finish();
        w.flags
    }

    fn topic_name(&self, t: u8) -> String {
        match t as usize % 8 {
            7 => UNKNOWN_TOPIC.to_string(),
            i => self.c.topics[i % self.c.topics.len()].0.clone(),
        }
    }

    fn send(&mut self, topic: &str, key: Option<u8>, partition: Option<u8>, value_len: Option<u16>, headers: u8) {
        if self.p.next_record_id() >= MAX_RECORDS {
            return;
        }
        let id = self.p.next_record_id();
        let idb = id.to_be_bytes();
        let mut hs = vec![Header { key: "id", value: Some(&idb) }];
        for _ in 0..headers % 3 {
            hs.push(Header { key: "h", value: Some(b"x") });
        }
        let key = key.map(|k| vec![k; 1 + k as usize % 7]);
        let value = value_len.map(|n| vec![b'v'; n as usize % 1_500]);
        let count = self.c.topic_index(topic).map_or(1, |t| self.c.topics[t].1.len());
        let partition = partition.map(|p| (p as usize % (count + 1)) as i32);
        let rec = Record { key: key.as_deref(), value: value.as_deref(), headers: &hs, partition, timestamp: None };
        match self.p.send(topic, &rec, self.now) {
            Ok(got) => {
                assert_eq!(got, id, "record ids are consecutive");
                self.accepted.insert(id, topic.to_string());
            }
            Err(_) => {
                self.flags.insert("rejected");
            }
        }
    }

    fn op(&mut self, op: Op) {
        match op {
            Op::Send(s) => {
                let topic = self.topic_name(s.topic);
                self.send(&topic, s.key, s.partition, s.value_len, s.headers);
            }
            Op::Burst { topic, n, value_len } => {
                let name = self.topic_name(topic);
                for i in 0..n % 64 {
                    self.send(&name, Some(i), None, Some(u16::from(value_len) * 4), 0);
                }
            }
            Op::Flush => self.p.flush(),
            Op::Close { timeout_ms } => self.p.close(self.now, u64::from(timeout_ms)),
            Op::Advance { ms } => {
                self.now += u64::from(ms & 0x3fff);
                self.p.handle_timeout(self.now);
            }
            Op::Wake => {
                if let Some(t) = self.p.poll_timeout() {
                    self.now = self.now.max(t);
                    self.p.handle_timeout(self.now);
                }
            }
            Op::Respond(r) => self.respond(r),
            Op::Disconnect { conn } => {
                let conns: Vec<u32> = self.c.conns.keys().copied().collect();
                if !conns.is_empty() {
                    self.drop_conn(conns[conn as usize % conns.len()]);
                }
            }
        }
        self.pump(false);
    }

    fn drop_conn(&mut self, conn: u32) {
        self.c.conns.remove(&conn);
        self.open.remove(&conn);
        self.p.handle_closed(conn, "connection reset", self.now);
    }

    fn deliver(&mut self, conn: u32, bytes: &[u8]) {
        if trace() {
            eprintln!("t={} conn {conn}: {} bytes for the producer", self.now - START, bytes.len());
        }
        match self.setup.fragment {
            0 => self.p.handle_received(conn, bytes, self.now),
            n => bytes.chunks(n).for_each(|piece| self.p.handle_received(conn, piece, self.now)),
        }
    }

    /// Runs the producer and the cluster until nothing moves. Handshake
    /// requests are answered at once; Produce requests wait for a
    /// `Respond` op, unless `healthy`, when they succeed.
    fn pump(&mut self, healthy: bool) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(o) = self.p.poll(self.now) {
                moved = true;
                self.output(o);
            }
            for conn in std::mem::take(&mut self.connecting) {
                moved = true;
                let k = self.connects;
                self.connects += 1;
                if k < 32 && self.setup.refuse_connects & (1 << k) != 0 {
                    self.open.remove(&conn);
                    self.c.conns.remove(&conn);
                    self.p.handle_closed(conn, "connection refused", self.now);
                } else {
                    self.p.handle_connected(conn, self.now);
                }
            }
            let conns: Vec<u32> = self.c.conns.keys().copied().collect();
            for conn in conns {
                while let Some(c) = self.c.conns.get_mut(&conn).filter(|c| !c.stuck) {
                    let Some(api) = c.queue.front().map(|r| r.api) else { break };
                    if api != 0 {
                        let req = c.queue.pop_front().unwrap();
                        let bytes = self.c.answer_handshake(&req);
                        self.deliver(conn, &bytes);
                    } else if healthy {
                        let req = c.queue.pop_front().unwrap();
                        self.answer_produce(conn, req, &Respond { conn: 0, fate: Fate::Answer, parts: [Disp::Ok; 4], dup46: false, throttle: None });
                    } else {
                        break;
                    }
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the producer and the cluster never settle");
    }

    fn output(&mut self, o: Output) {
        if trace() {
            let shown = match &o {
                Output::Transmit { conn, data } => format!("Transmit {{ conn: {conn}, {} bytes, api {:?} }}", data.len(), data.get(4..6)),
                o => format!("{o:?}"),
            };
            eprintln!("t={} {shown}", self.now - START);
        }
        match o {
            Output::Connect { conn, host, port } => {
                let node = host.strip_prefix("broker-").and_then(|n| n.parse::<i32>().ok());
                let node = node.filter(|&n| n < self.c.brokers && port == 9092).expect("a broker the cluster named");
                assert!(self.open.insert(conn), "connection id {conn} reused while open");
                self.c.connect(conn, node);
                self.connecting.push(conn);
            }
            Output::Transmit { conn, data } => {
                assert!(self.open.contains(&conn), "bytes for connection {conn}, not open");
                self.c.receive(conn, &data);
            }
            Output::Close { conn } => {
                self.open.remove(&conn);
                self.c.conns.remove(&conn);
                self.connecting.retain(|&c| c != conn);
            }
            Output::Report(r) => {
                for id in &r.records {
                    assert!(self.accepted.contains_key(id), "a report for record {id}, never accepted");
                    assert!(self.reported.insert(*id), "record {id} reported twice");
                    assert_eq!(self.accepted[id], r.topic, "record {id} reported for another topic");
                }
                match &r.error {
                    None => self.delivered(&r.topic, r.partition, r.base_offset, &r.records),
                    Some(e) => {
                        self.flags.insert(match e.kind {
                            ErrorKind::Broker => "failed: broker error",
                            ErrorKind::TimedOut => "failed: timed out",
                            ErrorKind::Closed => "failed: closed",
                            _ => "failed: other",
                        });
                    }
                }
            }
            Output::Warning(w) => {
                if w.starts_with("MESSAGE_TOO_LARGE") {
                    self.flags.insert("batch split");
                }
            }
            // The fuzzed producers are not transactional, and statistics
            // are off.
            Output::Transaction(_) | Output::Statistics(_) => {}
        }
    }

    /// A delivered report: its records are in the log where it says.
    fn delivered(&mut self, topic: &str, partition: i32, base: i64, ids: &[u64]) {
        self.flags.insert("delivered");
        if self.setup.mode == Mode::Acks0 {
            return; // no answer: delivery is handing the request over
        }
        let t = self.c.topic_index(topic).expect("delivered to a topic the cluster has");
        let part = &self.c.topics[t].1[partition as usize];
        for (i, id) in ids.iter().enumerate() {
            let at = self.appended.get(id).and_then(|a| a.iter().rev().find(|a| a.0 == t && a.1 == partition).copied());
            let (_, _, offset, epoch) = at.unwrap_or_else(|| panic!("record {id} reported delivered to {topic}-{partition}, never appended there"));
            if base >= 0 {
                let off = base as usize + i;
                if off >= part.log_start {
                    assert_eq!(part.log.get(off), Some(id), "record {id} reported at {topic}-{partition}@{off}");
                }
            } else {
                self.flags.insert("delivered: offset unknown");
            }
            if epoch > 0 {
                self.flags.insert("delivered after an epoch bump");
            }
            let _ = offset;
            if self.too_large.contains(id) {
                self.flags.insert("delivered after a split");
            }
        }
    }

    /// Steps time to each deadline the producer asks for, up to `until`.
    fn settle(&mut self, until: u64, done: impl Fn(&World) -> bool) {
        for _ in 0..20_000 {
            self.pump(true);
            if done(self) {
                return;
            }
            if trace() {
                eprintln!("t={} settle: poll_timeout {:?}, unreported {}", self.now - START, self.p.poll_timeout().map(|t| t as i64 - START as i64), self.p.unreported());
            }
            let next = self.p.poll_timeout();
            assert!(next.is_none_or(|t| t > self.now), "poll_timeout {next:?} is not after now {}", self.now);
            match next {
                Some(t) if t <= until => {
                    self.now = t;
                    self.p.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }

    fn finish(&mut self) {
        // Liveness: once the cluster is healthy, every record to a topic
        // that exists is reported soon (no stall until delivery.timeout.ms).
        self.p.flush();
        let live_until = self.now + LIVENESS_MS;
        let waiting = |w: &World| w.accepted.iter().any(|(id, t)| t != UNKNOWN_TOPIC && !w.reported.contains(id));
        self.settle(live_until, |w| !waiting(w));
        if waiting(self) {
            let stuck: Vec<&u64> = self.accepted.iter().filter(|(id, t)| *t != UNKNOWN_TOPIC && !self.reported.contains(id)).map(|(id, _)| id).take(10).collect();
            panic!("healthy cluster, yet records {stuck:?} still unreported after {LIVENESS_MS} ms");
        }
        // Close, and past every deadline nothing is left.
        self.p.close(self.now, self.setup.close_timeout_ms);
        let end = self.now + DELIVERY_TIMEOUT_MS + self.setup.close_timeout_ms + 1_000;
        self.settle(end, |w| w.p.unreported() == 0 && w.open.is_empty());
        assert_eq!(self.p.unreported(), 0, "unreported records after close");
        let missing: Vec<&u64> = self.accepted.keys().filter(|id| !self.reported.contains(id)).take(10).collect();
        assert!(missing.is_empty(), "accepted records without a report: {missing:?}");
        assert!(self.open.is_empty(), "connections still open after close: {:?}", self.open);
        if self.setup.mode == Mode::Idempotent {
            for (name, parts) in &self.c.topics {
                for (i, p) in parts.iter().enumerate() {
                    let ids = &p.log[p.log_start..];
                    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{name}-{i}: duplicated or out of send order: {ids:?}");
                }
            }
        }
        for (k, name) in ["ApiVersions", "Metadata", "InitProducerId", "Produce"].iter().enumerate() {
            if self.c.seen[k] > 0 {
                self.flags.insert(["request: ApiVersions", "request: Metadata", "request: InitProducerId", "request: Produce"][k]);
                let _ = name;
            }
        }
        if self.c.bumps > 0 {
            self.flags.insert("broker: epoch bumped");
        }
        if self.appended.values().any(|a| a.len() > 1) {
            self.flags.insert("appended twice (no idempotence)");
        }
    }
}
