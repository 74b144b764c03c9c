//! TLS (`security.protocol=SSL`) in the sans-I/O core, against simulated
//! brokers that terminate TLS with rustls on ring: an implementation
//! independent of the producer's RustCrypto provider. Certificates are made
//! per run with rcgen.

mod sim;

use std::sync::Arc;

use kafka_producer_component::{Config, ErrorKind, Producer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use sim::Sim;

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca { cert: params.self_signed(&key).unwrap(), key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A broker configuration whose certificate names `names`, valid
    /// between the given years.
    fn server(&self, names: &[&str], years: Option<(i32, i32)>) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        if let Some((from, to)) = years {
            params.not_before = rcgen::date_time_ymd(from, 1, 1);
            params.not_after = rcgen::date_time_ymd(to, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), self.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Arc::new(config)
    }
}

impl Ca {
    /// A client certificate signed by this CA, for a new key of `alg` (or
    /// the given PKCS#8 key): (certificate PEM, key PEM in PKCS#8).
    fn client(&self, alg: &'static rcgen::SignatureAlgorithm, key: Option<&str>) -> (String, String) {
        let key = match key {
            Some(pem) => KeyPair::from_pem(pem).unwrap(),
            None => KeyPair::generate_for(alg).unwrap(),
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "producer");
        (params.signed_by(&key, &self.cert, &self.key).unwrap().pem(), key.serialize_pem())
    }

    /// As [`Ca::server`], requiring a client certificate signed by
    /// `clients`.
    fn server_requiring_clients(&self, names: &[&str], clients: &Ca) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(clients.cert.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone(), self.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// The SEC1 form (`BEGIN EC PRIVATE KEY`) of an EC PKCS#8 key: the
/// ECPrivateKey its privateKey OCTET STRING wraps.
fn sec1_of(pkcs8_pem: &str) -> String {
    use base64::Engine;
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from_pem_slice(pkcs8_pem.as_bytes()).unwrap();
    let der = der.secret_pkcs8_der();
    let mut at = if der[1] == 0x81 { 3 } else { 2 };
    at += 3; // INTEGER 0
    at += 2 + der[at + 1] as usize; // AlgorithmIdentifier
    assert_eq!(der[at], 0x04, "the privateKey OCTET STRING");
    let (len, start) = if der[at + 1] == 0x81 { (der[at + 2] as usize, at + 3) } else { (der[at + 1] as usize, at + 2) };
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der[start..start + len]);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n", lines.join("\n"))
}

const RSA_PKCS8: &str = include_str!("data/test-client-rsa2048.pkcs8.pem");
const RSA_PKCS1: &str = include_str!("data/test-client-rsa2048.pkcs1.pem");

const BROKERS: [&str; 3] = ["broker-0", "broker-1", "broker-2"];

fn producer(sim: &Sim, extra: &[(&str, &str)]) -> Producer {
    let mut pairs = vec![("bootstrap.servers", "broker-0:9092"), ("security.protocol", "SSL"), ("linger.ms", "5")];
    // A setting in `extra` replaces the default (the config refuses duplicates).
    pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    pairs.extend_from_slice(extra);
    let config = Config::from_pairs(pairs).expect("config");
    Producer::with_entropy(config, sim.now, &[0x5a; 32])
}

/// Every record failed once, with an authentication error that says why.
fn assert_all_refused(sim: &Sim, ids: &[u64], why: &str) {
    sim.assert_one_report_each(ids.iter().copied());
    for r in &sim.reports {
        let e = r.error.as_ref().expect("no record may be delivered");
        assert_eq!(e.kind, ErrorKind::Authentication, "{e:?}");
        assert!(e.message.contains("TLS handshake with broker-0:9092 failed") && e.message.contains(why), "{}", e.message);
    }
}

#[test]
fn records_travel_over_tls_once_each_in_order() {
    let ca = Ca::new("test CA");
    // Whole records, and records cut into 7-byte pieces both ways (TLS
    // records split across reads and writes).
    for fragment in [None, Some(7)] {
        let mut sim = Sim::new(3, &[("t", 6)]);
        sim.tls = Some(ca.server(&BROKERS, None));
        sim.fragment = fragment;
        let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("batch.size", "4096")]);
        let ids = sim.send_n(&mut p, "t", 3_000);
        sim.run(&mut p, sim.now + 20_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
        sim.check_delivery(true);
        assert_eq!(sim.topics["t"].iter().map(|p| p.log.len()).sum::<usize>(), 3_000);
        assert!(sim.tls_errors.is_empty(), "{:?}", sim.tls_errors);
        assert_eq!(sim.connects, 3, "one per broker: the bootstrap connection (broker-0:9092) serves broker 0");
    }
}

#[test]
fn a_dropped_tls_connection_retries_without_duplicates() {
    let ca = Ca::new("test CA");
    let mut sim = Sim::new(2, &[("t", 2)]);
    sim.tls = Some(ca.server(&BROKERS, None));
    sim.faults.insert(("t".into(), 0), [sim::Fault::DropAfter, sim::Fault::DropBefore].into());
    let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem())]);
    let ids = sim.send_n(&mut p, "t", 500);
    sim.run(&mut p, sim.now + 20_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()));
    sim.check_delivery(true);
    assert!(sim.connects > 2, "the dropped connections were reopened with new TLS sessions");
}

