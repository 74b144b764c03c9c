//! Producer configuration by the property names of the Java client and
//! librdkafka (`bootstrap.servers`, `acks`, `linger.ms`, ...).
//!
//! Properties arrive as string pairs, as they do in every Kafka client, and
//! are deserialized with serde into typed [`Config`]. An unknown key or a
//! malformed value is an error that names the key and the reason.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

/// `acks`: how many replicas must have the batch before the broker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `0`: the broker sends no response; records are reported delivered
    /// (offset unknown) once their request is handed to the host.
    None,
    /// `1`: the leader has written the batch.
    Leader,
    /// `all` / `-1`: every in-sync replica has the batch.
    All,
}

impl Acks {
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

impl<'de> Deserialize<'de> for Acks {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <&str>::deserialize(d)?;
        match s {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "all" | "-1" => Ok(Acks::All),
            _ => Err(de::Error::custom(format!("`{s}` is not one of 0, 1, all, -1"))),
        }
    }
}

/// `partitioner`: where a record without an explicit partition goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PartitionerKind {
    /// Keyed records by Java's murmur2; keyless ones stick to a partition
    /// until its batch is sent (KIP-480). The Java client's behaviour.
    #[serde(rename = "murmur2_random")]
    Murmur2Random,
    /// Every record by murmur2 of its key; a null key hashes as empty.
    #[serde(rename = "murmur2")]
    Murmur2,
    /// Keys are ignored: every record sticks to a partition per batch.
    /// librdkafka's `random` picks a partition per record instead; ours
    /// is sticky (KIP-480), which batches better and spreads the same.
    #[serde(rename = "random")]
    Random,
    /// librdkafka's `consistent`: CRC-32 (IEEE) of the key, modulo the
    /// partition count; a null or empty key hashes as zero bytes (CRC 0,
    /// so partition 0).
    #[serde(rename = "consistent")]
    Consistent,
    /// librdkafka's default, `consistent_random`: keyed records as
    /// `consistent`; null *or empty* keys stick to a partition (KIP-480).
    #[serde(rename = "consistent_random")]
    ConsistentRandom,
    /// librdkafka's `fnv1a` (Sarama's hash partitioner): FNV-1a 32-bit of
    /// the key, absolute value as a signed 32-bit, modulo the partition
    /// count; a null key hashes as empty.
    #[serde(rename = "fnv1a")]
    Fnv1a,
    /// librdkafka's `fnv1a_random`: keyed records (even an empty key) as
    /// `fnv1a`; null keys stick to a partition (KIP-480).
    #[serde(rename = "fnv1a_random")]
    Fnv1aRandom,
}

pub use crate::codec::Codec as Compression;
pub use crate::sasl::{Mechanism as SaslMechanism, Secret};

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SecurityProtocol {
    #[serde(rename = "PLAINTEXT", alias = "plaintext")]
    Plaintext,
    #[serde(rename = "SASL_PLAINTEXT", alias = "sasl_plaintext")]
    SaslPlaintext,
    #[serde(rename = "SSL", alias = "ssl")]
    Ssl,
    #[serde(rename = "SASL_SSL", alias = "sasl_ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }

    fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }
}

