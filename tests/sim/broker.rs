//! What a simulated broker does with each request. Requests are decoded,
//! and responses encoded, by the `kafka-protocol` crate, an implementation
//! of the message schemas that is not ours: every request the producer
//! sends must decode completely and re-encode to the very same bytes, so
//! our `wire`/`request` encoding is checked against the schemas on every
//! simulated request, and our response decoders read an independent
//! encoder's output.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::{MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic};
use kafka_protocol::messages::produce_response::{LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, ApiKey, ApiVersionsRequest, ApiVersionsResponse, EndTxnRequest, FindCoordinatorRequest,
    InitProducerIdRequest, TxnOffsetCommitRequest, InitProducerIdResponse, MetadataRequest, MetadataResponse,
    ProduceRequest, ProduceResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{decode_request_header_from_buffer, Decodable, Encodable, StrBytes};

use super::oracle::FATAL;
use super::records::decode_batch;
use super::{node_host, trace, Fault, ProducerState, Response, Sim};

/// Kafka keeps the metadata of a producer's last 5 batches per partition
/// for deduplication (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
pub const DEDUP_WINDOW: usize = 5;

const MESSAGE_TOO_LARGE: i16 = 10;
const NOT_LEADER_OR_FOLLOWER: i16 = 6;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
const DUPLICATE_SEQUENCE_NUMBER: i16 = 46;
const INVALID_PRODUCER_EPOCH: i16 = 47;
const UNKNOWN_PRODUCER_ID: i16 = 59;

impl Sim {
    /// Handles one request frame (its size prefix removed) that arrived on
    /// `conn` at broker `node`, queueing the response in request order.
    pub(super) fn handle_request(&mut self, conn: u32, node: i32, frame: &[u8]) {
        let mut body = Bytes::copy_from_slice(frame);
        let header = decode_request_header_from_buffer(&mut body).unwrap_or_else(|e| panic!("a request header kafka-protocol refuses: {e}"));
        let key = ApiKey::try_from(header.request_api_key).expect("a known API key");
        let v = header.request_api_version;
        let cid = header.correlation_id;
        self.current_cid = cid;
        self.throttle_pending = None;
        self.answers_pending.clear();
        self.max_cid_seen = self.max_cid_seen.max(cid);
        let (bytes, stall) = match key {
            ApiKey::ApiVersions => {
                decode_exact::<ApiVersionsRequest>(frame, &header, body, v);
                (frame_response(key, v, cid, &self.api_versions()), 0)
            }
            ApiKey::Metadata => {
                let req = decode_exact::<MetadataRequest>(frame, &header, body, v);
                self.metadata_requests += 1;
                self.metadata_versions_seen.push(v);
                (frame_response(key, v, cid, &self.metadata(&req, v)), 0)
            }
            ApiKey::InitProducerId => {
                let req = decode_exact::<InitProducerIdRequest>(frame, &header, body, v);
                if req.transactional_id.is_some() {
                    let Some((resp, drop_after)) = self.txn_init_producer_id(conn, node, &req) else { return };
                    match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
                } else {
                    (frame_response(key, v, cid, &self.init_producer_id(conn, &req, v)), 0)
                }
            }
            ApiKey::FindCoordinator => {
                let req = decode_exact::<FindCoordinatorRequest>(frame, &header, body, v);
                let Some((resp, drop_after)) = self.find_coordinator(conn, &req) else { return };
                match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
            }
            ApiKey::AddPartitionsToTxn => {
                let req = decode_exact::<AddPartitionsToTxnRequest>(frame, &header, body, v);
                let Some((resp, drop_after)) = self.add_partitions_to_txn(conn, node, &req) else { return };
                match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
            }
            ApiKey::AddOffsetsToTxn => {
                let req = decode_exact::<AddOffsetsToTxnRequest>(frame, &header, body, v);
                let Some((resp, drop_after)) = self.add_offsets_to_txn(conn, node, &req) else { return };
                match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
            }
            ApiKey::TxnOffsetCommit => {
                let req = decode_exact::<TxnOffsetCommitRequest>(frame, &header, body, v);
                let Some((resp, drop_after)) = self.txn_offset_commit(conn, node, &req) else { return };
                match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
            }
            ApiKey::EndTxn => {
                let req = decode_exact::<EndTxnRequest>(frame, &header, body, v);
                let Some((resp, drop_after)) = self.end_txn(conn, node, &req) else { return };
                match self.txn_answer(conn, key, v, cid, &resp, drop_after) {
                    Some(bytes) => (bytes, 0),
                    None => return,
                }
            }
            ApiKey::Produce => {
                let req = decode_exact::<ProduceRequest>(frame, &header, body, v);
                self.produce_requests += 1;
                self.produce_versions_seen.push(v);
                match self.produce(conn, node, req, v) {
                    Some((resp, stall)) => (frame_response(key, v, cid, &resp), stall),
                    None => return, // dropped, or acks=0
                }
            }
            other => panic!("the producer sent an unexpected request: {other:?} v{v}"),
        };
        let throttle = self.throttle_pending.take();
        let answers = std::mem::take(&mut self.answers_pending);
        self.respond(conn, Response { ready_at: self.now + self.latency_ms.max(stall), frame: bytes, throttle, answers });
    }

    /// A transactional response's frame; `None` when the request was
    /// carried out and the connection is then dropped (`TxnFault::DropAfter`).
    fn txn_answer<T: Encodable>(&mut self, conn: u32, key: ApiKey, v: i16, cid: i32, resp: &T, drop_after: bool) -> Option<Vec<u8>> {
        if drop_after {
            self.drop_conn(conn);
            return None;
        }
        Some(frame_response(key, v, cid, resp))
    }

    fn api_versions(&self) -> ApiVersionsResponse {
        let mut keys = vec![(0i16, 3i16, self.max_produce_version), (3, 4, self.max_metadata_version), (18, 0, 3)];
        if self.supports_idempotence {
            keys.push((22, 0, 5));
            // Transactions (KIP-98): FindCoordinator, AddPartitionsToTxn,
            // AddOffsetsToTxn, EndTxn, TxnOffsetCommit, at Kafka 4's ranges.
            keys.extend([(10, 0, 6), (24, 0, 5), (25, 0, 4), (26, 0, 5), (28, 0, self.max_txn_offset_commit_version)]);
        }
        ApiVersionsResponse::default()
            .with_api_keys(keys.into_iter().map(|(k, min, max)| ApiVersion::default().with_api_key(k).with_min_version(min).with_max_version(max)).collect())
    }

    fn metadata(&self, req: &MetadataRequest, v: i16) -> MetadataResponse {
        let brokers = self
            .brokers
            .iter()
            .map(|(id, port)| MetadataResponseBroker::default().with_node_id((*id).into()).with_host(node_host(*id).into()).with_port(i32::from(*port)))
            .collect();
        let names: Vec<String> = match &req.topics {
            None => self.topics.keys().cloned().collect(),
            Some(ts) => ts.iter().filter_map(|t| t.name.as_ref()).map(|n| n.0.to_string()).collect(),
        };
        let topics = names
            .into_iter()
            .map(|name| {
                let t = MetadataResponseTopic::default().with_name(Some(TopicName(StrBytes::from_string(name.clone()))));
                let Some(parts) = self.topics.get(&name) else { return t.with_error_code(UNKNOWN_TOPIC_OR_PARTITION) };
                t.with_partitions(
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let m = MetadataResponsePartition::default()
                                .with_partition_index(i as i32)
                                .with_leader_id(p.leader.into())
                                .with_replica_nodes(vec![p.leader.into()])
                                .with_isr_nodes(vec![p.leader.into()]);
                            if v >= 7 {
                                m.with_leader_epoch(p.epoch)
                            } else {
                                m
                            }
                        })
                        .collect(),
                )
            })
            .collect();
        MetadataResponse::default().with_brokers(brokers).with_cluster_id(Some("sim".into())).with_controller_id(0.into()).with_topics(topics)
    }

    fn init_producer_id(&mut self, conn: u32, req: &InitProducerIdRequest, v: i16) -> InitProducerIdResponse {
        let (pid, epoch) = if v >= 3 { (req.producer_id.0, req.producer_epoch) } else { (-1, -1) };
        trace(|| format!("t={} conn {conn} InitProducerId v{v} with {pid}/{epoch}", self.now));
        if let Some(code) = self.init_faults.pop_front() {
            self.faults_injected += 1;
            if FATAL.contains(&code) {
                self.fatal_init = Some(code);
            }
            return InitProducerIdResponse::default().with_error_code(code).with_producer_id((-1).into()).with_producer_epoch(-1);
        }
        let (pid, epoch) = if pid < 0 {
            self.next_producer_id += 1;
            (self.next_producer_id, 0)
        } else {
            (pid, epoch + 1)
        };
        InitProducerIdResponse::default().with_producer_id(pid.into()).with_producer_epoch(epoch)
    }

    /// Handles a Produce request; the response and how long to hold it, or
    /// None when no response is to be sent.
    fn produce(&mut self, conn: u32, node: i32, req: ProduceRequest, v: i16) -> Option<(ProduceResponse, u64)> {
        // A request sent after the producer read a throttled response
        // (its correlation id is higher than any seen by then) and before
        // the throttle ends is a violation.
        if self.throttled_until.get(&conn).is_some_and(|&(t, floor)| self.now < t && self.current_cid > floor) {
            self.throttle_violations += 1;
            trace(|| format!("t={} VIOLATION conn {conn} cid {} throttle {:?}", self.now, self.current_cid, self.throttled_until.get(&conn)));
        }
        let (mut drop_after, mut stall, mut throttle) = (false, 0u64, 0u64);
        let mut responses = Vec::new();
        let mut leaders = Vec::new();
        for topic in req.topic_data {
            let name = topic.name.0.to_string();
            let mut parts = Vec::new();
            for pd in topic.partition_data {
                let index = pd.index;
                let bytes = pd.records.unwrap_or_else(|| panic!("Produce v{v} to {name}-{index} without records"));
                let batch = decode_batch(&bytes).unwrap_or_else(|e| panic!("Produce v{v} to {name}-{index}: {e}"));
                let nos: Vec<usize> = batch.records.iter().filter_map(|r| self.by_content.get(r).copied()).collect();
                let (pid, epoch, seq, count) = (batch.producer_id, batch.producer_epoch, batch.base_sequence, batch.records.len() as i32);
                if batch.transactional {
                    self.check_transactional_batch(&name, index, pid, epoch);
                }
                let answer = |sim: &mut Sim, code: i16| {
                    sim.answers_pending.extend(nos.iter().map(|&no| (no, code)));
                    trace(|| format!("t={} conn {conn} node {node} {name}-{index} pid {pid} epoch {epoch} seq {seq} n {count} -> {code}", sim.now));
                    PartitionProduceResponse::default().with_index(index).with_error_code(code).with_base_offset(-1)
                };
                if bytes.len() > self.message_max_bytes {
                    self.violations.push(format!("a batch of {} bytes to {name}-{index}, over message.max.bytes {}", bytes.len(), self.message_max_bytes));
                    parts.push(answer(self, MESSAGE_TOO_LARGE));
                    continue;
                }
                if self.topic_max_message_bytes.is_some_and(|limit| bytes.len() > limit) {
                    // Checked before anything else, as Kafka does.
                    parts.push(answer(self, MESSAGE_TOO_LARGE));
                    continue;
                }
                let key = (name.clone(), index);
                let fault = self.faults.get_mut(&key).and_then(VecDeque::pop_front);
                if let Some(&new_leader) = self.move_leader.get(&key) {
                    let p = &mut self.topics.get_mut(&name).unwrap()[index as usize];
                    if p.leader != new_leader {
                        p.leader = new_leader;
                        p.epoch += 1;
                    }
                }
                let p = &self.topics.get(&name).unwrap_or_else(|| panic!("Produce to unknown topic {name}"))[index as usize];
                if p.leader != node {
                    let (leader, leader_epoch) = (p.leader, p.epoch);
                    let mut r = answer(self, NOT_LEADER_OR_FOLLOWER);
                    if v >= 10 {
                        r = r.with_current_leader(LeaderIdAndEpoch::default().with_leader_id(leader.into()).with_leader_epoch(leader_epoch));
                        leaders.push(leader);
                    }
                    parts.push(r);
                    continue;
                }
                if fault.is_some() {
                    self.faults_injected += 1;
                }
                match fault {
                    Some(Fault::Error(code)) => {
                        parts.push(answer(self, code));
                        continue;
                    }
                    Some(Fault::DropBefore) => {
                        self.drop_conn(conn);
                        return None;
                    }
                    Some(Fault::LoseProducerState) => {
                        let p = &mut self.topics.get_mut(&name).unwrap()[index as usize];
                        p.producers.clear();
                        p.log_start = p.log.len();
                    }
                    Some(Fault::DropAfter) => drop_after = true,
                    Some(Fault::AppendThenError(_)) => {}
                    Some(Fault::Stall(ms)) => stall = stall.max(ms),
                    Some(Fault::Throttle(ms)) => {
                        throttle = throttle.max(ms);
                        // Counts from when the producer reads the response.
                        self.throttle_pending = Some((node, self.now + ms));
                    }
                    None => {}
                }
                let window = self.dedup_window;
                let p = &mut self.topics.get_mut(&name).unwrap()[index as usize];
                let verdict = if pid < 0 { Ok(None) } else { check_sequence(p.producers.entry(pid).or_default(), epoch, seq, count, window) };
                let appended = matches!(verdict, Ok(None));
                let r = match verdict {
                    Err(code) => answer(self, code),
                    Ok(Some(dup_offset)) => {
                        trace(|| format!("t={} {name}-{index} pid {pid} epoch {epoch} seq {seq}: duplicate of offset {dup_offset}", self.now));
                        PartitionProduceResponse::default().with_index(index).with_base_offset(dup_offset)
                    }
                    Ok(None) => {
                        let base = p.log.len() as i64;
                        self.appended_batch_bytes += bytes.len() as u64;
                        self.appended_records += batch.records.len() as u64;
                        if batch.transactional {
                            p.txn_ranges.push((p.log.len(), p.log.len() + batch.records.len(), pid));
                        }
                        p.log.extend(batch.records);
                        if pid >= 0 {
                            p.producers.get_mut(&pid).unwrap().appended(epoch, seq, count, base, window);
                        }
                        trace(|| format!("t={} conn {conn} node {node} {name}-{index} pid {pid} epoch {epoch} seq {seq} n {count} -> @{base}", self.now));
                        PartitionProduceResponse::default().with_index(index).with_base_offset(base)
                    }
                };
                let r = match fault {
                    Some(Fault::AppendThenError(code)) if appended => answer(self, code),
                    _ => r,
                };
                let log_start = self.topics[&name][index as usize].log_start as i64;
                parts.push(if v >= 5 { r.with_log_start_offset(log_start) } else { r });
            }
            responses.push(TopicProduceResponse::default().with_name(TopicName(StrBytes::from_string(name))).with_partition_responses(parts));
        }
        if drop_after {
            self.drop_conn(conn);
            return None;
        }
        if req.acks == 0 {
            return None;
        }
        let mut resp = ProduceResponse::default().with_responses(responses).with_throttle_time_ms(throttle as i32);
        if v >= 10 && !leaders.is_empty() {
            leaders.sort();
            leaders.dedup();
            let endpoints = leaders.iter().map(|id| NodeEndpoint::default().with_node_id((*id).into()).with_host(node_host(*id).into()).with_port(9092)).collect();
            resp = resp.with_node_endpoints(endpoints);
        }
        Some((resp, stall))
    }
}

