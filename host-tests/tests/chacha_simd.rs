//! The producer's ChaCha20-Poly1305 (src/tls/chacha.rs) as the component
//! runs it: compiled for wasm32-wasip2 with simd128 (bench/aead_speed,
//! built by scripts/build.sh) and run under the wasmtime CLI, where it
//! must seal exactly what RustCrypto's chacha20poly1305 seals and open it
//! again, at every length to 600 bytes and at TLS record sizes; and its
//! Poly1305 (src/tls/poly1305.rs) alone must give the `poly1305` crate's
//! tags at the limbs' extremes. The native unit tests check the same code
//! on plain arrays.

use std::process::Command;

#[test]
fn the_simd_cipher_agrees_with_rustcrypto_in_wasm() {
    let wasmtime = std::env::var("KPC_WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let wasm = format!("{target}/aead-speed/wasm32-wasip2/release/aead-speed.wasm");
    let out = Command::new(&wasmtime).args(["run", &wasm, "--check"]).output().expect("the wasmtime CLI (run scripts/setup.sh and scripts/build.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "OK 608 lengths, 1806 Poly1305 extremes, simd128 true", "the check ran on simd128");
}
