//! The `producer` fuzz target's input: a cluster and producer setup, then
//! a list of operations. Choices are weighted by hand so that zero bytes
//! (what `arbitrary` reads once the input runs out) mean the plain case:
//! an idempotent producer, a successful answer.

use arbitrary::{Arbitrary, Result, Unstructured};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Idempotent,
    AcksAll,
    Acks1,
    Acks0,
}

#[derive(Debug, Clone)]
pub struct Setup {
    pub mode: Mode,
    pub max_in_flight: u32,
    pub linger_ms: u32,
    pub batch_size: usize,
    pub compression: &'static str,
    /// `None`: the default (retry until delivery.timeout.ms).
    pub retries: Option<u32>,
    /// Highest Produce, Metadata and InitProducerId versions the brokers offer.
    pub versions: [i16; 3],
    pub brokers: i32,
    pub partitions: [u8; 2],
    /// Bit k: the k-th InitProducerId gets COORDINATOR_NOT_AVAILABLE.
    pub init_errors: u32,
    /// Bit k: the k-th connection attempt is refused.
    pub refuse_connects: u32,
    /// Responses reach the producer in pieces of this many bytes (0: whole).
    pub fragment: usize,
    pub close_timeout_ms: u64,
}

impl<'a> Arbitrary<'a> for Setup {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mode = match u8::arbitrary(u)? {
            0..=159 => Mode::Idempotent,
            160..=207 => Mode::AcksAll,
            208..=239 => Mode::Acks1,
            _ => Mode::Acks0,
        };
        let b = <[u8; 12]>::arbitrary(u)?;
        Ok(Setup {
            mode,
            max_in_flight: 5 - u32::from(b[0] % 5),
            linger_ms: [5, 0, 1, 20][b[1] as usize % 4],
            batch_size: [16_384, 300, 1_000, 4_000][b[2] as usize % 4],
            compression: match b[3] {
                0..=199 => "none",
                200..=213 => "gzip",
                214..=227 => "snappy",
                228..=241 => "lz4",
                _ => "zstd",
            },
            retries: (b[4] >= 200).then(|| u32::from(b[4] % 4)),
            versions: [11 - (b[5] % 9) as i16, 12 - (b[6] % 9) as i16, 5 - (b[7] % 6) as i16],
            brokers: 3 - i32::from(b[8] & 1),
            partitions: [1 + (b[8] >> 1) % 4, 1 + (b[8] >> 3) % 4],
            init_errors: u32::from(b[9] & b[10]),
            refuse_connects: u32::from(b[10] & b[11] & 0x3c),
            fragment: if b[11] >= 224 { 1 + b[11] as usize % 40 } else { 0 },
            close_timeout_ms: [0, 5_000, 500, 60_000][(b[9] >> 6) as usize],
        })
    }
}

#[derive(Debug, Arbitrary)]
pub struct Send {
    pub topic: u8,
    pub key: Option<u8>,
    pub partition: Option<u8>,
    pub value_len: Option<u16>,
    pub headers: u8,
}

/// What a broker does with one partition's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disp {
    /// The sequence check, then append.
    Ok,
    /// Answer this code without appending.
    Error(i16),
    /// Leadership moves to the next broker: NOT_LEADER_OR_FOLLOWER.
    MoveLeader,
    /// Append, then answer this (retriable) code anyway.
    AppendThenError(i16),
    /// Retention deletes the log and every producer's state first.
    LoseState,
}

impl<'a> Arbitrary<'a> for Disp {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        const OTHERS: [Disp; 14] = [
            Disp::Error(6),
            Disp::MoveLeader,
            Disp::Error(7),
            Disp::Error(19),
            Disp::Error(3),
            Disp::Error(87),
            Disp::Error(10),
            Disp::Error(45),
            Disp::Error(47),
            Disp::Error(59),
            Disp::AppendThenError(7),
            Disp::AppendThenError(20),
            Disp::LoseState,
            Disp::Error(2),
        ];
        Ok(match u8::arbitrary(u)? {
            b @ 100.. => OTHERS[(b - 100) as usize % OTHERS.len()],
            _ => Disp::Ok,
        })
    }
}

/// What happens to a whole Produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Answer,
    /// The connection drops before anything is appended.
    DropBefore,
    /// Appended, then the connection drops before the answer.
    DropAfter,
    /// Appended, and the answer never comes (request.timeout.ms).
    Withhold,
    /// Appended, and bytes that are no answer come instead.
    Garbage(u8),
}

impl<'a> Arbitrary<'a> for Fate {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=159 => Fate::Answer,
            160..=183 => Fate::DropBefore,
            184..=207 => Fate::DropAfter,
            208..=231 => Fate::Withhold,
            b => Fate::Garbage(b),
        })
    }
}

#[derive(Debug, Arbitrary)]
pub struct Respond {
    /// Which connection with a Produce request waiting.
    pub conn: u8,
    pub fate: Fate,
    /// Per batch of the request, cycled.
    pub parts: [Disp; 4],
    /// A duplicate is answered DUPLICATE_SEQUENCE_NUMBER rather than
    /// success with the original offset.
    pub dup46: bool,
    /// KIP-219 throttle_time_ms, in units of 20 ms.
    pub throttle: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub enum Op {
    Send(Send),
    /// `n` records at once, to fill batches.
    Burst { topic: u8, n: u8, value_len: u8 },
    Flush,
    Close { timeout_ms: u16 },
    /// Time passes by this many ms; `handle_timeout`.
    Advance { ms: u16 },
    /// Time jumps to `poll_timeout`; `handle_timeout`.
    Wake,
    Respond(Respond),
    /// A connection drops (network failure).
    Disconnect { conn: u8 },
}

#[derive(Debug)]
pub struct Input {
    pub setup: Setup,
    pub ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let setup = Setup::arbitrary(u)?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 300 {
            ops.push(Op::arbitrary(u)?);
        }
        Ok(Input { setup, ops })
    }
    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> Result<Self> {
        Self::arbitrary(&mut u)
    }
}
