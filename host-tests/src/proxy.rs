//! A fault-injecting TCP proxy between the producer's host and a real
//! broker: it forwards bytes both ways and, on a seeded schedule, kills a
//! connection after some bytes (a request or response cut anywhere, the
//! classic "appended but the response was lost") or stalls it for longer
//! than the producer's request timeout. Faults stop after `max_faults`, so
//! a test always ends.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct FaultPlan {
    pub seed: u64,
    /// Out of 1000, per chunk forwarded either way: kill the connection.
    pub kill_per_mille: u64,
    /// Out of 1000, per chunk: stall it this long first.
    pub stall_per_mille: u64,
    pub stall: Duration,
    pub max_faults: usize,
}

pub struct FaultProxy {
    pub port: u16,
    calm: Arc<AtomicBool>,
    pub kills: Arc<AtomicUsize>,
    pub stalls: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

struct Shared {
    calm: Arc<AtomicBool>,
    rng: AtomicU64,
    kills: Arc<AtomicUsize>,
    stalls: Arc<AtomicUsize>,
    plan: FaultPlan,
}

impl Shared {
    fn roll(&self) -> u64 {
        // xorshift on a shared atomic: deterministic per seed up to thread
        // interleaving, which is enough for a fault schedule.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x % 1000
    }
    fn faults(&self) -> usize {
        self.kills.load(Ordering::Relaxed) + self.stalls.load(Ordering::Relaxed)
    }
}

impl FaultProxy {
    /// Listens on a free loopback port; forwards to `upstream_port`.
    pub fn start(listener: TcpListener, upstream_port: u16, plan: FaultPlan) -> FaultProxy {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let kills = Arc::new(AtomicUsize::new(0));
        let stalls = Arc::new(AtomicUsize::new(0));
        let calm = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared { calm: calm.clone(), rng: AtomicU64::new(plan.seed | 1), kills: kills.clone(), stalls: stalls.clone(), plan });
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else { continue };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (sh1, sh2) = (shared.clone(), shared.clone());
                // Both ways: a request cut before the broker has it whole, a
                // response cut after the broker appended.
                std::thread::spawn(move || pump(client, server, Some(sh1)));
                std::thread::spawn(move || pump(s2, c2, Some(sh2)));
            }
        });
        FaultProxy { port, calm, kills, stalls, stop }
    }

    /// Stops injecting faults; forwarding goes on (for the reader, which
    /// the broker also sends through the proxy).
    pub fn calm(&self) {
        self.calm.store(true, Ordering::Relaxed);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, faults: Option<Arc<Shared>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(f) = &faults {
            if f.faults() < f.plan.max_faults && !f.calm.load(Ordering::Relaxed) {
                let r = f.roll();
                if r < f.plan.kill_per_mille {
                    // Forward part of the chunk, then cut: a response torn
                    // anywhere, its request already appended.
                    let cut = (f.roll() as usize * n) / 1000;
                    let _ = to.write_all(&buf[..cut]);
                    f.kills.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                if r < f.plan.kill_per_mille + f.plan.stall_per_mille {
                    f.stalls.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(f.plan.stall);
                }
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
