//! The packed record list of `send-packed`: many records in one buffer, so
//! crossing the component boundary costs one allocation and one copy per
//! call instead of several per record. The producer reads borrowed views
//! of it and copies each record once, into its batch.
//!
//! Each record, big-endian:
//!
//! ```text
//! flags u8                      1 key, 2 value, 4 partition, 8 timestamp
//! [partition i32]               if flags & 4
//! [timestamp i64]               if flags & 8 (CreateTime, ms)
//! [key: length u32, bytes]      if flags & 1
//! [value: length u32, bytes]    if flags & 2
//! headers u16, then each: key length u16, key (UTF-8),
//!                         value length i32 (-1: null), value
//! ```

use alloc::vec::Vec;

use crate::record::{Header, Record};
use crate::wire::{DecodeError, Reader, Writer};

const KEY: u8 = 1;
const VALUE: u8 = 2;
const PARTITION: u8 = 4;
const TIMESTAMP: u8 = 8;

/// Reads the next record; its headers go in `headers` (cleared first).
pub fn read<'a>(r: &mut Reader<'a>, headers: &mut Vec<Header<'a>>) -> Result<Record<'a>, DecodeError> {
    let flags = r.i8("packed flags")? as u8;
    if flags & !(KEY | VALUE | PARTITION | TIMESTAMP) != 0 {
        return Err(DecodeError::Invalid { what: "packed flags" });
    }
    let partition = if flags & PARTITION != 0 { Some(r.i32("packed partition")?) } else { None };
    let timestamp = if flags & TIMESTAMP != 0 { Some(r.i64("packed timestamp")?) } else { None };
    let mut bytes = |present: bool, what: &'static str| -> Result<Option<&'a [u8]>, DecodeError> {
        if !present {
            return Ok(None);
        }
        let n = r.i32(what)? as u32 as usize;
        r.take(n, what).map(Some)
    };
    let key = bytes(flags & KEY != 0, "packed key")?;
    let value = bytes(flags & VALUE != 0, "packed value")?;
    let count = r.i16("packed header count")? as u16;
    headers.clear();
    for _ in 0..count {
        let n = r.i16("packed header key")? as u16 as usize;
        let key = core::str::from_utf8(r.take(n, "packed header key")?).map_err(|_| DecodeError::Invalid { what: "packed header key" })?;
        let value = match r.i32("packed header value")? {
            -1 => None,
            n if n < 0 => return Err(DecodeError::Invalid { what: "packed header value" }),
            n => Some(r.take(n as usize, "packed header value")?),
        };
        headers.push(Header { key, value });
    }
    Ok(Record { key, value, headers: &[], partition, timestamp })
}

/// Appends `rec` to a packed list (hosts written in Rust can use this;
/// others follow the layout above).
pub fn write(buf: &mut Vec<u8>, rec: &Record<'_>) {
    let mut w = Writer::new(buf);
    let flags = ((rec.key.is_some() as u8) * KEY)
        | ((rec.value.is_some() as u8) * VALUE)
        | ((rec.partition.is_some() as u8) * PARTITION)
        | ((rec.timestamp.is_some() as u8) * TIMESTAMP);
    w.i8(flags as i8);
    if let Some(p) = rec.partition {
        w.i32(p);
    }
    if let Some(t) = rec.timestamp {
        w.i64(t);
    }
    for b in [rec.key, rec.value].into_iter().flatten() {
        w.i32(b.len() as i32);
        w.raw(b);
    }
    w.i16(rec.headers.len() as i16);
    for h in rec.headers {
        w.i16(h.key.len() as i16);
        w.raw(h.key.as_bytes());
        match h.value {
            Some(v) => {
                w.i32(v.len() as i32);
                w.raw(v);
            }
            None => w.i32(-1),
        }
    }
}

/// A packed list being built, with where each record starts, so the
/// refused tail of a call (from a `QueueFull` refusal on) can be resent.
#[derive(Debug, Default, Clone)]
pub struct Packed {
    buf: Vec<u8>,
    starts: Vec<usize>,
}

impl Packed {
    pub fn push(&mut self, rec: &Record<'_>) {
        self.starts.push(self.buf.len());
        write(&mut self.buf, rec);
    }
    /// The number of records.
    pub fn len(&self) -> usize {
        self.starts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
    pub fn clear(&mut self) {
        self.buf.clear();
        self.starts.clear();
    }
    /// The packed size in bytes.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
    /// Records `from..` as one packed list.
    pub fn from(&self, from: usize) -> &[u8] {
        &self.buf[self.starts.get(from).copied().unwrap_or(self.buf.len())..]
    }
}

#[cfg(test)]
#[path = "tests/packed.rs"]
mod tests;
