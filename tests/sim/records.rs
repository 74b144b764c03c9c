//! RecordBatches as a broker reads them, decoded by the `kafka-protocol`
//! crate (not our `batch` module), its CRC-32C checked again with the
//! `crc32c` crate, and compressed record sections inflated by decoders
//! that are not the producer's encoders.

use bytes::Bytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder, TimestampType};

/// One record as a simulated broker stored it: everything a consumer sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stored {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// In wire order. (The decoder keeps headers in a map, so the test's
    /// records never repeat a header key.)
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub timestamp: i64,
}

/// A decoded batch: the producer identity in its header, and its records.
pub struct Batch {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// The batch is part of a transaction.
    pub transactional: bool,
    pub records: Vec<Stored>,
}

/// Decodes the `records` field of one partition of a Produce request:
/// exactly one RecordBatch v2, every field as the specification says.
/// An error names what is wrong; the caller turns it into a test failure.
pub fn decode_batch(bytes: &[u8]) -> Result<Batch, String> {
    // The header fields the decoder does not check, read at their
    // specification offsets (shared/kafka-protocol, RecordBatch layout).
    if bytes.len() < 61 {
        return Err(format!("a record batch of {} bytes is shorter than its header", bytes.len()));
    }
    let be32 = |at: usize| i32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    let be64 = |at: usize| i64::from_be_bytes(bytes[at..at + 8].try_into().unwrap());
    let (base_offset, batch_length, crc) = (be64(0), be32(8), be32(17) as u32);
    let (last_offset_delta, first_ts, max_ts) = (be32(23), be64(27), be64(35));
    if base_offset != 0 {
        return Err(format!("baseOffset {base_offset}, not 0"));
    }
    if batch_length as usize != bytes.len() - 12 {
        return Err(format!("batchLength {batch_length} for {} bytes: one batch per partition", bytes.len()));
    }
    let independent = crc32c::crc32c(&bytes[21..]);
    if crc != independent {
        return Err(format!("CRC-32C {crc:#x}, the crc32c crate computes {independent:#x} over attributes..end"));
    }
    let mut buf = Bytes::copy_from_slice(bytes);
    let set = RecordBatchDecoder::decode_with_custom_compression(&mut buf, Some(inflate)).map_err(|e| format!("record batch: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("{} bytes after the batch", buf.len()));
    }
    // Every record carries its batch's header fields: read them off the first.
    let Some(first) = set.records.first() else { return Err("a batch of no records".into()) };
    if set.version != 2 || first.timestamp_type != TimestampType::Creation || first.control {
        return Err(format!("magic {}, {:?}, transactional {}, control {}", set.version, first.timestamp_type, first.transactional, first.control));
    }
    let (producer_id, producer_epoch, base_sequence, transactional) = (first.producer_id, first.producer_epoch, first.sequence, first.transactional);
    if transactional && producer_id < 0 {
        return Err("a transactional batch without a producer id".into());
    }
    let count = set.records.len();
    if last_offset_delta != count as i32 - 1 {
        return Err(format!("lastOffsetDelta {last_offset_delta} for {count} records"));
    }
    let mut records = Vec::with_capacity(count);
    for (i, r) in set.records.into_iter().enumerate() {
        if r.offset != i as i64 {
            return Err(format!("record {i} has offset delta {}", r.offset));
        }
        let headers = r.headers.into_iter().map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.to_vec()))).collect();
        records.push(Stored { key: r.key.map(|k| k.to_vec()), value: r.value.map(|v| v.to_vec()), headers, timestamp: r.timestamp });
    }
    if records[0].timestamp != first_ts || records.iter().map(|r| r.timestamp).max() != Some(max_ts) {
        return Err(format!("baseTimestamp {first_ts} / maxTimestamp {max_ts} do not match the records"));
    }
    Ok(Batch { producer_id, producer_epoch, base_sequence, transactional, records })
}

/// The records section of a batch, decompressed by decoders that are not
/// the producer's encoders.
fn inflate(data: &mut Bytes, codec: Compression) -> anyhow::Result<Bytes> {
    use std::io::Read;
    let data: &[u8] = data;
    let out = match codec {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut out = Vec::new();
            gunzip(data, &mut out)?;
            out
        }
        Compression::Snappy => {
            // xerial framing: magic, two versions, then (length, block)*.
            anyhow::ensure!(data.len() >= 16 && &data[..8] == b"\x82SNAPPY\x00", "not xerial snappy framing");
            let (mut at, mut out) = (16, Vec::new());
            while at < data.len() {
                anyhow::ensure!(at + 4 <= data.len(), "truncated snappy block length");
                let n = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
                anyhow::ensure!(at + 4 + n <= data.len(), "truncated snappy block");
                out.extend(snap::raw::Decoder::new().decompress_vec(&data[at + 4..at + 4 + n])?);
                at += 4 + n;
            }
            out
        }
        Compression::Lz4 => {
            let mut out = Vec::new();
            lz4_flex::frame::FrameDecoder::new(data).read_to_end(&mut out)?;
            out
        }
        Compression::Zstd => {
            let mut out = Vec::new();
            let mut d = ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| anyhow::anyhow!("zstd: {e}"))?;
            ruzstd::io::Read::read_to_end(&mut d, &mut out)?;
            out
        }
    };
    Ok(Bytes::from(out))
}

/// A gzip member (RFC 1952) inflated with miniz_oxide's decoder, its
/// header and its CRC-32 and length trailer checked.
fn gunzip(data: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
    anyhow::ensure!(data.len() >= 18 && data[..3] == [0x1f, 0x8b, 8], "not a gzip member");
    let flags = data[3];
    let mut at = 10;
    if flags & 4 != 0 {
        let n = u16::from_le_bytes([data[at], data[at + 1]]) as usize;
        at += 2 + n;
    }
    for bit in [8, 16] {
        if flags & bit != 0 {
            at += data[at..].iter().position(|&b| b == 0).ok_or_else(|| anyhow::anyhow!("unterminated gzip field"))? + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    let (body, trailer) = data[at..].split_at(data.len() - at - 8);
    *out = miniz_oxide::inflate::decompress_to_vec(body).map_err(|e| anyhow::anyhow!("gzip: {e:?}"))?;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(out);
    anyhow::ensure!(u32::from_le_bytes(trailer[..4].try_into().unwrap()) == crc, "gzip CRC-32");
    anyhow::ensure!(u32::from_le_bytes(trailer[4..].try_into().unwrap()) as usize == out.len() % (1 << 32), "gzip ISIZE");
    Ok(())
}
