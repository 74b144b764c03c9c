//! kafka-kcat: produce lines from stdin to Kafka, kcat-style, as a WASI
//! command. Built for wasm32-wasip2 it runs under the wasmtime CLI
//! (`wasmtime run -S inherit-network=y kafka-kcat.wasm -b HOST:PORT -t TOPIC`),
//! driving the sans-I/O producer core itself over WASI sockets and clocks
//! (through std); built natively it runs as a plain program.
//!
//! -b HOST:PORT  bootstrap servers (required)   -t TOPIC  topic (default: lines)
//! -K DELIM      key/value delimiter             -X KEY=VALUE  producer property

use std::collections::HashMap;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kafka_producer_component::{Config, Output, Producer, Record};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A connection: its socket and the bytes not yet written.
struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

#[derive(Default)]
struct Tally {
    delivered: u64,
    failed: u64,
    errors: Vec<String>,
}

/// Carries out everything the producer asks, then reads what arrived.
/// Returns whether anything happened.
fn turn(p: &mut Producer, conns: &mut HashMap<u32, Conn>, tally: &mut Tally) -> bool {
    let mut moved = false;
    let now = now_ms();
    while let Some(o) = p.poll(now) {
        moved = true;
        match o {
            Output::Connect { conn, host, port } => match TcpStream::connect((host.as_str(), port)) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let _ = stream.set_nonblocking(true);
                    conns.insert(conn, Conn { stream, pending: Vec::new() });
                    p.handle_connected(conn, now);
                }
                Err(e) => p.handle_closed(conn, &format!("connect to {host}:{port}: {e}"), now),
            },
            Output::Transmit { conn, data } => {
                if let Some(c) = conns.get_mut(&conn) {
                    c.pending.extend_from_slice(&data);
                }
            }
            Output::Close { conn } => {
                conns.remove(&conn);
            }
            Output::Report(r) => match r.error {
                None => tally.delivered += r.records.len() as u64,
                Some(e) => {
                    tally.failed += r.records.len() as u64;
                    if tally.errors.len() < 5 {
                        tally.errors.push(format!("{}[{}]: {}", r.topic, r.partition, e.message));
                    }
                }
            },
            Output::Warning(w) => {
                if std::env::var_os("VERBOSE").is_some() {
                    eprintln!("warning: {w}");
                }
            }
        }
    }
    let mut closed = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (&id, c) in conns.iter_mut() {
        // Write what is pending, as far as the socket takes it.
        while !c.pending.is_empty() {
            match c.stream.write(&c.pending) {
                Ok(0) => break,
                Ok(n) => {
                    c.pending.drain(..n);
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    closed.push((id, e.to_string()));
                    break;
                }
            }
        }
        loop {
            match c.stream.read(&mut buf) {
                Ok(0) => {
                    closed.push((id, "closed by the broker".into()));
                    break;
                }
                Ok(n) => {
                    p.handle_received(id, &buf[..n], now_ms());
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    closed.push((id, e.to_string()));
                    break;
                }
            }
        }
    }
    for (id, why) in closed {
        conns.remove(&id);
        p.handle_closed(id, &why, now_ms());
        moved = true;
    }
    if p.poll_timeout().is_some_and(|t| t <= now_ms()) {
        p.handle_timeout(now_ms());
        moved = true;
    }
    moved
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(bootstrap) = opt("-b") else {
        eprintln!("usage: kafka-kcat -b HOST:PORT [-t TOPIC] [-K DELIM] [-X KEY=VALUE ...] < lines");
        std::process::exit(2);
    };
    let topic = opt("-t").unwrap_or_else(|| "lines".into());
    let delim = opt("-K");
    let mut props = vec![("bootstrap.servers".to_string(), bootstrap), ("client.id".to_string(), "kafka-kcat".to_string())];
    for (i, a) in args.iter().enumerate() {
        if a == "-X" {
            if let Some((k, v)) = args.get(i + 1).and_then(|kv| kv.split_once('=')) {
                props.push((k.into(), v.into()));
            }
        }
    }
    // The core reads no files: the CA file is read here (run with
    // `wasmtime run --dir` on its directory).
    if !props.iter().any(|(k, _)| k == "ssl.ca.pem") {
        if let Some(i) = props.iter().position(|(k, _)| k == "ssl.ca.location") {
            match std::fs::read_to_string(&props[i].1) {
                Ok(pem) => props[i] = ("ssl.ca.pem".into(), pem),
                Err(e) => {
                    eprintln!("invalid configuration `ssl.ca.location`: cannot read {}: {e}", props[i].1);
                    std::process::exit(2);
                }
            }
        }
    }
    let config = match Config::from_pairs(props.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    // Entropy for TLS and SCRAM, from wasi:random.
    let mut entropy = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut entropy) {
        eprintln!("no entropy from the host: {e}");
        std::process::exit(2);
    }
    let mut p = Producer::with_entropy(config, now_ms(), &entropy);
    let mut conns = HashMap::new();
    let mut tally = Tally::default();
    let start = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let (key, value) = match delim.as_deref().and_then(|d| line.split_once(d)) {
            Some((k, v)) => (Some(k.as_bytes()), v.as_bytes()),
            None => (None, line.as_bytes()),
        };
        records += 1;
        bytes += (value.len() + key.map_or(0, <[u8]>::len)) as u64;
        loop {
            match p.send(&topic, &Record { key, value: Some(value), ..Default::default() }, now_ms()) {
                Ok(_) => break,
                // Queue full: drive the producer until reports free room.
                Err(e) if e.kind == kafka_producer_component::ErrorKind::QueueFull => {
                    if !turn(&mut p, &mut conns, &mut tally) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                Err(e) => {
                    tally.failed += 1;
                    if tally.errors.len() < 5 {
                        tally.errors.push(format!("rejected: {}", e.message));
                    }
                    break;
                }
            }
        }
        if records % 1024 == 0 {
            turn(&mut p, &mut conns, &mut tally);
        }
    }
    p.close(now_ms(), 60_000);
    while p.unreported() > 0 || conns.values().any(|c| !c.pending.is_empty()) {
        if !turn(&mut p, &mut conns, &mut tally) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    // The last reports may still wait in the producer's output queue.
    turn(&mut p, &mut conns, &mut tally);
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    println!(
        "records: {records}  delivered: {}  failed: {}  bytes: {bytes}  time: {secs:.3} s  {:.0} msgs/s  {:.2} MB/s",
        tally.delivered,
        tally.failed,
        tally.delivered as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    for e in &tally.errors {
        println!("error: {e}");
    }
    std::process::exit(if tally.failed > 0 { 1 } else { 0 });
}
