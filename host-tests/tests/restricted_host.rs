//! The embedding host decides where the component may connect: with an
//! allow-list, a connect elsewhere never leaves the host and the records
//! fail with a delivery error (no trap); allowed addresses work as usual.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use host_tests::*;

fn only_port(port: u16) -> Box<dyn Fn(&SocketAddr) -> bool> {
    Box::new(move |a: &SocketAddr| a.ip().is_loopback() && a.port() == port)
}

#[test]
fn allowed_broker_gets_the_records() {
    let broker = Broker::start().unwrap();
    broker.create_topic("allowed", 2).unwrap();
    let port: u16 = broker.bootstrap().rsplit(':').next().unwrap().parse().unwrap();
    let config = [("bootstrap.servers", broker.bootstrap()), ("linger.ms", "0".to_string())];
    let config: Vec<(&str, &str)> = config.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut c = Client::with_allowed(runtime(), &config, Some(only_port(port))).unwrap().unwrap();
    let records = mixed_records(200);
    let produced = produce_all(&mut c, "allowed", records, 50).unwrap();
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "allowed", 2, 200).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
}

#[test]
fn a_broker_the_host_does_not_allow_is_never_reached_and_records_fail() {
    // Something listens there, and counts who comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let came = Arc::new(AtomicUsize::new(0));
    let counter = came.clone();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || loop {
        if listener.accept().is_ok() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(5));
    });
    let bootstrap = format!("127.0.0.1:{port}");
    let config = [
        ("bootstrap.servers", bootstrap.as_str()),
        ("delivery.timeout.ms", "2000"),
        ("request.timeout.ms", "1000"),
        ("linger.ms", "0"),
    ];
    // Only some other port is allowed.
    let mut c = Client::with_allowed(runtime(), &config, Some(only_port(port.wrapping_add(1)))).unwrap().unwrap();
    let records: Vec<KafkaRecord> = (0..20).map(|i| keyed(b"k", format!("v{i}").as_bytes())).collect();
    let outcome = c.send("t", &records).unwrap();
    assert!(outcome.rejected.is_empty());
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    assert_eq!(reports.iter().map(|r| r.records.len()).sum::<usize>(), 20, "one report per record");
    for r in &reports {
        let e = r.error.as_ref().expect("nothing can be delivered");
        assert_eq!(e.kind, ErrorKind::TimedOut, "{}", e.message);
    }
    assert!(c.warnings.iter().any(|w| w.contains("refused by the host")), "{:?}", c.warnings);
    assert_eq!(came.load(Ordering::Relaxed), 0, "a connection reached the disallowed address");
}
