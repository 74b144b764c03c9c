//! Arbitrary send-packed buffers: every record is read or refused with an
//! error, never a panic, and reading always moves forward.
#![no_main]

use kafka_producer_component::packed::read;
use kafka_producer_component::wire::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let mut headers = Vec::new();
    while r.remaining() > 0 {
        let before = r.remaining();
        if read(&mut r, &mut headers).is_err() {
            break;
        }
        assert!(r.remaining() < before);
    }
});
