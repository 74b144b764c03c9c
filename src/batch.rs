//! RecordBatch v2 ("magic 2") encoder.
//!
//! Records are written straight into the batch's one buffer; the 61-byte
//! batch header is reserved up front and its length, counts, timestamps and
//! CRC-32C are back-patched when the batch closes (the way librdkafka's
//! msgset writer works). No intermediate record objects, no per-record
//! allocation.

use alloc::vec::Vec;

use crate::codec::{compress, decompress, Codec};
use crate::record::{Header, Record};
use crate::wire::{varint_len, DecodeError, Reader, Writer};

// The RecordBatch v2 header, field by field: each field's byte offset.
// The one place these offsets are written down (KIP-98; Kafka's
// `DefaultRecordBatch`); the encoder, `restamp`, `read_records` and the
// accumulator's reading of a sealed batch's identity use them.
pub const BASE_OFFSET_AT: usize = 0;
/// batchLength: bytes after this field.
pub const LENGTH_AT: usize = 8;
pub const PARTITION_LEADER_EPOCH_AT: usize = 12;
pub const MAGIC_AT: usize = 16;
/// The attributes bit of a batch written in a transaction.
pub const TRANSACTIONAL_BIT: i16 = 0x10;

/// CRC-32C of everything from attributes to the end.
pub const CRC_AT: usize = 17;
pub const ATTRIBUTES_AT: usize = 21;
pub const LAST_OFFSET_DELTA_AT: usize = 23;
pub const BASE_TIMESTAMP_AT: usize = 27;
pub const MAX_TIMESTAMP_AT: usize = 35;
pub const PRODUCER_ID_AT: usize = 43;
pub const PRODUCER_EPOCH_AT: usize = 51;
pub const BASE_SEQUENCE_AT: usize = 53;
pub const RECORDS_COUNT_AT: usize = 57;
/// Bytes of the batch header, from baseOffset to recordsCount.
pub const BATCH_HEADER_LEN: usize = 61;

static CRC32C: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// CRC-32C (Castagnoli), as Kafka checksums record batches.
pub fn crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

/// Size of a record's body (everything after its length varint).
fn record_body_len(rec: &Record<'_>, timestamp_delta: i64, offset_delta: i32) -> usize {
    let mut n = 1 + varint_len(timestamp_delta) + varint_len(offset_delta as i64);
    n += bytes_field_len(rec.key);
    n += bytes_field_len(rec.value);
    n += varint_len(rec.headers.len() as i64);
    for h in rec.headers {
        n += varint_len(h.key.len() as i64) + h.key.len() + bytes_field_len(h.value);
    }
    n
}

fn bytes_field_len(b: Option<&[u8]>) -> usize {
    match b {
        Some(b) => varint_len(b.len() as i64) + b.len(),
        None => 1,
    }
}

/// Bytes a record takes inside a batch, at the given deltas (an upper bound
/// for any delta that fits in the same number of varint bytes). Used to
/// decide whether a record still fits before writing anything.
pub fn encoded_record_len(rec: &Record<'_>, timestamp_delta: i64, offset_delta: i32) -> usize {
    let body = record_body_len(rec, timestamp_delta, offset_delta);
    varint_len(body as i64) + body
}

/// The largest a record can be in a batch of its own: the test a producer
/// applies against `message.max.bytes` and `max.request.size`.
pub fn single_record_batch_len(rec: &Record<'_>) -> usize {
    BATCH_HEADER_LEN + encoded_record_len(rec, 0, 0)
}

/// Identity of the producer that writes a batch; all -1 without idempotence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

impl ProducerIdentity {
    pub const NONE: ProducerIdentity = ProducerIdentity { producer_id: -1, producer_epoch: -1, base_sequence: -1 };
}

/// A RecordBatch being written into a caller-owned buffer.
#[derive(Debug)]
pub struct BatchWriter {
    buf: Vec<u8>,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

impl BatchWriter {
    /// Starts a batch in `buf` (cleared; its capacity is kept).
    pub fn new(mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.resize(BATCH_HEADER_LEN, 0);
        BatchWriter { buf, count: 0, base_timestamp: 0, max_timestamp: i64::MIN }
    }

