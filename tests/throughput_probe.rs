//! A measurement, not a test (ignored by default): the producer core's own
//! CPU time for N records (100-byte values, or PROBE_VALUE_BYTES; 64
//! keys, 6 partitions, linger.ms=5, every record's report drained)
//! against an instant fake broker, counting only the time
//! spent inside `Producer` calls (the broker's decoding and encoding with
//! kafka-protocol is left out). For before/after comparisons of changes
//! to the core:
//!
//!   PROBE_N=5000000 PROBE_IDEMPOTENT=true cargo test --profile host \
//!       -p kafka-producer-component --test throughput_probe -- --ignored --nocapture
//!
//! `bash scripts/bench_core.sh` runs it for 100 B and 1 KB values.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_producer_component::{Config, Output, Producer, Record};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::{MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, InitProducerIdResponse, MetadataResponse, ProduceRequest, ProduceResponse, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

fn frame<T: Encodable>(key: ApiKey, v: i16, cid: i32, body: &T) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i32(0);
    ResponseHeader::default().with_correlation_id(cid).encode(&mut b, key.response_header_version(v)).unwrap();
    body.encode(&mut b, v).unwrap();
    let size = (b.len() - 4) as i32;
    b[..4].copy_from_slice(&size.to_be_bytes());
    b.to_vec()
}

struct Broker {
    inbuf: std::collections::HashMap<u32, Vec<u8>>,
    offsets: std::collections::HashMap<i32, i64>,
    out: VecDeque<(u32, Vec<u8>)>,
}

impl Broker {
    fn receive(&mut self, conn: u32, data: &[u8]) {
        let buf = self.inbuf.entry(conn).or_default();
        buf.extend_from_slice(data);
        let mut frames = Vec::new();
        loop {
            if buf.len() < 4 {
                break;
            }
            let n = i32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
            if buf.len() < 4 + n {
                break;
            }
            frames.push(buf[4..4 + n].to_vec());
            buf.drain(..4 + n);
        }
        for f in frames {
            self.answer(conn, f);
        }
    }

    fn answer(&mut self, conn: u32, f: Vec<u8>) {
        let key = i16::from_be_bytes([f[0], f[1]]);
        let v = i16::from_be_bytes([f[2], f[3]]);
        let cid = i32::from_be_bytes([f[4], f[5], f[6], f[7]]);
        let api = ApiKey::try_from(key).unwrap();
        let resp = match api {
            ApiKey::ApiVersions => {
                let keys = [(0i16, 3i16, 9i16), (3, 4, 9), (18, 0, 3), (22, 0, 4)];
                let r = ApiVersionsResponse::default().with_api_keys(
                    keys.into_iter().map(|(k, min, max)| ApiVersion::default().with_api_key(k).with_min_version(min).with_max_version(max)).collect(),
                );
                frame(api, v, cid, &r)
            }
            ApiKey::Metadata => {
                let broker = MetadataResponseBroker::default().with_node_id(0.into()).with_host("b".into()).with_port(9092);
                let parts = (0..6).map(|p| MetadataResponsePartition::default().with_partition_index(p).with_leader_id(0.into())).collect();
                let topic = MetadataResponseTopic::default().with_name(Some(TopicName(StrBytes::from_static_str("t")))).with_partitions(parts);
                frame(api, v, cid, &MetadataResponse::default().with_brokers(vec![broker]).with_topics(vec![topic]))
            }
            ApiKey::InitProducerId => frame(api, v, cid, &InitProducerIdResponse::default().with_producer_id(1.into()).with_producer_epoch(0)),
            ApiKey::Produce => {
                let mut body = Bytes::from(f);
                let hv = api.request_header_version(v);
                let _ = kafka_protocol::messages::RequestHeader::decode(&mut body, hv).unwrap();
                let req = ProduceRequest::decode(&mut body, v).unwrap();
                let mut topics = Vec::new();
                for t in &req.topic_data {
                    let mut parts = Vec::new();
                    for p in &t.partition_data {
                        let records = p.records.as_ref().map_or(0, |r| {
                            let mut r = r.clone();
                            r.advance(57);
                            r.get_i32() as i64
                        });
                        let o = self.offsets.entry(p.index).or_default();
                        parts.push(PartitionProduceResponse::default().with_index(p.index).with_base_offset(*o));
                        *o += records;
                    }
                    topics.push(TopicProduceResponse::default().with_name(t.name.clone()).with_partition_responses(parts));
                }
                frame(api, v, cid, &ProduceResponse::default().with_responses(topics))
            }
            other => panic!("{other:?}"),
        };
        self.out.push_back((conn, resp));
    }
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn throughput_probe() {
    let n: u64 = std::env::var("PROBE_N").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let idempotent = std::env::var("PROBE_IDEMPOTENT").map_or("true".to_string(), |s| s);
    let value_bytes: usize = std::env::var("PROBE_VALUE_BYTES").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let config =
        Config::from_pairs([("bootstrap.servers", "b:9092"), ("linger.ms", "5"), ("enable.idempotence", idempotent.as_str())]).unwrap();
    let mut now = 1_000_000u64;
    let mut in_producer = Duration::ZERO;
    let timed = |d: &mut Duration, f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        *d += t.elapsed();
    };
    let mut p = Producer::new(config, now);
    let mut broker = Broker { inbuf: Default::default(), offsets: Default::default(), out: VecDeque::new() };
    let value = vec![7u8; value_bytes];
    let (mut sent, mut reported) = (0u64, 0u64);
    let start = Instant::now();
    while reported < n {
        if sent < n {
            let k = 10_000.min(n - sent);
            timed(&mut in_producer, &mut || {
                for i in 0..k {
                    let key = ((sent + i) % 64).to_le_bytes();
                    if p.send("t", &Record { key: Some(&key), value: Some(&value), ..Default::default() }, now).is_err() {
                        break;
                    }
                }
            });
            sent = p.next_record_id();
        }
        let mut moved = true;
        while moved {
            moved = false;
            let mut outs = Vec::new();
            timed(&mut in_producer, &mut || {
                while let Some(o) = p.poll(now) {
                    outs.push(o);
                }
            });
            for o in outs {
                moved = true;
                match o {
                    Output::Connect { conn, .. } => timed(&mut in_producer, &mut || p.handle_connected(conn, now)),
                    Output::Transmit { conn, data } => broker.receive(conn, &data),
                    Output::Report(r) => {
                        assert!(r.error.is_none(), "{r:?}");
                        reported += r.records.len() as u64;
                    }
                    Output::Close { .. } | Output::Warning(_) | Output::Statistics(_) | Output::Transaction(_) => {}
                }
            }
            while let Some((conn, bytes)) = broker.out.pop_front() {
                moved = true;
                timed(&mut in_producer, &mut || p.handle_received(conn, &bytes, now));
            }
        }
        if let Some(t) = p.poll_timeout() {
            now = now.max(t);
            p.handle_timeout(now);
        } else {
            now += 1;
        }
    }
    let total = start.elapsed();
    let secs = in_producer.as_secs_f64();
    println!(
        "PROBE n={n} value={value_bytes} B idempotent={idempotent}: producer {secs:.3} s ({:.0} records/s, {:.0} MB/s of values, of producer time), total {:.3} s",
        n as f64 / secs,
        (n as f64 * value_bytes as f64) / secs / 1e6,
        total.as_secs_f64()
    );
}
