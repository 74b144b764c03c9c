//! Our ChaCha20 and ChaCha20-Poly1305 against RFC 8439's vectors and
//! against RustCrypto's `chacha20` and `chacha20poly1305`, natively (the
//! `[u32; 4]` lanes; host-tests' `chacha_simd` runs the same comparison in
//! wasm, on simd128).

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    s.chunks(2).map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

/// A deterministic byte source for the comparisons (Poly1305's tests use
/// it too).
pub(super) fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn theirs_keystream(key: &[u8; 32], nonce: &[u8; 12], counter: u32, data: &mut [u8]) {
    let mut c = chacha20::ChaCha20::new(key.into(), nonce.into());
    c.seek(u64::from(counter) * 64);
    c.apply_keystream(data);
}

#[test]
fn the_block_function_matches_rfc_8439_section_2_3_2() {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let nonce: [u8; 12] = hex("000000090000004a00000000").try_into().unwrap();
    let mut block = [0u8; 64];
    ChaCha20::new(&key, &nonce).apply_keystream(1, &mut block);
    let want = hex(
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e
         d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    );
    assert_eq!(block.as_slice(), want.as_slice());
}

#[test]
fn the_keystream_matches_the_chacha20_crate_for_every_length_and_counter() {
    let mut lengths: Vec<usize> = (0..=600).collect();
    lengths.extend([1023, 1024, 1025, 16383, 16384, 16384 + 17, 65536 + 5]);
    for (n, &len) in lengths.iter().enumerate() {
        let key: [u8; 32] = bytes(n as u64, 32).try_into().unwrap();
        let nonce: [u8; 12] = bytes(n as u64 + 7, 12).try_into().unwrap();
        let counter = [0u32, 1, 3, 4, 1000][n % 5];
        let data = bytes(n as u64 + 99, len);
        let (mut ours, mut theirs) = (data.clone(), data);
        ChaCha20::new(&key, &nonce).apply_keystream(counter, &mut ours);
        theirs_keystream(&key, &nonce, counter, &mut theirs);
        assert!(ours == theirs, "length {len}, counter {counter}");
    }
}

/// RFC 8439 section 2.8.2: the AEAD's worked example.
#[test]
fn the_aead_matches_rfc_8439_section_2_8_2() {
    let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let nonce = hex("070000004041424344454647");
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let mut text = plain.to_vec();
    let aead = ChaCha20Poly1305::new(&key.into());
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    let tag = aead.encrypt_inout_detached(&nonce.into(), &aad, text.as_mut_slice().into()).unwrap();
    assert_eq!(tag.as_slice(), hex("1ae10b594f09e26a7e902ecbd0600691").as_slice());
    assert_eq!(&text[..16], hex("d31a8d34648e60db7b86afbc53ef7ec2").as_slice());
    aead.decrypt_inout_detached(&nonce.into(), &aad, text.as_mut_slice().into(), &tag).unwrap();
    assert_eq!(text.as_slice(), plain.as_slice());
}

#[test]
fn the_aead_matches_chacha20poly1305_and_opens_what_it_seals() {
    let mut lengths: Vec<usize> = (0..=300).collect();
    lengths.extend([511, 512, 513, 16383, 16384, 16384 + 17]);
    for (n, &len) in lengths.iter().enumerate() {
        let key: [u8; 32] = bytes(n as u64 + 1, 32).try_into().unwrap();
        let nonce: [u8; 12] = bytes(n as u64 + 2, 12).try_into().unwrap();
        let aad = bytes(n as u64 + 3, n % 40);
        let plain = bytes(n as u64 + 4, len);
        let ours = ChaCha20Poly1305::new(&key.into());
        let theirs = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
        let (mut a, mut b) = (plain.clone(), plain.clone());
        let tag_a = ours.encrypt_inout_detached(&nonce.into(), &aad, a.as_mut_slice().into()).unwrap();
        let tag_b = theirs.encrypt_inout_detached(&nonce.into(), &aad, b.as_mut_slice().into()).unwrap();
        assert!(a == b && tag_a.as_slice() == tag_b.as_slice(), "length {len}");
        ours.decrypt_inout_detached(&nonce.into(), &aad, b.as_mut_slice().into(), &tag_b).unwrap();
        assert!(b == plain, "length {len}: opened");
    }
}

#[test]
fn a_changed_bit_anywhere_fails_to_open_and_decrypts_nothing() {
    let key = [5u8; 32];
    let nonce = [9u8; 12];
    let aad = b"record header".to_vec();
    let aead = ChaCha20Poly1305::new(&key.into());
    let mut sealed = bytes(1, 100);
    let tag = aead.encrypt_inout_detached(&nonce.into(), &aad, sealed.as_mut_slice().into()).unwrap();
    for bit in [0, 7, 8 * 99 + 3] {
        let mut text = sealed.clone();
        text[bit / 8] ^= 1 << (bit % 8);
        let copy = text.clone();
        assert!(aead.decrypt_inout_detached(&nonce.into(), &aad, text.as_mut_slice().into(), &tag).is_err());
        assert_eq!(text, copy, "nothing decrypted");
    }
    let mut bad_tag = tag;
    bad_tag[15] ^= 0x80;
    let mut text = sealed.clone();
    assert!(aead.decrypt_inout_detached(&nonce.into(), &aad, text.as_mut_slice().into(), &bad_tag).is_err());
    let mut text = sealed.clone();
    assert!(aead.decrypt_inout_detached(&nonce.into(), b"record headeR", text.as_mut_slice().into(), &tag).is_err());
    let other_nonce = [8u8; 12];
    assert!(aead.decrypt_inout_detached(&other_nonce.into(), &aad, text.as_mut_slice().into(), &tag).is_err());
    assert!(aead.decrypt_inout_detached(&nonce.into(), &aad, sealed.as_mut_slice().into(), &tag).is_ok());
}
