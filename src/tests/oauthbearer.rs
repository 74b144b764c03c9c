//! OAUTHBEARER: the client message's bytes, what a token and extensions
//! may hold, the refresh-due timing and expiry, in the token state and in
//! a producer.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::{Config, Output, Producer};

fn ext(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn the_client_message_is_rfc_7628s_with_the_extensions() {
    assert_eq!(client_first_message("eyJhbGciOi.J9-_~+/x==", &[]), b"n,,\x01auth=Bearer eyJhbGciOi.J9-_~+/x==\x01\x01".to_vec());
    assert_eq!(
        client_first_message("t0k", &ext(&[("traceId", "123"), ("logicalCluster", "lkc-1 a")])),
        b"n,,\x01auth=Bearer t0k\x01traceId=123\x01logicalCluster=lkc-1 a\x01\x01".to_vec()
    );
}

#[test]
fn tokens_and_extensions_outside_the_grammar_are_errors_naming_the_setting() {
    for good in ["abc", "A-b.c_d~e+f/g", "abc==", "x="] {
        assert!(check_token(good).is_ok(), "{good}");
    }
    for (bad, why) in [("", "is empty"), ("==", "all '='"), ("ab c", "character 3 (' ')"), ("a=b", "character 2 ('=')"), ("tok\u{1}", "character 4"), ("é", "character 1")] {
        let e = check_token(bad).unwrap_err();
        assert_eq!(e.key, "sasl.oauthbearer.token");
        assert!(e.reason.contains(why), "{bad:?}: {}", e.reason);
    }
    assert_eq!(parse_extensions("a=1, bB = x y ,").unwrap(), ext(&[("a", "1"), ("bB", "x y")]));
    for bad in ["novalue", "auth=x", "k1=v", "=v", "k=\u{7f}"] {
        let e = parse_extensions(bad).unwrap_err();
        assert_eq!(e.key, "sasl.oauthbearer.extensions", "{bad}");
    }
    // In the configuration too, never echoing the token.
    let config = |token: &str| {
        Config::from_pairs([
            ("bootstrap.servers", "h:9092"),
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.oauthbearer.token", token),
        ])
    };
    let e = config("secret token").unwrap_err();
    assert_eq!(e.key, "sasl.oauthbearer.token");
    assert!(!e.to_string().contains("secret"), "{e}");
    let c = config("s3cr3t").unwrap();
    assert!(!alloc::format!("{c:?}").contains("s3cr3t"));
}

#[test]
fn the_refresh_is_due_at_80_percent_of_the_lifetime_and_an_expired_token_is_not_sent() {
    let mut s = TokenState::configured(None, &[]);
    // No token: due at once, once.
    assert_eq!(s.refresh_at(), Some(0));
    assert!(s.take_refresh_due(5).unwrap().starts_with(REFRESH_DUE));
    assert_eq!((s.take_refresh_due(6), s.refresh_at()), (None, None));
    assert!(s.initial_message(6).unwrap_err().contains("sasl.oauthbearer.token"));
    // Set at 1,000 for 10 s: due at 9,000; sent until 11,000 (excluded).
    s.set("tok", 11_000, &ext(&[("k", "v")]), 1_000).unwrap();
    assert_eq!(s.refresh_at(), Some(9_000));
    assert_eq!(s.take_refresh_due(8_999), None);
    let w = s.take_refresh_due(9_000).unwrap();
    assert!(w.starts_with(REFRESH_DUE) && w.contains("11000"), "{w}");
    assert_eq!(s.take_refresh_due(10_000), None, "once");
    assert_eq!(s.initial_message(10_999).unwrap(), b"n,,\x01auth=Bearer tok\x01k=v\x01\x01".to_vec());
    let e = s.initial_message(11_000).unwrap_err();
    assert!(e.contains("expired at 11000") && e.contains("sasl.oauthbearer.token"), "{e}");
    // A fresh token replaces it.
    s.set("tok2", 31_000, &[], 11_000).unwrap();
    assert_eq!(s.initial_message(11_000).unwrap(), b"n,,\x01auth=Bearer tok2\x01\x01".to_vec());
    assert_eq!(s.refresh_at(), Some(27_000));
    // An expired lifetime, a bad token or bad extensions are refused and
    // keep the current token.
    assert_eq!(s.set("tok3", 11_000, &[], 11_000).unwrap_err().key, "sasl.oauthbearer.token");
    assert_eq!(s.set("bad token", 99_000, &[], 11_000).unwrap_err().key, "sasl.oauthbearer.token");
    assert_eq!(s.set("tok3", 99_000, &ext(&[("auth", "x")]), 11_000).unwrap_err().key, "sasl.oauthbearer.extensions");
    assert_eq!(s.initial_message(11_000).unwrap(), b"n,,\x01auth=Bearer tok2\x01\x01".to_vec());
    // A configured token has no known lifetime: never due, never expired.
    let s = TokenState::configured(Some(&crate::sasl::Secret::new("cfg")), &[]);
    assert_eq!(s.refresh_at(), None);
    assert!(s.initial_message(u64::MAX).is_ok());
}

fn warnings(p: &mut Producer, now: u64) -> Vec<String> {
    p.handle_timeout(now);
    let mut w = Vec::new();
    while let Some(o) = p.poll(now) {
        if let Output::Warning(s) = o {
            w.push(s);
        }
    }
    w
}

fn oauth_producer(extra: &[(&str, &str)]) -> Producer {
    let mut pairs = alloc::vec![
        ("bootstrap.servers", "h:9092"),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "OAUTHBEARER"),
        ("delivery.timeout.ms", "40000"),
    ];
    pairs.extend_from_slice(extra);
    Producer::new(Config::from_pairs(pairs).unwrap(), 0)
}