/// Typed producer settings. Defaults follow the Java producer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `host:port` pairs, comma-separated.
    #[serde(rename = "bootstrap.servers", alias = "metadata.broker.list", deserialize_with = "servers")]
    pub bootstrap_servers: Vec<(String, u16)>,
    #[serde(rename = "client.id")]
    pub client_id: String,
    #[serde(rename = "acks", alias = "request.required.acks")]
    pub acks: Acks,
    #[serde(rename = "linger.ms", alias = "queue.buffering.max.ms")]
    pub linger_ms: u64,
    /// Upper bound, in bytes, of one batch (a larger record gets a batch of
    /// its own). librdkafka's default (1,000,000), not the Java client's
    /// 16,384: batches grow on demand, so a large bound costs memory only
    /// when records wait, and then fewer, larger batches cost the broker
    /// less per record.
    #[serde(rename = "batch.size")]
    pub batch_size: usize,
    /// Upper bound of one Produce request; a record that cannot fit in one is rejected.
    #[serde(rename = "max.request.size")]
    pub max_request_size: usize,
    /// Upper bound of one RecordBatch, as the broker enforces it.
    #[serde(rename = "message.max.bytes")]
    pub message_max_bytes: usize,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    /// Time from `send` to the delivery report, retries included.
    #[serde(rename = "delivery.timeout.ms", alias = "message.timeout.ms")]
    pub delivery_timeout_ms: u64,
    #[serde(rename = "retries", alias = "message.send.max.retries")]
    pub retries: u32,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    #[serde(rename = "retry.backoff.max.ms")]
    pub retry_backoff_max_ms: u64,
    #[serde(rename = "reconnect.backoff.ms")]
    pub reconnect_backoff_ms: u64,
    #[serde(rename = "reconnect.backoff.max.ms")]
    pub reconnect_backoff_max_ms: u64,
    #[serde(rename = "socket.connection.setup.timeout.ms")]
    pub connection_setup_timeout_ms: u64,
    #[serde(rename = "metadata.max.age.ms", alias = "topic.metadata.refresh.interval.ms")]
    pub metadata_max_age_ms: u64,
    #[serde(rename = "max.in.flight.requests.per.connection", alias = "max.in.flight")]
    pub max_in_flight: u32,
    #[serde(rename = "allow.auto.create.topics")]
    pub allow_auto_create_topics: bool,
    #[serde(rename = "partitioner")]
    pub partitioner: PartitionerKind,
    #[serde(rename = "compression.type", alias = "compression.codec")]
    pub compression: Compression,
    /// -1 for the codec's default; gzip takes 0-9. lz4 and zstd have one
    /// level here (lz4_flex's, ruzstd's "fastest"), whatever is set.
    #[serde(rename = "compression.level", alias = "compression.gzip.level", alias = "compression.lz4.level", alias = "compression.zstd.level")]
    pub compression_level: i32,
    /// As set; `None` means the default, resolved into `idempotent`.
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: Option<bool>,
    /// Whether the producer is idempotent: `enable.idempotence`, on by
    /// default when `acks=all` and at most 5 requests are in flight (the
    /// Java client's rule since 3.0).
    #[serde(skip)]
    pub idempotent: bool,
    /// Makes the producer transactional (KIP-98): records go in
    /// transactions committed or aborted as a whole; a newer producer with
    /// the same id fences this one. Implies idempotence.
    #[serde(rename = "transactional.id")]
    pub transactional_id: Option<String>,
    /// How long the coordinator lets a transaction stay open before it
    /// aborts it.
    #[serde(rename = "transaction.timeout.ms")]
    pub transaction_timeout_ms: u64,
    #[serde(rename = "security.protocol")]
    pub security_protocol: SecurityProtocol,
    #[serde(rename = "sasl.mechanism", alias = "sasl.mechanisms")]
    pub sasl_mechanism: Option<SaslMechanism>,
    #[serde(rename = "sasl.username")]
    pub sasl_username: Option<String>,
    #[serde(rename = "sasl.password")]
    pub sasl_password: Option<Secret>,
    /// The Java client's way: `...LoginModule required username="u" password="p";`.
    #[serde(rename = "sasl.jaas.config")]
    pub sasl_jaas_config: Option<Secret>,
    /// OAUTHBEARER: the bearer token (RFC 6750 b64token), sent until
    /// replaced with `Producer::set_oauthbearer_token`.
    #[serde(rename = "sasl.oauthbearer.token")]
    pub sasl_oauthbearer_token: Option<Secret>,
    /// OAUTHBEARER SASL extensions (KIP-342): `key=value,key=value`.
    #[serde(rename = "sasl.oauthbearer.extensions")]
    pub sasl_oauthbearer_extensions: Option<String>,
    /// The extensions, parsed.
    #[serde(skip)]
    pub oauthbearer_extensions: Vec<(String, String)>,
    /// CA certificates (PEM) that sign the brokers' certificates; without
    /// it, the Mozilla root program's CAs.
    #[serde(rename = "ssl.ca.pem")]
    pub ssl_ca_pem: Option<String>,
    /// A file name: the core reads no files, so a host reads it and passes
    /// its contents as `ssl.ca.pem` (the example hosts do).
    #[serde(rename = "ssl.ca.location")]
    pub ssl_ca_location: Option<String>,
    /// `false` accepts any certificate: encryption without knowing who is
    /// at the other end.
    #[serde(rename = "enable.ssl.certificate.verification")]
    pub ssl_certificate_verification: bool,
    /// `https` (default): the certificate must name the broker's host;
    /// `none` (or empty): it need not.
    #[serde(rename = "ssl.endpoint.identification.algorithm")]
    pub ssl_endpoint_identification: String,
    /// The client's certificate (PEM; intermediates may follow), for
    /// brokers that require client certificates (mutual TLS).
    #[serde(rename = "ssl.certificate.pem")]
    pub ssl_certificate_pem: Option<String>,
    /// Its private key (PEM: PKCS#8, SEC1 or PKCS#1; not encrypted).
    #[serde(rename = "ssl.key.pem")]
    pub ssl_key_pem: Option<Secret>,
    /// File names a host reads into `ssl.certificate.pem` / `ssl.key.pem`.
    #[serde(rename = "ssl.certificate.location")]
    pub ssl_certificate_location: Option<String>,
    #[serde(rename = "ssl.key.location")]
    pub ssl_key_location: Option<String>,
    /// Refused: encrypted keys are not supported.
    #[serde(rename = "ssl.key.password")]
    pub ssl_key_password: Option<Secret>,
    /// Built from the settings above with SSL / SASL_SSL.
    #[serde(skip)]
    pub tls: Option<alloc::sync::Arc<crate::tls::TlsSetup>>,
    /// Bytes of records accepted and not yet reported (batch buffers
    /// included); `send` refuses records with queue-full beyond it.
    #[serde(rename = "buffer.memory")]
    pub buffer_memory: usize,
    /// Records accepted and not yet reported; queue-full beyond it.
    #[serde(rename = "queue.buffering.max.messages")]
    pub max_queued_records: u64,
    /// Emit the statistics as JSON this often; 0: never.
    #[serde(rename = "statistics.interval.ms")]
    pub statistics_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bootstrap_servers: Vec::new(),
            client_id: "kafka-producer-component".to_owned(),
            acks: Acks::All,
            linger_ms: 5,
            batch_size: 262_144,
            max_request_size: 1_048_576,
            message_max_bytes: 1_048_588,
            request_timeout_ms: 30_000,
            delivery_timeout_ms: 120_000,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1_000,
            reconnect_backoff_ms: 50,
            reconnect_backoff_max_ms: 1_000,
            connection_setup_timeout_ms: 10_000,
            metadata_max_age_ms: 300_000,
            max_in_flight: 5,
            allow_auto_create_topics: true,
            partitioner: PartitionerKind::Murmur2Random,
            compression: Compression::None,
            compression_level: -1,
            enable_idempotence: None,
            idempotent: true,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            sasl_jaas_config: None,
            sasl_oauthbearer_token: None,
            sasl_oauthbearer_extensions: None,
            oauthbearer_extensions: Vec::new(),
            ssl_ca_pem: None,
            ssl_ca_location: None,
            ssl_certificate_verification: true,
            ssl_endpoint_identification: "https".to_owned(),
            ssl_certificate_pem: None,
            ssl_key_pem: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_key_password: None,
            tls: None,
            buffer_memory: 32 << 20,
            max_queued_records: 100_000,
            statistics_interval_ms: 0,
        }
    }
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration `{}`: {}", self.key, self.reason)
    }
}

