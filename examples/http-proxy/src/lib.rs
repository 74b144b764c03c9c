//! kafka-http-proxy: an HTTP-to-Kafka plugin. A `wasi:http/proxy`
//! component that speaks the REST Proxy v2 produce API (`POST
//! /topics/{topic}`, see [`rest`]) and produces each request's records
//! with the producer core, driven by the core's driver over WASI sockets
//! ([`Driver`](kafka_producer_component::driver::Driver) with `WasiIo`).
//!
//! `wasmtime serve` makes a fresh instance per request, so each request
//! opens its producer, sends, waits for the acknowledgements and answers
//! with the offsets. Served with
//! `wasmtime serve -S cli=y -S inherit-network=y --env KAFKA_BOOTSTRAP_SERVERS=host:port kafka_http_proxy.wasm`;
//! configuration in [`settings`].

pub mod produce;
pub mod rest;
pub mod settings;

#[cfg(target_os = "wasi")]
mod handler {
    use std::io::{Read, Write};

    use kafka_producer_component::driver::wasi::WasiIo;
    use wasi::exports::http::incoming_handler::Guest;
    use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};

    use crate::rest::{self, Failure};
    use crate::settings::Settings;

    struct Handler;

    wasi::http::proxy::export!(Handler);

    impl Guest for Handler {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let (status, body) = match answer(&request) {
                Ok(body) => (200, body),
                Err(f) => (f.status, f.body()),
            };
            respond(out, status, body.as_bytes());
        }
    }

    fn method_name(m: &Method) -> &str {
        match m {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(s) => s,
        }
    }

    /// The answer's body (200), or why not.
    fn answer(request: &IncomingRequest) -> Result<String, Failure> {
        let method = request.method();
        let path = request.path_with_query().unwrap_or_default();
        let topic = rest::route(method_name(&method), &path)?;
        let content_type = request.headers().get("content-type").into_iter().next();
        let format = rest::format(content_type.as_deref().and_then(|v| std::str::from_utf8(v).ok()))?;
        rest::check_topic(&topic)?;
        let settings = Settings::from_env(std::env::vars())
            .map_err(|(key, why)| Failure::new(500, 500, format!("invalid setting {key}: {why}")))?;
        let body = read_body(request, settings.max_body_bytes)?;
        let records = rest::parse_records(&body, format)?;
        let outcomes = crate::produce::produce(WasiIo::new(), &settings, &topic, &records)?;
        Ok(rest::offsets_body(&outcomes))
    }

    /// The whole body, or 413 past `limit` bytes (read no further).
    fn read_body(request: &IncomingRequest, limit: usize) -> Result<Vec<u8>, Failure> {
        let too_large = || Failure::new(413, 413, format!("HTTP 413 Payload Too Large: the body is over {limit} bytes"));
        let declared = request.headers().get("content-length").into_iter().next();
        if let Some(n) = declared.as_deref().and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.trim().parse::<u64>().ok()) {
            if n > limit as u64 {
                return Err(too_large());
            }
        }
        let broken = |what: &str| Failure::new(400, 400, format!("cannot read the request body: {what}"));
        let incoming = request.consume().map_err(|()| broken("already taken"))?;
        let mut body = Vec::new();
        {
            let mut stream = incoming.stream().map_err(|()| broken("no stream"))?;
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                match Read::read(&mut stream, &mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        if body.len() + n > limit {
                            return Err(too_large());
                        }
                        body.extend_from_slice(&chunk[..n]);
                    }
                    Err(e) => return Err(broken(&e.to_string())),
                }
            }
        }
        drop(incoming);
        Ok(body)
    }

    fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
        let headers = Fields::from_list(&[
            ("content-type".to_string(), rest::RESPONSE_CONTENT_TYPE.as_bytes().to_vec()),
            ("content-length".to_string(), body.len().to_string().into_bytes()),
        ])
        .unwrap_or_else(|_| Fields::new());
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else { return };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(mut stream) = outgoing.write() {
            // The client may have gone: nothing more to do then.
            let _ = Write::write_all(&mut stream, body).and_then(|()| Write::flush(&mut stream));
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}