#[test]
fn a_certificate_from_an_unknown_ca_fails_the_records_once_without_a_storm() {
    let trusted = Ca::new("trusted CA");
    let other = Ca::new("some other CA");
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.tls = Some(other.server(&BROKERS, None));
    let mut p = producer(&sim, &[("ssl.ca.pem", &trusted.pem())]);
    let ids = sim.send_n(&mut p, "t", 20);
    let start = sim.now;
    sim.run(&mut p, start + 10_000);
    assert_all_refused(&sim, &ids, "UnknownIssuer");
    // The producer told the broker why it left (a TLS alert).
    assert!(sim.tls_errors.iter().any(|e| e.contains("BadCertificate") || e.contains("UnknownCA")), "{:?}", sim.tls_errors);
    // Reconnects back off (reconnect.backoff.max.ms 1 s): no storm.
    assert!(sim.connects <= 15, "{} connection attempts in 10 s", sim.connects);
    // Records sent later fail the same way, at the next attempt.
    let later = sim.send_n(&mut p, "t", 5);
    sim.reports.clear();
    sim.run(&mut p, sim.now + 5_000);
    assert_all_refused(&sim, &later, "UnknownIssuer");
}

#[test]
fn without_ssl_ca_pem_the_public_roots_are_trusted_and_a_private_ca_is_not() {
    let ca = Ca::new("private CA");
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.tls = Some(ca.server(&BROKERS, None));
    let mut p = producer(&sim, &[]);
    let ids = sim.send_n(&mut p, "t", 3);
    sim.run(&mut p, sim.now + 3_000);
    assert_all_refused(&sim, &ids, "UnknownIssuer");
}

#[test]
fn a_certificate_for_another_host_fails_unless_the_hostname_check_is_off() {
    let ca = Ca::new("test CA");
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.tls = Some(ca.server(&["kafka.elsewhere.example"], None));
    let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem())]);
    let ids = sim.send_n(&mut p, "t", 10);
    sim.run(&mut p, sim.now + 3_000);
    assert_all_refused(&sim, &ids, "certificate not valid for name \"broker-0\"; it names kafka.elsewhere.example");

    // ssl.endpoint.identification.algorithm=none: the chain is still checked,
    // the name is not.
    for off in ["none", ""] {
        let mut sim = Sim::new(1, &[("t", 1)]);
        sim.tls = Some(ca.server(&["kafka.elsewhere.example"], None));
        let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("ssl.endpoint.identification.algorithm", off)]);
        let ids = sim.send_n(&mut p, "t", 10);
        sim.run(&mut p, sim.now + 3_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports[0].error);
    }
    // ...and an unknown CA still fails with the name check off.
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.tls = Some(Ca::new("other").server(&["kafka.elsewhere.example"], None));
    let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("ssl.endpoint.identification.algorithm", "none")]);
    let ids = sim.send_n(&mut p, "t", 2);
    sim.run(&mut p, sim.now + 3_000);
    assert_all_refused(&sim, &ids, "UnknownIssuer");
}

#[test]
fn verification_off_accepts_any_certificate() {
    let mut sim = Sim::new(1, &[("t", 1)]);
    sim.tls = Some(Ca::new("anyone").server(&["whatever.example"], Some((2000, 2001))));
    let mut p = producer(&sim, &[("enable.ssl.certificate.verification", "false")]);
    let ids = sim.send_n(&mut p, "t", 10);
    sim.run(&mut p, sim.now + 3_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports[0].error);
}

