//! The producer core against seeded schedules of faults on a simulated
//! cluster: many random schedules, each checked by the complete oracle and
//! the liveness rule (`tests/sim/oracle.rs`). The named scenarios are in
//! `tests/simulated.rs`.

mod sim;

use sim::{Fault, Rng, Sim};

/// Which faults a seeded schedule draws.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mix {
    /// Everything below.
    Any,
    /// Only faults that end: retriable errors, dropped and stalled
    /// connections, throttles, leader moves, lost producer state,
    /// retriable InitProducerId errors, junk on the wire.
    Transient,
    /// Only INVALID_RECORD answers, which no retry cures.
    Fatal,
}

/// One seeded schedule: a 3-broker cluster, random faults on every
/// partition (retriable and fatal error codes, connections dropped before
/// or after the append, lost producer state, stalls past the request
/// timeout, throttling), requests and responses split into random pieces,
/// leaders moving, random bytes injected and connections dropped between
/// rounds, InitProducerId refused for a while, and sometimes a broker that
/// keeps fewer batches for deduplication than the producer has in flight
/// (so a retry gets DUPLICATE_SEQUENCE_NUMBER). Every fault is used up, so
/// the cluster heals. Returns the faults injected.
///
/// Checked after each: nothing panics; the complete oracle
/// (`Sim::check_delivery`: one report per record, every delivered record
/// byte-exact at its reported place on the Java client's partition; with
/// idempotence nothing twice and per-partition send order); liveness
/// (`Sim::check_liveness`: a record fails only with a fatal code the
/// brokers gave it, so every record hit only by transient faults is
/// delivered within its delivery timeout); no batch or request over the
/// limits; no request to a broker that throttled the producer; the
/// producer never asks to be woken in the past.
fn schedule(seed: u64, mix: Mix) -> (usize, Sim) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let idempotent = seed % 4 != 0;
    let mut sim = Sim::new(3, &[("a", 3), ("b", 2)]);
    if rng.below(3) == 0 {
        sim.fragment = Some(1 + rng.below(40) as usize);
    }
    if rng.below(2) == 0 {
        sim.latency_ms = rng.below(6);
    }
    if mix != Mix::Fatal {
        if idempotent && rng.below(4) == 0 {
            sim.init_faults = (0..1 + rng.below(3)).map(|_| 15).collect(); // COORDINATOR_NOT_AVAILABLE
        }
        if rng.below(4) == 0 {
            sim.dedup_window = 1 + rng.below(4) as usize;
        }
    }
    for (t, p) in [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1)] {
        let faults: Vec<Fault> = (0..rng.below(4))
            .map(|_| draw_fault(&mut rng, mix, idempotent))
            .collect();
        sim.faults.insert((t.into(), p), faults.into());
        if mix != Mix::Fatal && rng.below(5) == 0 {
            sim.move_leader.insert((t.into(), p), rng.below(3) as i32);
        }
    }
    let idem = if idempotent { "true" } else { "false" };
    let codec = ["none", "gzip", "snappy", "lz4", "zstd"][rng.below(5) as usize];
    // Tight limits, so batches and requests press against them; sometimes a
    // topic limit below the producer's, so batches are split.
    sim.max_request_size = 4_000;
    sim.message_max_bytes = 1_500;
    if mix == Mix::Any && rng.below(4) == 0 {
        sim.topic_max_message_bytes = Some(250);
    }
    let mut p = sim.producer(&[
        ("linger.ms", "2"),
        ("batch.size", "600"),
        ("delivery.timeout.ms", "30000"),
        ("request.timeout.ms", "1500"),
        ("enable.idempotence", idem),
        ("compression.type", codec),
        ("max.request.size", "4000"),
        ("message.max.bytes", "1500"),
    ]);
    let mut ids = Vec::new();
    for round in 0..12 {
        let topic = if round % 3 == 0 { "b" } else { "a" };
        ids.extend(sim.send_n(&mut p, topic, 1 + rng.below(40) as usize));
        let horizon = sim.now + rng.below(40);
        sim.run(&mut p, horizon);
        let conns = sim.open_conns();
        if mix != Mix::Fatal && !conns.is_empty() && rng.below(5) == 0 {
            let c = conns[rng.below(conns.len() as u64) as usize];
            if rng.below(2) == 0 {
                sim.drop_conn(c);
            } else {
                let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                sim.inject(c, junk);
            }
            sim.faults_injected += 1;
        }
    }
    sim.run(&mut p, sim.now + 200_000);
    if std::env::var("KPC_SIM_TRACE").is_ok() {
        eprintln!("faults {:?}\nmoves {:?}\nfragment {:?}", sim.faults, sim.move_leader, sim.fragment);
        for w in &sim.warnings {
            eprintln!("warning: {w}");
        }
        for r in &sim.reports {
            eprintln!("report {}-{} @{} {:?} err {:?}", r.topic, r.partition, r.base_offset, r.records, r.error.as_ref().map(|e| &e.message));
        }
    }
    assert_eq!(p.unreported(), 0, "seed {seed}");
    assert_eq!(ids.len(), sim.sent.len());
    sim.check_delivery(idempotent);
    sim.check_liveness();
    assert!(sim.violations.is_empty(), "seed {seed}: {:?}", sim.violations);
    assert_eq!(sim.throttle_violations, 0, "seed {seed}: sent to a broker that throttled us");
    (sim.faults_injected, sim)
}

