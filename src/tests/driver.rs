//! The driver's loop against a scripted engine and network on a manual
//! clock: no sockets, no real time.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::record::Record;

/// An engine that connects, writes one request, and reports its records
/// delivered once an answer arrives; its next timer is a minute away.
#[derive(Default)]
struct Scripted {
    accepted: u64,
    connected: bool,
    sent: bool,
    answered: bool,
    reported: bool,
}

impl Engine for Scripted {
    fn send_packed(&mut self, _topic: &str, _packed: &[u8], _now: u64, _refused: &mut Vec<Refusal>) -> Result<RecordId, EngineFailed> {
        self.accepted += 1;
        Ok(0)
    }
    fn flush(&mut self, _now: u64) -> Result<(), EngineFailed> {
        Ok(())
    }
    fn close(&mut self, _timeout_ms: u64, _now: u64) -> Result<(), EngineFailed> {
        Ok(())
    }
    fn connected(&mut self, _conn: ConnId, _now: u64) {
        self.connected = true;
    }
    fn received(&mut self, _conn: ConnId, _bytes: &[u8], _now: u64) {
        self.answered = true;
    }
    fn closed(&mut self, _conn: ConnId, _reason: &str, _now: u64) {}
    fn transaction(&mut self, _call: crate::producer::TxnCall, _now: u64) -> Result<Result<(), crate::report::ProduceError>, EngineFailed> {
        Ok(Ok(()))
    }
    fn step(&mut self, now: u64, out: &mut Step) -> Result<(), EngineFailed> {
        out.clear();
        if self.accepted > 0 && !self.connected && !self.sent {
            out.connects.push((1, String::from("broker"), 9092));
            self.sent = true;
        } else if self.connected && !self.answered {
            out.transmits.push((1, b"produce".to_vec()));
        }
        if self.answered && !self.reported {
            self.reported = true;
            out.reports.push(DeliveryReport {
                topic: String::from("t"),
                partition: 0,
                base_offset: 0,
                log_append_time_ms: -1,
                records: vec![0],
                error: None,
            });
        }
        out.unreported = if self.reported { 0 } else { self.accepted };
        out.deadline = Some(now + 60_000);
        Ok(())
    }
}

/// A network that connects at once and answers the first write; a wait
/// with nothing to report moves the clock to `until`, counted as slept.
#[derive(Default)]
struct Net {
    now: u64,
    slept_ms: u64,
    /// The platform's entropy source fails.
    no_entropy: bool,
    connecting: bool,
    written: bool,
    answered: bool,
}

impl Io for Net {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn connect(&mut self, _conn: ConnId, _host: &str, _port: u16) {
        self.connecting = true;
    }
    fn write(&mut self, _conn: ConnId, data: &[u8]) -> Result<usize, String> {
        self.written = true;
        Ok(data.len())
    }
    fn close(&mut self, _conn: ConnId) {}
    fn wait(&mut self, until: u64, _writable: &[ConnId], on: &mut dyn FnMut(IoEvent<'_>)) {
        if core::mem::take(&mut self.connecting) {
            on(IoEvent::Connected(1));
        } else if self.written && !self.answered {
            self.answered = true;
            on(IoEvent::Received(1, b"ack"));
        } else if until > self.now {
            self.slept_ms += until - self.now;
            self.now = until;
        }
    }
    fn entropy(&mut self, buf: &mut [u8]) -> Result<(), String> {
        if self.no_entropy {
            return Err("the source is gone".into());
        }
        buf.fill(7);
        Ok(())
    }
}

#[test]
fn flush_returns_once_the_reports_are_in_without_waiting_for_a_timer() {
    let mut driver = Driver::new(Scripted::default(), Net { now: 1_000, ..Net::default() });
    let mut packed = Packed::default();
    packed.push(&Record { key: None, value: Some(b"v"), headers: &[], partition: None, timestamp: None });
    let sent = driver.send("t", &packed, 0).unwrap();
    assert_eq!(sent.into_outcomes(1), [Ok(0)]);
    assert!(driver.flush(600_000).unwrap());
    assert_eq!((driver.tally.delivered, driver.unreported()), (1, 0));
    // The answer came without any wait: the report must not wait for the
    // engine's next timer (a minute) or the flush timeout.
    assert_eq!(driver.io.slept_ms, 0);
    assert_eq!(driver.take_reports().len(), 1);
}

#[test]
fn a_failing_entropy_source_is_an_error_never_zeros() {
    let pairs = |extra: &[(&str, &str)]| {
        let mut v = vec![("bootstrap.servers".to_string(), "b:9092".to_string())];
        v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v
    };
    let failing = || Net { no_entropy: true, ..Net::default() };
    let e = Driver::open(failing(), &pairs(&[])).err().expect("no producer without entropy");
    assert!(e.reason.contains("no entropy from the host") && e.reason.contains("the source is gone"), "{e}");
    // With entropy, the same configuration opens.
    assert!(Driver::open(Net::default(), &pairs(&[])).is_ok());
    // An unreadable CA file names its setting.
    let e = Driver::open(Net::default(), &pairs(&[("ssl.ca.location", "/nonexistent/ca.pem")])).err().unwrap();
    assert_eq!(e.key, "ssl.ca.location");
}