#[test]
fn certificates_are_checked_against_the_hosts_clock() {
    let ca = Ca::new("test CA");
    // The simulated clock is in 2023.
    for (years, why) in [((2020, 2021), "certificate expired"), ((2030, 2031), "certificate not valid yet")] {
        let mut sim = Sim::new(1, &[("t", 1)]);
        sim.tls = Some(ca.server(&BROKERS, Some(years)));
        let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem())]);
        let ids = sim.send_n(&mut p, "t", 2);
        sim.run(&mut p, sim.now + 3_000);
        assert_all_refused(&sim, &ids, why);
    }
}

#[test]
fn a_plaintext_broker_behind_an_ssl_setting_is_a_clear_error() {
    // The broker answers the ClientHello with a Kafka-framed error-ish
    // reply: here, bytes that are no TLS record.
    let mut sim = Sim::new(1, &[("t", 1)]);
    let mut p = producer(&sim, &[("ssl.ca.pem", &Ca::new("ca").pem())]);
    let ids = sim.send_n(&mut p, "t", 2);
    // Connect, then answer the ClientHello with plaintext Kafka bytes.
    while let Some(o) = p.poll(sim.now) {
        if let kafka_producer_component::Output::Connect { conn, .. } = o {
            p.handle_connected(conn, sim.now);
            while p.poll(sim.now).is_some() {}
            p.handle_received(conn, &[0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], sim.now);
            break;
        }
    }
    while let Some(o) = p.poll(sim.now) {
        if let kafka_producer_component::Output::Report(r) = o {
            sim.reports.push(r);
        }
    }
    assert_all_refused(&sim, &ids, "");
    let msg = &sim.reports[0].error.as_ref().unwrap().message;
    assert!(msg.contains("the broker did not answer in TLS (a plaintext listener?)"), "{msg}");
}

