//! A TLS front for benchmarks (scripts/bench_tls.sh): makes a CA and a
//! certificate for 127.0.0.1, writes the CA's PEM to a file, terminates TLS
//! (rustls + ring) on a port and forwards the plaintext to another, until
//! killed.
//!
//!   tls-front LISTEN_PORT UPSTREAM_PORT CA_PEM_OUT

use host_tests::tls::{Ca, TlsProxy};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, upstream, ca_out] = args.as_slice() else {
        eprintln!("usage: tls-front LISTEN_PORT UPSTREAM_PORT CA_PEM_OUT");
        std::process::exit(2);
    };
    let (Ok(listen), Ok(upstream)) = (listen.parse::<u16>(), upstream.parse::<u16>()) else {
        eprintln!("ports must be numbers");
        std::process::exit(2);
    };
    let ca = Ca::new("bench CA");
    std::fs::write(ca_out, ca.pem()).expect("write the CA file");
    let listener = std::net::TcpListener::bind(("127.0.0.1", listen)).expect("listen");
    let _front = TlsProxy::start(listener, upstream, ca.server(&["127.0.0.1"]));
    println!("ready");
    loop {
        std::thread::park();
    }
}
