//! The client's side of mutual TLS: `ssl.certificate.pem` and
//! `ssl.key.pem` parsed into a certificate chain and a signing key that
//! rustls calls for the CertificateVerify signature.
//!
//! Keys: PKCS#8 (`BEGIN PRIVATE KEY`), SEC1 (`BEGIN EC PRIVATE KEY`) and
//! PKCS#1 (`BEGIN RSA PRIVATE KEY`), as librdkafka takes them. Algorithms:
//! ECDSA on P-256 (SHA-256) and P-384 (SHA-384), RSA with PSS or PKCS#1
//! v1.5 padding and SHA-256/384/512, and Ed25519. The pure-Rust signers are
//! RustCrypto's; RSA-PSS salts (and RSA blinding) draw from the host-seeded
//! generator of [`super::random`]. ECDSA nonces are deterministic
//! (RFC 6979). Encrypted keys are refused: the core has no password
//! prompt and `ssl.key.password` is not supported.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::sign::public_key_to_spki;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{alg_id, CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

/// Whether `e` is the broker's alert refusing the client's certificate,
/// or its absence (a broker that requires client certificates).
pub fn refuses_client(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        e,
        rustls::Error::AlertReceived(
            A::CertificateRequired
                | A::BadCertificate
                | A::UnknownCA
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::AccessDenied
        )
    )
}

/// What to do about a refusal [`refuses_client`] recognises.
pub fn describe_refusal(e: &rustls::Error) -> String {
    let alert = match e {
        rustls::Error::AlertReceived(a) => format!("{a:?}"),
        other => format!("{other}"),
    };
    if matches!(e, rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)) {
        return format!(
            "the broker requires a client certificate (TLS alert {alert}): set ssl.certificate.pem and ssl.key.pem \
             (or ssl.certificate.location and ssl.key.location on hosts that read files)"
        );
    }
    format!(
        "the broker refused the client certificate (TLS alert {alert}): the certificate in ssl.certificate.pem / \
         ssl.certificate.location must be signed by a CA the broker trusts for clients, and valid now; \
         without one, set ssl.certificate.pem and ssl.key.pem"
    )
}

/// A configuration error: the setting at fault and why.
pub type KeyError = (&'static str, String);

/// The certificate chain of `ssl.certificate.pem` (the client's certificate
/// first, then any intermediates) with the key of `ssl.key.pem`, checked to
/// belong together.
pub fn client_identity(cert_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, KeyError> {
    let chain = certificates(cert_pem)?;
    let key = signing_key(key_pem)?;
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => (
            "ssl.key.pem",
            "does not match the public key of the certificate in ssl.certificate.pem (the first one, the client's own)".into(),
        ),
        other => ("ssl.certificate.pem", format!("the first certificate cannot be parsed: {other}")),
    })?;
    Ok(Arc::new(certified))
}

fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, KeyError> {
    let mut chain = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        chain.push(cert.map_err(|e| ("ssl.certificate.pem", format!("certificate {} is not valid PEM: {e:?}", i + 1)))?);
    }
    if chain.is_empty() {
        return Err(("ssl.certificate.pem", "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    Ok(chain)
}

/// The one private key in `pem`.
fn signing_key(pem: &str) -> Result<Arc<dyn SigningKey>, KeyError> {
    const KEY: &str = "ssl.key.pem";
    if pem.contains("ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
        return Err((
            KEY,
            "is an encrypted private key, and ssl.key.password is not supported: give the key unencrypted \
             (e.g. openssl pkey -in key.pem -out plain-key.pem)"
                .into(),
        ));
    }
    let mut key = None;
    for section in <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(pem.as_bytes()) {
        let (kind, der) = section.map_err(|e| (KEY, format!("is not valid PEM: {e:?}")))?;
        let parsed = match kind {
            SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(der.into()),
            SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(der.into()),
            SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(der.into()),
            _ => continue,
        };
        if key.replace(parsed).is_some() {
            return Err((KEY, "holds more than one private key".into()));
        }
    }
    let key = key.ok_or((
        KEY,
        "holds no private key (-----BEGIN PRIVATE KEY-----, BEGIN EC PRIVATE KEY or BEGIN RSA PRIVATE KEY)".into(),
    ))?;
    load(&key).map_err(|why| (KEY, why))
}

fn load(key: &PrivateKeyDer<'_>) -> Result<Arc<dyn SigningKey>, String> {
    use p256::pkcs8::DecodePrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    match key {
        PrivateKeyDer::Pkcs8(der) => {
            let der = der.secret_pkcs8_der();
            if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
                return Ok(Arc::new(EcKey::P256(k.into())));
            }
            if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
                return Ok(Arc::new(EcKey::P384(k.into())));
            }
            if let Some(seed) = ed25519_pkcs8(der) {
                return Ok(Arc::new(Ed25519Key(ed25519_dalek::SigningKey::from_bytes(&seed))));
            }
            match rsa::RsaPrivateKey::from_pkcs8_der(der) {
                Ok(k) => rsa_key(k),
                Err(_) => Err("is a PKCS#8 key of an unsupported kind: ECDSA P-256 or P-384, RSA and Ed25519 are supported".into()),
            }
        }
        PrivateKeyDer::Sec1(der) => {
            let der = der.secret_sec1_der();
            if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
                return Ok(Arc::new(EcKey::P256(k.into())));
            }
            match p384::SecretKey::from_sec1_der(der) {
                Ok(k) => Ok(Arc::new(EcKey::P384(k.into()))),
                Err(_) => Err("is an EC key that is not on P-256 or P-384 (the curves supported)".into()),
            }
        }
        PrivateKeyDer::Pkcs1(der) => match rsa::RsaPrivateKey::from_pkcs1_der(der.secret_pkcs1_der()) {
            Ok(k) => rsa_key(k),
            Err(e) => Err(format!("is not a valid RSA (PKCS#1) key: {e}")),
        },
        _ => Err("is a key of an unsupported format".into()),
    }
}

