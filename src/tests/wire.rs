//! Unit tests of `wire`.

use super::*;

#[test]
fn varints_round_trip_and_have_protobuf_lengths() {
    for v in [0i64, 1, -1, 63, -64, 64, 300, -300, i32::MAX as i64, i64::MIN, i64::MAX] {
        let mut buf = Vec::new();
        Writer::new(&mut buf).varint(v);
        assert_eq!(buf.len(), varint_len(v), "{v}");
        assert_eq!(Reader::new(&buf).varint("v").unwrap(), v);
    }
    // Protobuf's zig-zag: -1 -> 1, 1 -> 2, 300 -> 600 = [0xd8, 0x04].
    let mut buf = Vec::new();
    Writer::new(&mut buf).varint(300);
    assert_eq!(buf, [0xd8, 0x04]);
}

#[test]
fn truncated_and_overlong_inputs_are_errors() {
    assert!(Reader::new(&[0x80, 0x80]).uvarint("x").is_err());
    assert!(Reader::new(&[0xff; 11]).uvarint("x").is_err());
    assert!(Reader::new(&[0, 5, b'a']).str(false, "s").is_err());
    // A compact array claiming 2^32 elements in a 3-byte frame.
    assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]).array_len(true, 1, "a").is_err());
}
