//! The one translation of the snapshot into WIT types, for the glue of
//! both worlds (`src/component.rs`, `client/`).

/// Writes `fn statistics_into_wit(Statistics) -> $wit::Statistics` for a
/// WIT glue whose bindings of interface `producer`'s types are the module
/// `$wit` in scope: the one translation both worlds' glue use.
#[macro_export]
macro_rules! statistics_into_wit {
    ($wit:ident) => {
        fn window_into_wit(w: $crate::statistics::WindowStats) -> $wit::WindowStats {
            $wit::WindowStats {
                min: w.min,
                max: w.max,
                avg: w.avg,
                sum: w.sum,
                cnt: w.cnt,
                p50: w.p50,
                p75: w.p75,
                p90: w.p90,
                p95: w.p95,
                p99: w.p99,
                p9999: w.p99_99,
            }
        }

        fn statistics_into_wit(s: $crate::statistics::Statistics) -> $wit::Statistics {
            let broker = |b: $crate::statistics::BrokerStatistics| $wit::BrokerStatistics {
                name: b.name,
                nodeid: b.nodeid,
                nodename: b.nodename,
                state: b.state.into(),
                connects: b.connects,
                disconnects: b.disconnects,
                tx: b.tx,
                txbytes: b.txbytes,
                rx: b.rx,
                rxbytes: b.rxbytes,
                req_timeouts: b.req_timeouts,
                waitresp_cnt: b.waitresp_cnt,
                rtt: window_into_wit(b.rtt),
                throttle: window_into_wit(b.throttle),
                toppars: b.toppars,
            };
            let partition = |p: $crate::statistics::PartitionStatistics| $wit::PartitionStatistics {
                partition: p.partition,
                leader: p.leader,
                msgq_cnt: p.msgq_cnt,
                msgq_bytes: p.msgq_bytes,
                msgs_inflight: p.msgs_inflight,
                txmsgs: p.txmsgs,
                txbytes: p.txbytes,
                msgs_failed: p.msgs_failed,
                txretries: p.txretries,
                batches: p.batches,
                batchsize_avg: p.batchsize_avg,
                batchcnt_avg: p.batchcnt_avg,
                compression_ratio: p.compression_ratio,
            };
            let topic = |t: $crate::statistics::TopicStatistics| $wit::TopicStatistics {
                topic: t.topic,
                batchsize: window_into_wit(t.batchsize),
                batchcnt: window_into_wit(t.batchcnt),
                partitions: t.partitions.into_iter().map(partition).collect(),
            };
            $wit::Statistics {
                name: s.name,
                client_id: s.client_id,
                ts: s.ts,
                time: s.time,
                age: s.age,
                msg_cnt: s.msg_cnt,
                msg_size: s.msg_size,
                msg_max: s.msg_max,
                msg_size_max: s.msg_size_max,
                msgs: s.msgs,
                txmsgs: s.txmsgs,
                txmsg_bytes: s.txmsg_bytes,
                msgs_failed: s.msgs_failed,
                txretries: s.txretries,
                tx: s.tx,
                txbytes: s.txbytes,
                rx: s.rx,
                rxbytes: s.rxbytes,
                waitresp_cnt: s.waitresp_cnt,
                epoch_bumps: s.epoch_bumps,
                splits: s.splits,
                producer_id: s.producer_id,
                producer_epoch: s.producer_epoch,
                epoch_cnt: s.epoch_cnt,
                txn_state: s.txn_state,
                txn_may_enq: s.txn_may_enq,
                brokers: s.brokers.into_iter().map(broker).collect(),
                topics: s.topics.into_iter().map(topic).collect(),
            }
        }
    };
}

