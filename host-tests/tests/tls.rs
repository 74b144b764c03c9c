//! TLS (SSL and SASL_SSL) through the engine component to Tansu, behind a
//! TLS front on rustls + ring (Tansu itself listens in plaintext here, and
//! advertises the front's port). Certificates are made per run; the
//! independent readers connect through the same front with TLS.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use host_tests::tls::{secure_cluster, secure_cluster_requiring_clients, Ca, TlsProxy};
use host_tests::*;

#[test]
fn ssl_delivers_every_record_byte_exact_to_both_readers() {
    let ca = Ca::new("kpc test CA");
    let (_broker, front) = secure_cluster(&ca, &["127.0.0.1", "localhost"], "secure", 3);
    let ca_file = ca.pem_file();
    let bootstrap = format!("127.0.0.1:{}", front.port);
    // ssl.ca.location: the example host reads the file for the component.
    let mut c = client(&[("bootstrap.servers", &bootstrap), ("security.protocol", "SSL"), ("ssl.ca.location", ca_file.to_str().unwrap())]);
    let n = 3_000;
    let produced = produce_all(&mut c, "secure", mixed_records(n), 500).unwrap();
    // The bootstrap connection goes on as the broker's (same address): one
    // handshake at least, every record over TLS (the plaintext check below).
    assert!(front.handshakes.load(Ordering::Relaxed) >= 1, "no TLS handshake");
    assert!(front.errors.lock().unwrap().is_empty(), "{:?}", front.errors.lock().unwrap());
    for reader in [Reader::Confluent, Reader::KafkaPython] {
        let read = read_back_secure(reader, &bootstrap, "secure", 3, n, None, Some((&ca_file, true))).unwrap();
        assert_eq!(verify(&produced, &read, true).unwrap(), 0, "{reader:?}");
    }
    // The bytes on the wire are not the records: a plaintext reader on the
    // front's port gets nothing.
    match read_back(Reader::KafkaPython, &bootstrap, "secure", 3, 1) {
        Ok(read) => assert!(read.is_empty(), "a plaintext reader read {} records through the TLS front", read.len()),
        // What a plaintext client gets from a TLS port: it cannot bootstrap.
        Err(e) => {
            let e = format!("{e:#}");
            assert!(e.contains("Unable to bootstrap") || e.contains("NoBrokersAvailable"), "the plaintext reader failed for another reason: {e}");
        }
    }
}

#[test]
fn sasl_ssl_authenticates_inside_tls() {
    // Producer -> TLS front -> SASL gateway (checks SCRAM for real) -> Tansu.
    let ca = Ca::new("kpc test CA");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let front_port = listener.local_addr().unwrap().port();
    let (_broker, gateway) = sasl_gateway(Some(front_port), "SCRAM-SHA-512");
    let front = TlsProxy::start(listener, gateway.port, ca.server(&["127.0.0.1"]));
    let bootstrap = format!("127.0.0.1:{front_port}");
    let pem = ca.pem();
    let mut c = client(&[
        ("bootstrap.servers", &bootstrap),
        ("security.protocol", "SASL_SSL"),
        ("ssl.ca.pem", &pem),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "s3cret-pw"),
    ]);
    let produced = produce_all(&mut c, "secure", mixed_records(500), 100).unwrap();
    assert!(gateway.authenticated("SCRAM-SHA-512") >= 1);
    assert!(front.handshakes.load(Ordering::Relaxed) >= 1);
    let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 2, 500, Some(("SCRAM-SHA-512", "alice", "s3cret-pw")), Some((&ca.pem_file(), true))).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
}

/// Sends 20 records and expects each to fail once, fast, with an
/// authentication error naming the TLS problem; then keeps the client busy
/// for 3 s and counts reconnects.
fn refused(c: &mut Client, front: &TlsProxy, why: &str) {
    let records: Vec<KafkaRecord> = (0..20).map(|i| keyed(b"k", format!("v{i}").as_bytes())).collect();
    let outcome = c.send("secure", &records).unwrap();
    assert!(outcome.rejected.is_empty());
    let start = Instant::now();
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10), "failed at the handshake, not after a timeout");
    assert_eq!(reports.iter().map(|r| r.records.len()).sum::<usize>(), 20, "one report per record");
    for r in &reports {
        let e = r.error.as_ref().expect("no record may be delivered");
        assert_eq!(e.kind, ErrorKind::Authentication, "{}", e.message);
        assert!(e.message.contains("TLS handshake with 127.0.0.1:") && e.message.contains(why), "{}", e.message);
    }
    // The producer told the broker why (a TLS alert the front logged).
    let deadline = Instant::now() + Duration::from_secs(3);
    while front.errors.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let errors = front.errors.lock().unwrap().clone();
    assert!(errors.iter().any(|e| e.contains("received fatal alert")), "no alert reached the broker: {errors:?}");
    let before = front.connections.load(Ordering::Relaxed);
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        let _ = c.send("secure", &records[..1]).unwrap();
        c.poll(Duration::from_millis(50)).unwrap();
    }
    let attempts = front.connections.load(Ordering::Relaxed) - before;
    assert!(attempts <= 8, "{attempts} connection attempts in 3 s");
}

