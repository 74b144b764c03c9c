//! Unit tests of `packed`.

use super::*;

#[test]
fn records_round_trip_and_truncation_is_an_error() {
    let hs = [Header { key: "a", value: None }, Header { key: "ü", value: Some(b"x") }];
    let recs = [
        Record { key: Some(b"k"), value: Some(b"v"), headers: &hs, partition: Some(3), timestamp: Some(-5) },
        Record::default(),
        Record { key: Some(b""), value: None, ..Default::default() },
    ];
    let mut buf = Vec::new();
    for r in &recs {
        write(&mut buf, r);
    }
    let mut r = Reader::new(&buf);
    let mut headers = Vec::new();
    for want in &recs {
        let got = read(&mut r, &mut headers).unwrap();
        assert_eq!((got.key, got.value, got.partition, got.timestamp), (want.key, want.value, want.partition, want.timestamp));
        assert_eq!(headers.as_slice(), want.headers);
    }
    assert_eq!(r.remaining(), 0);
    for cut in 1..buf.len() {
        let mut r = Reader::new(&buf[..cut]);
        let mut ok = 0;
        while r.remaining() > 0 {
            match read(&mut r, &mut headers) {
                Ok(_) => ok += 1,
                Err(_) => break,
            }
        }
        assert!(ok < recs.len(), "cut at {cut} still read everything");
    }
    assert!(read(&mut Reader::new(&[0x80]), &mut headers).is_err(), "unknown flags");
}