impl Config {
    /// Parses property pairs. Later pairs override earlier ones.
    pub fn from_pairs<'a, I>(pairs: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().map(|(k, v)| (k.trim(), v.trim())).collect();
        let mut access = Pairs { pairs: &pairs, next: 0, key: "" };
        let mut config = Config::deserialize(PairsDeserializer(&mut access)).map_err(|e| {
            // Unknown keys are reported by serde before any value is read.
            let key = if e.0.starts_with("unknown field") { e.0.split('`').nth(1).unwrap_or("").to_owned() } else { e.1 };
            ConfigError { key, reason: e.0 }
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let err = |key: &str, reason: String| Err(ConfigError { key: key.to_owned(), reason });
        if self.bootstrap_servers.is_empty() {
            return err("bootstrap.servers", "is required: at least one host:port".into());
        }
        const MAX: usize = 256 << 20;
        for (key, v) in [("batch.size", self.batch_size), ("max.request.size", self.max_request_size), ("message.max.bytes", self.message_max_bytes)] {
            if v == 0 || v > MAX {
                return err(key, format!("{v} is not between 1 and {MAX} bytes"));
            }
        }
        if self.max_in_flight == 0 {
            return err("max.in.flight.requests.per.connection", "must be at least 1".into());
        }
        if self.request_timeout_ms == 0 {
            return err("request.timeout.ms", "must be at least 1".into());
        }
        if self.max_request_size < crate::batch::BATCH_HEADER_LEN + 64 {
            return err("max.request.size", format!("{} cannot hold a single record batch", self.max_request_size));
        }
        if let Some(id) = &self.transactional_id {
            if id.is_empty() {
                return err("transactional.id", "is empty: leave it unset for a producer without transactions".into());
            }
            if self.enable_idempotence == Some(false) {
                return err("transactional.id", "needs idempotence: remove enable.idempotence=false".into());
            }
            if self.acks != Acks::All {
                return err("transactional.id", "needs acks=all".into());
            }
            if self.max_in_flight > 5 {
                return err("transactional.id", "needs max.in.flight.requests.per.connection of at most 5".into());
            }
            if self.transaction_timeout_ms == 0 || self.transaction_timeout_ms > i32::MAX as u64 {
                return err("transaction.timeout.ms", format!("{} is not between 1 and {} ms", self.transaction_timeout_ms, i32::MAX));
            }
        }
        let idempotence_fits = self.acks == Acks::All && self.max_in_flight <= 5;
        self.idempotent = match self.enable_idempotence {
            Some(true) if self.acks != Acks::All => {
                return err("enable.idempotence", "needs acks=all".into());
            }
            Some(true) if self.max_in_flight > 5 => {
                return err("enable.idempotence", "needs max.in.flight.requests.per.connection of at most 5".into());
            }
            Some(on) => on,
            None => idempotence_fits,
        };
        if self.buffer_memory < self.max_request_size.min(self.batch_size) {
            return err("buffer.memory", format!("{} cannot hold one batch", self.buffer_memory));
        }
        if self.compression == Compression::Gzip && !(-1..=9).contains(&self.compression_level) {
            return err("compression.level", format!("{} is not a gzip level (-1, or 0 to 9)", self.compression_level));
        }
        let protocol = self.security_protocol;
        if protocol.uses_sasl() {
            let name = protocol.name();
            if self.sasl_mechanism.is_none() {
                return err("sasl.mechanism", format!("is required with {name}: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"));
            }
            if self.sasl_mechanism == Some(SaslMechanism::OauthBearer) {
                if let Some(token) = &self.sasl_oauthbearer_token {
                    crate::oauthbearer::check_token(token.expose())?;
                }
                if let Some(ext) = &self.sasl_oauthbearer_extensions {
                    self.oauthbearer_extensions = crate::oauthbearer::parse_extensions(ext)?;
                }
            }
            let oauth = self.sasl_mechanism == Some(SaslMechanism::OauthBearer);
            if let Some(jaas) = self.sasl_jaas_config.as_ref().filter(|_| !oauth) {
                let (user, password) = jaas_credentials(jaas.expose())
                    .ok_or_else(|| ConfigError { key: "sasl.jaas.config".into(), reason: "has no username=\"...\" and password=\"...\"".into() })?;
                self.sasl_username.get_or_insert(user);
                self.sasl_password.get_or_insert(Secret::new(&password));
            }
            if oauth {
                // A token, not a user name and password.
            } else if self.sasl_username.is_none() {
                return err("sasl.username", format!("is required with {name}"));
            } else if self.sasl_password.is_none() {
                return err("sasl.password", format!("is required with {name}"));
            }
        }
        if protocol.uses_tls() {
            for (location, set, pem) in [
                ("ssl.ca.location", &self.ssl_ca_location, self.ssl_ca_pem.is_some()),
                ("ssl.certificate.location", &self.ssl_certificate_location, self.ssl_certificate_pem.is_some()),
                ("ssl.key.location", &self.ssl_key_location, self.ssl_key_pem.is_some()),
            ] {
                if set.is_some() && !pem {
                    let pem_key = location.replace(".location", ".pem");
                    return err(
                        location,
                        format!("names a file, and the producer core reads no files: the host reads it and passes its contents as {pem_key}"),
                    );
                }
            }
            let client = self.client_identity()?;
            let verification = match (self.ssl_certificate_verification, self.ssl_endpoint_identification.to_ascii_lowercase().as_str()) {
                (false, _) => crate::tls::Verification::None,
                (true, "https") => crate::tls::Verification::Full,
                (true, "none" | "") => crate::tls::Verification::NoHostname,
                (true, other) => return err("ssl.endpoint.identification.algorithm", format!("{other:?} is not https or none")),
            };
            let roots = match &self.ssl_ca_pem {
                Some(pem) => crate::tls::root_store(pem).map_err(|reason| ConfigError { key: "ssl.ca.pem".into(), reason })?,
                None => crate::tls::default_roots(),
            };
            let setup = crate::tls::TlsSetup::new(roots, verification, client).map_err(|reason| ConfigError { key: "security.protocol".into(), reason })?;
            self.tls = Some(alloc::sync::Arc::new(setup));
        }
        if self.max_queued_records == 0 {
            return err("queue.buffering.max.messages", "must be at least 1".into());
        }
        if self.delivery_timeout_ms < self.linger_ms.saturating_add(self.request_timeout_ms) {
            return err(
                "delivery.timeout.ms",
                format!(
                    "{} must be at least linger.ms + request.timeout.ms ({})",
                    self.delivery_timeout_ms,
                    self.linger_ms.saturating_add(self.request_timeout_ms)
                ),
            );
        }
        Ok(())
    }
}

impl Config {
    /// `ssl.certificate.pem` and `ssl.key.pem`, both or neither.
    fn client_identity(&self) -> Result<Option<alloc::sync::Arc<rustls::sign::CertifiedKey>>, ConfigError> {
        let err = |key: &str, reason: String| Err(ConfigError { key: key.to_owned(), reason });
        if self.ssl_key_password.is_some() {
            return err(
                "ssl.key.password",
                "is not supported: encrypted private keys are not; give ssl.key.pem unencrypted (e.g. openssl pkey -in key.pem -out plain-key.pem)".into(),
            );
        }
        match (&self.ssl_certificate_pem, &self.ssl_key_pem) {
            (None, None) => Ok(None),
            (Some(_), None) => err("ssl.key.pem", "is required with ssl.certificate.pem (or ssl.key.location with ssl.certificate.location): the certificate's private key".into()),
            (None, Some(_)) => err("ssl.certificate.pem", "is required with ssl.key.pem (or ssl.certificate.location with ssl.key.location): the key's certificate".into()),
            (Some(cert), Some(key)) => crate::tls::client_identity(cert, key.expose())
                .map(Some)
                .map_err(|(key, reason)| ConfigError { key: key.into(), reason }),
        }
    }
}

fn servers<'de, D: de::Deserializer<'de>>(d: D) -> Result<Vec<(String, u16)>, D::Error> {
    let s = <&str>::deserialize(d)?;
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // Accept an optional scheme, as librdkafka does (PLAINTEXT://host:port).
        let hp = part.rsplit("://").next().unwrap_or(part);
        let (host, port) = hp
            .rsplit_once(':')
            .ok_or_else(|| de::Error::custom(format!("`{part}` is not host:port")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port.parse().map_err(|_| de::Error::custom(format!("`{part}` has no valid port")))?;
        if host.is_empty() {
            return Err(de::Error::custom(format!("`{part}` has no host")));
        }
        out.push((host.to_owned(), port));
    }
    Ok(out)
}

/// username and password from a JAAS line: `... username="u" password="p";`.
fn jaas_credentials(jaas: &str) -> Option<(String, String)> {
    let value = |key: &str| -> Option<String> {
        let at = jaas.find(&alloc::format!("{key}=\""))? + key.len() + 2;
        let end = jaas[at..].find('"')?;
        Some(jaas[at..at + end].to_owned())
    };
    Some((value("username")?, value("password")?))
}

// --- A serde Deserializer over string pairs. Values are parsed by the type
// --- the field asks for; every error carries the key it came from.

/// (reason, key)
#[derive(Debug)]
struct PairError(String, String);

impl fmt::Display for PairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl de::StdError for PairError {}
impl de::Error for PairError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PairError(msg.to_string(), String::new())
    }
}

