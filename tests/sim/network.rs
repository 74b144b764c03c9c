//! The simulated network as the driver's `Io`: the producer is driven by
//! the same loop as in every host (`kafka_producer_component::driver`),
//! with the simulated brokers on the other end of its connections and the
//! simulated clock. Waiting moves the clock to the next held response or
//! the wake-up time, so a scenario of minutes runs in microseconds.

use kafka_producer_component::driver::{Driver, Io, IoEvent};
use kafka_producer_component::Producer;

use super::{trace, Sim, SimConn, ToProducer};

/// Consecutive waits that found nothing to do and could not move the clock
/// forward: the producer keeps asking to be woken in the past.
const BUSY_LOOP: u32 = 1_000;

struct SimIo<'a> {
    sim: &'a mut Sim,
    idle: u32,
    /// Events delivered and calls made: whether a round did anything.
    moves: u64,
}

/// Runs `p` against `sim` until `until` (simulated ms).
pub fn run(sim: &mut Sim, p: &mut Producer, until: u64) {
    let parked = sim.parked.take();
    let io = SimIo { sim, idle: 0, moves: 0 };
    let mut d = match parked {
        Some(state) => state.resume(p, io),
        None => {
            let lines = io.sim.statistics.clone();
            let mut d = Driver::new(p, io);
            d.on_statistics = Some(Box::new(move |s: &str| lines.borrow_mut().push(s.to_string())));
            d
        }
    };
    // Until `until`, and at `until` until nothing moves any more.
    loop {
        let now = d.io.sim.now;
        let before = d.io.moves;
        d.poll(until.saturating_sub(now)).expect("the producer never fails a call");
        let at = d.io.sim.now;
        let reports = d.take_reports();
        let moved = d.io.moves != before || !reports.is_empty();
        for r in reports {
            d.io.sim.reports.push(r);
            d.io.sim.report_times.push(at);
        }
        let warnings = d.take_warnings();
        d.io.sim.warnings.extend(warnings);
        let results = d.take_txn_results();
        d.io.sim.txn_results.extend(results);
        if at >= until && !moved {
            break;
        }
    }
    let (_, io, state) = d.park();
    io.sim.parked = Some(state);
}

impl SimIo<'_> {
    /// Hands over everything that is ready now: opened connections, due
    /// responses, closed connections. Whether there was any.
    fn deliver(&mut self, on: &mut dyn FnMut(IoEvent<'_>)) -> bool {
        let sim = &mut *self.sim;
        let mut moved = false;
        while let Some(c) = sim.connecting.pop_front() {
            moved = true;
            on(IoEvent::Connected(c));
        }
        sim.release_responses();
        while let Some((c, out)) = sim.to_producer.pop_front() {
            moved = true;
            let bytes = match out {
                ToProducer::Raw(bytes) => bytes,
                ToProducer::Response(r) => {
                    let clean = !sim.corrupted.contains(&c);
                    // Checked per connection: a response on a connection
                    // the producer already dropped is never read.
                    if let Some((_, until)) = r.throttle.filter(|_| clean) {
                        sim.throttled_until.insert(c, (until, sim.max_cid_seen));
                    }
                    let answers = if clean { &mut sim.answers } else { &mut sim.answers_maybe_read };
                    for (no, code) in r.answers {
                        answers.entry(no).or_default().push(code);
                    }
                    sim.seal(c, r.frame)
                }
            };
            match sim.fragment {
                Some(n) => bytes.chunks(n.max(1)).for_each(|piece| on(IoEvent::Received(c, piece))),
                None => on(IoEvent::Received(c, &bytes)),
            }
        }
        while let Some((c, why)) = sim.closing.pop_front() {
            moved = true;
            on(IoEvent::Closed(c, &why));
        }
        moved
    }
}

