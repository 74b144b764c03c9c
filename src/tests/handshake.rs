//! Unit tests of `producer::handshake`: each response to the step it leads to.

use super::*;
use crate::response::ApiRange;

fn conn() -> Connection {
    let mut c = Connection::new(1, -1, "h".into(), 9092, 0);
    c.state = ConnState::Negotiating;
    c
}

fn offers(ranges: &[(ApiKey, i16, i16)]) -> ApiVersionsResponse {
    ApiVersionsResponse { error_code: NONE, api_keys: ranges.iter().map(|&(k, min, max)| ApiRange { api_key: k as i16, min, max }).collect() }
}

fn broker() -> ApiVersionsResponse {
    let all = [ApiKey::Produce, ApiKey::Metadata, ApiKey::InitProducerId, ApiKey::SaslHandshake, ApiKey::SaslAuthenticate];
    offers(&all.map(|k| (k, 0, 30)))
}

fn plain_config() -> Config {
    Config::from_pairs([("bootstrap.servers", "h:9092")]).unwrap()
}

fn sasl_config() -> Config {
    Config::from_pairs([
        ("bootstrap.servers", "h:9092"),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "u"),
        ("sasl.password", "p"),
    ])
    .unwrap()
}

#[test]
fn a_connection_starts_with_our_highest_api_versions() {
    assert_eq!(start(), Step::ApiVersions(ApiKey::ApiVersions.supported().1));
}

#[test]
fn unsupported_api_versions_steps_down_to_what_the_broker_lists() {
    let mut c = conn();
    let refused = |max| ApiVersionsResponse { error_code: UNSUPPORTED_VERSION, ..offers(&[(ApiKey::ApiVersions, 0, max)]) };
    assert_eq!(on_api_versions(&mut c, 3, &refused(2), &plain_config()), Step::ApiVersions(2));
    assert_eq!(on_api_versions(&mut c, 3, &refused(9), &plain_config()), Step::ApiVersions(2), "never up");
    assert!(matches!(on_api_versions(&mut c, 0, &refused(0), &plain_config()), Step::Fail(_)), "nothing below v0");
    assert_eq!(c.state, ConnState::Negotiating);
}

#[test]
fn negotiated_versions_make_a_plaintext_connection_ready() {
    let mut c = conn();
    assert_eq!(on_api_versions(&mut c, 3, &broker(), &plain_config()), Step::Ready);
    assert_eq!(c.state, ConnState::Ready);
    assert_eq!(c.produce_version, ApiKey::Produce.supported().1);
    assert_eq!(c.metadata_version, ApiKey::Metadata.supported().1);
    assert!(c.init_producer_id_version >= 0);
}

#[test]
fn a_broker_without_common_versions_or_init_producer_id_is_refused() {
    let mut c = conn();
    let old = offers(&[(ApiKey::Produce, 0, 2), (ApiKey::Metadata, 0, 30)]);
    let Step::Fail(why) = on_api_versions(&mut c, 3, &old, &plain_config()) else { panic!("accepted") };
    assert!(why.contains("no common protocol version") && why.contains("Produce v0-v2"), "{why}");
    let no_pid = offers(&[(ApiKey::Produce, 0, 30), (ApiKey::Metadata, 0, 30)]);
    let Step::Fail(why) = on_api_versions(&mut c, 3, &no_pid, &plain_config()) else { panic!("accepted") };
    assert!(why.contains("enable.idempotence=false"), "{why}");
    let lenient = Config::from_pairs([("bootstrap.servers", "h:9092"), ("enable.idempotence", "false")]).unwrap();
    assert_eq!(on_api_versions(&mut c, 3, &no_pid, &lenient), Step::Ready);
    let error = ApiVersionsResponse { error_code: crate::error_codes::UNKNOWN_SERVER_ERROR, ..broker() };
    assert!(matches!(on_api_versions(&mut conn(), 3, &error, &plain_config()), Step::Fail(_)));
}

