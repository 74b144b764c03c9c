//! Helpers for the transaction tests: a transactional producer, a call
//! run to its outcome, and the account the invariants are checked against.

use kafka_producer_component::{ProduceError, Producer, RecordId, TxnCall};

use super::Sim;

pub const TXN: &str = "orders-txn";

pub fn txn_producer(sim: &mut Sim, extra: &[(&str, &str)]) -> Producer {
    let mut pairs = vec![("transactional.id", TXN), ("retry.backoff.ms", "20")];
    pairs.extend_from_slice(extra);
    sim.producer(&pairs)
}

/// A transactional producer, initialised, with a transaction open.
pub fn begun(sim: &mut Sim, extra: &[(&str, &str)]) -> Producer {
    let mut p = txn_producer(sim, extra);
    call(sim, &mut p, TxnCall::Init).expect("init");
    call(sim, &mut p, TxnCall::Begin).expect("begin");
    p
}

/// Makes `call` and runs the simulation until its outcome comes.
pub fn call(sim: &mut Sim, p: &mut Producer, c: TxnCall) -> Result<(), ProduceError> {
    let op = c.op();
    p.transaction(c)?;
    let Some(op) = op else { return Ok(()) };
    let give_up = sim.now + 300_000;
    loop {
        if let Some(i) = sim.txn_results.iter().position(|r| r.op == op) {
            return sim.txn_results.remove(i).error.map_or(Ok(()), Err);
        }
        assert!(sim.now < give_up, "{op:?} never finished");
        let t = sim.now + 50;
        sim.run(p, t);
    }
}

/// The test's account of its transactions: which records each held, and
/// whether it committed.
#[derive(Default)]
pub struct Ledger {
    pub txns: Vec<(Vec<RecordId>, bool)>,
}

impl Ledger {
    /// Every record of a committed transaction is visible to read_committed
    /// exactly once, none of an aborted one; per partition in send order;
    /// every record has one report; no batch reached a partition its
    /// transaction had not added.
    pub fn check(&self, sim: &Sim) {
        sim.check_delivery(true);
        assert!(sim.violations.is_empty(), "{:?}", sim.violations);
        let counts = sim.committed_counts();
        for (ids, committed) in &self.txns {
            for id in ids {
                let no = sim.record_number(*id);
                let seen = counts.get(&sim.sent[no].record).copied().unwrap_or(0);
                assert_eq!(seen, usize::from(*committed), "record {no} of a {} transaction seen {seen} times", if *committed { "committed" } else { "aborted" });
            }
        }
        for (topic, parts) in &sim.topics {
            for p in 0..parts.len() {
                let view = sim.read_committed(topic, p as i32);
                let order: Vec<usize> = view.iter().map(|s| sim.sent.iter().position(|x| &x.record == *s).expect("a record the test sent")).collect();
                assert!(order.windows(2).all(|w| w[0] < w[1]), "{topic}-{p}: read_committed out of send order: {order:?}");
            }
        }
    }
}
