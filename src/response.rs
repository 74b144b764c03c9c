//! Response decoders for the versions the producer negotiates. They read a
//! frame the connection has already split off (size prefix removed) and
//! return [`DecodeError`] on any truncated or malformed input; they never
//! panic, whatever the bytes (they are fuzzed).

use alloc::vec::Vec;

use crate::error_codes::{self, UNSUPPORTED_VERSION};
use crate::request::ApiKey;
use crate::wire::{DecodeError, Reader, Result};

/// Splits the response header off a frame. ApiVersions responses always
/// use header v0, whatever their version; others use v1 when flexible.
pub fn header<'a>(frame: &'a [u8], api: ApiKey, version: i16) -> Result<(i32, Reader<'a>)> {
    let mut r = Reader::new(frame);
    let correlation_id = r.i32("correlation id")?;
    if api != ApiKey::ApiVersions && api.is_flexible(version) {
        r.skip_tagged_fields()?;
    }
    Ok((correlation_id, r))
}

/// A broker's version range for one API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRange {
    pub api_key: i16,
    pub min: i16,
    pub max: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    pub error_code: i16,
    pub api_keys: Vec<ApiRange>,
}

impl ApiVersionsResponse {
    /// The highest version of `api` both sides support.
    pub fn negotiate(&self, api: ApiKey) -> Option<i16> {
        let (ours_min, ours_max) = api.supported();
        let theirs = self.api_keys.iter().find(|k| k.api_key == api as i16)?;
        let v = ours_max.min(theirs.max);
        (v >= ours_min.max(theirs.min)).then_some(v)
    }
}

/// Decodes an ApiVersions response. To a version it does not know, the
/// broker answers UNSUPPORTED_VERSION in the v0 layout, listing what it
/// does support.
pub fn api_versions(r: &mut Reader<'_>, version: i16) -> Result<ApiVersionsResponse> {
    let error_code = r.i16("error code")?;
    // A broker that rejects our version replies in v0, whatever we sent.
    let flexible = ApiKey::ApiVersions.is_flexible(version) && error_code != UNSUPPORTED_VERSION;
    let n = r.array_len(flexible, 6, "api keys")?;
    let mut api_keys = Vec::with_capacity(n);
    for _ in 0..n {
        let api_key = r.i16("api key")?;
        let min = r.i16("min version")?;
        let max = r.i16("max version")?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        api_keys.push(ApiRange { api_key, min, max });
    }
    if error_code == UNSUPPORTED_VERSION {
        return Ok(ApiVersionsResponse { error_code, api_keys });
    }
    if version >= 1 {
        r.i32("throttle time")?;
    }
    if flexible {
        r.skip_tagged_fields()?;
    }
    Ok(ApiVersionsResponse { error_code, api_keys })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerMeta<'a> {
    pub node_id: i32,
    pub host: &'a str,
    pub port: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMeta {
    pub error_code: i16,
    pub partition: i32,
    pub leader_id: i32,
    pub leader_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMeta<'a> {
    pub error_code: i16,
    pub name: &'a str,
    pub partitions: Vec<PartitionMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse<'a> {
    pub brokers: Vec<BrokerMeta<'a>>,
    pub topics: Vec<TopicMeta<'a>>,
    /// v13+: a top-level error (0 otherwise).
    pub error_code: i16,
}

pub fn metadata<'a>(r: &mut Reader<'a>, version: i16) -> Result<MetadataResponse<'a>> {
    let flex = ApiKey::Metadata.is_flexible(version);
    if version >= 3 {
        r.i32("throttle time")?;
    }
    let n = r.array_len(flex, 10, "brokers")?;
    let mut brokers = Vec::with_capacity(n);
    for _ in 0..n {
        let node_id = r.i32("node id")?;
        let host = r.str(flex, "broker host")?;
        let port = r.i32("broker port")?;
        if version >= 1 {
            r.nullable_str(flex, "rack")?;
        }
        if flex {
            r.skip_tagged_fields()?;
        }
        brokers.push(BrokerMeta { node_id, host, port });
    }
    if version >= 2 {
        r.nullable_str(flex, "cluster id")?;
    }
    if version >= 1 {
        r.i32("controller id")?;
    }
    let n = r.array_len(flex, 8, "topics")?;
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        let error_code = r.i16("topic error code")?;
        let name = r.nullable_str(flex, "topic name")?.unwrap_or("");
        if version >= 10 {
            r.uuid("topic id")?;
        }
        if version >= 1 {
            r.bool("is internal")?;
        }
        let pn = r.array_len(flex, 14, "partitions")?;
        let mut partitions = Vec::with_capacity(pn);
        for _ in 0..pn {
            let error_code = r.i16("partition error code")?;
            let partition = r.i32("partition index")?;
            let leader_id = r.i32("leader id")?;
            let leader_epoch = if version >= 7 { r.i32("leader epoch")? } else { -1 };
            r.skip_i32_array(flex, "replica nodes")?;
            r.skip_i32_array(flex, "isr nodes")?;
            if version >= 5 {
                r.skip_i32_array(flex, "offline replicas")?;
            }
            if flex {
                r.skip_tagged_fields()?;
            }
            partitions.push(PartitionMeta { error_code, partition, leader_id, leader_epoch });
        }
        if version >= 8 {
            r.i32("topic authorized operations")?;
        }
        if flex {
            r.skip_tagged_fields()?;
        }
        topics.push(TopicMeta { error_code, name, partitions });
    }
    if (8..=10).contains(&version) {
        r.i32("cluster authorized operations")?;
    }
    let error_code = if version >= 13 { r.i16("error code")? } else { error_codes::NONE };
    if flex {
        r.skip_tagged_fields()?;
    }
    Ok(MetadataResponse { brokers, topics, error_code })
}

