//! A scripted Kafka cluster for the `producer` fuzz target: it decodes the
//! producer's requests, always answers the handshake (ApiVersions,
//! Metadata, InitProducerId) validly, and keeps every Produce request until
//! the input says what happens to it. Partitions keep real logs and Kafka's
//! per-producer sequence state (next sequence, the last 5 batches for
//! deduplication), so the producer's idempotence is checked against a
//! broker that behaves like one, not against random answers.

use std::collections::{BTreeMap, HashMap, VecDeque};

use kafka_producer_component::batch::{crc32c, read_records};
use kafka_producer_component::wire::Reader;

#[path = "answers.rs"]
mod answers;
pub use answers::PartResult;

pub const UNKNOWN_TOPIC: &str = "missing";

/// What Kafka remembers of one producer id on one partition.
#[derive(Debug, Clone, Default)]
pub struct PState {
    pub epoch: i16,
    pub last_seq: i32,
    /// (epoch, first sequence, last sequence, base offset), the last 5 batches.
    pub recent: VecDeque<(i16, i32, i32, i64)>,
}

#[derive(Debug, Default)]
pub struct Partition {
    pub leader: i32,
    pub leader_epoch: i32,
    /// Record ids (the "id" header the target stamps on every record).
    pub log: Vec<u64>,
    /// Offsets below this were deleted by retention.
    pub log_start: usize,
    pub producers: HashMap<i64, PState>,
}

/// A request waiting at the head of a connection's queue.
pub struct Request {
    pub api: i16,
    pub version: i16,
    pub cid: i32,
    pub body: Vec<u8>,
}

pub struct Conn {
    pub node: i32,
    inbuf: Vec<u8>,
    pub queue: VecDeque<Request>,
    /// A response was withheld: nothing more is answered on it.
    pub stuck: bool,
}

/// One partition's batch in a Produce request, decoded.
pub struct Batch {
    pub topic: usize,
    pub partition: i32,
    pub pid: i64,
    pub epoch: i16,
    pub seq: i32,
    pub ids: Vec<u64>,
}

pub struct Cluster {
    pub brokers: i32,
    pub topics: Vec<(String, Vec<Partition>)>,
    pub conns: BTreeMap<u32, Conn>,
    pub max_versions: [i16; 3], // Produce, Metadata, InitProducerId
    next_pid: i64,
    /// (pid) -> epoch last granted.
    granted: HashMap<i64, i16>,
    pub init_requests: u32,
    /// Bit k: the k-th InitProducerId is answered COORDINATOR_NOT_AVAILABLE.
    pub init_errors: u32,
    /// (topic, partition, pid, epoch, sequence) -> the record appended with it.
    pub written: HashMap<(usize, i32, i64, i16, i32), u64>,
    /// Which API keys were requested (for the reach counts).
    pub seen: [u32; 4],
    pub bumps: u32,
}

pub fn flexible(api: i16, version: i16) -> bool {
    match api {
        18 => version >= 3,
        22 => version >= 2,
        _ => version >= 9,
    }
}