/// Decodes a request body with kafka-protocol and checks it took every
/// byte and that encoding it again gives exactly the producer's frame.
fn decode_exact<T: Decodable + Encodable + std::fmt::Debug>(frame: &[u8], header: &RequestHeader, mut body: Bytes, v: i16) -> T {
    let what = || format!("{:?} v{v}", ApiKey::try_from(header.request_api_key).unwrap());
    let req = T::decode(&mut body, v).unwrap_or_else(|e| panic!("{}: kafka-protocol cannot decode the producer's request: {e}", what()));
    assert!(body.is_empty(), "{}: {} bytes after the request", what(), body.len());
    let mut again = BytesMut::new();
    let key = ApiKey::try_from(header.request_api_key).unwrap();
    header.encode(&mut again, key.request_header_version(v)).unwrap();
    req.encode(&mut again, v).unwrap();
    assert!(&again[..] == frame, "{}: the producer's bytes differ from the schema's encoding of the same request:\n ours {frame:?}\n them {:?}", what(), &again[..]);
    req
}

/// A response frame: size, header (of the version the API uses), body.
fn frame_response<T: Encodable>(key: ApiKey, v: i16, cid: i32, body: &T) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i32(0);
    ResponseHeader::default().with_correlation_id(cid).encode(&mut b, key.response_header_version(v)).unwrap();
    body.encode(&mut b, v).unwrap_or_else(|e| panic!("encoding the {key:?} v{v} response: {e}"));
    let size = (b.len() - 4) as i32;
    b[..4].copy_from_slice(&size.to_be_bytes());
    b.to_vec()
}

