//! The run: records from the inputs packed into chunks and handed to the
//! driver (`Driver::send`, one call per chunk), warnings on stderr as they
//! come, a rate line when stderr is a terminal, then the summary and the
//! exit status. Generic over who does the I/O and where the producer runs.

use std::io::{self, IsTerminal, Read, Write};
use std::time::Instant;

use kafka_producer_component::driver::{Driver, EngineFailed, Engine, Io};
use kafka_producer_component::packed::Packed;
use kafka_producer_component::{Header, Record};

use crate::args::Options;
use crate::input::{Input, Splitter};

/// Records per `send` call at most.
pub const CHUNK_RECORDS: usize = 4096;
/// Packed bytes per `send` call at most (a larger record goes alone).
pub const CHUNK_BYTES: usize = 1 << 20;
/// How long `send` waits while the producer's queue is full.
const MAX_BLOCK_MS: u64 = 600_000;
/// How long the end waits for outstanding reports (each record is
/// reported by `delivery.timeout.ms` anyway).
const FLUSH_MS: u64 = 600_000;

/// Exit statuses.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// Where the run is, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub records: u64,
    pub bytes: u64,
    /// With `-X transactional.id`: transactions committed and aborted.
    pub committed: u64,
    pub aborted: u64,
}

/// The status line (stderr, terminals only), rewritten in place.
struct RateLine {
    on: bool,
    last: Instant,
}

impl RateLine {
    fn show<E: Engine, I: Io>(&mut self, d: &Driver<E, I>, c: &Counts, start: Instant, force: bool) {
        if !self.on || (!force && self.last.elapsed().as_millis() < 500) {
            return;
        }
        self.last = Instant::now();
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\r\x1b[K{} records  {} delivered  {} failed  {:.0} msgs/s",
            c.records,
            d.tally.delivered,
            d.tally.failed + d.tally.refused,
            d.tally.delivered as f64 / secs
        );
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

/// Repeats of one warning (a broker refusing each reconnect) are shown
/// the 1st, 2nd, 4th, 8th... time only.
#[derive(Default)]
struct Repeats {
    last: String,
    times: u64,
}

impl Repeats {
    /// How many times in a row `w` came, if it is to be shown.
    fn count(&mut self, w: &str) -> Option<u64> {
        if self.last == w {
            self.times += 1;
        } else {
            self.last.clear();
            self.last.push_str(w);
            self.times = 1;
        }
        self.times.is_power_of_two().then_some(self.times)
    }
}

/// The per-run state the loop needs besides the driver.
struct Run<'o> {
    opts: &'o Options,
    headers: Vec<Header<'o>>,
    chunk: Packed,
    counts: Counts,
    tee: Option<io::BufWriter<io::Stdout>>,
    /// Records in the open transaction (`None`: not transactional).
    in_txn: Option<u64>,
}

impl<'o> Run<'o> {
    /// Packs one input record (key split, headers, partition).
    fn push(&mut self, rec: &[u8]) {
        let o = self.opts;
        let (key, value) = match o.key_delim.as_deref().and_then(|d| find(rec, d).map(|i| (i, d.len()))) {
            Some((i, dl)) => (Some(&rec[..i]), &rec[i + dl..]),
            None => (o.key.as_deref(), rec),
        };
        let value = if value.is_empty() && o.null_empty { None } else { Some(value) };
        self.counts.records += 1;
        if let Some(n) = &mut self.in_txn {
            *n += 1;
        }
        self.counts.bytes += (value.map_or(0, <[u8]>::len) + key.map_or(0, <[u8]>::len)) as u64;
        self.chunk.push(&Record { key, value, headers: &self.headers, partition: o.partition, timestamp: None });
    }

    fn echo(&mut self, rec: &[u8], delim: &[u8]) {
        if let Some(t) = &mut self.tee {
            // A closed stdout must not stop the produce: ignore errors.
            let _ = t.write_all(rec).and_then(|_| t.write_all(delim));
        }
    }

    fn full(&self) -> bool {
        self.chunk.len() >= CHUNK_RECORDS || self.chunk.bytes() >= CHUNK_BYTES
    }

    /// `--commit-every`'s count is reached.
    fn commit_due(&self) -> bool {
        matches!((self.in_txn, self.opts.commit_every), (Some(n), Some(every)) if n >= every)
    }

