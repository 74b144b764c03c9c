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
    assert_eq!(on_sasl_handshake(&mut c, &enabled, &config, || [0; 24]), Step::SaslAuthenticate(b"\0u\0p".to_vec()));
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    assert_eq!(on_sasl_authenticate(&mut c, &ok), Step::Ready);
    assert_eq!(c.state, ConnState::Ready);
    assert!(c.sasl.is_none());
}

#[test]
fn refused_credentials_or_mechanisms_fail_authentication() {
    let (mut c, config) = (conn(), sasl_config());
    let disabled = SaslHandshakeResponse { error_code: crate::error_codes::UNSUPPORTED_SASL_MECHANISM, mechanisms: alloc::vec!["SCRAM-SHA-512".into()] };
    let Step::AuthenticationFailed(why) = on_sasl_handshake(&mut c, &disabled, &config, || panic!("no nonce for a refusal")) else {
        panic!("accepted")
    };
    assert!(why.contains("does not enable PLAIN") && why.contains("SCRAM-SHA-512"), "{why}");
    let refused =
        SaslAuthenticateResponse { error_code: crate::error_codes::SASL_AUTHENTICATION_FAILED, error_message: Some("bad password"), auth_bytes: &[] };
    assert_eq!(on_sasl_authenticate(&mut c, &refused), Step::AuthenticationFailed("SASL_AUTHENTICATION_FAILED: bad password".into()));
    let ok = SaslAuthenticateResponse { error_code: NONE, error_message: None, auth_bytes: &[] };
    assert!(matches!(on_sasl_authenticate(&mut c, &ok), Step::Fail(_)), "no exchange under way");
}
