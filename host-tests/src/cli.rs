//! The produce commands as a user runs them: `kafka-kcat` under the
//! wasmtime CLI and `kafka-produce` (the wasmtime embedding), through the
//! same cases (`tests/wasmtime_cli.rs`, `tests/command.rs`). Each case
//! produces with the command and reads back with the independent reader.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{read_back, Broker, ReadRecord, Reader};

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    /// `wasmtime run -S inherit-network=y kafka-kcat.wasm`
    Kcat,
    /// `kafka-produce`, the embedding.
    Produce,
}

/// What a run gave.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Ran {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Panics with everything the command printed unless it exited `code`.
    pub fn expect(self, code: i32) -> Ran {
        assert_eq!(self.code, code, "exit status\nstdout: {}\nstderr: {}", self.out(), self.stderr);
        self
    }
}

fn target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into())
}

/// A scratch directory for input files (the kcat command is given it
/// with `--dir`).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kpc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Cli {
    /// The exit status of bad usage or configuration: 2, but 1 under
    /// `wasmtime run`, where a WASI 0.2 command's exit is only success or
    /// failure (`exit-with-code` is unstable, off by default).
    pub fn usage_status(self) -> i32 {
        match self {
            Cli::Kcat => 1,
            Cli::Produce => 2,
        }
    }

    fn command(self, dir: Option<&Path>) -> Command {
        match self {
            Cli::Kcat => {
                let wasmtime = std::env::var("KPC_WASMTIME").unwrap_or_else(|_| "wasmtime".into());
                let mut c = Command::new(wasmtime);
                c.args(["run", "-S", "inherit-network=y"]);
                if let Some(d) = dir {
                    c.arg("--dir").arg(d);
                }
                c.arg(format!("{}/kcat/wasm32-wasip2/release/kafka-kcat.wasm", target_dir()));
                c
            }
            Cli::Produce => Command::new(format!("{}/host/kafka-produce", target_dir())),
        }
    }

    /// Runs the command with `args`, `stdin` as its input; `dir` holds the
    /// files the arguments name.
    pub fn run_in(self, dir: Option<&Path>, args: &[&str], stdin: &[u8]) -> Ran {
        let mut child = self
            .command(dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{self:?}: {e} (run scripts/build.sh)"));
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        // A command that exits early (bad usage) closes its stdin.
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        Ran { code: out.status.code().unwrap_or(-1), stdout: out.stdout, stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
    }

    pub fn run(self, args: &[&str], stdin: &[u8]) -> Ran {
        self.run_in(None, args, stdin)
    }
}

/// A broker with `topic` of `partitions` partitions.
pub fn broker_with(topic: &str, partitions: u32) -> Broker {
    let b = Broker::start().unwrap();
    b.create_topic(topic, partitions).unwrap();
    b
}

/// Reads `n` records of `topic` back, in (partition, offset) order.
pub fn read_sorted(reader: Reader, b: &Broker, topic: &str, partitions: u32, n: usize) -> Vec<ReadRecord> {
    let mut read = read_back(reader, &b.bootstrap(), topic, partitions, n).unwrap();
    read.sort_by_key(|r| (r.partition, r.offset));
    assert_eq!(read.len(), n, "records read back");
    read
}

/// The summary's `delivered: N  failed: N`.
pub fn assert_summary(text: &str, records: usize, delivered: usize, failed: usize) {
    let want = format!("records: {records}  delivered: {delivered}  failed: {failed}  ");
    assert!(text.contains(&want), "wanted `{want}` in:\n{text}");
}

fn values(read: &[ReadRecord]) -> Vec<Vec<u8>> {
    read.iter().map(|r| r.value.clone().unwrap_or_default()).collect()
}

/// Records of any bytes but the delimiter go through byte-exact, in
/// order, the last one without a trailing newline; `-T` echoes exactly
/// the input.
pub fn bytes_exact(cli: Cli) {
    let b = broker_with("raw", 1);
    let big: Vec<u8> = (0..100_000u32).map(|i| b"abcdefghij\r\0\xff"[i as usize % 13]).collect();
    let records: Vec<Vec<u8>> = vec![
        b"plain".to_vec(),
        b"\xff\xfe invalid utf-8 \xc3\x28".to_vec(),
        b"nul\0inside".to_vec(),
        b"cr at end\r".to_vec(),
        Vec::new(),
        big,
        b"last, no newline".to_vec(),
    ];
    let input = records.join(&b'\n');
    let ran = cli.run(&["-b", &b.bootstrap(), "-t", "raw", "-T"], &input).expect(0);
    // -T: the records, each followed by the delimiter.
    let mut echoed = input.clone();
    echoed.push(b'\n');
    assert!(ran.stdout == echoed, "-T output differs from the input ({} vs {} bytes)", ran.stdout.len(), echoed.len());
    assert_summary(&ran.stderr, records.len(), records.len(), 0);
    let read = read_sorted(Reader::KafkaPython, &b, "raw", 1, records.len());
    assert_eq!(values(&read), records);
    assert!(read.iter().all(|r| r.key.is_none() && r.headers.is_empty()));
    assert_eq!(read.iter().map(|r| r.offset).collect::<Vec<_>>(), (0..records.len() as i64).collect::<Vec<_>>());
}

/// `-K` splits at the first delimiter; keyed records land on Java
/// murmur2's partition; `-k` keys the records without the delimiter.
pub fn keys(cli: Cli) {
    let b = broker_with("keys", 4);
    let n = 400;
    let mut input = Vec::new();
    for i in 0..n {
        if i % 10 == 9 {
            input.extend_from_slice(format!("unkeyed-{i}\n").as_bytes());
        } else {
            input.extend_from_slice(format!("k{}:v:{i}\n", i % 37).as_bytes());
        }
    }
    let ran = cli.run(&["-b", &b.bootstrap(), "-t", "keys", "-K", ":", "-k", "fixed"], &input).expect(0);
    assert_summary(&ran.out(), n, n, 0);
    let read = read_sorted(Reader::KafkaPython, &b, "keys", 4, n);
    let mut seen = vec![false; n];
    let mut last = std::collections::BTreeMap::new();
    for r in &read {
        let v = String::from_utf8(r.value.clone().unwrap()).unwrap();
        let (key, i) = match v.strip_prefix("unkeyed-") {
            Some(i) => ("fixed".to_string(), i.parse::<usize>().unwrap()),
            None => {
                let i: usize = v.strip_prefix("v:").expect("the key delimiter splits at its first occurrence").parse().unwrap();
                (format!("k{}", i % 37), i)
            }
        };
        assert!(!std::mem::replace(&mut seen[i], true), "record {i} twice");
        assert_eq!(r.key.as_deref(), Some(key.as_bytes()), "record {i}");
        assert_eq!(r.murmur2_partition, Some(r.partition), "record {i} not on murmur2's partition");
        if let Some(prev) = last.insert(r.partition, i) {
            assert!(prev < i, "partition {}: {i} after {prev}", r.partition);
        }
    }
}

/// `-p` puts every record on one partition; `-H` adds headers (a name
/// alone: a null value); `-D` splits at another delimiter, escapes
/// understood, so newlines stay inside records; `-c` stops after N.
pub fn partition_headers_delimiter_count(cli: Cli) {
    let b = broker_with("hdr", 3);
    let input = b"one\nline\x1etwo\x1ethree\x1efour\x1efive";
    let ran = cli
        .run(&["-b", &b.bootstrap(), "-t", "hdr", "-p", "2", "-H", "app=kpc", "-H", "tab=a\\tb", "-H", "none", "-D", "\\x1e", "-c", "4"], input)
        .expect(0);
    assert_summary(&ran.out(), 4, 4, 0);
    let read = read_sorted(Reader::Confluent, &b, "hdr", 3, 4);
    assert_eq!(values(&read), vec![b"one\nline".to_vec(), b"two".to_vec(), b"three".to_vec(), b"four".to_vec()]);
    for r in &read {
        assert_eq!(r.partition, 2);
        assert_eq!(
            r.headers,
            vec![("app".to_string(), Some(b"kpc".to_vec())), ("tab".to_string(), Some(b"a\tb".to_vec())), ("none".to_string(), None)]
        );
    }
}

/// `-z` with each codec: what the reader gets back is what went in.
pub fn codecs(cli: Cli) {
    let b = Broker::start().unwrap();
    let input: Vec<u8> = (0..2000).flat_map(|i| format!("k{}\t{{\"n\":{i},\"text\":\"lorem ipsum dolor sit amet\"}}\n", i % 13).into_bytes()).collect();
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("z-{codec}");
        b.create_topic(&topic, 2).unwrap();
        let ran = cli.run(&["-b", &b.bootstrap(), "-t", &topic, "-K", "\\t", "-z", codec], &input).expect(0);
        assert_summary(&ran.out(), 2000, 2000, 0);
        let wire: u64 = ran.out().split("wire: ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
        if codec != "none" {
            assert!(wire * 2 < input.len() as u64, "{codec}: {wire} bytes on the wire for {} bytes of text", input.len());
        }
        let read = read_sorted(Reader::KafkaPython, &b, &topic, 2, 2000);
        let mut got: Vec<(Vec<u8>, Vec<u8>)> = read.iter().map(|r| (r.key.clone().unwrap(), r.value.clone().unwrap())).collect();
        got.sort();
        let mut want: Vec<(Vec<u8>, Vec<u8>)> = input
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let t = l.iter().position(|&c| c == b'\t').unwrap();
                (l[..t].to_vec(), l[t + 1..].to_vec())
            })
            .collect();
        want.sort();
        assert!(got == want, "{codec}: records differ");
    }
}

