//! The whole producer fed arbitrary bytes and events on its connections:
//! whatever arrives, it never panics, and once time passes the delivery
//! timeout every record it accepted has had exactly one report. The first
//! byte's low bit picks TLS (`security.protocol=SSL`): the bytes then go
//! through the TLS session first; the next bit makes the producer
//! transactional, and op 7 then calls a transactional verb (init, begin
//! and send, send offsets, commit, abort) instead of feeding bytes.
#![no_main]

use std::collections::HashMap;

use kafka_producer_component::{Config, GroupMetadata, OffsetToCommit, Output, Producer, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let protocol = if mode & 1 == 1 { "SSL" } else { "PLAINTEXT" };
    let transactional = mode & 2 == 2;
    let mut pairs = vec![
        ("bootstrap.servers", "a:1,b:2"),
        ("linger.ms", "1"),
        ("delivery.timeout.ms", "5000"),
        ("request.timeout.ms", "1000"),
        ("security.protocol", protocol),
    ];
    if transactional {
        pairs.extend([("transactional.id", "fuzz"), ("transaction.timeout.ms", "5000")]);
    }
    let config = Config::from_pairs(pairs).expect("valid config");
    let mut now = 1_700_000_000_000u64;
    let mut p = Producer::with_entropy(config, now, &[7; 32]);
    let mut accepted = 0u64;
    let mut send = |p: &mut Producer, now: u64| {
        for i in 0..5u8 {
            let key = [i];
            if p.send("t", &Record { key: Some(&key), value: Some(b"v"), ..Default::default() }, now).is_ok() {
                accepted += 1;
            }
        }
    };
    if transactional {
        let _ = p.init_transactions();
    } else {
        send(&mut p, now);
    }
    let mut open: Vec<u32> = Vec::new();
    let mut reported: HashMap<u64, u32> = HashMap::new();
    let mut drain = |p: &mut Producer, now: u64, open: &mut Vec<u32>| {
        while let Some(o) = p.poll(now) {
            match o {
                Output::Connect { conn, .. } => open.push(conn),
                Output::Close { conn } => open.retain(|&c| c != conn),
                Output::Report(r) => {
                    for id in r.records {
                        *reported.entry(id).or_default() += 1;
                    }
                }
                Output::Transmit { .. } | Output::Warning(_) | Output::Statistics(_) | Output::Transaction(_) => {}
            }
        }
    };
    drain(&mut p, now, &mut open);
    // The input, as a stream of events: an op byte, then its argument.
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let conn = open.get((op >> 3) as usize % open.len().max(1)).copied().unwrap_or(1);
        match op & 7 {
            0 => p.handle_connected(conn, now),
            1 => {
                p.handle_closed(conn, "fuzz", now);
                open.retain(|&c| c != conn);
            }
            2 => {
                now += u64::from(op);
                p.handle_timeout(now);
            }
            7 if transactional => {
                // Errors (calls out of order, a fatal state) are the point.
                let _ = match (op >> 3) % 5 {
                    0 => p.init_transactions(),
                    1 => p.begin_transaction().map(|_| send(&mut p, now)),
                    2 => p.send_offsets_to_transaction(vec![OffsetToCommit { topic: "in".into(), partition: 0, offset: 42, metadata: None }], GroupMetadata { group_id: "g".into(), generation_id: -1, member_id: String::new(), group_instance_id: None }),
                    3 => p.commit_transaction(),
                    _ => p.abort_transaction(),
                };
            }
            _ => {
                let n = (usize::from(op) % 64).min(rest.len());
                let (bytes, tail) = rest.split_at(n);
                rest = tail;
                p.handle_received(conn, bytes, now);
            }
        }
        drain(&mut p, now, &mut open);
    }
    // Past every timeout, nothing may be left unreported.
    for _ in 0..100 {
        now += 1_000;
        p.handle_timeout(now);
        drain(&mut p, now, &mut open);
    }
    assert_eq!(p.unreported(), 0);
    assert_eq!(reported.len() as u64, accepted);
    assert!(reported.values().all(|&n| n == 1));
});
