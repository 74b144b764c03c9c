//! Unit tests of `statistics`: the histogram's percentiles and the JSON,
//! parsed back by serde_json.

use alloc::string::String;
use alloc::vec;

use super::*;

#[test]
fn buckets_cover_every_value_in_order() {
    let mut last = 0;
    for v in (0..10_000u64).chain([u32::MAX as u64, u64::MAX / 3, u64::MAX]) {
        let b = bucket(v);
        assert!(b < BUCKETS);
        assert!(b >= last || v < 10_000, "buckets go up with values");
        assert!(bucket_top(b) >= v, "{v} is above the top of its bucket {b}");
        if b > 0 {
            assert!(bucket_top(b - 1) < v, "{v} belongs in an earlier bucket");
        }
        last = b;
    }
}

#[test]
fn a_window_gives_count_sum_extremes_and_percentiles() {
    let mut w = Window::default();
    assert_eq!(w.summary(), WindowStats::default(), "empty: all zero");
    for v in 1..=1000u64 {
        w.record(v * 1000); // 1 ms .. 1 s in microseconds
    }
    let s = w.summary();
    assert_eq!((s.cnt, s.min, s.max, s.sum, s.avg), (1000, 1000, 1_000_000, 500_500_000, 500_500));
    // Each percentile within 12.5% above the true value, never below it.
    for (got, want) in [(s.p50, 500_000), (s.p90, 900_000), (s.p99, 990_000)] {
        assert!(got >= want && got <= want + want / 8, "{got} for {want}");
    }
    assert_eq!(s.p99_99, 1_000_000, "capped at the largest value");
    let mut two = Window::default();
    two.record(0);
    two.record(1000);
    let s = two.summary();
    assert_eq!((s.p50, s.p75, s.p99), (0, 1000, 1000), "ranks round up: the 99th percentile of two is the larger");
    let mut merged = Window::default();
    merged.merge(&w);
    merged.merge(&two);
    let m = merged.summary();
    assert_eq!((m.cnt, m.min, m.max, m.sum), (1002, 0, 1_000_000, 500_501_000), "merged windows add up");
    w.reset();
    w.record(7);
    let s = w.summary();
    assert_eq!((s.cnt, s.min, s.max, s.p50, s.p99), (1, 7, 7, 7, 7), "a reset window starts again");
}

fn sample() -> Statistics {
    Statistics {
        name: "app\"1\"#producer".into(),
        client_id: "app\"1\"".into(),
        ts: 1_700_000_000_123_000,
        time: 1_700_000_000,
        msg_cnt: 3,
        msgs: 10,
        txmsgs: 7,
        txmsg_bytes: 420,
        txretries: 2,
        tx: 5,
        producer_id: 9,
        producer_epoch: 1,
        brokers: vec![BrokerStatistics {
            name: "k1:9092/1".into(),
            nodeid: 1,
            nodename: "k1:9092".into(),
            state: "UP",
            tx: 5,
            rtt: WindowStats { avg: 1500, p99: 2000, cnt: 4, ..Default::default() },
            toppars: vec![("t\n\\x".into(), 0)],
            ..Default::default()
        }],
        topics: vec![TopicStatistics {
            topic: "t\n\\x".into(),
            partitions: vec![PartitionStatistics { partition: 0, leader: 1, txmsgs: 7, compression_ratio: 2.5, ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn the_json_has_librdkafkas_names_and_types() {
    let json = sample().to_json();
    assert!(!json.contains('\n'), "one line: {json}");
    let v: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(v["name"], "app\"1\"#producer");
    assert_eq!(v["client_id"], "app\"1\"");
    assert_eq!(v["type"], "producer");
    for (k, want) in [("txmsgs", 7u64), ("txmsg_bytes", 420), ("msg_cnt", 3), ("msg_size", 0), ("tx", 5), ("txretries", 2), ("msgs", 10)] {
        assert_eq!(v[k].as_u64(), Some(want), "{k}");
    }
    assert_eq!(v["ts"].as_u64(), Some(1_700_000_000_123_000));
    let b = &v["brokers"]["k1:9092/1"];
    assert_eq!(b["nodeid"].as_i64(), Some(1));
    assert_eq!(b["state"], "UP");
    assert_eq!(b["rtt"]["avg"].as_u64(), Some(1500));
    assert_eq!(b["rtt"]["p99"].as_u64(), Some(2000));
    for k in ["min", "max", "avg", "sum", "cnt", "p50", "p75", "p90", "p95", "p99", "p99_99"] {
        assert!(b["rtt"][k].is_u64() && b["throttle"][k].is_u64(), "window field {k}");
    }
    assert_eq!(b["toppars"]["t\n\\x-0"]["topic"], "t\n\\x");
    let t = &v["topics"]["t\n\\x"];
    assert_eq!(t["topic"], "t\n\\x", "escaped and read back");
    assert!(t["batchsize"]["avg"].is_u64() && t["batchcnt"]["p99"].is_u64());
    let p = &t["partitions"]["0"];
    assert_eq!(p["partition"].as_i64(), Some(0));
    assert_eq!(p["txmsgs"].as_u64(), Some(7));
    assert_eq!(p["compression_ratio"].as_f64(), Some(2.5));
    assert_eq!(v["eos"]["producer_id"].as_i64(), Some(9));
    assert_eq!(v["eos"]["idemp_state"], "Assigned");
}

#[test]
fn control_characters_are_escaped() {
    let mut out = String::new();
    let s: String = (0u8..0x20).map(char::from).chain("\u{2028}é\"".chars()).collect();
    escape(&mut out, &s);
    let back: String = serde_json::from_str(&out).unwrap();
    assert_eq!(back, s);
    assert!(out.bytes().all(|b| b >= 0x20), "no raw control byte: {out:?}");
}

#[test]
fn emission_is_periodic_without_catching_up_and_once_at_close() {
    let mut c = Counters::new(100, 1_000);
    assert!(!c.due(1_099, false));
    assert!(c.due(1_100, false));
    assert!(!c.due(1_150, false));
    assert!(c.due(1_450, false), "late: one emission");
    assert_eq!(c.next_emit, Some(1_500));
    assert!(c.due(1_460, true), "the last one");
    assert!(!c.due(2_000, true) && !c.due(2_000, false), "then none");
    let mut off = Counters::new(0, 0);
    assert!(!off.due(u64::MAX, false) && !off.due(0, true), "0: never");
}
