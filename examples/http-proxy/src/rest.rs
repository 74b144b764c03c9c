//! The REST Proxy v2 produce API, the subset this plugin speaks: routing,
//! the content type, the topic name, the JSON body into packed records,
//! and the answers (offsets, or an error body). Pure: no I/O, tested
//! natively.
//!
//! `POST /topics/{topic}` with `application/vnd.kafka.binary.v2+json`
//! (base64 `key` / `value`) or `application/vnd.kafka.json.v2+json` (any
//! JSON `key` / `value`, stored as the JSON text sent), body
//! `{"records":[{"key":..,"value":..,"partition":..}, ...]}`.
//! Errors are `{"error_code":..,"message":..}` with the proxy's codes:
//! the HTTP status, or status * 100 + a sub-code (40401 topic not found).

use std::fmt::Write as _;

use base64::Engine as _;
use kafka_producer_component::packed::Packed;
use kafka_producer_component::Record;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The largest request body read; larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The content type of every answer.
pub const RESPONSE_CONTENT_TYPE: &str = "application/vnd.kafka.v2+json";

/// An answer that is not a produce result: HTTP status, the proxy's error
/// code, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub error_code: u32,
    pub message: String,
}

impl Failure {
    pub fn new(status: u16, error_code: u32, message: impl Into<String>) -> Failure {
        Failure { status, error_code, message: message.into() }
    }

    /// `{"error_code":..,"message":..}`
    pub fn body(&self) -> String {
        serde_json::json!({ "error_code": self.error_code, "message": self.message }).to_string()
    }

    pub fn not_found() -> Failure {
        Failure::new(404, 404, "HTTP 404 Not Found")
    }
    pub fn method_not_allowed() -> Failure {
        Failure::new(405, 405, "HTTP 405 Method Not Allowed")
    }
    pub fn topic_not_found() -> Failure {
        Failure::new(404, 40401, "Topic not found.")
    }
}

/// How keys and values are embedded in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// base64 strings, stored decoded.
    Binary,
    /// any JSON, stored as its text.
    Json,
}

/// The topic of `POST /topics/{topic}` (percent-decoded): a 404 for any
/// other path, a 405 for another method on that path.
pub fn route(method: &str, path_with_query: &str) -> Result<String, Failure> {
    let path = path_with_query.split(['?', '#']).next().unwrap_or("");
    let Some(topic) = path.strip_prefix("/topics/") else { return Err(Failure::not_found()) };
    if topic.is_empty() || topic.contains('/') {
        return Err(Failure::not_found());
    }
    if method != "POST" {
        return Err(Failure::method_not_allowed());
    }
    // A segment that does not decode cannot name a topic.
    percent_decode(topic).ok_or_else(Failure::topic_not_found)
}

/// `%XX` escapes decoded; `None` if one is broken or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Kafka's rule for topic names: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or
/// `..`. A name that breaks it cannot exist: 404 with 40401, as the proxy
/// answers for a missing topic.
pub fn check_topic(topic: &str) -> Result<(), Failure> {
    let ok = !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Failure::topic_not_found())
    }
}

/// The embedded format of a `Content-Type` (parameters such as `charset`
/// ignored); anything else is 415.
pub fn format(content_type: Option<&str>) -> Result<Format, Failure> {
    let media = content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        "application/vnd.kafka.binary.v2+json" => Ok(Format::Binary),
        "application/vnd.kafka.json.v2+json" => Ok(Format::Json),
        _ => Err(Failure::new(415, 415, "HTTP 415 Unsupported Media Type")),
    }
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    records: Vec<RecordIn<'a>>,
}

#[derive(Deserialize)]
struct RecordIn<'a> {
    #[serde(borrow, default)]
    key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(default)]
    partition: Option<i32>,
}

/// Malformed JSON is 400; JSON of the wrong shape is 422 (as Jackson's
/// parse and mapping errors are in the proxy).
fn json_failure(e: serde_json::Error) -> Failure {
    match e.classify() {
        serde_json::error::Category::Data => Failure::new(422, 422, format!("Unprocessable Entity: {e}")),
        _ => Failure::new(400, 400, format!("Malformed JSON: {e}")),
    }
}

/// The records of a produce body, packed in request order.
pub fn parse_records(body: &[u8], format: Format) -> Result<Packed, Failure> {
    let parsed: Body<'_> = serde_json::from_slice(body).map_err(json_failure)?;
    let mut packed = Packed::default();
    let mut key_buf = Vec::new();
    let mut value_buf = Vec::new();
    for (i, r) in parsed.records.iter().enumerate() {
        let key = embedded(r.key, format, &mut key_buf).map_err(|m| Failure::new(422, 422, format!("records[{i}].key: {m}")))?;
        let value = embedded(r.value, format, &mut value_buf).map_err(|m| Failure::new(422, 422, format!("records[{i}].value: {m}")))?;
        if let Some(p) = r.partition {
            if p < 0 {
                return Err(Failure::new(422, 42202, format!("records[{i}].partition: {p} is not a partition")));
            }
        }
        packed.push(&Record { key, value, headers: &[], partition: r.partition, timestamp: None });
    }
    Ok(packed)
}

/// A key or value as stored: absent or JSON `null` is null; binary is
/// base64-decoded (into `buf`); JSON is its text.
fn embedded<'a>(raw: Option<&'a RawValue>, format: Format, buf: &'a mut Vec<u8>) -> Result<Option<&'a [u8]>, String> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else { return Ok(None) };
    match format {
        Format::Json => Ok(Some(raw.get().as_bytes())),
        Format::Binary => {
            let s: std::borrow::Cow<'_, str> = serde_json::from_str(raw.get()).map_err(|_| "must be a base64 string".to_string())?;
            buf.clear();
            base64::engine::general_purpose::STANDARD.decode_vec(s.as_bytes(), buf).map_err(|e| format!("invalid base64: {e}"))?;
            Ok(Some(&buf[..]))
        }
    }
}

/// One record's outcome, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored { partition: i32, offset: i64 },
    /// `error_code`: 1 not retriable, 2 retriable (the proxy's
    /// classification); the partition when one was chosen.
    Failed { partition: Option<i32>, error_code: u8, error: String },
}

/// `{"offsets":[...],"key_schema_id":null,"value_schema_id":null}`
pub fn offsets_body(outcomes: &[Outcome]) -> String {
    let mut s = String::with_capacity(32 + 64 * outcomes.len());
    s.push_str("{\"offsets\":[");
    for (i, o) in outcomes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match o {
            Outcome::Stored { partition, offset } => {
                let _ = write!(s, "{{\"partition\":{partition},\"offset\":{offset},\"error_code\":null,\"error\":null}}");
            }
            Outcome::Failed { partition, error_code, error } => {
                let partition = partition.map_or("null".to_string(), |p| p.to_string());
                let error = serde_json::Value::from(error.as_str());
                let _ = write!(s, "{{\"partition\":{partition},\"offset\":null,\"error_code\":{error_code},\"error\":{error}}}");
            }
        }
    }
    s.push_str("],\"key_schema_id\":null,\"value_schema_id\":null}");
    s
}

#[cfg(test)]
#[path = "tests/rest.rs"]
mod tests;