/// File arguments: each file one record, as is; with `-l` split at the
/// delimiter like stdin; `-` is stdin.
pub fn files(cli: Cli) {
    let b = broker_with("files", 1);
    let dir = scratch(&format!("{cli:?}"));
    let (f1, f2) = (dir.join("a.txt"), dir.join("b.bin"));
    std::fs::write(&f1, b"first\nsecond\n").unwrap();
    std::fs::write(&f2, b"\x00\x01\n\xff").unwrap();
    let (f1, f2) = (f1.to_str().unwrap(), f2.to_str().unwrap());
    let bs = b.bootstrap();
    let ran = cli.run_in(Some(&dir), &["-b", &bs, "-t", "files", f1, f2], b"").expect(0);
    assert_summary(&ran.out(), 2, 2, 0);
    let ran = cli.run_in(Some(&dir), &["-b", &bs, "-t", "files", "-l", f1, "-", f2], b"from stdin\n").expect(0);
    assert_summary(&ran.out(), 5, 5, 0);
    let read = read_sorted(Reader::KafkaPython, &b, "files", 1, 7);
    let want: Vec<&[u8]> = vec![b"first\nsecond\n", b"\x00\x01\n\xff", b"first", b"second", b"from stdin", b"\x00\x01", b"\xff"];
    assert_eq!(values(&read), want.iter().map(|v| v.to_vec()).collect::<Vec<_>>());
    let missing = dir.join("missing");
    let ran = cli.run_in(Some(&dir), &["-b", &bs, "-t", "files", missing.to_str().unwrap()], b"").expect(cli.usage_status());
    assert!(ran.stderr.contains("missing"), "{}", ran.stderr);
}

