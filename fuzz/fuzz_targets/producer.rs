//! The producer against a scripted cluster (`broker.rs`): the handshake is
//! always answered validly, so every input reaches Produce; the input then
//! says what records are sent, when time passes, and what the cluster does
//! with each Produce request (success, retriable, fatal and idempotence
//! errors, leader moves, lost producer state, dropped connections, withheld
//! answers, throttling, garbage). The cluster keeps real logs and Kafka's
//! sequence check. Invariants (`world.rs`): one report per accepted record
//! and none for a rejected one; a delivered record is in the log at the
//! offset its report names; a written sequence never names another record;
//! with idempotence, each partition's log holds its records once, in send
//! order; with a healthy cluster nothing stalls; after close and
//! delivery.timeout.ms, unreported() == 0 and every connection is closed.
//!
//! With KPC_FUZZ_REACH=<file>, each input appends a line naming what it
//! reached (requests, outcomes) to the file: scripts/fuzz_coverage.sh counts them.
#![no_main]

mod broker;
mod input;
mod world;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: input::Input| {
    let flags = world::World::run(input);
    static REACH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(path) = REACH.get_or_init(|| std::env::var("KPC_FUZZ_REACH").ok()) {
        use std::io::Write;
        let line: Vec<&str> = flags.into_iter().collect();
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("reach file");
        writeln!(f, "{}", line.join("|")).expect("reach file");
    }
});
