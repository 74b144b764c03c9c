//! ChaCha20-Poly1305 (RFC 8439) for the record layer. The ChaCha20
//! keystream is ours: four blocks per pass, each 32-bit word of the state
//! held for the four blocks in one 128-bit vector, so a quarter round is
//! twelve lane-wise additions, XORs and rotations. In the component the
//! vectors are wasm `simd128` registers (the wasm32 builds enable the
//! feature, `.cargo/config.toml`); elsewhere they are `[u32; 4]`, which is
//! how the unit tests check the same code natively. Poly1305 is ours too
//! (`poly1305.rs`, two blocks per step on simd128); the tag comparison is
//! `subtle`'s constant-time one.
//!
//! Why: the `chacha20` crate has SSE2/AVX2/NEON backends but runs its
//! scalar code in wasm, where the keystream was three quarters of the cost
//! of TLS (README, "TLS").

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{self, AeadCore, AeadInOut, KeyInit, KeySizeUser, TagPosition};
use subtle::ConstantTimeEq;

#[path = "poly1305.rs"]
pub(crate) mod poly;
use poly::Poly1305;

/// "expand 32-byte k", the first four words of every block.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Four 32-bit lanes: one word of the state for four blocks.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct U32x4(v128);

    impl U32x4 {
        #[inline(always)]
        pub fn splat(x: u32) -> Self {
            U32x4(u32x4_splat(x))
        }

        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> Self {
            U32x4(u32x4(a, b, c, d))
        }

        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            U32x4(u32x4_add(self.0, o.0))
        }

        #[inline(always)]
        pub fn xor(self, o: Self) -> Self {
            U32x4(v128_xor(self.0, o.0))
        }

        #[inline(always)]
        pub fn rotl<const L: u32, const R: u32>(self) -> Self {
            U32x4(v128_or(u32x4_shl(self.0, L), u32x4_shr(self.0, R)))
        }

        /// Four vectors (words w..w+4, lane j = block j) turned into four
        /// (block j's words w..w+4).
        #[inline(always)]
        pub fn transpose(a: Self, b: Self, c: Self, d: Self) -> [Self; 4] {
            let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a.0, b.0);
            let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a.0, b.0);
            let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c.0, d.0);
            let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c.0, d.0);
            [
                U32x4(i32x4_shuffle::<0, 1, 4, 5>(ab_lo, cd_lo)),
                U32x4(i32x4_shuffle::<2, 3, 6, 7>(ab_lo, cd_lo)),
                U32x4(i32x4_shuffle::<0, 1, 4, 5>(ab_hi, cd_hi)),
                U32x4(i32x4_shuffle::<2, 3, 6, 7>(ab_hi, cd_hi)),
            ]
        }

        /// XORs the four words, little-endian, into `out[..16]` (safe
        /// code: the compiler makes the two halves one v128 load and
        /// store).
        #[inline(always)]
        pub fn xor_into(self, out: &mut [u8]) {
            let out = &mut out[..16];
            let lo = u64::from_le_bytes(core::array::from_fn(|i| out[i]));
            let hi = u64::from_le_bytes(core::array::from_fn(|i| out[8 + i]));
            let x = v128_xor(u64x2(lo, hi), self.0);
            out[..8].copy_from_slice(&u64x2_extract_lane::<0>(x).to_le_bytes());
            out[8..].copy_from_slice(&u64x2_extract_lane::<1>(x).to_le_bytes());
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    #[derive(Clone, Copy)]
    pub struct U32x4([u32; 4]);

    impl U32x4 {
        #[inline(always)]
        pub fn splat(x: u32) -> Self {
            U32x4([x; 4])
        }

        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> Self {
            U32x4([a, b, c, d])
        }

        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            U32x4(core::array::from_fn(|i| self.0[i].wrapping_add(o.0[i])))
        }

        #[inline(always)]
        pub fn xor(self, o: Self) -> Self {
            U32x4(core::array::from_fn(|i| self.0[i] ^ o.0[i]))
        }

        #[inline(always)]
        pub fn rotl<const L: u32, const R: u32>(self) -> Self {
            U32x4(self.0.map(|x| x.rotate_left(L)))
        }

        #[inline(always)]
        pub fn transpose(a: Self, b: Self, c: Self, d: Self) -> [Self; 4] {
            core::array::from_fn(|j| U32x4([a.0[j], b.0[j], c.0[j], d.0[j]]))
        }

        #[inline(always)]
        pub fn xor_into(self, out: &mut [u8]) {
            for (chunk, w) in out[..16].chunks_exact_mut(4).zip(self.0) {
                let x = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ w;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
        }
    }
}

