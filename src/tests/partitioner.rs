//! Unit tests of `partitioner`.

use super::*;

#[test]
fn murmur2_matches_the_java_client() {
    // Values from Apache Kafka's UtilsTest.testMurmur2.
    let cases: &[(&[u8], i32)] = &[
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ];
    for (data, want) in cases {
        assert_eq!(murmur2(data), *want, "{:?}", core::str::from_utf8(data));
    }
}

#[test]
fn keyless_records_stick_until_their_batch_closes() {
    let mut p = Partitioner::new(PartitionerKind::Murmur2Random, 7);
    let mut sticky = None;
    let first = p.partition(None, TopicView { partitions: 4, sticky: &mut sticky });
    for _ in 0..10 {
        assert_eq!(p.partition(None, TopicView { partitions: 4, sticky: &mut sticky }), first);
    }
    p.on_batch_closed(first, TopicView { partitions: 4, sticky: &mut sticky });
    let next = p.partition(None, TopicView { partitions: 4, sticky: &mut sticky });
    assert_ne!(next, first);
    // Keys still hash, whatever the sticky partition is.
    assert_eq!(p.partition(Some(b"foobar"), TopicView { partitions: 4, sticky: &mut sticky }), murmur2_partition(b"foobar", 4));
}
