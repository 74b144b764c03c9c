//! Every response decoder, at every version the producer negotiates, fed
//! arbitrary frames: it must return Ok or Err, never panic.
#![no_main]

use kafka_producer_component::request::ApiKey;
use kafka_producer_component::response::check_decodes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else { return };
    let apis = [
        ApiKey::ApiVersions,
        ApiKey::Metadata,
        ApiKey::Produce,
        ApiKey::InitProducerId,
        ApiKey::SaslHandshake,
        ApiKey::SaslAuthenticate,
        ApiKey::FindCoordinator,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::TxnOffsetCommit,
    ];
    let n = apis.len() as u8;
    let api = apis[(selector % n) as usize];
    let (min, max) = api.supported();
    let version = min + (selector / n) as i16 % (max - min + 1);
    let _ = check_decodes(api, version, frame);
});
