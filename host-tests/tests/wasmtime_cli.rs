//! examples/kcat built for wasm32-wasip2 and run by the wasmtime CLI: the
//! producer core driving WASI sockets and clocks itself. The independent
//! reader checks what it wrote.

use std::io::Write;
use std::process::{Command, Stdio};

use host_tests::*;

#[test]
fn the_kcat_command_produces_under_the_wasmtime_cli() {
    let broker = Broker::start().unwrap();
    broker.create_topic("cli", 3).unwrap();
    let wasmtime = std::env::var("KPC_WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let wasm = format!("{target}/kcat/wasm32-wasip2/release/kafka-kcat.wasm");
    let mut child = Command::new(&wasmtime)
        .args(["run", "-S", "inherit-network=y", &wasm, "-b", &broker.bootstrap(), "-t", "cli", "-K", "\t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wasmtime CLI (run scripts/setup.sh and scripts/build.sh)");
    let input: String = (0..20_000).map(|i| format!("key-{}\tvalue-{i}\n", i % 97)).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "cli", 3, 20_000).unwrap();
    assert_eq!(read.len(), 20_000);
    let mut seen = vec![false; 20_000];
    let mut sorted = read.clone();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut last = std::collections::BTreeMap::new();
    for r in &sorted {
        let v = String::from_utf8(r.value.clone().unwrap()).unwrap();
        let i: usize = v.strip_prefix("value-").unwrap().parse().unwrap();
        assert!(!std::mem::replace(&mut seen[i], true), "record {i} twice");
        assert_eq!(r.key.as_deref(), Some(format!("key-{}", i % 97).as_bytes()));
        assert_eq!(r.murmur2_partition, Some(r.partition));
        if let Some(prev) = last.insert(r.partition, i) {
            assert!(prev < i, "partition {}: {i} after {prev}", r.partition);
        }
    }
}
