//! The producer's statistics snapshot (`crate::statistics` holds the
//! counters, the types and the JSON): counters read as they stand, gauges
//! (queues, requests in flight, connection states) read from the modules
//! that own them, and the periodic JSON of `statistics.interval.ms`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Output, Producer};
use crate::connection::ConnState;
use crate::statistics::{BrokerStatistics, PartitionCounters, PartitionStatistics, Statistics, TopicStatistics};

impl Producer {
    /// A snapshot of the statistics at `now` (the host's clock, ms). The
    /// windows (latencies, batch sizes) are not reset by it.
    pub fn statistics(&self, now: u64) -> Statistics {
        let c = &self.config;
        let s = &self.stats;
        let mut out = Statistics {
            name: format!("{}#producer", c.client_id),
            client_id: c.client_id.clone(),
            ts: now.saturating_mul(1000),
            time: now / 1000,
            age: now.saturating_sub(s.started_ms).saturating_mul(1000),
            msg_cnt: self.completion.unreported(),
            msg_size: self.accumulator.reserved as u64,
            msg_max: c.max_queued_records,
            msg_size_max: c.buffer_memory as u64,
            msgs: s.msgs,
            txmsgs: s.txmsgs,
            txmsg_bytes: s.txmsg_bytes,
            msgs_failed: s.failed,
            txretries: s.txretries,
            waitresp_cnt: self.client.conns.iter().map(|c| c.in_flight.len() as u64).sum(),
            epoch_bumps: s.epoch_bumps,
            splits: s.splits,
            producer_id: self.transactions.identity().map_or(-1, |i| i.producer_id),
            producer_epoch: self.transactions.identity().map_or(-1, |i| i.epoch),
            epoch_cnt: s.epoch_cnt,
            // A producer that is not transactional stays in librdkafka's
            // "Init", and may always enqueue.
            txn_state: self.txn.as_ref().map_or("Init", |t| t.state_name()).into(),
            txn_may_enq: self.txn.as_ref().is_none_or(|t| t.phase == crate::producer::transactions::Phase::InTransaction),
            ..Default::default()
        };
        for (&node, b) in &self.client.wire.brokers {
            let (host, port) = match node {
                n if n >= 0 => self.metadata.broker(n).cloned().unwrap_or_default(),
                n => c.bootstrap_servers.get((-n - 1) as usize).cloned().unwrap_or_default(),
            };
            let conns = || self.client.conns.iter().filter(move |c| c.node == node);
            let state = match conns().map(|c| c.state).max_by_key(|s| state_rank(*s)) {
                Some(s) => state_name(s),
                None if b.connects > 0 => "DOWN",
                None => "INIT",
            };
            let mut toppars = Vec::new();
            for (t, tm) in self.metadata.topics().iter().enumerate() {
                for p in 0..tm.leaders.len() as i32 {
                    if self.metadata.leader(t, p) == Some(node) {
                        toppars.push((tm.name.clone(), p));
                    }
                }
            }
            let id = if node >= 0 { format!("{node}") } else { String::from("bootstrap") };
            out.tx += b.tx;
            out.txbytes += b.txbytes;
            out.rx += b.rx;
            out.rxbytes += b.rxbytes;
            out.brokers.push(BrokerStatistics {
                name: format!("{host}:{port}/{id}"),
                nodeid: node.max(-1),
                nodename: format!("{host}:{port}"),
                state,
                connects: b.connects,
                disconnects: b.disconnects,
                tx: b.tx,
                txbytes: b.txbytes,
                rx: b.rx,
                rxbytes: b.rxbytes,
                req_timeouts: b.req_timeouts,
                waitresp_cnt: conns().map(|c| c.in_flight.len() as u64).sum(),
                rtt: b.rtt.summary(),
                throttle: b.throttle.summary(),
                toppars,
            });
        }
        let none = PartitionCounters::default();
        for (t, tm) in self.metadata.topics().iter().enumerate() {
            let windows = s.topics.get(t);
            let mut topic = TopicStatistics {
                topic: tm.name.clone(),
                batchsize: windows.map(|w| w.batchsize.summary()).unwrap_or_default(),
                batchcnt: windows.map(|w| w.batchcnt.summary()).unwrap_or_default(),
                partitions: Vec::new(),
            };
            let counted = s.partitions.get(t).map_or(0, Vec::len);
            for p in 0..(tm.leaders.len().max(counted)) {
                let counters = s.partitions.get(t).and_then(|ps| ps.get(p)).unwrap_or(&none);
                let leader = self.metadata.leader(t, p as i32).unwrap_or(-1);
                let mut ps = PartitionStatistics::counted(p as i32, leader, counters);
                if let Some(q) = self.accumulator.partition(t, p as i32) {
                    ps.msgq_cnt = q.batches.iter().map(|b| b.record_count() as u64).sum();
                    ps.msgq_bytes = q.batches.iter().map(|b| b.byte_len() as u64).sum();
                }
                let here = |b: &&crate::accumulator::ProducerBatch| (b.topic, b.partition) == (t, p as i32);
                ps.msgs_inflight = self.sender.in_flight().filter(here).map(|b| b.record_count() as u64).sum();
                topic.partitions.push(ps);
            }
            out.topics.push(topic);
        }
        out
    }

    /// Emits the statistics JSON if `statistics.interval.ms` says it is
    /// due (or, with `last`, once as the producer finishes closing), and
    /// starts new windows.
    pub(super) fn maybe_emit_statistics(&mut self, now: u64, last: bool) {
        if self.stats.due(now, last) {
            let json = self.statistics(now).to_json();
            self.stats.reset_windows();
            self.client.wire.reset_windows();
            self.outputs.push_back(Output::Statistics(json));
        }
    }
}

/// How far along a connection is, for a broker with several.
fn state_rank(s: ConnState) -> u8 {
    match s {
        ConnState::Connecting { .. } => 0,
        ConnState::Handshaking { .. } => 1,
        ConnState::Negotiating => 2,
        ConnState::Authenticating => 3,
        ConnState::Ready => 4,
    }
}

/// librdkafka's broker state names.
fn state_name(s: ConnState) -> &'static str {
    match s {
        ConnState::Connecting { .. } => "CONNECT",
        ConnState::Handshaking { .. } => "SSL_HANDSHAKE",
        ConnState::Negotiating => "APIVERSION_QUERY",
        ConnState::Authenticating => "AUTH_HANDSHAKE",
        ConnState::Ready => "UP",
    }
}
