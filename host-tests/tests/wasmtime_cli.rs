//! examples/kcat built for wasm32-wasip2 and run by the wasmtime CLI: the
//! producer core driving WASI sockets and clocks itself. The independent
//! reader checks what it wrote.

use std::io::Write;
use std::process::{Command, Stdio};

use host_tests::cli::{self, Cli};
use host_tests::*;

/// Runs kafka-kcat under the wasmtime CLI with 20,000 keyed lines; returns
/// its stdout after checking it succeeded.
fn run_kcat(bootstrap: &str, extra: &[&str]) -> String {
    let wasmtime = std::env::var("KPC_WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let wasm = format!("{target}/kcat/wasm32-wasip2/release/kafka-kcat.wasm");
    let tmp = std::env::temp_dir();
    let mut args = vec!["run", "-S", "inherit-network=y", "--dir", tmp.to_str().unwrap(), &wasm, "-b", bootstrap, "-t", "cli", "-K", "\t"];
    args.extend_from_slice(extra);
    let mut child = Command::new(&wasmtime)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wasmtime CLI (run scripts/setup.sh and scripts/build.sh)");
    let input: String = (0..20_000).map(|i| format!("key-{}\tvalue-{i}\n", i % 97)).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn the_kcat_command_produces_under_the_wasmtime_cli() {
    let broker = Broker::start().unwrap();
    broker.create_topic("cli", 3).unwrap();
    let stdout = run_kcat(&broker.bootstrap(), &[]);
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "cli", 3, 20_000).unwrap();
    verify_numbered(&read, 20_000).unwrap();
}

#[test]
fn the_kcat_command_produces_over_tls_reading_the_ca_file_through_wasi() {
    let ca = host_tests::tls::Ca::new("kpc test CA");
    let (_broker, front) = host_tests::tls::secure_cluster(&ca, &["127.0.0.1"], "cli", 3);
    let ca_file = ca.pem_file();
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let location = format!("ssl.ca.location={}", ca_file.display());
    let stdout = run_kcat(&bootstrap, &["-X", "security.protocol=SSL", "-X", &location]);
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    assert!(front.handshakes.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let read = read_back_secure(Reader::Confluent, &bootstrap, "cli", 3, 20_000, None, Some((&ca_file, true))).unwrap();
    verify_numbered(&read, 20_000).unwrap();
}

#[test]
fn the_kcat_command_presents_a_client_certificate_read_through_wasi() {
    use host_tests::tls::{secure_cluster_requiring_clients, Ca};
    let ca = Ca::new("kpc test CA");
    let clients = Ca::new("kpc client CA");
    let (_broker, front) = secure_cluster_requiring_clients(&ca, &clients, &["127.0.0.1"], "cli", 3);
    let ca_file = ca.pem_file();
    // In the temporary directory run_kcat preopens.
    let (cert, key) = clients.client_files("kcat");
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let settings = [
        format!("ssl.ca.location={}", ca_file.display()),
        format!("ssl.certificate.location={}", cert.display()),
        format!("ssl.key.location={}", key.display()),
    ];
    let stdout = run_kcat(&bootstrap, &["-X", "security.protocol=SSL", "-X", &settings[0], "-X", &settings[1], "-X", &settings[2]]);
    assert!(stdout.contains("delivered: 20000  failed: 0"), "{stdout}");
    assert!(front.errors.lock().unwrap().is_empty(), "{:?}", front.errors.lock().unwrap());
    let (reader_cert, reader_key) = clients.client_files("reader");
    let read = read_back_as(Reader::Confluent, &bootstrap, "cli", 3, 20_000, None, Some((&ca_file, true)), Some((&reader_cert, &reader_key))).unwrap();
    verify_numbered(&read, 20_000).unwrap();
}

// The cases kafka-produce runs too (tests/command.rs).

#[test]
fn kcat_records_go_through_byte_exact() {
    cli::bytes_exact(Cli::Kcat);
}

#[test]
fn kcat_keys_split_and_land_on_murmur2_partitions() {
    cli::keys(Cli::Kcat);
}

#[test]
fn kcat_partition_headers_delimiter_and_count() {
    cli::partition_headers_delimiter_count(Cli::Kcat);
}

#[test]
fn kcat_every_codec_round_trips() {
    cli::codecs(Cli::Kcat);
}

#[test]
fn kcat_files_are_one_record_each_unless_split() {
    cli::files(Cli::Kcat);
}

#[test]
fn kcat_bad_usage_and_configuration_exit_2_naming_it() {
    cli::usage(Cli::Kcat);
}

#[test]
fn kcat_an_unreachable_broker_fails_every_record_and_says_so() {
    cli::unreachable(Cli::Kcat);
}

#[test]
fn kcat_a_refused_record_fails_the_run() {
    cli::refused(Cli::Kcat);
}

#[test]
fn kcat_typed_lines_go_out_at_once() {
    cli::typed_lines_go_out_at_once(Cli::Kcat);
}

#[test]
fn kcat_statistics_lines_count_what_was_delivered() {
    cli::statistics(Cli::Kcat);
}

#[test]
fn kcat_transactional_runs_commit_every_n_records() {
    cli::transactions(Cli::Kcat);
}
