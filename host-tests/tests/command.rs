//! kafka-produce, the wasmtime embedding's command, through the cases
//! kafka-kcat runs too (`host_tests::cli`), and what only it has: the
//! embedded broker, started only after the configuration checks out.

use host_tests::cli::{self, Cli};

const CLI: Cli = Cli::Produce;

#[test]
fn records_go_through_byte_exact() {
    cli::bytes_exact(CLI);
}

#[test]
fn keys_split_and_land_on_murmur2_partitions() {
    cli::keys(CLI);
}

#[test]
fn partition_headers_delimiter_and_count() {
    cli::partition_headers_delimiter_count(CLI);
}

#[test]
fn every_codec_round_trips() {
    cli::codecs(CLI);
}

#[test]
fn files_are_one_record_each_unless_split() {
    cli::files(CLI);
}

#[test]
fn bad_usage_and_configuration_exit_2_naming_it() {
    cli::usage(CLI);
}

#[test]
fn an_unreachable_broker_fails_every_record_and_says_so() {
    cli::unreachable(CLI);
}

#[test]
fn the_configuration_is_checked_before_the_embedded_broker_starts() {
    let ran = CLI.run(&["-X", "linger.ms=soon"], b"x\n").expect(2);
    assert!(ran.stderr.contains("linger.ms"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("embedded"), "a broker was started: {}", ran.stderr);
}

#[test]
fn the_embedded_broker_takes_the_records() {
    let ran = CLI.run(&["-t", "emb", "--partitions", "2", "-K", ":"], b"a:1\nb:2\nc:3\n").expect(0);
    cli::assert_summary(&ran.out(), 3, 3, 0);
    assert!(ran.stderr.contains("embedded Tansu broker"), "{}", ran.stderr);
}

#[test]
fn a_refused_record_fails_the_run() {
    cli::refused(CLI);
}

#[test]
fn typed_lines_go_out_at_once() {
    cli::typed_lines_go_out_at_once(CLI);
}

#[test]
fn statistics_lines_count_what_was_delivered() {
    cli::statistics(CLI);
}

#[test]
fn transactional_runs_commit_every_n_records() {
    cli::transactions(CLI);
}