/// Bad usage and bad configuration: exit 2, naming the flag or key, and
/// nothing produced; `-h`: the help, exit 0.
pub fn usage(cli: Cli) {
    let name = match cli {
        Cli::Kcat => "kafka-kcat",
        Cli::Produce => "kafka-produce",
    };
    let ran = cli.run(&["-h"], b"").expect(0);
    assert!(ran.out().starts_with(&format!("usage: {name} ")), "{}", ran.out());
    for flag in ["-K DELIM", "-D DELIM", "-H NAME=VALUE", "-z CODEC", "-X PROP=VALUE", "-T", "-l", "-c N"] {
        assert!(ran.out().contains(flag), "the help lacks {flag}");
    }
    let b = "127.0.0.1:1";
    for (args, names) in [
        (vec!["-b", b, "--no-such-flag"], "--no-such-flag"),
        (vec!["-b", b, "-X", "acks"], "-X acks"),
        (vec!["-b", b, "-X", "no.such.property=1"], "no.such.property"),
        (vec!["-b", b, "-X", "acks=7"], "acks"),
        (vec!["-b", b, "-z", "brotli"], "-z brotli"),
        (vec!["-b", b, "-D", "\\q"], "-D"),
        (vec!["-b", b, "-X", "ssl.ca.location=/no/such/ca.pem"], "ssl.ca.location"),
    ] {
        let ran = cli.run(&args, b"x\n").expect(cli.usage_status());
        assert!(ran.stderr.contains(names), "{args:?}: {}", ran.stderr);
        assert!(!ran.out().contains("records:"), "{args:?} produced: {}", ran.out());
    }
}