#[test]
fn tls_settings_are_checked_when_the_producer_is_created() {
    let err = |pairs: &[(&str, &str)]| {
        let mut all = vec![("bootstrap.servers", "b:9093")];
        all.extend_from_slice(pairs);
        Config::from_pairs(all).expect_err("must be refused")
    };
    let e = err(&[("security.protocol", "SSL"), ("ssl.ca.pem", "not a certificate")]);
    assert_eq!(e.key, "ssl.ca.pem");
    let e = err(&[("security.protocol", "SSL"), ("ssl.ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]);
    assert_eq!(e.key, "ssl.ca.pem", "{e}");
    let e = err(&[("security.protocol", "SSL"), ("ssl.ca.location", "/etc/ssl/ca.pem")]);
    assert_eq!(e.key, "ssl.ca.location");
    assert!(e.reason.contains("ssl.ca.pem"), "{e}");
    let e = err(&[("security.protocol", "SSL"), ("ssl.endpoint.identification.algorithm", "dns")]);
    assert_eq!(e.key, "ssl.endpoint.identification.algorithm");
    let e = err(&[("security.protocol", "SASL_SSL"), ("sasl.mechanism", "PLAIN"), ("sasl.username", "u")]);
    assert_eq!(e.key, "sasl.password");
    // A valid PEM passes, and so does SSL with the default roots.
    let pem = Ca::new("ca").pem();
    assert!(Config::from_pairs([("bootstrap.servers", "b:9093"), ("security.protocol", "SSL"), ("ssl.ca.pem", pem.as_str())]).is_ok());
    assert!(Config::from_pairs([("bootstrap.servers", "b:9093"), ("security.protocol", "ssl")]).is_ok());
    // The secret stays out of the configuration's debug output.
    let c = Config::from_pairs([
        ("bootstrap.servers", "b:9093"),
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "hunter2-secret"),
    ])
    .unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

/// Warnings that mention all of `words`.
fn warned(sim: &Sim, words: &[&str]) -> bool {
    sim.warnings.iter().any(|w| words.iter().all(|word| w.contains(word)))
}

#[test]
fn an_untrusted_bootstrap_server_is_passed_over_for_the_next() {
    let trusted = Ca::new("trusted CA");
    let other = Ca::new("some other CA");
    let mut sim = Sim::new(2, &[("t", 4)]);
    // Broker 0 leads every partition; broker 1 shows a certificate from an
    // unknown CA, and is the first bootstrap server.
    sim.topics.get_mut("t").unwrap().iter_mut().for_each(|p| p.leader = 0);
    sim.tls = Some(trusted.server(&BROKERS, None));
    sim.tls_by_node.insert(1, other.server(&BROKERS, None));
    let bootstrap = ("bootstrap.servers", "broker-1:9092,broker-0:9092");
    let mut p = producer(&sim, &[("ssl.ca.pem", &trusted.pem()), bootstrap]);
    let ids = sim.send_n(&mut p, "t", 300);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.is_none()), "{:?}", sim.reports.iter().find(|r| r.error.is_some()));
    sim.check_delivery(true);
    assert!(warned(&sim, &["TLS handshake with broker-1:9092 failed", "UnknownIssuer"]), "{:?}", sim.warnings);
}

#[test]
fn records_fail_once_when_every_bootstrap_server_refuses() {
    let trusted = Ca::new("trusted CA");
    let other = Ca::new("some other CA");
    let mut sim = Sim::new(2, &[("t", 2)]);
    sim.tls = Some(other.server(&BROKERS, None));
    let bootstrap = ("bootstrap.servers", "broker-1:9092,broker-0:9092");
    let mut p = producer(&sim, &[("ssl.ca.pem", &trusted.pem()), bootstrap]);
    let ids = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    for r in &sim.reports {
        let e = r.error.as_ref().expect("no record may be delivered");
        assert_eq!(e.kind, ErrorKind::Authentication, "{e:?}");
        assert!(e.message.contains("TLS handshake with broker-") && e.message.contains("UnknownIssuer"), "{}", e.message);
    }
    assert!(warned(&sim, &["broker-1:9092", "UnknownIssuer"]) && warned(&sim, &["broker-0:9092", "UnknownIssuer"]), "{:?}", sim.warnings);
    // Both back off: no storm.
    assert!(sim.connects <= 30, "{} connection attempts in 10 s", sim.connects);
    // Later records fail at the next refusal, once each.
    sim.reports.clear();
    let later = sim.send_n(&mut p, "t", 5);
    sim.run(&mut p, sim.now + 5_000);
    sim.assert_one_report_each(later.iter().copied());
    assert!(sim.reports.iter().all(|r| r.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Authentication)));
}

#[test]
fn a_leader_that_refuses_fails_only_the_partitions_it_leads() {
    let trusted = Ca::new("trusted CA");
    let other = Ca::new("some other CA");
    // Partitions 0 and 2 led by broker 0 (trusted), 1 and 3 by broker 1 (not).
    let mut sim = Sim::new(2, &[("t", 4)]);
    sim.tls = Some(trusted.server(&BROKERS, None));
    sim.tls_by_node.insert(1, other.server(&BROKERS, None));
    let mut p = producer(&sim, &[("ssl.ca.pem", &trusted.pem())]);
    let ids = sim.send_n(&mut p, "t", 400);
    sim.run(&mut p, sim.now + 10_000);
    sim.assert_one_report_each(ids.iter().copied());
    sim.check_delivery(true);
    let (mut delivered, mut refused) = (0, 0);
    for r in &sim.reports {
        match &r.error {
            None => {
                assert_eq!(r.partition % 2, 0, "only broker 0's partitions are delivered");
                delivered += r.records.len();
            }
            Some(e) => {
                assert_eq!(r.partition % 2, 1, "only broker 1's partitions fail: {e:?}");
                assert_eq!(e.kind, ErrorKind::Authentication);
                assert!(e.message.contains("TLS handshake with broker-1:9092 failed") && e.message.contains("UnknownIssuer"), "{}", e.message);
                refused += r.records.len();
            }
        }
    }
    assert!(delivered > 0 && refused > 0, "{delivered} delivered, {refused} refused");
}