impl Io for SimIo<'_> {
    fn now_ms(&mut self) -> u64 {
        self.sim.now
    }

    fn connect(&mut self, conn: u32, host: &str, port: u16) {
        self.idle = 0;
        self.moves += 1;
        let sim = &mut *self.sim;
        let node = host.strip_prefix("broker-").and_then(|n| n.parse().ok()).unwrap_or(-1);
        sim.connects += 1;
        if sim.brokers.get(&node) == Some(&port) {
            let config = sim.tls_by_node.get(&node).or(sim.tls.as_ref()).cloned();
            let tls = config.map(|c| rustls::ServerConnection::new(c).expect("server session"));
            sim.conns.insert(conn, SimConn { node, inbuf: Vec::new(), tls, outbox: Default::default() });
            sim.connecting.push_back(conn);
        } else {
            sim.closing.push_back((conn, "unknown host".into()));
        }
    }

    fn write(&mut self, conn: u32, data: &[u8]) -> Result<usize, String> {
        self.idle = 0;
        self.moves += 1;
        match self.sim.fragment {
            // Partial writes: the broker reads the request in pieces.
            Some(n) => data.chunks(n.max(1)).for_each(|piece| self.sim.from_producer(conn, piece)),
            None => self.sim.from_producer(conn, data),
        }
        Ok(data.len())
    }

    fn close(&mut self, conn: u32) {
        self.idle = 0;
        self.moves += 1;
        self.sim.conns.remove(&conn);
    }

    fn wait(&mut self, until: u64, _writable: &[u32], on: &mut dyn FnMut(IoEvent<'_>)) {
        if self.deliver(on) {
            self.idle = 0;
            self.moves += 1;
            return;
        }
        // Nothing ready: move the clock to the next held response or the
        // wake-up time, whichever is first.
        let sim = &mut *self.sim;
        let next_held = sim.conns.values().filter_map(|c| c.outbox.front().map(|r| r.ready_at)).min();
        let to = next_held.map_or(until, |h| h.min(until));
        if to <= sim.now {
            self.idle += 1;
            assert!(self.idle < BUSY_LOOP, "woken at {until}, not after now {}, with nothing to do: a busy loop", sim.now);
            return;
        }
        self.idle = 0;
        self.moves += 1;
        trace(|| format!("t={} -> {to}", sim.now));
        sim.now = to;
        self.deliver(on);
    }

    fn entropy(&mut self, buf: &mut [u8]) -> Result<(), String> {
        buf.fill(0x5e);
        Ok(())
    }
}

/// Runs `d` on the simulation's parked driver state (a host's driver that
/// lives across calls), collecting its reports.
fn with_driver<R>(sim: &mut Sim, p: &mut Producer, f: impl FnOnce(&mut Driver<&mut Producer, SimIo<'_>>) -> R) -> R {
    let parked = sim.parked.take();
    let io = SimIo { sim, idle: 0, moves: 0 };
    let mut d = match parked {
        Some(state) => state.resume(p, io),
        None => Driver::new(p, io),
    };
    let r = f(&mut d);
    let at = d.io.sim.now;
    for rep in d.take_reports() {
        d.io.sim.reports.push(rep);
        d.io.sim.report_times.push(at);
    }
    let (_, io, state) = d.park();
    io.sim.parked = Some(state);
    r
}

/// A transactional call through the driver's blocking API, as hosts make it.
pub fn driver_call(sim: &mut Sim, p: &mut Producer, call: kafka_producer_component::TxnCall, timeout_ms: u64) -> Result<(), kafka_producer_component::ProduceError> {
    with_driver(sim, p, |d| d.transaction(call, timeout_ms).expect("engine"))
}

/// Polls for `ms` like a host that does not look at transactional outcomes.
pub fn driver_poll(sim: &mut Sim, p: &mut Producer, ms: u64) {
    with_driver(sim, p, |d| {
        let end = d.io.sim.now + ms;
        while d.io.sim.now < end {
            let left = end - d.io.sim.now;
            d.poll(left).expect("poll");
        }
    })
}
