//! Unit tests of `producer::timers`: the deadlines `poll_timeout` reports
//! and what `expire` does when they pass.

use alloc::vec::Vec;

use super::*;
use crate::producer::sender::tests::{producer_with_leader, send_and_flush};
use crate::producer::Output;

fn deadlines(p: &Producer) -> Vec<(Timer, u64)> {
    let mut all = Vec::new();
    p.deadlines(|timer, at| all.push((timer, at)));
    all
}

#[test]
fn a_lingering_batch_wakes_the_producer_at_linger_ms_and_expires_at_delivery_timeout() {
    let (mut p, _) = producer_with_leader(&[("linger.ms", "5"), ("delivery.timeout.ms", "1000"), ("request.timeout.ms", "900")]);
    p.send("t", &Record { value: Some(b"v"), partition: Some(1), ..Default::default() }, 100).unwrap();
    assert_eq!(p.poll(100), None, "lingering");
    let all = deadlines(&p);
    assert!(all.contains(&(Timer::BatchReady, 105)) && all.contains(&(Timer::DeliveryTimeout, 1100)), "{all:?}");
    assert_eq!(p.poll_timeout(), Some(105));
    // At linger.ms it goes out; then the request's timeout is the next deadline.
    p.handle_timeout(105);
    assert!(matches!(p.poll(105), Some(Output::Transmit { .. })));
    assert_eq!(p.poll(105), None);
    let conn = p.client.conns[0].id;
    assert!(deadlines(&p).contains(&(Timer::RequestTimeout(conn), 1005)));
    assert_eq!(p.poll_timeout(), Some(1005));
}

#[test]
fn a_request_past_its_timeout_drops_the_connection_and_its_batch_retries() {
    let (mut p, conn) = producer_with_leader(&[("request.timeout.ms", "900")]);
    send_and_flush(&mut p, &[b"a"], 10);
    p.expire(909);
    assert!(p.client.conn(conn).is_some());
    p.expire(910);
    assert!(p.client.conn(conn).is_none());
    assert!(p.outputs.iter().any(|o| matches!(o, Output::Warning(w) if w.contains("no response within request.timeout.ms (900 ms)"))));
    assert_eq!(p.accumulator.queued_batches(), 1);
}

#[test]
fn a_batch_past_delivery_timeout_fails_and_so_do_records_waiting_for_metadata() {
    let (mut p, _) = producer_with_leader(&[("delivery.timeout.ms", "1000"), ("linger.ms", "500"), ("request.timeout.ms", "500")]);
    p.send("t", &Record { value: Some(b"v"), partition: Some(0), ..Default::default() }, 0).unwrap();
    p.send("unknown", &Record { value: Some(b"w"), ..Default::default() }, 500).unwrap();
    assert!(deadlines(&p).contains(&(Timer::MetadataWait(1), 1500)));
    p.expire(1000);
    let reports: Vec<_> = p.outputs.iter().filter_map(|o| if let Output::Report(r) = o { Some(r.clone()) } else { None }).collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].error.as_ref().map(|e| e.kind), Some(ErrorKind::TimedOut));
    p.expire(1500);
    assert_eq!(p.unreported(), 0);
}

#[test]
fn a_connection_not_up_within_the_setup_timeout_closes() {
    let (mut p, _) = producer_with_leader(&[("socket.connection.setup.timeout.ms", "300")]);
    let conn = p.client.connect(2, "k2".into(), 9092, 50, &mut p.outputs);
    assert!(deadlines(&p).contains(&(Timer::ConnectionSetup(conn), 350)));
    p.expire(349);
    assert!(p.client.conn(conn).is_some());
    p.expire(350);
    assert!(p.client.conn(conn).is_none());
}

#[test]
fn records_that_never_got_metadata_name_the_connection_that_failed() {
    let config = crate::config::Config::from_pairs([("bootstrap.servers", "b:9092"), ("delivery.timeout.ms", "1000"), ("request.timeout.ms", "500")]).unwrap();
    let mut p = Producer::new(config, 0);
    p.send("t", &Record { value: Some(b"v"), ..Default::default() }, 0).unwrap();
    let conn = loop {
        match p.poll(0) {
            Some(Output::Connect { conn, .. }) => break conn,
            Some(_) => {}
            None => panic!("no connect"),
        }
    };
    p.handle_closed(conn, "connect to b:9092 refused by the host (access-denied)", 10);
    p.expire(1000);
    let reports: Vec<_> = p.outputs.iter().filter_map(|o| if let Output::Report(r) = o { Some(r.clone()) } else { None }).collect();
    assert_eq!(reports.len(), 1);
    let e = reports[0].error.as_ref().expect("failed");
    assert_eq!(e.kind, ErrorKind::TimedOut);
    assert!(e.message.contains("last connection error: connection to bootstrap server at b:9092 closed: connect to b:9092 refused by the host (access-denied)"), "{}", e.message);
}

#[test]
fn a_completed_handshake_clears_the_last_connection_error() {
    let (mut p, _) = producer_with_leader(&[]);
    p.client.unreachable = Some("connection to broker 1 at k1:9092 closed: refused".into());
    p.client.handshake_completed(1);
    assert_eq!(p.client.unreachable, None);
}
