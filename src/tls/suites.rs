//! The cipher suites: rustls's record-layer and key-schedule traits over
//! RustCrypto's maintained crates, nothing else.
//!
//! - records: ChaCha20-Poly1305 from `super::chacha` (our keystream on
//!   wasm simd128, `poly1305`'s MAC) and `aes-gcm` (AES-128-GCM,
//!   AES-256-GCM), sealed and opened in place in the buffer
//!   rustls hands over (TLS 1.3: RFC 8446 section 5.2; TLS 1.2: RFC 5288
//!   for GCM's explicit nonce, RFC 7905 for ChaCha20's);
//! - transcript hashes: `sha2` (SHA-256, SHA-384);
//! - HMAC: `hmac`, from which rustls's own `HkdfUsingHmac` (TLS 1.3's
//!   HKDF) and `PrfUsingHmac` (TLS 1.2's PRF) derive the keys.
//!
//! ChaCha20-Poly1305 comes first in [`ALL`]: wasm has no AES instructions,
//! so software AES-GCM is the slower cipher there (README, "TLS").

use alloc::boxed::Box;
use core::marker::PhantomData;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{self, AeadCore, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use hmac::Mac;
use rustls::crypto::cipher::{
    make_tls12_aad, make_tls13_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter, MessageEncrypter, Nonce,
    OutboundOpaqueMessage, OutboundPlainMessage, PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm, UnsupportedOperationError, NONCE_LEN,
};
use rustls::crypto::{hash, hmac as rhmac, tls12::PrfUsingHmac, tls13::HkdfUsingHmac, CipherSuiteCommon, KeyExchangeAlgorithm};
use rustls::{CipherSuite, ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion, SignatureScheme, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};
use sha2::digest::core_api::BlockSizeUser;
use sha2::{Digest, Sha256, Sha384};

use super::chacha::ChaCha20Poly1305;

/// Every suite the client offers, in its order of preference.
pub static ALL: &[SupportedCipherSuite] = &[
    TLS13_CHACHA20_POLY1305_SHA256,
    TLS13_AES_128_GCM_SHA256,
    TLS13_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

/// The AEADs' authentication tag: 16 bytes for all three.
const TAG_LEN: usize = 16;
/// TLS 1.2 AES-GCM's per-record explicit nonce (RFC 5288).
const GCM_EXPLICIT_NONCE_LEN: usize = 8;
/// The largest plaintext in one record (RFC 8446 section 5.1).
const MAX_FRAGMENT_LEN: usize = 16384;
/// AES-GCM's record limit per key (RFC 8446 section 5.5), as ring's suites.
const GCM_LIMIT: u64 = 1 << 24;

// --- Hashes and HMAC -------------------------------------------------------

/// A `sha2` hash as rustls's `Hash`.
struct Sha<D>(PhantomData<fn() -> D>, hash::HashAlgorithm);

static SHA256: Sha<Sha256> = Sha(PhantomData, hash::HashAlgorithm::SHA256);
static SHA384: Sha<Sha384> = Sha(PhantomData, hash::HashAlgorithm::SHA384);

impl<D: Digest + Clone + Send + Sync + 'static> hash::Hash for Sha<D> {
    fn start(&self) -> Box<dyn hash::Context> {
        Box::new(ShaContext(D::new()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(&D::digest(data))
    }

    fn output_len(&self) -> usize {
        <D as Digest>::output_size()
    }

    fn algorithm(&self) -> hash::HashAlgorithm {
        self.1
    }
}

struct ShaContext<D>(D);

impl<D: Digest + Clone + Send + Sync + 'static> hash::Context for ShaContext<D> {
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn hash::Context> {
        Box::new(ShaContext(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(&self.0.finalize())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// `hmac`'s HMAC over a `sha2` hash as rustls's `Hmac`.
struct Hmac<D>(PhantomData<fn() -> D>);

static HMAC_SHA256: Hmac<Sha256> = Hmac(PhantomData);
static HMAC_SHA384: Hmac<Sha384> = Hmac(PhantomData);

static HKDF_SHA256: HkdfUsingHmac<'static> = HkdfUsingHmac(&HMAC_SHA256);
static HKDF_SHA384: HkdfUsingHmac<'static> = HkdfUsingHmac(&HMAC_SHA384);
static PRF_SHA256: PrfUsingHmac<'static> = PrfUsingHmac(&HMAC_SHA256);
static PRF_SHA384: PrfUsingHmac<'static> = PrfUsingHmac(&HMAC_SHA384);

/// The `hmac` crate's type for hash `D` (SHA-2: block-level core).
type HmacOf<D> = hmac::SimpleHmac<D>;

impl<D: Digest + BlockSizeUser + Clone + Send + Sync + 'static> rhmac::Hmac for Hmac<D> {
    fn with_key(&self, key: &[u8]) -> Box<dyn rhmac::Key> {
        // HMAC takes a key of any length (RFC 2104): this cannot fail.
        Box::new(HmacKey(<HmacOf<D> as hmac::digest::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())))
    }

    fn hash_output_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}

struct HmacKey<D: Digest + BlockSizeUser>(HmacOf<D>);

impl<D: Digest + BlockSizeUser + Clone + Send + Sync + 'static> rhmac::Key for HmacKey<D> {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> rhmac::Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for m in middle {
            mac.update(m);
        }
        mac.update(last);
        rhmac::Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}

// --- Record protection -------------------------------------------------------

/// An AEAD with a 12-byte nonce and a 16-byte tag, and how rustls names
/// its keys (`extract_keys`, for kernel TLS; unused here but exact).
trait Aead: AeadCore<NonceSize = U12, TagSize = U16> + AeadInOut + KeyInit + Send + Sync + 'static {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets;
}

impl Aead for ChaCha20Poly1305 {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
    }
}

