//! TLS for broker connections (`security.protocol` SSL and SASL_SSL).
//!
//! TLS lives in the core, not in the host: rustls's unbuffered client is
//! sans-I/O like the rest of the producer (bytes in, bytes out, no socket,
//! no clock), so every host that can open a TCP socket gets TLS with
//! certificate verification for free, the same on every host. A host that
//! terminates TLS itself leaves `security.protocol` at PLAINTEXT.
//!
//! The crypto is pure Rust (RustCrypto's AEADs, hashes and HMAC, wrapped
//! for rustls in `suites.rs`), so the component still builds without a C
//! toolchain. Two pieces are ours, because the provider
//! crate would read the operating system's random source, which a
//! component that imports nothing does not have: [`HostRandom`], a
//! ChaCha20 generator seeded from the entropy the host passes to
//! `create`, and the X25519 / P-256 / P-384 key exchanges drawing from it.
//! Certificate validity is checked against the host's `now`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{UnbufferedClientConnection, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::client::ClientConnectionData;
use rustls::unbuffered::{ConnectionState, EncodeError, EncodeTlsData, EncryptError, UnbufferedStatus};
mod chacha;
mod random;
pub mod suites;
mod sign;
mod verify;

pub use random::HostRandom;
pub use sign::{client_identity, KeyError};

use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How the broker's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Chain to a trusted root and name the broker's host (the default).
    Full,
    /// Chain to a trusted root; any host name
    /// (`ssl.endpoint.identification.algorithm=none`).
    NoHostname,
    /// Nothing but the handshake signature
    /// (`enable.ssl.certificate.verification=false`): open to anyone in
    /// the middle.
    None,
}

/// Parses PEM certificates (`ssl.ca.pem`) into a root store.
pub fn root_store(pem: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert = cert.map_err(|e| format!("certificate {} is not valid PEM: {e:?}", i + 1))?;
        roots.add(cert).map_err(|e| format!("certificate {} is not a usable CA certificate: {e}", i + 1))?;
    }
    if roots.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(roots)
}

/// The Mozilla root program's CAs (from `webpki-roots`): what the client
/// trusts when no `ssl.ca.pem` is given, as librdkafka and the Java client
/// trust the system's store.
pub fn default_roots() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// The producer's wall clock for certificate validity, set from every
/// `now` the host passes in.
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    pub fn set(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::Relaxed);
    }
}

impl TimeProvider for Clock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_millis(self.0.load(Ordering::Relaxed))))
    }
}

/// What one producer's connections share: the rustls configuration and the
/// clock it reads.
pub struct TlsSetup {
    config: Arc<ClientConfig>,
    clock: Arc<Clock>,
}

impl core::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TlsSetup")
    }
}

impl TlsSetup {
    /// `client`: the certificate and key for mutual TLS
    /// ([`client_identity`]), sent when the broker asks for one.
    pub fn new(roots: RootCertStore, verification: Verification, client: Option<Arc<rustls::sign::CertifiedKey>>) -> Result<TlsSetup, String> {
        let provider = Arc::new(provider());
        let clock = Arc::new(Clock::default());
        let builder = ClientConfig::builder_with_details(provider.clone(), clock.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let verifier = Arc::new(Verifier { webpki, verification, provider });
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let config = match client {
            Some(identity) => builder.with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(identity))),
            None => builder.with_no_client_auth(),
        };
        Ok(TlsSetup { config: Arc::new(config), clock })
    }

    pub fn set_time(&self, now_ms: u64) {
        self.clock.set(now_ms);
    }

    /// A session with the broker at `host`, the name its certificate must
    /// carry (a DNS name or an IP address).
    pub fn session(&self, host: &str) -> Result<TlsSession, String> {
        let name = ServerName::try_from(host.to_string()).map_err(|_| format!("{host:?} is not a valid TLS server name"))?;
        let conn = UnbufferedClientConnection::new(self.config.clone(), name).map_err(|e| e.to_string())?;
        Ok(TlsSession { conn, host: host.to_string(), incoming: Vec::new(), established: false, read_early: Vec::new(), refused: false })
    }
}