#[test]
fn with_sasl_the_handshake_goes_on_to_authenticate() {
    let (mut c, config) = (conn(), sasl_config());
    assert_eq!(on_api_versions(&mut c, 3, &broker(), &config), Step::SaslHandshake("PLAIN"));
    assert_eq!(c.state, ConnState::Authenticating);
    let enabled = SaslHandshakeResponse { error_code: NONE, mechanisms: alloc::vec!["PLAIN".into()] };
    assert_eq!(on_sasl_handshake(&mut c, &enabled, &config, || [0; 24], || unreachable!("PLAIN")), Step::SaslAuthenticate(b"\0u\0p".to_vec()));
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    assert_eq!(on_sasl_authenticate(&mut c, &ok), Step::Ready);
    assert_eq!(c.state, ConnState::Ready);
    assert!(c.sasl.is_none());
}

#[test]
fn refused_credentials_or_mechanisms_fail_authentication() {
    let (mut c, config) = (conn(), sasl_config());
    let disabled = SaslHandshakeResponse { error_code: crate::error_codes::UNSUPPORTED_SASL_MECHANISM, mechanisms: alloc::vec!["SCRAM-SHA-512".into()] };
    let Step::AuthenticationFailed(why) = on_sasl_handshake(&mut c, &disabled, &config, || panic!("no nonce for a refusal"), || panic!("no token")) else {
        panic!("accepted")
    };
    assert!(why.contains("does not enable PLAIN") && why.contains("SCRAM-SHA-512"), "{why}");
    let refused =
        SaslAuthenticateResponse { error_code: crate::error_codes::SASL_AUTHENTICATION_FAILED, error_message: Some("bad password"), auth_bytes: &[] };
    assert_eq!(on_sasl_authenticate(&mut c, &refused), Step::AuthenticationFailed("SASL_AUTHENTICATION_FAILED: bad password".into()));
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    assert!(matches!(on_sasl_authenticate(&mut c, &ok), Step::Fail(_)), "no exchange under way");
}

