//! A protocol-level fake broker for what Tansu cannot show: a broker that
//! answers with garbage, cuts a response short, or never answers. It speaks
//! just enough Kafka (request framing, an ApiVersions v3 response) to get a
//! producer to the stage where it misbehaves.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Answers the very first request (ApiVersions) with random bytes.
    GarbageFirst,
    /// Answers ApiVersions properly, then Metadata with random bytes in a
    /// well-sized frame.
    GarbageAfterApiVersions,
    /// Answers ApiVersions properly, then half a Metadata frame, then closes.
    TruncateAfterApiVersions,
    /// Answers ApiVersions properly, then never answers again.
    SilentAfterApiVersions,
}

pub struct FakeBroker {
    pub port: u16,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FakeBroker {
    pub fn start(how: Misbehaviour) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (conns, stopping) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seed = 0x2545_f491_u64;
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        conns.fetch_add(1, Ordering::Relaxed);
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        std::thread::spawn(move || serve(s, how, seed));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeBroker { port, connections, stop }
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(s: &mut TcpStream) -> Option<(i16, i16, i32)> {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
    s.read_exact(&mut body).ok()?;
    let key = i16::from_be_bytes([body[0], body[1]]);
    let version = i16::from_be_bytes([body[2], body[3]]);
    let correlation = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
    Some((key, version, correlation))
}

/// ApiVersionsResponse v3 (header v0): Produce 3-11, Metadata 4-12,
/// ApiVersions 0-3, InitProducerId 0-4.
fn api_versions_v3(correlation: i32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&correlation.to_be_bytes());
    b.extend_from_slice(&0i16.to_be_bytes()); // error code
    b.push(5); // compact array of 4
    for (k, min, max) in [(0i16, 3i16, 11i16), (3, 4, 12), (18, 0, 3), (22, 0, 4)] {
        b.extend_from_slice(&k.to_be_bytes());
        b.extend_from_slice(&min.to_be_bytes());
        b.extend_from_slice(&max.to_be_bytes());
        b.push(0); // tagged fields
    }
    b.extend_from_slice(&0i32.to_be_bytes()); // throttle
    b.push(0); // tagged fields
    frame(b)
}

fn frame(body: Vec<u8>) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend(body);
    f
}

fn garbage(correlation: i32, seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut b = correlation.to_be_bytes().to_vec();
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.push(x as u8);
    }
    frame(b)
}

fn serve(mut s: TcpStream, how: Misbehaviour, seed: u64) {
    let Some((_, _, cid)) = read_request(&mut s) else { return };
    if how == Misbehaviour::GarbageFirst {
        let _ = s.write_all(&garbage(cid, seed, 64));
        std::thread::sleep(Duration::from_secs(30));
        return;
    }
    if s.write_all(&api_versions_v3(cid)).is_err() {
        return;
    }
    let Some((_, _, cid)) = read_request(&mut s) else { return };
    match how {
        Misbehaviour::GarbageAfterApiVersions => {
            let _ = s.write_all(&garbage(cid, seed, 200));
        }
        Misbehaviour::TruncateAfterApiVersions => {
            let mut f = frame([cid.to_be_bytes().as_slice(), &[0u8; 100]].concat());
            f.truncate(50);
            let _ = s.write_all(&f);
            return; // closes
        }
        _ => {}
    }
    // Hold the connection open, reading and ignoring whatever comes.
    let mut sink = [0u8; 4096];
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    while let Ok(n) = s.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}
