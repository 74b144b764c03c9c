//! Statistics: the producer's counters, the snapshot a host asks for, and
//! the JSON line `statistics.interval.ms` emits, with librdkafka's field
//! names where the meaning is the same (see README, Statistics).
//!
//! Counting costs no allocation per record: plain integers bumped where
//! things happen (a record accepted, a batch sealed, reported or retried, a
//! request sent or answered), and fixed log-scale histograms ([`Window`])
//! for latencies and batch sizes, like librdkafka's HDR histograms but
//! small. A broker's or a partition's counters are made the first time it
//! is seen. Windows cover the time since the last emitted JSON (or since
//! the start, without `statistics.interval.ms`); everything else is
//! cumulative or a gauge read when the snapshot is taken.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

// ---- the histogram ----

/// Values below this each have a bucket of their own.
const LINEAR: u64 = 16;
/// Buckets per power of two above `LINEAR` (3 bits: at most 12.5% apart).
const SUB_BITS: u32 = 3;
const BUCKETS: usize = LINEAR as usize + (64 - 4) * (1 << SUB_BITS);

/// A window of values: count, sum, min, max and a log-scale histogram for
/// percentiles (each reported as the top of its bucket, so at most 12.5%
/// above the true value, and never above `max`).
#[derive(Clone)]
pub struct Window {
    counts: [u32; BUCKETS],
    cnt: u64,
    sum: u64,
    min: u64,
    max: u64,
}

impl Default for Window {
    fn default() -> Self {
        Window { counts: [0; BUCKETS], cnt: 0, sum: 0, min: 0, max: 0 }
    }
}

impl core::fmt::Debug for Window {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Window {:?}", self.summary())
    }
}

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 4
    let sub = (v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + ((e - 4) as usize) * (1 << SUB_BITS) + sub as usize
}

/// The largest value in bucket `i`.
fn bucket_top(i: usize) -> u64 {
    if i < LINEAR as usize {
        return i as u64;
    }
    let k = i - LINEAR as usize;
    let e = (k >> SUB_BITS) as u32 + 4;
    let sub = (k & ((1 << SUB_BITS) - 1)) as u64;
    let low = (1u64 << e) + (sub << (e - SUB_BITS));
    low.saturating_add((1u64 << (e - SUB_BITS)) - 1)
}

impl Window {
    pub fn record(&mut self, v: u64) {
        let i = bucket(v);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.min = if self.cnt == 0 { v } else { self.min.min(v) };
        self.max = self.max.max(v);
        self.cnt += 1;
        self.sum = self.sum.saturating_add(v);
    }

    pub fn reset(&mut self) {
        *self = Window::default();
    }

    /// Adds `other`'s samples to this window's.
    pub fn merge(&mut self, other: &Window) {
        if other.cnt == 0 {
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.min = if self.cnt == 0 { other.min } else { self.min.min(other.min) };
        self.max = self.max.max(other.max);
        self.cnt += other.cnt;
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// The value at or below which a fraction `q` of the values lie.
    fn percentile(&self, q: f64) -> u64 {
        if self.cnt == 0 {
            return 0;
        }
        let exact = q * self.cnt as f64;
        let whole = exact as u64;
        let rank = (whole + u64::from((whole as f64) < exact)).clamp(1, self.cnt);
        let mut seen = 0u64;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return bucket_top(i).clamp(self.min, self.max);
            }
        }
        self.max
    }

    pub fn summary(&self) -> WindowStats {
        WindowStats {
            min: self.min,
            max: self.max,
            avg: self.sum.checked_div(self.cnt).unwrap_or(0),
            sum: self.sum,
            cnt: self.cnt,
            p50: self.percentile(0.50),
            p75: self.percentile(0.75),
            p90: self.percentile(0.90),
            p95: self.percentile(0.95),
            p99: self.percentile(0.99),
            p99_99: self.percentile(0.9999),
        }
    }
}

// ---- the counters ----

/// One partition's counters.
#[derive(Debug, Default, Clone)]
pub struct PartitionCounters {
    pub txmsgs: u64,
    pub txbytes: u64,
    pub failed: u64,
    pub retries: u64,
    /// Batches sealed (compressed, written once) for sending.
    pub batches: u64,
    pub batch_records: u64,
    pub uncompressed: u64,
    pub compressed: u64,
}

/// One topic's windows: sizes and record counts of the batches sealed.
#[derive(Debug, Default, Clone)]
pub struct TopicWindows {
    pub batchsize: Window,
    pub batchcnt: Window,
}

