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

#[derive(Debug, Clone)]
pub struct SimPartition {
    pub leader: i32,
    pub epoch: i32,
    pub log: Vec<Stored>,
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
}

struct SimConn {
    node: i32,
    inbuf: Vec<u8>,
}

pub struct Sim {
    pub now: u64,
    pub brokers: BTreeMap<i32, u16>,
    pub topics: BTreeMap<String, Vec<SimPartition>>,
    conns: HashMap<u32, SimConn>,
    to_producer: VecDeque<(u32, Vec<u8>)>,
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
            t.insert(name.to_string(), (0..*n).map(|p| SimPartition { leader: p % brokers, epoch: 0, log: Vec::new() }).collect());
        }
        Sim {
            now: 1_700_000_000_000,
            brokers: (0..brokers).map(|b| (b, 9092)).collect(),
            topics: t,
            conns: HashMap::new(),
            to_producer: VecDeque::new(),
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
                        if self.brokers.get(&node) == Some(&port) {
                            self.conns.insert(conn, SimConn { node, inbuf: Vec::new() });
                            self.connecting.push_back(conn);
                        } else {
                            self.closing.push_back((conn, "unknown host".into()));
                        }
                    }
                    Output::Transmit { conn, data } => self.receive(conn, &data),
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
            while let Some((c, bytes)) = self.to_producer.pop_front() {
                moved = true;
                p.handle_received(c, &bytes, self.now);
            }
            while let Some((c, why)) = self.closing.pop_front() {
                moved = true;
                p.handle_closed(c, &why, self.now);
            }
            if moved {
                idle_wakeups = 0;
                continue;
            }
            match p.poll_timeout() {
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
            self.to_producer.push_back((conn, bytes));
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
            let node = c.node;
            self.handle_request(conn, node, &frame);
        }
    }

    fn handle_request(&mut self, conn: u32, node: i32, frame: &[u8]) {
        let mut r = Reader::new(frame);
        let api = r.i16("api").unwrap();
        let version = r.i16("version").unwrap();
        let cid = r.i32("cid").unwrap();
        r.nullable_str(false, "client id").unwrap();
        let flexible = match api {
            18 => version >= 3,
            _ => version >= 9,
        };
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
                let keys = [(0i16, 3i16, self.max_produce_version), (3, 4, self.max_metadata_version), (18, 0, 3)];
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
        self.to_producer.push_back((conn, out));
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
        for _ in 0..nt {
            let name = r.str(flex, "name").unwrap().to_string();
            let np = r.array_len(flex, 1, "partitions").unwrap();
            let mut parts = Vec::new();
            for _ in 0..np {
                let index = r.i32("index").unwrap();
                let len = if flex { r.uvarint("len").unwrap() as usize - 1 } else { r.i32("len").unwrap() as usize };
                let batch = r.take(len, "records").unwrap();
                if flex {
                    r.skip_tagged_fields().unwrap();
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
                match fault {
                    Some(Fault::Error(code)) => parts.push((index, code, -1, None)),
                    Some(Fault::DropBefore) => {
                        self.drop_conn(conn);
                        return None;
                    }
                    f => {
                        let base = p.log.len() as i64;
                        p.log.extend(decode_batch(batch));
                        parts.push((index, 0, base, None));
                        drop_after |= f == Some(Fault::DropAfter);
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
        w.i32(0); // throttle
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
        Some(out)
    }
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
    assert_eq!(r.i16("attributes").unwrap(), 0);
    let last_delta = r.i32("last offset delta").unwrap();
    let base_ts = r.i64("base ts").unwrap();
    r.i64("max ts").unwrap();
    r.i64("pid").unwrap();
    r.i16("epoch").unwrap();
    r.i32("seq").unwrap();
    let count = r.i32("count").unwrap();
    assert_eq!(last_delta, count - 1);
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

/// Sends `n` keyed records `k{i}` -> `v{i}` to `topic`; returns their ids.
pub fn send_n(p: &mut Producer, topic: &str, n: usize, now: u64) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let (k, v) = (format!("k{i}"), format!("v{i}"));
            p.send(topic, &Record { key: Some(k.as_bytes()), value: Some(v.as_bytes()), ..Default::default() }, now).expect("accepted")
        })
        .collect()
}
