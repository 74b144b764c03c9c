//! examples/http-proxy built for wasm32-wasip2 and served by `wasmtime
//! serve` (a fresh instance per request): real HTTP requests in the REST
//! Proxy v2 produce format, the answer's offsets checked against where the
//! independent reader finds each record, and every bad request answered
//! with its status and a JSON error body while the server keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use host_tests::*;
use serde_json::{json, Value};

const BINARY: &str = "application/vnd.kafka.binary.v2+json";
const JSON: &str = "application/vnd.kafka.json.v2+json";

/// `wasmtime serve` with the plugin on a free loopback port.
struct Serve {
    child: Child,
    port: u16,
    /// Where wasmtime serve's stderr goes (the plugin's warnings, traps).
    log: std::path::PathBuf,
}

impl Serve {
    fn start(env: &[(&str, &str)]) -> Serve {
        Serve::start_reading(env, None)
    }

    /// As `start`, letting the plugin read `dir` (WASI preopen).
    fn start_reading(env: &[(&str, &str)], dir: Option<&std::path::Path>) -> Serve {
        let wasmtime = std::env::var("KPC_WASMTIME").unwrap_or_else(|_| "wasmtime".into());
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
        let wasm = format!("{target}/http-proxy/wasm32-wasip2/release/kafka_http_proxy.wasm");
        assert!(std::path::Path::new(&wasm).exists(), "{wasm} is missing (run scripts/build.sh)");
        let port = free_port().unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut args: Vec<String> = ["serve", "-S", "cli=y", "-S", "inherit-network=y", "--addr", &addr].iter().map(|s| s.to_string()).collect();
        for (k, v) in env {
            args.push("--env".into());
            args.push(format!("{k}={v}"));
        }
        if let Some(dir) = dir {
            args.push("--dir".into());
            args.push(dir.display().to_string());
        }
        args.push(wasm);
        let log = std::env::temp_dir().join(format!("kpc-http-proxy-{}-{port}.log", std::process::id()));
        let stderr = std::fs::File::create(&log).unwrap();
        let child = Command::new(&wasmtime)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the wasmtime CLI (run scripts/setup.sh)");
        let serve = Serve { child, port, log };
        // It listens once the component is compiled.
        let until = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "wasmtime serve did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        serve
    }

    /// Sends one request (body with Content-Length, or chunked); returns
    /// the status and the JSON body.
    fn request(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8], chunked: bool) -> (u16, Value) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        let mut req = Vec::new();
        if chunked {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            req.extend_from_slice(head.as_bytes());
            for c in body.chunks(1000) {
                req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                req.extend_from_slice(c);
                req.extend_from_slice(b"\r\n");
            }
            req.extend_from_slice(b"0\r\n\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            req.extend_from_slice(head.as_bytes());
            req.extend_from_slice(body);
        }
        // The server may answer (413) before reading all of a large body.
        let _ = s.write_all(&req);
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let text = String::from_utf8(answer).expect("a UTF-8 answer");
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status line: {head}"));
        assert!(head.to_ascii_lowercase().contains("content-type: application/vnd.kafka.v2+json"), "{head}");
        let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
        (status, json)
    }

    fn post(&self, topic: &str, content_type: &str, body: &Value) -> (u16, Value) {
        self.request("POST", &format!("/topics/{topic}"), Some(content_type), body.to_string().as_bytes(), false)
    }
}

