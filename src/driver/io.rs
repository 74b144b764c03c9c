//! What the driver needs from the platform: non-blocking TCP, a clock, a
//! way to wait for the first of several socket events or a deadline, and
//! entropy. Implementations: [`super::native`] (std sockets through mio),
//! [`super::wasi`] (`wasi:sockets` with `wasi:io/poll`), and the tests'
//! simulated network.

use alloc::string::String;

use crate::connection::ConnId;

/// A socket event, reported by [`Io::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoEvent<'a> {
    /// A connection asked for with [`Io::connect`] is open.
    Connected(ConnId),
    /// Bytes read from a connection.
    Received(ConnId, &'a [u8]),
    /// A connection closed, or could not be opened (refused, unreachable,
    /// not allowed by the host): the reason, for people.
    Closed(ConnId, &'a str),
}

pub trait Io {
    /// Milliseconds since the Unix epoch (the wall clock: TLS checks
    /// certificate dates against it).
    fn now_ms(&mut self) -> u64;

    /// Starts opening a TCP connection and returns at once; the outcome
    /// comes from `wait` as `Connected` or `Closed`.
    fn connect(&mut self, conn: ConnId, host: &str, port: u16);

    /// Writes as much of `data` as the connection takes now without
    /// blocking: the number of bytes taken (0 when it takes none yet).
    /// An error means the connection is broken; the driver closes it.
    fn write(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, String>;

    /// Closes a connection; no event follows.
    fn close(&mut self, conn: ConnId);

    /// Waits until a socket event or until `until` (on `now_ms`'s clock;
    /// at or before now: do not block), and reports every event that is
    /// ready to `on`, reading what has arrived. `writable`: connections
    /// with bytes waiting to be written, whose room to write also ends
    /// the wait.
    fn wait(&mut self, until: u64, writable: &[ConnId], on: &mut dyn FnMut(IoEvent<'_>));

    /// Fills `buf` from a secure random source, or says why it cannot:
    /// never zeros in place of entropy.
    fn entropy(&mut self, buf: &mut [u8]) -> Result<(), String>;
}
