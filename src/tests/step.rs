//! Unit tests of `producer::step`: a packed call's refusals and ids.

use alloc::vec::Vec;

use super::*;
use crate::config::Config;
use crate::packed::Packed;

fn packed(n: usize) -> Packed {
    let mut p = Packed::default();
    for _ in 0..n {
        p.push(&Record { value: Some(b"v"), ..Default::default() });
    }
    p
}

#[test]
fn a_full_queue_refuses_the_rest_of_the_call_with_one_error_and_ids_stay_consecutive() {
    let config = Config::from_pairs([("bootstrap.servers", "b:9092"), ("queue.buffering.max.messages", "3")]).unwrap();
    let mut p = Producer::new(config, 0);
    let mut refused = Vec::new();
    let first = p.send_packed("t", packed(6).from(0), 0, &mut refused);
    assert_eq!(first, 0);
    assert_eq!(refused.iter().map(|r| r.index).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(refused.iter().all(|r| r.error.kind == ErrorKind::QueueFull));
    assert!(refused.iter().all(|r| r.error == refused[0].error), "one error for the tail");
    assert_eq!(p.unreported(), 3);
    assert_eq!(p.next_record_id(), 6, "every record of the call has its id, accepted or not");
}

#[test]
fn a_malformed_record_ends_the_call() {
    let config = Config::from_pairs([("bootstrap.servers", "b:9092")]).unwrap();
    let mut p = Producer::new(config, 0);
    let mut bytes = packed(2).from(0).to_vec();
    bytes.push(0xff); // flags with unknown bits
    bytes.extend_from_slice(packed(1).from(0));
    let mut refused = Vec::new();
    p.send_packed("t", &bytes, 0, &mut refused);
    assert_eq!(refused.len(), 1);
    assert_eq!((refused[0].index, refused[0].error.kind), (2, ErrorKind::InvalidRecord));
    assert_eq!(p.unreported(), 2, "the record after the malformed one is not read");
}