    /// Commits the open transaction (sending what is packed first); if it
    /// fails, aborts it and ends the run with the reason. With `next`,
    /// begins the next one.
    fn commit<E: Engine, I: Io>(&mut self, d: &mut Driver<E, I>, next: bool) -> Result<(), InputError> {
        self.send(d)?;
        if let Err(e) = d.commit_transaction(FLUSH_MS)? {
            let abort = match d.abort_transaction(FLUSH_MS)? {
                Ok(()) => "the transaction was aborted".to_string(),
                Err(a) => format!("aborting it failed too: {a}"),
            };
            self.counts.aborted += 1;
            return Err(InputError::Transaction(format!("commit_transaction failed: {e}; {abort}")));
        }
        // An empty transaction (the input ended at a boundary) is not counted.
        if self.in_txn.is_some_and(|n| n > 0) {
            self.counts.committed += 1;
        }
        self.in_txn = Some(0);
        if next {
            d.begin_transaction()?.map_err(|e| InputError::Transaction(format!("begin_transaction failed: {e}")))?;
        }
        Ok(())
    }

    fn at_count(&self) -> bool {
        self.opts.count.is_some_and(|n| self.counts.records >= n)
    }

    /// Hands the chunk to the producer (waiting while its queue is full).
    fn send<E: Engine, I: Io>(&mut self, d: &mut Driver<E, I>) -> Result<(), EngineFailed> {
        if !self.chunk.is_empty() {
            d.send(&self.opts.topic, &self.chunk, MAX_BLOCK_MS)?;
            self.chunk.clear();
        }
        Ok(())
    }

