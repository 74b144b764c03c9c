//! `ssl.certificate.pem` / `ssl.key.pem`: every supported key form loads
//! and signs what its certificate's public key verifies; every bad input
//! is a configuration error naming its key.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::Config;

const RSA_PKCS8: &str = include_str!("../../tests/data/test-client-rsa2048.pkcs8.pem");
const RSA_PKCS1: &str = include_str!("../../tests/data/test-client-rsa2048.pkcs1.pem");

/// A self-signed certificate for `key` (PKCS#8 PEM, as rcgen reads it).
fn cert_for(key_pem: &str) -> String {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("test key");
    rcgen::CertificateParams::new(["client".to_string()]).unwrap().self_signed(&key).unwrap().pem()
}

fn generated(alg: &'static rcgen::SignatureAlgorithm) -> String {
    rcgen::KeyPair::generate_for(alg).unwrap().serialize_pem()
}

/// The SEC1 form of an EC PKCS#8 key: the ECPrivateKey its privateKey
/// OCTET STRING wraps.
pub fn sec1_of(pkcs8_pem: &str) -> String {
    use base64::Engine;
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from_pem_slice(pkcs8_pem.as_bytes()).unwrap();
    let der = der.secret_pkcs8_der();
    // SEQUENCE (short or 0x81 length) { INTEGER 0, SEQUENCE {...}, OCTET STRING {...} }
    let mut at = if der[1] == 0x81 { 3 } else { 2 };
    at += 3; // INTEGER 0
    at += 2 + der[at + 1] as usize; // AlgorithmIdentifier
    assert_eq!(der[at], 0x04);
    let (len, start) = if der[at + 1] == 0x81 { (der[at + 2] as usize, at + 3) } else { (der[at + 1] as usize, at + 2) };
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der[start..start + len]);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| core::str::from_utf8(c).unwrap()).collect();
    alloc::format!("-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n", lines.join("\n"))
}