/// The producer's own counters (the network client keeps [`Wire`]).
#[derive(Debug, Default)]
pub struct Counters {
    /// `statistics.interval.ms`; 0: no JSON is emitted.
    pub interval_ms: u64,
    pub next_emit: Option<u64>,
    final_emitted: bool,
    pub started_ms: u64,
    pub msgs: u64,
    pub txmsgs: u64,
    pub txmsg_bytes: u64,
    pub failed: u64,
    pub txretries: u64,
    pub epoch_bumps: u64,
    pub splits: u64,
    pub epoch_cnt: u64,
    /// By topic index, then partition.
    pub partitions: Vec<Vec<PartitionCounters>>,
    pub topics: Vec<TopicWindows>,
}

impl Counters {
    pub fn new(interval_ms: u64, now: u64) -> Self {
        Counters { interval_ms, next_emit: (interval_ms > 0).then(|| now.saturating_add(interval_ms)), started_ms: now, ..Default::default() }
    }

    fn partition(&mut self, t: usize, p: i32) -> Option<&mut PartitionCounters> {
        let p = usize::try_from(p).ok()?;
        if self.partitions.len() <= t {
            self.partitions.resize_with(t + 1, Vec::new);
        }
        let parts = &mut self.partitions[t];
        if parts.len() <= p {
            parts.resize_with(p + 1, PartitionCounters::default);
        }
        Some(&mut parts[p])
    }

    /// A record was accepted.
    pub fn accepted(&mut self) {
        self.msgs += 1;
    }

    /// A batch of `records` was sealed for sending: `uncompressed` bytes
    /// as written, `compressed` as sent.
    pub fn sealed(&mut self, t: usize, p: i32, records: usize, uncompressed: usize, compressed: usize) {
        if self.topics.len() <= t {
            self.topics.resize_with(t + 1, TopicWindows::default);
        }
        self.topics[t].batchsize.record(compressed as u64);
        self.topics[t].batchcnt.record(records as u64);
        if let Some(c) = self.partition(t, p) {
            c.batches += 1;
            c.batch_records += records as u64;
            c.uncompressed += uncompressed as u64;
            c.compressed += compressed as u64;
        }
    }

    /// `records` got their report: delivered in a batch of `bytes`, or failed.
    pub fn reported(&mut self, t: usize, p: i32, records: usize, bytes: usize, delivered: bool) {
        let n = records as u64;
        if delivered {
            self.txmsgs += n;
            self.txmsg_bytes += bytes as u64;
        } else {
            self.failed += n;
        }
        if let Some(c) = self.partition(t, p) {
            if delivered {
                c.txmsgs += n;
                c.txbytes += bytes as u64;
            } else {
                c.failed += n;
            }
        }
    }

    /// A batch goes back for another attempt.
    pub fn retried(&mut self, t: usize, p: i32) {
        self.txretries += 1;
        if let Some(c) = self.partition(t, p) {
            c.retries += 1;
        }
    }

    /// Whether JSON is due at `now` (and the next emission is scheduled);
    /// `last`: the producer finished closing, one final emission.
    pub fn due(&mut self, now: u64, last: bool) -> bool {
        let Some(at) = self.next_emit else { return false };
        if last {
            if self.final_emitted {
                return false;
            }
            self.final_emitted = true;
            self.next_emit = None;
            return true;
        }
        if now < at {
            return false;
        }
        // Skipped periods are not made up for.
        let periods = (now - at) / self.interval_ms + 1;
        self.next_emit = Some(at.saturating_add(periods.saturating_mul(self.interval_ms)));
        true
    }

    pub fn reset_windows(&mut self) {
        for t in &mut self.topics {
            t.batchsize.reset();
            t.batchcnt.reset();
        }
    }
}

/// One broker's wire counters (a bootstrap connection's under its
/// negative node id).
#[derive(Debug, Default, Clone)]
pub struct BrokerCounters {
    pub connects: u64,
    pub disconnects: u64,
    pub tx: u64,
    pub txbytes: u64,
    pub rx: u64,
    pub rxbytes: u64,
    pub req_timeouts: u64,
    /// Milliseconds from a request handed to the host to its response
    /// read (the core's clock is in milliseconds).
    pub rtt: Window,
    pub throttle: Window,
}

/// Request counters per broker, kept by the network client.
#[derive(Debug, Default)]
pub struct Wire {
    pub brokers: BTreeMap<i32, BrokerCounters>,
}

impl Wire {
    pub fn broker(&mut self, node: i32) -> &mut BrokerCounters {
        self.brokers.entry(node).or_default()
    }

    /// A request of `bytes` (before TLS) went to `node`.
    pub fn sent(&mut self, node: i32, bytes: usize) {
        let b = self.broker(node);
        b.tx += 1;
        b.txbytes += bytes as u64;
    }

    /// A response frame of `bytes` (before TLS, size prefix included) came
    /// from `node`, `rtt_ms` after its request.
    pub fn received(&mut self, node: i32, bytes: usize, rtt_ms: u64) {
        let b = self.broker(node);
        b.rx += 1;
        b.rxbytes += bytes as u64;
        b.rtt.record(rtt_ms.saturating_mul(1000));
    }