impl Serve {
    /// Fails if the plugin trapped or panicked in any request so far.
    fn assert_no_trap(&self) {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        for sign in ["panicked", "wasm trap", "error while executing"] {
            assert!(!log.contains(sign), "wasmtime serve logged {sign:?}:\n{log}");
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The (partition, offset) of each entry of a 200 answer; `None` for an
/// entry carrying an error (checked to have one).
fn offsets(answer: &Value, n: usize) -> Vec<Option<(i32, i64)>> {
    assert_eq!(answer["key_schema_id"], Value::Null);
    assert_eq!(answer["value_schema_id"], Value::Null);
    let offsets = answer["offsets"].as_array().expect("offsets");
    assert_eq!(offsets.len(), n, "{answer}");
    offsets
        .iter()
        .map(|o| match o["error_code"].as_i64() {
            None => {
                assert_eq!(o["error"], Value::Null, "{o}");
                Some((o["partition"].as_i64().expect("partition") as i32, o["offset"].as_i64().expect("offset")))
            }
            Some(code) => {
                assert!(code == 1 || code == 2, "{o}");
                assert!(!o["error"].as_str().expect("error").is_empty(), "{o}");
                assert_eq!(o["offset"], Value::Null, "{o}");
                None
            }
        })
        .collect()
}

/// What a record should be stored as: key, value, explicit partition.
type Want = (Option<Vec<u8>>, Option<Vec<u8>>, Option<i32>);

/// Each stored record is where the answer said, byte-exact; keyed records
/// without an explicit partition are where Java's murmur2 puts them; and
/// nothing else is in the topic.
fn check_read_back(read: &[ReadRecord], want: &[Want], placed: &[Option<(i32, i64)>]) {
    let stored = placed.iter().filter(|p| p.is_some()).count();
    assert_eq!(read.len(), stored, "the reader found {} records, the answer placed {stored}", read.len());
    for (i, ((key, value, partition), at)) in want.iter().zip(placed).enumerate() {
        let Some((p, o)) = at else { continue };
        let r = read.iter().find(|r| r.partition == *p && r.offset == *o).unwrap_or_else(|| panic!("record {i}: nothing at {p}/{o}"));
        assert_eq!(&r.key, key, "record {i}: key");
        assert_eq!(&r.value, value, "record {i}: value");
        match (partition, key) {
            (Some(explicit), _) => assert_eq!(p, explicit, "record {i}: explicit partition"),
            (None, Some(_)) => assert_eq!(r.murmur2_partition, Some(*p), "record {i}: murmur2"),
            (None, None) => {}
        }
    }
}

#[test]
fn binary_records_land_at_the_offsets_the_answer_gives() {
    let broker = Broker::start().unwrap();
    broker.create_topic("bin", 3).unwrap();
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", &broker.bootstrap())]);
    let mut want: Vec<Want> = Vec::new();
    let mut placed = Vec::new();
    // Two requests: the second's offsets follow the first's.
    for round in 0..2 {
        let batch: Vec<Want> = (0..300)
            .map(|i| {
                let key = match i % 4 {
                    0 => None,
                    _ => Some(format!("user-{}", i % 37).into_bytes()),
                };
                let value = match i % 10 {
                    0 => None,
                    1 => Some(Vec::new()),
                    // Up to 2 KB: several batches (batch.size 16 KB) per partition.
                    _ => Some((0..(i * 13 % 2000) as u32 + round).map(|b| (b * 7) as u8).collect()),
                };
                let partition = (i % 5 == 0).then_some((i % 3) as i32);
                (key, value, partition)
            })
            .collect();
        let records: Vec<Value> = batch
            .iter()
            .map(|(k, v, p)| {
                let mut r = json!({ "key": k.as_deref().map(b64), "value": v.as_deref().map(b64) });
                if let Some(p) = p {
                    r["partition"] = json!(p);
                }
                r
            })
            .collect();
        let (status, answer) = serve.post("bin", BINARY, &json!({ "records": records }));
        assert_eq!(status, 200, "{answer}");
        let got = offsets(&answer, batch.len());
        assert!(got.iter().all(Option::is_some), "{answer}");
        placed.extend(got);
        want.extend(batch);
    }
    // Per partition, request order is offset order.
    for p in 0..3 {
        let mine: Vec<i64> = placed.iter().flatten().filter(|(q, _)| *q == p).map(|(_, o)| *o).collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "partition {p}: {mine:?}");
    }
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "bin", 3, want.len()).unwrap();
    check_read_back(&read, &want, &placed);
    serve.assert_no_trap();
}

#[test]
fn json_records_are_stored_as_their_json_text() {
    let broker = Broker::start().unwrap();
    broker.create_topic("json", 2).unwrap();
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", &broker.bootstrap()), ("KAFKA_ACKS", "all"), ("KAFKA_LINGER_MS", "0")]);
    // The body as text, so the stored bytes are exactly the JSON sent.
    let values = [r#"{"id":1,"tags":["a","b"],"ok":true}"#, r#""caf\u00e9 \"q\"""#, "12.5", "[1,2,3]", "null", "false"];
    let keys = [r#""k1""#, "null", "7", r#"{"user":"x"}"#, r#""k1""#, r#""k2""#];
    let mut body = String::from(r#"{"records":["#);
    let mut want: Vec<Want> = Vec::new();
    for i in 0..600 {
        let (k, v) = (keys[i % keys.len()], values[i % values.len()]);
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"key":{k},"value":{v}}}"#));
        let stored = |t: &str| (t != "null").then(|| t.as_bytes().to_vec());
        want.push((stored(k), stored(v), None));
    }
    body.push_str("]}");
    let (status, answer) = serve.request("POST", "/topics/json", Some(JSON), body.as_bytes(), false);
    assert_eq!(status, 200, "{answer}");
    let placed = offsets(&answer, want.len());
    assert!(placed.iter().all(Option::is_some), "{answer}");
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "json", 2, want.len()).unwrap();
    check_read_back(&read, &want, &placed);
}

#[test]
fn a_partition_that_does_not_exist_fails_only_its_record() {
    let broker = Broker::start().unwrap();
    broker.create_topic("parts", 2).unwrap();
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", &broker.bootstrap())]);
    let records = json!([
        { "value": b64(b"first"), "partition": 1 },
        { "value": b64(b"nowhere"), "partition": 9 },
        { "key": b64(b"k"), "value": b64(b"third") },
    ]);
    let (status, answer) = serve.post("parts", BINARY, &json!({ "records": records }));
    assert_eq!(status, 200, "{answer}");
    let placed = offsets(&answer, 3);
    assert!(placed[0].is_some() && placed[1].is_none() && placed[2].is_some(), "{answer}");
    assert_eq!(answer["offsets"][1]["error_code"], 1, "{answer}");
    assert!(answer["offsets"][1]["error"].as_str().unwrap().contains('9'), "{answer}");
    let want: Vec<Want> = vec![
        (None, Some(b"first".to_vec()), Some(1)),
        (None, Some(b"nowhere".to_vec()), Some(9)),
        (Some(b"k".to_vec()), Some(b"third".to_vec()), None),
    ];
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), "parts", 2, 2).unwrap();
    check_read_back(&read, &want, &placed);
}

