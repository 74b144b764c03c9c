//! Unit tests of `sasl`: the RFC test vectors.

use super::*;

/// RFC 5802 section 5 (SCRAM-SHA-1): user "user", password "pencil".
#[test]
fn scram_sha1_matches_rfc_5802() {
    let mut s = Scram::new(ScramHash::Sha1, "user", &Secret::new("pencil"), "fyko+d2lbbFgONRv9qkxdawL");
    assert_eq!(s.client_first(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    let final_ = s.step(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096").unwrap().unwrap();
    assert_eq!(final_, b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    assert_eq!(s.step(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap(), None);
}

/// RFC 7677 section 3 (SCRAM-SHA-256).
#[test]
fn scram_sha256_matches_rfc_7677() {
    let mut s = Scram::new(ScramHash::Sha256, "user", &Secret::new("pencil"), "rOprNGfwEbeRWgbNEkqO");
    assert_eq!(s.client_first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    let final_ = s.step(server_first).unwrap().unwrap();
    assert_eq!(
        core::str::from_utf8(&final_).unwrap(),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    );
    assert_eq!(s.step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap(), None);
}

#[test]
fn a_server_that_does_not_know_the_password_is_refused() {
    let mut s = Scram::new(ScramHash::Sha256, "user", &Secret::new("pencil"), "rOprNGfwEbeRWgbNEkqO");
    s.client_first();
    s.step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
    let e = s.step(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap_err();
    assert!(e.0.contains("signature is wrong"), "{e:?}");
    let mut s = Scram::new(ScramHash::Sha256, "user", &Secret::new("pencil"), "abc");
    s.client_first();
    assert!(s.step(b"r=xyz123,s=QSXCR+Q6sek8bf92,i=4096").is_err(), "a nonce not extending ours");
    assert!(s.step(b"e=invalid-proof").unwrap_err().0.contains("invalid-proof"));
}

#[test]
fn plain_sends_authzid_user_password_and_secrets_do_not_print() {
    let secret = Secret::new("hunter2");
    let mut c = SaslClient::new(Mechanism::Plain, "alice", &secret, b"");
    assert_eq!(c.initial("alice", &secret), b"\0alice\0hunter2");
    assert_eq!(c.step(b"").unwrap(), None);
    assert_eq!(alloc::format!("{secret:?}"), "[redacted]");
}

#[test]
fn user_names_are_escaped() {
    let mut s = Scram::new(ScramHash::Sha256, "a=b,c", &Secret::new("p"), "n");
    assert_eq!(s.client_first(), b"n,,n=a=3Db=2Cc,r=n");
}