/// One DER item: (content, the rest).
fn der_item(der: &[u8]) -> (&[u8], &[u8]) {
    let (len, at) = match der[1] {
        l if l < 0x80 => (l as usize, 2),
        0x81 => (der[2] as usize, 3),
        0x82 => ((der[2] as usize) << 8 | der[3] as usize, 4),
        l => panic!("DER length form {l:#x}"),
    };
    (&der[at..at + len], &der[at + len..])
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo.
fn subject_public_key(spki: &[u8]) -> &[u8] {
    let (body, _) = der_item(spki);
    let (_, rest) = der_item(body); // AlgorithmIdentifier
    let (bits, _) = der_item(rest);
    &bits[1..] // no unused bits
}

fn config(pairs: &[(&str, &str)]) -> Result<Config, crate::ConfigError> {
    let mut all = alloc::vec![("bootstrap.servers", "b:9093"), ("security.protocol", "SSL")];
    all.extend_from_slice(pairs);
    Config::from_pairs(all)
}

fn refused(pairs: &[(&str, &str)]) -> crate::ConfigError {
    config(pairs).expect_err("must be refused")
}

#[test]
fn every_supported_key_form_loads_and_signs_verifiably() {
    use rustls::crypto::ring::default_provider;
    let p256 = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
    let p384 = generated(&rcgen::PKCS_ECDSA_P384_SHA384);
    let ed25519 = generated(&rcgen::PKCS_ED25519);
    let cases = [
        ("P-256 PKCS#8", p256.clone(), cert_for(&p256)),
        ("P-256 SEC1", sec1_of(&p256), cert_for(&p256)),
        ("P-384 PKCS#8", p384.clone(), cert_for(&p384)),
        ("P-384 SEC1", sec1_of(&p384), cert_for(&p384)),
        ("RSA PKCS#8", RSA_PKCS8.to_string(), cert_for(RSA_PKCS8)),
        ("RSA PKCS#1", RSA_PKCS1.to_string(), cert_for(RSA_PKCS8)),
        ("Ed25519 PKCS#8", ed25519.clone(), cert_for(&ed25519)),
    ];
    crate::tls::HostRandom::seed(&[7; 32]);
    let verifiers = default_provider().signature_verification_algorithms;
    for (name, key, cert) in cases {
        let identity = client_identity(&cert, &key).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let all: Vec<SignatureScheme> = verifiers.supported_schemes();
        let offered: Vec<SignatureScheme> = all.iter().copied().filter(|s| !matches!(s, SignatureScheme::ED448)).collect();
        // Every scheme the key offers signs a message its certificate's
        // public key verifies (ring checks, not our code).
        let schemes: Vec<SignatureScheme> = offered.iter().copied().filter(|s| identity.key.choose_scheme(&[*s]).is_some()).collect();
        assert!(!schemes.is_empty(), "{name}: no scheme");
        if name.starts_with("RSA") {
            assert_eq!(schemes.len(), 6, "{name}: PSS and PKCS#1 v1.5 with SHA-256/384/512: {schemes:?}");
        }
        for scheme in schemes {
            let signer = identity.key.choose_scheme(&[scheme]).unwrap();
            let message = b"TLS 1.3, client CertificateVerify";
            let signature = signer.sign(message).unwrap();
            let spki = rustls::server::ParsedCertificate::try_from(&identity.cert[0]).unwrap().subject_public_key_info();
            let public_key = subject_public_key(&spki);
            let algorithms = verifiers.mapping.iter().find(|(s, _)| *s == scheme).map(|(_, a)| *a).unwrap();
            let checked = algorithms.iter().find_map(|a| a.verify_signature(public_key, message, &signature).ok()).ok_or("bad signature");
            checked.unwrap_or_else(|e| panic!("{name} {scheme:?}: {e}"));
        }
        // ...and the configuration takes the pair.
        config(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &key)]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn bad_client_certificate_settings_are_errors_naming_the_key() {
    let key = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
    let cert = cert_for(&key);
    let other_key = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
    let check = |pairs: &[(&str, &str)], key: &str, words: &[&str]| {
        let e = refused(pairs);
        assert_eq!(e.key, key, "{e}");
        for w in words {
            assert!(e.reason.contains(w), "{e} lacks {w:?}");
        }
        // Never the key itself in the error.
        assert!(!e.to_string().contains("MIG"), "{e}");
    };
    check(&[("ssl.certificate.pem", "not PEM"), ("ssl.key.pem", &key)], "ssl.certificate.pem", &["no PEM certificate"]);
    check(
        &[("ssl.certificate.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ("ssl.key.pem", &key)],
        "ssl.certificate.pem",
        &[],
    );
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &cert)], "ssl.key.pem", &["holds no private key"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")], "ssl.key.pem", &["unsupported"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &other_key)], "ssl.key.pem", &["does not match", "ssl.certificate.pem"]);
    check(&[("ssl.certificate.pem", &cert_for(RSA_PKCS8)), ("ssl.key.pem", &key)], "ssl.key.pem", &["does not match"]);
    check(&[("ssl.certificate.pem", &cert)], "ssl.key.pem", &["required with ssl.certificate.pem"]);
    check(&[("ssl.key.pem", &key)], "ssl.certificate.pem", &["required with ssl.key.pem"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", ENCRYPTED)], "ssl.key.pem", &["encrypted", "ssl.key.password is not supported"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", LEGACY_ENCRYPTED)], "ssl.key.pem", &["encrypted"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &key), ("ssl.key.password", "x")], "ssl.key.password", &["not supported"]);
    check(&[("ssl.certificate.location", "/etc/client.pem"), ("ssl.key.pem", &key)], "ssl.certificate.location", &["ssl.certificate.pem"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.location", "/etc/client.key")], "ssl.key.location", &["ssl.key.pem"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &alloc::format!("{key}{key}"))], "ssl.key.pem", &["more than one"]);
    check(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", RSA_1024)], "ssl.key.pem", &["1024-bit", "2048"]);
    // The key stays out of the configuration's debug output.
    let c = config(&[("ssl.certificate.pem", &cert), ("ssl.key.pem", &key)]).unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!alloc::format!("{c:?}").contains(body));
}

/// `openssl pkey -aes256`: PKCS#8 encrypted.
const ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n";
/// `openssl rsa -aes256 -traditional`: PEM with a DEK-Info header.
const LEGACY_ENCRYPTED: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
const RSA_1024: &str = include_str!("../../tests/data/test-client-rsa1024.pkcs8.pem");
