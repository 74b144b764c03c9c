//! A connection's handshake before it may carry Produce and Metadata:
//! the TLS handshake (SSL, SASL_SSL), ApiVersions (negotiating each API's
//! version, stepping down when the broker does not know ours), then SASL
//! (SaslHandshake, SaslAuthenticate rounds). Each response goes through a
//! function of the connection and the response that returns the next
//! [`Step`]: a request to send, ready, or a failure. The producer carries
//! the step out.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::Producer;
use crate::config::Config;
use crate::connection::{ConnId, ConnState, Connection};
use crate::error_codes::{error_name, NONE, UNSUPPORTED_VERSION};
use crate::report::{ErrorKind, ProduceError};
use crate::request::{self, ApiKey};
use crate::response::{ApiVersionsResponse, SaslAuthenticateResponse, SaslHandshakeResponse};
use crate::sasl::SaslClient;

/// What a connection's handshake does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send ApiVersions at this version.
    ApiVersions(i16),
    /// Send SaslHandshake for this mechanism.
    SaslHandshake(&'static str),
    /// Send SaslAuthenticate with these bytes.
    SaslAuthenticate(Vec<u8>),
    /// The connection may carry Produce and Metadata.
    Ready,
    /// The broker cannot serve this client: drop the connection.
    Fail(String),
    /// The broker refused the credentials or the mechanism: drop the
    /// connection and try the next broker; records fail only where no
    /// broker that could serve them authenticates (see
    /// `Producer::authentication_failed`).
    AuthenticationFailed(String),
}

/// The first request on a connection once its bytes can flow.
pub fn start() -> Step {
    Step::ApiVersions(ApiKey::ApiVersions.supported().1)
}

/// An ApiVersions response to a request at version `sent`: steps down on
/// UNSUPPORTED_VERSION; else notes the negotiated versions on `c` and goes
/// on to SASL or is ready.
pub fn on_api_versions(c: &mut Connection, sent: i16, r: &ApiVersionsResponse, config: &Config) -> Step {
    if r.error_code == UNSUPPORTED_VERSION {
        let theirs = r.api_keys.iter().find(|k| k.api_key == ApiKey::ApiVersions as i16).map_or(0, |k| k.max);
        let v = theirs.min(sent - 1).max(0);
        if v >= sent {
            return Step::Fail("the broker supports no ApiVersions version this client speaks".into());
        }
        return Step::ApiVersions(v);
    }
    if r.error_code != NONE {
        return Step::Fail(format!("ApiVersions failed: {}", error_name(r.error_code)));
    }
    let (produce, metadata) = (r.negotiate(ApiKey::Produce), r.negotiate(ApiKey::Metadata));
    let (Some(produce), Some(metadata)) = (produce, metadata) else {
        let range = |k: ApiKey| r.api_keys.iter().find(|a| a.api_key == k as i16).map_or("none".to_string(), |a| format!("v{}-v{}", a.min, a.max));
        let (pm, px) = ApiKey::Produce.supported();
        let (mm, mx) = ApiKey::Metadata.supported();
        return Step::Fail(format!(
            "no common protocol version: the broker offers Produce {} and Metadata {}; this client speaks Produce v{pm}-v{px} and Metadata v{mm}-v{mx}",
            range(ApiKey::Produce),
            range(ApiKey::Metadata)
        ));
    };
    let init_producer_id = r.negotiate(ApiKey::InitProducerId);
    if config.idempotent && init_producer_id.is_none() {
        return Step::Fail(
            "the broker does not support InitProducerId, so it cannot take an idempotent producer: set enable.idempotence=false".into(),
        );
    }
    let txn_versions = crate::connection::TXN_APIS.map(|api| r.negotiate(api).unwrap_or(-1));
    if config.transactional_id.is_some() && txn_versions[..2].iter().chain(&txn_versions[3..4]).any(|v| *v < 0) {
        return Step::Fail(
            "the broker does not offer FindCoordinator v1+, AddPartitionsToTxn and EndTxn, so it cannot take a transactional producer (transactional.id)".into(),
        );
    }
    let sasl = config.sasl_mechanism.filter(|_| config.security_protocol.uses_sasl());
    let sasl_versions = (r.negotiate(ApiKey::SaslHandshake), r.negotiate(ApiKey::SaslAuthenticate));
    if sasl.is_some() && (sasl_versions.0.is_none() || sasl_versions.1.is_none()) {
        return Step::Fail("the broker supports no SaslHandshake v1 / SaslAuthenticate: it cannot authenticate this client".into());
    }
    c.produce_version = produce;
    c.metadata_version = metadata;
    c.init_producer_id_version = init_producer_id.unwrap_or(-1);
    c.sasl_authenticate_version = sasl_versions.1.unwrap_or(-1);
    c.txn_versions = txn_versions;
    if let Some(mechanism) = sasl {
        c.state = ConnState::Authenticating;
        return Step::SaslHandshake(mechanism.name());
    }
    // The reconnect backoff is reset only once a Metadata or Produce
    // response decodes: a broker that negotiates and then sends garbage
    // must not get a reconnect every reconnect.backoff.ms.
    c.state = ConnState::Ready;
    Step::Ready
}