impl Aead for Aes128Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
    }
}

impl Aead for Aes256Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

fn cipher<A: Aead>(key: &AeadKey) -> A {
    // rustls derives keys of `key_len()` bytes, A's size.
    A::new_from_slice(key.as_ref()).unwrap_or_else(|_| unreachable!("rustls derives keys of the AEAD's size"))
}

/// A received tag (the record's last `TAG_LEN` bytes).
fn tag_of<A: Aead>(tag: &[u8]) -> Result<aead::Tag<A>, Error> {
    aead::Tag::<A>::try_from(tag).map_err(|_| Error::DecryptError)
}

fn key_len<A: Aead>() -> usize {
    <A as aead::KeySizeUser>::key_size()
}

/// TLS 1.3 record protection with AEAD `A` (RFC 8446 section 5.2): the
/// nonce is the IV XOR the sequence number, the additional data the
/// record header, the content type sealed after the payload.
struct Tls13<A>(PhantomData<fn() -> A>);

/// One direction's key and IV.
struct Tls13Keys<A> {
    aead: A,
    iv: Iv,
}

impl<A: Aead> Tls13AeadAlgorithm for Tls13<A> {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Keys { aead: cipher::<A>(&key), iv })
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Keys { aead: cipher::<A>(&key), iv })
    }

    fn key_len(&self) -> usize {
        key_len::<A>()
    }

    fn extract_keys(&self, key: AeadKey, iv: Iv) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(A::secrets(key, iv))
    }
}

impl<A: Aead> MessageEncrypter for Tls13Keys<A> {
    fn encrypt(&mut self, m: OutboundPlainMessage<'_>, seq: u64) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(m.payload.len());
        // One copy of the plaintext, into the buffer that becomes the
        // record (rustls's `PrefixedPayload` keeps room for the header);
        // sealed there.
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_chunks(&m.payload);
        payload.extend_from_slice(&m.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        let tag = self
            .aead
            .encrypt_inout_detached(&aead::Nonce::<A>::from(nonce), &make_tls13_aad(total), payload.as_mut().into())
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(ContentType::ApplicationData, ProtocolVersion::TLSv1_2, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl<A: Aead> MessageDecrypter for Tls13Keys<A> {
    fn decrypt<'a>(&mut self, mut m: InboundOpaqueMessage<'a>, seq: u64) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut m.payload;
        let total = payload.len();
        let Some(plain_len) = total.checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = Nonce::new(&self.iv, seq).0;
        let (text, tag) = payload.split_at_mut(plain_len);
        self.aead
            .decrypt_inout_detached(&aead::Nonce::<A>::from(nonce), &make_tls13_aad(total), text.into(), &tag_of::<A>(tag)?)
            .map_err(|_| Error::DecryptError)?;
        payload.truncate(plain_len);
        m.into_tls13_unpadded_message()
    }
}

/// TLS 1.2 AES-GCM (RFC 5288): a 4-byte implicit salt, an 8-byte explicit
/// nonce sent before each record's ciphertext.
struct Tls12Gcm<A>(PhantomData<fn() -> A>);

/// TLS 1.2 ChaCha20-Poly1305 (RFC 7905): a 12-byte IV XOR the sequence
/// number, as in TLS 1.3; nothing explicit on the wire.
struct Tls12Chacha;

/// A TLS 1.2 direction's key and nonce base; `explicit` says whether the
/// nonce's last 8 bytes travel with each record (GCM).
struct Tls12Keys<A> {
    aead: A,
    iv: [u8; NONCE_LEN],
    explicit: bool,
}

impl<A: Aead> Tls12AeadAlgorithm for Tls12Gcm<A> {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        // Salt from the key block, then 8 random bytes: the explicit nonce
        // is this XOR the sequence number, unique per record.
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(iv);
        nonce[4..].copy_from_slice(extra);
        Box::new(Tls12Keys { aead: cipher::<A>(&key), iv: nonce, explicit: true })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        let mut salt = [0u8; NONCE_LEN];
        salt[..4].copy_from_slice(iv);
        Box::new(Tls12Keys { aead: cipher::<A>(&key), iv: salt, explicit: true })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape { enc_key_len: key_len::<A>(), fixed_iv_len: 4, explicit_nonce_len: GCM_EXPLICIT_NONCE_LEN }
    }

    fn extract_keys(&self, key: AeadKey, iv: &[u8], explicit: &[u8]) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(iv);
        nonce[4..].copy_from_slice(explicit);
        Ok(A::secrets(key, Iv::new(nonce)))
    }
}