/// KIP-951: the leader a broker points to when it is not the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentLeader {
    pub leader_id: i32,
    pub leader_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse<'a> {
    pub partition: i32,
    pub error_code: i16,
    pub base_offset: i64,
    pub log_append_time_ms: i64,
    pub error_message: Option<&'a str>,
    pub current_leader: Option<CurrentLeader>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceResponse<'a> {
    /// (topic, partition responses)
    pub topics: Vec<(&'a str, Vec<PartitionProduceResponse<'a>>)>,
    pub throttle_time_ms: i32,
    /// KIP-951 NodeEndpoints (v10+): where the new leaders listen.
    pub node_endpoints: Vec<BrokerMeta<'a>>,
}

pub fn produce<'a>(r: &mut Reader<'a>, version: i16) -> Result<ProduceResponse<'a>> {
    let flex = ApiKey::Produce.is_flexible(version);
    let n = r.array_len(flex, 6, "topic responses")?;
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str(flex, "topic name")?;
        let pn = r.array_len(flex, 14, "partition responses")?;
        let mut parts = Vec::with_capacity(pn);
        for _ in 0..pn {
            let partition = r.i32("partition index")?;
            let error_code = r.i16("error code")?;
            let base_offset = r.i64("base offset")?;
            let log_append_time_ms = if version >= 2 { r.i64("log append time")? } else { -1 };
            if version >= 5 {
                r.i64("log start offset")?;
            }
            let mut error_message = None;
            if version >= 8 {
                let en = r.array_len(flex, 5, "record errors")?;
                for _ in 0..en {
                    r.i32("batch index")?;
                    r.nullable_str(flex, "batch index error message")?;
                    if flex {
                        r.skip_tagged_fields()?;
                    }
                }
                error_message = r.nullable_str(flex, "error message")?;
            }
            let mut current_leader = None;
            if flex {
                r.tagged_fields(|tag, t| {
                    if tag == 0 && version >= 10 {
                        let leader_id = t.i32("current leader id")?;
                        let leader_epoch = t.i32("current leader epoch")?;
                        t.skip_tagged_fields()?;
                        current_leader = Some(CurrentLeader { leader_id, leader_epoch });
                    }
                    Ok(())
                })?;
            }
            parts.push(PartitionProduceResponse {
                partition,
                error_code,
                base_offset,
                log_append_time_ms,
                error_message,
                current_leader,
            });
        }
        if flex {
            r.skip_tagged_fields()?;
        }
        topics.push((name, parts));
    }
    let throttle_time_ms = if version >= 1 { r.i32("throttle time")? } else { 0 };
    let mut node_endpoints = Vec::new();
    if flex {
        r.tagged_fields(|tag, t| {
            if tag == 0 && version >= 10 {
                let n = t.array_len(true, 10, "node endpoints")?;
                for _ in 0..n {
                    let node_id = t.i32("node id")?;
                    let host = t.str(true, "node host")?;
                    let port = t.i32("node port")?;
                    t.nullable_str(true, "node rack")?;
                    t.skip_tagged_fields()?;
                    node_endpoints.push(BrokerMeta { node_id, host, port });
                }
            }
            Ok(())
        })?;
    }
    Ok(ProduceResponse { topics, throttle_time_ms, node_endpoints })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    pub error_code: i16,
    pub producer_id: i64,
    pub producer_epoch: i16,
}

