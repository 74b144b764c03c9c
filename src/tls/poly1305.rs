//! Poly1305 (RFC 8439 section 2.5) for ChaCha20-Poly1305, two blocks per
//! step. The accumulator is five 26-bit limbs; a run of 32-byte pairs is
//! evaluated as two interleaved polynomials in r^2, one per 64-bit lane
//! (wasm `simd128`: two 32x32-bit multiplies per instruction), folded
//! with r^2 and r at the end; lone blocks and the rest go one at a time.
//! Off wasm the lanes are `[u64; 2]`, which is how the unit tests check
//! the same code natively. Everything is straight-line arithmetic: no
//! branch or memory access depends on the key or the data.
//!
//! Why: with our ChaCha20 keystream on simd128, the `poly1305` crate's
//! portable code (one block per step) was as costly as the keystream in
//! wasm (README, "TLS").

/// 2^26 - 1: one limb.
const M26: u64 = 0x03ff_ffff;
/// The 2^128 bit a full block carries, in limb 4.
const HIBIT: u64 = 1 << 24;

/// Two 64-bit lanes: one limb for two blocks.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct U64x2(v128);

    /// Two values under 2^32, packed for `mul`.
    #[derive(Clone, Copy)]
    pub struct Packed(v128);

    impl U64x2 {
        #[inline(always)]
        pub fn new(a: u64, b: u64) -> Self {
            U64x2(u64x2(a, b))
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            U64x2(u64x2_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn and(self, m: u64) -> Self {
            U64x2(v128_and(self.0, u64x2_splat(m)))
        }
        #[inline(always)]
        pub fn or(self, o: Self) -> Self {
            U64x2(v128_or(self.0, o.0))
        }
        #[inline(always)]
        pub fn shr(self, n: u32) -> Self {
            U64x2(u64x2_shr(self.0, n))
        }
        #[inline(always)]
        pub fn shl(self, n: u32) -> Self {
            U64x2(u64x2_shl(self.0, n))
        }
        /// Both lanes must be under 2^32.
        #[inline(always)]
        pub fn pack(self) -> Packed {
            Packed(i32x4_shuffle::<0, 2, 0, 2>(self.0, self.0))
        }
        #[inline(always)]
        pub fn lanes(self) -> [u64; 2] {
            [u64x2_extract_lane::<0>(self.0), u64x2_extract_lane::<1>(self.0)]
        }
    }

    impl Packed {
        /// The two 64-bit products, lane by lane.
        #[inline(always)]
        pub fn mul(self, o: Packed) -> U64x2 {
            U64x2(u64x2_extmul_low_u32x4(self.0, o.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    #[derive(Clone, Copy)]
    pub struct U64x2([u64; 2]);

    #[derive(Clone, Copy)]
    pub struct Packed([u64; 2]);

    impl U64x2 {
        pub fn new(a: u64, b: u64) -> Self {
            U64x2([a, b])
        }
        pub fn add(self, o: Self) -> Self {
            U64x2([self.0[0].wrapping_add(o.0[0]), self.0[1].wrapping_add(o.0[1])])
        }
        pub fn and(self, m: u64) -> Self {
            U64x2([self.0[0] & m, self.0[1] & m])
        }
        pub fn or(self, o: Self) -> Self {
            U64x2([self.0[0] | o.0[0], self.0[1] | o.0[1]])
        }
        pub fn shr(self, n: u32) -> Self {
            U64x2([self.0[0] >> n, self.0[1] >> n])
        }
        pub fn shl(self, n: u32) -> Self {
            U64x2([self.0[0] << n, self.0[1] << n])
        }
        pub fn pack(self) -> Packed {
            // As the wasm shuffle: the low 32 bits of each lane.
            Packed([self.0[0] & 0xffff_ffff, self.0[1] & 0xffff_ffff])
        }
        pub fn lanes(self) -> [u64; 2] {
            self.0
        }
    }

    impl Packed {
        pub fn mul(self, o: Packed) -> U64x2 {
            U64x2([self.0[0] * o.0[0], self.0[1] * o.0[1]])
        }
    }
}

use lanes::{Packed, U64x2};

fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The five limbs of the 128-bit little-endian number `lo | hi << 64`.
fn limbs(lo: u64, hi: u64) -> [u64; 5] {
    [lo & M26, (lo >> 26) & M26, ((lo >> 52) | (hi << 12)) & M26, (hi >> 14) & M26, hi >> 40]
}

/// `h * r mod 2^130 - 5`, partly reduced: limbs under 2^26 but limb 1,
/// under 2^26 + 2^11. `h` limbs under 2^28, `r` limbs under 2^26 + 2^11,
/// `s` = 5 `r`: the sums stay under 2^60.
fn mul_reduce(h: &[u64; 5], r: &[u64; 5], s: &[u64; 5]) -> [u64; 5] {
    let d = [
        h[0] * r[0] + h[1] * s[4] + h[2] * s[3] + h[3] * s[2] + h[4] * s[1],
        h[0] * r[1] + h[1] * r[0] + h[2] * s[4] + h[3] * s[3] + h[4] * s[2],
        h[0] * r[2] + h[1] * r[1] + h[2] * r[0] + h[3] * s[4] + h[4] * s[3],
        h[0] * r[3] + h[1] * r[2] + h[2] * r[1] + h[3] * r[0] + h[4] * s[4],
        h[0] * r[4] + h[1] * r[3] + h[2] * r[2] + h[3] * r[1] + h[4] * r[0],
    ];
    carry(d)
}

fn carry(mut d: [u64; 5]) -> [u64; 5] {
    for i in 0..4 {
        d[i + 1] += d[i] >> 26;
        d[i] &= M26;
    }
    let c = d[4] >> 26;
    d[4] &= M26;
    d[0] += c * 5;
    d[1] += d[0] >> 26;
    d[0] &= M26;
    d
}

/// `mul_reduce` on both lanes: `r` and `s` packed per limb.
#[inline(always)]
fn mul_reduce2(h: &[U64x2; 5], r: &[Packed; 5], s: &[Packed; 5]) -> [U64x2; 5] {
    let p = [h[0].pack(), h[1].pack(), h[2].pack(), h[3].pack(), h[4].pack()];
    let mut d = [
        p[0].mul(r[0]).add(p[1].mul(s[4])).add(p[2].mul(s[3])).add(p[3].mul(s[2])).add(p[4].mul(s[1])),
        p[0].mul(r[1]).add(p[1].mul(r[0])).add(p[2].mul(s[4])).add(p[3].mul(s[3])).add(p[4].mul(s[2])),
        p[0].mul(r[2]).add(p[1].mul(r[1])).add(p[2].mul(r[0])).add(p[3].mul(s[4])).add(p[4].mul(s[3])),
        p[0].mul(r[3]).add(p[1].mul(r[2])).add(p[2].mul(r[1])).add(p[3].mul(r[0])).add(p[4].mul(s[4])),
        p[0].mul(r[4]).add(p[1].mul(r[3])).add(p[2].mul(r[2])).add(p[3].mul(r[1])).add(p[4].mul(r[0])),
    ];
    for i in 0..4 {
        d[i + 1] = d[i + 1].add(d[i].shr(26));
        d[i] = d[i].and(M26);
    }
    let c = d[4].shr(26);
    d[4] = d[4].and(M26);
    d[0] = d[0].add(c).add(c.shl(2));
    d[1] = d[1].add(d[0].shr(26));
    d[0] = d[0].and(M26);
    d
}

/// The limbs of two full blocks (32 bytes), one per lane.
#[inline(always)]
fn limbs2(pair: &[u8]) -> [U64x2; 5] {
    let lo = U64x2::new(le64(&pair[0..8]), le64(&pair[16..24]));
    let hi = U64x2::new(le64(&pair[8..16]), le64(&pair[24..32]));
    [
        lo.and(M26),
        lo.shr(26).and(M26),
        lo.shr(52).or(hi.shl(12)).and(M26),
        hi.shr(14).and(M26),
        hi.shr(40).or(U64x2::new(HIBIT, HIBIT)),
    ]
}

fn packed(a: &[u64; 5], b: &[u64; 5]) -> [Packed; 5] {
    core::array::from_fn(|i| U64x2::new(a[i], b[i]).pack())
}

/// A Poly1305 computation, fed in 16-byte blocks.
pub struct Poly1305 {
    r: [u64; 5],
    s: [u64; 5],
    /// r^2 (partly reduced) and 5 r^2.
    r2: [u64; 5],
    s2: [u64; 5],
    /// The key's second half, added at the end.
    pad: u128,
    h: [u64; 5],
}

impl Poly1305 {
    pub fn new(key: &[u8; 32]) -> Self {
        let r = limbs(le64(&key[0..8]) & 0x0fff_fffc_0fff_ffff, le64(&key[8..16]) & 0x0fff_fffc_0fff_fffc);
        let s = r.map(|x| x * 5);
        let r2 = mul_reduce(&r, &r, &s);
        let s2 = r2.map(|x| x * 5);
        let mut pad = [0u8; 16];
        pad.copy_from_slice(&key[16..]);
        Poly1305 { r, s, r2, s2, pad: u128::from_le_bytes(pad), h: [0; 5] }
    }

    /// One full 16-byte block.
    pub fn block(&mut self, b: &[u8; 16]) {
        let mut m = limbs(le64(&b[0..8]), le64(&b[8..16]));
        m[4] |= HIBIT;
        let h: [u64; 5] = core::array::from_fn(|i| self.h[i] + m[i]);
        self.h = mul_reduce(&h, &self.r, &self.s);
    }

    /// `data` as blocks, the last one padded with zeros to 16 bytes (the
    /// AEAD's padding: every block is a full one).
    pub fn update_padded(&mut self, data: &[u8]) {
        let pairs = data.len() / 32 * 32;
        if pairs > 0 {
            self.pairs(&data[..pairs]);
        }
        // At most one full block and one partial one are left.
        for rest in data[pairs..].chunks(16) {
            let mut block = [0u8; 16];
            block[..rest.len()].copy_from_slice(rest);
            self.block(&block);
        }
    }

    /// Blocks in pairs (`data` a non-empty multiple of 32 bytes): lane 0
    /// takes the odd blocks, lane 1 the even ones, both times r^2 per
    /// step; the last step multiplies by r^2 and r, and the lanes add up
    /// to what one block at a time would give.
    fn pairs(&mut self, data: &[u8]) {
        let (r2, s2) = (packed(&self.r2, &self.r2), packed(&self.s2, &self.s2));
        let mut chunks = data.chunks_exact(32);
        let Some(first) = chunks.next() else { return };
        let m = limbs2(first);
        let mut h: [U64x2; 5] = core::array::from_fn(|i| m[i].add(U64x2::new(self.h[i], 0)));
        for pair in chunks {
            let m = limbs2(pair);
            let p = mul_reduce2(&h, &r2, &s2);
            h = core::array::from_fn(|i| p[i].add(m[i]));
        }
        let h = mul_reduce2(&h, &packed(&self.r2, &self.r), &packed(&self.s2, &self.s));
        self.h = h.map(|l| {
            let [a, b] = l.lanes();
            a + b
        });
    }

    /// The tag: the accumulator reduced mod 2^130 - 5, plus the pad, mod
    /// 2^128.
    pub fn finalize(self) -> [u8; 16] {
        let h = carry(self.h);
        // h = low + top * 2^128, limbs under 2^26 (limb 1 under 2^27).
        let (low, c1) = (h[0] as u128 + ((h[1] as u128) << 26) + ((h[2] as u128) << 52)).overflowing_add((h[3] as u128) << 78);
        let (low, c2) = low.overflowing_add(((h[4] & 0xff_ffff) as u128) << 104);
        let top = (h[4] >> 24) + c1 as u64 + c2 as u64;
        // Bits from 130 up are worth 5 each.
        let (low, c) = low.overflowing_add(((top >> 2) * 5) as u128);
        let top = (top & 3) + c as u64;
        // h - p = h + 5 - 2^130: taken when it is not negative, with a
        // mask, not a branch.
        let (g, c) = low.overflowing_add(5);
        let keep_g = 0u128.wrapping_sub(((top + c as u64) >> 2) as u128);
        let h = (g & keep_g) | (low & !keep_g);
        h.wrapping_add(self.pad).to_le_bytes()
    }
}

#[cfg(test)]
#[path = "../tests/poly1305.rs"]
mod tests;
