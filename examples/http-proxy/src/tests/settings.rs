use super::*;

fn env(vars: &[(&str, &str)]) -> Result<Settings, (String, String)> {
    Settings::from_env(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn get<'a>(s: &'a Settings, key: &str) -> Option<&'a str> {
    let found: Vec<&str> = s.properties.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
    assert!(found.len() <= 1, "{key} set {} times", found.len());
    found.first().copied()
}

#[test]
fn kafka_variables_are_properties() {
    assert_eq!(property_name("KAFKA_BOOTSTRAP_SERVERS").as_deref(), Some("bootstrap.servers"));
    assert_eq!(property_name("KAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION").as_deref(), Some("max.in.flight.requests.per.connection"));
    assert_eq!(property_name("KAFKA_"), None);
    assert_eq!(property_name("PATH"), None);
    let s = env(&[("KAFKA_BOOTSTRAP_SERVERS", "b:9092"), ("KAFKA_ACKS", "1"), ("HOME", "/root")]).unwrap();
    assert_eq!(get(&s, "bootstrap.servers"), Some("b:9092"));
    assert_eq!(get(&s, "acks"), Some("1"));
    assert_eq!(get(&s, "home"), None);
}

#[test]
fn the_defaults_suit_a_request_and_yield_to_the_environment() {
    let s = env(&[]).unwrap();
    assert_eq!(get(&s, "delivery.timeout.ms"), Some("10000"));
    assert_eq!(get(&s, "enable.idempotence"), Some("false"));
    assert_eq!(s.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(s.wait_ms, 15_000);
    let s = env(&[("KAFKA_DELIVERY_TIMEOUT_MS", "60000"), ("HTTP_MAX_BODY_BYTES", "100")]).unwrap();
    assert_eq!(get(&s, "delivery.timeout.ms"), Some("60000"));
    assert_eq!((s.max_body_bytes, s.wait_ms), (100, 65_000));
    // An alias replaces the default set under the other name.
    let s = env(&[("KAFKA_MESSAGE_TIMEOUT_MS", "3000"), ("KAFKA_MAX_IN_FLIGHT", "5")]).unwrap();
    assert_eq!((get(&s, "delivery.timeout.ms"), get(&s, "message.timeout.ms")), (None, Some("3000")));
    assert_eq!(get(&s, "max.in.flight.requests.per.connection"), None);
    assert_eq!(s.wait_ms, 8_000);
    assert_eq!(env(&[("HTTP_MAX_BODY_BYTES", "lots")]).unwrap_err().0, "HTTP_MAX_BODY_BYTES");
}