#[test]
fn a_producer_warns_when_the_refresh_is_due_and_wakes_up_for_it() {
    let mut p = oauth_producer(&[]);
    let due = |w: &[String]| w.iter().filter(|w| w.starts_with(REFRESH_DUE)).count();
    assert_eq!(due(&warnings(&mut p, 0)), 1, "no token yet");
    p.set_oauthbearer_token("tok", 101_000, &[], 1_000).unwrap();
    assert_eq!(due(&warnings(&mut p, 1_000)), 0);
    assert_eq!(p.poll_timeout(), Some(81_000), "the producer asks to be woken for the refresh");
    assert_eq!(due(&warnings(&mut p, 80_999)), 0);
    assert_eq!(due(&warnings(&mut p, 81_000)), 1);
    assert_eq!(due(&warnings(&mut p, 90_000)), 0, "once per token");
    // Not configured for OAUTHBEARER: the call names sasl.mechanism.
    let mut plain = Producer::new(Config::from_pairs([("bootstrap.servers", "h:9092")]).unwrap(), 0);
    assert_eq!(plain.set_oauthbearer_token("tok", 10, &[], 0).unwrap_err().key, "sasl.mechanism");
    assert!(warnings(&mut plain, 0).iter().all(|w| !w.starts_with(REFRESH_DUE)));
}

#[test]
fn records_waiting_on_an_expired_token_time_out_naming_sasl_oauthbearer_token() {
    let mut p = oauth_producer(&[]);
    p.set_oauthbearer_token("tok", 2_000, &[], 0).unwrap();
    p.send("t", &crate::Record { value: Some(b"v"), ..Default::default() }, 3_000).unwrap();
    let mut reports = Vec::new();
    for now in [3_000, 43_001] {
        p.handle_timeout(now);
        while let Some(o) = p.poll(now) {
            match o {
                Output::Connect { conn, .. } => p.handle_closed(conn, "refused", now),
                Output::Report(r) => reports.push(r),
                _ => {}
            }
        }
    }
    assert_eq!(reports.len(), 1);
    let e = reports[0].error.as_ref().unwrap();
    assert_eq!(e.kind, crate::ErrorKind::TimedOut);
    assert!(e.message.contains("delivery.timeout.ms") && e.message.contains("expired at 2000") && e.message.contains("sasl.oauthbearer.token"), "{}", e.message);
}
