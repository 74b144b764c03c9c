//! World `client`: the producer as a component that does its own I/O over
//! wasi:sockets, in a wasmtime host that links only wasmtime-wasi and lets
//! it reach 127.0.0.1 alone. The independent reader checks what it wrote.

use std::collections::BTreeSet;

use host_tests::client_world::{self, ClientHost, ErrorKind as CErrorKind};
use host_tests::*;

fn open(host: &mut ClientHost, config: &[(&str, &str)]) {
    if let Err(e) = host.open(config).unwrap() {
        panic!("config refused: {}: {}", e.key, e.reason);
    }
}

#[test]
fn the_client_world_produces_every_record_once_in_order() {
    let broker = Broker::start().unwrap();
    broker.create_topic("client", 3).unwrap();
    let mut host = ClientHost::new().unwrap();
    let bootstrap = broker.bootstrap();
    // A queue of 500 records, so send-batch calls of 1000 must wait for
    // reports and resend their refused tails, in order, inside the call.
    open(
        &mut host,
        &[
            ("bootstrap.servers", &bootstrap),
            ("linger.ms", "5"),
            ("queue.buffering.max.messages", "500"),
            ("max.block.ms", "60000"),
            ("statistics.interval.ms", "50"),
        ],
    );

    let records = mixed_records(6_000);
    let sent_from_ms = now_ms();
    let mut ids = Vec::with_capacity(records.len());
    let mut reports = Vec::new();
    // The first 200 one by one with `send`, the rest with `send-batch`.
    for r in &records[..200] {
        ids.push(host.send("client", &client_world::to_client(r)).unwrap().expect("send refused"));
    }
    for part in records[200..].chunks(1_000) {
        let batch: Vec<_> = part.iter().map(client_world::to_client).collect();
        for (i, outcome) in host.send_batch("client", &batch).unwrap().into_iter().enumerate() {
            ids.push(outcome.unwrap_or_else(|e| panic!("record {i} of a batch refused: {e:?}")));
        }
        reports.extend(host.poll_reports(0).unwrap());
    }
    let sent_to_ms = now_ms();
    assert!(host.flush(60_000).unwrap(), "flush left records unreported");
    reports.extend(host.poll_reports(0).unwrap());
    // Everything was reported: close has nothing left to return.
    assert!(host.close(5_000).unwrap().is_empty(), "nothing left to report at close");

    // Ids increase in send order (not consecutive within a call: a
    // record refused while the queue was full and resent gets a new id).
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "ids in send order");

    let produced = Produced {
        records,
        ids,
        reports: reports.into_iter().map(client_world::to_host).collect(),
        sent_from_ms,
        sent_to_ms,
    };
    let read = read_back(Reader::KafkaPython, &bootstrap, "client", 3, produced.records.len()).unwrap();
    let unknown = verify(&produced, &read, true).unwrap();
    assert_eq!(unknown, 0, "every offset reported");

    // The statistics count what the reader found: in all and per partition.
    let s = host.statistics().unwrap();
    assert_eq!((s.msgs, s.txmsgs, s.msgs_failed, s.msg_cnt, s.msg_size, s.waitresp_cnt), (6_000, 6_000, 0, 0, 0, 0));
    assert_eq!(s.msg_max, 500, "queue.buffering.max.messages");
    assert_eq!(s.tx, s.rx, "every request answered");
    let topic = s.topics.iter().find(|t| t.topic == "client").expect("topic");
    for p in &topic.partitions {
        let found = read.iter().filter(|r| r.partition == p.partition).count() as u64;
        assert_eq!(p.txmsgs, found, "partition {}", p.partition);
        assert!(p.batches > 0 && p.batchcnt_avg > 0);
    }
    assert!(s.brokers.iter().any(|b| b.nodeid >= 0 && b.rtt.cnt + b.tx > 0));
    // The JSON lines emitted meanwhile, the last as close completed.
    let lines = host.poll_statistics().unwrap();
    let last: serde_json::Value = serde_json::from_str(lines.last().expect("statistics lines")).unwrap();
    assert_eq!(last["txmsgs"].as_u64(), Some(6_000));
    assert_eq!(last["msg_cnt"].as_u64(), Some(0));
    assert!(host.poll_statistics().unwrap().is_empty(), "taken");
    host.drop_producer().unwrap();
}