/// A SaslHandshake response: the mechanism is enabled, so the exchange
/// starts (with a fresh nonce from `nonce`, for SCRAM; with `oauth`, the
/// OAUTHBEARER token's message or why there is none to send).
pub fn on_sasl_handshake(
    c: &mut Connection,
    r: &SaslHandshakeResponse,
    config: &Config,
    nonce: impl FnOnce() -> [u8; 24],
    oauth: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Step {
    let Some(mechanism) = config.sasl_mechanism else {
        return Step::Fail("SASL is not configured".into());
    };
    if r.error_code != NONE {
        return Step::AuthenticationFailed(format!(
            "the broker does not enable {} ({}); it offers: {}",
            mechanism.name(),
            error_name(r.error_code),
            r.mechanisms.join(", ")
        ));
    }
    if mechanism == crate::sasl::Mechanism::OauthBearer {
        // No token, or an expired one: nothing to send; the connection
        // drops and backs off until the host sets a fresh token.
        let first = match oauth() {
            Ok(m) => m,
            Err(why) => return Step::Fail(why),
        };
        c.sasl = Some(SaslClient::OauthBearer { server_error: None });
        return Step::SaslAuthenticate(first);
    }
    let (Some(user), Some(password)) = (&config.sasl_username, &config.sasl_password) else {
        return Step::Fail("SASL is not configured".into());
    };
    let nonce = nonce();
    let mut client = SaslClient::new(mechanism, user, password, &nonce);
    let first = client.initial(user, password);
    c.sasl = Some(client);
    Step::SaslAuthenticate(first)
}

/// A SaslAuthenticate response: the next round, or authenticated.
pub fn on_sasl_authenticate(c: &mut Connection, r: &SaslAuthenticateResponse<'_>) -> Step {
    if r.error_code != NONE {
        let detail = r.error_message.filter(|m| !m.is_empty()).map(|m| format!(": {m}")).unwrap_or_default();
        // OAUTHBEARER: the server's JSON status came first (RFC 7628).
        let status = c.sasl.as_ref().and_then(|s| s.server_error()).map(|e| format!(" (server status: {e})")).unwrap_or_default();
        return Step::AuthenticationFailed(format!("{}{detail}{status}", error_name(r.error_code)));
    }
    let Some(client) = c.sasl.as_mut() else { return Step::Fail("SaslAuthenticate response without an exchange".into()) };
    match client.step(r.auth_bytes) {
        Ok(Some(next)) => Step::SaslAuthenticate(next),
        Ok(None) => {
            c.sasl = None;
            c.state = ConnState::Ready;
            Step::Ready
        }
        Err(e) => Step::AuthenticationFailed(e.0),
    }
}

/// Whether `bytes` begin like a TLS record: an alert (0x15) or a
/// handshake (0x16), then major version 3. No Kafka response begins so:
/// read as a frame size, that is over 350 MB.
pub fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [0x15 | 0x16, 0x03, ..])
}

