//! Every deadline the producer keeps, as one enum: [`Producer::deadlines`]
//! lists them, `poll_timeout` takes the earliest still ahead, and
//! [`Producer::expire`] acts on those that end something (a batch's or a
//! waiting record's `delivery.timeout.ms`, a connection's setup or request
//! timeout). The rest only wake the producer to drive again: a batch
//! ready after `linger.ms` or its retry backoff, a throttle lifting, a
//! metadata refresh, the close deadline, an InitProducerId or reconnect
//! backoff.
//!
//! Other modules hold the times these are computed from (a batch's
//! creation, a connection's start, a backoff's end), all given to them by
//! the producer from the host's `now`: no module reads a clock.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{PidState, Producer};
use crate::accumulator::{Accumulator, Pending};
use crate::connection::{ConnId, ConnState, Connection};
use crate::metadata::{TopicIdx, TopicState};
use crate::record::Record;
use crate::report::{ErrorKind, ProduceError};

/// A kind of deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// `delivery.timeout.ms` of the oldest batch of a partition.
    DeliveryTimeout,
    /// `delivery.timeout.ms` of the oldest record of a topic waiting for
    /// metadata.
    MetadataWait(TopicIdx),
    /// A partition's front batch becomes ready: `linger.ms`, or its retry
    /// backoff.
    BatchReady,
    /// `socket.connection.setup.timeout.ms` of a connection not yet through
    /// TCP and TLS.
    ConnectionSetup(ConnId),
    /// `request.timeout.ms` of a connection's oldest request in flight.
    RequestTimeout(ConnId),
    /// A broker's throttle (KIP-219) lifts.
    Throttle(ConnId),
    /// A metadata refresh is due (asked for, or `metadata.max.age.ms`).
    MetadataRefresh,
    /// `close`'s deadline, while records await their reports.
    Close,
    /// The backoff before asking for a producer id (or, with
    /// transactions, sending a transactional request) again.
    InitProducerId,
    /// A broker with batches waiting may be dialled again.
    Reconnect(i32),
    /// `statistics.interval.ms`: the next statistics JSON.
    Statistics,
    /// The OAUTHBEARER token's refresh is due (80% of its lifetime).
    OauthbearerRefresh,
}

