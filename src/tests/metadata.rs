//! Unit tests of `metadata`.

use super::*;
use crate::response::{PartitionMeta, TopicMeta};

fn response(partitions: &[i32]) -> MetadataResponse<'static> {
    MetadataResponse {
        brokers: alloc::vec![BrokerMeta { node_id: 1, host: "h", port: 9092 }],
        topics: alloc::vec![TopicMeta {
            error_code: 0,
            name: "t",
            partitions: partitions
                .iter()
                .map(|&p| PartitionMeta { error_code: 0, partition: p, leader_id: 1, leader_epoch: 0 })
                .collect(),
        }],
        error_code: 0,
    }
}

#[test]
fn partitions_and_leaders_become_known() {
    let mut m = Metadata::default();
    let (t, _) = m.topic_index("t");
    assert_eq!(m.due_at(), Some(0), "a new topic wants metadata at once");
    m.on_request_sent();
    let u = m.apply(&response(&[1, 0]), 10, 100);
    assert_eq!(u.newly_known, [t]);
    assert_eq!(m.topic(t).partition_count(), 2);
    assert_eq!(m.leader(t, 1), Some(1));
    assert_eq!(m.due_at(), None, "complete metadata needs no refresh");
}

#[test]
fn forged_partition_indices_are_ignored_not_allocated() {
    let mut m = Metadata::default();
    let (t, _) = m.topic_index("t");
    m.on_request_sent();
    let u = m.apply(&response(&[i32::MAX]), 10, 100);
    assert!(u.newly_known.is_empty());
    assert_eq!(m.topic(t).state, TopicState::Unknown);
    assert_eq!(m.due_at(), Some(110), "asked again after the backoff");
    m.on_request_sent();
    m.apply(&response(&[0, 0]), 20, 100);
    assert_eq!(m.leader(t, 1), None, "partition 1 was never listed: no leader");
    assert_eq!(m.due_at(), Some(120), "and metadata is asked for again");
}