struct Pairs<'p, 'a> {
    pairs: &'p [(&'a str, &'a str)],
    next: usize,
    key: &'a str,
}

struct PairsDeserializer<'x, 'p, 'a>(&'x mut Pairs<'p, 'a>);

impl<'de, 'x, 'p> de::Deserializer<'de> for PairsDeserializer<'x, 'p, 'de> {
    type Error = PairError;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, PairError> {
        v.visit_map(self.0)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, 'p> MapAccess<'de> for Pairs<'p, 'de> {
    type Error = PairError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, PairError> {
        let Some(&(k, _)) = self.pairs.get(self.next) else { return Ok(None) };
        self.key = k;
        seed.deserialize(k.into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, PairError> {
        let (k, v) = self.pairs[self.next.min(self.pairs.len() - 1)];
        self.next += 1;
        seed.deserialize(Value(v)).map_err(|e| PairError(e.0, k.to_owned()))
    }
}

/// One property value: a string parsed as whatever the field asks for.
struct Value<'a>(&'a str);

macro_rules! parse_as {
    ($($method:ident => $visit:ident : $ty:ty,)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, PairError> {
            match self.0.parse::<$ty>() {
                Ok(n) => v.$visit(n),
                Err(_) => Err(PairError(format!("`{}` is not a valid {}", self.0, stringify!($ty)), String::new())),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = PairError;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, PairError> {
        v.visit_borrowed_str(self.0)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, PairError> {
        match self.0 {
            "true" => v.visit_bool(true),
            "false" => v.visit_bool(false),
            other => Err(PairError(format!("`{other}` is not true or false"), String::new())),
        }
    }
    parse_as! {
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, PairError> {
        v.visit_some(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, PairError> {
        v.visit_enum(self.0.into_deserializer())
    }
    serde::forward_to_deserialize_any! {
        i8 i16 i128 u8 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
