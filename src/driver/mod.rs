//! The driver: the one loop that owns connections and time and drives a
//! producer, for every host (feature `driver`, which links std).
//!
//! The producer core does no I/O. Something has to open the connections it
//! asks for, write what it hands out, feed back what arrives and wake it at
//! its deadlines; [`Driver`] is that loop, written once over two small
//! traits:
//!
//! - [`Io`]: the platform's sockets, clock and entropy: [`native`] (std
//!   sockets through mio), [`wasi`] (`wasi:sockets` and `wasi:io/poll`,
//!   for components that do their own I/O), or a test's simulated network.
//! - [`Engine`]: the producer itself ([`Producer`], in the same process) or
//!   a producer inside an `engine` component that a host calls (the
//!   wasmtime embedding implements it over the component's exports).
//!
//! The loop: step the engine (timers, then everything it has to do),
//! write what it handed out as far as the sockets take it, then wait for
//! the first socket event or the engine's deadline, never a fixed sleep.
//! Writes are bounded: while more than [`WRITE_BUFFER_LIMIT`] bytes wait
//! for the sockets, the engine is not asked for more (it holds its batches
//! in its own bounded buffer meanwhile). The rest of what every host used
//! to do on its own is here too: resending the tail of a call refused with
//! `QueueFull` once reports free room, tallying reports, reading the files
//! `ssl.*.location` name, and refusing to run without entropy.

mod engine;
mod io;
mod transactions;
#[cfg(not(target_os = "wasi"))]
pub mod native;
#[cfg(target_os = "wasi")]
pub mod wasi;

pub use engine::{Engine, EngineFailed};
pub use io::{Io, IoEvent};

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::boxed::Box;

use crate::config::{Config, ConfigError};
use crate::connection::ConnId;
use crate::packed::Packed;
use crate::producer::{Producer, Refusal, Step, TxnResult, REQUEST_BYTES_PER_DRIVE};
use crate::record::RecordId;
use crate::report::{DeliveryReport, ErrorKind, ProduceError};

/// Bytes the driver holds for the sockets at most before it stops asking
/// the engine for more.
pub const WRITE_BUFFER_LIMIT: usize = 2 * REQUEST_BYTES_PER_DRIVE;

/// Statistics lines kept for `take_statistics` at most (the oldest go).
pub const STATISTICS_KEPT: usize = 64;

/// Why a producer could not be opened: the setting at fault (`key`, empty
/// when it is not one setting's fault) and why.
pub type OpenError = ConfigError;

/// The file-name settings a host reads for the core, with the setting
/// each file's contents are passed as.
pub const FILE_SETTINGS: [(&str, &str); 3] =
    [("ssl.ca.location", "ssl.ca.pem"), ("ssl.certificate.location", "ssl.certificate.pem"), ("ssl.key.location", "ssl.key.pem")];

/// The configuration with what only a host can do done: the files
/// `ssl.ca.location`, `ssl.certificate.location` and `ssl.key.location`
/// name are read and passed as `ssl.ca.pem`, `ssl.certificate.pem` and
/// `ssl.key.pem` (the core reads no files); a `*.pem` setting given too
/// wins. Under WASI the files must be in a preopened directory.
pub fn host_config(pairs: &[(String, String)]) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let file = FILE_SETTINGS.iter().find(|(location, _)| k.trim() == *location);
        match file {
            Some((location, pem_key)) if !pairs.iter().any(|(k, _)| k.trim() == *pem_key) => {
                let pem = std::fs::read_to_string(v.trim())
                    .map_err(|e| ConfigError { key: (*location).into(), reason: format!("cannot read {}: {e}", v.trim()) })?;
                out.push(((*pem_key).to_string(), pem));
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    Ok(out)
}

/// 32 bytes from `io`'s entropy source, or an error saying it failed.
pub fn entropy(io: &mut dyn Io) -> Result<[u8; 32], OpenError> {
    let mut seed = [0u8; 32];
    io.entropy(&mut seed)
        .map_err(|e| ConfigError { key: String::new(), reason: format!("no entropy from the host: {e}") })?;
    Ok(seed)
}

/// What the reports said so far, for a summary.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub delivered: u64,
    /// Records whose delivery report carries an error.
    pub failed: u64,
    /// Records refused at `send` for good (not counting `QueueFull`
    /// refusals that were resent).
    pub refused: u64,
    /// The first few distinct errors, for people.
    pub errors: Vec<String>,
}

impl Tally {
    const KEEP: usize = 5;

    /// Records reported so far, delivered or failed.
    pub fn reported(&self) -> u64 {
        self.delivered + self.failed
    }

