//! Unit tests of `producer::sender`: what a Produce response, or its
//! loss, does to the batches in flight. The producer is set up by hand
//! (metadata applied, one ready connection to the leader) and the
//! responses are given as decoded values, so each test is about the
//! sender alone.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::config::Config;
use crate::connection::ConnState;
use crate::error_codes::{
    DUPLICATE_SEQUENCE_NUMBER, MESSAGE_TOO_LARGE, NONE, NOT_LEADER_OR_FOLLOWER, OUT_OF_ORDER_SEQUENCE_NUMBER, TOPIC_AUTHORIZATION_FAILED,
};
use crate::record::Record;
use crate::report::DeliveryReport;
use crate::response::{BrokerMeta, CurrentLeader, MetadataResponse, PartitionMeta, PartitionProduceResponse, TopicMeta};

/// A producer that knows brokers 1 and 2 and topic `t` (partitions 0 and
/// 1, both led by broker 1), with a ready connection to broker 1.
pub(crate) fn producer_with_leader(settings: &[(&str, &str)]) -> (Producer, ConnId) {
    let defaults = [("bootstrap.servers", "b:9092"), ("enable.idempotence", "false")];
    let unset = defaults.into_iter().filter(|(k, _)| !settings.iter().any(|(s, _)| s == k));
    let mut p = Producer::new(Config::from_pairs(unset.chain(settings.iter().copied())).unwrap(), 0);
    p.metadata.topic_index("t");
    p.metadata.on_request_sent(); // the Metadata request this answers
    let partition = |partition| PartitionMeta { error_code: NONE, partition, leader_id: 1, leader_epoch: 0 };
    let topic = TopicMeta { error_code: NONE, name: "t", partitions: vec![partition(0), partition(1)] };
    let brokers = vec![BrokerMeta { node_id: 1, host: "k1", port: 9092 }, BrokerMeta { node_id: 2, host: "k2", port: 9092 }];
    p.on_metadata(&MetadataResponse { brokers, topics: vec![topic], error_code: NONE }, 0);
    let conn = p.client.connect(1, "k1".into(), 9092, 0, &mut p.outputs);
    let c = p.client.conn_mut(conn).unwrap();
    c.state = ConnState::Ready;
    (c.produce_version, c.metadata_version, c.init_producer_id_version) = (9, 12, 4);
    p.outputs.clear();
    (p, conn)
}

/// Sends `values` to partition 0 and drains everything the producer does.
pub(crate) fn send_and_flush(p: &mut Producer, values: &[&[u8]], now: u64) -> Vec<Output> {
    for v in values {
        p.send("t", &Record { value: Some(v), partition: Some(0), ..Default::default() }, now).unwrap();
    }
    p.flush();
    core::iter::from_fn(|| p.poll(now)).collect()
}

/// The correlation id of the Produce request in flight on `conn`.
fn produce_in_flight(p: &Producer, conn: ConnId) -> i32 {
    let c = p.client.conn(conn).unwrap();
    c.in_flight.iter().find(|r| r.api == ApiKey::Produce).expect("a Produce request in flight").correlation_id
}

fn answer(code: i16) -> PartitionProduceResponse<'static> {
    PartitionProduceResponse { partition: 0, error_code: code, base_offset: 42, log_append_time_ms: -1, error_message: None, current_leader: None }
}

