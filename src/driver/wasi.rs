//! [`Io`] over WASI 0.2: `wasi:sockets` for TCP, `wasi:io/poll` to wait
//! for the first of the sockets' pollables and a `wasi:clocks` timer, the
//! wall clock, and `wasi:random` for entropy. For components that do their
//! own I/O (the `client` world, the command for `wasmtime run`, the
//! HTTP-to-Kafka plugin). Which addresses a connect may reach is the
//! host's decision: a refused one closes with the host's error code.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use wasi::clocks::{monotonic_clock, wall_clock};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};
use wasi::sockets::instance_network::instance_network;
use wasi::sockets::ip_name_lookup::resolve_addresses;
use wasi::sockets::network::{ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, Network};
use wasi::sockets::tcp::TcpSocket;
use wasi::sockets::tcp_create_socket::create_tcp_socket;

use super::io::{Io, IoEvent};
use crate::connection::ConnId;

/// Bytes read from one connection per wake-up at most, so one busy
/// connection cannot starve the others.
const READ_PER_WAKE: usize = 1 << 20;

enum Socket {
    Connecting { socket: TcpSocket, addr: String },
    // Field order is drop order: the streams before the socket they
    // belong to.
    Open { input: InputStream, output: OutputStream, _socket: TcpSocket },
}

/// WASI 0.2 sockets.
pub struct WasiIo {
    network: Network,
    sockets: BTreeMap<ConnId, Socket>,
    /// Outcomes known without waiting (refused by the host, unresolvable).
    early: Vec<(ConnId, String)>,
}

impl Default for WasiIo {
    fn default() -> Self {
        WasiIo::new()
    }
}

impl WasiIo {
    pub fn new() -> WasiIo {
        WasiIo { network: instance_network(), sockets: BTreeMap::new(), early: Vec::new() }
    }

    fn resolve(&self, host: &str) -> Result<IpAddress, String> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(match ip {
                std::net::IpAddr::V4(v4) => {
                    let o = v4.octets();
                    IpAddress::Ipv4((o[0], o[1], o[2], o[3]))
                }
                std::net::IpAddr::V6(v6) => {
                    let s = v6.segments();
                    IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
                }
            });
        }
        let lookup = resolve_addresses(&self.network, host).map_err(|e| format!("cannot resolve {host}: {}", e.name()))?;
        let mut fallback = None;
        loop {
            match lookup.resolve_next_address() {
                Ok(Some(a @ IpAddress::Ipv4(_))) => return Ok(a),
                Ok(Some(a)) => fallback = fallback.or(Some(a)),
                Ok(None) => return fallback.ok_or_else(|| format!("{host} resolves to no address")),
                Err(ErrorCode::WouldBlock) => lookup.subscribe().block(),
                Err(e) => return Err(format!("cannot resolve {host}: {}", e.name())),
            }
        }
    }

    fn open(&mut self, host: &str, port: u16) -> Result<Socket, String> {
        let ip = self.resolve(host)?;
        let (family, addr) = match ip {
            IpAddress::Ipv4(address) => (IpAddressFamily::Ipv4, IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address })),
            IpAddress::Ipv6(address) => (
                IpAddressFamily::Ipv6,
                IpSocketAddress::Ipv6(Ipv6SocketAddress { port, flow_info: 0, address, scope_id: 0 }),
            ),
        };
        let socket = create_tcp_socket(family).map_err(|e| format!("cannot create a socket: {}", e.name()))?;
        socket.start_connect(&self.network, addr).map_err(|e| match e {
            ErrorCode::AccessDenied => format!("connect to {host}:{port} refused by the host (access-denied)"),
            e => format!("connect to {host}:{port} failed: {}", e.name()),
        })?;
        Ok(Socket::Connecting { socket, addr: format!("{host}:{port}") })
    }

    /// Reads what has arrived; false once the connection is gone.
    fn read(conn: ConnId, input: &InputStream, on: &mut dyn FnMut(IoEvent<'_>)) -> bool {
        let mut taken = 0;
        while taken < READ_PER_WAKE {
            match input.read(64 * 1024) {
                Ok(bytes) if bytes.is_empty() => return true,
                Ok(bytes) => {
                    taken += bytes.len();
                    on(IoEvent::Received(conn, &bytes));
                }
                Err(StreamError::Closed) => {
                    on(IoEvent::Closed(conn, "closed by the broker"));
                    return false;
                }
                Err(StreamError::LastOperationFailed(e)) => {
                    on(IoEvent::Closed(conn, &e.to_debug_string()));
                    return false;
                }
            }
        }
        true
    }
}

