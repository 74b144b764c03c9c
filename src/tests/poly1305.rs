//! Our Poly1305 against the `poly1305` crate, natively (the `[u64; 2]`
//! lanes; host-tests' `chacha_simd` runs the AEAD comparison in wasm, on
//! simd128): every length to 600 bytes and some large ones, keys and
//! messages at the limbs' extremes, and the AEAD's sequence of calls.

use alloc::vec::Vec;

use ::poly1305::universal_hash::{KeyInit, UniversalHash};

use super::super::tests::bytes;
use super::*;

fn theirs(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = ::poly1305::Poly1305::new(key.into());
    for p in parts {
        mac.update_padded(p);
    }
    mac.finalize().into()
}

fn ours(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = Poly1305::new(key);
    for p in parts {
        mac.update_padded(p);
    }
    mac.finalize()
}

#[test]
fn tags_match_the_poly1305_crate_for_every_length() {
    let mut lengths: Vec<usize> = (0..=600).collect();
    lengths.extend([1023, 1024, 1025, 16383, 16384, 16384 + 17, 65536 + 5]);
    for (n, &len) in lengths.iter().enumerate() {
        let key: [u8; 32] = bytes(n as u64, 32).try_into().unwrap();
        let data = bytes(n as u64 + 99, len);
        assert_eq!(ours(&key, &[&data]), theirs(&key, &[&data]), "length {len}");
    }
}

#[test]
fn tags_match_at_the_extremes_of_keys_and_messages() {
    // r = 1 makes the accumulator the sum of the blocks: two blocks of
    // 0xff sum to 2^130 - 2, past p, so the final reduction is exercised.
    let r_one: [u8; 32] = core::array::from_fn(|i| if i == 0 { 1 } else if i < 16 { 0 } else { 0xee });
    let keys: [[u8; 32]; 6] = [[0xff; 32], [0; 32], r_one, core::array::from_fn(|i| if i < 16 { 0xff } else { 0 }), core::array::from_fn(|i| if i < 16 { 0 } else { 0xff }), core::array::from_fn(|i| (i * 37) as u8)];
    for key in &keys {
        for fill in [0xffu8, 0x00, 0x80, 0x7f] {
            for len in [0, 1, 15, 16, 17, 31, 32, 33, 48, 64, 96, 160, 1000, 16384] {
                let data = alloc::vec![fill; len];
                assert_eq!(ours(key, &[&data]), theirs(key, &[&data]), "key {:02x?}, fill {fill:#x}, length {len}", &key[..4]);
            }
        }
    }
}

#[test]
fn the_aeads_sequence_of_calls_matches() {
    for n in 0..200u64 {
        let key: [u8; 32] = bytes(n, 32).try_into().unwrap();
        let aad = bytes(n + 1, [0, 5, 13, 16, 40][n as usize % 5]);
        let text = bytes(n + 2, (n as usize * 83) % 1500);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
        lengths[8..].copy_from_slice(&(text.len() as u64).to_le_bytes());
        let mut mac = Poly1305::new(&key);
        mac.update_padded(&aad);
        mac.update_padded(&text);
        mac.block(&lengths);
        assert_eq!(mac.finalize(), theirs(&key, &[&aad, &text, &lengths]), "case {n}");
    }
}