pub fn init_producer_id(r: &mut Reader<'_>, version: i16) -> Result<InitProducerIdResponse> {
    let flex = ApiKey::InitProducerId.is_flexible(version);
    r.i32("throttle time")?;
    let error_code = r.i16("error code")?;
    let producer_id = r.i64("producer id")?;
    let producer_epoch = r.i16("producer epoch")?;
    if version >= 6 {
        r.i64("ongoing txn producer id")?;
        r.i16("ongoing txn producer epoch")?;
    }
    if flex {
        r.skip_tagged_fields()?;
    }
    Ok(InitProducerIdResponse { error_code, producer_id, producer_epoch })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeResponse {
    pub error_code: i16,
    pub mechanisms: Vec<alloc::string::String>,
}

pub fn sasl_handshake(r: &mut Reader<'_>) -> Result<SaslHandshakeResponse> {
    let error_code = r.i16("error code")?;
    let n = r.array_len(false, 2, "mechanisms")?;
    let mut mechanisms = Vec::with_capacity(n);
    for _ in 0..n {
        mechanisms.push(alloc::string::String::from(r.str(false, "mechanism")?));
    }
    Ok(SaslHandshakeResponse { error_code, mechanisms })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslAuthenticateResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    pub auth_bytes: &'a [u8],
}

pub fn sasl_authenticate<'a>(r: &mut Reader<'a>, version: i16) -> Result<SaslAuthenticateResponse<'a>> {
    let flex = ApiKey::SaslAuthenticate.is_flexible(version);
    let error_code = r.i16("error code")?;
    let error_message = r.nullable_str(flex, "error message")?;
    let n = if flex { r.uvarint("auth bytes")?.checked_sub(1) } else { u64::try_from(r.i32("auth bytes")?).ok() };
    let n = usize::try_from(n.ok_or(DecodeError::Invalid { what: "auth bytes" })?).map_err(|_| DecodeError::Invalid { what: "auth bytes" })?;
    let auth_bytes = r.take(n, "auth bytes")?;
    if version >= 1 {
        r.i64("session lifetime")?;
    }
    if flex {
        r.skip_tagged_fields()?;
    }
    Ok(SaslAuthenticateResponse { error_code, error_message, auth_bytes })
}

// ---- transactions ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    pub coordinator: BrokerMeta<'a>,
}

pub fn find_coordinator<'a>(r: &mut Reader<'a>, version: i16) -> Result<FindCoordinatorResponse<'a>> {
    let flex = ApiKey::FindCoordinator.is_flexible(version);
    r.i32("throttle time")?;
    let error_code = r.i16("error code")?;
    let error_message = r.nullable_str(flex, "error message")?;
    let node_id = r.i32("coordinator node id")?;
    let host = r.str(flex, "coordinator host")?;
    let port = r.i32("coordinator port")?;
    if flex {
        r.skip_tagged_fields()?;
    }
    Ok(FindCoordinatorResponse { error_code, error_message, coordinator: BrokerMeta { node_id, host, port } })
}

/// Per-partition error codes, by topic (AddPartitionsToTxn,
/// TxnOffsetCommit share this shape).
pub type PartitionErrors<'a> = Vec<(&'a str, Vec<(i32, i16)>)>;

