//! A Tansu broker (Apache Kafka-compatible, Apache-2.0) started and stopped
//! by the host, on a free loopback port, memory storage. The project's
//! scripts install it; `TANSU_BIN` names the binary.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The tansu binary: `TANSU_BIN`, else the one the project's install
/// script puts in its cache, else `tansu` on PATH.
pub fn tansu_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cached = PathBuf::from(home).join(".cache/kafka-producer-component/bin/tansu");
    if cached.exists() {
        return cached;
    }
    PathBuf::from("tansu")
}

/// A running broker; stopped when dropped.
pub struct Broker {
    child: Child,
    pub port: u16,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Broker {
    /// Starts a broker on a free loopback port and waits until it accepts
    /// connections.
    pub fn start() -> Result<Broker> {
        Broker::start_advertising(None)
    }

    /// Starts a broker that tells clients (in metadata) to connect to
    /// `advertised_port` instead of its own: a proxy in front of it.
    pub fn start_advertising(advertised_port: Option<u16>) -> Result<Broker> {
        let bin = tansu_bin();
        let port = free_port()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let advertised = format!("tcp://127.0.0.1:{}", advertised_port.unwrap_or(port));
        let child = Command::new(&bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &advertised, "--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} (run scripts/setup.sh to install it)", bin.display()))?;
        let mut broker = Broker { child, port };
        let end = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = broker.child.try_wait() {
                bail!("tansu exited at start: {status}");
            }
            if Instant::now() > end {
                bail!("tansu did not listen on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates a topic with `partitions` partitions. A broker just started
    /// on a loaded machine may accept the connection and then reset it:
    /// that is tried again, a few times.
    pub fn create_topic(&self, name: &str, partitions: u32) -> Result<()> {
        let mut attempt = 0;
        loop {
            let out = Command::new(tansu_bin())
                .args(["topic", "create", name, "--broker", &format!("tcp://127.0.0.1:{}", self.port), "--partitions", &partitions.to_string()])
                .output()
                .context("running tansu topic create")?;
            if out.status.success() {
                return Ok(());
            }
            let err = String::from_utf8_lossy(&out.stderr);
            attempt += 1;
            if attempt >= 5 || !(err.contains("ConnectionReset") || err.contains("ConnectionRefused")) {
                bail!("tansu topic create {name} failed: {err}");
            }
            std::thread::sleep(Duration::from_millis(200 * attempt));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