    fn note(&mut self, msg: String) {
        if self.errors.len() < Tally::KEEP && !self.errors.contains(&msg) {
            self.errors.push(msg);
        }
    }

    fn report(&mut self, r: &DeliveryReport) {
        match &r.error {
            None => self.delivered += r.records.len() as u64,
            Some(e) => {
                self.failed += r.records.len() as u64;
                self.note(format!("{}[{}]: {}", r.topic, r.partition, e.message));
            }
        }
    }
}

/// I/O counters a host may print.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub steps: u64,
    pub connects: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// What [`Driver::send`] did with a list of records.
#[derive(Debug, Default, Clone)]
pub struct Sent {
    /// Ids of the accepted records: from index `.0` of the list on, the
    /// records got consecutive ids starting at `.1` (one entry per call
    /// the list took).
    pub ids: Vec<(usize, RecordId)>,
    /// Records refused for good: (index in the list, why). Includes
    /// `QueueFull` for records still refused when the wait ran out.
    pub refused: Vec<(usize, ProduceError)>,
}

impl Sent {
    /// Entry `i`: the id of record `i` of a list of `len`, or why it was
    /// refused. One pass over the calls' id runs.
    pub fn into_outcomes(self, len: usize) -> Vec<Result<RecordId, ProduceError>> {
        let mut out: Vec<Result<RecordId, ProduceError>> = Vec::with_capacity(len);
        for (n, &(from, first)) in self.ids.iter().enumerate() {
            let to = self.ids.get(n + 1).map_or(len, |next| next.0);
            out.extend((from..to).map(|i| Ok(first + (i - from) as u64)));
        }
        for (i, e) in self.refused {
            if let Some(slot) = out.get_mut(i) {
                *slot = Err(e);
            }
        }
        out
    }
}

/// Where warnings go as they come.
pub type WarningSink = Box<dyn FnMut(&str)>;

/// A connection the driver holds bytes for.
struct Conn {
    connected: bool,
    /// Byte strings handed out and not yet written, the first from `head`.
    out: VecDeque<Vec<u8>>,
    head: usize,
}

/// Drives an [`Engine`] over an [`Io`].
pub struct Driver<E, I> {
    pub engine: E,
    pub io: I,
    conns: BTreeMap<ConnId, Conn>,
    step: Step,
    refusals: Vec<Refusal>,
    /// The engine's deadline, and whether the last step ended at its
    /// transmit budget (so the deadline is "now").
    deadline: Option<u64>,
    more: bool,
    /// Something happened since the last step.
    dirty: bool,
    unreported: u64,
    buffered: usize,
    reports: Vec<DeliveryReport>,
    /// Keep reports for `take_reports` (else they are only tallied).
    pub keep_reports: bool,
    warnings: Vec<String>,
    /// Called with each warning as it comes (dropped or refused
    /// connections, brokers that refused versions); without it warnings
    /// are kept for `take_warnings`.
    pub on_warning: Option<WarningSink>,
    /// Called with each statistics JSON line (`statistics.interval.ms`) as
    /// it comes; without it the last `STATISTICS_KEPT` are kept for
    /// `take_statistics`.
    pub on_statistics: Option<WarningSink>,
    statistics: VecDeque<String>,
    pub tally: Tally,
    pub stats: Stats,
    /// Outcomes of transactional calls not yet waited for.
    txn_results: Vec<TxnResult>,
}

impl<E, I> Driver<E, I> {
    /// Hands back the engine and the I/O, keeping the loop's own state (its
    /// connections and the bytes waiting for them, deadline, counters,
    /// reports) for `resume`: for a caller that lends the driver a
    /// borrowed engine or network for a while (the simulations do).
    pub fn park(self) -> (E, I, Driver<(), ()>) {
        let (engine, io, parked) = self.swap((), ());
        (engine, io, parked)
    }

    fn swap<E2, I2>(self, engine: E2, io: I2) -> (E, I, Driver<E2, I2>) {
        let d = Driver {
            engine,
            io,
            conns: self.conns,
            step: self.step,
            refusals: self.refusals,
            deadline: self.deadline,
            more: self.more,
            dirty: self.dirty,
            unreported: self.unreported,
            buffered: self.buffered,
            reports: self.reports,
            keep_reports: self.keep_reports,
            warnings: self.warnings,
            on_warning: self.on_warning,
            on_statistics: self.on_statistics,
            statistics: self.statistics,
            tally: self.tally,
            stats: self.stats,
            txn_results: self.txn_results,
        };
        (self.engine, self.io, d)
    }
}

