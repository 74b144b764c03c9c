//! buffer.memory bounds the component's linear memory: offered ten times
//! the bound, the producer refuses records with queue-full at once (it
//! never blocks) and its memory stays within the bound plus a constant
//! (6.5 MiB). Prints the figures.

use std::time::Duration;

use host_tests::*;

const BOUND: usize = 8 << 20;
/// What the component needs beside buffer.memory: code's data, the
/// canonical ABI's copy of one `send` call's records (1 MB here), the
/// request copies one step hands out (2 MiB, `REQUEST_BYTES_PER_DRIVE`,
/// plus the request that crosses it: up to a batch, 256 KiB by default),
/// allocator slack for batch buffers of up to batch.size. Measured: a
/// peak of 13.2 to 14.2 MiB over 8 MiB with the default batch.size of 256
/// KiB, 11.4 MiB with 16 KiB batches.
const CONSTANT: usize = 13 << 19;

fn records(n: usize, size: usize) -> Vec<KafkaRecord> {
    (0..n).map(|i| keyed(format!("k{i}").as_bytes(), &vec![(i % 251) as u8; size])).collect()
}

#[test]
fn a_stuck_cluster_cannot_grow_memory_past_the_bound() {
    // Nothing listens: every accepted record stays in the producer.
    let port = free_port().unwrap();
    let bootstrap = format!("127.0.0.1:{port}");
    let mut c = client(&[("bootstrap.servers", &bootstrap), ("buffer.memory", &BOUND.to_string())]);
    let chunk = records(1_000, 1_000); // 1 MB per send call
    let (mut accepted, mut full) = (0usize, 0usize);
    for _ in 0..(10 * BOUND / (1 << 20)) {
        let outcome = c.send("t", &chunk).unwrap();
        full += outcome.rejected.iter().filter(|r| r.error.kind == ErrorKind::QueueFull).count();
        accepted += chunk.len() - outcome.rejected.len();
        c.step_now().unwrap();
    }
    let peak = c.peak_memory();
    println!(
        "stuck cluster: offered {} MiB, accepted {accepted} records ({:.1} MiB), refused {full} with queue-full; peak linear memory {:.1} MiB for buffer.memory {} MiB",
        10 * BOUND >> 20,
        (accepted * 1_000) as f64 / (1 << 20) as f64,
        peak as f64 / (1 << 20) as f64,
        BOUND >> 20
    );
    assert!(full > 0, "the bound was never reached");
    assert!(accepted * 1_000 <= BOUND, "accepted more record bytes than buffer.memory");
    assert!(peak <= BOUND + CONSTANT, "peak {peak} > bound {BOUND} + {CONSTANT}");
}

#[test]
fn ten_times_the_bound_through_a_real_broker_stays_within_it() {
    let broker = Broker::start().unwrap();
    broker.create_topic("mem", 4).unwrap();
    let mut c = client(&[("bootstrap.servers", &broker.bootstrap()), ("buffer.memory", &BOUND.to_string()), ("linger.ms", "5")]);
    let chunk = records(1_000, 1_000);
    let mut sent = 0usize;
    // Reports collected while send_all waited for room: the bound was hit.
    let mut reports_while_full = 0usize;
    while sent < 10 * BOUND {
        let s = c.send_all("mem", &chunk, Duration::from_secs(60)).unwrap();
        assert!(s.rejected.is_empty());
        reports_while_full += s.reports.len();
        sent += chunk.len() * 1_000;
    }
    c.close(Duration::from_secs(60)).unwrap();
    let peak = c.peak_memory();
    println!(
        "real broker: produced {} MiB through buffer.memory {} MiB; peak linear memory {:.1} MiB",
        sent >> 20,
        BOUND >> 20,
        peak as f64 / (1 << 20) as f64
    );
    assert!(reports_while_full > 0, "10x the bound was offered, yet send_all never waited for room");
    assert!(peak <= BOUND + CONSTANT, "peak {peak} > bound {BOUND} + {CONSTANT}");
}