/// The provider: our cipher suites over RustCrypto's AEADs, hashes and
/// HMAC (`suites.rs`; ChaCha20-Poly1305 first: no AES instructions in
/// wasm), our signature checks, randomness and key exchange.
fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: suites::ALL.to_vec(),
        kx_groups: random::KX_GROUPS.to_vec(),
        signature_verification_algorithms: verify::ALGORITHMS,
        secure_random: &random::HostRandom,
        key_provider: &NoClientKeys,
    }
}

/// Client certificates (mutual TLS) are not supported: no key is loaded.
#[derive(Debug)]
struct NoClientKeys;

impl rustls::crypto::KeyProvider for NoClientKeys {
    fn load_private_key(&self, _: rustls::pki_types::PrivateKeyDer<'static>) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General("client certificates are not supported".into()))
    }
}

/// Certificate checks per [`Verification`]; the handshake signature is
/// always checked.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    verification: Verification,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.verification == Verification::None {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // webpki checks the name only once the chain is trusted.
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }))
                if self.verification == Verification::NoHostname =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// One connection's TLS session over rustls's unbuffered client: TLS bytes
/// in, application bytes and TLS bytes out.
pub struct TlsSession {
    conn: UnbufferedClientConnection,
    /// The broker's host, as its certificate must name it.
    host: String,
    /// Received TLS bytes not yet processed (at most a partial record
    /// between calls).
    incoming: Vec<u8>,
    established: bool,
    /// Application bytes decrypted while encrypting (none in practice:
    /// `receive` leaves no whole record behind); handed out by `receive`.
    read_early: Vec<u8>,
    /// The broker ended the session with an alert refusing the client's
    /// certificate (or its absence).
    refused: bool,
}

impl TlsSession {
    /// Whether the handshake is complete and application data may flow.
    pub fn is_established(&self) -> bool {
        self.established
    }

    /// Whether the broker refused the client's certificate, or the lack
    /// of one. In TLS 1.3 the broker checks it after the client's last
    /// handshake message, so this shows on the first read once
    /// established: the session failed authentication all the same.
    pub fn refused_client_certificate(&self) -> bool {
        self.refused
    }

