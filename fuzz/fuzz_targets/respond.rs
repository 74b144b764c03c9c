//! What the scripted cluster does with a Produce request, as the input
//! says: per batch, the sequence check and append, or an error, a leader
//! move, lost producer state; per request, an answer, a dropped
//! connection (before or after appending), a withheld answer, garbage.

use crate::broker::{Cluster, PartResult, Request};
use crate::input::{Disp, Fate, Respond};

use super::World;

impl World {
    pub(super) fn respond(&mut self, r: Respond) {
        let ready: Vec<u32> = self
            .c
            .conns
            .iter()
            .filter(|(_, c)| !c.stuck && c.queue.front().is_some_and(|q| q.api == 0))
            .map(|(&id, _)| id)
            .collect();
        if ready.is_empty() {
            return;
        }
        let conn = ready[r.conn as usize % ready.len()];
        let req = self.c.conns.get_mut(&conn).unwrap().queue.pop_front().unwrap();
        self.answer_produce(conn, req, &r);
    }

    pub(super) fn answer_produce(&mut self, conn: u32, req: Request, r: &Respond) {
        let (acks, batches) = self.c.decode_produce(&req);
        self.flags.insert("produce decoded");
        for b in &batches {
            self.c.check_sequences(b);
            if b.ids.iter().any(|id| self.appended.contains_key(id) || self.too_large.contains(id)) {
                self.flags.insert("broker: a record sent again");
            }
        }
        if r.fate == Fate::DropBefore {
            return self.drop_conn(conn);
        }
        let node = self.c.conns[&conn].node;
        let mut results: Vec<PartResult> = Vec::new();
        for (i, b) in batches.iter().enumerate() {
            let p = &self.c.topics[b.topic].1[b.partition as usize];
            if p.leader != node {
                results.push((b.topic, b.partition, 6, -1, Some((p.leader, p.leader_epoch))));
                continue;
            }
            let disp = r.parts[i % 4];
            let append = |w: &mut World, on_ok: i16| match w.c.append(b) {
                Ok((base, dup)) => {
                    if dup {
                        w.flags.insert("broker: duplicate");
                    } else {
                        for (k, id) in b.ids.iter().enumerate() {
                            w.appended.entry(*id).or_default().push((b.topic, b.partition, base as usize + k, b.epoch));
                        }
                    }
                    match (on_ok, dup && r.dup46) {
                        (0, true) => (46, -1),
                        (0, false) => (0, base),
                        (code, _) => (code, -1),
                    }
                }
                Err(code) => {
                    w.flags.insert(match code {
                        45 => "broker: out of order",
                        47 => "broker: old epoch",
                        _ => "broker: unknown producer id",
                    });
                    (code, -1)
                }
            };
            let (code, base, leader) = match disp {
                Disp::Ok => {
                    let (c, o) = append(self, 0);
                    (c, o, None)
                }
                Disp::Error(code @ (45 | 47 | 59)) if b.pid >= 0 => {
                    // Sequence errors come from the broker's own check, as
                    // a real broker's do: a scripted 59 loses the state
                    // first, and a batch it holds is still a duplicate.
                    if code == 59 {
                        self.c.lose_state(b.topic, b.partition);
                    }
                    let (c, o) = append(self, 0);
                    (c, o, None)
                }
                Disp::Error(code) => {
                    if code == 10 {
                        self.too_large.extend(&b.ids);
                    }
                    (code, -1, None)
                }
                Disp::MoveLeader => (6, -1, Some(self.c.move_leader(b.topic, b.partition))),
                Disp::AppendThenError(code) => {
                    let (c, _) = append(self, code);
                    (c, -1, None)
                }
                Disp::LoseState => {
                    self.c.lose_state(b.topic, b.partition);
                    let (c, o) = append(self, 0);
                    (c, o, None)
                }
            };
            results.push((b.topic, b.partition, code, base, leader));
        }
        if r.fate == Fate::DropAfter {
            return self.drop_conn(conn);
        }
        if acks == 0 {
            return;
        }
        let throttle = r.throttle.map_or(0, |t| i32::from(t) * 20);
        let body = self.c.produce_response(req.version, &results, throttle);
        match r.fate {
            Fate::Withhold => self.c.conns.get_mut(&conn).unwrap().stuck = true,
            Fate::Garbage(seed) => {
                // Bytes no decoder can take for this answer: a wrong
                // correlation id, or a frame longer than will ever come.
                let mut bytes = Cluster::frame(&Request { cid: req.cid ^ 0x5a5a, ..req }, &body);
                if seed & 1 == 1 {
                    bytes[..4].copy_from_slice(&0x7fff_fff0i32.to_be_bytes());
                }
                self.c.conns.get_mut(&conn).unwrap().stuck = true;
                self.deliver(conn, &bytes);
            }
            _ => {
                let bytes = Cluster::frame(&req, &body);
                self.deliver(conn, &bytes);
            }
        }
    }
}