impl Producer {
    /// Every deadline, with its kind, for `poll_timeout` and `expire`.
    pub(super) fn deadlines(&self, mut f: impl FnMut(Timer, u64)) {
        let c = &self.config;
        for (t, tq) in self.accumulator.topics.iter().enumerate() {
            if let Some(oldest) = tq.pending.oldest_ms {
                f(Timer::MetadataWait(t), oldest.saturating_add(c.delivery_timeout_ms));
            }
            for (p, q) in tq.partitions.iter().enumerate() {
                let Some(front) = q.batches.front() else { continue };
                f(Timer::DeliveryTimeout, front.created_ms.saturating_add(c.delivery_timeout_ms));
                let can_send = self.metadata.leader(t, p as i32).is_some();
                // A flush ignores linger.ms, not a retry's backoff.
                if can_send && (!self.flushing || front.attempts > 0) {
                    if let Some(ready) = Accumulator::front_ready_at(q, c.linger_ms) {
                        f(Timer::BatchReady, ready);
                    }
                }
            }
        }
        for conn in &self.client.conns {
            self.connection_deadlines(conn, &mut f);
        }
        let wanted = match (self.metadata.due_at(), self.metadata.stale_at(c.metadata_max_age_ms)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(want) = wanted {
            if self.client.conns.is_empty() {
                // No connection can carry it: the wait is for a reconnect.
                f(Timer::MetadataRefresh, want.max(self.client.next_connect_at(&self.metadata, c.bootstrap_servers.len())));
            } else {
                f(Timer::MetadataRefresh, want);
            }
        }
        if let Some(at) = self.closing_at.filter(|_| self.completion.unreported() > 0 || self.txn_ending()) {
            f(Timer::Close, at);
        }
        if self.config.idempotent && self.txn.is_none() && self.transactions.state == PidState::None {
            f(Timer::InitProducerId, self.transactions.retry_at_ms);
        }
        if let Some(at) = self.stats.next_emit {
            f(Timer::Statistics, at);
        }
        if let Some(txn) = &self.txn {
            // A transactional request waiting out its backoff, or for its
            // coordinator's reconnect.
            if txn.in_flight.is_none() {
                f(Timer::InitProducerId, txn.retry_at_ms);
                for node in txn.coordinator.into_iter().chain(txn.group_coordinator.as_ref().map(|g| g.1)) {
                    if !self.client.is_connected_to(node) {
                        if let Some(at) = self.client.reconnect_at(node) {
                            f(Timer::Reconnect(node), at);
                        }
                    }
                }
            }
        }
        if let Some(at) = self.oauth.as_ref().and_then(|o| o.refresh_at()) {
            f(Timer::OauthbearerRefresh, at);
        }
        // Reconnects to leaders waiting on a backoff.
        for node in self.nodes_with_batches() {
            if !self.client.is_connected_to(node) {
                if let Some(at) = self.client.reconnect_at(node) {
                    f(Timer::Reconnect(node), at);
                }
            }
        }
    }

    /// A connection's deadlines: its setup, its oldest request, its throttle.
    fn connection_deadlines(&self, conn: &Connection, f: &mut impl FnMut(Timer, u64)) {
        let c = &self.config;
        if let ConnState::Connecting { since_ms } | ConnState::Handshaking { since_ms } = conn.state {
            f(Timer::ConnectionSetup(conn.id), since_ms.saturating_add(c.connection_setup_timeout_ms));
        }
        if let Some(r) = conn.in_flight.front() {
            f(Timer::RequestTimeout(conn.id), r.sent_ms.saturating_add(c.request_timeout_ms));
        }
        if let Some(t) = self.client.throttled_until(conn.node) {
            f(Timer::Throttle(conn.id), t);
        }
    }

    /// The earliest deadline after the last drive (whatever was due by
    /// then was acted on, or waits for I/O: it is no timer).
    pub(super) fn next_deadline(&self) -> Option<u64> {
        let after = self.driven_at;
        let mut at: Option<u64> = None;
        self.deadlines(|_, t| {
            if t > after {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        });
        at
    }

    /// Acts on the deadlines that end something: batches and waiting
    /// records past `delivery.timeout.ms` fail; connections past their
    /// setup or request timeout (or broken) close, retrying what they
    /// carried.
    pub(super) fn expire(&mut self, now: u64) {
        let dt = self.config.delivery_timeout_ms;
        let mut batches_due = false;
        let mut pending_due = Vec::new();
        self.deadlines(|timer, at| match timer {
            Timer::DeliveryTimeout if now >= at => batches_due = true,
            Timer::MetadataWait(t) if now >= at => pending_due.push(t),
            _ => {}
        });
        if let (true, Some(cutoff)) = (batches_due, now.checked_sub(dt)) {
            let mut expired = Vec::new();
            self.accumulator.expire(cutoff, |b| expired.push(b));
            for b in expired {
                if b.identity.is_some() {
                    // Its sequences were sent and will never be acknowledged.
                    self.request_epoch_bump(&b, "a sent batch expired", false);
                }
                let leader = self.metadata.leader(b.topic, b.partition);
                let msg = format!(
                    "delivery.timeout.ms ({dt} ms) passed after {} attempt(s) before the batch was acknowledged{}",
                    b.attempts,
                    self.likely_cause(leader)
                );
                self.fail_batch(b, ProduceError::new(ErrorKind::TimedOut, msg));
            }
        }
        if let Some(cutoff) = now.checked_sub(dt) {
            for t in pending_due {
                self.expire_pending(t, cutoff, dt);
            }
        }
        let (setup, req) = (self.config.connection_setup_timeout_ms, self.config.request_timeout_ms);
        let mut closing: Vec<(ConnId, String)> = Vec::new();
        let mut timed_out = Vec::new();
        for c in &self.client.conns {
            let mut due = Vec::new();
            self.connection_deadlines(c, &mut |timer, at| {
                if now >= at {
                    due.push(timer);
                }
            });
            if due.contains(&Timer::ConnectionSetup(c.id)) {
                let why = if matches!(c.state, ConnState::Handshaking { .. }) {
                    format!("TLS handshake not complete within socket.connection.setup.timeout.ms ({setup} ms): is the port a TLS listener?")
                } else {
                    format!("not connected within socket.connection.setup.timeout.ms ({setup} ms)")
                };
                closing.push((c.id, why));
            }
            // Not a timer: a TLS session that could not encrypt.
            if let Some(why) = &c.broken {
                closing.push((c.id, why.clone()));
            }
            if due.contains(&Timer::RequestTimeout(c.id)) {
                timed_out.push(c.node);
                closing.push((c.id, format!("no response within request.timeout.ms ({req} ms)")));
            }
        }
        timed_out.into_iter().for_each(|node| self.client.wire.broker(node).req_timeouts += 1);
        for (id, why) in closing {
            self.close_conn(id, &why, true, now);
        }
    }

    /// What a timeout's message adds about its likely cause: a broker that
    /// looked like a TLS listener to this plaintext client (`leader`, or,
    /// without one, as for records waiting for metadata, any).
    fn likely_cause(&self, leader: Option<i32>) -> String {
        let oauth = || self.oauth.as_ref().and_then(|o| o.hint(self.driven_at));
        self.client.tls_listener_hint(leader).map(String::from).or_else(oauth).map(|h| format!("; likely cause: {h}")).unwrap_or_default()
    }

    /// Fails the waiting records of topic `t` accepted at or before `cutoff`.
    fn expire_pending(&mut self, t: TopicIdx, cutoff: u64, dt: u64) {
        let mut pending = self.accumulator.take_pending(t);
        let mut keep = Pending::default();
        let mut expired = Vec::new();
        pending.drain(|r, headers| {
            if r.accepted_ms <= cutoff {
                expired.push(r.id);
            } else {
                let rec = Record { key: r.key, value: r.value, headers, partition: r.partition, timestamp: None };
                keep.push(r.id, r.accepted_ms, r.timestamp, &rec);
            }
        });
        self.accumulator.reserved += keep.reserved;
        self.accumulator.topics[t].pending = keep;
        let name = &self.metadata.topic(t).name;
        let mut cause = self.likely_cause(None);
        if let (true, Some(u)) = (cause.is_empty(), &self.client.unreachable) {
            cause = format!("; last connection error: {u}");
        }
        let why = match self.metadata.topic(t).state {
            TopicState::Unknown => format!("topic {name} not present in metadata after delivery.timeout.ms ({dt} ms){cause}"),
            _ => format!("delivery.timeout.ms ({dt} ms) passed waiting for metadata of topic {name}{cause}"),
        };
        self.report_ids(t, -1, expired, ProduceError::new(ErrorKind::TimedOut, why));
    }
}

#[cfg(test)]
#[path = "../tests/timers.rs"]
mod tests;