/// The seed of an Ed25519 PKCS#8 key (RFC 8410; version 1, or version 2
/// with the public key after it).
fn ed25519_pkcs8(der: &[u8]) -> Option<[u8; 32]> {
    // SEQUENCE { INTEGER 0|1, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } ...
    const ALGORITHM_AND_KEY: [u8; 11] = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    let rest = der.strip_prefix(&[0x30])?;
    let len = *rest.first()? as usize;
    if len >= 0x80 || rest.len() != len + 1 {
        return None;
    }
    let body = &rest[1..];
    if !matches!(body.get(..3)?, [0x02, 0x01, 0x00 | 0x01]) || body.get(3..14)? != ALGORITHM_AND_KEY {
        return None;
    }
    body.get(14..46)?.try_into().ok()
}

fn rsa_key(key: rsa::RsaPrivateKey) -> Result<Arc<dyn SigningKey>, String> {
    use rsa::traits::PublicKeyParts;
    let bits = key.n().bits();
    if bits < 2048 {
        return Err(format!("is a {bits}-bit RSA key: at least 2048 bits are needed"));
    }
    Ok(Arc::new(RsaKey(Arc::new(key))))
}

/// Draws from the host-seeded generator (see [`super::random`]).
fn rng() -> super::random::Rng {
    super::random::Rng
}

#[derive(Clone)]
enum EcKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl core::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EcKey::P256(_) => "EcKey(P-256)",
            EcKey::P384(_) => "EcKey(P-384)",
        })
    }
}

impl SigningKey for EcKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = match self {
            EcKey::P256(_) => SignatureScheme::ECDSA_NISTP256_SHA256,
            EcKey::P384(_) => SignatureScheme::ECDSA_NISTP384_SHA384,
        };
        offered.contains(&scheme).then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(match self {
            EcKey::P256(k) => public_key_to_spki(&alg_id::ECDSA_P256, k.verifying_key().to_encoded_point(false)),
            EcKey::P384(k) => public_key_to_spki(&alg_id::ECDSA_P384, k.verifying_key().to_encoded_point(false)),
        })
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for EcKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use p256::ecdsa::signature::Signer as _;
        Ok(match self {
            EcKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            EcKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
        })
    }

    fn scheme(&self) -> SignatureScheme {
        match self {
            EcKey::P256(_) => SignatureScheme::ECDSA_NISTP256_SHA256,
            EcKey::P384(_) => SignatureScheme::ECDSA_NISTP384_SHA384,
        }
    }
}

struct RsaKey(Arc<rsa::RsaPrivateKey>);

impl core::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RsaKey")
    }
}

/// In rustls's order: PSS (which TLS 1.3 requires) first, longer hashes
/// first.
const RSA_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

impl SigningKey for RsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = RSA_SCHEMES.into_iter().find(|s| offered.contains(s))?;
        Some(Box::new(RsaSigner { key: self.0.clone(), scheme }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let der = self.0.to_public_key().to_pkcs1_der().ok()?;
        Some(public_key_to_spki(&alg_id::RSA_ENCRYPTION, der.as_bytes()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

struct RsaSigner {
    key: Arc<rsa::RsaPrivateKey>,
    scheme: SignatureScheme,
}

impl core::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaSigner({:?})", self.scheme)
    }
}

impl Signer for RsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use rsa::{pss::Pss, Pkcs1v15Sign};
        use sha2::{Digest, Sha256, Sha384, Sha512};
        // The message hashed here and the padding chosen at run time: one
        // instance of each signing path, not one per hash (smaller wasm).
        type Paddings = (fn() -> Pss, fn() -> Pkcs1v15Sign);
        let (digest, (pss, pkcs1)): (Vec<u8>, Paddings) = match self.scheme {
            SignatureScheme::RSA_PSS_SHA512 | SignatureScheme::RSA_PKCS1_SHA512 => {
                (Sha512::digest(message).to_vec(), (Pss::new_blinded::<Sha512>, Pkcs1v15Sign::new::<Sha512>))
            }
            SignatureScheme::RSA_PSS_SHA384 | SignatureScheme::RSA_PKCS1_SHA384 => {
                (Sha384::digest(message).to_vec(), (Pss::new_blinded::<Sha384>, Pkcs1v15Sign::new::<Sha384>))
            }
            _ => (Sha256::digest(message).to_vec(), (Pss::new_blinded::<Sha256>, Pkcs1v15Sign::new::<Sha256>)),
        };
        let is_pss = matches!(self.scheme, SignatureScheme::RSA_PSS_SHA512 | SignatureScheme::RSA_PSS_SHA384 | SignatureScheme::RSA_PSS_SHA256);
        // The generator also blinds the private-key operation.
        let mut rng = rng();
        let signed = if is_pss { self.key.sign_with_rng(&mut rng, pss(), &digest) } else { self.key.sign_with_rng(&mut rng, pkcs1(), &digest) };
        signed.map_err(|e| rustls::Error::General(format!("RSA signature: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

struct Ed25519Key(ed25519_dalek::SigningKey);

impl core::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ed25519Key")
    }
}

impl SigningKey for Ed25519Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered.contains(&SignatureScheme::ED25519).then(|| Box::new(Ed25519Key(self.0.clone())) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(public_key_to_spki(&alg_id::ED25519, self.0.verifying_key().as_bytes()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ED25519
    }
}

impl Signer for Ed25519Key {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

#[cfg(test)]
#[path = "../tests/sign.rs"]
mod tests;