/// A fresh SCRAM nonce: the hash of the host's entropy and a counter of
/// the nonces drawn so far.
pub fn scram_nonce(entropy: &[u8; 32], drawn: &mut u64) -> [u8; 24] {
    use sha2::Digest;
    *drawn += 1;
    let mut h = sha2::Sha256::new();
    h.update(entropy);
    h.update(drawn.to_le_bytes());
    let d: [u8; 32] = h.finalize().into();
    let mut n = [0u8; 24];
    n.copy_from_slice(&d[..24]);
    n
}

impl Producer {
    /// TCP is up: start TLS (its ClientHello), or, in plaintext, ApiVersions.
    pub(super) fn start_handshake(&mut self, conn: ConnId, now: u64) {
        let Some(c) = self.client.conn_mut(conn) else { return };
        let ConnState::Connecting { since_ms } = c.state else { return };
        let Some(setup) = self.config.tls.clone() else {
            c.state = ConnState::Negotiating;
            let _ = self.handshake_step(conn, start(), now);
            return;
        };
        setup.set_time(now);
        let mut hello = Vec::new();
        let started = setup.session(&c.host).and_then(|mut tls| {
            tls.receive(&[], &mut Vec::new(), &mut hello)?;
            Ok(tls)
        });
        match started {
            Ok(tls) => {
                c.tls = Some(tls);
                c.state = ConnState::Handshaking { since_ms };
                self.outputs.push_back(super::Output::Transmit { conn, data: hello });
            }
            Err(e) => self.tls_failed(conn, e, now),
        }
    }

    /// TLS records arrived: decrypted bytes join the connection's input;
    /// handshake bytes go back. Returns whether the connection is still
    /// there to read from.
    pub(super) fn receive_tls(&mut self, conn: ConnId, bytes: &[u8], now: u64) -> bool {
        let Some(setup) = &self.config.tls else { return true };
        let Some(c) = self.client.conn_mut(conn) else { return false };
        setup.set_time(now);
        let mut out = Vec::new();
        let handshaking = matches!(c.state, ConnState::Handshaking { .. });
        let result = c.receive_tls(bytes, &mut out);
        let established = c.tls.as_ref().is_some_and(|t| t.is_established());
        // In TLS 1.3 a refused client certificate shows after the
        // handshake: it fails authentication all the same.
        let refused = c.tls.as_ref().is_some_and(|t| t.refused_client_certificate());
        if !out.is_empty() {
            self.outputs.push_back(super::Output::Transmit { conn, data: out });
        }
        match result {
            Err(e) if handshaking || refused => {
                self.tls_failed(conn, e, now);
                false
            }
            Err(e) => {
                self.close_conn(conn, &format!("TLS: {e}"), true, now);
                false
            }
            Ok(()) if handshaking && established => {
                if let Some(c) = self.client.conn_mut(conn) {
                    c.state = ConnState::Negotiating;
                }
                let _ = self.handshake_step(conn, start(), now);
                true
            }
            Ok(()) => true,
        }
    }

    /// Carries out a handshake step; an error drops the connection.
    pub(super) fn handshake_step(&mut self, conn: ConnId, step: Step, now: u64) -> Result<(), String> {
        let (api, version, capacity) = match &step {
            Step::Ready => {
                if let Some(node) = self.client.conn(conn).map(|c| c.node) {
                    self.client.handshake_completed(node);
                }
                return Ok(());
            }
            Step::Fail(why) => return Err(why.clone()),
            Step::AuthenticationFailed(why) => {
                // Wrong credentials or mechanism: the connection drops (the
                // caller drops it on the error) and backs off.
                let message = format!("SASL authentication failed: {why}");
                self.authentication_failed(conn, &message);
                return Err(message);
            }
            Step::ApiVersions(version) => (ApiKey::ApiVersions, *version, 64),
            // SaslHandshake v1: v0 is the old unframed SASL exchange.
            Step::SaslHandshake(_) => (ApiKey::SaslHandshake, 1, 64),
            Step::SaslAuthenticate(bytes) => {
                let Some(version) = self.client.conn(conn).map(|c| c.sasl_authenticate_version) else { return Ok(()) };
                (ApiKey::SaslAuthenticate, version, 64 + bytes.len())
            }
        };
        let client_id = &self.config.client_id;
        let sent = self.client.send_request(conn, api, version, capacity, true, now, &mut self.outputs, |buf, cid| match &step {
            Step::SaslHandshake(mechanism) => request::sasl_handshake(buf, cid, client_id, mechanism),
            Step::SaslAuthenticate(bytes) => request::sasl_authenticate(buf, version, cid, client_id, bytes),
            _ => request::api_versions(buf, version, cid, client_id),
        });
        self.dirty |= sent.broke;
        Ok(())
    }

