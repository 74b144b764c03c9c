//! Unit tests of `connection`.

use super::*;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

#[test]
fn frames_are_split_off_only_once_complete() {
    let mut buf = frame(b"abcd");
    buf.extend(frame(b"efghij"));
    assert_eq!(next_frame(&buf, 0).unwrap(), Some(4..8));
    assert_eq!(next_frame(&buf, 8).unwrap(), Some(12..18));
    assert_eq!(next_frame(&buf, 18).unwrap(), None, "nothing more");
    assert_eq!(next_frame(&buf[..16], 8).unwrap(), None, "a partial body waits");
    assert_eq!(next_frame(&buf[..10], 8).unwrap(), None, "a partial size waits");
}

#[test]
fn a_frame_size_no_response_can_have_is_an_error() {
    assert!(next_frame(&3i32.to_be_bytes(), 0).is_err(), "shorter than a correlation id");
    assert!(next_frame(&(-1i32).to_be_bytes(), 0).is_err());
    assert!(next_frame(&((MAX_FRAME + 1) as i32).to_be_bytes(), 0).is_err());
}

#[test]
fn unframed_input_survives_a_take_and_restore_with_bytes_arriving_between() {
    let mut c = Connection::new(1, 0, "h".into(), 9092, 5);
    c.receive(b"0123456789");
    let buf = c.take_input();
    c.receive(b"AB"); // arrived while the taken bytes were framed
    c.restore_input(buf, 4);
    assert_eq!(c.take_input(), b"456789AB");
}

#[test]
fn a_new_connection_is_connecting_with_no_versions_and_nothing_in_flight() {
    let c = Connection::new(3, -1, "b".into(), 9092, 40);
    assert_eq!(c.state, ConnState::Connecting { since_ms: 40 });
    assert!(!c.is_ready() && c.in_flight.is_empty() && c.tls.is_none());
    assert_eq!((c.version(ApiKey::Produce), c.version(ApiKey::Metadata)), (-1, -1));
    assert_eq!((c.version(ApiKey::ApiVersions), c.version(ApiKey::SaslHandshake)), (0, 1));
}