/// One fault for a partition's next Produce request. Lost producer state
/// only with idempotence (without, the broker keeps no state to lose).
fn draw_fault(rng: &mut Rng, mix: Mix, idempotent: bool) -> Fault {
    let (errors, lost_state): (&[i16], u64) = match mix {
        Mix::Fatal => return Fault::Error(87),
        Mix::Transient => (&[6, 7, 19, 3], 1),
        Mix::Any => (&[6, 7, 19, 10, 87, 3], 2),
    };
    match rng.below(6 + if idempotent { lost_state } else { 0 }) {
        0 => Fault::Error(errors[rng.below(errors.len() as u64) as usize]),
        1 => Fault::DropBefore,
        2 => Fault::DropAfter,
        3 => Fault::Stall(500 + rng.below(3_000)),
        4 => Fault::Throttle(rng.below(2_000)),
        5 => Fault::AppendThenError([7, 20][rng.below(2) as usize]),
        _ => Fault::LoseProducerState,
    }
}

/// Runs `schedule` for each seed, naming the seed that fails and how to
/// replay it.
fn run_schedules(seeds: impl Iterator<Item = u64>, mix: Mix, each: impl Fn(u64, &Sim)) -> (u64, usize) {
    let (mut n, mut faults) = (0, 0);
    for seed in seeds {
        match std::panic::catch_unwind(|| schedule(seed, mix)) {
            Ok((f, sim)) => {
                each(seed, &sim);
                faults += f;
                n += 1;
            }
            Err(e) => panic!(
                "seed {seed} ({mix:?}) failed (replay: KPC_SIM_SEED={seed} cargo test --profile host --test schedules seeded): {:?}",
                e.downcast_ref::<String>().map(String::as_str).or(e.downcast_ref::<&str>().copied())
            ),
        }
    }
    (n, faults)
}

/// `KPC_SIM_SCHEDULES` schedules (100,000 by default); `KPC_SIM_SEED=n`
/// replays one. Prints schedules per second and faults injected.
#[test]
fn seeded_fault_schedules_keep_every_guarantee() {
    if let Ok(seed) = std::env::var("KPC_SIM_SEED") {
        schedule(seed.parse().expect("KPC_SIM_SEED is a number"), Mix::Any);
        return;
    }
    let n: u64 = match std::env::var("KPC_SIM_SCHEDULES") {
        Ok(s) => s.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| panic!("KPC_SIM_SCHEDULES={s:?}: want a positive number")),
        Err(_) => 100_000,
    };
    let start = std::time::Instant::now();
    let (ran, faults) = run_schedules(1..=n, Mix::Any, |_, _| {});
    assert_eq!(ran, n);
    let secs = start.elapsed().as_secs_f64();
    println!("simulation: {n} schedules, {faults} faults injected, {:.0} schedules/s", n as f64 / secs);
}

/// Liveness: when every fault is transient and the cluster heals, every
/// record is delivered, none fails.
#[test]
fn schedules_of_transient_faults_deliver_every_record() {
    let (_, faults) = run_schedules(1..=3_000, Mix::Transient, |seed, sim| {
        let failed = sim.reports.iter().find(|r| r.error.is_some());
        assert!(failed.is_none(), "seed {seed} (Transient): {failed:?}");
    });
    assert!(faults > 5_000, "{faults} faults");
}

/// A schedule that only injects fatal errors fails exactly the records
/// those answers hit, and delivers the rest.
#[test]
fn schedules_of_fatal_errors_fail_exactly_the_records_they_hit() {
    let (_, faults) = run_schedules(1..=3_000, Mix::Fatal, |seed, sim| {
        for r in &sim.reports {
            for id in &r.records {
                let no = sim.record_number(*id);
                let hit = sim.answers.get(&no).is_some_and(|a| a.contains(&87));
                assert_eq!(r.error.as_ref().map(|e| e.code), hit.then_some(87), "seed {seed} (Fatal): record {no}");
            }
        }
    });
    assert!(faults > 1_000, "{faults} faults");
}
