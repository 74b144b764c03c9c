//! Request encoders: ApiVersions, Metadata and Produce, each exactly as the
//! Kafka message schemas specify for the negotiated version. Every request
//! is written as one size-prefixed frame into a caller's buffer.

use alloc::vec::Vec;

use crate::wire::Writer;

/// The APIs this producer speaks, with the versions it can encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKey {
    Produce = 0,
    Metadata = 3,
    SaslHandshake = 17,
    ApiVersions = 18,
    InitProducerId = 22,
    SaslAuthenticate = 36,
    FindCoordinator = 10,
    AddPartitionsToTxn = 24,
    AddOffsetsToTxn = 25,
    EndTxn = 26,
    TxnOffsetCommit = 28,
}

impl ApiKey {
    /// Versions this client implements, inclusive. Produce v3 is the first
    /// with RecordBatch v2; v12+ are for transactions V2 and topic ids.
    pub fn supported(self) -> (i16, i16) {
        match self {
            ApiKey::Produce => (3, 11),
            ApiKey::Metadata => (4, 12),
            ApiKey::ApiVersions => (0, 3),
            // v6 is marked unstable in Kafka 4.3 (two-phase commit).
            ApiKey::InitProducerId => (0, 5),
            // v1 wraps the exchange in SaslAuthenticate (KIP-152); v0 is gone in Kafka 4.
            ApiKey::SaslHandshake => (1, 1),
            ApiKey::SaslAuthenticate => (0, 2),
            // v0 has no key type; v4+ batches keys (one key here, so v3).
            ApiKey::FindCoordinator => (1, 3),
            // v4+ is the brokers' batched form; v5 is transactions V2.
            ApiKey::AddPartitionsToTxn => (0, 3),
            // v4 (AddOffsetsToTxn, EndTxn, TxnOffsetCommit) and v5 belong to
            // transactions V2 (KIP-890 part 2, with Produce v12).
            ApiKey::AddOffsetsToTxn => (0, 3),
            ApiKey::EndTxn => (0, 3),
            ApiKey::TxnOffsetCommit => (0, 3),
        }
    }
    /// First version whose body uses compact types and tagged fields.
    pub fn first_flexible(self) -> i16 {
        match self {
            ApiKey::Produce | ApiKey::Metadata => 9,
            ApiKey::ApiVersions => 3,
            ApiKey::InitProducerId => 2,
            ApiKey::SaslHandshake => i16::MAX, // never flexible
            ApiKey::SaslAuthenticate => 2,
            ApiKey::FindCoordinator
            | ApiKey::AddPartitionsToTxn
            | ApiKey::AddOffsetsToTxn
            | ApiKey::EndTxn
            | ApiKey::TxnOffsetCommit => 3,
        }
    }
    pub fn is_flexible(self, version: i16) -> bool {
        version >= self.first_flexible()
    }
}

/// Starts a frame: reserves the size, writes the request header (v1, or v2
/// in flexible versions). Returns where the frame starts.
pub(crate) fn begin(buf: &mut Vec<u8>, api: ApiKey, version: i16, correlation_id: i32, client_id: &str) -> usize {
    let start = buf.len();
    let mut w = Writer::new(buf);
    w.i32(0); // size, patched by `end`
    w.i16(api as i16);
    w.i16(version);
    w.i32(correlation_id);
    w.nullable_string(Some(client_id), false); // ClientId is never compact
    if api.is_flexible(version) {
        w.no_tagged_fields();
    }
    start
}

