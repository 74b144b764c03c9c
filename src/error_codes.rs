//! Kafka protocol error codes: a named constant for each, its name and
//! whether the Java client retries it (its exception extends
//! RetriableException). Generated from the Kafka 4.0 error table
//! (`/work/shared/kafka-protocol/error-codes.tsv`: code, name, retriable,
//! message); facts only. Every module names codes through these constants.

/// The server experienced an unexpected error when processing the request.
pub const UNKNOWN_SERVER_ERROR: i16 = -1;
pub const NONE: i16 = 0;
/// The requested offset is not within the range of offsets maintained by the server.
pub const OFFSET_OUT_OF_RANGE: i16 = 1;
/// This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.
pub const CORRUPT_MESSAGE: i16 = 2;
/// This server does not host this topic-partition.
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
/// The requested fetch size is invalid.
pub const INVALID_FETCH_SIZE: i16 = 4;
/// There is no leader for this topic-partition as we are in the middle of a leadership election.
pub const LEADER_NOT_AVAILABLE: i16 = 5;
/// For requests intended only for the leader, this error indicates that the broker is not the current leader.
pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
/// The request timed out.
pub const REQUEST_TIMED_OUT: i16 = 7;
/// The broker is not available.
pub const BROKER_NOT_AVAILABLE: i16 = 8;
/// The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests
pub const REPLICA_NOT_AVAILABLE: i16 = 9;
/// The request included a message larger than the max message size the server will accept.
pub const MESSAGE_TOO_LARGE: i16 = 10;
/// The controller moved to another broker.
pub const STALE_CONTROLLER_EPOCH: i16 = 11;
/// The metadata field of the offset request was too large.
pub const OFFSET_METADATA_TOO_LARGE: i16 = 12;
/// The server disconnected before a response was received.
pub const NETWORK_EXCEPTION: i16 = 13;
/// The coordinator is loading and hence can't process requests.
pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
/// The coordinator is not available.
pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
/// This is not the correct coordinator.
pub const NOT_COORDINATOR: i16 = 16;
/// The request attempted to perform an operation on an invalid topic.
pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
/// The request included message batch larger than the configured segment size on the server.
pub const RECORD_LIST_TOO_LARGE: i16 = 18;
/// Messages are rejected since there are fewer in-sync replicas than required.
pub const NOT_ENOUGH_REPLICAS: i16 = 19;
/// Messages are written to the log, but to fewer in-sync replicas than required.
pub const NOT_ENOUGH_REPLICAS_AFTER_APPEND: i16 = 20;
/// Produce request specified an invalid value for required acks.
pub const INVALID_REQUIRED_ACKS: i16 = 21;
/// Specified group generation id is not valid.
pub const ILLEGAL_GENERATION: i16 = 22;
/// The group member's supported protocols are incompatible with those of existing members
pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
/// The configured groupId is invalid.
pub const INVALID_GROUP_ID: i16 = 24;
/// The coordinator is not aware of this member.
pub const UNKNOWN_MEMBER_ID: i16 = 25;
/// The session timeout is not within the range allowed by the broker
pub const INVALID_SESSION_TIMEOUT: i16 = 26;
/// The group is rebalancing, so a rejoin is needed.
pub const REBALANCE_IN_PROGRESS: i16 = 27;
/// The committing offset data size is not valid.
pub const INVALID_COMMIT_OFFSET_SIZE: i16 = 28;
/// Topic authorization failed.
pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
/// Group authorization failed.
pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
/// Cluster authorization failed.
pub const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
/// The timestamp of the message is out of acceptable range.
pub const INVALID_TIMESTAMP: i16 = 32;
/// The broker does not support the requested SASL mechanism.
pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
/// Request is not valid given the current SASL state.
pub const ILLEGAL_SASL_STATE: i16 = 34;
/// The version of API is not supported.
pub const UNSUPPORTED_VERSION: i16 = 35;
/// Topic with this name already exists.
pub const TOPIC_ALREADY_EXISTS: i16 = 36;
/// Number of partitions is below 1.
pub const INVALID_PARTITIONS: i16 = 37;
/// Replication factor is below 1 or larger than the number of available brokers.
pub const INVALID_REPLICATION_FACTOR: i16 = 38;
/// Replica assignment is invalid.
pub const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
/// Configuration is invalid.
pub const INVALID_CONFIG: i16 = 40;
/// This is not the correct controller for this cluster.
pub const NOT_CONTROLLER: i16 = 41;
/// This most likely occurs because of a request being malformed by the
pub const INVALID_REQUEST: i16 = 42;
/// The message format version on the broker does not support the request.
pub const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
/// Request parameters do not satisfy the configured policy.
pub const POLICY_VIOLATION: i16 = 44;
/// The broker received an out of order sequence number.
pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
/// The broker received a duplicate sequence number.
pub const DUPLICATE_SEQUENCE_NUMBER: i16 = 46;
/// Producer attempted to produce with an old epoch.
pub const INVALID_PRODUCER_EPOCH: i16 = 47;
/// The producer attempted a transactional operation in an invalid state.
pub const INVALID_TXN_STATE: i16 = 48;
/// The producer attempted to use a producer id which is not currently assigned to
pub const INVALID_PRODUCER_ID_MAPPING: i16 = 49;
/// The transaction timeout is larger than the maximum value allowed by
pub const INVALID_TRANSACTION_TIMEOUT: i16 = 50;
/// The producer attempted to update a transaction
pub const CONCURRENT_TRANSACTIONS: i16 = 51;
/// Indicates that the transaction coordinator sending a WriteTxnMarker
pub const TRANSACTION_COORDINATOR_FENCED: i16 = 52;
/// Transactional Id authorization failed.
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
/// Security features are disabled.
pub const SECURITY_DISABLED: i16 = 54;
/// The broker did not attempt to execute this operation. This may happen for
pub const OPERATION_NOT_ATTEMPTED: i16 = 55;
/// Disk error when trying to access log file on the disk.
pub const KAFKA_STORAGE_ERROR: i16 = 56;
/// The user-specified log directory is not found in the broker config.
pub const LOG_DIR_NOT_FOUND: i16 = 57;
/// SASL Authentication failed.
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
/// This exception is raised by the broker if it could not locate the producer metadata
pub const UNKNOWN_PRODUCER_ID: i16 = 59;
/// A partition reassignment is in progress.
pub const REASSIGNMENT_IN_PROGRESS: i16 = 60;
/// Delegation Token feature is not enabled.
pub const DELEGATION_TOKEN_AUTH_DISABLED: i16 = 61;
/// Delegation Token is not found on server.
pub const DELEGATION_TOKEN_NOT_FOUND: i16 = 62;
/// Specified Principal is not valid Owner/Renewer.
pub const DELEGATION_TOKEN_OWNER_MISMATCH: i16 = 63;
/// Delegation Token requests are not allowed on PLAINTEXT/1-way SSL
pub const DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: i16 = 64;
/// Delegation Token authorization failed.
pub const DELEGATION_TOKEN_AUTHORIZATION_FAILED: i16 = 65;
/// Delegation Token is expired.
pub const DELEGATION_TOKEN_EXPIRED: i16 = 66;
/// Supplied principalType is not supported.
pub const INVALID_PRINCIPAL_TYPE: i16 = 67;
/// The group is not empty.
pub const NON_EMPTY_GROUP: i16 = 68;
/// The group id does not exist.
pub const GROUP_ID_NOT_FOUND: i16 = 69;
/// The fetch session ID was not found.
pub const FETCH_SESSION_ID_NOT_FOUND: i16 = 70;
/// The fetch session epoch is invalid.
pub const INVALID_FETCH_SESSION_EPOCH: i16 = 71;
/// There is no listener on the leader broker that matches the listener on which
pub const LISTENER_NOT_FOUND: i16 = 72;
/// Topic deletion is disabled.
pub const TOPIC_DELETION_DISABLED: i16 = 73;
/// The leader epoch in the request is older than the epoch on the broker.
pub const FENCED_LEADER_EPOCH: i16 = 74;
/// The leader epoch in the request is newer than the epoch on the broker.
pub const UNKNOWN_LEADER_EPOCH: i16 = 75;
/// The requesting client does not support the compression type of given partition.
pub const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;
/// Broker epoch has changed.
pub const STALE_BROKER_EPOCH: i16 = 77;
/// The leader high watermark has not caught up from a recent leader
pub const OFFSET_NOT_AVAILABLE: i16 = 78;
/// The group member needs to have a valid member id before actually entering a consumer group.
pub const MEMBER_ID_REQUIRED: i16 = 79;
/// The preferred leader was not available.
pub const PREFERRED_LEADER_NOT_AVAILABLE: i16 = 80;
/// The consumer group has reached its max size.
pub const GROUP_MAX_SIZE_REACHED: i16 = 81;
/// The broker rejected this static consumer since
pub const FENCED_INSTANCE_ID: i16 = 82;
/// Eligible topic partition leaders are not available.
pub const ELIGIBLE_LEADERS_NOT_AVAILABLE: i16 = 83;
/// Leader election not needed for topic partition.
pub const ELECTION_NOT_NEEDED: i16 = 84;
/// No partition reassignment is in progress.
pub const NO_REASSIGNMENT_IN_PROGRESS: i16 = 85;
/// Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.
pub const GROUP_SUBSCRIBED_TO_TOPIC: i16 = 86;
/// This record has failed the validation on broker and hence will be rejected.
pub const INVALID_RECORD: i16 = 87;
/// There are unstable offsets that need to be cleared.
pub const UNSTABLE_OFFSET_COMMIT: i16 = 88;
/// The throttling quota has been exceeded.
pub const THROTTLING_QUOTA_EXCEEDED: i16 = 89;
/// There is a newer producer with the same transactionalId
pub const PRODUCER_FENCED: i16 = 90;
/// A request illegally referred to a resource that does not exist.
pub const RESOURCE_NOT_FOUND: i16 = 91;
/// A request illegally referred to the same resource twice.
pub const DUPLICATE_RESOURCE: i16 = 92;
/// Requested credential would not meet criteria for acceptability.
pub const UNACCEPTABLE_CREDENTIAL: i16 = 93;
/// Indicates that the either the sender or recipient of a
pub const INCONSISTENT_VOTER_SET: i16 = 94;
/// The given update version was invalid.
pub const INVALID_UPDATE_VERSION: i16 = 95;
/// Unable to update finalized features due to an unexpected server error.
pub const FEATURE_UPDATE_FAILED: i16 = 96;
/// Request principal deserialization failed during forwarding.
pub const PRINCIPAL_DESERIALIZATION_FAILURE: i16 = 97;
/// Requested snapshot was not found.
pub const SNAPSHOT_NOT_FOUND: i16 = 98;
/// This server does not host this topic ID.
pub const UNKNOWN_TOPIC_ID: i16 = 100;
/// This broker ID is already in use.
pub const DUPLICATE_BROKER_REGISTRATION: i16 = 101;
/// The given broker ID was not registered.
pub const BROKER_ID_NOT_REGISTERED: i16 = 102;
/// The log's topic ID did not match the topic ID in the request.
pub const INCONSISTENT_TOPIC_ID: i16 = 103;
/// The clusterId in the request does not match that found on the server.
pub const INCONSISTENT_CLUSTER_ID: i16 = 104;
/// The transactionalId could not be found.
pub const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;
/// The fetch session encountered inconsistent topic ID usage.
pub const FETCH_SESSION_TOPIC_ID_ERROR: i16 = 106;
/// The new ISR contains at least one ineligible replica.
pub const INELIGIBLE_REPLICA: i16 = 107;
/// The AlterPartition request successfully updated the partition state but the leader has changed.
pub const NEW_LEADER_ELECTED: i16 = 108;
/// The requested offset is moved to tiered storage.
pub const OFFSET_MOVED_TO_TIERED_STORAGE: i16 = 109;
/// The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.
pub const FENCED_MEMBER_EPOCH: i16 = 110;
/// The instance ID is still used by another member in the consumer group. That member must leave first.
pub const UNRELEASED_INSTANCE_ID: i16 = 111;
/// The assignor or its version range is not supported by the consumer group.
pub const UNSUPPORTED_ASSIGNOR: i16 = 112;
/// The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.
pub const STALE_MEMBER_EPOCH: i16 = 113;
/// The request was sent to an endpoint of the wrong type.
pub const MISMATCHED_ENDPOINT_TYPE: i16 = 114;
/// This endpoint type is not supported yet.
pub const UNSUPPORTED_ENDPOINT_TYPE: i16 = 115;
/// This controller ID is not known.
pub const UNKNOWN_CONTROLLER_ID: i16 = 116;
/// Client sent a push telemetry request with an invalid or outdated subscription ID.
pub const UNKNOWN_SUBSCRIPTION_ID: i16 = 117;
/// Client sent a push telemetry request larger than the maximum size the broker will accept.
pub const TELEMETRY_TOO_LARGE: i16 = 118;
/// The controller has considered the broker registration to be invalid.
pub const INVALID_REGISTRATION: i16 = 119;
/// The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.
pub const TRANSACTION_ABORTABLE: i16 = 120;
/// The record state is invalid. The acknowledgement of delivery could not be completed.
pub const INVALID_RECORD_STATE: i16 = 121;
/// The share session was not found.
pub const SHARE_SESSION_NOT_FOUND: i16 = 122;
/// The share session epoch is invalid.
pub const INVALID_SHARE_SESSION_EPOCH: i16 = 123;
/// The share coordinator rejected the request because the share-group state epoch did not match.
pub const FENCED_STATE_EPOCH: i16 = 124;
/// The voter key doesn't match the receiving replica's key.
pub const INVALID_VOTER_KEY: i16 = 125;
/// The voter is already part of the set of voters.
pub const DUPLICATE_VOTER: i16 = 126;
/// The voter is not part of the set of voters.
pub const VOTER_NOT_FOUND: i16 = 127;
/// The regular expression is not valid.
pub const INVALID_REGULAR_EXPRESSION: i16 = 128;

