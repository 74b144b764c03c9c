//! Unit tests of `response`.

use super::*;
use crate::wire::Writer;

fn produce_v9_frame() -> Vec<u8> {
    let mut b = Vec::new();
    let mut w = Writer::new(&mut b);
    w.i32(42); // correlation id
    w.no_tagged_fields(); // header v1
    w.array_len(1, true);
    w.string("t", true);
    w.array_len(1, true);
    w.i32(0);
    w.i16(0);
    w.i64(1234);
    w.i64(-1);
    w.i64(0);
    w.array_len(0, true);
    w.nullable_string(None, true);
    w.no_tagged_fields();
    w.no_tagged_fields();
    w.i32(0);
    w.no_tagged_fields();
    b
}

#[test]
fn produce_response_decodes_and_every_truncation_is_an_error() {
    let frame = produce_v9_frame();
    let (cid, mut r) = header(&frame, ApiKey::Produce, 9).unwrap();
    assert_eq!(cid, 42);
    let resp = produce(&mut r, 9).unwrap();
    assert_eq!(resp.topics[0].0, "t");
    assert_eq!(resp.topics[0].1[0].base_offset, 1234);
    for cut in 0..frame.len() {
        assert!(check_decodes(ApiKey::Produce, 9, &frame[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn negotiation_picks_the_highest_common_version() {
    let resp = ApiVersionsResponse {
        error_code: 0,
        api_keys: alloc::vec![
            ApiRange { api_key: 0, min: 0, max: 9 },
            ApiRange { api_key: 3, min: 0, max: 20 },
            ApiRange { api_key: 18, min: 0, max: 1 },
        ],
    };
    assert_eq!(resp.negotiate(ApiKey::Produce), Some(9));
    assert_eq!(resp.negotiate(ApiKey::Metadata), Some(12));
    let old = ApiVersionsResponse { error_code: 0, api_keys: alloc::vec![ApiRange { api_key: 0, min: 0, max: 2 }] };
    assert_eq!(old.negotiate(ApiKey::Produce), None);
    assert_eq!(old.negotiate(ApiKey::Metadata), None);
}
