//! The plugin's configuration, from environment variables (`wasmtime
//! serve --env`): every `KAFKA_*` variable is a producer property, its
//! name lower-cased with underscores as dots (`KAFKA_BOOTSTRAP_SERVERS`
//! is `bootstrap.servers`, `KAFKA_LINGER_MS` is `linger.ms`);
//! `HTTP_MAX_BODY_BYTES` bounds the request body.
//!
//! A request waits for its records' acknowledgements, so the defaults
//! differ from a long-lived producer's where waiting matters (each can be
//! overridden):
//!
//! - `delivery.timeout.ms=10000` (not 120000): an unreachable broker
//!   answers the request, with each record's error, in 10 s;
//!   `request.timeout.ms=5000` (it must fit in the delivery timeout).
//! - `enable.idempotence=false` and `max.in.flight.requests.per.connection=1`:
//!   every request is a new producer, and an idempotent one would take a
//!   new producer id from the cluster per request (a round trip, and state
//!   the brokers keep for each id); one request in flight keeps the order
//!   of retries instead.
//! - `linger.ms=0`: the records are sent as soon as they are parsed.

use crate::rest::DEFAULT_MAX_BODY_BYTES;

/// Defaults for a producer that lives for one HTTP request.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("delivery.timeout.ms", "10000"),
    ("request.timeout.ms", "5000"),
    ("enable.idempotence", "false"),
    ("max.in.flight.requests.per.connection", "1"),
    ("linger.ms", "0"),
];

/// The environment variable that bounds the request body (bytes).
pub const MAX_BODY_VAR: &str = "HTTP_MAX_BODY_BYTES";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Producer properties: the defaults, then what the environment sets.
    pub properties: Vec<(String, String)>,
    pub max_body_bytes: usize,
    /// How long a request waits for its reports at most: the delivery
    /// timeout (the producer reports every record by then) and a margin.
    pub wait_ms: u64,
}

/// The property a `KAFKA_*` variable names, if it is one.
pub fn property_name(var: &str) -> Option<String> {
    let rest = var.strip_prefix("KAFKA_")?;
    if rest.is_empty() {
        return None;
    }
    Some(rest.to_ascii_lowercase().replace('_', "."))
}

impl Settings {
    /// From `(name, value)` environment pairs. Err: (the key at fault,
    /// why), for the 500 answer.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Settings, (String, String)> {
        let mut properties: Vec<(String, String)> = DEFAULTS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut max_body_bytes = DEFAULT_MAX_BODY_BYTES;
        for (var, value) in vars {
            if var == MAX_BODY_VAR {
                max_body_bytes = value
                    .trim()
                    .parse()
                    .map_err(|_| (MAX_BODY_VAR.to_string(), format!("{value:?} is not a number of bytes")))?;
            } else if let Some(key) = property_name(&var) {
                // An alias set in the environment replaces the default set
                // under the other name (message.timeout.ms, max.in.flight).
                let alias = match key.as_str() {
                    "message.timeout.ms" => Some("delivery.timeout.ms"),
                    "max.in.flight" => Some("max.in.flight.requests.per.connection"),
                    "queue.buffering.max.ms" => Some("linger.ms"),
                    _ => None,
                };
                properties.retain(|(k, _)| *k != key && Some(k.as_str()) != alias);
                properties.push((key, value));
            }
        }
        let delivery = properties
            .iter()
            .rev()
            .find(|(k, _)| k == "delivery.timeout.ms" || k == "message.timeout.ms")
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .unwrap_or(120_000);
        Ok(Settings { properties, max_body_bytes, wait_ms: delivery.saturating_add(5_000) })
    }
}

#[cfg(test)]
#[path = "tests/settings.rs"]
mod tests;