use lanes::U32x4;

/// ChaCha20's state before the rounds: key words and nonce words (RFC 8439
/// section 2.3), the block counter supplied per pass.
#[derive(Clone)]
struct ChaCha20 {
    key: [u32; 8],
    nonce: [u32; 3],
}

#[inline(always)]
fn quarter_round(v: &mut [U32x4; 16], a: usize, b: usize, c: usize, d: usize) {
    v[a] = v[a].add(v[b]);
    v[d] = v[d].xor(v[a]).rotl::<16, 16>();
    v[c] = v[c].add(v[d]);
    v[b] = v[b].xor(v[c]).rotl::<12, 20>();
    v[a] = v[a].add(v[b]);
    v[d] = v[d].xor(v[a]).rotl::<8, 24>();
    v[c] = v[c].add(v[d]);
    v[b] = v[b].xor(v[c]).rotl::<7, 25>();
}

fn words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    core::array::from_fn(|i| u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]))
}

impl ChaCha20 {
    fn new(key: &[u8; 32], nonce: &[u8; 12]) -> Self {
        ChaCha20 { key: words(key), nonce: words(nonce) }
    }

    /// The keystream of blocks `counter` to `counter + 3`, XORed into
    /// `out[..256]`.
    #[inline(always)]
    fn xor_four_blocks(&self, counter: u32, out: &mut [u8]) {
        let k = &self.key;
        let init = [
            U32x4::splat(SIGMA[0]),
            U32x4::splat(SIGMA[1]),
            U32x4::splat(SIGMA[2]),
            U32x4::splat(SIGMA[3]),
            U32x4::splat(k[0]),
            U32x4::splat(k[1]),
            U32x4::splat(k[2]),
            U32x4::splat(k[3]),
            U32x4::splat(k[4]),
            U32x4::splat(k[5]),
            U32x4::splat(k[6]),
            U32x4::splat(k[7]),
            U32x4::new(counter, counter.wrapping_add(1), counter.wrapping_add(2), counter.wrapping_add(3)),
            U32x4::splat(self.nonce[0]),
            U32x4::splat(self.nonce[1]),
            U32x4::splat(self.nonce[2]),
        ];
        let mut v = init;
        for _ in 0..10 {
            quarter_round(&mut v, 0, 4, 8, 12);
            quarter_round(&mut v, 1, 5, 9, 13);
            quarter_round(&mut v, 2, 6, 10, 14);
            quarter_round(&mut v, 3, 7, 11, 15);
            quarter_round(&mut v, 0, 5, 10, 15);
            quarter_round(&mut v, 1, 6, 11, 12);
            quarter_round(&mut v, 2, 7, 8, 13);
            quarter_round(&mut v, 3, 4, 9, 14);
        }
        for i in 0..16 {
            v[i] = v[i].add(init[i]);
        }
        let out = &mut out[..256];
        for w in (0..16).step_by(4) {
            let blocks = U32x4::transpose(v[w], v[w + 1], v[w + 2], v[w + 3]);
            for (j, b) in blocks.into_iter().enumerate() {
                b.xor_into(&mut out[64 * j + 4 * w..]);
            }
        }
    }

