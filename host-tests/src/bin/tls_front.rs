//! A TLS front for benchmarks (scripts/bench_tls.sh): makes a CA and a
//! certificate for 127.0.0.1, writes the CA's PEM to a file, terminates TLS
//! (rustls + ring) on a port and forwards the plaintext to another, until
//! killed.
//!
//!   tls-front LISTEN_PORT UPSTREAM_PORT CA_PEM_OUT [CHOICE]
//!
//! CHOICE is how the front picks the cipher suite: `client-order` (the
//! default), `tls13-aes256` or `tls12-aes256` (its own order, AES-256-GCM
//! first; TLS 1.3 or 1.2 only).

use host_tests::tls::{Ca, FrontChoice, TlsProxy};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, upstream, ca_out, choice) = match args.as_slice() {
        [l, u, c] => (l, u, c, "client-order"),
        [l, u, c, choice] => (l, u, c, choice.as_str()),
        _ => {
            eprintln!("usage: tls-front LISTEN_PORT UPSTREAM_PORT CA_PEM_OUT [client-order|tls13-aes256|tls12-aes256]");
            std::process::exit(2);
        }
    };
    let Some(choice) = FrontChoice::parse(choice) else {
        eprintln!("unknown choice {choice:?}: client-order, tls13-aes256 or tls12-aes256");
        std::process::exit(2);
    };
    let (Ok(listen), Ok(upstream)) = (listen.parse::<u16>(), upstream.parse::<u16>()) else {
        eprintln!("ports must be numbers");
        std::process::exit(2);
    };
    let ca = Ca::new("bench CA");
    std::fs::write(ca_out, ca.pem()).expect("write the CA file");
    let listener = std::net::TcpListener::bind(("127.0.0.1", listen)).expect("listen");
    let front = TlsProxy::start(listener, upstream, ca.server_choosing(&["127.0.0.1"], choice));
    println!("ready");
    // Each handshake's cipher suite, as it completes.
    let mut told = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let suites = front.suites.lock().unwrap();
        for s in &suites[told..] {
            println!("handshake: {s}");
        }
        told = suites.len();
    }
}
