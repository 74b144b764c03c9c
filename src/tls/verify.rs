//! Signature checks for certificates and handshakes: ECDSA (P-256, P-384),
//! Ed25519 and RSA (PKCS#1 v1.5, PSS; 2048 to 8192 bits, as webpki with
//! ring allows), on RustCrypto's implementations.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::alg_id;
use rustls::pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use rustls::SignatureScheme;
use sha2::Digest;

pub static ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        ECDSA_P256_SHA256,
        ECDSA_P256_SHA384,
        ECDSA_P384_SHA256,
        ECDSA_P384_SHA384,
        ED25519,
        RSA_PKCS1_SHA256,
        RSA_PKCS1_SHA384,
        RSA_PKCS1_SHA512,
        RSA_PSS_SHA256,
        RSA_PSS_SHA384,
        RSA_PSS_SHA512,
    ],
    mapping: &[
        (SignatureScheme::ECDSA_NISTP384_SHA384, &[ECDSA_P384_SHA384, ECDSA_P256_SHA384]),
        (SignatureScheme::ECDSA_NISTP256_SHA256, &[ECDSA_P256_SHA256, ECDSA_P384_SHA256]),
        (SignatureScheme::ED25519, &[ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[RSA_PSS_SHA512]),
        (SignatureScheme::RSA_PSS_SHA384, &[RSA_PSS_SHA384]),
        (SignatureScheme::RSA_PSS_SHA256, &[RSA_PSS_SHA256]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[RSA_PKCS1_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[RSA_PKCS1_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[RSA_PKCS1_SHA256]),
    ],
};

/// ECDSA over a curve with a hash; public keys are SEC1 points,
/// signatures DER.
macro_rules! ecdsa {
    ($name:ident, $ty:ident, $curve:ident, $key_alg:expr, $sig_alg:expr, $hash:ty) => {
        #[derive(Debug)]
        struct $ty;

        impl SignatureVerificationAlgorithm for $ty {
            fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
                use $curve::ecdsa::signature::hazmat::PrehashVerifier;
                let key = $curve::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
                let sig = $curve::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&<$hash>::digest(message), &sig).map_err(|_| InvalidSignature)
            }
            fn public_key_alg_id(&self) -> AlgorithmIdentifier {
                $key_alg
            }
            fn signature_alg_id(&self) -> AlgorithmIdentifier {
                $sig_alg
            }
        }

        const $name: &dyn SignatureVerificationAlgorithm = &$ty;
    };
}

ecdsa!(ECDSA_P256_SHA256, EcdsaP256Sha256, p256, alg_id::ECDSA_P256, alg_id::ECDSA_SHA256, sha2::Sha256);
ecdsa!(ECDSA_P256_SHA384, EcdsaP256Sha384, p256, alg_id::ECDSA_P256, alg_id::ECDSA_SHA384, sha2::Sha384);
ecdsa!(ECDSA_P384_SHA256, EcdsaP384Sha256, p384, alg_id::ECDSA_P384, alg_id::ECDSA_SHA256, sha2::Sha256);
ecdsa!(ECDSA_P384_SHA384, EcdsaP384Sha384, p384, alg_id::ECDSA_P384, alg_id::ECDSA_SHA384, sha2::Sha384);

#[derive(Debug)]
struct Ed25519;

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        let key: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify_strict(message, &sig).map_err(|_| InvalidSignature)
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

const ED25519: &dyn SignatureVerificationAlgorithm = &Ed25519;

/// An RSA public key (PKCS#1 DER) of an acceptable size.
fn rsa_key(der: &[u8]) -> Result<rsa::RsaPublicKey, InvalidSignature> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|_| InvalidSignature)?;
    if !(2048..=8192).contains(&key.n().bits()) {
        return Err(InvalidSignature);
    }
    Ok(key)
}

macro_rules! rsa {
    ($name:ident, $ty:ident, $scheme:ident, $sig_alg:expr, $hash:ty) => {
        #[derive(Debug)]
        struct $ty;

        impl SignatureVerificationAlgorithm for $ty {
            fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
                use rsa::signature::Verifier;
                let key = rsa::$scheme::VerifyingKey::<$hash>::new(rsa_key(public_key)?);
                let sig = rsa::$scheme::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                key.verify(message, &sig).map_err(|_| InvalidSignature)
            }
            fn public_key_alg_id(&self) -> AlgorithmIdentifier {
                alg_id::RSA_ENCRYPTION
            }
            fn signature_alg_id(&self) -> AlgorithmIdentifier {
                $sig_alg
            }
        }

        const $name: &dyn SignatureVerificationAlgorithm = &$ty;
    };
}

rsa!(RSA_PKCS1_SHA256, RsaPkcs1Sha256, pkcs1v15, alg_id::RSA_PKCS1_SHA256, sha2::Sha256);
rsa!(RSA_PKCS1_SHA384, RsaPkcs1Sha384, pkcs1v15, alg_id::RSA_PKCS1_SHA384, sha2::Sha384);
rsa!(RSA_PKCS1_SHA512, RsaPkcs1Sha512, pkcs1v15, alg_id::RSA_PKCS1_SHA512, sha2::Sha512);
rsa!(RSA_PSS_SHA256, RsaPssSha256, pss, alg_id::RSA_PSS_SHA256, sha2::Sha256);
rsa!(RSA_PSS_SHA384, RsaPssSha384, pss, alg_id::RSA_PSS_SHA384, sha2::Sha384);
rsa!(RSA_PSS_SHA512, RsaPssSha512, pss, alg_id::RSA_PSS_SHA512, sha2::Sha512);
