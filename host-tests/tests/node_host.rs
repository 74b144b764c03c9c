//! The components as JavaScript (jco) in Node.js: examples/node/produce.mjs
//! drives the `engine` component over node:net sockets; client.mjs runs the
//! `client` world, which drives itself over jco's wasi:sockets shim. The
//! independent reader checks what each wrote.

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

#[test]
fn the_client_world_produces_every_record_once_in_node() {
    let broker = Broker::start().unwrap();
    broker.create_topic("node-client", 3).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node/client.mjs");
    let out = Command::new("node")
        .args([script, "--bootstrap", &broker.bootstrap(), "--topic", "node-client", "--count", "20000", "-X", "max.block.ms=60000"])
        .output()
        .expect("node (run scripts/build.sh, which transpiles the client component with jco)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node client failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "node-client", 3, 20_000).unwrap();
    verify_numbered(&read, 20_000).unwrap();
}

#[test]
fn the_client_world_in_node_names_a_bad_setting() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node/client.mjs");
    let out = Command::new("node").args([script, "--bootstrap", "127.0.0.1:9", "-X", "acks=most"]).output().expect("node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`acks`"), "{stderr}");
}
