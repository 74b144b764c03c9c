//! The same component as JavaScript (jco) in Node.js: examples/node drives
//! it over node:net sockets; the independent reader checks what it wrote.

use std::collections::BTreeMap;
use std::process::Command;

use host_tests::*;

#[test]
fn the_node_host_produces_every_record_once_in_order() {
    let broker = Broker::start().unwrap();
    broker.create_topic("node", 3).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node/produce.mjs");
    let out = Command::new("node")
        .args([script, "--bootstrap", &broker.bootstrap(), "--topic", "node", "--count", "20000"])
        .output()
        .expect("node (run scripts/build.sh, which transpiles the component with jco)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node host failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "node", 3, 20_000).unwrap();
    assert_eq!(read.len(), 20_000);
    // Each record once, keyed partition = Java murmur2, per-partition order = send order.
    let mut seen = vec![false; 20_000];
    let mut last: BTreeMap<i32, (i64, usize)> = BTreeMap::new();
    let mut sorted = read.clone();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    for r in &sorted {
        let v = String::from_utf8(r.value.clone().unwrap()).unwrap();
        let i: usize = v.strip_prefix("value-").unwrap().parse().unwrap();
        assert!(!std::mem::replace(&mut seen[i], true), "record {i} twice");
        assert_eq!(r.key.as_deref(), Some(format!("key-{}", i % 97).as_bytes()));
        assert_eq!(r.murmur2_partition, Some(r.partition), "record {i}");
        if let Some((_, prev)) = last.insert(r.partition, (r.offset, i)) {
            assert!(prev < i, "partition {}: record {i} after {prev}", r.partition);
        }
    }
}