/// The sequence after `s`: Kafka wraps from i32::MAX to 0.
pub fn next_seq(s: i32) -> i32 {
    if s == i32::MAX {
        0
    } else {
        s + 1
    }
}

/// The last sequence of a batch of `count` records starting at `base`.
pub fn last_seq(base: i32, count: i32) -> i32 {
    ((i64::from(base) + i64::from(count) - 1) % (1i64 << 31)) as i32
}

impl ProducerState {
    fn appended(&mut self, epoch: i16, seq: i32, count: i32, base: i64, window: usize) {
        let last = last_seq(seq, count);
        self.epoch = epoch;
        self.last_seq = last;
        self.recent.push_back((seq, last, base));
        while self.recent.len() > window {
            self.recent.pop_front();
        }
        self.written.push((seq, last));
    }
}

/// Kafka's sequence check for one producer on one partition: Ok(None) to
/// append, Ok(Some(offset)) for a duplicate of a batch still in the
/// window, Err(code) to refuse.
pub fn check_sequence(st: &mut ProducerState, epoch: i16, seq: i32, count: i32, window: usize) -> Result<Option<i64>, i16> {
    let last = last_seq(seq, count);
    if st.written.is_empty() && st.epoch == 0 && st.last_seq == 0 {
        // No state: only a batch starting a sequence is accepted.
        if seq != 0 {
            return Err(UNKNOWN_PRODUCER_ID);
        }
        st.epoch = epoch;
        st.last_seq = -1;
        return Ok(None);
    }
    if epoch < st.epoch {
        return Err(INVALID_PRODUCER_EPOCH);
    }
    if epoch == st.epoch {
        if let Some(&(_, _, offset)) = st.recent.iter().rev().take(window).find(|r| r.0 == seq && r.1 == last) {
            return Ok(Some(offset));
        }
    }
    if epoch > st.epoch {
        if seq != 0 {
            return Err(OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
        st.recent.clear();
        st.written.clear();
        st.epoch = epoch;
        st.last_seq = -1;
        return Ok(None);
    }
    if seq == next_seq(st.last_seq) {
        return Ok(None);
    }
    if st.written.iter().any(|&(f, l)| f == seq && l == last) {
        // Written, but older than the batches kept for deduplication.
        return Err(DUPLICATE_SEQUENCE_NUMBER);
    }
    Err(OUT_OF_ORDER_SEQUENCE_NUMBER)
}