impl Io for WasiIo {
    fn now_ms(&mut self) -> u64 {
        let t = wall_clock::now();
        t.seconds * 1000 + u64::from(t.nanoseconds / 1_000_000)
    }

    fn connect(&mut self, conn: ConnId, host: &str, port: u16) {
        match self.open(host, port) {
            Ok(s) => {
                self.sockets.insert(conn, s);
            }
            Err(why) => self.early.push((conn, why)),
        }
    }

    fn write(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, String> {
        let Some(Socket::Open { output, .. }) = self.sockets.get(&conn) else { return Err("not connected".into()) };
        let room = match output.check_write() {
            Ok(n) => n.min(data.len() as u64) as usize,
            Err(StreamError::Closed) => return Err("closed by the broker".into()),
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        };
        if room == 0 {
            return Ok(0);
        }
        match output.write(&data[..room]) {
            Ok(()) => Ok(room),
            Err(StreamError::Closed) => Err("closed by the broker".into()),
            Err(StreamError::LastOperationFailed(e)) => Err(e.to_debug_string()),
        }
    }

    fn close(&mut self, conn: ConnId) {
        self.sockets.remove(&conn);
    }

    fn wait(&mut self, until: u64, writable: &[ConnId], on: &mut dyn FnMut(IoEvent<'_>)) {
        if !self.early.is_empty() {
            for (conn, why) in core::mem::take(&mut self.early) {
                on(IoEvent::Closed(conn, &why));
            }
            return;
        }
        let now = self.now_ms();
        // The pollables live for this wait only: they are children of the
        // sockets and streams, and must be gone before any of those is.
        let mut pollables: Vec<Pollable> = Vec::with_capacity(2 * self.sockets.len() + 1);
        let mut owners: Vec<(ConnId, bool)> = Vec::with_capacity(2 * self.sockets.len());
        for (&conn, s) in &self.sockets {
            match s {
                Socket::Connecting { socket, .. } => {
                    pollables.push(socket.subscribe());
                    owners.push((conn, false));
                }
                Socket::Open { input, output, .. } => {
                    pollables.push(input.subscribe());
                    owners.push((conn, false));
                    if writable.contains(&conn) {
                        pollables.push(output.subscribe());
                        owners.push((conn, true));
                    }
                }
            }
        }
        let wait_ns = until.saturating_sub(now).saturating_mul(1_000_000);
        pollables.push(monotonic_clock::subscribe_duration(wait_ns));
        let refs: Vec<&Pollable> = pollables.iter().collect();
        let ready = poll::poll(&refs);
        drop(refs);
        drop(pollables);
        let mut gone = Vec::new();
        for i in ready {
            let Some(&(conn, for_write)) = owners.get(i as usize) else { continue };
            if for_write || gone.contains(&conn) {
                continue;
            }
            let Some(s) = self.sockets.get(&conn) else { continue };
            match s {
                Socket::Connecting { socket, addr } => match socket.finish_connect() {
                    Ok((input, output)) => {
                        let Some(Socket::Connecting { socket, .. }) = self.sockets.remove(&conn) else { continue };
                        self.sockets.insert(conn, Socket::Open { input, output, _socket: socket });
                        on(IoEvent::Connected(conn));
                    }
                    Err(ErrorCode::WouldBlock) => {}
                    Err(ErrorCode::AccessDenied) => {
                        let why = format!("connect to {addr} refused by the host (access-denied)");
                        gone.push(conn);
                        on(IoEvent::Closed(conn, &why));
                    }
                    Err(e) => {
                        let why = format!("connect to {addr} failed: {}", e.name());
                        gone.push(conn);
                        on(IoEvent::Closed(conn, &why));
                    }
                },
                Socket::Open { input, .. } => {
                    if !WasiIo::read(conn, input, on) {
                        gone.push(conn);
                    }
                }
            }
        }
        for conn in gone {
            self.sockets.remove(&conn);
        }
    }

    fn entropy(&mut self, buf: &mut [u8]) -> Result<(), String> {
        let bytes = wasi::random::random::get_random_bytes(buf.len() as u64);
        if bytes.len() != buf.len() {
            return Err(format!("wasi:random gave {} bytes of {}", bytes.len(), buf.len()));
        }
        buf.copy_from_slice(&bytes);
        Ok(())
    }
}
