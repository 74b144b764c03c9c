//! [`Io`] over the operating system's sockets (non-blocking, through mio's
//! readiness polling): for native hosts, including the wasmtime embedding
//! that drives an `engine` component.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::boxed::Box;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::io::{Io, IoEvent};
use crate::connection::ConnId;

/// Which addresses a host lets the producer reach.
pub type AddrCheck = Box<dyn Fn(&SocketAddr) -> bool>;

struct Socket {
    stream: TcpStream,
    open: bool,
}

/// Native sockets. Name resolution blocks (as a plain `getaddrinfo`);
/// connecting, reading and writing do not.
pub struct NativeIo {
    poll: Poll,
    events: Events,
    sockets: BTreeMap<ConnId, Socket>,
    /// Outcomes known without waiting (a refused or unresolvable address).
    early: Vec<(ConnId, String)>,
    buf: Vec<u8>,
    allow: Option<AddrCheck>,
}

impl NativeIo {
    pub fn new() -> std::io::Result<NativeIo> {
        Ok(NativeIo {
            poll: Poll::new()?,
            events: Events::with_capacity(64),
            sockets: BTreeMap::new(),
            early: Vec::new(),
            buf: vec![0; 256 * 1024],
            allow: None,
        })
    }

    /// Only addresses `allow` accepts may be connected to; a connect
    /// elsewhere closes at once with a reason saying the host refused it.
    pub fn restrict(mut self, allow: AddrCheck) -> NativeIo {
        self.allow = Some(allow);
        self
    }

    fn open(&mut self, conn: ConnId, host: &str, port: u16) -> Result<(), String> {
        let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
        let addr = match &self.allow {
            None => addrs.first().copied(),
            Some(allow) => {
                let ok = addrs.iter().find(|a| allow(a)).copied();
                if ok.is_none() && !addrs.is_empty() {
                    return Err(format!("connect to {host}:{port} refused by the host: address not allowed"));
                }
                ok
            }
        };
        let addr = addr.ok_or_else(|| format!("{host} resolves to no address"))?;
        let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect to {addr} failed: {e}"))?;
        let _ = stream.set_nodelay(true);
        self.poll
            .registry()
            .register(&mut stream, Token(conn as usize), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        self.sockets.insert(conn, Socket { stream, open: false });
        Ok(())
    }

    /// Reads everything there is; false once the connection is gone.
    fn read(&mut self, conn: ConnId, on: &mut dyn FnMut(IoEvent<'_>)) -> bool {
        let Some(s) = self.sockets.get_mut(&conn) else { return false };
        loop {
            match s.stream.read(&mut self.buf) {
                Ok(0) => {
                    on(IoEvent::Closed(conn, "closed by the broker"));
                    return false;
                }
                Ok(n) => on(IoEvent::Received(conn, &self.buf[..n])),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    on(IoEvent::Closed(conn, &e.to_string()));
                    return false;
                }
            }
        }
    }

    fn drop_socket(&mut self, conn: ConnId) {
        if let Some(mut s) = self.sockets.remove(&conn) {
            let _ = self.poll.registry().deregister(&mut s.stream);
            let _ = s.stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Io for NativeIo {
    fn now_ms(&mut self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn connect(&mut self, conn: ConnId, host: &str, port: u16) {
        if let Err(why) = self.open(conn, host, port) {
            self.early.push((conn, why));
        }
    }

    fn write(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, String> {
        let Some(s) = self.sockets.get_mut(&conn) else { return Err("not connected".into()) };
        loop {
            return match s.stream.write(data) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => Err(e.to_string()),
            };
        }
    }

    fn close(&mut self, conn: ConnId) {
        self.drop_socket(conn);
    }

    fn wait(&mut self, until: u64, _writable: &[ConnId], on: &mut dyn FnMut(IoEvent<'_>)) {
        if !self.early.is_empty() {
            for (conn, why) in core::mem::take(&mut self.early) {
                on(IoEvent::Closed(conn, &why));
            }
            return;
        }
        let now = self.now_ms();
        let timeout = Duration::from_millis(until.saturating_sub(now));
        // Interrupted: treated as a wake-up with no events.
        let _ = self.poll.poll(&mut self.events, Some(timeout));
        // A writable event only ends the wait: the driver writes after it.
        let ready: Vec<(ConnId, bool)> =
            self.events.iter().map(|e| (e.token().0 as ConnId, e.is_readable() || e.is_read_closed() || e.is_error())).collect();
        for (conn, readable) in ready {
            let Some(s) = self.sockets.get_mut(&conn) else { continue };
            if !s.open {
                // A connect completes with the socket writable: it is open
                // if it has a peer, failed if it has an error.
                if let Ok(Some(e)) | Err(e) = s.stream.take_error() {
                    let why = format!("connect failed: {e}");
                    self.drop_socket(conn);
                    on(IoEvent::Closed(conn, &why));
                    continue;
                }
                match s.stream.peer_addr() {
                    Ok(_) => {
                        s.open = true;
                        on(IoEvent::Connected(conn));
                    }
                    Err(e) if e.kind() == ErrorKind::NotConnected => continue,
                    Err(e) => {
                        let why = format!("connect failed: {e}");
                        self.drop_socket(conn);
                        on(IoEvent::Closed(conn, &why));
                        continue;
                    }
                }
            }
            if readable && !self.read(conn, on) {
                self.drop_socket(conn);
            }
        }
    }

    fn entropy(&mut self, buf: &mut [u8]) -> Result<(), String> {
        getrandom::fill(buf).map_err(|e| e.to_string())
    }
}