fn oauth_config() -> Config {
    Config::from_pairs([("bootstrap.servers", "h:9092"), ("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "OAUTHBEARER")]).unwrap()
}

#[test]
fn oauthbearer_sends_the_token_and_reads_success_as_an_empty_answer() {
    let (mut c, config) = (conn(), oauth_config());
    assert_eq!(on_api_versions(&mut c, 3, &broker(), &config), Step::SaslHandshake("OAUTHBEARER"));
    let enabled = SaslHandshakeResponse { error_code: NONE, mechanisms: alloc::vec!["OAUTHBEARER".into()] };
    let message = b"n,,\x01auth=Bearer abc\x01\x01".to_vec();
    let step = on_sasl_handshake(&mut c, &enabled, &config, || panic!("no nonce"), || Ok(message.clone()));
    assert_eq!(step, Step::SaslAuthenticate(message));
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    assert_eq!(on_sasl_authenticate(&mut c, &ok), Step::Ready);
    // Without a token to send (none, or expired), nothing is sent: the
    // connection fails with why.
    let mut c = conn();
    let step = on_sasl_handshake(&mut c, &enabled, &config, || panic!("no nonce"), || Err("expired (sasl.oauthbearer.token)".into()));
    assert_eq!(step, Step::Fail("expired (sasl.oauthbearer.token)".into()));
}

#[test]
fn an_oauthbearer_refusal_quotes_the_servers_status_and_message() {
    let (mut c, config) = (conn(), oauth_config());
    let enabled = SaslHandshakeResponse { error_code: NONE, mechanisms: alloc::vec!["OAUTHBEARER".into()] };
    let _ = on_sasl_handshake(&mut c, &enabled, &config, || panic!("no nonce"), || Ok(b"n,,\x01auth=Bearer bad\x01\x01".to_vec()));
    // RFC 7628 3.2.2: the JSON status first, answered with a lone %x01...
    let status = br#"{"status":"invalid_token"}"#;
    let challenge = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: status };
    assert_eq!(on_sasl_authenticate(&mut c, &challenge), Step::SaslAuthenticate(alloc::vec![1]));
    // ...then the broker fails the exchange with its message.
    let failed = SaslAuthenticateResponse {
        error_code: crate::error_codes::SASL_AUTHENTICATION_FAILED,
        error_message: Some("Authentication failed: invalid token"),
        auth_bytes: &[],
    };
    let Step::AuthenticationFailed(why) = on_sasl_authenticate(&mut c, &failed) else { panic!("accepted") };
    assert_eq!(why, r#"SASL_AUTHENTICATION_FAILED: Authentication failed: invalid token (server status: {"status":"invalid_token"})"#);
    // A server that answers the %x01 without an error code still fails it.
    let (mut c, _) = (conn(), ());
    let _ = on_sasl_handshake(&mut c, &enabled, &config, || panic!("no nonce"), || Ok(b"n,,\x01auth=Bearer bad\x01\x01".to_vec()));
    let _ = on_sasl_authenticate(&mut c, &challenge);
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    let Step::AuthenticationFailed(why) = on_sasl_authenticate(&mut c, &ok) else { panic!("accepted") };
    assert!(why.contains("invalid_token"), "{why}");
}

// ---- what an authentication failure fails: the decision in `Producer::authentication_failed` ----

use super::super::Output;
use crate::record::Record;
use crate::response::{BrokerMeta, MetadataResponse, PartitionMeta, TopicMeta};

fn sasl_producer(bootstrap: &str) -> Producer {
    let pairs = [
        ("bootstrap.servers", bootstrap),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "u"),
        ("sasl.password", "p"),
        ("enable.idempotence", "false"),
    ];
    Producer::new(Config::from_pairs(pairs).unwrap(), 0)
}

/// A connection to `node` in the middle of SASL, refused: returns the
/// reports it caused.
fn refuse(p: &mut Producer, node: i32) -> Vec<crate::report::DeliveryReport> {
    let conn = p.client.connect(node, format!("h{node}"), 9092, 0, &mut p.outputs);
    p.client.conn_mut(conn).unwrap().state = ConnState::Authenticating;
    let err = p.handshake_step(conn, Step::AuthenticationFailed("SASL_AUTHENTICATION_FAILED".into()), 0).unwrap_err();
    assert!(err.contains("SASL authentication failed"), "{err}");
    p.close_conn(conn, &err, true, 0);
    p.outputs.drain(..).filter_map(|o| if let Output::Report(r) = o { Some(r) } else { None }).collect()
}

fn send(p: &mut Producer, partition: Option<i32>) {
    p.send("t", &Record { value: Some(b"v"), partition, ..Default::default() }, 0).unwrap();
}

#[test]
fn a_refusing_bootstrap_server_fails_records_only_once_every_one_has_refused() {
    let mut p = sasl_producer("a:1,b:2,c:3");
    send(&mut p, None);
    assert!(refuse(&mut p, -1).is_empty(), "b and c may still authenticate");
    assert!(refuse(&mut p, -3).is_empty(), "b may still authenticate");
    let reports = refuse(&mut p, -2);
    assert_eq!(reports.len(), 1);
    let e = reports[0].error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(e.message.contains("SASL_AUTHENTICATION_FAILED"), "{}", e.message);
    assert_eq!(p.unreported(), 0);
    // A later record fails at the next refusal: still none authenticates.
    send(&mut p, None);
    assert_eq!(refuse(&mut p, -1).len(), 1);
    // Once one completes a handshake, a refusal elsewhere fails nothing.
    let conn = p.client.connect(-2, "b".into(), 2, 0, &mut p.outputs);
    p.handshake_step(conn, Step::Ready, 0).unwrap();
    send(&mut p, None);
    assert!(refuse(&mut p, -1).is_empty() && refuse(&mut p, -3).is_empty());
    assert_eq!(p.unreported(), 1);
}

#[test]
fn a_refusing_leader_fails_the_batches_of_its_partitions_only() {
    let mut p = sasl_producer("a:1");
    p.metadata.topic_index("t");
    p.metadata.on_request_sent();
    let partition = |partition, leader_id| PartitionMeta { error_code: NONE, partition, leader_id, leader_epoch: 0 };
    let topic = TopicMeta { error_code: NONE, name: "t", partitions: alloc::vec![partition(0, 1), partition(1, 2)] };
    let brokers = alloc::vec![BrokerMeta { node_id: 1, host: "k1", port: 9092 }, BrokerMeta { node_id: 2, host: "k2", port: 9092 }];
    p.on_metadata(&MetadataResponse { brokers, topics: alloc::vec![topic], error_code: NONE }, 0);
    send(&mut p, Some(0));
    send(&mut p, Some(1));
    send(&mut p, Some(1));
    let reports = refuse(&mut p, 2);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!((reports[0].partition, reports[0].records.len()), (1, 2), "broker 2 leads partition 1");
    assert_eq!(reports[0].error.as_ref().unwrap().kind, ErrorKind::Authentication);
    assert_eq!(p.unreported(), 1, "partition 0's record waits for broker 1");
    // A refusing bootstrap server fails nothing while known brokers may
    // still authenticate.
    assert!(refuse(&mut p, -1).is_empty());
    assert!(refuse(&mut p, 1).len() == 1 && p.unreported() == 0);
}

// ---- a plaintext client at a TLS listener ----

#[test]
fn tls_records_are_recognised_and_kafka_frames_are_not() {
    assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]), "an alert");
    assert!(looks_like_tls(&[0x16, 0x03, 0x01]), "a handshake");
    assert!(!looks_like_tls(&[0x16]), "too short to tell");
    assert!(!looks_like_tls(&[0x00, 0x00, 0x00, 0x10]), "a frame size");
    assert!(!looks_like_tls(&[0x17, 0x03]), "application data never comes first");
}