#[test]
fn an_untrusted_certificate_fails_every_record_once_without_a_storm() {
    let ca = Ca::new("kpc test CA");
    let impostor = Ca::new("impostor CA");
    let (_broker, front) = secure_cluster(&impostor, &["127.0.0.1"], "secure", 1);
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let pem = ca.pem();
    let mut c = client(&[("bootstrap.servers", &bootstrap), ("security.protocol", "SSL"), ("ssl.ca.pem", &pem), ("delivery.timeout.ms", "60000")]);
    refused(&mut c, &front, "invalid peer certificate: UnknownIssuer");
}

#[test]
fn a_certificate_for_another_host_fails_unless_identification_is_off() {
    let ca = Ca::new("kpc test CA");
    // The broker is reached as 127.0.0.1; the certificate names only localhost.
    let (_broker, front) = secure_cluster(&ca, &["localhost"], "secure", 1);
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let pem = ca.pem();
    let mut c = client(&[("bootstrap.servers", &bootstrap), ("security.protocol", "SSL"), ("ssl.ca.pem", &pem), ("delivery.timeout.ms", "60000")]);
    refused(&mut c, &front, "certificate not valid for name \"127.0.0.1\"; it names localhost");

    let mut c = client(&[
        ("bootstrap.servers", &bootstrap),
        ("security.protocol", "SSL"),
        ("ssl.ca.pem", &pem),
        ("ssl.endpoint.identification.algorithm", "none"),
    ]);
    let produced = produce_all(&mut c, "secure", mixed_records(200), 100).unwrap();
    // The reader must skip the name check too.
    let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 1, 200, None, Some((&ca.pem_file(), false))).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
}

#[test]
fn a_plaintext_port_behind_an_ssl_setting_is_a_clear_error() {
    let broker = Broker::start().unwrap();
    broker.create_topic("secure", 1).unwrap();
    let pem = Ca::new("kpc test CA").pem();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("security.protocol", "SSL"), ("ssl.ca.pem", &pem), ("delivery.timeout.ms", "20000"), ("request.timeout.ms", "5000")]);
    let outcome = c.send("secure", &[keyed(b"k", b"v")]).unwrap();
    assert!(outcome.rejected.is_empty());
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    let e = reports[0].error.as_ref().expect("not delivered");
    // Tansu waits for the rest of a "request" as long as the ClientHello
    // says: the handshake times out (socket.connection.setup.timeout.ms),
    // the record at the delivery timeout, and the warning says why.
    assert_eq!(e.kind, ErrorKind::TimedOut, "{e:?}");
    assert!(c.warnings.iter().any(|w| w.contains("TLS handshake not complete") && w.contains("is the port a TLS listener?")), "{:?}", c.warnings);
}

#[test]
fn a_missing_ca_file_is_a_config_error() {
    let e = Client::new(runtime(), &[("bootstrap.servers", "127.0.0.1:1"), ("security.protocol", "SSL"), ("ssl.ca.location", "/nonexistent/ca.pem")])
        .unwrap()
        .err()
        .expect("refused");
    assert!(e.contains("ssl.ca.location") && e.contains("/nonexistent/ca.pem"), "{e}");
}

#[test]
fn a_broker_that_picks_aes_256_gcm_by_its_own_order_gets_every_record_byte_exact() {
    use host_tests::tls::FrontChoice;
    // As an OpenSSL broker does: its cipher order wins, AES-256-GCM first,
    // over TLS 1.3 and over TLS 1.2 (ECDHE-ECDSA).
    for (choice, suite) in [(FrontChoice::Tls13Aes256, "TLS13_AES_256_GCM_SHA384"), (FrontChoice::Tls12Aes256, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")] {
        let ca = Ca::new("kpc test CA");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let broker = Broker::start_advertising(Some(listener.local_addr().unwrap().port())).unwrap();
        broker.create_topic("aes", 3).unwrap();
        let front = TlsProxy::start(listener, broker.port, ca.server_choosing(&["127.0.0.1"], choice));
        let ca_file = ca.pem_file();
        let bootstrap = format!("127.0.0.1:{}", front.port);
        let mut c = client(&[("bootstrap.servers", &bootstrap), ("security.protocol", "SSL"), ("ssl.ca.location", ca_file.to_str().unwrap())]);
        let n = 2_000;
        let produced = produce_all(&mut c, "aes", mixed_records(n), 500).unwrap();
        let suites = front.suites.lock().unwrap().clone();
        assert!(!suites.is_empty() && suites.iter().all(|s| s == suite), "{choice:?}: negotiated {suites:?}");
        assert!(front.errors.lock().unwrap().is_empty(), "{:?}", front.errors.lock().unwrap());
        let read = read_back_secure(Reader::Confluent, &bootstrap, "aes", 3, n, None, Some((&ca_file, true))).unwrap();
        assert_eq!(verify(&produced, &read, true).unwrap(), 0, "{choice:?}");
    }
}

// ---- mutual TLS: the front requires client certificates ----

#[test]
fn mutual_tls_with_location_keys_delivers_every_record_byte_exact() {
    let ca = Ca::new("kpc test CA");
    let clients = Ca::new("kpc client CA");
    let (_broker, front) = secure_cluster_requiring_clients(&ca, &clients, &["127.0.0.1"], "secure", 3);
    let ca_file = ca.pem_file();
    let (cert, key) = clients.client_files("producer");
    let bootstrap = format!("127.0.0.1:{}", front.port);
    // The *.location keys: the example host reads the files for the component.
    let mut c = client(&[
        ("bootstrap.servers", &bootstrap),
        ("security.protocol", "SSL"),
        ("ssl.ca.location", ca_file.to_str().unwrap()),
        ("ssl.certificate.location", cert.to_str().unwrap()),
        ("ssl.key.location", key.to_str().unwrap()),
    ]);
    let n = 1_500;
    let produced = produce_all(&mut c, "secure", mixed_records(n), 500).unwrap();
    assert!(front.handshakes.load(Ordering::Relaxed) >= 1, "no TLS handshake");
    assert!(front.errors.lock().unwrap().is_empty(), "{:?}", front.errors.lock().unwrap());
    // The reader needs a client certificate of its own.
    let (reader_cert, reader_key) = clients.client_files("reader");
    let read = read_back_as(Reader::Confluent, &bootstrap, "secure", 3, n, None, Some((&ca_file, true)), Some((&reader_cert, &reader_key))).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0);
}