fn partition_errors<'a>(r: &mut Reader<'a>, flex: bool) -> Result<PartitionErrors<'a>> {
    let n = r.array_len(flex, 3, "topic results")?;
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str(flex, "topic name")?;
        let pn = r.array_len(flex, 6, "partition results")?;
        let mut parts = Vec::with_capacity(pn);
        for _ in 0..pn {
            let partition = r.i32("partition index")?;
            let code = r.i16("partition error code")?;
            if flex {
                r.skip_tagged_fields()?;
            }
            parts.push((partition, code));
        }
        if flex {
            r.skip_tagged_fields()?;
        }
        topics.push((name, parts));
    }
    Ok(topics)
}

/// AddPartitionsToTxn (v0-v3) and TxnOffsetCommit (v0-v3): throttle time,
/// then each topic's partitions' error codes.
pub fn partition_results<'a>(r: &mut Reader<'a>, api: ApiKey, version: i16) -> Result<PartitionErrors<'a>> {
    let flex = api.is_flexible(version);
    r.i32("throttle time")?;
    let topics = partition_errors(r, flex)?;
    if flex {
        r.skip_tagged_fields()?;
    }
    Ok(topics)
}

/// AddOffsetsToTxn and EndTxn (v0-v3): throttle time and one error code.
pub fn txn_error_code(r: &mut Reader<'_>, api: ApiKey, version: i16) -> Result<i16> {
    r.i32("throttle time")?;
    let code = r.i16("error code")?;
    if api.is_flexible(version) {
        r.skip_tagged_fields()?;
    }
    Ok(code)
}

/// Any response this producer may receive, decoded.
#[derive(Debug)]
pub enum Response<'a> {
    ApiVersions(ApiVersionsResponse),
    SaslHandshake(SaslHandshakeResponse),
    SaslAuthenticate(SaslAuthenticateResponse<'a>),
    InitProducerId(InitProducerIdResponse),
    Metadata(MetadataResponse<'a>),
    Produce(ProduceResponse<'a>),
    FindCoordinator(FindCoordinatorResponse<'a>),
    AddPartitionsToTxn(PartitionErrors<'a>),
    AddOffsetsToTxn(i16),
    EndTxn(i16),
    TxnOffsetCommit(PartitionErrors<'a>),
}

/// The one decode dispatch: a frame answering `api` at `version` (known
/// from the request in flight), as its correlation id and its body.
pub fn decode(api: ApiKey, version: i16, frame: &[u8]) -> Result<(i32, Response<'_>)> {
    let (correlation_id, mut r) = header(frame, api, version)?;
    let response = match api {
        ApiKey::ApiVersions => Response::ApiVersions(api_versions(&mut r, version)?),
        ApiKey::Metadata => Response::Metadata(metadata(&mut r, version)?),
        ApiKey::Produce => Response::Produce(produce(&mut r, version)?),
        ApiKey::InitProducerId => Response::InitProducerId(init_producer_id(&mut r, version)?),
        ApiKey::SaslHandshake => Response::SaslHandshake(sasl_handshake(&mut r)?),
        ApiKey::SaslAuthenticate => Response::SaslAuthenticate(sasl_authenticate(&mut r, version)?),
        ApiKey::FindCoordinator => Response::FindCoordinator(find_coordinator(&mut r, version)?),
        ApiKey::AddPartitionsToTxn => Response::AddPartitionsToTxn(partition_results(&mut r, api, version)?),
        ApiKey::AddOffsetsToTxn => Response::AddOffsetsToTxn(txn_error_code(&mut r, api, version)?),
        ApiKey::EndTxn => Response::EndTxn(txn_error_code(&mut r, api, version)?),
        ApiKey::TxnOffsetCommit => Response::TxnOffsetCommit(partition_results(&mut r, api, version)?),
    };
    Ok((correlation_id, response))
}

/// Whether a frame decodes as the response to `api` at `version` (the
/// fuzzer's entry point): `decode`, with the result dropped.
pub fn check_decodes(api: ApiKey, version: i16, frame: &[u8]) -> core::result::Result<(), DecodeError> {
    decode(api, version, frame).map(drop)
}

#[cfg(test)]
#[path = "tests/response.rs"]
mod tests;
