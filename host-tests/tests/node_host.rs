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

#[test]
fn the_node_host_produces_over_tls() {
    let ca = host_tests::tls::Ca::new("kpc test CA");
    let (_broker, front) = host_tests::tls::secure_cluster(&ca, &["127.0.0.1"], "node", 3);
    let ca_file = ca.pem_file();
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node/produce.mjs");
    let location = format!("ssl.ca.location={}", ca_file.display());
    let out = Command::new("node")
        .args([script, "--bootstrap", &bootstrap, "--topic", "node", "--count", "20000", "-X", "security.protocol=SSL", "-X", &location])
        .output()
        .expect("node (run scripts/build.sh, which transpiles the component with jco)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node host failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    let read = read_back_secure(Reader::KafkaPython, &bootstrap, "node", 3, 20_000, None, Some((&ca_file, true))).unwrap();
    verify_numbered(&read, 20_000).unwrap();
}
