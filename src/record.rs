//! What the application hands the producer: a borrowed view of one record.
//! The producer copies it once, straight into its batch buffer.

/// A record header. Kafka header keys are strings; values may be null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub key: &'a str,
    pub value: Option<&'a [u8]>,
}

/// One record to produce. `partition: None` lets the partitioner choose;
/// `timestamp: None` stamps it with the time `send` was called (CreateTime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [Header<'a>],
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
}

/// A record's identity from `send` to its delivery report: ids are handed
/// out consecutively, one per record passed to `send`, accepted or not.
pub type RecordId = u64;