pub(crate) fn end(buf: &mut [u8], start: usize) {
    let size = (buf.len() - start - 4) as i32;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// ApiVersions: the first request on every connection.
pub fn api_versions(buf: &mut Vec<u8>, version: i16, correlation_id: i32, client_id: &str) {
    let start = begin(buf, ApiKey::ApiVersions, version, correlation_id, client_id);
    if ApiKey::ApiVersions.is_flexible(version) {
        let mut w = Writer::new(buf);
        w.string("kafka-producer-component", true); // ClientSoftwareName
        w.string(env!("CARGO_PKG_VERSION"), true); // ClientSoftwareVersion
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// Metadata for `topics` (v4+).
pub fn metadata<'t>(
    buf: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    topics: impl ExactSizeIterator<Item = &'t str>,
    allow_auto_topic_creation: bool,
) {
    let start = begin(buf, ApiKey::Metadata, version, correlation_id, client_id);
    let flexible = ApiKey::Metadata.is_flexible(version);
    let mut w = Writer::new(buf);
    w.array_len(topics.len(), flexible);
    for name in topics {
        if version >= 10 {
            w.raw(&[0; 16]); // TopicId: zero, we name topics
        }
        w.string(name, flexible);
        if flexible {
            w.no_tagged_fields();
        }
    }
    w.bool(allow_auto_topic_creation); // v4+
    if (8..=10).contains(&version) {
        w.bool(false); // IncludeClusterAuthorizedOperations
    }
    if version >= 8 {
        w.bool(false); // IncludeTopicAuthorizedOperations
    }
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// The transactional id and `transaction.timeout.ms` InitProducerId
/// carries for a transactional producer.
#[derive(Debug, Clone, Copy)]
pub struct Transactional<'a> {
    pub id: &'a str,
    pub timeout_ms: i32,
}

/// InitProducerId: for an idempotent producer `transactional` is `None`;
/// for a transactional one it names the transaction and its timeout. From
/// v3, passing the current id and epoch asks for the epoch to be bumped
/// (KIP-360); (-1, -1) asks for a new producer id.
pub fn init_producer_id(
    buf: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    transactional: Option<Transactional<'_>>,
    current: (i64, i16),
) {
    let start = begin(buf, ApiKey::InitProducerId, version, correlation_id, client_id);
    let flexible = ApiKey::InitProducerId.is_flexible(version);
    let mut w = Writer::new(buf);
    w.nullable_string(transactional.map(|t| t.id), flexible); // TransactionalId
    // TransactionTimeoutMs: unused without a transactional id.
    w.i32(transactional.map_or(i32::MAX, |t| t.timeout_ms));
    if version >= 3 {
        w.i64(current.0);
        w.i16(current.1);
    }
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// SaslHandshake v1: the mechanism the client wants.
pub fn sasl_handshake(buf: &mut Vec<u8>, correlation_id: i32, client_id: &str, mechanism: &str) {
    let start = begin(buf, ApiKey::SaslHandshake, 1, correlation_id, client_id);
    Writer::new(buf).string(mechanism, false);
    end(buf, start);
}

/// SaslAuthenticate: one message of the exchange.
pub fn sasl_authenticate(buf: &mut Vec<u8>, version: i16, correlation_id: i32, client_id: &str, auth_bytes: &[u8]) {
    let start = begin(buf, ApiKey::SaslAuthenticate, version, correlation_id, client_id);
    let flexible = ApiKey::SaslAuthenticate.is_flexible(version);
    let mut w = Writer::new(buf);
    w.bytes_len(auth_bytes.len(), flexible);
    w.raw(auth_bytes);
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// One partition's finished RecordBatch in a Produce request.
pub struct PartitionData<'a> {
    pub partition: i32,
    pub records: &'a [u8],
}

/// Produce (v3+). `topics` lists each topic once with its partitions'
/// batches; `transactional_id` names the transaction they belong to.
#[allow(clippy::too_many_arguments)]
pub fn produce<'a>(
    buf: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    transactional_id: Option<&str>,
    acks: i16,
    timeout_ms: i32,
    topics: &[(&str, &[PartitionData<'a>])],
) {
    let start = begin(buf, ApiKey::Produce, version, correlation_id, client_id);
    let flexible = ApiKey::Produce.is_flexible(version);
    let mut w = Writer::new(buf);
    w.nullable_string(transactional_id, flexible); // TransactionalId
    w.i16(acks);
    w.i32(timeout_ms);
    w.array_len(topics.len(), flexible);
    for (name, partitions) in topics {
        w.string(name, flexible);
        w.array_len(partitions.len(), flexible);
        for p in partitions.iter() {
            w.i32(p.partition);
            w.bytes_len(p.records.len(), flexible);
            w.raw(p.records);
            if flexible {
                w.no_tagged_fields();
            }
        }
        if flexible {
            w.no_tagged_fields();
        }
    }
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

// ---- transactions (KIP-98): each to the coordinator FindCoordinator names ----

/// FindCoordinator (v1-v3) for `key`: key type 0 is a consumer group, 1 a
/// transactional id.
pub fn find_coordinator(buf: &mut Vec<u8>, version: i16, correlation_id: i32, client_id: &str, key: &str, key_type: i8) {
    let start = begin(buf, ApiKey::FindCoordinator, version, correlation_id, client_id);
    let flexible = ApiKey::FindCoordinator.is_flexible(version);
    let mut w = Writer::new(buf);
    w.string(key, flexible);
    w.i8(key_type);
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// The transaction a request belongs to: transactional id, producer id, epoch.
#[derive(Debug, Clone, Copy)]
pub struct TxnIdentity<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
}

fn txn_identity(w: &mut Writer<'_>, t: &TxnIdentity<'_>, flexible: bool) {
    w.string(t.transactional_id, flexible);
    w.i64(t.producer_id);
    w.i16(t.producer_epoch);
}

/// AddPartitionsToTxn (v0-v3): `topics` lists each topic once with the
/// partitions to add.
pub fn add_partitions_to_txn(
    buf: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    txn: &TxnIdentity<'_>,
    topics: &[(&str, Vec<i32>)],
) {
    let start = begin(buf, ApiKey::AddPartitionsToTxn, version, correlation_id, client_id);
    let flexible = ApiKey::AddPartitionsToTxn.is_flexible(version);
    let mut w = Writer::new(buf);
    txn_identity(&mut w, txn, flexible);
    w.array_len(topics.len(), flexible);
    for (name, partitions) in topics {
        w.string(name, flexible);
        w.array_len(partitions.len(), flexible);
        for p in partitions {
            w.i32(*p);
        }
        if flexible {
            w.no_tagged_fields();
        }
    }
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// AddOffsetsToTxn (v0-v3): the group whose offsets the transaction will commit.
pub fn add_offsets_to_txn(buf: &mut Vec<u8>, version: i16, correlation_id: i32, client_id: &str, txn: &TxnIdentity<'_>, group_id: &str) {
    let start = begin(buf, ApiKey::AddOffsetsToTxn, version, correlation_id, client_id);
    let flexible = ApiKey::AddOffsetsToTxn.is_flexible(version);
    let mut w = Writer::new(buf);
    txn_identity(&mut w, txn, flexible);
    w.string(group_id, flexible);
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// EndTxn (v0-v3): commit (`true`) or abort the transaction.
pub fn end_txn(buf: &mut Vec<u8>, version: i16, correlation_id: i32, client_id: &str, txn: &TxnIdentity<'_>, commit: bool) {
    let start = begin(buf, ApiKey::EndTxn, version, correlation_id, client_id);
    let flexible = ApiKey::EndTxn.is_flexible(version);
    let mut w = Writer::new(buf);
    txn_identity(&mut w, txn, flexible);
    w.bool(commit);
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

/// A consumer group's view for TxnOffsetCommit (KIP-447): its generation
/// and member id fence a zombie consumer; -1, "" and `None` when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadata {
    pub group_id: alloc::string::String,
    pub generation_id: i32,
    pub member_id: alloc::string::String,
    pub group_instance_id: Option<alloc::string::String>,
}

/// One partition's offset to commit with the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetToCommit {
    pub topic: alloc::string::String,
    pub partition: i32,
    /// The offset of the next record to consume (last processed + 1).
    pub offset: i64,
    pub metadata: Option<alloc::string::String>,
}

/// TxnOffsetCommit (v0-v3), to the group's coordinator. `offsets` must be
/// grouped by topic.
pub fn txn_offset_commit(
    buf: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    txn: &TxnIdentity<'_>,
    group: &GroupMetadata,
    offsets: &[OffsetToCommit],
) {
    let start = begin(buf, ApiKey::TxnOffsetCommit, version, correlation_id, client_id);
    let flexible = ApiKey::TxnOffsetCommit.is_flexible(version);
    let mut w = Writer::new(buf);
    w.string(txn.transactional_id, flexible);
    w.string(&group.group_id, flexible);
    w.i64(txn.producer_id);
    w.i16(txn.producer_epoch);
    if version >= 3 {
        w.i32(group.generation_id);
        w.string(&group.member_id, flexible);
        w.nullable_string(group.group_instance_id.as_deref(), flexible);
    }
    let mut topics: Vec<(&str, Vec<&OffsetToCommit>)> = Vec::new();
    for o in offsets {
        match topics.iter_mut().find(|(n, _)| *n == o.topic) {
            Some((_, v)) => v.push(o),
            None => topics.push((&o.topic, alloc::vec![o])),
        }
    }
    w.array_len(topics.len(), flexible);
    for (name, parts) in &topics {
        w.string(name, flexible);
        w.array_len(parts.len(), flexible);
        for o in parts {
            w.i32(o.partition);
            w.i64(o.offset);
            if version >= 2 {
                w.i32(-1); // CommittedLeaderEpoch: unknown
            }
            w.nullable_string(o.metadata.as_deref(), flexible);
            if flexible {
                w.no_tagged_fields();
            }
        }
        if flexible {
            w.no_tagged_fields();
        }
    }
    if flexible {
        w.no_tagged_fields();
    }
    end(buf, start);
}

// Request sizing: what a Produce request adds around its batches, at
// most, so that the sender keeps a request within `max.request.size` and
// `send` refuses a record that could never fit. The only place these
// sizes are written down.

/// Bytes of a Produce request before its first topic: size, request
/// header (api key, version, correlation id, client id), transactional
/// id, acks, timeout and the topics array.
pub fn produce_header_overhead(client_id: &str, transactional_id: Option<&str>) -> usize {
    4 + 10 + client_id.len() + 2 + transactional_id.map_or(0, str::len) + 2 + 4 + 4
}

/// Bytes one more topic adds to a Produce request: its name and its
/// partitions array (and, when flexible, tagged fields).
pub fn topic_overhead(topic: &str) -> usize {
    6 + topic.len()
}

/// Bytes a Produce request of one batch adds around it, at most: used to
/// bound a batch that must fit in a request of its own. Generous by 4
/// bytes over the sum of the parts (kept from the first version of the
/// bound, which `send`'s record-too-large limit has always used).
pub fn produce_overhead(client_id: &str, transactional_id: Option<&str>, topic: &str) -> usize {
    produce_header_overhead(client_id, transactional_id) + topic_overhead(topic) + 4 + partition_overhead()
}

/// Bytes one more partition adds to a Produce request, at most.
pub const fn partition_overhead() -> usize {
    4 + 5 + 1
}

#[cfg(test)]
#[path = "tests/request.rs"]
mod tests;
