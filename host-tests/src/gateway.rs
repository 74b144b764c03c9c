//! A SASL gateway in front of Tansu, which cannot be given users with
//! memory storage.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{free_port, Broker};

/// The SASL gateway (`sasl_gateway.py`): checks credentials with scramp's
/// SCRAM server (and PLAIN), then forwards to Tansu.
pub struct Gateway {
    child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Successful authentications with `mechanism`, waiting (up to 10 s)
    /// for at least one: the gateway's output is read by a thread, which
    /// may not have caught up when the client exits.
    pub fn authenticated(&self, mechanism: &str) -> usize {
        self.wait_for(|l| l.starts_with(mechanism) && l.ends_with("ok"))
    }

    /// Lines of the gateway's log containing `containing`, as read so far.
    pub fn lines(&self, containing: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|l| l.contains(containing)).count()
    }

    /// As [`Gateway::lines`], waiting (up to 10 s) for at least one.
    pub fn lines_eventually(&self, containing: &str) -> usize {
        self.wait_for(|l| l.contains(containing))
    }

    fn wait_for(&self, matches: impl Fn(&str) -> bool) -> usize {
        let end = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let n = self.log.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|l| matches(l)).count();
            if n > 0 || std::time::Instant::now() > end {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Tansu with the gateway in front, users alice:s3cret-pw and bob:other-pw
/// for `mechanisms`; Tansu advertises `advertised` (a front before the
/// gateway), else the gateway's port. Topic "secure" has 2 partitions.
pub fn sasl_gateway(advertised: Option<u16>, mechanisms: &str) -> (Broker, Gateway) {
    sasl_gateway_with_token(advertised, mechanisms, "")
}

/// As [`sasl_gateway`], OAUTHBEARER accepting `token` (and no other).
pub fn sasl_gateway_with_token(advertised: Option<u16>, mechanisms: &str, token: &str) -> (Broker, Gateway) {
    let port = free_port().unwrap();
    let broker = Broker::start_advertising(Some(advertised.unwrap_or(port))).unwrap();
    broker.create_topic("secure", 2).unwrap();
    let python = std::env::var("KPC_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sasl_gateway.py");
    let mut child = Command::new(python)
        .args([script, &port.to_string(), &broker.port.to_string(), mechanisms, "alice:s3cret-pw", "bob:other-pw"])
        .env("GATEWAY_OAUTHBEARER_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line == "ready" {
                let _ = tx.send(());
            }
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("the gateway did not start (scramp installed? run scripts/setup.sh)");
    (broker, Gateway { child, port, log })
}