    /// A bootstrap server's connection became broker `node`'s (the same
    /// address): its counts are that broker's from now on.
    pub fn merge(&mut self, bootstrap: i32, node: i32) {
        let Some(from) = self.brokers.remove(&bootstrap) else { return };
        let to = self.broker(node);
        to.connects += from.connects;
        to.disconnects += from.disconnects;
        to.tx += from.tx;
        to.txbytes += from.txbytes;
        to.rx += from.rx;
        to.rxbytes += from.rxbytes;
        to.req_timeouts += from.req_timeouts;
        to.rtt.merge(&from.rtt);
        to.throttle.merge(&from.throttle);
    }

    pub fn reset_windows(&mut self) {
        for b in self.brokers.values_mut() {
            b.rtt.reset();
            b.throttle.reset();
        }
    }
}

// ---- the snapshot ----

/// A window's summary, as librdkafka's window stats.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WindowStats {
    pub min: u64,
    pub max: u64,
    pub avg: u64,
    pub sum: u64,
    pub cnt: u64,
    pub p50: u64,
    pub p75: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p99_99: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Statistics {
    /// `client.id` + `#producer`.
    pub name: String,
    pub client_id: String,
    /// The host's clock at the snapshot, microseconds.
    pub ts: u64,
    /// The same in seconds (the host's clock is Unix time).
    pub time: u64,
    /// Since the producer was created, microseconds.
    pub age: u64,
    pub msg_cnt: u64,
    pub msg_size: u64,
    pub msg_max: u64,
    pub msg_size_max: u64,
    pub msgs: u64,
    pub txmsgs: u64,
    pub txmsg_bytes: u64,
    pub msgs_failed: u64,
    pub txretries: u64,
    pub tx: u64,
    pub txbytes: u64,
    pub rx: u64,
    pub rxbytes: u64,
    pub waitresp_cnt: u64,
    pub epoch_bumps: u64,
    pub splits: u64,
    /// -1 without a producer id.
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub epoch_cnt: u64,
    /// The transactional state by librdkafka's names (Init, WaitPID,
    /// Ready, InTransaction, CommittingTransaction, AbortingTransaction,
    /// AbortableError, FatalError).
    pub txn_state: String,
    /// Whether `send` accepts records now (in a transaction, or always
    /// without `transactional.id`).
    pub txn_may_enq: bool,
    pub brokers: Vec<BrokerStatistics>,
    pub topics: Vec<TopicStatistics>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct BrokerStatistics {
    /// `host:port/id` (`host:port/bootstrap` for a bootstrap server).
    pub name: String,
    pub nodeid: i32,
    pub nodename: String,
    /// INIT, CONNECT, SSL_HANDSHAKE, APIVERSION_QUERY, AUTH_HANDSHAKE, UP, DOWN.
    pub state: &'static str,
    pub connects: u64,
    pub disconnects: u64,
    pub tx: u64,
    pub txbytes: u64,
    pub rx: u64,
    pub rxbytes: u64,
    pub req_timeouts: u64,
    pub waitresp_cnt: u64,
    pub rtt: WindowStats,
    pub throttle: WindowStats,
    /// Partitions it leads.
    pub toppars: Vec<(String, i32)>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct TopicStatistics {
    pub topic: String,
    pub batchsize: WindowStats,
    pub batchcnt: WindowStats,
    pub partitions: Vec<PartitionStatistics>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct PartitionStatistics {
    pub partition: i32,
    /// -1 when unknown.
    pub leader: i32,
    pub msgq_cnt: u64,
    pub msgq_bytes: u64,
    pub msgs_inflight: u64,
    pub txmsgs: u64,
    pub txbytes: u64,
    pub msgs_failed: u64,
    pub txretries: u64,
    pub batches: u64,
    pub batchsize_avg: u64,
    pub batchcnt_avg: u64,
    /// Uncompressed over compressed bytes of the batches sealed (1.0
    /// without compression; 0 before any batch).
    pub compression_ratio: f64,
}

impl PartitionStatistics {
    pub fn counted(partition: i32, leader: i32, c: &PartitionCounters) -> Self {
        PartitionStatistics {
            partition,
            leader,
            txmsgs: c.txmsgs,
            txbytes: c.txbytes,
            msgs_failed: c.failed,
            txretries: c.retries,
            batches: c.batches,
            batchsize_avg: c.compressed.checked_div(c.batches).unwrap_or(0),
            batchcnt_avg: c.batch_records.checked_div(c.batches).unwrap_or(0),
            compression_ratio: if c.compressed == 0 { 0.0 } else { c.uncompressed as f64 / c.compressed as f64 },
            ..Default::default()
        }
    }
}

mod json;
mod wit;

pub use json::escape;

#[cfg(test)]
#[path = "../tests/statistics.rs"]
mod tests;
