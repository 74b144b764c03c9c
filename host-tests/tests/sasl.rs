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
        assert!(gw.authenticated(mechanism) >= 1, "{mechanism}: {:?}", gw.log.lock().unwrap());
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

// ---- OAUTHBEARER: a token the application supplies (here, with -X) ----

const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.kpc-test-token_~+/=";

/// `kafka-produce` (the wasmtime embedding's command) with the `-X` flags
/// a user gives it: 1,000 keyed lines to the gateway's "secure" topic.
fn produce_with_token(port: u16, token: &str) -> host_tests::cli::Ran {
    let bootstrap = format!("127.0.0.1:{port}");
    let token = format!("sasl.oauthbearer.token={token}");
    let input: String = (0..1_000).map(|i| format!("key-{}\tvalue-{i}\n", i % 97)).collect();
    host_tests::cli::Cli::Produce.run(
        &[
            "-b", &bootstrap, "-t", "secure", "-K", "\t",
            "-X", "security.protocol=SASL_PLAINTEXT",
            "-X", "sasl.mechanism=OAUTHBEARER",
            "-X", &token,
            "-X", "sasl.oauthbearer.extensions=traceId=kpc-1,logicalCluster=lkc-test",
            "-X", "delivery.timeout.ms=60000",
        ],
        input.as_bytes(),
    )
}

#[test]
fn oauthbearer_with_a_token_from_the_command_line_delivers_every_record() {
    let (_broker, gw) = sasl_gateway_with_token(None, "OAUTHBEARER,PLAIN", TOKEN);
    let ran = produce_with_token(gw.port, TOKEN).expect(0);
    host_tests::cli::assert_summary(&format!("{}{}", ran.out(), ran.stderr), 1_000, 1_000, 0);
    assert!(gw.authenticated("OAUTHBEARER") >= 1, "{:?}", gw.log.lock().unwrap());
    assert!(gw.lines_eventually("OAUTHBEARER extensions logicalCluster=lkc-test,traceId=kpc-1") >= 1, "{:?}", gw.log.lock().unwrap());
    assert_eq!(gw.lines("refused"), 0);
    // The reader goes through the same gateway (with PLAIN).
    let bootstrap = format!("127.0.0.1:{}", gw.port);
    let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 2, 1_000, Some(("PLAIN", "alice", "s3cret-pw")), None).unwrap();
    verify_numbered(&read, 1_000).unwrap();
}

#[test]
fn a_wrong_oauthbearer_token_fails_every_record_quoting_the_broker() {
    let (_broker, gw) = sasl_gateway_with_token(None, "OAUTHBEARER,PLAIN", TOKEN);
    let start = Instant::now();
    let ran = produce_with_token(gw.port, "not-the-token");
    assert_ne!(ran.code, 0);
    assert!(start.elapsed() < Duration::from_secs(30), "failed at the refusal, not after a timeout");
    let all = format!("{}{}", ran.out(), ran.stderr);
    host_tests::cli::assert_summary(&all, 1_000, 0, 1_000);
    // The broker's message and its RFC 7628 status, never the token.
    assert!(all.contains("SASL authentication failed: SASL_AUTHENTICATION_FAILED: Authentication failed: the OAUTHBEARER token is invalid"), "{all}");
    assert!(all.contains(r#"{"status":"invalid_token"}"#), "{all}");
    assert!(!all.contains("not-the-token"), "the token leaked: {all}");
    assert!(gw.lines_eventually("OAUTHBEARER refused") >= 1, "{:?}", gw.log.lock().unwrap());
    // A malformed token is a configuration error naming the key.
    let ran = produce_with_token(gw.port, "two words");
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("sasl.oauthbearer.token") && !ran.stderr.contains("two words"), "{}", ran.stderr);
}
