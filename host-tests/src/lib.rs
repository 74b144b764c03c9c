//! Helpers for the host tests: load the engine component once, produce
//! through it, read back with an independent client (`reader.py`:
//! kafka-python or confluent-kafka), and check everything a user relies on.

pub mod cli;
pub mod client_world;
pub mod fake;
pub mod gateway;
pub mod proxy;
pub mod tls;

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
pub use gateway::{sasl_gateway, sasl_gateway_with_token, Gateway};
pub use kafka_producer_host::broker::{free_port, Broker};
pub use kafka_producer_host::{now_ms, Client, DeliveryReport, ErrorKind, Header, KafkaRecord, ProduceError, Runtime, TxnCall};

/// The component, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::load_default().expect("load the engine component (run scripts/test.sh)"))
}

/// A producer client, panicking on a config the test did not mean to be bad.
pub fn client(config: &[(&str, &str)]) -> Client {
    match Client::new(runtime(), config).expect("instantiate") {
        Ok(c) => c,
        Err(e) => panic!("config refused: {e}"),
    }
}

/// Which independent client reads the topic back.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    KafkaPython,
    Confluent,
}

/// One record as the independent reader saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub timestamp: i64,
    /// kafka-python's murmur2 partition for the key.
    pub murmur2_partition: Option<i32>,
}

fn unhex(v: &serde_json::Value) -> Result<Option<Vec<u8>>> {
    let Some(s) = v.as_str() else { return Ok(None) };
    ensure!(s.len() % 2 == 0, "odd hex");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).context("hex")).collect::<Result<Vec<u8>>>().map(Some)
}

/// Reads up to `expect` records of `topic` from the beginning.
pub fn read_back(reader: Reader, bootstrap: &str, topic: &str, partitions: u32, expect: usize) -> Result<Vec<ReadRecord>> {
    read_back_secure(reader, bootstrap, topic, partitions, expect, None, None)
}

/// As `read_back`, authenticating with SASL when `sasl` is given
/// (mechanism, user, password; confluent-kafka only), over TLS when `tls`
/// is given (the CA file to trust, whether to check the broker's name).
pub fn read_back_secure(
    reader: Reader,
    bootstrap: &str,
    topic: &str,
    partitions: u32,
    expect: usize,
    sasl: Option<(&str, &str, &str)>,
    tls: Option<(&std::path::Path, bool)>,
) -> Result<Vec<ReadRecord>> {
    read_back_as(reader, bootstrap, topic, partitions, expect, sasl, tls, None)
}

