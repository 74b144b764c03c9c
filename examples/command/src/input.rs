//! The input: stdin or files, split into records at a delimiter as they
//! are read (memory bounded by the largest record plus one read), or
//! whole files as single records. Records are bytes: nothing is decoded.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;

use crate::args::{Options, UsageError};

/// Bytes asked of the source per read.
pub const READ_SIZE: usize = 256 * 1024;

/// One input: stdin or a file, opened.
pub struct Input {
    /// For messages: `-` for stdin, else the path.
    pub name: String,
    pub source: Box<dyn Read + Send>,
}

/// The inputs the command line names (stdin when none), opened now so a
/// missing file is bad usage, found before anything is produced.
pub fn open_inputs(opts: &Options) -> Result<Vec<Input>, UsageError> {
    if opts.files.is_empty() {
        return Ok(vec![Input { name: "-".into(), source: Box::new(io::stdin()) }]);
    }
    opts.files
        .iter()
        .map(|f| {
            let source: Box<dyn Read + Send> = if f == "-" {
                Box::new(io::stdin())
            } else {
                Box::new(File::open(f).map_err(|e| UsageError(format!("cannot open {f}: {e}")))?)
            };
            Ok(Input { name: f.clone(), source })
        })
        .collect()
}

/// Splits a source into records at `delim`, reading as it goes.
pub struct Splitter<R> {
    source: R,
    delim: Vec<u8>,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`; `buf[start..scanned]` holds
    /// no delimiter.
    start: usize,
    end: usize,
    scanned: usize,
    eof: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(source: R, delim: &[u8]) -> Self {
        assert!(!delim.is_empty(), "the parser refuses an empty delimiter");
        Splitter { source, delim: delim.to_vec(), buf: vec![0; READ_SIZE], start: 0, end: 0, scanned: 0, eof: false }
    }

    /// The next record among the bytes read so far, without reading more:
    /// its range for [`Splitter::bytes`]. After the end of input, the
    /// bytes after the last delimiter are a last record.
    pub fn next_buffered(&mut self) -> Option<Range<usize>> {
        let dl = self.delim.len();
        let from = self.scanned.saturating_sub(dl - 1).max(self.start);
        let hay = &self.buf[from..self.end];
        let found = if dl == 1 { memchr::memchr(self.delim[0], hay) } else { memchr::memmem::find(hay, &self.delim) };
        match found {
            Some(i) => {
                let rec = self.start..from + i;
                self.start = from + i + dl;
                self.scanned = self.start;
                Some(rec)
            }
            None if self.eof && self.start < self.end => {
                let rec = self.start..self.end;
                self.start = self.end;
                self.scanned = self.end;
                Some(rec)
            }
            None => {
                self.scanned = self.end;
                None
            }
        }
    }

    /// The bytes of a range [`Splitter::next_buffered`] gave, valid until
    /// the next [`Splitter::fill`].
    pub fn bytes(&self, r: Range<usize>) -> &[u8] {
        &self.buf[r]
    }

    /// Everything read and handed out.
    pub fn done(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// Reads once (blocking as the source does). Returns whether the read
    /// was short: the source had no more at hand, so a pause in the input
    /// (or its end).
    pub fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(true);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            // A record longer than what is buffered: room for it and one
            // more read.
            self.buf.resize(self.end + READ_SIZE, 0);
        }
        loop {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n < self.buf.len() - (self.end - n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out at most `step` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn split(input: &[u8], delim: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut s = Splitter::new(Trickle(input, step), delim);
        let mut out = Vec::new();
        loop {
            while let Some(r) = s.next_buffered() {
                out.push(s.bytes(r).to_vec());
            }
            if s.done() {
                return out;
            }
            s.fill().unwrap();
        }
    }

    #[test]
    fn splits_bytes_exactly_at_any_read_size() {
        let big = vec![b'x'; 3 * READ_SIZE + 17];
        let mut input = b"a\r\n\xff\xfe\0b\n\nlast".to_vec();
        input.extend_from_slice(b"\n");
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\nend");
        for step in [1, 2, 3, 7, 4096, usize::MAX] {
            let got = split(&input, b"\n", step);
            assert_eq!(got, vec![b"a\r".to_vec(), b"\xff\xfe\0b".to_vec(), b"".to_vec(), b"last".to_vec(), big.clone(), b"end".to_vec()], "step {step}");
        }
    }

    #[test]
    fn multi_byte_delimiters_across_reads() {
        for step in [1, 2, 3, 5, 100] {
            assert_eq!(split(b"ab||c|d||||e||", b"||", step), vec![b"ab".to_vec(), b"c|d".to_vec(), b"".to_vec(), b"e".to_vec()], "step {step}");
        }
        assert_eq!(split(b"", b"\n", 1), Vec::<Vec<u8>>::new());
        assert_eq!(split(b"\n", b"\n", 1), vec![Vec::<u8>::new()]);
    }
}