#[test]
fn the_client_world_produces_over_tls_reading_the_ca_file_through_wasi() {
    let ca = host_tests::tls::Ca::new("kpc client world CA");
    let (_broker, front) = host_tests::tls::secure_cluster(&ca, &["127.0.0.1"], "tls", 2);
    // The CA file in a directory of its own, the only one the host opens
    // to the component (read-only, as /certs).
    let dir = std::env::temp_dir().join(format!("kpc-client-world-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let mut host = ClientHost::with_dir(&dir, "/certs").unwrap();
    let bootstrap = format!("127.0.0.1:{}", front.port);
    open(&mut host, &[("bootstrap.servers", &bootstrap), ("security.protocol", "SSL"), ("ssl.ca.location", "/certs/ca.pem")]);

    let records = mixed_records(2_000);
    let sent_from_ms = now_ms();
    let mut ids = Vec::new();
    let mut reports = Vec::new();
    for part in records.chunks(500) {
        let batch: Vec<_> = part.iter().map(client_world::to_client).collect();
        ids.extend(host.send_batch("tls", &batch).unwrap().into_iter().map(|r| r.expect("accepted")));
    }
    let sent_to_ms = now_ms();
    assert!(host.flush(60_000).unwrap());
    reports.extend(host.close(5_000).unwrap());
    assert!(front.handshakes.load(std::sync::atomic::Ordering::Relaxed) >= 1, "no TLS handshake");
    let produced = Produced { records, ids, reports: reports.into_iter().map(client_world::to_host).collect(), sent_from_ms, sent_to_ms };
    let read = read_back_secure(Reader::Confluent, &bootstrap, "tls", 2, produced.records.len(), None, Some((&ca_file, true))).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
    host.drop_producer().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_refuses_a_bad_config_with_the_key_at_fault() {
    let mut host = ClientHost::new().unwrap();
    let e = host.open(&[("bootstrap.servers", "127.0.0.1:9"), ("acks", "some")]).unwrap().unwrap_err();
    assert_eq!(e.key, "acks");
    assert!(e.reason.contains("some"), "{}", e.reason);

    let e = host.open(&[("bootstrap.servers", "127.0.0.1:9"), ("max.block.ms", "soon")]).unwrap().unwrap_err();
    assert_eq!(e.key, "max.block.ms");
    assert!(e.reason.contains("soon"), "{}", e.reason);

    let e = host.open(&[("acks", "all")]).unwrap().unwrap_err();
    assert_eq!(e.key, "bootstrap.servers", "{}", e.reason);

    let e = host.open(&[("bootstrap.servers", "127.0.0.1:9"), ("ssl.ca.location", "/nowhere/ca.pem")]).unwrap().unwrap_err();
    assert_eq!(e.key, "ssl.ca.location");
    assert!(e.reason.contains("/nowhere/ca.pem"), "{}", e.reason);

    // The instance is still usable: a good config opens.
    open(&mut host, &[("bootstrap.servers", "127.0.0.1:9")]);
}

#[test]
fn a_broker_the_host_does_not_allow_fails_each_record_naming_the_refusal() {
    let broker = Broker::start().unwrap();
    broker.create_topic("denied", 1).unwrap();
    let mut host = ClientHost::new().unwrap();
    // The broker listens on 127.0.0.1; the host allows only that address,
    // so 127.0.0.2 (the same loopback port) is refused by the host.
    let denied = broker.bootstrap().replace("127.0.0.1", "127.0.0.2");
    open(&mut host, &[("bootstrap.servers", &denied), ("delivery.timeout.ms", "1500"), ("request.timeout.ms", "1000"), ("linger.ms", "0")]);
    let batch: Vec<_> = mixed_records(10).iter().map(client_world::to_client).collect();
    let ids: Vec<u64> = host.send_batch("denied", &batch).unwrap().into_iter().map(|r| r.expect("accepted")).collect();
    assert!(host.flush(30_000).unwrap(), "every record reported");
    let reports = host.poll_reports(0).unwrap();
    let mut failed: Vec<u64> = Vec::new();
    for r in &reports {
        let e = r.error.as_ref().expect("no record can be delivered");
        assert_eq!(e.kind, CErrorKind::TimedOut);
        assert!(e.message.contains("127.0.0.2") && e.message.contains("refused by the host (access-denied)"), "{}", e.message);
        failed.extend(r.records.iter().copied());
    }
    failed.sort();
    assert_eq!(failed, ids, "each record failed once");
    let s = host.statistics().unwrap();
    assert_eq!((s.msgs, s.txmsgs, s.msgs_failed, s.tx), (10, 0, 10, 0));
    let b = s.brokers.iter().find(|b| b.nodeid == -1).expect("the bootstrap server");
    assert!(b.connects > 0 && b.name.starts_with("127.0.0.2:") && b.state != "UP", "{b:?}");
    // No trap: the producer still answers, and closes cleanly.
    assert!(host.close(1_000).unwrap().is_empty(), "nothing left to report at close");
    let refused = host.send("denied", &batch[0]).unwrap().unwrap_err();
    assert_eq!(refused.kind, CErrorKind::Closed);
    // After close nothing is left to wait for: these return at once (were
    // they to wait for reports, the first would never return).
    assert!(host.poll_reports(u64::MAX).unwrap().is_empty());
    assert!(host.flush(u64::MAX).unwrap());
    assert!(host.close(u64::MAX).unwrap().is_empty());
    host.drop_producer().unwrap();
    // Nothing reached the broker.
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "denied", 1, 0).unwrap();
    assert!(read.is_empty());
}

#[test]
fn a_full_queue_refuses_the_tail_in_order_once_max_block_ms_passes() {
    let mut host = ClientHost::new().unwrap();
    // Nothing can be delivered (the host refuses 127.0.0.2), so the queue
    // of 5 stays full; max.block.ms=0 refuses at once, as Java's does.
    open(&mut host, &[("bootstrap.servers", "127.0.0.2:9092"), ("queue.buffering.max.messages", "5"), ("max.block.ms", "0"), ("delivery.timeout.ms", "60000")]);
    let batch: Vec<_> = mixed_records(10).iter().map(client_world::to_client).collect();
    // A bad record is refused on its own, with why.
    let bad = host.send("", &batch[0]).unwrap().unwrap_err();
    assert_eq!(bad.kind, CErrorKind::InvalidRecord, "{}", bad.message);
    let out = host.send_batch("full", &batch).unwrap();
    assert_eq!(out.len(), 10);
    let accepted: Vec<u64> = out[..5].iter().map(|r| *r.as_ref().expect("room for 5")).collect();
    for r in &out[5..] {
        let e = r.as_ref().expect_err("the queue is full");
        assert_eq!(e.kind, CErrorKind::QueueFull, "{}", e.message);
    }
    assert_eq!(host.send("full", &batch[0]).unwrap().unwrap_err().kind, CErrorKind::QueueFull);
    // Close fails the accepted records, each once, and returns their reports.
    let mut failed: Vec<u64> = Vec::new();
    for r in host.close(0).unwrap() {
        assert_eq!(r.error.as_ref().map(|e| e.kind), Some(CErrorKind::Closed));
        failed.extend(r.records.iter().copied());
    }
    failed.sort();
    assert_eq!(failed, accepted);
    host.drop_producer().unwrap();
}

#[test]
fn subscribe_is_ready_as_documented() {
    let broker = Broker::start().unwrap();
    broker.create_topic("sub", 2).unwrap();
    let mut host = ClientHost::new().unwrap();
    open(&mut host, &[("bootstrap.servers", &broker.bootstrap()), ("linger.ms", "5")]);
    let batch: Vec<_> = mixed_records(100).iter().map(client_world::to_client).collect();
    let ids: BTreeSet<u64> = host.send_batch("sub", &batch).unwrap().into_iter().map(|r| r.unwrap()).collect();

    // A host's loop: wait on the pollable, drop it, let the producer work.
    // While records await reports it is ready at the latest 10 ms on, so
    // the loop cannot stall; every record gets its report.
    let mut reported = BTreeSet::new();
    let mut waits = 0;
    while reported.len() < ids.len() {
        let p = host.subscribe().unwrap();
        host.block(&p).unwrap();
        host.drop_pollable(p).unwrap();
        for r in host.poll_reports(0).unwrap() {
            assert!(r.error.is_none(), "{:?}", r.error);
            reported.extend(r.records);
        }
        waits += 1;
        assert!(waits < 100_000, "the loop made no progress");
    }
    assert_eq!(reported, ids);

    // Reports waiting to be taken: ready at once.
    let more = host.send_batch("sub", &batch).unwrap();
    assert!(more.iter().all(Result::is_ok));
    assert!(host.flush(30_000).unwrap());
    let p = host.subscribe().unwrap();
    assert!(host.ready(&p).unwrap(), "reports are waiting");
    host.drop_pollable(p).unwrap();
    let taken: usize = host.poll_reports(0).unwrap().iter().map(|r| r.records.len()).sum();
    assert_eq!(taken, batch.len());

    // Every record reported, nothing to write: not ready (the producer's
    // next timers are minutes away).
    let idle = host.subscribe().unwrap();
    assert!(!host.ready(&idle).unwrap(), "an idle producer has nothing to do");

    // The pollable is a timer, not a socket's: the host may hold it while
    // the producer closes its connections, and past dropping the producer.
    let held = host.subscribe().unwrap();
    assert!(host.close(5_000).unwrap().is_empty(), "nothing left to report at close");
    let _ = host.ready(&held).unwrap();
    host.drop_producer().unwrap();
    let _ = host.ready(&held).unwrap();
    host.drop_pollable(held).unwrap();
    host.drop_pollable(idle).unwrap();
}

/// Prints how fast the client world produces (not a test of speed: run it
/// with `--ignored --nocapture` for the figure). 100,000 records of 100
/// bytes, keyed, through `send-batch` calls of 1,000, then `flush`.
#[test]
#[ignore]
fn client_world_throughput_probe() {
    let broker = Broker::start().unwrap();
    broker.create_topic("probe", 3).unwrap();
    let mut host = ClientHost::new().unwrap();
    open(&mut host, &[("bootstrap.servers", &broker.bootstrap()), ("linger.ms", "5")]);
    let n = 100_000;
    let records: Vec<_> = (0..n).map(|i| client_world::to_client(&keyed(format!("key-{}", i % 97).as_bytes(), &[b'x'; 100]))).collect();
    let start = std::time::Instant::now();
    let mut delivered = 0usize;
    for part in records.chunks(1_000) {
        assert!(host.send_batch("probe", part).unwrap().iter().all(Result::is_ok));
        delivered += host.poll_reports(0).unwrap().iter().filter(|r| r.error.is_none()).map(|r| r.records.len()).sum::<usize>();
    }
    assert!(host.flush(120_000).unwrap());
    delivered += host.poll_reports(0).unwrap().iter().filter(|r| r.error.is_none()).map(|r| r.records.len()).sum::<usize>();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(delivered, n);
    println!("client world: {n} records of 100 B in {secs:.2} s: {:.0} records/s", n as f64 / secs);
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "probe", 3, n).unwrap();
    verify_numbered_keys(&read, n);
}

fn verify_numbered_keys(read: &[ReadRecord], n: usize) {
    assert_eq!(read.len(), n);
    assert!(read.iter().all(|r| r.murmur2_partition == Some(r.partition)));
}

#[test]
fn the_client_world_commits_transactions() {
    let broker = Broker::start().unwrap();
    broker.create_topic("ctx", 2).unwrap();
    let mut host = ClientHost::new().unwrap();
    let bootstrap = broker.bootstrap();
    open(&mut host, &[("bootstrap.servers", &bootstrap), ("transactional.id", "client-txn")]);
    // Out of order: a clear error, not a hang.
    let e = host.commit_transaction(5_000).unwrap().unwrap_err();
    assert_eq!(e.kind, CErrorKind::Transaction, "{e:?}");
    host.init_transactions(30_000).unwrap().expect("init-transactions");
    let records = mixed_records(1_000);
    let sent_from_ms = now_ms();
    let (mut ids, mut reports) = (Vec::new(), Vec::new());
    for part in records.chunks(500) {
        host.begin_transaction().unwrap().expect("begin-transaction");
        let batch: Vec<_> = part.iter().map(client_world::to_client).collect();
        ids.extend(host.send_batch("ctx", &batch).unwrap().into_iter().map(|o| o.expect("accepted")));
        host.commit_transaction(30_000).unwrap().expect("commit-transaction");
        reports.extend(host.poll_reports(0).unwrap());
    }
    reports.extend(host.close(5_000).unwrap());
    let produced = Produced {
        records,
        ids,
        reports: reports.into_iter().map(client_world::to_host).collect(),
        sent_from_ms,
        sent_to_ms: now_ms(),
    };
    let read = read_back(Reader::Confluent, &bootstrap, "ctx", 2, 1_000).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
    host.drop_producer().unwrap();
}

#[test]
fn the_client_world_authenticates_with_the_oauthbearer_token_it_is_given() {
    const TOKEN: &str = "client-world.token-1";
    let (_broker, gw) = sasl_gateway_with_token(None, "OAUTHBEARER,PLAIN", TOKEN);
    let bootstrap = format!("127.0.0.1:{}", gw.port);
    let mut host = ClientHost::new().unwrap();
    // No token in the configuration: the application supplies it.
    open(&mut host, &[("bootstrap.servers", &bootstrap), ("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "OAUTHBEARER")]);
    let in_ten_minutes = now_ms() + 600_000;
    let e = host.set_oauthbearer_token("two words", in_ten_minutes, &[]).unwrap().expect_err("malformed");
    assert_eq!(e.key, "sasl.oauthbearer.token");
    assert!(!e.reason.contains("two words"), "{}", e.reason);
    let e = host.set_oauthbearer_token(TOKEN, now_ms() - 1, &[]).unwrap().expect_err("expired");
    assert!(e.key == "sasl.oauthbearer.token" && e.reason.contains("expired"), "{}: {}", e.key, e.reason);
    let e = host.set_oauthbearer_token(TOKEN, in_ten_minutes, &[("auth".into(), "x".into())]).unwrap().expect_err("reserved key");
    assert_eq!(e.key, "sasl.oauthbearer.extensions");
    host.set_oauthbearer_token(TOKEN, in_ten_minutes, &[("traceId".into(), "cw-1".into())]).unwrap().expect("token set");

    let records: Vec<KafkaRecord> = (0..500).map(|i| keyed(format!("key-{}", i % 97).as_bytes(), format!("value-{i}").as_bytes())).collect();
    let batch: Vec<_> = records.iter().map(client_world::to_client).collect();
    assert!(host.send_batch("secure", &batch).unwrap().iter().all(|o| o.is_ok()));
    assert!(host.flush(60_000).unwrap(), "flush left records unreported");
    let reports: Vec<_> = host.poll_reports(0).unwrap().into_iter().map(client_world::to_host).collect();
    assert_eq!(reports.iter().map(|r| r.records.len()).sum::<usize>(), 500);
    assert!(reports.iter().all(|r| r.error.is_none()), "{:?}", reports.iter().find(|r| r.error.is_some()));
    assert!(gw.authenticated("OAUTHBEARER") >= 1 && gw.lines_eventually("OAUTHBEARER extensions traceId=cw-1") >= 1, "{:?}", gw.log.lock().unwrap());
    let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 2, 500, Some(("PLAIN", "alice", "s3cret-pw")), None).unwrap();
    verify_numbered(&read, 500).unwrap();
    host.drop_producer().unwrap();
}
