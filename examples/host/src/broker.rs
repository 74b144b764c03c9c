//! A Tansu broker (Apache Kafka-compatible, Apache-2.0) started and stopped
//! by the host, on a free loopback port, memory storage. The project's
//! scripts install it; `TANSU_BIN` names the binary.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
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
    child: Mutex<Child>,
    pub port: u16,
    /// Where the broker's stderr goes, quoted when it fails.
    log: PathBuf,
}

/// A loopback port for a child process to listen on. Ports come from below
/// Linux's ephemeral range (32768 and up), so no outgoing connection can
/// take one between this check and the child's bind. A process never hands
/// out the same port twice, and each port is also claimed with a lock file
/// held until the process exits, so processes choosing ports at the same
/// time (a test and the `kafka-produce` it runs, which starts its own
/// broker) cannot pick the same one: two brokers on one port would leave
/// one failing to bind while the other answers in its place.
pub fn free_port() -> Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static CLAIMS: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let dir = std::env::temp_dir().join("kpc-ports");
    let _ = std::fs::create_dir_all(&dir);
    let start = (std::process::id() % 300) * 40;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + (start + n) % SPAN) as u16;
        let Ok(claim) = std::fs::File::create(dir.join(format!("{port}.lock"))) else { continue };
        if claim.try_lock().is_err() {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            CLAIMS.lock().unwrap_or_else(|e| e.into_inner()).push(claim);
            return Ok(port);
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tail(path: &PathBuf) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
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
        let log = std::env::temp_dir().join(format!("kpc-tansu-{}-{port}.log", std::process::id()));
        let stderr = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(&bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &advertised, "--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {} (run scripts/setup.sh to install it)", bin.display()))?;
        let broker = Broker { child: Mutex::new(child), port, log };
        let end = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            broker.check_running()?;
            if Instant::now() > end {
                bail!("tansu did not listen on port {port} within 20 s: {}", tail(&broker.log));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }

    /// An error with the broker's last words if it has exited.
    fn check_running(&self) -> Result<()> {
        let exited = self.child.lock().map(|mut c| c.try_wait().ok().flatten()).unwrap_or(None);
        if let Some(status) = exited {
            bail!("tansu on port {} exited ({status}): {}", self.port, tail(&self.log));
        }
        Ok(())
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
            self.check_running()?;
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
        // A failing test shows what became of its broker (CI has seen a
        // broker that accepted connections stop answering right after).
        if std::thread::panicking() {
            let state = match self.check_running() {
                Ok(()) => format!("tansu on port {} was still running: {}", self.port, tail(&self.log)),
                Err(e) => e.to_string(),
            };
            eprintln!("{state}");
        }
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