#[test]
fn a_plaintext_producer_at_a_tls_listener_is_told_to_set_security_protocol_ssl() {
    let ca = Ca::new("test CA");
    // The alert whole, and a byte at a time (the TLS header split).
    for fragment in [None, Some(1)] {
        let mut sim = Sim::new(1, &[("t", 1)]);
        sim.tls = Some(ca.server(&BROKERS, None));
        sim.fragment = fragment;
        let pairs = [("bootstrap.servers", "broker-0:9092"), ("delivery.timeout.ms", "5000"), ("request.timeout.ms", "3000")];
        let mut p = Producer::new(Config::from_pairs(pairs).expect("config"), sim.now);
        let ids = sim.send_n(&mut p, "t", 5);
        let start = sim.now;
        sim.run(&mut p, start + 10);
        // At once, at the broker's first answer.
        let hint = "broker-0:9092 answered with a TLS record while ApiVersions was outstanding: is it a TLS listener? set security.protocol=SSL";
        assert!(warned(&sim, &[hint]), "{:?}", sim.warnings);
        sim.run(&mut p, start + 10_000);
        sim.assert_one_report_each(ids.iter().copied());
        for r in &sim.reports {
            let e = r.error.as_ref().expect("no record may be delivered");
            assert_eq!(e.kind, ErrorKind::TimedOut, "{e:?}");
            assert!(e.message.contains("delivery.timeout.ms") && e.message.contains(hint), "{}", e.message);
        }
        // Reconnects back off (reconnect.backoff.max.ms 1 s): no storm.
        assert!(sim.connects <= 15, "{} connection attempts in 10 s", sim.connects);
    }
}

/// A broker key for the TLS 1.2 ECDHE_RSA suites (ring, under rcgen,
/// signs with RSA keys but does not make them). A test key, nothing else.
const RSA_KEY: &str = include_str!("tls-rsa-2048.pem");

#[test]
fn every_cipher_suite_interoperates_with_ring() {
    use rustls::crypto::ring::cipher_suite as ring;
    use rustls::version::{TLS12, TLS13};
    let ca = Ca::new("test CA");
    let rsa = KeyPair::from_pem(RSA_KEY).unwrap();
    // Each suite the producer offers (src/tls/suites.rs), alone on the
    // broker's side, so the session uses that wrapper or fails. Records go
    // one way (the broker decrypts with ring) and answers the other (the
    // producer decrypts with ours), whole and cut into 7-byte pieces.
    let suites = [
        (ring::TLS13_CHACHA20_POLY1305_SHA256, &TLS13, false),
        (ring::TLS13_AES_128_GCM_SHA256, &TLS13, false),
        (ring::TLS13_AES_256_GCM_SHA384, &TLS13, false),
        (ring::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, &TLS12, false),
        (ring::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, &TLS12, false),
        (ring::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, &TLS12, false),
        (ring::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, &TLS12, true),
        (ring::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, &TLS12, true),
        (ring::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, &TLS12, true),
    ];
    assert_eq!(suites.len(), kafka_producer_component::tls::suites::ALL.len(), "every suite the producer offers");
    for (suite, version, with_rsa) in suites {
        let key = if with_rsa { KeyPair::from_pem(&rsa.serialize_pem()).unwrap() } else { KeyPair::generate().unwrap() };
        let cert = CertificateParams::new(BROKERS.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap().signed_by(&key, &ca.cert, &ca.key).unwrap();
        let provider = rustls::crypto::CryptoProvider { cipher_suites: vec![suite], ..rustls::crypto::ring::default_provider() };
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone(), ca.cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .unwrap();
        let config = Arc::new(config);
        for fragment in [None, Some(7)] {
            let mut sim = Sim::new(2, &[("t", 4)]);
            sim.tls = Some(config.clone());
            sim.fragment = fragment;
            // Batches above 16 KiB: requests span several TLS records.
            let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("batch.size", "40000")]);
            let ids = sim.send_n(&mut p, "t", 1_500);
            sim.run(&mut p, sim.now + 20_000);
            sim.assert_one_report_each(ids.iter().copied());
            assert!(sim.reports.iter().all(|r| r.error.is_none()), "{suite:?}: {:?}", sim.reports.iter().find_map(|r| r.error.as_ref()));
            sim.check_delivery(true);
            assert!(sim.tls_errors.is_empty(), "{suite:?}: {:?}", sim.tls_errors);
        }
    }
}