    /// A TLS handshake failed (an untrusted or misnamed certificate, a
    /// broker that does not speak TLS on this port, ...): handled as
    /// refused SASL credentials are; the connection drops and backs off.
    fn tls_failed(&mut self, conn: ConnId, why: String, now: u64) {
        let Some(c) = self.client.conn(conn) else { return };
        let message = format!("TLS handshake with {}:{} failed: {why}", c.host, c.port);
        self.authentication_failed(conn, &message);
        self.close_conn(conn, &message, true, now);
    }

    /// In plaintext, a connection whose ApiVersions request (its first) is
    /// answered with a TLS record, or closed unanswered, has most likely
    /// reached a TLS listener: a TLS broker answers bytes it cannot read
    /// with an alert and hangs up. Without a word, the records would time
    /// out saying only that the topic never appeared in metadata. Returns
    /// the hint, `seen` leading it, and notes it for the records that time
    /// out; `None` when the connection was not negotiating in plaintext.
    pub(super) fn suspect_tls_listener(&mut self, conn: ConnId, seen: &str) -> Option<String> {
        if self.config.tls.is_some() {
            return None;
        }
        let c = self.client.conn(conn).filter(|c| c.state == ConnState::Negotiating)?;
        let protocol = if self.config.security_protocol.uses_sasl() { "SASL_SSL" } else { "SSL" };
        let hint = format!("{}:{} {seen} while ApiVersions was outstanding: is it a TLS listener? set security.protocol={protocol}", c.host, c.port);
        let node = c.node;
        self.client.suspect_tls_listener(node, hint.clone());
        Some(hint)
    }

    /// Authentication failed on `conn` (TLS or SASL refused). As in
    /// librdkafka and the Java client, one broker refusing is no reason to
    /// give up: its connection drops and backs off, and the next bootstrap
    /// server or broker is tried. Records fail, with `message`, only where
    /// no broker that could serve them can be authenticated with: a known
    /// leader that refuses fails the batches of the partitions it leads;
    /// once every known broker and bootstrap server has refused (before
    /// the first metadata: every bootstrap server), every record not yet
    /// sent fails. Each failure fails what is unsent then, so a record
    /// fails once and later records at the next refusal, never in a loop.
    fn authentication_failed(&mut self, conn: ConnId, message: &str) {
        let Some(node) = self.client.conn(conn).map(|c| c.node) else { return };
        self.client.authentication_failed(node);
        let error = || ProduceError::new(ErrorKind::Authentication, message.into());
        if node >= 0 {
            let metadata = &self.metadata;
            let mut batches = Vec::new();
            self.accumulator.remove_partition_batches(|t, p| metadata.leader(t, p) == Some(node), |b| batches.push(b));
            for b in batches {
                if b.identity.is_some() {
                    // A retry: its sequences were sent and will never be
                    // acknowledged, as when it expires.
                    self.request_epoch_bump(&b, "a sent batch failed authentication", false);
                }
                self.fail_batch(b, error());
            }
        }
        if self.client.no_broker_authenticates(self.metadata.broker_ids(), self.config.bootstrap_servers.len()) {
            self.fail_unsent(error);
        }
    }
}

#[cfg(test)]
#[path = "../tests/handshake.rs"]
mod tests;
