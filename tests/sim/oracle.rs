//! The test's own account of what was sent, and the checks of what the
//! cluster and the reports show against it. Nothing here comes from the
//! producer: record ids are the test's, partitions are computed by a
//! murmur2 written for the test (checked against Apache Kafka's vectors in
//! `tests/simulated.rs`), records are compared byte for byte with what the
//! brokers decoded with an independent decoder.

use std::collections::{BTreeMap, HashMap};

use kafka_producer_component::{ErrorKind, Header, ProduceError, Producer, Record, RecordId};

use super::records::Stored;
use super::Sim;

/// A record as the test sent it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub topic: String,
    pub record: Stored,
    /// The partition the test chose, if any.
    pub partition: Option<i32>,
    /// Simulated time of `send`.
    pub sent_at: u64,
}

/// Java's `Utils.murmur2`, written again for the test from Kafka's source.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let rest = chunks.remainder();
    for (i, b) in rest.iter().enumerate().rev() {
        h ^= (*b as u32) << (8 * i);
    }
    if !rest.is_empty() {
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The Java client's partition for a key: `toPositive(murmur2(key)) % n`.
pub fn java_partition(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions
}

/// Error codes the test's brokers answer that no retry can cure (the Java
/// client's classification, written down here independently of the
/// producer's table): INVALID_RECORD; MESSAGE_TOO_LARGE, which the
/// producer may instead cure by splitting; CLUSTER_AUTHORIZATION_FAILED for
/// InitProducerId.
pub const FATAL: [i16; 3] = [87, 10, 31];

/// A small deterministic PRNG (xorshift64).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

impl Sim {
    /// Sends `rec` and, if accepted, records it as the test's record
    /// number `sent.len()`: the oracle then expects exactly it, byte for
    /// byte, wherever its report says it is.
    pub fn send(&mut self, p: &mut Producer, topic: &str, rec: &Record<'_>) -> Result<RecordId, ProduceError> {
        let id = p.send(topic, rec, self.now)?;
        let record = Stored {
            key: rec.key.map(<[u8]>::to_vec),
            value: rec.value.map(<[u8]>::to_vec),
            headers: rec.headers.iter().map(|h| (h.key.as_bytes().to_vec(), h.value.map(<[u8]>::to_vec))).collect(),
            timestamp: rec.timestamp.unwrap_or(self.now as i64),
        };
        let n = self.sent.len();
        assert!(self.by_content.insert(record.clone(), n).is_none(), "the test sent the same record twice: {record:?}");
        self.by_producer_id.insert(id, n);
        self.sent.push(Sent { topic: topic.into(), record, partition: rec.partition, sent_at: self.now });
        Ok(id)
    }

    /// Sends `n` records of varied shape to `topic`: keyed (some keys hash
    /// negative, where toPositive matters) and keyless, values of a few
    /// to a few dozen bytes of any value (some null), zero to three
    /// headers, explicit timestamps and partitions now and then. Each
    /// record's content is unique (the value, or for a null value the
    /// key, names the test's record number). Returns the producer's ids.
    pub fn send_n(&mut self, p: &mut Producer, topic: &str, n: usize) -> Vec<RecordId> {
        let partitions = self.topics.get(topic).map(|t| t.len() as u64);
        (0..n)
            .map(|_| {
                let no = self.sent.len();
                let rng = &mut self.records_rng;
                let mut key = match rng.below(10) {
                    0..=2 => None,
                    3..=5 => Some(format!("k{}", no % 37).into_bytes()),
                    _ => Some(rng.bytes(16)),
                };
                let value = if rng.below(20) == 0 {
                    key = Some(format!("null-value-{no}").into_bytes());
                    None
                } else {
                    let mut v = format!("id{no}:").into_bytes();
                    v.extend(rng.bytes(24));
                    Some(v)
                };
                let header_values: Vec<Option<Vec<u8>>> =
                    (0..rng.below(4)).map(|_| (rng.below(4) != 0).then(|| rng.bytes(8))).collect();
                let timestamp = (rng.below(5) == 0).then(|| self.now as i64 - rng.below(100_000) as i64);
                let partition = partitions.filter(|_| rng.below(10) == 0).map(|n| rng.below(n) as i32);
                const NAMES: [&str; 3] = ["trace-id", "h1", ""];
                let headers: Vec<Header<'_>> = header_values.iter().enumerate().map(|(i, v)| Header { key: NAMES[i], value: v.as_deref() }).collect();
                let rec = Record { key: key.as_deref(), value: value.as_deref(), headers: &headers, partition, timestamp };
                self.send(p, topic, &rec).expect("accepted")
            })
            .collect()
    }

    /// The test's number for one of the producer's record ids.
    pub fn record_number(&self, id: RecordId) -> usize {
        self.by_producer_id[&id]
    }

    /// The complete oracle for every record the test sent through
    /// `Sim::send`:
    /// - exactly one report each, and no report for anything else;
    /// - a delivered record is in the log of the topic and partition its
    ///   report names, at its reported offset (anywhere in that log when
    ///   the broker reported no offset), byte-exact: key, value, headers,
    ///   timestamp; its partition is the one the test chose, or for a key
    ///   the Java client's murmur2 partition; its report came within
    ///   `delivery.timeout.ms` of its send;
    /// - every record in every log is one the test sent, on its topic;
    /// - with `exactly_once` (idempotence), no record is in the logs twice
    ///   and each partition holds its records in send order.
    pub fn check_delivery(&self, exactly_once: bool) {
        let mut seen: HashMap<RecordId, usize> = HashMap::new();
        for (r, &at) in self.reports.iter().zip(&self.report_times) {
            for (i, id) in r.records.iter().enumerate() {
                *seen.entry(*id).or_default() += 1;
                let Some(&no) = self.by_producer_id.get(id) else { panic!("a report for record {id}, which the test never sent") };
                let sent = &self.sent[no];
                if r.error.is_some() {
                    continue;
                }
                assert_eq!(r.topic, sent.topic, "record {no} reported on another topic");
                let parts = &self.topics[&r.topic];
                let n = parts.len() as i32;
                let want = sent.partition.or_else(|| sent.record.key.as_deref().map(|k| java_partition(k, n)));
                if let Some(want) = want {
                    assert_eq!(r.partition, want, "record {no} (key {:?}) reported on partition {}, not {want}", sent.record.key, r.partition);
                }
                let part = &parts[r.partition as usize];
                if r.base_offset >= 0 {
                    let offset = (r.base_offset + i as i64) as usize;
                    if offset >= part.log_start {
                        let stored = part.log.get(offset);
                        assert_eq!(stored, Some(&sent.record), "record {no}: not at {}-{}@{offset}", r.topic, r.partition);
                    }
                } else {
                    assert!(part.log[part.log_start..].contains(&sent.record), "record {no} reported delivered, not in {}-{}", r.topic, r.partition);
                }
                assert!(at <= sent.sent_at + self.delivery_timeout_ms, "record {no} delivered {} ms after its send", at - sent.sent_at);
            }
        }
        for (id, count) in &seen {
            assert_eq!(*count, 1, "record {id}: {count} reports");
        }
        for id in self.by_producer_id.keys() {
            assert!(seen.contains_key(id), "record {} (producer id {id}) got no report", self.by_producer_id[id]);
        }
        let mut placed: BTreeMap<usize, (String, usize)> = BTreeMap::new();
        for (topic, parts) in &self.topics {
            for (p, part) in parts.iter().enumerate() {
                let mut last = None;
                for s in part.log[part.log_start..].iter().filter(|s| !s.is_control()) {
                    let Some(&no) = self.by_content.get(s) else { panic!("{topic}-{p} holds a record the test never sent: {s:?}") };
                    assert_eq!(&self.sent[no].topic, topic, "record {no} in {topic}-{p}");
                    if exactly_once {
                        let before = placed.insert(no, (topic.clone(), p));
                        assert!(before.is_none(), "record {no} written twice: {before:?} and {topic}-{p}");
                        assert!(last < Some(no), "{topic}-{p}: record {no} after record {last:?}: out of send order");
                        last = Some(no);
                    }
                }
            }
        }
    }

    /// Liveness, for schedules whose faults all end (every fault is used
    /// up and the cluster heals): a record fails only with a fatal error
    /// code the brokers gave it (in a Produce answer for a batch holding
    /// it, or in the InitProducerId answer), never with a timeout or a
    /// retriable code; and a record answered INVALID_RECORD is never
    /// delivered. So every record hit only by transient faults (retriable
    /// errors, drops, stalls, leader moves, throttles, lost producer state)
    /// is delivered, within its delivery timeout (`check_delivery`).
    pub fn check_liveness(&self) {
        for r in &self.reports {
            for id in &r.records {
                let no = self.by_producer_id[id];
                let answers = self.answers.get(&no).map(Vec::as_slice).unwrap_or(&[]);
                let maybe = self.answers_maybe_read.get(&no).map(Vec::as_slice).unwrap_or(&[]);
                match &r.error {
                    None => assert!(!answers.contains(&87), "record {no} was answered INVALID_RECORD, yet delivered"),
                    Some(e) => {
                        let given = answers.iter().chain(maybe).chain(&self.fatal_init);
                        let fatal = e.kind == ErrorKind::Broker && given.into_iter().any(|&c| c == e.code && FATAL.contains(&c));
                        assert!(
                            fatal,
                            "liveness: record {no} failed ({:?}, code {}: {}) though the brokers answered it only {answers:?}",
                            e.kind, e.code, e.message
                        );
                    }
                }
            }
        }
    }
}