/// An unreachable broker: the refused connect on stderr as it happens,
/// every record failed once at its delivery timeout, exit 1.
pub fn unreachable(cli: Cli) {
    let ran = cli
        .run(&["-b", "127.0.0.1:1", "-t", "gone", "-X", "request.timeout.ms=1000", "-X", "delivery.timeout.ms=1500"], b"a\nb\nc\n")
        .expect(1);
    assert_summary(&ran.out(), 3, 0, 3);
    assert!(ran.out().contains("error: gone["), "{}", ran.out());
    assert!(ran.out().contains("delivery.timeout.ms"), "{}", ran.out());
    assert!(ran.stderr.contains("127.0.0.1:1") && ran.stderr.to_lowercase().contains("refused"), "{}", ran.stderr);
    let ran = cli.run(&["-q", "-b", "127.0.0.1:1", "-X", "request.timeout.ms=1000", "-X", "delivery.timeout.ms=1500"], b"a\n").expect(1);
    assert!(ran.stderr.is_empty(), "-q printed: {}", ran.stderr);
}

/// A record the producer refuses (larger than `max.request.size`) fails
/// the run: exit 1, the others delivered, the refusal in the summary.
pub fn refused(cli: Cli) {
    let b = broker_with("big", 1);
    let mut input = vec![b'x'; 60_000];
    input.extend_from_slice(b"\nsmall\n");
    let ran = cli.run(&["-b", &b.bootstrap(), "-t", "big", "-X", "max.request.size=50000"], &input).expect(1);
    assert_summary(&ran.out(), 2, 1, 1);
    assert!(ran.out().contains("error: refused: "), "{}", ran.out());
    let read = read_sorted(Reader::KafkaPython, &b, "big", 1, 1);
    assert_eq!(values(&read), vec![b"small".to_vec()]);
}

