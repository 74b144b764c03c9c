//! One connection to a broker, as the producer sees it: its lifecycle
//! (connecting, negotiating versions, ready), the bytes received but not yet
//! framed, and the requests awaiting a response, in order (the Java
//! client's `InFlightRequests` for one node). It holds no batches: what a
//! Produce request carried is the sender's, by correlation id.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::request::ApiKey;
use crate::wire::DecodeError;

/// The host's handle for a connection; chosen by the producer.
pub type ConnId = u32;

/// The APIs only a transactional producer uses, in the order of
/// `Connection::txn_versions`.
pub const TXN_APIS: [ApiKey; 5] =
    [ApiKey::FindCoordinator, ApiKey::AddPartitionsToTxn, ApiKey::AddOffsetsToTxn, ApiKey::EndTxn, ApiKey::TxnOffsetCommit];

/// A response larger than this is refused: no producer response comes near.
pub const MAX_FRAME: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Waiting for the host to report the TCP connection open.
    Connecting { since_ms: u64 },
    /// TLS handshake under way (SSL, SASL_SSL); `since_ms` is when the
    /// connection attempt began, for `socket.connection.setup.timeout.ms`.
    Handshaking { since_ms: u64 },
    /// ApiVersions in flight.
    Negotiating,
    /// SaslHandshake / SaslAuthenticate in flight.
    Authenticating,
    Ready,
}

/// A request awaiting its response: which API and version it was, to
/// decode the response, and when it was sent, for `request.timeout.ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    pub correlation_id: i32,
    pub api: ApiKey,
    pub version: i16,
    pub sent_ms: u64,
}

pub struct Connection {
    pub id: ConnId,
    /// Broker node id; bootstrap servers have negative ids (-1, -2, ...).
    pub node: i32,
    pub host: String,
    pub port: u16,
    pub state: ConnState,
    pub produce_version: i16,
    pub metadata_version: i16,
    pub init_producer_id_version: i16,
    pub sasl_authenticate_version: i16,
    /// FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
    /// TxnOffsetCommit, in `TXN_APIS` order (-1: not offered).
    pub txn_versions: [i16; 5],
    /// The authentication exchange under way.
    pub sasl: Option<crate::sasl::SaslClient>,
    pub in_flight: VecDeque<InFlight>,
    /// The TLS session, with SSL and SASL_SSL.
    pub tls: Option<crate::tls::TlsSession>,
    /// Why the connection must be dropped at the next drive (a TLS session
    /// that could not encrypt).
    pub broken: Option<String>,
    /// Received application bytes not yet framed (decrypted, with TLS).
    inbuf: Vec<u8>,
}

impl Connection {
    pub fn new(id: ConnId, node: i32, host: String, port: u16, now: u64) -> Self {
        Connection {
            id,
            node,
            host,
            port,
            state: ConnState::Connecting { since_ms: now },
            produce_version: -1,
            metadata_version: -1,
            init_producer_id_version: -1,
            sasl_authenticate_version: -1,
            txn_versions: [-1; 5],
            sasl: None,
            in_flight: VecDeque::new(),
            tls: None,
            broken: None,
            inbuf: Vec::new(),
        }
    }

    /// The negotiated version of `api` (-1 before negotiation).
    pub fn version(&self, api: ApiKey) -> i16 {
        match api {
            ApiKey::Produce => self.produce_version,
            ApiKey::Metadata => self.metadata_version,
            ApiKey::InitProducerId => self.init_producer_id_version,
            ApiKey::SaslAuthenticate => self.sasl_authenticate_version,
            ApiKey::SaslHandshake => 1,
            ApiKey::ApiVersions => 0,
            other => TXN_APIS.iter().position(|a| *a == other).map_or(-1, |i| self.txn_versions[i]),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.state == ConnState::Ready
    }

    pub fn receive(&mut self, bytes: &[u8]) {
        self.inbuf.extend_from_slice(bytes);
    }

    /// Takes TLS bytes: decrypted bytes join the input; TLS bytes to send
    /// back (handshake, alerts) are appended to `out`.
    pub fn receive_tls(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let Some(tls) = self.tls.as_mut() else {
            self.receive(bytes);
            return Ok(());
        };
        tls.receive(bytes, &mut self.inbuf, out)
    }

    /// The received bytes not yet framed.
    pub fn input(&self) -> &[u8] {
        &self.inbuf
    }

    /// Takes the buffered bytes, for framing without holding a borrow of
    /// the connection; hand back what is left with `restore`.
    pub fn take_input(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.inbuf)
    }

    pub fn restore_input(&mut self, mut buf: Vec<u8>, consumed: usize) {
        buf.drain(..consumed.min(buf.len()));
        if self.inbuf.is_empty() {
            self.inbuf = buf;
        } else {
            buf.extend_from_slice(&self.inbuf);
            self.inbuf = buf;
        }
    }
}

/// The next complete frame in `buf` from `at`: its body's range, or
/// `Ok(None)` when more bytes are needed.
pub fn next_frame(buf: &[u8], at: usize) -> Result<Option<core::ops::Range<usize>>, DecodeError> {
    let Some(head) = buf.get(at..at + 4) else { return Ok(None) };
    let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if size < 4 || size as usize > MAX_FRAME {
        return Err(DecodeError::Invalid { what: "frame size" });
    }
    let start = at + 4;
    let end = start + size as usize;
    Ok((buf.len() >= end).then_some(start..end))
}

#[cfg(test)]
#[path = "tests/connection.rs"]
mod tests;
