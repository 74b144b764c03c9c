//! A TLS front for a broker: terminates TLS with rustls on ring (not the
//! producer's RustCrypto provider) and forwards the plaintext to a port;
//! and certificates made per run with rcgen.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use crate::Broker;

/// A certificate authority for one test.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca { cert: params.self_signed(&key).unwrap(), key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate in a file, for `ssl.ca.location` and the readers.
    pub fn pem_file(&self) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!("kpc-ca-{}-{}.pem", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&path, self.pem()).unwrap();
        path
    }

    /// A client certificate signed by this CA and its key (ECDSA P-256,
    /// PKCS#8), in files: (certificate, key), for `ssl.certificate.location`
    /// / `ssl.key.location` and the readers.
    pub fn client_files(&self, name: &str) -> (PathBuf, PathBuf) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let n = N.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("kpc-client-{name}-{}-{n}", std::process::id()));
        let (cert_file, key_file) = (base.with_extension("crt"), base.with_extension("key"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }

    /// As [`Ca::server`], requiring a client certificate signed by
    /// `clients` (mutual TLS; rustls's `WebPkiClientVerifier`).
    pub fn server_requiring_clients(&self, names: &[&str], clients: &Ca) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(clients.cert.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
        self.server_with(names, verifier)
    }

    /// A server configuration whose certificate (signed by this CA) names
    /// `names`: DNS names or IP addresses.
    pub fn server(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        self.server_with(names, rustls::server::WebPkiClientVerifier::no_client_auth())
    }

    fn server_with(&self, names: &[&str], clients: Arc<dyn rustls::server::danger::ClientCertVerifier>) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(clients)
            .with_single_cert(
                vec![cert.der().clone(), self.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// Tansu behind a TLS front whose certificate comes from `ca` and names
/// `names`; Tansu advertises the front's port. `topic` is created with
/// `partitions` partitions.
pub fn secure_cluster(ca: &Ca, names: &[&str], topic: &str, partitions: u32) -> (Broker, TlsProxy) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let broker = Broker::start_advertising(Some(listener.local_addr().unwrap().port())).unwrap();
    broker.create_topic(topic, partitions).unwrap();
    let front = TlsProxy::start(listener, broker.port, ca.server(names));
    (broker, front)
}

/// As [`secure_cluster`], the front requiring client certificates signed
/// by `clients`.
pub fn secure_cluster_requiring_clients(ca: &Ca, clients: &Ca, names: &[&str], topic: &str, partitions: u32) -> (Broker, TlsProxy) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let broker = Broker::start_advertising(Some(listener.local_addr().unwrap().port())).unwrap();
    broker.create_topic(topic, partitions).unwrap();
    let front = TlsProxy::start(listener, broker.port, ca.server_requiring_clients(names, clients));
    (broker, front)
}

/// Listens with TLS, forwards plaintext to `127.0.0.1:upstream`.
pub struct TlsProxy {
    pub port: u16,
    /// Handshakes completed.
    pub handshakes: Arc<AtomicUsize>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// TLS errors, as the server saw them (e.g. the client's alert).
    pub errors: Arc<Mutex<Vec<String>>>,
    /// The cipher suite of each completed handshake, in order.
    pub suites: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl TlsProxy {
    pub fn start(listener: TcpListener, upstream: u16, config: Arc<rustls::ServerConfig>) -> TlsProxy {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let suites = Arc::new(Mutex::new(Vec::new()));
        let (stopping, hs, conns, errs, chosen) = (stop.clone(), handshakes.clone(), connections.clone(), errors.clone(), suites.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                conns.fetch_add(1, Ordering::Relaxed);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let (config, hs, errs, stopping, chosen) = (config.clone(), hs.clone(), errs.clone(), stopping.clone(), chosen.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(client, server, config, &hs, &chosen, &stopping) {
                        errs.lock().unwrap().push(e);
                    }
                });
            }
        });
        TlsProxy { port, handshakes, connections, errors, suites, stop }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn write_all(to: &mut TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match to.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_micros(200)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One connection: TLS from `client`, plaintext to `upstream`, both ways.
/// Returns the TLS error that ended it, if any.
fn serve(mut client: TcpStream, mut upstream: TcpStream, config: Arc<rustls::ServerConfig>, handshakes: &AtomicUsize, suites: &Mutex<Vec<String>>, stop: &AtomicBool) -> Result<(), String> {
    let mut tls = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    client.set_nonblocking(true).map_err(|e| e.to_string())?;
    upstream.set_nonblocking(true).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut counted = false;
    while !stop.load(Ordering::Relaxed) {
        let mut progress = false;
        match tls.read_tls(&mut client) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                progress = true;
                if let Err(e) = tls.process_new_packets() {
                    // Send our alert, then give up.
                    let mut alert = Vec::new();
                    while tls.wants_write() && tls.write_tls(&mut alert).is_ok() {}
                    let _ = write_all(&mut client, &alert);
                    return Err(e.to_string());
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return Ok(()),
        }
        if !counted && !tls.is_handshaking() {
            counted = true;
            handshakes.fetch_add(1, Ordering::Relaxed);
            let suite = tls.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
            suites.lock().unwrap().push(suite);
        }
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    progress = true;
                    write_all(&mut upstream, &buf[..n]).map_err(|e| e.to_string())?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return Ok(()),
            }
        }
        match upstream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                progress = true;
                tls.writer().write_all(&buf[..n]).map_err(|e| e.to_string())?;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return Ok(()),
        }
        while tls.wants_write() {
            let mut out = Vec::new();
            tls.write_tls(&mut out).map_err(|e| e.to_string())?;
            write_all(&mut client, &out).map_err(|e| e.to_string())?;
            progress = true;
        }
        if !progress {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    Ok(())
}

/// Which cipher suite a TLS front picks when it, not the client, decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontChoice {
    /// The client's order (rustls's default server behaviour).
    ClientOrder,
    /// TLS 1.3, the server's own order: AES-256-GCM first (as an OpenSSL
    /// broker with its default preference does).
    Tls13Aes256,
    /// TLS 1.2 only, the server's own order: ECDHE AES-256-GCM first.
    Tls12Aes256,
}

impl FrontChoice {
    pub fn parse(s: &str) -> Option<FrontChoice> {
        match s {
            "client-order" => Some(FrontChoice::ClientOrder),
            "tls13-aes256" => Some(FrontChoice::Tls13Aes256),
            "tls12-aes256" => Some(FrontChoice::Tls12Aes256),
            _ => None,
        }
    }
}

impl Ca {
    /// As [`Ca::server`], with the cipher suite chosen per `choice`.
    pub fn server_choosing(&self, names: &[&str], choice: FrontChoice) -> Arc<rustls::ServerConfig> {
        use rustls::crypto::ring::cipher_suite as cs;
        let (suites, versions): (Vec<_>, &[&rustls::SupportedProtocolVersion]) = match choice {
            FrontChoice::ClientOrder => return self.server(names),
            FrontChoice::Tls13Aes256 => (vec![cs::TLS13_AES_256_GCM_SHA384, cs::TLS13_AES_128_GCM_SHA256, cs::TLS13_CHACHA20_POLY1305_SHA256], &[&rustls::version::TLS13]),
            FrontChoice::Tls12Aes256 => (
                vec![
                    cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                    cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                    cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                    cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                ],
                &[&rustls::version::TLS12],
            ),
        };
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::CryptoProvider { cipher_suites: suites, ..rustls::crypto::ring::default_provider() });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), self.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        config.ignore_client_order = true;
        Arc::new(config)
    }
}