impl Driver<(), ()> {
    /// A parked driver's state, driving `engine` over `io` again. The
    /// engine may have been called meanwhile: it gets a step at once.
    pub fn resume<E: Engine, I: Io>(self, engine: E, io: I) -> Driver<E, I> {
        let mut d = self.swap(engine, io).2;
        d.dirty = true;
        d
    }
}

impl<I: Io> Driver<Producer, I> {
    /// A producer in this process from properties (Java / librdkafka
    /// names), seeded from `io`'s entropy.
    pub fn open(mut io: I, pairs: &[(String, String)]) -> Result<Self, OpenError> {
        let pairs = host_config(pairs)?;
        let config = Config::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let seed = entropy(&mut io)?;
        let now = io.now_ms();
        let producer = Producer::seeded(config, now, &seed).map_err(|reason| ConfigError { key: String::new(), reason })?;
        Ok(Driver::new(producer, io))
    }
}

impl<E: Engine, I: Io> Driver<E, I> {
    pub fn new(engine: E, io: I) -> Self {
        Driver {
            engine,
            io,
            conns: BTreeMap::new(),
            step: Step::default(),
            refusals: Vec::new(),
            deadline: None,
            more: false,
            dirty: true,
            unreported: 0,
            buffered: 0,
            reports: Vec::new(),
            keep_reports: true,
            warnings: Vec::new(),
            on_warning: None,
            on_statistics: None,
            statistics: VecDeque::new(),
            tally: Tally::default(),
            stats: Stats::default(),
            txn_results: Vec::new(),
        }
    }

    /// Records accepted and not yet reported.
    pub fn unreported(&self) -> u64 {
        self.unreported
    }

    /// Whether reports are waiting for `take_reports`.
    pub fn has_reports(&self) -> bool {
        !self.reports.is_empty()
    }

    /// Bytes handed out by the engine and not yet taken by the sockets.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// When the driver next has work it can do without a socket event (on
    /// `Io::now_ms`'s clock): at or before now when something happened
    /// since its last step (records sent, events read) and the sockets
    /// have room, else the engine's deadline; none when only a socket event
    /// or a new call can make progress. For hosts that wait on their own
    /// (the `client` world's `subscribe`).
    pub fn wake_at(&self) -> Option<u64> {
        if self.dirty && self.buffered < WRITE_BUFFER_LIMIT {
            return Some(0);
        }
        self.deadline.filter(|_| !(self.more && self.buffered >= WRITE_BUFFER_LIMIT))
    }

    /// The reports that came since the last call.
    pub fn take_reports(&mut self) -> Vec<DeliveryReport> {
        core::mem::take(&mut self.reports)
    }

    /// The warnings that came since the last call (without `on_warning`).
    pub fn take_warnings(&mut self) -> Vec<String> {
        core::mem::take(&mut self.warnings)
    }

    /// The statistics JSON lines that came since the last call (without
    /// `on_statistics`), oldest first: at most the last `STATISTICS_KEPT`.
    pub fn take_statistics(&mut self) -> Vec<String> {
        self.statistics.drain(..).collect()
    }

    /// Hands `records` to the engine for `topic`. While the engine's queue
    /// is full (`buffer.memory`, `queue.buffering.max.messages`) it drives
    /// the I/O until reports free room and resends the refused tail, in
    /// order, for at most `max_block_ms` (as the Java client's `send`
    /// blocks up to `max.block.ms`); what is still refused then is
    /// refused with `QueueFull`.
    pub fn send(&mut self, topic: &str, records: &Packed, max_block_ms: u64) -> Result<Sent, EngineFailed> {
        let mut sent = Sent::default();
        let give_up = self.io.now_ms().saturating_add(max_block_ms);
        let mut from = 0;
        while from < records.len() {
            self.refusals.clear();
            let now = self.io.now_ms();
            let first = self.engine.send_packed(topic, records.from(from), now, &mut self.refusals)?;
            self.dirty = true;
            let full = self.refusals.iter().find(|r| r.error.kind == ErrorKind::QueueFull).map(|r| r.index as usize);
            let taken = full.unwrap_or(records.len() - from);
            let refused_now = self.refusals.iter().filter(|r| (r.index as usize) < taken).count();
            self.unreported += (taken - refused_now) as u64;
            sent.ids.push((from, first));
            for r in self.refusals.drain(..).filter(|r| (r.index as usize) < taken) {
                self.tally.refused += 1;
                self.tally.note(format!("refused: {}", r.error.message));
                sent.refused.push((from + r.index as usize, r.error));
            }
            from += taken;
            if full.is_some() {
                let now = self.io.now_ms();
                if now >= give_up {
                    let error = ProduceError::new(
                        ErrorKind::QueueFull,
                        format!("the producer's queue stayed full for {max_block_ms} ms"),
                    );
                    for i in from..records.len() {
                        self.tally.refused += 1;
                        sent.refused.push((i, error.clone()));
                    }
                    self.tally.note(format!("refused: {}", error.message));
                    break;
                }
                // Reports free room: resend as soon as they come.
                let reported = self.tally.reported();
                self.run_until(give_up, |d| d.tally.reported() != reported)?;
            }
        }
        // Give the records to the network now if there is room.
        let now = self.io.now_ms();
        self.turn(now)?;
        Ok(sent)
    }

