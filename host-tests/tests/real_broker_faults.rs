//! 100,000 idempotent records to a real Tansu broker through a proxy that
//! kills and stalls connections at random points; the independent reader
//! then confirms none lost, none duplicated, order kept.

use std::net::TcpListener;
use std::time::Duration;

use host_tests::proxy::{FaultPlan, FaultProxy};
use host_tests::*;

#[test]
fn idempotent_records_survive_killed_and_stalled_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let broker = Broker::start_advertising(Some(proxy_port)).unwrap();
    broker.create_topic("faults", 4).unwrap();
    let proxy = FaultProxy::start(
        listener,
        broker.port,
        FaultPlan { seed: 0x5eed, kill_per_mille: 40, stall_per_mille: 10, stall: Duration::from_millis(2_500), max_faults: 40 },
    );
    let bootstrap = format!("127.0.0.1:{proxy_port}");
    let mut c = client(&[
        ("bootstrap.servers", &bootstrap),
        ("request.timeout.ms", "2000"),
        ("delivery.timeout.ms", "120000"),
        ("linger.ms", "5"),
        ("batch.size", "16384"),
        ("reconnect.backoff.max.ms", "200"),
    ]);
    let records: Vec<KafkaRecord> =
        (0..100_000).map(|i| keyed(format!("key-{}", i % 997).as_bytes(), format!("record-{i}").as_bytes())).collect();
    let produced = produce_all(&mut c, "faults", records, 1_000).unwrap();
    let (kills, stalls) = (proxy.kills.load(std::sync::atomic::Ordering::Relaxed), proxy.stalls.load(std::sync::atomic::Ordering::Relaxed));
    println!("faults injected: {kills} connections killed, {stalls} stalled; warnings: {}", c.warnings.len());
    assert!(kills + stalls >= 10, "the proxy injected too few faults to mean anything: {kills} kills, {stalls} stalls");
    // The statistics saw the same: every record delivered once, none
    // failed, a disconnect for each connection the proxy killed, and
    // batches sent again.
    let s = c.statistics().unwrap();
    let disconnects: u64 = s.brokers.iter().map(|b| b.disconnects).sum();
    let timeouts: u64 = s.brokers.iter().map(|b| b.req_timeouts).sum();
    println!("statistics: txretries {}, disconnects {disconnects}, req_timeouts {timeouts}, tx {} rx {}", s.txretries, s.tx, s.rx);
    assert_eq!((s.msgs, s.txmsgs, s.msgs_failed, s.msg_cnt), (100_000, 100_000, 0, 0));
    assert!(disconnects >= kills as u64, "{disconnects} disconnects for {kills} connections killed");
    // The broker sends the reader through the proxy too: no more faults.
    proxy.calm();
    let read = read_back(Reader::Confluent, &bootstrap, "faults", 4, 100_000).unwrap();
    let unknown = verify(&produced, &read, true).unwrap();
    println!("100000 records read back once each, in order; {unknown} reported with an unknown offset (retries the broker recognised as duplicates)");
}