impl Tls12AeadAlgorithm for Tls12Chacha {
    fn encrypter(&self, key: AeadKey, iv: &[u8], _: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Tls12Keys { aead: cipher::<ChaCha20Poly1305>(&key), iv: iv12(iv), explicit: false })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Tls12Keys { aead: cipher::<ChaCha20Poly1305>(&key), iv: iv12(iv), explicit: false })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape { enc_key_len: 32, fixed_iv_len: NONCE_LEN, explicit_nonce_len: 0 }
    }

    fn extract_keys(&self, key: AeadKey, iv: &[u8], _: &[u8]) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(ChaCha20Poly1305::secrets(key, Iv::copy(iv)))
    }
}

/// The key block's 12-byte IV (rustls cuts `fixed_iv_len` bytes).
fn iv12(iv: &[u8]) -> [u8; NONCE_LEN] {
    let mut out = [0u8; NONCE_LEN];
    out.copy_from_slice(&iv[..NONCE_LEN]);
    out
}

impl<A: Aead> Tls12Keys<A> {
    fn explicit_len(&self) -> usize {
        if self.explicit {
            GCM_EXPLICIT_NONCE_LEN
        } else {
            0
        }
    }
}

impl<A: Aead> MessageEncrypter for Tls12Keys<A> {
    fn encrypt(&mut self, m: OutboundPlainMessage<'_>, seq: u64) -> Result<OutboundOpaqueMessage, Error> {
        let explicit = self.explicit_len();
        let mut payload = PrefixedPayload::with_capacity(self.encrypted_payload_len(m.payload.len()));
        let nonce = Nonce::new(&Iv::new(self.iv), seq).0;
        payload.extend_from_slice(&nonce[NONCE_LEN - explicit..]);
        payload.extend_from_chunks(&m.payload);
        let aad = make_tls12_aad(seq, m.typ, m.version, m.payload.len());
        let tag = self
            .aead
            .encrypt_inout_detached(&aead::Nonce::<A>::from(nonce), &aad, (&mut payload.as_mut()[explicit..]).into())
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(m.typ, m.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        self.explicit_len() + payload_len + TAG_LEN
    }
}

impl<A: Aead> MessageDecrypter for Tls12Keys<A> {
    fn decrypt<'a>(&mut self, mut m: InboundOpaqueMessage<'a>, seq: u64) -> Result<InboundPlainMessage<'a>, Error> {
        let explicit = self.explicit_len();
        let payload = &mut m.payload;
        let Some(plain_len) = payload.len().checked_sub(explicit + TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = if self.explicit {
            let mut nonce = self.iv;
            nonce[4..].copy_from_slice(&payload[..explicit]);
            nonce
        } else {
            Nonce::new(&Iv::new(self.iv), seq).0
        };
        let aad = make_tls12_aad(seq, m.typ, m.version, plain_len);
        let (text, tag) = payload[explicit..].split_at_mut(plain_len);
        self.aead
            .decrypt_inout_detached(&aead::Nonce::<A>::from(nonce), &aad, text.into(), &tag_of::<A>(tag)?)
            .map_err(|_| Error::DecryptError)?;
        if plain_len > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        // The plaintext stays where it was opened, after the explicit nonce.
        Ok(m.into_plain_message_range(explicit..explicit + plain_len))
    }
}

// --- The suites ---------------------------------------------------------------

