//! The scripted cluster's answers: ApiVersions, Metadata and
//! InitProducerId (always valid, at the negotiated version), and the
//! Produce response a `Respond` op composes.

use kafka_producer_component::wire::{Reader, Writer};

use super::{flexible, Cluster, Request, UNKNOWN_TOPIC};

/// One partition's answer: (topic, partition, error code, base offset,
/// the new leader (id, epoch) for NOT_LEADER_OR_FOLLOWER).
pub type PartResult = (usize, i32, i16, i64, Option<(i32, i32)>);

impl Cluster {
    /// Frames a response body for request `req`.
    pub fn frame(req: &Request, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 9);
        let mut w = Writer::new(&mut out);
        w.i32(0);
        w.i32(req.cid);
        if flexible(req.api, req.version) && req.api != 18 {
            w.no_tagged_fields();
        }
        w.raw(body);
        let size = (out.len() - 4) as i32;
        out[..4].copy_from_slice(&size.to_be_bytes());
        out
    }

    /// The answer to a handshake request (anything but Produce).
    pub fn answer_handshake(&mut self, req: &Request) -> Vec<u8> {
        let flex = flexible(req.api, req.version);
        let mut body = Vec::new();
        let mut w = Writer::new(&mut body);
        match req.api {
            18 => {
                w.i16(0);
                let [p, m, i] = self.max_versions;
                let keys = [(0i16, 3i16, p), (3, 4, m), (18, 0, 3), (22, 0, i)];
                w.array_len(keys.len(), flex);
                for (k, min, max) in keys {
                    w.i16(k);
                    w.i16(min);
                    w.i16(max);
                    if flex {
                        w.no_tagged_fields();
                    }
                }
                if req.version >= 1 {
                    w.i32(0);
                }
                if flex {
                    w.no_tagged_fields();
                }
            }
            22 => {
                let mut r = Reader::new(&req.body);
                r.nullable_str(flex, "txn").expect("InitProducerId");
                r.i32("timeout").expect("InitProducerId");
                let (pid, epoch) = if req.version >= 3 { (r.i64("pid").unwrap(), r.i16("epoch").unwrap()) } else { (-1, -1) };
                let k = self.init_requests;
                self.init_requests += 1;
                let (code, pid, epoch) = if k < 32 && self.init_errors & (1 << k) != 0 {
                    (15, -1, -1) // COORDINATOR_NOT_AVAILABLE
                } else if pid >= 0 && self.granted.get(&pid) == Some(&epoch) && epoch < i16::MAX - 1 {
                    self.bumps += 1;
                    self.granted.insert(pid, epoch + 1);
                    (0, pid, epoch + 1)
                } else if pid >= 0 && self.granted.get(&pid).is_none_or(|&e| e != epoch) {
                    (47, -1, -1) // INVALID_PRODUCER_EPOCH: not the current one
                } else {
                    self.next_pid += 1;
                    self.granted.insert(self.next_pid, 0);
                    (0, self.next_pid, 0)
                };
                w.i32(0);
                w.i16(code);
                w.i64(pid);
                w.i16(epoch);
                if flex {
                    w.no_tagged_fields();
                }
            }
            3 => self.metadata(&mut w, req.version, flex),
            other => panic!("no handshake answer for ApiKey {other}"),
        }
        Self::frame(req, &body)
    }

    fn metadata(&self, w: &mut Writer<'_>, v: i16, flex: bool) {
        w.i32(0); // throttle
        w.array_len(self.brokers as usize, flex);
        for id in 0..self.brokers {
            w.i32(id);
            w.string(&format!("broker-{id}"), flex);
            w.i32(9092);
            w.nullable_string(None, flex);
            if flex {
                w.no_tagged_fields();
            }
        }
        w.nullable_string(Some("fuzz"), flex);
        w.i32(0); // controller
        w.array_len(self.topics.len() + 1, flex);
        for (name, parts) in self.topics.iter().map(|(n, p)| (n.as_str(), p.as_slice())).chain([(UNKNOWN_TOPIC, &[][..])]) {
            w.i16(if name == UNKNOWN_TOPIC { 3 } else { 0 });
            w.string(name, flex);
            if v >= 10 {
                w.raw(&[1; 16]);
            }
            w.bool(false);
            w.array_len(parts.len(), flex);
            for (i, p) in parts.iter().enumerate() {
                w.i16(0);
                w.i32(i as i32);
                w.i32(p.leader);
                if v >= 7 {
                    w.i32(p.leader_epoch);
                }
                for _ in 0..2 {
                    w.array_len(1, flex);
                    w.i32(p.leader);
                }
                if v >= 5 {
                    w.array_len(0, flex);
                }
                if flex {
                    w.no_tagged_fields();
                }
            }
            if v >= 8 {
                w.i32(0);
            }
            if flex {
                w.no_tagged_fields();
            }
        }
        if (8..=10).contains(&v) {
            w.i32(0);
        }
        if flex {
            w.no_tagged_fields();
        }
    }

    /// A Produce response body at version `v` (3-11), KIP-951 leader
    /// hints from v10.
    pub fn produce_response(&self, v: i16, results: &[PartResult], throttle_ms: i32) -> Vec<u8> {
        let flex = flexible(0, v);
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        let mut topics: Vec<usize> = results.iter().map(|r| r.0).collect();
        topics.dedup();
        w.array_len(topics.len(), flex);
        let mut leaders = Vec::new();
        for t in topics {
            w.string(&self.topics[t].0, flex);
            let parts: Vec<&PartResult> = results.iter().filter(|r| r.0 == t).collect();
            w.array_len(parts.len(), flex);
            for &&(_, index, code, base, leader) in &parts {
                w.i32(index);
                w.i16(code);
                w.i64(base);
                w.i64(-1); // log append time
                if v >= 5 {
                    w.i64(0); // log start offset
                }
                if v >= 8 {
                    w.array_len(0, flex);
                    w.nullable_string(None, flex);
                }
                if flex {
                    match leader {
                        Some((id, epoch)) if v >= 10 => {
                            leaders.push(id);
                            w.uvarint(1);
                            w.uvarint(0);
                            w.uvarint(9);
                            w.i32(id);
                            w.i32(epoch);
                            w.no_tagged_fields();
                        }
                        _ => w.no_tagged_fields(),
                    }
                }
            }
            if flex {
                w.no_tagged_fields();
            }
        }
        w.i32(throttle_ms);
        if flex {
            leaders.sort();
            leaders.dedup();
            if leaders.is_empty() || v < 10 {
                w.no_tagged_fields();
            } else {
                let mut body = Vec::new();
                let mut b = Writer::new(&mut body);
                b.array_len(leaders.len(), true);
                for id in &leaders {
                    b.i32(*id);
                    b.string(&format!("broker-{id}"), true);
                    b.i32(9092);
                    b.nullable_string(None, true);
                    b.no_tagged_fields();
                }
                w.uvarint(1);
                w.uvarint(0);
                w.uvarint(body.len() as u64);
                w.raw(&body);
            }
        }
        out
    }
}
