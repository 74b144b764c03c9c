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

use crate::wire::{DecodeError, Reader};

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
    // One scratch buffer for the call, as large as lz4 asks for a block.
    let block = 64 * 1024;
    let mut scratch = alloc::vec![0u8; lz4_flex::block::get_maximum_output_size(block.min(input.len()))];
    for chunk in input.chunks(block) {
        match lz4_flex::block::compress_into(chunk, &mut scratch) {
            Ok(n) if n < chunk.len() => {
                out.extend_from_slice(&(n as u32).to_le_bytes());
                out.extend_from_slice(&scratch[..n]);
            }
            _ => {
                out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
                out.extend_from_slice(chunk);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
}

/// Decompresses what `compress` wrote (the producer rereads its own
/// batches to split one a broker found too large). At most `limit` bytes
/// come out; anything malformed is an error, never a panic.
pub fn decompress(codec: Codec, data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let bad = |what| DecodeError::Invalid { what };
    match codec {
        Codec::None => Ok(data.to_vec()),
        Codec::Gzip => {
            if data.len() < 18 || data[..4] != [0x1f, 0x8b, 8, 0] {
                return Err(bad("gzip header"));
            }
            miniz_oxide::inflate::decompress_to_vec_with_limit(&data[10..data.len() - 8], limit).map_err(|_| bad("gzip data"))
        }
        Codec::Snappy => {
            if data.len() < 16 || data[..16] != XERIAL_HEADER {
                return Err(bad("snappy header"));
            }
            let (mut r, mut out) = (Reader::new(&data[16..]), Vec::new());
            while r.remaining() > 0 {
                let n = r.i32("snappy block length")? as u32 as usize;
                snappy_raw_decode(r.take(n, "snappy block")?, limit.saturating_sub(out.len()), &mut out)?;
            }
            Ok(out)
        }
        Codec::Lz4 => {
            let mut r = Reader::new(data);
            if r.take(7, "lz4 frame header")?[..4] != 0x184d_2204u32.to_le_bytes() {
                return Err(bad("lz4 magic"));
            }
            let mut out = Vec::new();
            loop {
                let word = u32::from_le_bytes(r.take(4, "lz4 block size")?.try_into().map_err(|_| bad("lz4 block size"))?);
                if word == 0 {
                    return Ok(out);
                }
                let block = r.take((word & 0x7fff_ffff) as usize, "lz4 block")?;
                if out.len() + 64 * 1024 > limit.saturating_add(64 * 1024) {
                    return Err(bad("lz4 data over the limit"));
                }
                if word & 0x8000_0000 != 0 {
                    out.extend_from_slice(block);
                } else {
                    let at = out.len();
                    out.resize(at + 64 * 1024, 0);
                    let n = lz4_flex::block::decompress_into(block, &mut out[at..]).map_err(|_| bad("lz4 block"))?;
                    out.truncate(at + n);
                }
            }
        }
        Codec::Zstd => {
            let mut d = ruzstd::decoding::StreamingDecoder::new(data).map_err(|_| bad("zstd frame"))?;
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = ruzstd::io::Read::read(&mut d, &mut buf).map_err(|_| bad("zstd data"))?;
                if n == 0 {
                    return Ok(out);
                }
                if out.len() + n > limit {
                    return Err(bad("zstd data over the limit"));
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Decodes one raw snappy block, appending at most `limit` bytes.
fn snappy_raw_decode(block: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let bad = |what| DecodeError::Invalid { what };
    let mut r = Reader::new(block);
    let len = r.uvarint("snappy length")? as usize;
    if len > limit {
        return Err(bad("snappy length over the limit"));
    }
    let start = out.len();
    while r.remaining() > 0 {
        let tag = r.take(1, "snappy tag")?[0];
        let (n, offset) = match tag & 3 {
            0 => {
                let mut n = usize::from(tag >> 2);
                if n >= 60 {
                    let width = n - 59;
                    let b = r.take(width, "snappy literal length")?;
                    n = b.iter().rev().fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
                }
                out.extend_from_slice(r.take(n + 1, "snappy literal")?);
                continue;
            }
            1 => (usize::from((tag >> 2) & 7) + 4, (usize::from(tag >> 5) << 8) | usize::from(r.take(1, "snappy copy")?[0])),
            2 => (usize::from(tag >> 2) + 1, usize::from(u16::from_le_bytes([r.take(1, "snappy copy")?[0], r.take(1, "snappy copy")?[0]]))),
            _ => {
                let b = r.take(4, "snappy copy")?;
                (usize::from(tag >> 2) + 1, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            }
        };
        if offset == 0 || offset > out.len() - start || out.len() - start + n > len {
            return Err(bad("snappy copy"));
        }
        for _ in 0..n {
            out.push(out[out.len() - offset]);
        }
    }
    if out.len() - start != len {
        return Err(bad("snappy length"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/codec.rs"]
mod tests;
