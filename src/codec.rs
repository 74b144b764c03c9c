//! RecordBatch compression (`compression.type`): the records section of a
//! batch is compressed as one block, in the framing every Kafka consumer
//! reads:
//!
//! - gzip: a gzip member (RFC 1952) around raw deflate (miniz_oxide);
//! - snappy: the xerial snappy-java framing the Java producer writes
//!   (librdkafka, kafka-python and Java consumers all read it), around raw
//!   snappy blocks from a small compressor in this module (the pure-Rust
//!   `snap` crate needs std);
//! - lz4: the standard LZ4 frame format (lz4_flex blocks, independent,
//!   64 KiB), as Kafka requires since message format v1;
//! - zstd: a zstd frame (ruzstd; only its "fastest" level exists).
//!
//! All pure Rust, `no_std` + `alloc`, so the component needs no C toolchain.

use alloc::vec::Vec;

use serde::Deserialize;

/// `compression.type`, with its RecordBatch attributes id (bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Codec {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "gzip")]
    Gzip,
    #[serde(rename = "snappy")]
    Snappy,
    #[serde(rename = "lz4")]
    Lz4,
    #[serde(rename = "zstd")]
    Zstd,
}

impl Codec {
    pub fn attribute(self) -> i16 {
        match self {
            Codec::None => 0,
            Codec::Gzip => 1,
            Codec::Snappy => 2,
            Codec::Lz4 => 3,
            Codec::Zstd => 4,
        }
    }

    /// The most `n` bytes can take once compressed: incompressible data
    /// grows a little (stored blocks, literal runs, frame headers).
    pub fn max_compressed_len(self, n: usize) -> usize {
        match self {
            Codec::None => n,
            _ => n + n / 1000 + 64,
        }
    }

    /// The largest input whose compressed form is sure to fit in `limit`.
    pub fn max_input_for(self, limit: usize) -> usize {
        match self {
            Codec::None => limit,
            _ => limit.saturating_sub(64).saturating_mul(1000) / 1001,
        }
    }
}

/// Compresses `input`, appending to `out`. `level`: gzip 0-9, -1 for the
/// default (6); the other codecs have one speed here.
pub fn compress(codec: Codec, level: i32, input: &[u8], out: &mut Vec<u8>) {
    match codec {
        Codec::None => out.extend_from_slice(input),
        Codec::Gzip => gzip(input, level, out),
        Codec::Snappy => xerial_snappy(input, out),
        Codec::Lz4 => lz4_frame(input, out),
        Codec::Zstd => {
            let z = ruzstd::encoding::compress_to_vec(input, ruzstd::encoding::CompressionLevel::Fastest);
            out.extend_from_slice(&z);
        }
    }
}

static CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn gzip(input: &[u8], level: i32, out: &mut Vec<u8>) {
    let level = if level < 0 { 6 } else { level.min(10) as u8 };
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(input, level));
    out.extend_from_slice(&CRC32.checksum(input).to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
}

const XERIAL_HEADER: [u8; 16] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1];
const XERIAL_BLOCK: usize = 32 * 1024;

/// snappy-java's stream: a 16-byte header (magic, version 1, compatible
/// version 1), then per 32 KiB of input a big-endian length and a raw
/// snappy block.
fn xerial_snappy(input: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&XERIAL_HEADER);
    let mut block = Vec::new();
    for chunk in input.chunks(XERIAL_BLOCK) {
        block.clear();
        snappy_raw(chunk, &mut block);
        out.extend_from_slice(&(block.len() as u32).to_be_bytes());
        out.extend_from_slice(&block);
    }
}

/// Raw snappy (the "snappy block" format): the input length as a varint,
/// then literals and copies. Greedy matching with a 4-byte hash; inputs
/// here are at most 32 KiB, so offsets fit two bytes.
pub fn snappy_raw(input: &[u8], out: &mut Vec<u8>) {
    let mut n = input.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    const BITS: u32 = 13;
    let mut table = [u16::MAX; 1 << BITS];
    let load = |i: usize| u32::from_le_bytes([input[i], input[i + 1], input[i + 2], input[i + 3]]);
    let hash = |v: u32| (v.wrapping_mul(0x1e35_a7bd) >> (32 - BITS)) as usize;
    let (mut ip, mut literal_start) = (0usize, 0usize);
    while input.len() >= 4 && ip + 4 <= input.len() && input.len() <= u16::MAX as usize + 1 {
        let v = load(ip);
        let h = hash(v);
        let candidate = table[h] as usize;
        table[h] = ip as u16;
        if candidate < ip && ip - candidate <= u16::MAX as usize && load(candidate) == v {
            snappy_literal(&input[literal_start..ip], out);
            let mut len = 4;
            while ip + len < input.len() && input[candidate + len] == input[ip + len] {
                len += 1;
            }
            snappy_copy(ip - candidate, len, out);
            ip += len;
            literal_start = ip;
        } else {
            ip += 1;
        }
    }
    snappy_literal(&input[literal_start..], out);
}

fn snappy_literal(lit: &[u8], out: &mut Vec<u8>) {
    if lit.is_empty() {
        return;
    }
    let n = lit.len() - 1;
    if n < 60 {
        out.push((n as u8) << 2);
    } else {
        let bytes = (n as u32).to_le_bytes();
        let width = if n < 1 << 8 { 1 } else if n < 1 << 16 { 2 } else if n < 1 << 24 { 3 } else { 4 };
        out.push(((59 + width) as u8) << 2);
        out.extend_from_slice(&bytes[..width]);
    }
    out.extend_from_slice(lit);
}

/// Copies of 4..=64 bytes with a two-byte offset; longer ones in pieces
/// that each stay at least 4 bytes long.
fn snappy_copy(offset: usize, mut len: usize, out: &mut Vec<u8>) {
    let mut emit = |l: usize| {
        out.push((((l - 1) as u8) << 2) | 2);
        out.extend_from_slice(&(offset as u16).to_le_bytes());
    };
    while len >= 68 {
        emit(64);
        len -= 64;
    }
    if len > 64 {
        emit(60);
        len -= 60;
    }
    emit(len);
}

/// The LZ4 frame format: magic, a descriptor (version 1, independent
/// blocks, 64 KiB maximum block size) with its xxh32 checksum byte, blocks
/// (stored raw when they do not shrink), and the end mark.
fn lz4_frame(input: &[u8], out: &mut Vec<u8>) {
    const FLG: u8 = 0b0110_0000;
    const BD: u8 = 0b0100_0000;
    out.extend_from_slice(&0x184d_2204u32.to_le_bytes());
    out.push(FLG);
    out.push(BD);
    out.push((xxhash_rust::xxh32::xxh32(&[FLG, BD], 0) >> 8) as u8);
    for chunk in input.chunks(64 * 1024) {
        let c = lz4_flex::block::compress(chunk);
        if c.len() < chunk.len() {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(&c);
        } else {
            out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
}

#[cfg(test)]
#[path = "tests/codec.rs"]
mod tests;
