//! Kafka's primitive types on the wire: big-endian integers, (compact)
//! strings and bytes, arrays, unsigned and zig-zag varints, tagged fields.
//!
//! [`Writer`] appends to a caller's `Vec<u8>`; [`Reader`] walks a borrowed
//! slice and returns [`DecodeError`] on truncated or malformed input. Nothing
//! here panics on any input: every read is bounds-checked.

use alloc::vec::Vec;
use core::fmt;

/// Why a frame could not be decoded. The connection that carried it is
/// dropped; the bytes are never trusted further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The frame ended before the field `what`.
    Truncated { what: &'static str },
    /// A field held a value no valid message holds.
    Invalid { what: &'static str },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { what } => write!(f, "response truncated in {what}"),
            DecodeError::Invalid { what } => write!(f, "malformed {what} in response"),
        }
    }
}

pub type Result<T> = core::result::Result<T, DecodeError>;

/// Bytes needed to encode `v` as an unsigned varint.
#[inline]
pub fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes needed to encode `v` as a zig-zag varint (a Kafka `varint`/`varlong`).
#[inline]
pub fn varint_len(v: i64) -> usize {
    uvarint_len(zigzag(v))
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Appends Kafka primitives to a buffer owned by the caller.
pub struct Writer<'a> {
    pub buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Writer { buf }
    }
    #[inline]
    pub fn i8(&mut self, v: i8) {
        self.buf.push(v as u8);
    }
    #[inline]
    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf.push(v as u8);
    }
    #[inline]
    pub fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    #[inline]
    pub fn varint(&mut self, v: i64) {
        self.uvarint(zigzag(v));
    }
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    /// `string` (int16 length) or `compact_string` (uvarint length + 1).
    pub fn string(&mut self, s: &str, compact: bool) {
        if compact {
            self.uvarint(s.len() as u64 + 1);
        } else {
            self.i16(s.len() as i16);
        }
        self.raw(s.as_bytes());
    }
    /// A nullable string, classic or compact.
    pub fn nullable_string(&mut self, s: Option<&str>, compact: bool) {
        match s {
            Some(s) => self.string(s, compact),
            None if compact => self.uvarint(0),
            None => self.i16(-1),
        }
    }
    /// An array length, classic (int32) or compact (uvarint N + 1).
    pub fn array_len(&mut self, n: usize, compact: bool) {
        if compact {
            self.uvarint(n as u64 + 1);
        } else {
            self.i32(n as i32);
        }
    }
    /// The length prefix of a `bytes`/`records` field, classic or compact.
    pub fn bytes_len(&mut self, n: usize, compact: bool) {
        if compact {
            self.uvarint(n as u64 + 1);
        } else {
            self.i32(n as i32);
        }
    }
    /// An empty tagged-field section (flexible versions only).
    #[inline]
    pub fn no_tagged_fields(&mut self) {
        self.uvarint(0);
    }
}

/// Walks a received frame. Every accessor checks bounds first.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated { what });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    pub fn i8(&mut self, what: &'static str) -> Result<i8> {
        Ok(self.array::<1>(what)?[0] as i8)
    }
    pub fn i16(&mut self, what: &'static str) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }
    pub fn i32(&mut self, what: &'static str) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }
    pub fn i64(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }
    pub fn bool(&mut self, what: &'static str) -> Result<bool> {
        match self.i8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid { what }),
        }
    }
    pub fn uuid(&mut self, what: &'static str) -> Result<[u8; 16]> {
        self.array(what)
    }
    pub fn uvarint(&mut self, what: &'static str) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.array::<1>(what)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Invalid { what })
    }
    pub fn varint(&mut self, what: &'static str) -> Result<i64> {
        let u = self.uvarint(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    /// A length prefix: classic int32 (-1 = null) or compact uvarint (0 = null).
    /// `None` is null. The length is checked against the bytes that remain,
    /// so a forged length can never make us allocate or read past the frame.
    fn len(&mut self, compact: bool, what: &'static str) -> Result<Option<usize>> {
        let n: i64 = if compact {
            self.uvarint(what)? as i64 - 1
        } else {
            i64::from(self.i32(what)?)
        };
        if n < -1 {
            return Err(DecodeError::Invalid { what });
        }
        Ok(if n == -1 { None } else { Some(n as usize) })
    }
    /// A `string`/`compact_string` length (int16 for classic strings).
    fn str_len(&mut self, compact: bool, what: &'static str) -> Result<Option<usize>> {
        if compact {
            return self.len(true, what);
        }
        match self.i16(what)? {
            -1 => Ok(None),
            n if n < 0 => Err(DecodeError::Invalid { what }),
            n => Ok(Some(n as usize)),
        }
    }
    pub fn nullable_str(&mut self, compact: bool, what: &'static str) -> Result<Option<&'a str>> {
        match self.str_len(compact, what)? {
            None => Ok(None),
            Some(n) => {
                let b = self.take(n, what)?;
                core::str::from_utf8(b).map(Some).map_err(|_| DecodeError::Invalid { what })
            }
        }
    }
    pub fn str(&mut self, compact: bool, what: &'static str) -> Result<&'a str> {
        self.nullable_str(compact, what)?.ok_or(DecodeError::Invalid { what })
    }
    /// An array's element count. Each element takes at least `min_elem`
    /// bytes, so a count the frame cannot hold is rejected up front.
    pub fn array_len(&mut self, compact: bool, min_elem: usize, what: &'static str) -> Result<usize> {
        let n = self.len(compact, what)?.unwrap_or(0);
        if n.saturating_mul(min_elem.max(1)) > self.remaining() {
            return Err(DecodeError::Truncated { what });
        }
        Ok(n)
    }
    /// Skips an `[]int32` array.
    pub fn skip_i32_array(&mut self, compact: bool, what: &'static str) -> Result<()> {
        let n = self.array_len(compact, 4, what)?;
        self.take(n * 4, what)?;
        Ok(())
    }
    /// Walks a tagged-field section, handing each known tag's bytes to `f`
    /// and skipping the rest.
    pub fn tagged_fields(
        &mut self,
        mut f: impl FnMut(u64, &mut Reader<'a>) -> Result<()>,
    ) -> Result<()> {
        let n = self.uvarint("tagged fields")?;
        for _ in 0..n {
            let tag = self.uvarint("tag")?;
            let size = self.uvarint("tag size")?;
            let size = usize::try_from(size).map_err(|_| DecodeError::Invalid { what: "tag size" })?;
            let body = self.take(size, "tagged field")?;
            f(tag, &mut Reader::new(body))?;
        }
        Ok(())
    }
    pub fn skip_tagged_fields(&mut self) -> Result<()> {
        self.tagged_fields(|_, _| Ok(()))
    }
}

#[cfg(test)]
#[path = "tests/wire.rs"]
mod tests;