/// Sends 20 records to a front requiring client certificates and expects
/// each to fail once, fast, with an authentication error containing `why`.
fn refused_client(config: &[(&str, &str)], front: &TlsProxy, why: &str) {
    let mut c = client(config);
    let records: Vec<KafkaRecord> = (0..20).map(|i| keyed(b"k", format!("v{i}").as_bytes())).collect();
    assert!(c.send("secure", &records).unwrap().rejected.is_empty());
    let start = Instant::now();
    let reports = c.flush_and_wait(Duration::from_secs(30)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10), "failed at the handshake, not after a timeout");
    assert_eq!(reports.iter().map(|r| r.records.len()).sum::<usize>(), 20, "one report per record");
    for r in &reports {
        let e = r.error.as_ref().expect("no record may be delivered");
        assert_eq!(e.kind, ErrorKind::Authentication, "{}", e.message);
        assert!(e.message.contains("TLS handshake with 127.0.0.1:") && e.message.contains(why), "{}", e.message);
    }
    // The front logs its refusal after sending the alert.
    let deadline = Instant::now() + Duration::from_secs(3);
    while front.errors.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!front.errors.lock().unwrap().is_empty(), "the front refused nothing");
}

#[test]
fn an_unknown_or_missing_client_certificate_fails_fast_saying_so() {
    let ca = Ca::new("kpc test CA");
    let clients = Ca::new("kpc client CA");
    let (_broker, front) = secure_cluster_requiring_clients(&ca, &clients, &["127.0.0.1"], "secure", 1);
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let pem = ca.pem();
    let (cert, key) = Ca::new("stranger CA").client_files("stranger");
    let base = [("bootstrap.servers", bootstrap.as_str()), ("security.protocol", "SSL"), ("ssl.ca.pem", pem.as_str()), ("delivery.timeout.ms", "60000")];
    let mut with_cert = base.to_vec();
    with_cert.extend([("ssl.certificate.location", cert.to_str().unwrap()), ("ssl.key.location", key.to_str().unwrap())]);
    refused_client(&with_cert, &front, "the broker refused the client certificate (TLS alert UnknownCA)");
    assert!(front.errors.lock().unwrap().iter().any(|e| e.contains("UnknownIssuer")), "{:?}", front.errors.lock().unwrap());
    refused_client(&base, &front, "the broker requires a client certificate (TLS alert CertificateRequired): set ssl.certificate.pem");
}

#[test]
fn unreadable_or_mismatched_client_certificate_files_are_config_errors() {
    let clients = Ca::new("kpc client CA");
    let (cert, _) = clients.client_files("a");
    let (_, other_key) = clients.client_files("b");
    let open = |pairs: &[(&str, &str)]| {
        let mut all = vec![("bootstrap.servers", "127.0.0.1:1"), ("security.protocol", "SSL")];
        all.extend_from_slice(pairs);
        Client::new(runtime(), &all).unwrap().err().expect("refused")
    };
    let e = open(&[("ssl.certificate.location", "/nonexistent/client.crt"), ("ssl.key.location", other_key.to_str().unwrap())]);
    assert!(e.contains("ssl.certificate.location") && e.contains("/nonexistent/client.crt"), "{e}");
    let e = open(&[("ssl.certificate.location", cert.to_str().unwrap()), ("ssl.key.location", other_key.to_str().unwrap())]);
    assert!(e.contains("ssl.key.pem") && e.contains("does not match"), "{e}");
    let e = open(&[("ssl.certificate.location", cert.to_str().unwrap())]);
    assert!(e.contains("ssl.key.pem") && e.contains("required"), "{e}");
}