    /// Runs `f` on the engine for a call the driver has no verb for (a
    /// component's record-by-record `send`, say): `f` gets the time and
    /// returns its result and how many records it handed over that will
    /// be reported. Then the engine gets a turn without waiting.
    pub fn with_engine<R>(&mut self, f: impl FnOnce(&mut E, u64) -> Result<(R, u64), EngineFailed>) -> Result<R, EngineFailed> {
        let now = self.io.now_ms();
        let (r, accepted) = f(&mut self.engine, now)?;
        self.unreported += accepted;
        self.dirty = true;
        self.turn(now)?;
        Ok(r)
    }

    /// Makes every batch ready now, ignoring `linger.ms`, and drives the
    /// I/O until every record accepted so far is reported or `timeout_ms`
    /// passes. Returns whether everything was reported.
    pub fn flush(&mut self, timeout_ms: u64) -> Result<bool, EngineFailed> {
        let now = self.io.now_ms();
        self.engine.flush(now)?;
        self.dirty = true;
        self.run_until(now.saturating_add(timeout_ms), |d| d.unreported == 0)
    }

    /// Stops accepting records, sends what is left and drives the I/O
    /// until every record is reported: those still undelivered after
    /// `timeout_ms` fail with `Closed`. Then the connections are closed.
    pub fn close(&mut self, timeout_ms: u64) -> Result<(), EngineFailed> {
        let now = self.io.now_ms();
        self.engine.close(timeout_ms, now)?;
        self.dirty = true;
        // The engine reports every record by its deadline; the margin only
        // keeps a broken engine from holding the host for ever.
        let end = now.saturating_add(timeout_ms).saturating_add(5_000);
        self.run_until(end, |d| d.unreported == 0 && d.buffered == 0)?;
        for (conn, _) in core::mem::take(&mut self.conns) {
            self.io.close(conn);
        }
        Ok(())
    }

    /// Drives the I/O for up to `max_wait_ms`, returning early after the
    /// first turn that brought reports.
    pub fn poll(&mut self, max_wait_ms: u64) -> Result<(), EngineFailed> {
        let end = self.io.now_ms().saturating_add(max_wait_ms);
        let reported = self.tally.reported();
        self.run_until(end, |d| d.tally.reported() != reported)?;
        Ok(())
    }

    /// Turns until `done` or `end`; whether `done` held. `done` is checked
    /// after each step, before any wait.
    pub(crate) fn run_until(&mut self, end: u64, done: impl Fn(&Self) -> bool) -> Result<bool, EngineFailed> {
        // At least one look at the sockets, even when `end` has passed.
        let mut looked = false;
        loop {
            self.advance()?;
            if done(self) {
                return Ok(true);
            }
            if looked && self.io.now_ms() >= end {
                return Ok(false);
            }
            self.wait(end);
            looked = true;
        }
    }

    /// One turn of the loop: advance, then wait for an event, the engine's
    /// deadline or `until`.
    fn turn(&mut self, until: u64) -> Result<(), EngineFailed> {
        self.advance()?;
        self.wait(until);
        Ok(())
    }

    /// Steps the engine if it has something to do, then writes what waits.
    fn advance(&mut self) -> Result<(), EngineFailed> {
        let now = self.io.now_ms();
        let due = self.deadline.is_some_and(|d| d <= now);
        let room = self.buffered < WRITE_BUFFER_LIMIT;
        // While the sockets lag, only a timer (not a full step budget)
        // earns a step: it may close a connection that stopped reading.
        if (self.dirty || due) && (room || (due && !self.more)) {
            self.step(now)?;
        }
        self.write();
        Ok(())
    }