    pub fn record_count(&self) -> i32 {
        self.count
    }

    /// Bytes the batch takes so far, header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes its buffer holds without growing.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Grows the buffer to hold `capacity` bytes (one move of what is
    /// written so far).
    pub fn grow_to(&mut self, capacity: usize) {
        self.buf.reserve_exact(capacity.saturating_sub(self.buf.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes `rec` would add to this batch.
    pub fn len_of(&self, rec: &Record<'_>, timestamp: i64) -> usize {
        let base = if self.count == 0 { timestamp } else { self.base_timestamp };
        encoded_record_len(rec, timestamp.wrapping_sub(base), self.count)
    }

    /// Appends `rec` stamped with `timestamp` (milliseconds since the epoch).
    pub fn append(&mut self, rec: &Record<'_>, timestamp: i64) {
        if self.count == 0 {
            self.base_timestamp = timestamp;
        }
        let ts_delta = timestamp.wrapping_sub(self.base_timestamp);
        let body = record_body_len(rec, ts_delta, self.count);
        self.buf.reserve(varint_len(body as i64) + body);
        let mut w = Writer::new(&mut self.buf);
        w.varint(body as i64);
        w.i8(0); // record attributes: unused
        w.varint(ts_delta);
        w.varint(self.count as i64);
        write_bytes(&mut w, rec.key);
        write_bytes(&mut w, rec.value);
        w.varint(rec.headers.len() as i64);
        for Header { key, value } in rec.headers {
            w.varint(key.len() as i64);
            w.raw(key.as_bytes());
            write_bytes(&mut w, *value);
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
    }

    /// Fills in the header and returns the finished RecordBatch bytes.
    pub fn finish(self, identity: ProducerIdentity) -> Vec<u8> {
        self.finish_with(identity, Codec::None, -1, false)
    }

    /// As `finish`, compressing the records section with `codec` (one
    /// block, as Kafka expects) and marking it in the attributes, with the
    /// transactional bit for a transaction's batch.
    pub fn finish_with(self, identity: ProducerIdentity, codec: Codec, level: i32, transactional: bool) -> Vec<u8> {
        let (count, base_timestamp, max_timestamp) = (self.count, self.base_timestamp, self.max_timestamp);
        let mut buf = if codec == Codec::None {
            self.buf
        } else {
            let records = &self.buf[BATCH_HEADER_LEN..];
            let mut out = Vec::with_capacity(BATCH_HEADER_LEN + codec.max_compressed_len(records.len()));
            out.resize(BATCH_HEADER_LEN, 0);
            compress(codec, level, records, &mut out);
            out
        };
        let batch_length = (buf.len() - LENGTH_AT - 4) as i32;
        let mut h = Vec::with_capacity(BATCH_HEADER_LEN);
        let mut w = Writer::new(&mut h);
        w.i64(0); // baseOffset: assigned by the broker
        w.i32(batch_length);
        w.i32(-1); // partitionLeaderEpoch: set by the broker
        w.i8(2); // magic
        w.i32(0); // crc, patched below
        // attributes: codec (bits 0-2), CreateTime, transactional (bit 4)
        w.i16(codec.attribute() | if transactional { TRANSACTIONAL_BIT } else { 0 });
        w.i32(count - 1); // lastOffsetDelta
        w.i64(base_timestamp);
        w.i64(max_timestamp);
        w.i64(identity.producer_id);
        w.i16(identity.producer_epoch);
        w.i32(identity.base_sequence);
        w.i32(count);
        buf[..BATCH_HEADER_LEN].copy_from_slice(&h);
        let crc = crc32c(&buf[ATTRIBUTES_AT..]);
        buf[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        buf
    }
}

/// Re-stamps a finished batch with a new producer identity (after an
/// epoch bump reset the sequences) and recomputes its CRC.
pub fn restamp(batch: &mut [u8], identity: ProducerIdentity) {
    if batch.len() < BATCH_HEADER_LEN {
        return;
    }
    batch[PRODUCER_ID_AT..PRODUCER_EPOCH_AT].copy_from_slice(&identity.producer_id.to_be_bytes());
    batch[PRODUCER_EPOCH_AT..BASE_SEQUENCE_AT].copy_from_slice(&identity.producer_epoch.to_be_bytes());
    batch[BASE_SEQUENCE_AT..RECORDS_COUNT_AT].copy_from_slice(&identity.base_sequence.to_be_bytes());
    let crc = crc32c(&batch[ATTRIBUTES_AT..]);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

/// The producer id, epoch and base sequence written in a finished batch's
/// header; `None` if it is shorter than a header.
pub fn stamped_identity(batch: &[u8]) -> Option<ProducerIdentity> {
    let field = |at: usize, len: usize| batch.get(at..at + len);
    Some(ProducerIdentity {
        producer_id: i64::from_be_bytes(field(PRODUCER_ID_AT, 8)?.try_into().ok()?),
        producer_epoch: i16::from_be_bytes(field(PRODUCER_EPOCH_AT, 2)?.try_into().ok()?),
        base_sequence: i32::from_be_bytes(field(BASE_SEQUENCE_AT, 4)?.try_into().ok()?),
    })
}

/// Reads the records back out of a finished batch (decompressing it), in
/// order, each with its timestamp. Used to split a batch a broker found
/// too large. Malformed input is an error.
pub fn read_records(batch: &[u8], mut f: impl FnMut(&Record<'_>, i64)) -> Result<(), DecodeError> {
    let mut h = Reader::new(batch);
    let header = h.take(BATCH_HEADER_LEN, "batch header")?;
    let attributes = i16::from_be_bytes([header[ATTRIBUTES_AT], header[ATTRIBUTES_AT + 1]]);
    let base_timestamp =
        i64::from_be_bytes(header[BASE_TIMESTAMP_AT..MAX_TIMESTAMP_AT].try_into().map_err(|_| DecodeError::Invalid { what: "timestamp" })?);
    let count =
        i32::from_be_bytes(header[RECORDS_COUNT_AT..BATCH_HEADER_LEN].try_into().map_err(|_| DecodeError::Invalid { what: "count" })?);
    let codec = match attributes & 7 {
        0 => Codec::None,
        1 => Codec::Gzip,
        2 => Codec::Snappy,
        3 => Codec::Lz4,
        4 => Codec::Zstd,
        _ => return Err(DecodeError::Invalid { what: "codec" }),
    };
    let records = decompress(codec, &batch[BATCH_HEADER_LEN..], 256 << 20)?;
    let mut r = Reader::new(&records);
    let mut headers: Vec<Header<'_>> = Vec::new();
    for _ in 0..count {
        let len = r.varint("record length")?;
        let mut rr = Reader::new(r.take(usize::try_from(len).map_err(|_| DecodeError::Invalid { what: "record length" })?, "record")?);
        rr.i8("record attributes")?;
        let timestamp = base_timestamp.wrapping_add(rr.varint("timestamp delta")?);
        rr.varint("offset delta")?;
        let key = read_bytes(&mut rr)?;
        let value = read_bytes(&mut rr)?;
        headers.clear();
        for _ in 0..rr.varint("header count")? {
            let k = read_bytes(&mut rr)?.ok_or(DecodeError::Invalid { what: "header key" })?;
            let key = core::str::from_utf8(k).map_err(|_| DecodeError::Invalid { what: "header key" })?;
            headers.push(Header { key, value: read_bytes(&mut rr)? });
        }
        f(&Record { key, value, headers: &headers, partition: None, timestamp: Some(timestamp) }, timestamp);
    }
    Ok(())
}

fn read_bytes<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>, DecodeError> {
    match r.varint("length")? {
        -1 => Ok(None),
        n if n < 0 => Err(DecodeError::Invalid { what: "length" }),
        n => r.take(n as usize, "bytes").map(Some),
    }
}

fn write_bytes(w: &mut Writer<'_>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            w.varint(b.len() as i64);
            w.raw(b);
        }
        None => w.varint(-1),
    }
}

#[cfg(test)]
#[path = "tests/batch.rs"]
mod tests;
