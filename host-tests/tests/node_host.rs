//! The same component as JavaScript (jco) in Node.js: examples/node drives
//! it over node:net sockets; the independent reader checks what it wrote.

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
    verify_numbered(&read, 20_000).unwrap();
}
