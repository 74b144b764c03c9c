//! Seals 16 KiB records (the TLS maximum) with each record cipher and
//! prints MB/s; then each half of each AEAD alone. Native or
//! wasm32-wasip2 (under wasmtime); see Cargo.toml.

use std::hint::black_box;
use std::time::Instant;

/// The producer's own ChaCha20-Poly1305 (its keystream on wasm simd128),
/// compiled here as the component compiles it.
#[path = "../../../src/tls/chacha.rs"]
mod chacha;

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

/// `--check`: our ChaCha20-Poly1305 against chacha20poly1305 0.11 over
/// every length to 600 bytes and some large ones, and opening what it
/// sealed; prints "OK" and the cases, or exits 1 at the first difference.
fn check() {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    let mut lengths: Vec<usize> = (0..=600).collect();
    lengths.extend([1023, 1024, 1025, 4096 + 63, 16383, 16384, 16384 + 17]);
    for &len in &lengths {
        let key: [u8; 32] = bytes(32).try_into().unwrap();
        let nonce: [u8; 12] = bytes(12).try_into().unwrap();
        let aad = bytes(len % 29);
        let plain = bytes(len);
        let ours = chacha::ChaCha20Poly1305::new(&key.into());
        let theirs = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
        let (mut a, mut b) = (plain.clone(), plain.clone());
        let ta = ours.encrypt_inout_detached(&nonce.into(), &aad, a.as_mut_slice().into()).unwrap();
        let tb = theirs.encrypt_inout_detached(&nonce.into(), &aad, b.as_mut_slice().into()).unwrap();
        if a != b || ta != tb {
            eprintln!("MISMATCH sealing {len} bytes");
            std::process::exit(1);
        }
        if ours.decrypt_inout_detached(&nonce.into(), &aad, a.as_mut_slice().into(), &tb).is_err() || a != plain {
            eprintln!("MISMATCH opening {len} bytes");
            std::process::exit(1);
        }
    }
    // Our Poly1305 alone against the crate's, at the limbs' extremes (r = 1
    // and all-0xff blocks reach the final reduction; all-0xff keys the
    // largest products), on the lanes this build uses.
    use poly1305::universal_hash::UniversalHash;
    let mut macs = 0;
    for key in [[0xffu8; 32], core::array::from_fn(|i| if i == 0 { 1 } else if i < 16 { 0 } else { 0xee })] {
        for fill in [0xffu8, 0x00, 0x80] {
            for len in 0..=300 {
                let data = vec![fill; len];
                let mut o = chacha::poly::Poly1305::new(&key);
                o.update_padded(&data);
                let mut t = poly1305::Poly1305::new_from_slice(&key).unwrap();
                t.update_padded(&data);
                if o.finalize() != <[u8; 16]>::from(t.finalize()) {
                    eprintln!("MISMATCH Poly1305, {len} bytes of {fill:#x}");
                    std::process::exit(1);
                }
                macs += 1;
            }
        }
    }
    println!("OK {} lengths, {macs} Poly1305 extremes, simd128 {}", lengths.len(), cfg!(target_feature = "simd128"));
}

fn main() {
    if std::env::args().any(|a| a == "--check") {
        return check();
    }
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
        let c = chacha::ChaCha20Poly1305::new_from_slice(&key).unwrap();
        measure("ChaCha20-Poly1305 ours (src/tls/chacha.rs)", |b, s| {
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
        let k: [u8; 32] = key;
        measure("  Poly1305 ours (src/tls/poly1305.rs)", |b, _| {
            let mut q = chacha::poly::Poly1305::new(&k);
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
