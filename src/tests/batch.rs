//! Unit tests of `batch`.

use super::*;

#[test]
fn crc32c_matches_the_castagnoli_check_value() {
    // The standard check value of CRC-32C over "123456789".
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
}

#[test]
fn a_single_record_batch_has_the_documented_layout() {
    let headers = [Header { key: "h", value: Some(b"v") }, Header { key: "n", value: None }];
    let rec = Record { key: None, value: Some(b"hello"), headers: &headers, ..Default::default() };
    let mut w = BatchWriter::new(Vec::new());
    let predicted = w.len_of(&rec, 1_700_000_000_000);
    w.append(&rec, 1_700_000_000_000);
    assert_eq!(w.len(), BATCH_HEADER_LEN + predicted);
    assert_eq!(single_record_batch_len(&rec), w.len());
    let b = w.finish(ProducerIdentity::NONE);
    let be32 = |at: usize| i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(be32(8) as usize, b.len() - 12, "batchLength");
    assert_eq!(b[16], 2, "magic");
    assert_eq!(be32(17) as u32, crc32c(&b[21..]), "crc");
    assert_eq!(be32(23), 0, "lastOffsetDelta");
    assert_eq!(be32(57), 1, "recordsCount");
    // producerId -1, epoch -1, baseSequence -1
    assert_eq!(&b[43..57], &[0xff; 14]);
    // Record: len, attrs 0, tsDelta 0, offDelta 0, key null (-1 = 0x01),
    // value len 5 (0x0a) "hello", 2 headers (0x04), "h" -> "v", "n" -> null.
    let expect: &[u8] = &[0, 0, 0, 1, 0x0a, b'h', b'e', b'l', b'l', b'o', 4, 2, b'h', 2, b'v', 2, b'n', 1];
    assert_eq!(b[61] as usize, expect.len() * 2, "record length varint");
    assert_eq!(&b[62..], expect);
}

#[test]
fn deltas_follow_the_first_record() {
    let rec = Record { value: Some(b"x"), ..Default::default() };
    let mut w = BatchWriter::new(Vec::new());
    w.append(&rec, 1000);
    w.append(&rec, 990); // timestamps may go backwards
    w.append(&rec, 1005);
    let b = w.finish(ProducerIdentity::NONE);
    let be64 = |at: usize| i64::from_be_bytes(b[at..at + 8].try_into().unwrap());
    assert_eq!(be64(27), 1000, "baseTimestamp");
    assert_eq!(be64(35), 1005, "maxTimestamp");
    assert_eq!(i32::from_be_bytes(b[23..27].try_into().unwrap()), 2, "lastOffsetDelta");
}

#[test]
fn restamping_sets_the_identity_and_keeps_the_crc_valid() {
    let mut w = BatchWriter::new(Vec::new());
    w.append(&Record { value: Some(b"x"), ..Default::default() }, 5);
    let identity = ProducerIdentity { producer_id: 7, producer_epoch: 2, base_sequence: 40 };
    let mut b = w.finish(ProducerIdentity::NONE);
    restamp(&mut b, identity);
    let mut w2 = BatchWriter::new(Vec::new());
    w2.append(&Record { value: Some(b"x"), ..Default::default() }, 5);
    assert_eq!(b, w2.finish(identity), "restamped equals stamped at finish");
    assert_eq!(u32::from_be_bytes(b[17..21].try_into().unwrap()), crc32c(&b[21..]));
}

#[test]
fn the_named_header_offsets_follow_the_field_widths_of_kip_98() {
    // baseOffset i64, batchLength i32, partitionLeaderEpoch i32, magic i8,
    // crc u32, attributes i16, lastOffsetDelta i32, baseTimestamp i64,
    // maxTimestamp i64, producerId i64, producerEpoch i16, baseSequence
    // i32, recordsCount i32.
    let fields = [
        (BASE_OFFSET_AT, 8),
        (LENGTH_AT, 4),
        (PARTITION_LEADER_EPOCH_AT, 4),
        (MAGIC_AT, 1),
        (CRC_AT, 4),
        (ATTRIBUTES_AT, 2),
        (LAST_OFFSET_DELTA_AT, 4),
        (BASE_TIMESTAMP_AT, 8),
        (MAX_TIMESTAMP_AT, 8),
        (PRODUCER_ID_AT, 8),
        (PRODUCER_EPOCH_AT, 2),
        (BASE_SEQUENCE_AT, 4),
        (RECORDS_COUNT_AT, 4),
    ];
    let mut at = 0;
    for (offset, width) in fields {
        assert_eq!(offset, at);
        at += width;
    }
    assert_eq!(at, BATCH_HEADER_LEN);
}

#[test]
fn the_stamped_identity_reads_back_what_finish_and_restamp_wrote() {
    let mut w = BatchWriter::new(Vec::new());
    w.append(&Record { value: Some(b"x"), ..Default::default() }, 5);
    let identity = ProducerIdentity { producer_id: 7, producer_epoch: 2, base_sequence: 40 };
    let mut b = w.finish(identity);
    assert_eq!(stamped_identity(&b), Some(identity));
    let bumped = ProducerIdentity { producer_epoch: 3, base_sequence: 0, ..identity };
    restamp(&mut b, bumped);
    assert_eq!(stamped_identity(&b), Some(bumped));
    assert_eq!(stamped_identity(&b[..56]), None, "shorter than a header");
}
