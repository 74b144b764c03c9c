//! Seals 16 KiB records (the TLS maximum) with each record cipher and
//! prints MB/s; then each half of each AEAD alone. Native or
//! wasm32-wasip2 (under wasmtime); see Cargo.toml.

use std::hint::black_box;
use std::time::Instant;

const RECORD: usize = 16 * 1024;
/// Bytes sealed per measurement.
const TOTAL: usize = 64 << 20;

fn measure(name: &str, mut seal: impl FnMut(&mut [u8], u64)) {
    let mut buf = vec![0x5au8; RECORD];
    // Warm up (and let the JIT settle).
    for seq in 0..16 {
        seal(&mut buf, seq);
    }
    let n = TOTAL / RECORD;
    let start = Instant::now();
    for seq in 0..n as u64 {
        seal(&mut buf, seq);
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(&buf);
    println!("{name:<44} {:>8.1} MB/s  {:>6.2} ns/byte", (n * RECORD) as f64 / secs / 1e6, secs * 1e9 / (n * RECORD) as f64);
}

fn nonce(seq: u64) -> [u8; 12] {
    let mut n = [7u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n
}

fn main() {
    let key = [0x42u8; 32];
    let aad = [23u8, 3, 3, 0x40, 0x11];
    println!("{} bytes per record, {} MB per line", RECORD, TOTAL >> 20);

    // The AEADs as the cipher suites call them: in place, detached tag.
    {
        use aes_gcm_10::aead::{AeadInPlace, KeyInit};
        let a128 = aes_gcm_10::Aes128Gcm::new_from_slice(&key[..16]).unwrap();
        measure("AES-128-GCM       aes-gcm 0.10", |b, s| {
            black_box(a128.encrypt_in_place_detached(&nonce(s).into(), &aad, b).unwrap());
        });
        let a256 = aes_gcm_10::Aes256Gcm::new_from_slice(&key).unwrap();
        measure("AES-256-GCM       aes-gcm 0.10", |b, s| {
            black_box(a256.encrypt_in_place_detached(&nonce(s).into(), &aad, b).unwrap());
        });
        let c = chacha20poly1305_10::ChaCha20Poly1305::new_from_slice(&key).unwrap();
        measure("ChaCha20-Poly1305 chacha20poly1305 0.10", |b, s| {
            black_box(c.encrypt_in_place_detached(&nonce(s).into(), &aad, b).unwrap());
        });
    }
    {
        use aes_gcm::aead::{AeadInOut, KeyInit};
        let a128 = aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).unwrap();
        measure("AES-128-GCM       aes-gcm 0.11", |b, s| {
            black_box(a128.encrypt_inout_detached(&nonce(s).into(), &aad, b.into()).unwrap());
        });
        let a256 = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
        measure("AES-256-GCM       aes-gcm 0.11", |b, s| {
            black_box(a256.encrypt_inout_detached(&nonce(s).into(), &aad, b.into()).unwrap());
        });
        let c = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).unwrap();
        measure("ChaCha20-Poly1305 chacha20poly1305 0.11", |b, s| {
            black_box(c.encrypt_inout_detached(&nonce(s).into(), &aad, b.into()).unwrap());
        });
    }

    // Each half alone.
    {
        use aes_8::cipher::{BlockEncrypt, KeyInit};
        let aes = aes_8::Aes256::new_from_slice(&key).unwrap();
        measure("  AES-256 blocks (the CTR keystream) aes 0.8", |b, _| {
            let blocks: &mut [aes_8::Block] = unsafe_blocks_8(b);
            aes.encrypt_blocks(blocks);
        });
        use ghash_5::universal_hash::UniversalHash;
        let gh = ghash_5::GHash::new_from_slice(&key[..16]).unwrap();
        measure("  GHASH ghash 0.5", |b, _| {
            let mut g = gh.clone();
            g.update_padded(b);
            black_box(g.finalize());
        });
        use chacha20_9::cipher::{KeyIvInit, StreamCipher};
        measure("  ChaCha20 chacha20 0.9", |b, s| {
            let mut c = chacha20_9::ChaCha20::new(&key.into(), &nonce(s).into());
            c.apply_keystream(b);
        });
        let p = poly1305_8::Poly1305::new_from_slice(&key).unwrap();
        measure("  Poly1305 poly1305 0.8", |b, _| {
            let mut q = p.clone();
            q.update_padded(b);
            black_box(q.finalize());
        });
    }
    {
        use aes::cipher::{BlockCipherEncrypt, KeyInit};
        let aes = aes::Aes256::new_from_slice(&key).unwrap();
        measure("  AES-256 blocks (the CTR keystream) aes 0.9", |b, _| {
            let (blocks, _) = aes::cipher::array::Array::slice_as_chunks_mut(b);
            aes.encrypt_blocks(blocks);
        });
        use ghash::universal_hash::UniversalHash;
        let gh = ghash::GHash::new_from_slice(&key[..16]).unwrap();
        measure("  GHASH ghash 0.6", |b, _| {
            let mut g = gh.clone();
            g.update_padded(b);
            black_box(g.finalize());
        });
        use chacha20::cipher::{KeyIvInit, StreamCipher};
        measure("  ChaCha20 chacha20 0.10", |b, s| {
            let mut c = chacha20::ChaCha20::new(&key.into(), &nonce(s).into());
            c.apply_keystream(b);
        });
        let p = poly1305::Poly1305::new_from_slice(&key).unwrap();
        measure("  Poly1305 poly1305 0.9", |b, _| {
            let mut q = p.clone();
            q.update_padded(b);
            black_box(q.finalize());
        });
    }
}

/// A record as AES blocks (16 KiB is a whole number of them).
fn unsafe_blocks_8(b: &mut [u8]) -> &mut [aes_8::Block] {
    let n = b.len() / 16;
    // SAFETY: Block is GenericArray<u8, U16>: 16 bytes, alignment 1.
    unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast(), n) }
}
