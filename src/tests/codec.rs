//! Unit tests of `codec`: every output is decoded by an implementation
//! other than the encoder that wrote it.

use super::*;
use alloc::vec::Vec;

fn samples() -> Vec<Vec<u8>> {
    let mut text = Vec::new();
    for i in 0..5_000 {
        text.extend_from_slice(alloc::format!("{{\"user\":\"u{}\",\"n\":{i}}}\n", i % 97).as_bytes());
    }
    let mut x = 0x1234_5678u32;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    alloc::vec![Vec::new(), b"a".to_vec(), b"abcdabcdabcdabcd".to_vec(), alloc::vec![0u8; 100_000], text, noise]
}

#[test]
fn gzip_is_a_gzip_member() {
    for s in samples() {
        let mut out = Vec::new();
        compress(Codec::Gzip, -1, &s, &mut out);
        assert_eq!(&out[..3], &[0x1f, 0x8b, 8]);
        let body = &out[10..out.len() - 8];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), s);
        assert_eq!(u32::from_le_bytes(out[out.len() - 8..out.len() - 4].try_into().unwrap()), CRC32.checksum(&s));
        assert!(out.len() <= Codec::Gzip.max_compressed_len(s.len()));
    }
}

#[test]
fn snappy_is_xerial_framed_raw_snappy() {
    for s in samples() {
        let mut out = Vec::new();
        compress(Codec::Snappy, -1, &s, &mut out);
        assert_eq!(&out[..16], &XERIAL_HEADER);
        let mut at = 16;
        let mut back = Vec::new();
        while at < out.len() {
            let n = u32::from_be_bytes(out[at..at + 4].try_into().unwrap()) as usize;
            back.extend(snap::raw::Decoder::new().decompress_vec(&out[at + 4..at + 4 + n]).unwrap());
            at += 4 + n;
        }
        assert_eq!(back, s);
        assert!(out.len() <= Codec::Snappy.max_compressed_len(s.len()), "{} > bound for {}", out.len(), s.len());
    }
}

#[test]
fn lz4_is_a_standard_frame() {
    use std::io::Read;
    for s in samples() {
        let mut out = Vec::new();
        compress(Codec::Lz4, -1, &s, &mut out);
        let mut back = Vec::new();
        lz4_flex::frame::FrameDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, s);
        assert!(out.len() <= Codec::Lz4.max_compressed_len(s.len()));
    }
}

#[test]
fn zstd_is_a_zstd_frame() {
    use ruzstd::io::Read;
    for s in samples() {
        let mut out = Vec::new();
        compress(Codec::Zstd, -1, &s, &mut out);
        let mut back = Vec::new();
        let mut d = ruzstd::decoding::StreamingDecoder::new(&out[..]).unwrap();
        d.read_to_end(&mut back).unwrap();
        assert_eq!(back, s);
        assert!(out.len() <= Codec::Zstd.max_compressed_len(s.len()));
    }
}

#[test]
fn compressible_data_shrinks() {
    let text = &samples()[4];
    for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
        let mut out = Vec::new();
        compress(codec, -1, text, &mut out);
        assert!(out.len() * 3 < text.len(), "{codec:?}: {} of {}", out.len(), text.len());
    }
}

#[test]
fn max_input_for_inverts_the_bound() {
    for limit in [100, 1_000, 16_384, 1_048_576] {
        let n = Codec::Gzip.max_input_for(limit);
        assert!(Codec::Gzip.max_compressed_len(n) <= limit);
        assert!(Codec::Gzip.max_compressed_len(n + 2) > limit - 2);
    }
}

#[test]
fn decompress_undoes_compress_for_every_codec() {
    for codec in [Codec::None, Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
        for s in samples() {
            let mut out = Vec::new();
            compress(codec, -1, &s, &mut out);
            assert_eq!(decompress(codec, &out, s.len()).unwrap(), s, "{codec:?}");
            if s.len() > 100 && codec != Codec::None {
                assert!(decompress(codec, &out, s.len() / 2).is_err(), "{codec:?}: the limit holds");
            }
            for cut in [1, out.len() / 2, out.len().saturating_sub(1)] {
                if cut < out.len() && codec != Codec::None {
                    let _ = decompress(codec, &out[..cut], s.len()); // an error or garbage, never a panic
                }
            }
        }
    }
}
