//! Arbitrary property pairs: accepted or refused with an error, never a panic.
#![no_main]

use kafka_producer_component::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let _ = Config::from_pairs(pairs);
});