fn response(parts: Vec<PartitionProduceResponse<'_>>) -> ProduceResponse<'_> {
    ProduceResponse { topics: vec![("t", parts)], throttle_time_ms: 0, node_endpoints: Vec::new() }
}

fn reports(p: &mut Producer) -> Vec<DeliveryReport> {
    core::iter::from_fn(|| p.outputs.pop_front()).filter_map(|o| if let Output::Report(r) = o { Some(r) } else { None }).collect()
}

#[test]
fn ready_batches_go_out_in_one_produce_request_and_wait_in_flight() {
    let (mut p, conn) = producer_with_leader(&[]);
    let out = send_and_flush(&mut p, &[b"a", b"b"], 10);
    assert!(matches!(&out[..], [Output::Transmit { conn: c, .. }] if *c == conn), "{out:?}");
    let cid = produce_in_flight(&p, conn);
    assert_eq!(p.sender.batches_in_flight(), 1);
    assert_eq!(p.sender.in_flight_of((0, 0)), 1);
    assert_eq!(p.sender.in_flight.get(&cid).map(|bs| bs[0].record_ids.clone()), Some(vec![0, 1]));
    assert!(p.client.conn(conn).unwrap().in_flight.iter().all(|r| r.api == ApiKey::Produce), "the connection holds only headers");
}

#[test]
fn a_delivered_batch_is_reported_with_its_offset_and_leaves_flight() {
    let (mut p, conn) = producer_with_leader(&[]);
    send_and_flush(&mut p, &[b"a", b"b"], 10);
    let cid = produce_in_flight(&p, conn);
    p.client.conn_mut(conn).unwrap().in_flight.clear(); // as handle_frame pops it
    p.on_produce(cid, &response(vec![answer(NONE)]), 20);
    let r = reports(&mut p);
    assert_eq!((r.len(), r[0].base_offset, r[0].records.clone(), r[0].error.clone()), (1, 42, vec![0, 1], None));
    assert_eq!((p.unreported(), p.sender.batches_in_flight(), p.sender.in_flight_of((0, 0))), (0, 0, 0));
    assert_eq!(p.accumulator.reserved, 0, "buffer.memory released");
}

#[test]
fn a_retriable_error_requeues_the_batch_after_the_backoff_and_follows_the_new_leader() {
    let (mut p, conn) = producer_with_leader(&[("retry.backoff.ms", "100")]);
    send_and_flush(&mut p, &[b"a"], 10);
    let cid = produce_in_flight(&p, conn);
    let moved = PartitionProduceResponse { current_leader: Some(CurrentLeader { leader_id: 2, leader_epoch: 1 }), ..answer(NOT_LEADER_OR_FOLLOWER) };
    p.on_produce(cid, &response(vec![moved]), 20);
    assert!(reports(&mut p).is_empty());
    assert_eq!(p.metadata.leader(0, 0), Some(2), "KIP-951: the new leader at once");
    let b = p.accumulator.partition(0, 0).unwrap().batches.front().unwrap();
    assert_eq!((b.attempts, b.retry_at_ms, b.unresolved), (1, 120, false));
    assert_eq!(p.sender.batches_in_flight(), 0);
}

#[test]
fn a_fatal_error_or_a_missing_partition_fails_the_batch() {
    let (mut p, conn) = producer_with_leader(&[]);
    send_and_flush(&mut p, &[b"a"], 10);
    p.on_produce(produce_in_flight(&p, conn), &response(vec![answer(TOPIC_AUTHORIZATION_FAILED)]), 20);
    let r = reports(&mut p);
    assert_eq!(r[0].error.as_ref().map(|e| e.code), Some(TOPIC_AUTHORIZATION_FAILED));
    p.client.conn_mut(conn).unwrap().in_flight.clear();
    send_and_flush(&mut p, &[b"b"], 30);
    p.on_produce(produce_in_flight(&p, conn), &response(Vec::new()), 40);
    let r = reports(&mut p);
    assert!(r[0].error.as_ref().is_some_and(|e| e.message.contains("omitted partition t-0")), "{r:?}");
    assert_eq!(p.unreported(), 0);
}

#[test]
fn a_batch_too_large_is_split_in_two_in_its_place() {
    let (mut p, conn) = producer_with_leader(&[]);
    send_and_flush(&mut p, &[b"a", b"b", b"c"], 10);
    p.on_produce(produce_in_flight(&p, conn), &response(vec![answer(MESSAGE_TOO_LARGE)]), 20);
    assert!(p.outputs.iter().any(|o| matches!(o, Output::Warning(w) if w.contains("splitting a batch of 3 records"))));
    let q = &p.accumulator.partition(0, 0).unwrap().batches;
    let ids: Vec<Vec<u64>> = q.iter().map(|b| b.record_ids.clone()).collect();
    assert_eq!(ids, [vec![0], vec![1, 2]]);
    assert!(q.iter().all(|b| b.attempts == 1 && b.identity.is_none()));
    assert!(reports(&mut p).is_empty());
}

#[test]
fn a_lost_connection_retries_its_batches_as_of_unknown_outcome() {
    let (mut p, conn) = producer_with_leader(&[]);
    send_and_flush(&mut p, &[b"a"], 10);
    p.close_conn(conn, "reset by peer", false, 20);
    assert!(p.outputs.iter().any(|o| matches!(o, Output::Warning(w) if w.contains("reset by peer"))));
    let b = p.accumulator.partition(0, 0).unwrap().batches.front().unwrap();
    assert!(b.unresolved && b.attempts == 1);
    assert_eq!((p.sender.batches_in_flight(), p.unreported()), (0, 1));
}

#[test]
fn with_acks_0_handing_the_request_over_is_delivery() {
    let (mut p, conn) = producer_with_leader(&[("acks", "0")]);
    let out = send_and_flush(&mut p, &[b"a"], 10);
    assert!(matches!(&out[..], [Output::Transmit { .. }, Output::Report(r)] if r.base_offset == -1 && r.error.is_none()), "{out:?}");
    assert!(p.client.conn(conn).unwrap().in_flight.is_empty());
    assert_eq!((p.sender.batches_in_flight(), p.sender.in_flight_of((0, 0)), p.unreported()), (0, 0, 0));
}

#[test]
fn idempotent_batches_a_duplicate_is_delivered_and_an_out_of_order_next_batch_bumps_the_epoch() {
    let (mut p, conn) = producer_with_leader(&[("enable.idempotence", "true")]);
    p.transactions.on_granted(ProducerIdAndEpoch { producer_id: 5, epoch: 0 });
    send_and_flush(&mut p, &[b"a"], 10);
    p.on_produce(produce_in_flight(&p, conn), &response(vec![answer(DUPLICATE_SEQUENCE_NUMBER)]), 20);
    assert_eq!(reports(&mut p)[0].error, None);
    assert_eq!(p.transactions.sequences((0, 0)).last_acked, 0);
    p.client.conn_mut(conn).unwrap().in_flight.clear();
    send_and_flush(&mut p, &[b"b"], 30);
    p.on_produce(produce_in_flight(&p, conn), &response(vec![answer(OUT_OF_ORDER_SEQUENCE_NUMBER)]), 40);
    assert!(p.transactions.bump_requested && p.transactions.broken.contains(&(0, 0)));
    assert!(p.outputs.iter().any(|o| matches!(o, Output::Warning(w) if w.contains("bumping the producer epoch"))));
    let b = p.accumulator.partition(0, 0).unwrap().batches.front().unwrap();
    assert_eq!(b.identity.map(|i| i.base_sequence), Some(1), "requeued, re-stamped only after the bump");
}