    /// Takes `tls` bytes from the broker: decrypted application bytes are
    /// appended to `plain`, TLS bytes to send (handshake, alerts) to `out`.
    /// Also call with nothing right after connecting, for the ClientHello.
    pub fn receive(&mut self, tls: &[u8], plain: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<(), String> {
        plain.append(&mut self.read_early);
        self.incoming.extend_from_slice(tls);
        self.process(plain, out, None)
    }

    /// Encrypts `data` onto `out`; only once established.
    pub fn encrypt(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let mut early = core::mem::take(&mut self.read_early);
        let r = self.process(&mut early, out, Some(data));
        self.read_early = early;
        r
    }

    fn process(&mut self, plain: &mut Vec<u8>, out: &mut Vec<u8>, mut write: Option<&[u8]>) -> Result<(), String> {
        let mut at = 0;
        let result = loop {
            let UnbufferedStatus { mut discard, state } = self.conn.process_tls_records(&mut self.incoming[at..]);
            let state = match state {
                Ok(s) => s,
                Err(e) => {
                    at += discard;
                    self.refused |= sign::refuses_client(&e);
                    self.queue_alert(&mut at, out);
                    break Err(describe(&e, &self.host));
                }
            };
            let mut stop = false;
            let step: Result<(), String> = match state {
                ConnectionState::ReadTraffic(mut r) => {
                    let mut res = Ok(());
                    while let Some(rec) = r.next_record() {
                        match rec {
                            Ok(rec) => {
                                discard += rec.discard;
                                plain.extend_from_slice(rec.payload);
                            }
                            Err(e) => {
                                res = Err(e.to_string());
                                break;
                            }
                        }
                    }
                    res
                }
                ConnectionState::EncodeTlsData(mut e) => encode(&mut e, out),
                // `out` goes to the host in order after this call.
                ConnectionState::TransmitTlsData(t) => {
                    t.done();
                    Ok(())
                }
                ConnectionState::BlockedHandshake => {
                    stop = true;
                    Ok(())
                }
                ConnectionState::WriteTraffic(mut w) => {
                    self.established = true;
                    stop = true;
                    match write.take() {
                        Some(data) => {
                            let guess = data.len() + (data.len() / 16384 + 1) * 64;
                            grow_into(out, guess, |buf| match w.encrypt(data, buf) {
                                Ok(n) => Ok(Ok(n)),
                                Err(EncryptError::InsufficientSize(s)) => Err(s.required_size),
                                Err(e) => Ok(Err(e.to_string())),
                            })
                        }
                        None => Ok(()),
                    }
                }
                ConnectionState::PeerClosed | ConnectionState::Closed => Err("the broker closed the TLS session".into()),
                _ => Err("unexpected TLS state".into()),
            };
            at += discard;
            if let Err(e) = step {
                break Err(e);
            }
            if stop {
                break Ok(());
            }
        };
        self.incoming.drain(..at.min(self.incoming.len()));
        match (result, write) {
            (Ok(()), Some(_)) => Err("TLS handshake not complete: cannot send yet".into()),
            (r, _) => r,
        }
    }

    /// After an error, rustls offers the alert that tells the broker why
    /// (bad certificate, decode error, ...): it goes out before the close.
    fn queue_alert(&mut self, at: &mut usize, out: &mut Vec<u8>) {
        for _ in 0..4 {
            // The same buffer, as the unbuffered API requires.
            let UnbufferedStatus { state, discard } = self.conn.process_tls_records(&mut self.incoming[*at..]);
            *at += discard;
            match state {
                Ok(ConnectionState::EncodeTlsData(mut e)) => {
                    let _ = encode(&mut e, out);
                }
                Ok(ConnectionState::TransmitTlsData(t)) => t.done(),
                _ => return,
            }
        }
    }
}

/// Appends a handshake record (or alert) rustls has ready to `out`.
fn encode(e: &mut EncodeTlsData<'_, ClientConnectionData>, out: &mut Vec<u8>) -> Result<(), String> {
    grow_into(out, 512, |buf| match e.encode(buf) {
        Ok(n) => Ok(Ok(n)),
        Err(EncodeError::InsufficientSize(s)) => Err(s.required_size),
        Err(e) => Ok(Err(e.to_string())),
    })
}

/// A TLS error as a user can act on it (rustls's own wording, with what
/// to check for the usual certificate problems).
fn describe(e: &rustls::Error, host: &str) -> String {
    use rustls::Error::{InvalidCertificate, InvalidMessage};
    match e {
        InvalidCertificate(CertificateError::UnknownIssuer) => {
            "invalid peer certificate: UnknownIssuer: no trusted CA signed it (set ssl.ca.pem, or ssl.ca.location on hosts that read files)".into()
        }
        InvalidCertificate(CertificateError::NotValidForNameContext { presented, .. }) => format!(
            "invalid peer certificate: certificate not valid for name {:?}; it names {} (ssl.endpoint.identification.algorithm=none skips this check)",
            host,
            if presented.is_empty() {
                "no name".into()
            } else {
                // rustls spells them `DnsName("host")`.
                presented.iter().map(|n| n.strip_prefix("DnsName(\"").and_then(|n| n.strip_suffix("\")")).unwrap_or(n)).collect::<Vec<_>>().join(", ")
            }
        ),
        InvalidCertificate(CertificateError::NotValidForName) => {
            "invalid peer certificate: certificate not valid for the broker's name (ssl.endpoint.identification.algorithm=none skips this check)".into()
        }
        InvalidMessage(m) => format!("the broker did not answer in TLS (a plaintext listener?): {m:?}"),
        e if sign::refuses_client(e) => sign::describe_refusal(e),
        other => other.to_string(),
    }
}

/// Appends what `write` puts in a buffer to `out`, growing the buffer to
/// the size `write` asks for (its `Err`) once.
fn grow_into(out: &mut Vec<u8>, guess: usize, mut write: impl FnMut(&mut [u8]) -> Result<Result<usize, String>, usize>) -> Result<(), String> {
    let start = out.len();
    out.resize(start + guess, 0);
    let n = match write(&mut out[start..]) {
        Ok(r) => r,
        Err(need) => {
            out.resize(start + need, 0);
            write(&mut out[start..]).unwrap_or_else(|_| Err("TLS buffer sizing".into()))
        }
    };
    match n {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}