/// `(code, name, retriable)`, sorted by code: the one table the names,
/// `error_name` and `is_retriable` read.
pub static ERROR_CODES: &[(i16, &str, bool)] = &[
    (UNKNOWN_SERVER_ERROR, "UNKNOWN_SERVER_ERROR", false),
    (NONE, "NONE", false),
    (OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE", false),
    (CORRUPT_MESSAGE, "CORRUPT_MESSAGE", true),
    (UNKNOWN_TOPIC_OR_PARTITION, "UNKNOWN_TOPIC_OR_PARTITION", true),
    (INVALID_FETCH_SIZE, "INVALID_FETCH_SIZE", false),
    (LEADER_NOT_AVAILABLE, "LEADER_NOT_AVAILABLE", true),
    (NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER", true),
    (REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT", true),
    (BROKER_NOT_AVAILABLE, "BROKER_NOT_AVAILABLE", false),
    (REPLICA_NOT_AVAILABLE, "REPLICA_NOT_AVAILABLE", true),
    (MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE", false),
    (STALE_CONTROLLER_EPOCH, "STALE_CONTROLLER_EPOCH", false),
    (OFFSET_METADATA_TOO_LARGE, "OFFSET_METADATA_TOO_LARGE", false),
    (NETWORK_EXCEPTION, "NETWORK_EXCEPTION", true),
    (COORDINATOR_LOAD_IN_PROGRESS, "COORDINATOR_LOAD_IN_PROGRESS", true),
    (COORDINATOR_NOT_AVAILABLE, "COORDINATOR_NOT_AVAILABLE", true),
    (NOT_COORDINATOR, "NOT_COORDINATOR", true),
    (INVALID_TOPIC_EXCEPTION, "INVALID_TOPIC_EXCEPTION", false),
    (RECORD_LIST_TOO_LARGE, "RECORD_LIST_TOO_LARGE", false),
    (NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS", true),
    (NOT_ENOUGH_REPLICAS_AFTER_APPEND, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true),
    (INVALID_REQUIRED_ACKS, "INVALID_REQUIRED_ACKS", false),
    (ILLEGAL_GENERATION, "ILLEGAL_GENERATION", false),
    (INCONSISTENT_GROUP_PROTOCOL, "INCONSISTENT_GROUP_PROTOCOL", false),
    (INVALID_GROUP_ID, "INVALID_GROUP_ID", false),
    (UNKNOWN_MEMBER_ID, "UNKNOWN_MEMBER_ID", false),
    (INVALID_SESSION_TIMEOUT, "INVALID_SESSION_TIMEOUT", false),
    (REBALANCE_IN_PROGRESS, "REBALANCE_IN_PROGRESS", false),
    (INVALID_COMMIT_OFFSET_SIZE, "INVALID_COMMIT_OFFSET_SIZE", false),
    (TOPIC_AUTHORIZATION_FAILED, "TOPIC_AUTHORIZATION_FAILED", false),
    (GROUP_AUTHORIZATION_FAILED, "GROUP_AUTHORIZATION_FAILED", false),
    (CLUSTER_AUTHORIZATION_FAILED, "CLUSTER_AUTHORIZATION_FAILED", false),
    (INVALID_TIMESTAMP, "INVALID_TIMESTAMP", false),
    (UNSUPPORTED_SASL_MECHANISM, "UNSUPPORTED_SASL_MECHANISM", false),
    (ILLEGAL_SASL_STATE, "ILLEGAL_SASL_STATE", false),
    (UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", false),
    (TOPIC_ALREADY_EXISTS, "TOPIC_ALREADY_EXISTS", false),
    (INVALID_PARTITIONS, "INVALID_PARTITIONS", false),
    (INVALID_REPLICATION_FACTOR, "INVALID_REPLICATION_FACTOR", false),
    (INVALID_REPLICA_ASSIGNMENT, "INVALID_REPLICA_ASSIGNMENT", false),
    (INVALID_CONFIG, "INVALID_CONFIG", false),
    (NOT_CONTROLLER, "NOT_CONTROLLER", true),
    (INVALID_REQUEST, "INVALID_REQUEST", false),
    (UNSUPPORTED_FOR_MESSAGE_FORMAT, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false),
    (POLICY_VIOLATION, "POLICY_VIOLATION", false),
    (OUT_OF_ORDER_SEQUENCE_NUMBER, "OUT_OF_ORDER_SEQUENCE_NUMBER", false),
    (DUPLICATE_SEQUENCE_NUMBER, "DUPLICATE_SEQUENCE_NUMBER", false),
    (INVALID_PRODUCER_EPOCH, "INVALID_PRODUCER_EPOCH", false),
    (INVALID_TXN_STATE, "INVALID_TXN_STATE", false),
    (INVALID_PRODUCER_ID_MAPPING, "INVALID_PRODUCER_ID_MAPPING", false),
    (INVALID_TRANSACTION_TIMEOUT, "INVALID_TRANSACTION_TIMEOUT", false),
    (CONCURRENT_TRANSACTIONS, "CONCURRENT_TRANSACTIONS", true),
    (TRANSACTION_COORDINATOR_FENCED, "TRANSACTION_COORDINATOR_FENCED", false),
    (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false),
    (SECURITY_DISABLED, "SECURITY_DISABLED", false),
    (OPERATION_NOT_ATTEMPTED, "OPERATION_NOT_ATTEMPTED", false),
    (KAFKA_STORAGE_ERROR, "KAFKA_STORAGE_ERROR", true),
    (LOG_DIR_NOT_FOUND, "LOG_DIR_NOT_FOUND", false),
    (SASL_AUTHENTICATION_FAILED, "SASL_AUTHENTICATION_FAILED", false),
    (UNKNOWN_PRODUCER_ID, "UNKNOWN_PRODUCER_ID", false),
    (REASSIGNMENT_IN_PROGRESS, "REASSIGNMENT_IN_PROGRESS", false),
    (DELEGATION_TOKEN_AUTH_DISABLED, "DELEGATION_TOKEN_AUTH_DISABLED", false),
    (DELEGATION_TOKEN_NOT_FOUND, "DELEGATION_TOKEN_NOT_FOUND", false),
    (DELEGATION_TOKEN_OWNER_MISMATCH, "DELEGATION_TOKEN_OWNER_MISMATCH", false),
    (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false),
    (DELEGATION_TOKEN_AUTHORIZATION_FAILED, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false),
    (DELEGATION_TOKEN_EXPIRED, "DELEGATION_TOKEN_EXPIRED", false),
    (INVALID_PRINCIPAL_TYPE, "INVALID_PRINCIPAL_TYPE", false),
    (NON_EMPTY_GROUP, "NON_EMPTY_GROUP", false),
    (GROUP_ID_NOT_FOUND, "GROUP_ID_NOT_FOUND", false),
    (FETCH_SESSION_ID_NOT_FOUND, "FETCH_SESSION_ID_NOT_FOUND", true),
    (INVALID_FETCH_SESSION_EPOCH, "INVALID_FETCH_SESSION_EPOCH", true),
    (LISTENER_NOT_FOUND, "LISTENER_NOT_FOUND", true),
    (TOPIC_DELETION_DISABLED, "TOPIC_DELETION_DISABLED", false),
    (FENCED_LEADER_EPOCH, "FENCED_LEADER_EPOCH", true),
    (UNKNOWN_LEADER_EPOCH, "UNKNOWN_LEADER_EPOCH", true),
    (UNSUPPORTED_COMPRESSION_TYPE, "UNSUPPORTED_COMPRESSION_TYPE", false),
    (STALE_BROKER_EPOCH, "STALE_BROKER_EPOCH", false),
    (OFFSET_NOT_AVAILABLE, "OFFSET_NOT_AVAILABLE", true),
    (MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED", false),
    (PREFERRED_LEADER_NOT_AVAILABLE, "PREFERRED_LEADER_NOT_AVAILABLE", true),
    (GROUP_MAX_SIZE_REACHED, "GROUP_MAX_SIZE_REACHED", false),
    (FENCED_INSTANCE_ID, "FENCED_INSTANCE_ID", false),
    (ELIGIBLE_LEADERS_NOT_AVAILABLE, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true),
    (ELECTION_NOT_NEEDED, "ELECTION_NOT_NEEDED", true),
    (NO_REASSIGNMENT_IN_PROGRESS, "NO_REASSIGNMENT_IN_PROGRESS", false),
    (GROUP_SUBSCRIBED_TO_TOPIC, "GROUP_SUBSCRIBED_TO_TOPIC", false),
    (INVALID_RECORD, "INVALID_RECORD", false),
    (UNSTABLE_OFFSET_COMMIT, "UNSTABLE_OFFSET_COMMIT", true),
    (THROTTLING_QUOTA_EXCEEDED, "THROTTLING_QUOTA_EXCEEDED", true),
    (PRODUCER_FENCED, "PRODUCER_FENCED", false),
    (RESOURCE_NOT_FOUND, "RESOURCE_NOT_FOUND", false),
    (DUPLICATE_RESOURCE, "DUPLICATE_RESOURCE", false),
    (UNACCEPTABLE_CREDENTIAL, "UNACCEPTABLE_CREDENTIAL", false),
    (INCONSISTENT_VOTER_SET, "INCONSISTENT_VOTER_SET", false),
    (INVALID_UPDATE_VERSION, "INVALID_UPDATE_VERSION", false),
    (FEATURE_UPDATE_FAILED, "FEATURE_UPDATE_FAILED", false),
    (PRINCIPAL_DESERIALIZATION_FAILURE, "PRINCIPAL_DESERIALIZATION_FAILURE", false),
    (SNAPSHOT_NOT_FOUND, "SNAPSHOT_NOT_FOUND", false),
    (UNKNOWN_TOPIC_ID, "UNKNOWN_TOPIC_ID", true),
    (DUPLICATE_BROKER_REGISTRATION, "DUPLICATE_BROKER_REGISTRATION", false),
    (BROKER_ID_NOT_REGISTERED, "BROKER_ID_NOT_REGISTERED", false),
    (INCONSISTENT_TOPIC_ID, "INCONSISTENT_TOPIC_ID", true),
    (INCONSISTENT_CLUSTER_ID, "INCONSISTENT_CLUSTER_ID", false),
    (TRANSACTIONAL_ID_NOT_FOUND, "TRANSACTIONAL_ID_NOT_FOUND", false),
    (FETCH_SESSION_TOPIC_ID_ERROR, "FETCH_SESSION_TOPIC_ID_ERROR", true),
    (INELIGIBLE_REPLICA, "INELIGIBLE_REPLICA", false),
    (NEW_LEADER_ELECTED, "NEW_LEADER_ELECTED", false),
    (OFFSET_MOVED_TO_TIERED_STORAGE, "OFFSET_MOVED_TO_TIERED_STORAGE", false),
    (FENCED_MEMBER_EPOCH, "FENCED_MEMBER_EPOCH", false),
    (UNRELEASED_INSTANCE_ID, "UNRELEASED_INSTANCE_ID", false),
    (UNSUPPORTED_ASSIGNOR, "UNSUPPORTED_ASSIGNOR", false),
    (STALE_MEMBER_EPOCH, "STALE_MEMBER_EPOCH", false),
    (MISMATCHED_ENDPOINT_TYPE, "MISMATCHED_ENDPOINT_TYPE", false),
    (UNSUPPORTED_ENDPOINT_TYPE, "UNSUPPORTED_ENDPOINT_TYPE", false),
    (UNKNOWN_CONTROLLER_ID, "UNKNOWN_CONTROLLER_ID", false),
    (UNKNOWN_SUBSCRIPTION_ID, "UNKNOWN_SUBSCRIPTION_ID", false),
    (TELEMETRY_TOO_LARGE, "TELEMETRY_TOO_LARGE", false),
    (INVALID_REGISTRATION, "INVALID_REGISTRATION", false),
    (TRANSACTION_ABORTABLE, "TRANSACTION_ABORTABLE", false),
    (INVALID_RECORD_STATE, "INVALID_RECORD_STATE", false),
    (SHARE_SESSION_NOT_FOUND, "SHARE_SESSION_NOT_FOUND", true),
    (INVALID_SHARE_SESSION_EPOCH, "INVALID_SHARE_SESSION_EPOCH", true),
    (FENCED_STATE_EPOCH, "FENCED_STATE_EPOCH", false),
    (INVALID_VOTER_KEY, "INVALID_VOTER_KEY", false),
    (DUPLICATE_VOTER, "DUPLICATE_VOTER", false),
    (VOTER_NOT_FOUND, "VOTER_NOT_FOUND", false),
    (INVALID_REGULAR_EXPRESSION, "INVALID_REGULAR_EXPRESSION", false),
];

fn lookup(code: i16) -> Option<&'static (i16, &'static str, bool)> {
    ERROR_CODES.binary_search_by_key(&code, |e| e.0).ok().map(|i| &ERROR_CODES[i])
}

/// The protocol name of an error code, e.g. `NOT_LEADER_OR_FOLLOWER`.
pub fn error_name(code: i16) -> &'static str {
    lookup(code).map_or("UNKNOWN_ERROR_CODE", |e| e.1)
}

/// Whether a produce that failed with `code` may be retried.
pub fn is_retriable(code: i16) -> bool {
    lookup(code).is_some_and(|e| e.2)
}

/// Errors after which the cluster view is stale and metadata is refreshed.
pub fn invalidates_metadata(code: i16) -> bool {
    matches!(
        code,
        UNKNOWN_TOPIC_OR_PARTITION | LEADER_NOT_AVAILABLE | NOT_LEADER_OR_FOLLOWER | KAFKA_STORAGE_ERROR | FENCED_LEADER_EPOCH | UNKNOWN_LEADER_EPOCH
    )
}

#[cfg(test)]
#[path = "tests/error_codes.rs"]
mod tests;