    /// The input paused: send what is packed, ignore `linger.ms` for it and
    /// write it out, so what was typed goes out before the next read
    /// blocks. Until the first report the producer may have no metadata
    /// or connection yet to write on: then wait for the reports of what
    /// was read (every record is reported by its delivery timeout).
    fn pause<E: Engine, I: Io>(&mut self, d: &mut Driver<E, I>) -> Result<(), EngineFailed> {
        self.send(d)?;
        if let Some(t) = &mut self.tee {
            let _ = t.flush();
        }
        let first = d.tally.reported() == 0;
        d.flush(if first { FLUSH_MS } else { 0 })?;
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        hay.iter().position(|&b| b == needle[0])
    } else {
        hay.windows(needle.len()).position(|w| w == needle)
    }
}

/// Produces everything the inputs hold as `opts` says, prints the summary
/// and returns the exit status: 0 if every record was delivered, else 1.
pub fn run<E: Engine, I: Io>(driver: &mut Driver<E, I>, opts: &Options, inputs: Vec<Input>) -> i32 {
    let tty = !opts.quiet && io::stderr().is_terminal();
    driver.keep_reports = false;
    if !opts.quiet {
        let mut last = Repeats::default();
        driver.on_warning = Some(Box::new(move |w: &str| {
            let Some(times) = last.count(w) else { return };
            if tty {
                eprint!("\r\x1b[K");
            }
            match times {
                1 => eprintln!("% warning: {w}"),
                n => eprintln!("% warning: {w} ({n} times in a row)"),
            }
        }));
    }
    // `-X statistics.interval.ms=N`: each statistics JSON line to stderr
    // as it comes (the last one as the producer closes), even with -q.
    let stats_tty = io::stderr().is_terminal();
    driver.on_statistics = Some(Box::new(move |s: &str| {
        if stats_tty {
            eprint!("\r\x1b[K");
        }
        eprintln!("{s}");
    }));
    let mut rate = RateLine { on: tty, last: Instant::now() };
    let start = Instant::now();
    let mut run = Run {
        opts,
        headers: opts.headers.iter().map(|(k, v)| Header { key: k.as_str(), value: v.as_deref() }).collect(),
        chunk: Packed::default(),
        counts: Counts::default(),
        tee: opts.tee.then(|| io::BufWriter::with_capacity(1 << 16, io::stdout())),
        in_txn: None,
    };
    let mut read_error = None;
    let result = (|| -> Result<(), InputError> {
        if opts.transactional() {
            driver.init_transactions(FLUSH_MS)?.map_err(|e| InputError::Transaction(format!("init_transactions failed: {e}")))?;
            driver.begin_transaction()?.map_err(|e| InputError::Transaction(format!("begin_transaction failed: {e}")))?;
            run.in_txn = Some(0);
        }
        for input in inputs {
            if run.at_count() {
                break;
            }
            if opts.verbose {
                eprintln!("% reading {}", input.name);
            }
            if let Err(e) = produce_input(driver, &mut run, &mut rate, start, input.source) {
                match e {
                    InputError::Read(e) => {
                        read_error = Some(format!("reading {}: {e}", input.name));
                        break;
                    }
                    e => return Err(e),
                }
            }
        }
        if run.in_txn.is_some() {
            if read_error.is_some() {
                // Input was lost: what was read must not commit as if whole.
                run.send(driver)?;
                driver.abort_transaction(FLUSH_MS)?.map_err(|e| InputError::Transaction(format!("abort_transaction failed: {e}")))?;
                run.counts.aborted += 1;
            } else {
                run.commit(driver, false)?;
            }
        }
        run.send(driver)?;
        if let Some(t) = &mut run.tee {
            let _ = t.flush();
        }
        // Every record is reported by its delivery timeout; keep the rate
        // line moving meanwhile.
        let flushing_since = Instant::now();
        while !driver.flush(if tty { 500 } else { FLUSH_MS })? {
            rate.show(driver, &run.counts, start, true);
            if flushing_since.elapsed().as_millis() as u64 >= FLUSH_MS {
                break;
            }
        }
        Ok(driver.close(1_000)?)
    })();
    rate.clear();
    if let Err(InputError::Transaction(_)) = &result {
        // The run ends here: what is left is reported before the summary.
        let _ = driver.close(1_000);
    }
    let counts = run.counts.clone();
    drop(run);
    let failed = match result {
        Ok(()) => None,
        Err(InputError::Engine(e)) => Some(e.to_string()),
        Err(InputError::Transaction(e)) => Some(e),
        Err(InputError::Read(e)) => Some(e.to_string()),
    };
    summary(driver, opts, &counts, start, failed, read_error)
}

enum InputError {
    Engine(EngineFailed),
    Read(io::Error),
    /// A transactional call failed: the run ends.
    Transaction(String),
}

impl From<EngineFailed> for InputError {
    fn from(e: EngineFailed) -> Self {
        InputError::Engine(e)
    }
}

fn produce_input<E: Engine, I: Io>(
    d: &mut Driver<E, I>,
    run: &mut Run<'_>,
    rate: &mut RateLine,
    start: Instant,
    mut source: Box<dyn Read>,
) -> Result<(), InputError> {
    let opts = run.opts;
    if !opts.files.is_empty() && !opts.split_files {
        // The whole file is one record, as kcat sends it.
        let mut all = Vec::new();
        source.read_to_end(&mut all).map_err(InputError::Read)?;
        run.push(&all);
        run.echo(&all, b"");
        if run.commit_due() {
            run.commit(d, true)?;
        } else if run.full() {
            run.send(d)?;
        }
        return Ok(());
    }
    let mut s = Splitter::new(source, &opts.delim);
    let mut paused = false;
    loop {
        while let Some(r) = s.next_buffered() {
            run.push(s.bytes(r.clone()));
            run.echo(s.bytes(r), &opts.delim);
            if run.commit_due() {
                run.commit(d, true)?;
            } else if run.full() {
                run.send(d)?;
                rate.show(d, &run.counts, start, false);
            }
            if run.at_count() {
                return Ok(());
            }
        }
        if s.done() {
            return Ok(());
        }
        // Hand over what is packed before a read that may block; after a
        // pause in the input, write it out too.
        if paused {
            run.pause(d)?;
            rate.show(d, &run.counts, start, false);
        } else {
            run.send(d)?;
        }
        paused = s.fill().map_err(InputError::Read)?;
    }
}

fn summary<E: Engine, I: Io>(d: &Driver<E, I>, opts: &Options, c: &Counts, start: Instant, failed: Option<String>, read_error: Option<String>) -> i32 {
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let t = &d.tally;
    let mut out: Box<dyn Write> = if opts.tee { Box::new(io::stderr()) } else { Box::new(io::stdout()) };
    let _ = writeln!(
        out,
        "records: {}  delivered: {}  failed: {}  bytes: {}  time: {secs:.3} s  {:.0} msgs/s  {:.2} MB/s  wire: {} bytes",
        c.records,
        t.delivered,
        t.failed + t.refused,
        c.bytes,
        t.delivered as f64 / secs,
        c.bytes as f64 / secs / 1e6,
        d.stats.bytes_sent
    );
    if opts.transactional() {
        let _ = writeln!(out, "transactions: {} committed  {} aborted", c.committed, c.aborted);
    }
    for e in &t.errors {
        let _ = writeln!(out, "error: {e}");
    }
    if let Some(e) = &failed {
        let _ = writeln!(out, "error: {e}");
    }
    if let Some(e) = &read_error {
        let _ = writeln!(out, "error: {e}");
    }
    let _ = out.flush();
    if opts.verbose {
        let s = &d.stats;
        eprintln!("% {} connections opened, {} bytes sent, {} received, {} producer steps", s.connects, s.bytes_sent, s.bytes_received, s.steps);
    }
    if failed.is_none() && read_error.is_none() && t.delivered == c.records && c.aborted == 0 {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::Repeats;

    #[test]
    fn repeated_warnings_thin_out() {
        let mut r = Repeats::default();
        let shown: Vec<Option<u64>> = (0..9).map(|_| r.count("refused")).collect();
        assert_eq!(shown, vec![Some(1), Some(2), None, Some(4), None, None, None, Some(8), None]);
        assert_eq!(r.count("other"), Some(1));
        assert_eq!(r.count("refused"), Some(1));
    }
}