    /// Waits for socket events until the engine's deadline or `until`,
    /// whichever is first, and hands the events to the engine.
    fn wait(&mut self, until: u64) {
        let now = self.io.now_ms();
        let mut wake = until;
        if let Some(d) = self.deadline {
            // A step that stopped at its budget comes back as soon as the
            // sockets have room for more.
            if !(self.more && self.buffered >= WRITE_BUFFER_LIMIT) {
                wake = wake.min(d);
            }
        }
        if self.dirty && self.buffered < WRITE_BUFFER_LIMIT {
            wake = now;
        }
        let writable: Vec<ConnId> = self.conns.iter().filter(|(_, c)| c.connected && !c.out.is_empty()).map(|(id, _)| *id).collect();
        let Driver { engine, io, conns, stats, dirty, buffered, .. } = self;
        let mut got = false;
        io.wait(wake, &writable, &mut |e| {
            got = true;
            match e {
                IoEvent::Connected(c) => {
                    if let Some(conn) = conns.get_mut(&c) {
                        conn.connected = true;
                    }
                    engine.connected(c, now);
                }
                IoEvent::Received(c, bytes) => {
                    stats.bytes_received += bytes.len() as u64;
                    engine.received(c, bytes, now);
                }
                IoEvent::Closed(c, why) => {
                    forget(conns, buffered, c);
                    engine.closed(c, why, now);
                }
            }
        });
        if got {
            *dirty = true;
        }
    }

    fn step(&mut self, now: u64) -> Result<(), EngineFailed> {
        self.dirty = false;
        self.engine.step(now, &mut self.step)?;
        self.stats.steps += 1;
        let step = &mut self.step;
        for (conn, host, port) in step.connects.drain(..) {
            self.stats.connects += 1;
            self.conns.insert(conn, Conn { connected: false, out: VecDeque::new(), head: 0 });
            self.io.connect(conn, &host, port);
        }
        for (conn, data) in step.transmits.drain(..) {
            if let Some(c) = self.conns.get_mut(&conn) {
                self.buffered += data.len();
                c.out.push_back(data);
            }
        }
        // What was handed out before a close (a TLS alert saying why, say)
        // goes out first, as far as the socket takes it now.
        for i in 0..self.step.closes.len() {
            let conn = self.step.closes[i];
            let _ = self.write_conn(conn);
            forget(&mut self.conns, &mut self.buffered, conn);
            self.io.close(conn);
        }
        let step = &mut self.step;
        step.closes.clear();
        for r in step.reports.drain(..) {
            self.tally.report(&r);
            if self.keep_reports {
                self.reports.push(r);
            }
        }
        for w in step.warnings.drain(..) {
            match &mut self.on_warning {
                Some(f) => f(&w),
                None => self.warnings.push(w),
            }
        }
        for s in step.statistics.drain(..) {
            match &mut self.on_statistics {
                Some(f) => f(&s),
                None => {
                    if self.statistics.len() == STATISTICS_KEPT {
                        self.statistics.pop_front();
                    }
                    self.statistics.push_back(s);
                }
            }
        }
        self.txn_results.append(&mut step.transactions);
        self.more = step.deadline == Some(now);
        self.deadline = step.deadline;
        self.unreported = step.unreported;
        Ok(())
    }

    /// Writes what is waiting, as far as each socket takes it.
    fn write(&mut self) {
        let mut broken = Vec::new();
        let ids: Vec<ConnId> = self.conns.iter().filter(|(_, c)| c.connected && !c.out.is_empty()).map(|(id, _)| *id).collect();
        for id in ids {
            if let Err(e) = self.write_conn(id) {
                broken.push((id, e));
            }
        }
        for (id, why) in broken {
            forget(&mut self.conns, &mut self.buffered, id);
            self.io.close(id);
            let now = self.io.now_ms();
            self.engine.closed(id, &format!("write failed: {why}"), now);
            self.dirty = true;
        }
    }

    /// Writes what waits for `id` as far as its socket takes it now.
    fn write_conn(&mut self, id: ConnId) -> Result<(), String> {
        let Some(c) = self.conns.get_mut(&id).filter(|c| c.connected) else { return Ok(()) };
        while let Some(front) = c.out.front() {
            let n = self.io.write(id, &front[c.head..])?;
            if n == 0 {
                break;
            }
            c.head += n;
            self.buffered -= n;
            self.stats.bytes_sent += n as u64;
            if c.head == front.len() {
                c.out.pop_front();
                c.head = 0;
            }
        }
        Ok(())
    }
}

/// Forgets a connection, and its unwritten bytes with it.
fn forget(conns: &mut BTreeMap<ConnId, Conn>, buffered: &mut usize, id: ConnId) {
    if let Some(c) = conns.remove(&id) {
        *buffered -= c.out.iter().map(Vec::len).sum::<usize>() - c.head;
    }
}

#[cfg(test)]
#[path = "../tests/driver.rs"]
mod tests;