#[test]
fn client_certificates_of_every_supported_kind_are_accepted_by_a_broker_that_requires_them() {
    let ca = Ca::new("broker CA");
    let clients = Ca::new("client CA");
    let p256 = clients.client(&rcgen::PKCS_ECDSA_P256_SHA256, None);
    let p384 = clients.client(&rcgen::PKCS_ECDSA_P384_SHA384, None);
    let rsa = clients.client(&rcgen::PKCS_RSA_SHA256, Some(RSA_PKCS8));
    let ed25519 = clients.client(&rcgen::PKCS_ED25519, None);
    let cases = [
        ("P-256 PKCS#8", p256.0.clone(), p256.1.clone()),
        ("P-256 SEC1", p256.0.clone(), sec1_of(&p256.1)),
        ("P-384 PKCS#8", p384.0.clone(), p384.1.clone()),
        ("P-384 SEC1", p384.0, sec1_of(&p384.1)),
        ("RSA 2048 PKCS#8", rsa.0.clone(), RSA_PKCS8.to_string()),
        ("RSA 2048 PKCS#1", rsa.0, RSA_PKCS1.to_string()),
        ("Ed25519", ed25519.0, ed25519.1),
    ];
    for (name, cert, key) in cases {
        let mut sim = Sim::new(2, &[("t", 4)]);
        sim.tls = Some(ca.server_requiring_clients(&BROKERS, &clients));
        let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("ssl.certificate.pem", &cert), ("ssl.key.pem", &key)]);
        let ids = sim.send_n(&mut p, "t", 300);
        sim.run(&mut p, sim.now + 10_000);
        sim.assert_one_report_each(ids.iter().copied());
        assert!(sim.reports.iter().all(|r| r.error.is_none()), "{name}: {:?}", sim.reports.iter().find(|r| r.error.is_some()));
        sim.check_delivery(true);
        assert!(sim.tls_errors.is_empty(), "{name}: {:?}", sim.tls_errors);
    }
}

#[test]
fn a_client_certificate_the_broker_does_not_trust_fails_every_record_once_naming_the_alert() {
    let ca = Ca::new("broker CA");
    let clients = Ca::new("client CA");
    let stranger = Ca::new("unknown client CA").client(&rcgen::PKCS_ECDSA_P256_SHA256, None);
    let mut sim = Sim::new(1, &[("t", 2)]);
    sim.tls = Some(ca.server_requiring_clients(&BROKERS, &clients));
    let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem()), ("ssl.certificate.pem", &stranger.0), ("ssl.key.pem", &stranger.1)]);
    let ids = sim.send_n(&mut p, "t", 20);
    sim.run(&mut p, sim.now + 10_000);
    assert_all_refused(&sim, &ids, "the broker refused the client certificate (TLS alert UnknownCA)");
    let message = &sim.reports[0].error.as_ref().unwrap().message;
    assert!(message.contains("ssl.certificate.pem") && message.contains("ssl.certificate.location"), "{message}");
    assert!(sim.tls_errors.iter().any(|e| e.contains("UnknownIssuer")), "the broker refused it: {:?}", sim.tls_errors);
    assert!(sim.connects <= 15, "{} connection attempts in 10 s", sim.connects);
}

#[test]
fn no_client_certificate_at_a_broker_that_requires_one_says_to_set_ssl_certificate_pem() {
    let ca = Ca::new("broker CA");
    let clients = Ca::new("client CA");
    // TLS 1.3 (the broker checks the certificate after the client's
    // Finished) and TLS 1.2 (during the handshake).
    for tls12 in [false, true] {
        let mut sim = Sim::new(1, &[("t", 2)]);
        let mut server = (*ca.server_requiring_clients(&BROKERS, &clients)).clone();
        if tls12 {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut roots = rustls::RootCertStore::empty();
            roots.add(clients.cert.der().clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(BROKERS.map(String::from).to_vec()).unwrap().signed_by(&key, &ca.cert, &ca.key).unwrap();
            server = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS12])
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
                .unwrap();
        }
        sim.tls = Some(Arc::new(server));
        let mut p = producer(&sim, &[("ssl.ca.pem", &ca.pem())]);
        let ids = sim.send_n(&mut p, "t", 10);
        sim.run(&mut p, sim.now + 5_000);
        assert_all_refused(&sim, &ids, "the broker requires a client certificate (TLS alert CertificateRequired): set ssl.certificate.pem and ssl.key.pem");
        assert!(sim.tls_errors.iter().any(|e| e.contains("peer sent no certificates")), "tls12 {tls12}: {:?}", sim.tls_errors);
    }
}
