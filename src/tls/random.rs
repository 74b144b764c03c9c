//! Randomness and key exchange for TLS, from host entropy: the core reads
//! no random source of its own.

use alloc::boxed::Box;

use rustls::crypto::{ActiveKeyExchange, GetRandomFailed, SecureRandom, SharedSecret, SupportedKxGroup};

/// The key exchanges offered, in order of preference.
pub static KX_GROUPS: &[&dyn SupportedKxGroup] = &[&X25519, &P256, &P384];

/// The process-wide random generator for TLS: ChaCha20 keyed from host
/// entropy, rekeyed after every draw (so an exposed state reveals nothing
/// already drawn). Unseeded, it refuses, and so does the handshake.
#[derive(Debug)]
pub struct HostRandom;

struct RandomState {
    key: [u8; 32],
    seeded: bool,
}

static RANDOM: spin::Mutex<RandomState> = spin::Mutex::new(RandomState { key: [0; 32], seeded: false });

impl HostRandom {
    /// Mixes host entropy into the generator; at least 32 bytes make it
    /// usable.
    pub fn seed(entropy: &[u8]) {
        use sha2::Digest;
        let mut s = RANDOM.lock();
        let mut h = sha2::Sha256::new();
        h.update(s.key);
        h.update(entropy);
        s.key = h.finalize().into();
        s.seeded |= entropy.len() >= 32;
    }
}

impl SecureRandom for HostRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use chacha20::cipher::{KeyIvInit, StreamCipher};
        let mut s = RANDOM.lock();
        if !s.seeded {
            return Err(GetRandomFailed);
        }
        let mut cipher = chacha20::ChaCha20::new(&s.key.into(), &[0u8; 12].into());
        let mut next = [0u8; 32];
        cipher.apply_keystream(&mut next);
        buf.fill(0);
        cipher.apply_keystream(buf);
        s.key = next;
        Ok(())
    }
}

/// `rand_core` face of [`HostRandom`], for the elliptic-curve crates and
/// the RSA signer.
pub(super) struct Rng;

impl rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Callers check `seeded` first (key exchange starts only after the
        // ClientHello's random was drawn), so this cannot fail here; if it
        // did, the zeroed key would fail the handshake, not repeat a key.
        let _ = HostRandom.fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for Rng {}

fn random<const N: usize>() -> Result<[u8; N], rustls::Error> {
    let mut b = [0u8; N];
    HostRandom.fill(&mut b).map_err(|_| rustls::Error::FailedToGetRandomBytes)?;
    Ok(b)
}

fn bad_share() -> rustls::Error {
    rustls::Error::PeerMisbehaved(rustls::PeerMisbehaved::InvalidKeyShare)
}

#[derive(Debug)]
struct X25519;

struct X25519Exchange {
    secret: x25519_dalek::StaticSecret,
    public: x25519_dalek::PublicKey,
}

impl SupportedKxGroup for X25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret = x25519_dalek::StaticSecret::from(random::<32>()?);
        let public = x25519_dalek::PublicKey::from(&secret);
        Ok(Box::new(X25519Exchange { secret, public }))
    }
    fn name(&self) -> rustls::NamedGroup {
        rustls::NamedGroup::X25519
    }
}

impl ActiveKeyExchange for X25519Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        let peer: [u8; 32] = peer.try_into().map_err(|_| bad_share())?;
        let shared = self.secret.diffie_hellman(&peer.into());
        if !shared.was_contributory() {
            return Err(bad_share());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }
    fn pub_key(&self) -> &[u8] {
        self.public.as_bytes()
    }
    fn group(&self) -> rustls::NamedGroup {
        rustls::NamedGroup::X25519
    }
}

macro_rules! nist_group {
    ($group:ident, $exchange:ident, $curve:ident, $name:expr) => {
        #[derive(Debug)]
        struct $group;

        struct $exchange {
            secret: $curve::ecdh::EphemeralSecret,
            public: Box<[u8]>,
        }

        impl SupportedKxGroup for $group {
            fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
                random::<1>()?; // refuse when unseeded
                let secret = $curve::ecdh::EphemeralSecret::random(&mut Rng);
                let public = $curve::PublicKey::from(&secret).to_sec1_bytes();
                Ok(Box::new($exchange { secret, public }))
            }
            fn name(&self) -> rustls::NamedGroup {
                $name
            }
        }

        impl ActiveKeyExchange for $exchange {
            fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
                let peer = $curve::PublicKey::from_sec1_bytes(peer).map_err(|_| bad_share())?;
                Ok(SharedSecret::from(self.secret.diffie_hellman(&peer).raw_secret_bytes().as_slice()))
            }
            fn pub_key(&self) -> &[u8] {
                &self.public
            }
            fn group(&self) -> rustls::NamedGroup {
                $name
            }
        }
    };
}

nist_group!(P256, P256Exchange, p256, rustls::NamedGroup::secp256r1);
nist_group!(P384, P384Exchange, p384, rustls::NamedGroup::secp384r1);