    /// XORs the keystream from block `counter` on into `data`.
    fn apply_keystream(&self, mut counter: u32, data: &mut [u8]) {
        let mut chunks = data.chunks_exact_mut(256);
        for chunk in &mut chunks {
            self.xor_four_blocks(counter, chunk);
            counter = counter.wrapping_add(4);
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let mut ks = [0u8; 256];
            self.xor_four_blocks(counter, &mut ks);
            for (d, k) in rest.iter_mut().zip(ks) {
                *d ^= k;
            }
        }
    }
}

/// The AEAD of RFC 8439 section 2.8 over our keystream, with the traits
/// `src/tls/suites.rs` seals and opens records through.
#[derive(Clone)]
pub struct ChaCha20Poly1305 {
    key: [u8; 32],
}

impl KeySizeUser for ChaCha20Poly1305 {
    type KeySize = U32;
}

impl KeyInit for ChaCha20Poly1305 {
    fn new(key: &aead::Key<Self>) -> Self {
        ChaCha20Poly1305 { key: (*key).into() }
    }
}

impl AeadCore for ChaCha20Poly1305 {
    type NonceSize = U12;
    type TagSize = U16;
    const TAG_POSITION: TagPosition = TagPosition::Postfix;
}

/// Records of more than 2^32 - 1 blocks would repeat the counter.
const MAX_LEN: u64 = (u32::MAX as u64 - 1) * 64;

impl ChaCha20Poly1305 {
    /// The cipher for `nonce`, the Poly1305 keyed from its block 0, and
    /// blocks 1 to 3 of keystream (computed with block 0 in one pass).
    fn start(&self, nonce: &aead::Nonce<Self>) -> (ChaCha20, Poly1305, [u8; 256]) {
        let cipher = ChaCha20::new(&self.key, &(*nonce).into());
        let mut ks = [0u8; 256];
        cipher.xor_four_blocks(0, &mut ks);
        let mac = Poly1305::new(&core::array::from_fn(|i| ks[i]));
        (cipher, mac, ks)
    }

    /// XORs the keystream from block 1 on into `text`: blocks 1 to 3 from
    /// `ks`, the rest computed.
    fn apply(cipher: &ChaCha20, ks: &[u8; 256], text: &mut [u8]) {
        let (head, tail) = text.split_at_mut(text.len().min(192));
        for (d, k) in head.iter_mut().zip(&ks[64..]) {
            *d ^= k;
        }
        cipher.apply_keystream(4, tail);
    }

    fn lengths(mac: &mut Poly1305, aad: &[u8], text: &[u8]) {
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
        block[8..].copy_from_slice(&(text.len() as u64).to_le_bytes());
        mac.block(&block);
    }
}

impl AeadInOut for ChaCha20Poly1305 {
    fn encrypt_inout_detached(&self, nonce: &aead::Nonce<Self>, aad: &[u8], buffer: InOutBuf<'_, '_, u8>) -> aead::Result<aead::Tag<Self>> {
        if buffer.len() as u64 > MAX_LEN {
            return Err(aead::Error);
        }
        let (cipher, mut mac, ks) = self.start(nonce);
        let text = buffer.into_out_with_copied_in();
        Self::apply(&cipher, &ks, text);
        mac.update_padded(aad);
        mac.update_padded(text);
        Self::lengths(&mut mac, aad, text);
        Ok(mac.finalize().into())
    }

    fn decrypt_inout_detached(&self, nonce: &aead::Nonce<Self>, aad: &[u8], buffer: InOutBuf<'_, '_, u8>, tag: &aead::Tag<Self>) -> aead::Result<()> {
        if buffer.len() as u64 > MAX_LEN {
            return Err(aead::Error);
        }
        let (cipher, mut mac, ks) = self.start(nonce);
        mac.update_padded(aad);
        mac.update_padded(buffer.get_in());
        Self::lengths(&mut mac, aad, buffer.get_in());
        // Constant-time comparison; nothing is decrypted unless it matches.
        if !bool::from(mac.finalize().ct_eq(tag.as_slice())) {
            return Err(aead::Error);
        }
        Self::apply(&cipher, &ks, buffer.into_out_with_copied_in());
        Ok(())
    }
}

#[cfg(test)]
#[path = "../tests/chacha.rs"]
mod tests;