static CHACHA13: Tls13<ChaCha20Poly1305> = Tls13(PhantomData);
static AES128_13: Tls13<Aes128Gcm> = Tls13(PhantomData);
static AES256_13: Tls13<Aes256Gcm> = Tls13(PhantomData);
static AES128_12: Tls12Gcm<Aes128Gcm> = Tls12Gcm(PhantomData);
static AES256_12: Tls12Gcm<Aes256Gcm> = Tls12Gcm(PhantomData);

/// What a TLS 1.2 server may sign its key exchange with, per certificate
/// kind (those `verify.rs` checks; rustls intersects with the verifier's).
static ECDSA_SCHEMES: &[SignatureScheme] = &[SignatureScheme::ED25519, SignatureScheme::ECDSA_NISTP384_SHA384, SignatureScheme::ECDSA_NISTP256_SHA256];
static RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

const fn tls13(
    suite: CipherSuite,
    hash: &'static dyn hash::Hash,
    hkdf: &'static HkdfUsingHmac<'static>,
    limit: u64,
    aead: &'static dyn Tls13AeadAlgorithm,
) -> Tls13CipherSuite {
    Tls13CipherSuite { common: CipherSuiteCommon { suite, hash_provider: hash, confidentiality_limit: limit }, hkdf_provider: hkdf, aead_alg: aead, quic: None }
}

const fn tls12(
    suite: CipherSuite,
    hash: &'static dyn hash::Hash,
    prf: &'static PrfUsingHmac<'static>,
    limit: u64,
    sign: &'static [SignatureScheme],
    aead: &'static dyn Tls12AeadAlgorithm,
) -> Tls12CipherSuite {
    Tls12CipherSuite {
        common: CipherSuiteCommon { suite, hash_provider: hash, confidentiality_limit: limit },
        prf_provider: prf,
        kx: KeyExchangeAlgorithm::ECDHE,
        sign,
        aead_alg: aead,
    }
}

use CipherSuite as S;

static CHACHA13_SHA256: Tls13CipherSuite = tls13(S::TLS13_CHACHA20_POLY1305_SHA256, &SHA256, &HKDF_SHA256, u64::MAX, &CHACHA13);
static AES128_13_SHA256: Tls13CipherSuite = tls13(S::TLS13_AES_128_GCM_SHA256, &SHA256, &HKDF_SHA256, GCM_LIMIT, &AES128_13);
static AES256_13_SHA384: Tls13CipherSuite = tls13(S::TLS13_AES_256_GCM_SHA384, &SHA384, &HKDF_SHA384, GCM_LIMIT, &AES256_13);
static ECDSA_CHACHA: Tls12CipherSuite =
    tls12(S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, &SHA256, &PRF_SHA256, u64::MAX, ECDSA_SCHEMES, &Tls12Chacha);
static RSA_CHACHA: Tls12CipherSuite = tls12(S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, &SHA256, &PRF_SHA256, u64::MAX, RSA_SCHEMES, &Tls12Chacha);
static ECDSA_AES128: Tls12CipherSuite = tls12(S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, &SHA256, &PRF_SHA256, GCM_LIMIT, ECDSA_SCHEMES, &AES128_12);
static RSA_AES128: Tls12CipherSuite = tls12(S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, &SHA256, &PRF_SHA256, GCM_LIMIT, RSA_SCHEMES, &AES128_12);
static ECDSA_AES256: Tls12CipherSuite = tls12(S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, &SHA384, &PRF_SHA384, GCM_LIMIT, ECDSA_SCHEMES, &AES256_12);
static RSA_AES256: Tls12CipherSuite = tls12(S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, &SHA384, &PRF_SHA384, GCM_LIMIT, RSA_SCHEMES, &AES256_12);

pub const TLS13_CHACHA20_POLY1305_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls13(&CHACHA13_SHA256);
pub const TLS13_AES_128_GCM_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls13(&AES128_13_SHA256);
pub const TLS13_AES_256_GCM_SHA384: SupportedCipherSuite = SupportedCipherSuite::Tls13(&AES256_13_SHA384);
pub const TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls12(&ECDSA_CHACHA);
pub const TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls12(&RSA_CHACHA);
pub const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls12(&ECDSA_AES128);
pub const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: SupportedCipherSuite = SupportedCipherSuite::Tls12(&RSA_AES128);
pub const TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: SupportedCipherSuite = SupportedCipherSuite::Tls12(&ECDSA_AES256);
pub const TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: SupportedCipherSuite = SupportedCipherSuite::Tls12(&RSA_AES256);