impl Cluster {
    pub fn new(brokers: i32, partitions: &[u8], max_versions: [i16; 3], init_errors: u32) -> Cluster {
        let topics = partitions
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                let parts = (0..n as i32).map(|p| Partition { leader: (p + t as i32) % brokers, ..Default::default() }).collect();
                (format!("t{t}"), parts)
            })
            .collect();
        Cluster {
            brokers,
            topics,
            conns: BTreeMap::new(),
            max_versions,
            next_pid: 1000,
            granted: HashMap::new(),
            init_requests: 0,
            init_errors,
            written: HashMap::new(),
            seen: [0; 4],
            bumps: 0,
        }
    }

    pub fn topic_index(&self, name: &str) -> Option<usize> {
        self.topics.iter().position(|(n, _)| n == name)
    }

    pub fn connect(&mut self, conn: u32, node: i32) {
        self.conns.insert(conn, Conn { node, inbuf: Vec::new(), queue: VecDeque::new(), stuck: false });
    }

    /// Bytes from the producer: queued as whole requests.
    pub fn receive(&mut self, conn: u32, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.inbuf.extend_from_slice(data);
        let mut frames = Vec::new();
        while c.inbuf.len() >= 4 {
            let size = i32::from_be_bytes(c.inbuf[..4].try_into().unwrap());
            assert!(size >= 8, "request frame of {size} bytes");
            if c.inbuf.len() < 4 + size as usize {
                break;
            }
            frames.push(c.inbuf.drain(..4 + size as usize).skip(4).collect::<Vec<u8>>());
        }
        for frame in frames {
            let mut r = Reader::new(&frame);
            let api = r.i16("api").unwrap();
            let version = r.i16("version").unwrap();
            let cid = r.i32("cid").unwrap();
            r.nullable_str(false, "client id").expect("request header");
            if flexible(api, version) {
                r.skip_tagged_fields().expect("request header tags");
            }
            let body = frame[frame.len() - r.remaining()..].to_vec();
            let slot = match api {
                18 => 0,
                3 => 1,
                22 => 2,
                0 => 3,
                other => panic!("the producer sent ApiKey {other}"),
            };
            self.seen[slot] += 1;
            let c = self.conns.get_mut(&conn).unwrap();
            c.queue.push_back(Request { api, version, cid, body });
        }
    }

    /// Decodes a Produce request: acks and its batches. A malformed
    /// request or batch is a producer bug.
    pub fn decode_produce(&self, req: &Request) -> (i16, Vec<Batch>) {
        let flex = flexible(0, req.version);
        let mut r = Reader::new(&req.body);
        r.nullable_str(flex, "txn").expect("produce");
        let acks = r.i16("acks").expect("produce");
        r.i32("timeout").expect("produce");
        let mut out = Vec::new();
        for _ in 0..r.array_len(flex, 1, "topics").expect("produce") {
            let name = r.str(flex, "name").expect("produce");
            let topic = self.topic_index(name).unwrap_or_else(|| panic!("produce to topic {name} absent from metadata"));
            for _ in 0..r.array_len(flex, 1, "partitions").expect("produce") {
                let partition = r.i32("index").expect("produce");
                let len = if flex { r.uvarint("len").unwrap() as usize - 1 } else { r.i32("len").unwrap() as usize };
                let b = r.take(len, "records").expect("produce");
                if flex {
                    r.skip_tagged_fields().expect("produce");
                }
                assert!((partition as usize) < self.topics[topic].1.len(), "partition {partition} out of range");
                out.push(decode_batch(topic, partition, b));
            }
            if flex {
                r.skip_tagged_fields().expect("produce");
            }
        }
        if flex {
            r.skip_tagged_fields().expect("produce");
        }
        assert_eq!(r.remaining(), 0, "bytes after a produce request");
        (acks, out)
    }

    /// A sequence once written (appended) in an epoch never names another
    /// record in a later batch of that epoch. (One that failed without
    /// being written may: the producer shifts later batches down into it.)
    pub fn check_sequences(&self, b: &Batch) {
        if b.pid < 0 {
            return;
        }
        for (i, id) in b.ids.iter().enumerate() {
            let key = (b.topic, b.partition, b.pid, b.epoch, b.seq.wrapping_add(i as i32));
            if let Some(&was) = self.written.get(&key) {
                assert_eq!(was, *id, "sequence {key:?} (topic, partition, pid, epoch, seq) was written with record {was}, now sent with record {id}");
            }
        }
    }

    /// The log append with Kafka's sequence check: Ok(base offset), or the
    /// original offset for a duplicate (`true`), or an error code.
    pub fn append(&mut self, b: &Batch) -> Result<(i64, bool), i16> {
        let part = &mut self.topics[b.topic].1[b.partition as usize];
        let n = b.ids.len() as i32;
        if b.pid >= 0 {
            let st = part.producers.entry(b.pid).or_insert(PState { epoch: b.epoch, last_seq: -1, recent: VecDeque::new() });
            let fresh = st.recent.is_empty() && st.last_seq == -1;
            if b.epoch < st.epoch {
                return Err(47);
            }
            if let Some(&(_, _, _, off)) = st.recent.iter().find(|r| r.0 == b.epoch && r.1 == b.seq && r.2 == b.seq.wrapping_add(n - 1)) {
                return Ok((off, true));
            }
            if fresh && b.seq != 0 {
                return Err(59); // UNKNOWN_PRODUCER_ID: no state for it
            }
            if b.epoch > st.epoch {
                if b.seq != 0 {
                    return Err(45);
                }
            } else if !fresh && b.seq != st.last_seq.wrapping_add(1) {
                return Err(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
            }
            let base = part.log.len() as i64;
            if b.epoch > st.epoch {
                st.recent.clear();
            }
            st.epoch = b.epoch;
            st.last_seq = b.seq.wrapping_add(n - 1);
            st.recent.push_back((b.epoch, b.seq, st.last_seq, base));
            if st.recent.len() > 5 {
                st.recent.pop_front();
            }
            for (i, id) in b.ids.iter().enumerate() {
                self.written.insert((b.topic, b.partition, b.pid, b.epoch, b.seq.wrapping_add(i as i32)), *id);
            }
        }
        let base = part.log.len() as i64;
        part.log.extend_from_slice(&b.ids);
        Ok((base, false))
    }

    /// Retention deleted the partition's log and with it every producer's
    /// state: the next batch of a producer not starting at 0 is refused.
    pub fn lose_state(&mut self, topic: usize, partition: i32) {
        let p = &mut self.topics[topic].1[partition as usize];
        p.producers.clear();
        p.log_start = p.log.len();
    }

    /// Leadership of a partition moves to the next broker.
    pub fn move_leader(&mut self, topic: usize, partition: i32) -> (i32, i32) {
        let brokers = self.brokers;
        let p = &mut self.topics[topic].1[partition as usize];
        p.leader = (p.leader + 1) % brokers;
        p.leader_epoch += 1;
        (p.leader, p.leader_epoch)
    }
}

/// Checks a RecordBatch v2 (lengths, magic, CRC, counts) and reads the
/// record ids from the "id" header.
fn decode_batch(topic: usize, partition: i32, b: &[u8]) -> Batch {
    assert!(b.len() >= 61, "batch of {} bytes", b.len());
    let be32 = |at: usize| i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(be32(8) as usize, b.len() - 12, "batchLength");
    assert_eq!(b[16], 2, "magic");
    assert_eq!(be32(17) as u32, crc32c(&b[21..]), "CRC");
    let pid = i64::from_be_bytes(b[43..51].try_into().unwrap());
    let epoch = i16::from_be_bytes(b[51..53].try_into().unwrap());
    let seq = be32(53);
    let count = be32(57);
    assert_eq!(be32(23), count - 1, "lastOffsetDelta");
    let mut ids = Vec::new();
    read_records(b, |rec, _| {
        let h = rec.headers.iter().find(|h| h.key == "id").expect("record without its id header");
        ids.push(u64::from_be_bytes(h.value.expect("id").try_into().expect("8-byte id")));
    })
    .expect("the producer's batch reads back");
    assert_eq!(ids.len() as i32, count, "record count");
    if pid < 0 {
        assert_eq!((epoch, seq), (-1, -1), "no producer id but an epoch or sequence");
    }
    Batch { topic, partition, pid, epoch, seq, ids }
}
