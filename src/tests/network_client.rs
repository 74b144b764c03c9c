//! Unit tests of `producer::network_client`.

use super::*;
use crate::connection::ConnState;

fn config() -> Config {
    Config::from_pairs([("bootstrap.servers", "a:1,b:2"), ("reconnect.backoff.ms", "50"), ("reconnect.backoff.max.ms", "300")]).unwrap()
}

fn ready(client: &mut NetworkClient, node: i32, out: &mut VecDeque<Output>) -> ConnId {
    let id = client.connect(node, "h".into(), 9092, 0, out);
    client.conn_mut(id).unwrap().state = ConnState::Ready;
    id
}

#[test]
fn every_request_gets_the_next_correlation_id_and_is_in_flight_if_answered() {
    let (mut client, mut out) = (NetworkClient::default(), VecDeque::new());
    let conn = ready(&mut client, 1, &mut out);
    assert_eq!(out.pop_front(), Some(Output::Connect { conn, host: "h".into(), port: 9092 }));
    let a = client.send_request(conn, ApiKey::Metadata, 12, 16, true, 100, &mut out, |buf, cid| buf.extend(cid.to_be_bytes()));
    let b = client.send_request(conn, ApiKey::Produce, 9, 16, false, 101, &mut out, |buf, cid| buf.extend(cid.to_be_bytes()));
    assert_eq!((a.correlation_id, b.correlation_id), (Some(1), Some(2)));
    assert!(!a.broke && !b.broke);
    assert_eq!(out.pop_front(), Some(Output::Transmit { conn, data: 1i32.to_be_bytes().to_vec() }));
    assert_eq!(out.pop_front(), Some(Output::Transmit { conn, data: 2i32.to_be_bytes().to_vec() }));
    let in_flight: Vec<InFlight> = client.conn(conn).unwrap().in_flight.iter().copied().collect();
    assert_eq!(in_flight, [InFlight { correlation_id: 1, api: ApiKey::Metadata, version: 12, sent_ms: 100 }], "acks=0 expects nothing");
    let gone = client.send_request(99, ApiKey::Metadata, 12, 16, true, 100, &mut out, |_, _| panic!("not encoded"));
    assert_eq!(gone.correlation_id, None);
    assert!(out.is_empty());
}

#[test]
fn a_dropped_broker_backs_off_exponentially_until_work_succeeds() {
    let (mut client, mut out, c) = (NetworkClient::default(), VecDeque::new(), config());
    let conn = client.connect(4, "h".into(), 9092, 0, &mut out);
    client.remove(conn, 1000, &c).unwrap();
    assert_eq!(client.reconnect_at(4), Some(1050));
    assert!(!client.backoff_allows(4, 1049) && client.backoff_allows(4, 1050));
    for (now, until) in [(2000, 2100), (3000, 3200), (4000, 4300), (5000, 5300)] {
        let conn = client.connect(4, "h".into(), 9092, now, &mut out);
        client.remove(conn, now, &c).unwrap();
        assert_eq!(client.reconnect_at(4), Some(until), "capped at reconnect.backoff.max.ms");
    }
    client.reset_backoff(4);
    assert_eq!(client.reconnect_at(4), None);
    assert_eq!(backoff_ms(100, 1000, 1), 100);
    assert_eq!(backoff_ms(100, 1000, 4), 800);
    assert_eq!(backoff_ms(100, 1000, 60), 1000);
}

#[test]
fn a_dropped_bootstrap_server_moves_the_cursor_to_the_next() {
    let (mut client, mut out, c) = (NetworkClient::default(), VecDeque::new(), config());
    let conn = client.connect(-1, "a".into(), 1, 0, &mut out);
    client.remove(conn, 10, &c).unwrap();
    assert_eq!(client.bootstrap_cursor, 1);
    let metadata = Metadata::default();
    assert_eq!(client.next_connect_at(&metadata, 2), 0, "bootstrap server b never failed");
}

#[test]
fn produce_goes_to_ready_broker_connections_not_throttled_and_metadata_to_the_least_loaded() {
    let (mut client, mut out) = (NetworkClient::default(), VecDeque::new());
    let one = ready(&mut client, 1, &mut out);
    let two = ready(&mut client, 2, &mut out);
    let bootstrap = ready(&mut client, -1, &mut out);
    client.connect(3, "h".into(), 9092, 0, &mut out); // still connecting
    assert_eq!(client.produce_ready(0), [one, two]);
    client.throttle(2, 500);
    client.throttle(2, 400); // a shorter pause does not cut a longer one
    assert_eq!(client.throttled_until(2), Some(500));
    assert_eq!(client.produce_ready(499), [one]);
    assert_eq!(client.produce_ready(500), [one, two]);
    client.send_request(one, ApiKey::Metadata, 12, 8, true, 0, &mut out, |_, _| {});
    client.send_request(two, ApiKey::Metadata, 12, 8, true, 0, &mut out, |_, _| {});
    assert_eq!(client.least_loaded_ready().map(|c| c.id), Some(bootstrap));
}

#[test]
fn no_broker_authenticates_once_every_known_broker_and_bootstrap_server_refused() {
    let mut client = NetworkClient::default();
    assert!(!client.no_broker_authenticates([], 2));
    client.authentication_failed(-1);
    assert!(!client.no_broker_authenticates([], 2), "bootstrap server 2 was not tried");
    client.authentication_failed(-2);
    assert!(client.no_broker_authenticates([], 2));
    assert!(!client.no_broker_authenticates([1, 2], 2), "known brokers were not tried");
    client.authentication_failed(1);
    client.authentication_failed(2);
    assert!(client.no_broker_authenticates([1, 2], 2));
    client.handshake_completed(2);
    assert!(!client.no_broker_authenticates([1, 2], 2), "broker 2 authenticated since");
}
