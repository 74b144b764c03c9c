//! SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 against a gateway that
//! checks credentials for real (scramp's SCRAM server; Tansu with memory
//! storage cannot be given users) in front of Tansu.

use std::time::{Duration, Instant};

use host_tests::*;

/// Tansu, advertising the gateway's port, and the gateway in front of it.
fn cluster(mechanisms: &str) -> (Broker, Gateway) {
    sasl_gateway(None, mechanisms)
}

fn sasl_client(port: u16, mechanism: &str, password: &str, extra: &[(&str, &str)]) -> Client {
    let bootstrap = format!("127.0.0.1:{port}");
    let mut config = vec![
        ("bootstrap.servers", bootstrap.as_str()),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", mechanism),
        ("sasl.username", "alice"),
        ("sasl.password", password),
    ];
    config.extend_from_slice(extra);
    client(&config)
}

#[test]
fn each_mechanism_authenticates_and_delivers() {
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let (_broker, gw) = cluster("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
        let mut c = sasl_client(gw.port, mechanism, "s3cret-pw", &[]);
        let records: Vec<KafkaRecord> = (0..500).map(|i| keyed(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())).collect();
        let produced = produce_all(&mut c, "secure", records, 100).unwrap();
        let authenticated = gw.log.lock().unwrap().iter().filter(|l| l.starts_with(mechanism) && l.ends_with("ok")).count();
        assert!(authenticated >= 1, "{mechanism}: {:?}", gw.log.lock().unwrap());
        assert_eq!(gw.lines("refused"), 0);
        let bootstrap = format!("127.0.0.1:{}", gw.port);
        let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 2, 500, Some((mechanism, "alice", "s3cret-pw")), None).unwrap();
        assert_eq!(verify(&produced, &read, true).unwrap(), 0, "{mechanism}");
    }
}

#[test]
fn wrong_credentials_fail_every_record_once_without_a_retry_storm() {
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        let (_broker, gw) = cluster("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
        let mut c = sasl_client(gw.port, mechanism, "not-the-password", &[("delivery.timeout.ms", "60000")]);
        let records: Vec<KafkaRecord> = (0..20).map(|i| keyed(b"k", format!("v{i}").as_bytes())).collect();
        let outcome = c.send("secure", &records).unwrap();
        assert!(outcome.rejected.is_empty());
        let start = Instant::now();
        let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
        assert!(start.elapsed() < Duration::from_secs(10), "failed at the first refusal, not after a timeout");
        let failed: usize = reports.iter().map(|r| r.records.len()).sum();
        assert_eq!(failed, 20, "one report per record");
        for r in &reports {
            let e = r.error.as_ref().expect("an error");
            assert_eq!(e.kind, ErrorKind::Authentication, "{mechanism}: {}", e.message);
            assert!(e.message.contains("SASL authentication failed"), "{}", e.message);
            assert!(!e.message.contains("not-the-password"), "the password leaked: {}", e.message);
        }
        assert!(c.warnings.iter().all(|w| !w.contains("not-the-password")));
        // Keep the client alive with new records for 3 s: reconnects back off.
        let before = gw.lines("connection");
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            let _ = c.send("secure", &records[..1]).unwrap();
            c.poll(Duration::from_millis(50)).unwrap();
        }
        let attempts = gw.lines("connection") - before;
        assert!(attempts <= 8, "{mechanism}: {attempts} connection attempts in 3 s");
    }
}

#[test]
fn a_mechanism_the_broker_does_not_offer_is_reported() {
    let (_broker, gw) = cluster("SCRAM-SHA-512");
    let mut c = sasl_client(gw.port, "PLAIN", "s3cret-pw", &[]);
    c.send("secure", &[keyed(b"k", b"v")]).unwrap();
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    let e = reports[0].error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(e.message.contains("PLAIN") && e.message.contains("SCRAM-SHA-512"), "{}", e.message);
}