#[test]
fn a_plaintext_connection_negotiating_is_suspected_of_reaching_a_tls_listener() {
    let mut p = Producer::new(plain_config(), 0);
    let conn = p.client.connect(-1, "h".into(), 9092, 0, &mut p.outputs);
    assert_eq!(p.suspect_tls_listener(conn, "closed the connection"), None, "not connected yet: nothing was asked");
    p.client.conn_mut(conn).unwrap().state = ConnState::Negotiating;
    let hint = p.suspect_tls_listener(conn, "answered with a TLS record").unwrap();
    assert_eq!(hint, "h:9092 answered with a TLS record while ApiVersions was outstanding: is it a TLS listener? set security.protocol=SSL");
    assert_eq!(p.client.tls_listener_hint(None), Some(hint.as_str()));
    assert_eq!(p.client.tls_listener_hint(Some(-1)), Some(hint.as_str()));
    assert_eq!(p.client.tls_listener_hint(Some(3)), None);
    // A completed handshake clears it.
    p.handshake_step(conn, Step::Ready, 0).unwrap();
    assert_eq!(p.client.tls_listener_hint(None), None);

    // A close while negotiating warns at once, with the host's reason.
    let conn = p.client.connect(-1, "h".into(), 9092, 0, &mut p.outputs);
    p.client.conn_mut(conn).unwrap().state = ConnState::Negotiating;
    p.outputs.clear();
    p.handle_closed(conn, "Connection reset by peer", 0);
    let warning = p.outputs.iter().find_map(|o| if let Output::Warning(w) = o { Some(w.clone()) } else { None }).unwrap();
    assert!(warning.contains("h:9092 closed the connection (Connection reset by peer) while ApiVersions was outstanding"), "{warning}");
    assert!(warning.ends_with("set security.protocol=SSL"), "{warning}");
    // ...but not with TLS configured: a TLS client's trouble is another.
    let ssl = Config::from_pairs([("bootstrap.servers", "h:9092"), ("security.protocol", "SSL")]).unwrap();
    let mut p = Producer::with_entropy(ssl, 0, &[7; 32]);
    let conn = p.client.connect(-1, "h".into(), 9092, 0, &mut p.outputs);
    p.client.conn_mut(conn).unwrap().state = ConnState::Negotiating;
    assert_eq!(p.suspect_tls_listener(conn, "closed the connection"), None);

    // With SASL, the protocol to suggest is SASL_SSL.
    let mut p = Producer::new(sasl_config(), 0);
    let conn = p.client.connect(-1, "h".into(), 9092, 0, &mut p.outputs);
    p.client.conn_mut(conn).unwrap().state = ConnState::Negotiating;
    assert!(p.suspect_tls_listener(conn, "closed the connection").unwrap().ends_with("set security.protocol=SASL_SSL"));
}
