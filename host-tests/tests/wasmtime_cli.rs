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
    verify_numbered(&read, 20_000).unwrap();
}
