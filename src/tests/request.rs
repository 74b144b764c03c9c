//! Unit tests of `request`.

use super::*;

#[test]
fn api_versions_v3_frame_is_byte_exact() {
    let mut buf = Vec::new();
    api_versions(&mut buf, 3, 7, "c");
    let name = b"kafka-producer-component";
    let ver = env!("CARGO_PKG_VERSION").as_bytes();
    let mut want = Vec::new();
    let body_len = 2 + 2 + 4 + 3 + 1 + 1 + name.len() + 1 + ver.len() + 1;
    want.extend_from_slice(&(body_len as i32).to_be_bytes());
    want.extend_from_slice(&[0, 18, 0, 3, 0, 0, 0, 7, 0, 1, b'c', 0]);
    want.push(name.len() as u8 + 1);
    want.extend_from_slice(name);
    want.push(ver.len() as u8 + 1);
    want.extend_from_slice(ver);
    want.push(0);
    assert_eq!(buf, want);
}

#[test]
fn produce_classic_and_flexible_layouts() {
    let records = [1u8, 2, 3];
    let parts = [PartitionData { partition: 2, records: &records }];
    let mut v3 = Vec::new();
    produce(&mut v3, 3, 1, "", None, -1, 30_000, &[("t", &parts)]);
    let body = &v3[4 + 10..]; // size, header (key, version, correlation, empty client id)
    let want_v3: &[u8] = &[
        0xff, 0xff, // null transactional id
        0xff, 0xff, // acks -1
        0, 0, 0x75, 0x30, // timeout 30000
        0, 0, 0, 1, 0, 1, b't', // one topic "t"
        0, 0, 0, 1, 0, 0, 0, 2, // one partition, index 2
        0, 0, 0, 3, 1, 2, 3, // records
    ];
    assert_eq!(body, want_v3);
    let mut v9 = Vec::new();
    produce(&mut v9, 9, 1, "", None, 1, 30_000, &[("t", &parts)]);
    let body = &v9[4 + 10 + 1..]; // flexible header ends with empty tagged fields
    let want_v9: &[u8] = &[
        0, // null compact transactional id
        0, 1, 0, 0, 0x75, 0x30, 2, 2, b't', 2, 0, 0, 0, 2, 4, 1, 2, 3, 0, 0, 0,
    ];
    assert_eq!(body, want_v9);
    let size = i32::from_be_bytes(v9[..4].try_into().unwrap()) as usize;
    assert_eq!(size, v9.len() - 4);
}

#[test]
fn a_produce_request_fits_the_sizes_the_sender_budgets_for() {
    let records = [7u8; 100];
    let parts = [PartitionData { partition: 0, records: &records }, PartitionData { partition: 11, records: &records }];
    for (version, txn) in [(3, None), (8, None), (9, None), (11, None), (3, Some("orders-txn")), (11, Some("orders-txn"))] {
        let topics: [(&str, &[PartitionData<'_>]); 2] = [("orders", &parts), ("a-much-longer-topic-name", &parts[..1])];
        let mut buf = Vec::new();
        produce(&mut buf, version, 5, "client-1", txn, -1, 30_000, &topics);
        let budget = produce_header_overhead("client-1", txn)
            + topics.iter().map(|(t, ps)| topic_overhead(t) + ps.len() * (partition_overhead() + records.len())).sum::<usize>();
        assert!(buf.len() <= budget, "v{version}: {} bytes, budget {budget}", buf.len());
        let mut one = Vec::new();
        produce(&mut one, version, 5, "client-1", txn, -1, 30_000, &[("orders", &parts[..1])]);
        assert!(one.len() <= produce_overhead("client-1", txn, "orders") + records.len(), "v{version}: one batch");
    }
}
