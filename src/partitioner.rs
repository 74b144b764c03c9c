//! Chooses a record's partition: an explicit partition wins; otherwise the
//! `partitioner` setting decides, with the hashes other clients use:
//!
//! * `murmur2_random` (default; the Java client's): a keyed record goes to
//!   `toPositive(murmur2(key)) % n`; `murmur2` hashes a null key as empty.
//! * `consistent_random` (librdkafka's default) / `consistent`: CRC-32
//!   (IEEE, librdkafka's `rd_crc32`) of the key `% n`, unmasked.
//! * `fnv1a_random` / `fnv1a` (Sarama's hash partitioner): FNV-1a 32-bit,
//!   absolute value as i32, `% n`.
//! * `random`: keys ignored.
//!
//! Keyless records under the `_random` variants and `random` stick to one
//! partition until that partition's batch is sent or full, then move on
//! (KIP-480), as librdkafka does for its `_random` variants with
//! `sticky.partitioning.linger.ms` > 0. Which records count as keyless
//! follows `rd_kafka_msg_partition` in librdkafka 2.12.1: a null key, and
//! for `consistent_random` also an empty key. librdkafka's own `random`
//! picks a partition per record; ours is sticky, deliberately.
//! The non-`_random` variants hash every record, a null key as zero bytes.

use crate::config::PartitionerKind;

/// Java's `Utils.murmur2` (seed 0x9747b28c), bit for bit.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Java's default partitioner gives `key` among `partitions`.
pub fn murmur2_partition(key: &[u8], partitions: u32) -> u32 {
    ((murmur2(key) & 0x7fff_ffff) as u32) % partitions
}

/// librdkafka's `rd_crc32`: the standard IEEE CRC-32 (reflected, poly
/// 0x04c11db7, init and xorout 0xffffffff); `crc32(b"123456789")` is
/// 0xCBF43926 and the CRC of zero bytes is 0.
pub fn crc32(data: &[u8]) -> u32 {
    static CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    CRC32.checksum(data)
}

/// librdkafka's `consistent` partition: `rd_crc32(key) % n`, the CRC taken
/// as unsigned (no mask).
pub fn consistent_partition(key: &[u8], partitions: u32) -> u32 {
    crc32(key) % partitions
}

/// librdkafka's `rd_fnv1a`: FNV-1a 32-bit computed in an `int32_t`, then
/// its absolute value (to match Sarama); `i32::MIN` stays 0x8000_0000.
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h as i32).wrapping_abs() as u32
}

/// librdkafka's `fnv1a` partition: `rd_fnv1a(key) % n`.
pub fn fnv1a_partition(key: &[u8], partitions: u32) -> u32 {
    fnv1a(key) % partitions
}

/// A small deterministic PRNG (xorshift64*): the core never reads entropy;
/// the host seeds it through the creation time.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    pub fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            0
        } else {
            self.next_u32() % n
        }
    }
}

/// What the partitioner needs to know about one topic.
pub struct TopicView<'a> {
    /// Number of partitions.
    pub partitions: u32,
    /// The sticky partition for keyless records, if one is chosen.
    pub sticky: &'a mut Option<u32>,
}

/// Picks partitions. Stateless but for the PRNG; each topic's sticky choice
/// lives with its queues in the accumulator (`TopicQueues::sticky`) and is
/// moved on by `on_batch_closed`: when the sender drains the sticky
/// partition's open batch, or when a keyless record would start a new
/// batch there (KIP-480).
pub struct Partitioner {
    kind: PartitionerKind,
    rng: Rng,
}

impl Partitioner {
    pub fn new(kind: PartitionerKind, seed: u64) -> Self {
        Partitioner { kind, rng: Rng::new(seed) }
    }

    /// The partition for a record with `key` and no explicit partition.
    pub fn partition(&mut self, key: Option<&[u8]>, topic: TopicView<'_>) -> u32 {
        let n = topic.partitions.max(1);
        use PartitionerKind as K;
        match (self.kind, key) {
            (K::Murmur2Random | K::Murmur2, Some(k)) => murmur2_partition(k, n),
            (K::Murmur2, None) => murmur2_partition(&[], n),
            (K::ConsistentRandom, Some(k)) if !k.is_empty() => consistent_partition(k, n),
            (K::Consistent, k) => consistent_partition(k.unwrap_or(&[]), n),
            (K::Fnv1aRandom | K::Fnv1a, Some(k)) => fnv1a_partition(k, n),
            (K::Fnv1a, None) => fnv1a_partition(&[], n),
            // Keyless (null; for consistent_random also empty) under the
            // `_random` variants, and everything under `random`: sticky
            // per batch (KIP-480), not librdkafka's per-record random.
            (K::Murmur2Random | K::ConsistentRandom | K::Fnv1aRandom, _) | (K::Random, _) => match *topic.sticky {
                Some(p) if p < n => p,
                _ => {
                    let p = self.rng.below(n);
                    *topic.sticky = Some(p);
                    p
                }
            },
        }
    }

    /// Moves a topic's sticky partition on after `closed` (its batch) was
    /// sent, to a different partition where there is more than one.
    pub fn on_batch_closed(&mut self, closed: u32, topic: TopicView<'_>) {
        if *topic.sticky != Some(closed) {
            return;
        }
        let n = topic.partitions;
        *topic.sticky = Some(if n <= 1 { 0 } else { (closed + 1 + self.rng.below(n - 1)) % n });
    }
}

#[cfg(test)]
#[path = "tests/partitioner.rs"]
mod tests;