/// As [`read_back_secure`], the reader presenting a client certificate
/// (certificate file, key file) to a broker that requires one.
#[allow(clippy::too_many_arguments)]
pub fn read_back_as(
    reader: Reader,
    bootstrap: &str,
    topic: &str,
    partitions: u32,
    expect: usize,
    sasl: Option<(&str, &str, &str)>,
    tls: Option<(&std::path::Path, bool)>,
    client_cert: Option<(&std::path::Path, &std::path::Path)>,
) -> Result<Vec<ReadRecord>> {
    let python = std::env::var("KPC_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/reader.py");
    let which = match reader {
        Reader::KafkaPython => "kafka-python",
        Reader::Confluent => "confluent",
    };
    let mut cmd = Command::new(&python);
    cmd.args([script, which, bootstrap, topic, &partitions.to_string(), &expect.to_string(), "10"]);
    if let Some((mechanism, user, password)) = sasl {
        cmd.env("READER_SASL_MECHANISM", mechanism).env("READER_SASL_USERNAME", user).env("READER_SASL_PASSWORD", password);
    }
    if let Some((ca, check_hostname)) = tls {
        cmd.env("READER_SSL_CAFILE", ca);
        if !check_hostname {
            cmd.env("READER_SSL_NO_HOSTNAME_CHECK", "1");
        }
    }
    if let Some((cert, key)) = client_cert {
        cmd.env("READER_SSL_CERTFILE", cert).env("READER_SSL_KEYFILE", key);
    }
    let out = cmd
        .output()
        .with_context(|| format!("running {python} {script} (run scripts/setup.sh)"))?;
    if !out.status.success() {
        bail!("reader failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut recs = Vec::new();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let j: serde_json::Value = serde_json::from_slice(line)?;
        let headers = j["h"]
            .as_array()
            .context("headers")?
            .iter()
            .map(|h| Ok((h[0].as_str().context("header key")?.to_string(), unhex(&h[1])?)))
            .collect::<Result<Vec<_>>>()?;
        recs.push(ReadRecord {
            partition: j["p"].as_i64().context("p")? as i32,
            offset: j["o"].as_i64().context("o")?,
            key: unhex(&j["k"])?,
            value: unhex(&j["v"])?,
            headers,
            timestamp: j["ts"].as_i64().context("ts")?,
            murmur2_partition: j["m2"].as_i64().map(|p| p as i32),
        });
    }
    Ok(recs)
}

/// What a test sent, with the ids the producer gave each record.
pub struct Produced {
    pub records: Vec<KafkaRecord>,
    pub ids: Vec<u64>,
    pub reports: Vec<DeliveryReport>,
    /// Clock bounds of the sends, for records stamped by the producer.
    pub sent_from_ms: u64,
    pub sent_to_ms: u64,
}

/// Sends `records` to `topic` in chunks of `chunk` per call, then flushes
/// and waits for every delivery report.
pub fn produce_all(client: &mut Client, topic: &str, records: Vec<KafkaRecord>, chunk: usize) -> Result<Produced> {
    let sent_from_ms = now_ms();
    let mut ids = Vec::with_capacity(records.len());
    let mut reports = Vec::new();
    for part in records.chunks(chunk) {
        let sent = client.send_all(topic, part, Duration::from_secs(60))?;
        ensure!(sent.rejected.is_empty(), "rejected: {:?}", sent.rejected.first());
        ids.extend(sent.ids);
        reports.extend(sent.reports);
        reports.extend(client.step_now()?);
    }
    let sent_to_ms = now_ms();
    reports.extend(client.flush_and_wait(Duration::from_secs(120))?);
    Ok(Produced { records, ids, reports, sent_from_ms, sent_to_ms })
}

/// Checks that every record was delivered exactly once, byte-exact, in
/// send order per partition, at the offsets its delivery report gave, in
/// the partition Java's murmur2 gives its key (unless explicit). Returns
/// how many records were reported delivered with an unknown offset (-1):
/// a broker may answer a retry it recognised as a duplicate that way.
pub fn verify(p: &Produced, read: &[ReadRecord], offsets_known: bool) -> Result<usize> {
    let mut unknown_offsets = 0;
    // Exactly one successful report per record.
    let mut placed: HashMap<u64, (i32, i64)> = HashMap::new();
    for r in &p.reports {
        ensure!(r.error.is_none(), "delivery failed: {:?}", r.error);
        for (i, id) in r.records.iter().enumerate() {
            let offset = if offsets_known && r.base_offset >= 0 { r.base_offset + i as i64 } else { -1 };
            ensure!(placed.insert(*id, (r.partition, offset)).is_none(), "record {id} reported twice");
        }
    }
    ensure!(placed.len() == p.ids.len(), "{} reports for {} records", placed.len(), p.ids.len());
    ensure!(read.len() == p.records.len(), "reader saw {} records, {} were sent", read.len(), p.records.len());

    // What each partition should hold, in send order.
    let mut want: BTreeMap<i32, Vec<(usize, i64)>> = BTreeMap::new();
    for (i, id) in p.ids.iter().enumerate() {
        let (partition, offset) = *placed.get(id).with_context(|| format!("record {id} has no report"))?;
        want.entry(partition).or_default().push((i, offset));
    }
    let mut got: BTreeMap<i32, Vec<&ReadRecord>> = BTreeMap::new();
    for r in read {
        got.entry(r.partition).or_default().push(r);
    }
    for (partition, sent) in &want {
        let mut seen = got.remove(partition).unwrap_or_default();
        seen.sort_by_key(|r| r.offset);
        ensure!(seen.windows(2).all(|w| w[0].offset < w[1].offset), "partition {partition}: an offset read twice");
        ensure!(seen.len() == sent.len(), "partition {partition}: read {} records, sent {}", seen.len(), sent.len());
        for ((i, offset), r) in sent.iter().zip(&seen) {
            let s = &p.records[*i];
            let at = format!("record {i} (partition {partition}, offset {})", r.offset);
            if offsets_known && *offset < 0 {
                unknown_offsets += 1;
            } else if offsets_known {
                ensure!(r.offset == *offset, "{at}: reported offset {offset}");
            }
            ensure!(r.key == s.key, "{at}: key differs");
            ensure!(r.value == s.value, "{at}: value differs (len {:?} vs {:?})", r.value.as_ref().map(Vec::len), s.value.as_ref().map(Vec::len));
            let hs: Vec<(String, Option<Vec<u8>>)> = s.headers.iter().map(|h| (h.key.clone(), h.value.clone())).collect();
            ensure!(r.headers == hs, "{at}: headers differ: {:?} vs {:?}", r.headers, hs);
            match s.timestamp {
                Some(ts) => ensure!(r.timestamp == ts, "{at}: timestamp {} != {ts}", r.timestamp),
                None => ensure!(
                    (p.sent_from_ms as i64..=p.sent_to_ms as i64).contains(&r.timestamp),
                    "{at}: timestamp {} outside the send window",
                    r.timestamp
                ),
            }
            match (s.partition, &s.key) {
                (Some(explicit), _) => ensure!(*partition == explicit, "{at}: sent to partition {explicit}"),
                (None, Some(_)) => ensure!(r.murmur2_partition == Some(*partition), "{at}: Java's murmur2 says {:?}", r.murmur2_partition),
                (None, None) => {}
            }
        }
    }
    ensure!(got.is_empty(), "records in unexpected partitions: {:?}", got.keys().collect::<Vec<_>>());
    Ok(unknown_offsets)
}

/// A keyed record with a value.
/// Records exercising what the wire format must carry: keys (murmur2),
/// null keys (sticky), null and empty values, headers with null values,
/// explicit CreateTime timestamps.
pub fn mixed_records(n: usize) -> Vec<KafkaRecord> {
    (0..n)
        .map(|i| {
            let key = match i % 5 {
                0 => None,
                1 => Some(Vec::new()),
                _ => Some(format!("user-{}", i % 97).into_bytes()),
            };
            let value = match i % 7 {
                0 => None,
                1 => Some(Vec::new()),
                _ => Some(format!("value-{i}-{}", "x".repeat(i % 50)).into_bytes()),
            };
            let headers = match i % 3 {
                0 => Vec::new(),
                1 => vec![Header { key: "trace".into(), value: Some(format!("t{i}").into_bytes()) }],
                _ => vec![Header { key: "a".into(), value: None }, Header { key: "ü-ñ".into(), value: Some(vec![0, 255, 10]) }],
            };
            let timestamp = (i % 4 == 0).then_some(1_600_000_000_000 + i as i64);
            KafkaRecord { key, value, headers, partition: None, timestamp }
        })
        .collect()
}

pub fn keyed(key: &[u8], value: &[u8]) -> KafkaRecord {
    KafkaRecord { key: Some(key.to_vec()), value: Some(value.to_vec()), headers: Vec::new(), partition: None, timestamp: None }
}

/// Checks records a host produced from lines `key-{i % 97}<TAB>value-{i}`,
/// i in 0..n (hosts that report only counts, such as the Node and wasmtime
/// CLI examples): each record once, its key, Java murmur2's partition, and
/// send order within each partition.
pub fn verify_numbered(read: &[ReadRecord], n: usize) -> Result<()> {
    ensure!(read.len() == n, "read {} records, sent {n}", read.len());
    let mut seen = vec![false; n];
    let mut sorted: Vec<&ReadRecord> = read.iter().collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut last: BTreeMap<i32, usize> = BTreeMap::new();
    for r in sorted {
        let v = String::from_utf8(r.value.clone().unwrap_or_default())?;
        let i: usize = v.strip_prefix("value-").context("value")?.parse()?;
        ensure!(i < n && !std::mem::replace(&mut seen[i], true), "record {i} twice or unknown");
        ensure!(r.key.as_deref() == Some(format!("key-{}", i % 97).as_bytes()), "record {i}: key");
        ensure!(r.murmur2_partition == Some(r.partition), "record {i}: not in Java murmur2's partition");
        if let Some(prev) = last.insert(r.partition, i) {
            ensure!(prev < i, "partition {}: record {i} after {prev}", r.partition);
        }
    }
    Ok(())
}