/// Typed input: a record goes out when its line arrives, not at the end
/// of input. The reader gets the first line while stdin is still open.
pub fn typed_lines_go_out_at_once(cli: Cli) {
    let b = broker_with("typed", 1);
    let mut child = cli
        .command(None)
        .args(["-b", &b.bootstrap(), "-t", "typed"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"first\n").unwrap();
    input.flush().unwrap();
    let read = read_sorted(Reader::Confluent, &b, "typed", 1, 1);
    assert_eq!(values(&read), vec![b"first".to_vec()]);
    input.write_all(b"second\n").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_summary(&stdout, 2, 2, 0);
}

/// `-X statistics.interval.ms=100`: statistics JSON lines on stderr (with
/// `-q` too), the last, as the producer closes, counting exactly what
/// the reader finds: records in all and per partition, none failed or
/// queued, every request answered.
pub fn statistics(cli: Cli) {
    let b = broker_with("stats", 3);
    let n = 600;
    let input: String = (0..n).map(|i| format!("key-{i}:value-{i}\n")).collect();
    let ran = cli.run(&["-b", &b.bootstrap(), "-t", "stats", "-K", ":", "-q", "-X", "statistics.interval.ms=100"], input.as_bytes()).expect(0);
    assert_summary(&ran.out(), n, n, 0);
    let lines: Vec<serde_json::Value> = ran
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stderr line not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().unwrap_or_else(|| panic!("no statistics line: {}", ran.stderr));
    let num = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} is not a count: {v}"));
    assert_eq!(num(last, "txmsgs"), n as u64, "{last}");
    assert_eq!(num(last, "msgs"), n as u64);
    assert_eq!((num(last, "msgs_failed"), num(last, "msg_cnt"), num(last, "msg_size")), (0, 0, 0));
    let payload: usize = (0..n).map(|i| format!("key-{i}value-{i}").len()).sum();
    assert!(num(last, "txmsg_bytes") > payload as u64, "batches hold the keys and values and their framing");
    assert_eq!(num(last, "tx"), num(last, "rx"), "every request answered");
    assert_eq!(last["type"], "producer");
    let brokers = last["brokers"].as_object().expect("brokers");
    assert!(brokers.values().any(|b| b["nodeid"].as_i64() >= Some(0) && b["rtt"]["p99"].is_u64()), "{last}");
    // Per partition, what the reader found there.
    let read = read_sorted(Reader::KafkaPython, &b, "stats", 3, n);
    for p in 0..3 {
        let found = read.iter().filter(|r| r.partition == p).count() as u64;
        assert_eq!(num(&last["topics"]["stats"]["partitions"][p.to_string()], "txmsgs"), found, "partition {p}");
    }
    assert!(read.iter().all(|r| r.murmur2_partition == Some(r.partition)), "keyed records on Java's murmur2 partitions");
}

/// `-X transactional.id` with `--commit-every`: every line in a committed
/// transaction, read back in order; the control batch each commit writes
/// takes an offset, so a read_uncommitted reader (kafka-python) sees a
/// gap on a partition wherever a transaction that wrote to it ended and a
/// later one wrote on. Without a transactional id, `--commit-every` is
/// bad usage.
pub fn transactions(cli: Cli) {
    let b = broker_with("tx", 2);
    let lines: String = (0..1_000).map(|i| format!("line-{i:04}\n")).collect();
    let id = format!("cli-{cli:?}");
    let txn = format!("transactional.id={id}");
    let ran = cli.run(&["-b", &b.bootstrap(), "-t", "tx", "-X", &txn, "--commit-every", "100"], lines.as_bytes()).expect(0);
    assert_summary(&ran.out(), 1_000, 1_000, 0);
    assert!(ran.out().contains("transactions: 10 committed  0 aborted"), "{}", ran.out());
    let read = read_sorted(Reader::KafkaPython, &b, "tx", 2, 1_000);
    let mut expected_gaps = 0;
    for p in 0..2 {
        let mine: Vec<&ReadRecord> = read.iter().filter(|r| r.partition == p).collect();
        let txn_of = |r: &ReadRecord| String::from_utf8_lossy(&r.value.clone().unwrap_or_default())[5..].parse::<usize>().unwrap() / 100;
        let values: Vec<usize> = mine.iter().map(|r| txn_of(r) * 100).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "partition {p}: out of order");
        let mut txns: Vec<usize> = mine.iter().map(|r| txn_of(r)).collect();
        txns.dedup();
        expected_gaps += txns.len().saturating_sub(1);
        let gaps = mine.windows(2).filter(|w| w[1].offset != w[0].offset + 1).count();
        assert_eq!(gaps, txns.len().saturating_sub(1), "partition {p}: one control batch after each transaction's records");
    }
    assert!(expected_gaps > 0, "the transactions spread over the partitions");
    let ran = cli.run(&["-b", &b.bootstrap(), "--commit-every", "5"], b"x\n").expect(cli.usage_status());
    assert!(ran.stderr.contains("transactional.id"), "{}", ran.stderr);
}