fn assert_error(answer: &(u16, Value), status: u16, error_code: i64) {
    let (s, body) = answer;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["error_code"], error_code, "{body}");
    assert!(!body["message"].as_str().expect("message").is_empty(), "{body}");
}

#[test]
fn bad_requests_get_the_proxys_status_and_a_json_error_and_the_server_keeps_serving() {
    let broker = Broker::start().unwrap();
    broker.create_topic("ok", 1).unwrap();
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", &broker.bootstrap()), ("HTTP_MAX_BODY_BYTES", "10000")]);
    let good = json!({ "records": [{ "value": b64(b"fine") }] }).to_string();
    // Malformed JSON: 400; JSON of the wrong shape or a bad base64: 422.
    assert_error(&serve.request("POST", "/topics/ok", Some(BINARY), br#"{"records":[{"value":"aGk="}"#, false), 400, 400);
    assert_error(&serve.request("POST", "/topics/ok", Some(JSON), b"", false), 400, 400);
    assert_error(&serve.request("POST", "/topics/ok", Some(BINARY), br#"{"records":{"value":1}}"#, false), 422, 422);
    assert_error(&serve.request("POST", "/topics/ok", Some(BINARY), br#"{"records":[{"value":"not base64!"}]}"#, false), 422, 422);
    // A content type that is not a v2 embedded format we take: 415.
    for ct in [Some("application/json"), Some("application/vnd.kafka.avro.v2+json"), None] {
        assert_error(&serve.request("POST", "/topics/ok", ct, good.as_bytes(), false), 415, 415);
    }
    // A name Kafka refuses cannot be a topic: 404 40401.
    let long = "t".repeat(250);
    for topic in ["..", ".", "bad%20name", "a:b", long.as_str()] {
        assert_error(&serve.request("POST", &format!("/topics/{topic}"), Some(BINARY), good.as_bytes(), false), 404, 40401);
    }
    // Over HTTP_MAX_BODY_BYTES, declared or chunked: 413.
    let big = json!({ "records": [{ "value": b64(&[7u8; 12_000]) }] }).to_string();
    assert_error(&serve.request("POST", "/topics/ok", Some(BINARY), big.as_bytes(), false), 413, 413);
    assert_error(&serve.request("POST", "/topics/ok", Some(BINARY), big.as_bytes(), true), 413, 413);
    // Another method, another path.
    assert_error(&serve.request("GET", "/topics/ok", None, b"", false), 405, 405);
    assert_error(&serve.request("PUT", "/topics/ok", Some(BINARY), good.as_bytes(), false), 405, 405);
    assert_error(&serve.request("POST", "/consumers/group", Some(BINARY), good.as_bytes(), false), 404, 404);
    assert_error(&serve.request("POST", "/topics/ok/partitions/0", Some(BINARY), good.as_bytes(), false), 404, 404);
    // No records: nothing to wait for.
    let (status, answer) = serve.post("ok", BINARY, &json!({ "records": [] }));
    assert_eq!((status, answer), (200, json!({ "offsets": [], "key_schema_id": null, "value_schema_id": null })));
    // Still serving: a good request, chunked, to a percent-encoded name, is stored.
    let (status, answer) = serve.request("POST", "/topics/%6Fk", Some(BINARY), good.as_bytes(), true);
    assert_eq!(status, 200, "{answer}");
    let placed = offsets(&answer, 1);
    let read = read_back(Reader::Confluent, &broker.bootstrap(), "ok", 1, 1).unwrap();
    check_read_back(&read, &[(None, Some(b"fine".to_vec()), None)], &placed);
    serve.assert_no_trap();
}

#[test]
fn a_bad_property_is_a_500_naming_it() {
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9"), ("KAFKA_ACKS", "sometimes")]);
    let answer = serve.post("t", BINARY, &json!({ "records": [{ "value": b64(b"x") }] }));
    assert_error(&answer, 500, 500);
    let message = answer.1["message"].as_str().unwrap();
    assert!(message.contains("acks") && message.contains("KAFKA_ACKS"), "{message}");
    let serve = Serve::start(&[("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9"), ("KAFKA_NO_SUCH_SETTING", "1")]);
    let answer = serve.post("t", BINARY, &json!({ "records": [{ "value": b64(b"x") }] }));
    assert_error(&answer, 500, 500);
    assert!(answer.1["message"].as_str().unwrap().contains("no.such.setting"), "{}", answer.1);
    let serve = Serve::start(&[("KAFKA_LINGER_MS", "0")]);
    let answer = serve.post("t", BINARY, &json!({ "records": [{ "value": b64(b"x") }] }));
    assert_error(&answer, 500, 500);
    assert!(answer.1["message"].as_str().unwrap().contains("bootstrap.servers"), "{}", answer.1);
}

#[test]
fn an_unreachable_broker_fails_each_record_in_the_answer() {
    // Nothing listens there.
    let bootstrap = format!("127.0.0.1:{}", free_port().unwrap());
    let serve = Serve::start(&[
        ("KAFKA_BOOTSTRAP_SERVERS", &bootstrap),
        ("KAFKA_DELIVERY_TIMEOUT_MS", "1500"),
        ("KAFKA_REQUEST_TIMEOUT_MS", "1000"),
    ]);
    let (status, answer) = serve.post("t", JSON, &json!({ "records": [{ "value": {"a": 1} }, { "key": "k", "value": 2 }] }));
    assert_eq!(status, 200, "{answer}");
    let placed = offsets(&answer, 2);
    assert!(placed.iter().all(Option::is_none), "{answer}");
    for o in answer["offsets"].as_array().unwrap() {
        // Timed out: sending again may succeed.
        assert_eq!(o["error_code"], 2, "{answer}");
    }
}

#[test]
fn produces_over_tls_reading_the_ca_file_through_wasi() {
    let ca = host_tests::tls::Ca::new("kpc test CA");
    let (_broker, front) = host_tests::tls::secure_cluster(&ca, &["127.0.0.1"], "secure", 2);
    let ca_file = ca.pem_file();
    let bootstrap = format!("127.0.0.1:{}", front.port);
    let location = ca_file.display().to_string();
    let serve = Serve::start_reading(
        &[("KAFKA_BOOTSTRAP_SERVERS", &bootstrap), ("KAFKA_SECURITY_PROTOCOL", "SSL"), ("KAFKA_SSL_CA_LOCATION", &location)],
        Some(&std::env::temp_dir()),
    );
    let want: Vec<Want> = (0..20).map(|i| (Some(format!("k{i}").into_bytes()), Some(format!("secret {i}").into_bytes()), None)).collect();
    let records: Vec<Value> = want.iter().map(|(k, v, _)| json!({ "key": b64(k.as_deref().unwrap()), "value": b64(v.as_deref().unwrap()) })).collect();
    let (status, answer) = serve.post("secure", BINARY, &json!({ "records": records }));
    assert_eq!(status, 200, "{answer}");
    let placed = offsets(&answer, want.len());
    assert!(placed.iter().all(Option::is_some), "{answer}");
    assert!(front.handshakes.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let read = read_back_secure(Reader::Confluent, &bootstrap, "secure", 2, want.len(), None, Some((&ca_file, true))).unwrap();
    check_read_back(&read, &want, &placed);
    serve.assert_no_trap();
}
