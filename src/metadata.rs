//! The producer's view of the cluster: brokers, and for each topic it has
//! been asked to produce to, its partitions and their leaders. Also owns
//! when to refresh that view (on demand, on errors, and every
//! `metadata.max.age.ms`), with a backoff so an outage never turns into a
//! metadata storm.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error_codes;
use crate::response::{BrokerMeta, MetadataResponse};

/// Index of a topic in the producer's tables (metadata and accumulator).
pub type TopicIdx = usize;

/// UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE: the topic may yet
/// appear (being created, or electing a leader); records wait for it.
fn topic_may_appear(code: i16) -> bool {
    matches!(code, error_codes::UNKNOWN_TOPIC_OR_PARTITION | error_codes::LEADER_NOT_AVAILABLE)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicState {
    /// No metadata yet, or the broker does not know it (yet).
    Unknown,
    /// Partitions known; `leaders[p]` is the leader's node id, -1 if none.
    Known,
    /// The broker refused the topic for good (e.g. authorization, invalid name).
    Failed(i16),
}

#[derive(Debug, Clone)]
pub struct TopicMetadata {
    pub name: String,
    pub state: TopicState,
    pub leaders: Vec<i32>,
    pub leader_epochs: Vec<i32>,
}

impl TopicMetadata {
    pub fn partition_count(&self) -> u32 {
        self.leaders.len() as u32
    }
}

/// Outcome of applying a Metadata response.
#[derive(Debug, Default)]
pub struct MetadataUpdate {
    /// Topics whose partitions became known: their waiting records can go.
    pub newly_known: Vec<TopicIdx>,
    /// Topics the broker refused for good, with the error code.
    pub failed: Vec<(TopicIdx, i16)>,
}

#[derive(Debug, Default)]
pub struct Metadata {
    topics: Vec<TopicMetadata>,
    by_name: BTreeMap<String, TopicIdx>,
    brokers: BTreeMap<i32, (String, u16)>,
    /// A refresh is wanted as soon as the backoff allows.
    update_requested: bool,
    in_flight: bool,
    last_refresh_ms: Option<u64>,
    backoff_until_ms: u64,
}

impl Metadata {
    /// The index of `name`, adding it (unknown) on first use.
    pub fn topic_index(&mut self, name: &str) -> (TopicIdx, bool) {
        if let Some(&i) = self.by_name.get(name) {
            return (i, false);
        }
        let i = self.topics.len();
        self.topics.push(TopicMetadata {
            name: name.to_string(),
            state: TopicState::Unknown,
            leaders: Vec::new(),
            leader_epochs: Vec::new(),
        });
        self.by_name.insert(name.to_string(), i);
        self.update_requested = true;
        (i, true)
    }

    pub fn topic(&self, idx: TopicIdx) -> &TopicMetadata {
        &self.topics[idx]
    }

    pub fn topics(&self) -> &[TopicMetadata] {
        &self.topics
    }

    pub fn broker(&self, node_id: i32) -> Option<&(String, u16)> {
        self.brokers.get(&node_id)
    }

    /// Node ids of known brokers, for picking one to ask for metadata.
    pub fn broker_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.brokers.keys().copied()
    }

    pub fn leader(&self, topic: TopicIdx, partition: i32) -> Option<i32> {
        let l = *self.topics.get(topic)?.leaders.get(usize::try_from(partition).ok()?)?;
        (l >= 0).then_some(l)
    }

    /// Something went wrong that stale metadata may explain.
    pub fn request_update(&mut self) {
        self.update_requested = true;
    }

    /// When a Metadata request should be sent, if one should.
    pub fn due_at(&self) -> Option<u64> {
        if self.in_flight || self.topics.is_empty() {
            return None;
        }
        if self.update_requested {
            return Some(self.backoff_until_ms);
        }
        None
    }

    /// When the view is old enough to refresh anyway (`metadata.max.age.ms`).
    pub fn stale_at(&self, max_age_ms: u64) -> Option<u64> {
        if self.in_flight || self.topics.is_empty() {
            return None;
        }
        // The first fetch is driven by `update_requested`.
        self.last_refresh_ms.map(|t| t.saturating_add(max_age_ms))
    }

    pub fn on_request_sent(&mut self) {
        self.in_flight = true;
        self.update_requested = false;
    }

    /// The request was lost (connection closed): ask again after `backoff_ms`.
    pub fn on_request_failed(&mut self, now: u64, backoff_ms: u64) {
        self.in_flight = false;
        self.update_requested = true;
        self.backoff_until_ms = now.saturating_add(backoff_ms);
    }

    /// Applies a response; topics still missing or leaderless are asked
    /// for again after `backoff_ms`.
    pub fn apply(&mut self, resp: &MetadataResponse<'_>, now: u64, backoff_ms: u64) -> MetadataUpdate {
        self.in_flight = false;
        self.last_refresh_ms = Some(now);
        self.backoff_until_ms = now.saturating_add(backoff_ms);
        if !resp.brokers.is_empty() {
            self.brokers.clear();
            self.add_brokers(&resp.brokers);
        }
        let mut update = MetadataUpdate::default();
        let mut incomplete = false;
        for t in &resp.topics {
            let Some(&idx) = self.by_name.get(t.name) else { continue };
            let topic = &mut self.topics[idx];
            if t.error_code != error_codes::NONE {
                if topic_may_appear(t.error_code) {
                    incomplete = true;
                } else if topic.state != TopicState::Failed(t.error_code) {
                    topic.state = TopicState::Failed(t.error_code);
                    update.failed.push((idx, t.error_code));
                }
                continue;
            }
            // A topic lists each of its partitions 0..n once; indices out of
            // that range are garbage and must not size an allocation.
            let count = t.partitions.len();
            if count == 0 || t.partitions.iter().any(|p| p.partition < 0 || p.partition as usize >= count) {
                incomplete = true;
                continue;
            }
            topic.leaders.clear();
            topic.leaders.resize(count, -1);
            topic.leader_epochs.clear();
            topic.leader_epochs.resize(count, -1);
            for p in &t.partitions {
                let i = p.partition as usize;
                if p.error_code == error_codes::NONE || p.leader_id >= 0 {
                    topic.leaders[i] = p.leader_id;
                    topic.leader_epochs[i] = p.leader_epoch;
                }
            }
            if topic.leaders.iter().any(|&l| l < 0) {
                incomplete = true;
            }
            if topic.state != TopicState::Known {
                topic.state = TopicState::Known;
                update.newly_known.push(idx);
            }
        }
        // Topics the response did not mention are asked for again.
        if resp.topics.len() < self.topics.iter().filter(|t| !matches!(t.state, TopicState::Failed(_))).count() {
            incomplete = true;
        }
        if incomplete {
            self.update_requested = true;
        }
        update
    }

    pub fn add_brokers(&mut self, brokers: &[BrokerMeta<'_>]) {
        for b in brokers {
            if let Ok(port) = u16::try_from(b.port) {
                self.brokers.insert(b.node_id, (b.host.to_string(), port));
            }
        }
    }

    /// KIP-951: a Produce response named the partition's new leader.
    pub fn update_leader(&mut self, topic: TopicIdx, partition: i32, leader_id: i32, leader_epoch: i32) -> bool {
        let Some(t) = self.topics.get_mut(topic) else { return false };
        let Ok(i) = usize::try_from(partition) else { return false };
        match (t.leaders.get_mut(i), t.leader_epochs.get_mut(i)) {
            (Some(l), Some(e)) if leader_id >= 0 && leader_epoch > *e && self.brokers.contains_key(&leader_id) => {
                *l = leader_id;
                *e = leader_epoch;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
#[path = "tests/metadata.rs"]
mod tests;
