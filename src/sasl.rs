//! SASL authentication of a broker connection (`security.protocol`
//! SASL_PLAINTEXT): PLAIN (RFC 4616), SCRAM-SHA-256 / SCRAM-SHA-512
//! (RFC 5802, RFC 7677) and OAUTHBEARER (RFC 7628; the token's handling is
//! in `crate::oauthbearer`), as the client side of SaslHandshake +
//! SaslAuthenticate. Pure computation: the client nonce comes from entropy
//! the host supplies. Secrets never appear in errors or debug output.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Digest;

/// `sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Mechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "OAUTHBEARER")]
    OauthBearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OauthBearer => "OAUTHBEARER",
        }
    }
}

/// A password that never prints.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: &str) -> Self {
        Secret(s.to_string())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why authentication failed; never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslError(pub String);

/// One authentication exchange.
pub enum SaslClient {
    Plain { done: bool },
    Scram(Scram),
    /// The first message (the token) is sent; `server_error` holds the
    /// server's JSON error (RFC 7628 section 3.2.2), once one came.
    OauthBearer { server_error: Option<String> },
}

/// SCRAM client state, generic over the hash by function pointers.
pub struct Scram {
    hash: ScramHash,
    username: String,
    password: Secret,
    client_nonce: String,
    client_first_bare: String,
    /// Server signature expected in the server-final message.
    expected_server_signature: Option<Vec<u8>>,
}

#[derive(Clone, Copy)]
pub enum ScramHash {
    Sha256,
    Sha512,
    #[cfg(test)]
    Sha1,
}

impl SaslClient {
    /// `nonce_bytes`: fresh random bytes from the host's entropy.
    pub fn new(mechanism: Mechanism, username: &str, password: &Secret, nonce_bytes: &[u8]) -> SaslClient {
        match mechanism {
            Mechanism::Plain => SaslClient::Plain { done: false },
            Mechanism::ScramSha256 => SaslClient::Scram(Scram::new(ScramHash::Sha256, username, password, &B64.encode(nonce_bytes))),
            Mechanism::ScramSha512 => SaslClient::Scram(Scram::new(ScramHash::Sha512, username, password, &B64.encode(nonce_bytes))),
            Mechanism::OauthBearer => SaslClient::OauthBearer { server_error: None },
        }
    }

    /// The first message the client sends.
    pub fn initial(&mut self, username: &str, password: &Secret) -> Vec<u8> {
        match self {
            SaslClient::Plain { done } => {
                *done = true;
                let mut m = Vec::new();
                m.push(0);
                m.extend_from_slice(username.as_bytes());
                m.push(0);
                m.extend_from_slice(password.expose().as_bytes());
                m
            }
            SaslClient::Scram(s) => s.client_first(),
            // Its first message is the token's: `crate::oauthbearer`.
            SaslClient::OauthBearer { .. } => Vec::new(),
        }
    }

    /// Handles the server's bytes: the next message to send, or `None`
    /// when authentication is complete (and the server proved it knows
    /// the credentials, for SCRAM).
    pub fn step(&mut self, server: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        match self {
            SaslClient::Plain { done: true } => Ok(None),
            SaslClient::Plain { done: false } => Err(SaslError("PLAIN: unexpected server message".into())),
            SaslClient::Scram(s) => s.step(server),
            SaslClient::OauthBearer { server_error: Some(e) } => Err(SaslError(alloc::format!("OAUTHBEARER: the broker refused the token: {e}"))),
            SaslClient::OauthBearer { .. } if server.is_empty() => Ok(None),
            SaslClient::OauthBearer { server_error } => {
                // RFC 7628 3.2.2: the server's JSON error, answered with a
                // lone %x01; the broker then fails the exchange.
                *server_error = Some(String::from_utf8_lossy(server).into_owned());
                Ok(Some(alloc::vec![1]))
            }
        }
    }

    /// The server's error message (OAUTHBEARER's JSON status), if one came
    /// before the broker failed the exchange.
    pub fn server_error(&self) -> Option<&str> {
        match self {
            SaslClient::OauthBearer { server_error } => server_error.as_deref(),
            _ => None,
        }
    }
}

/// `saslname` escaping of RFC 5802: ',' and '=' in a user name.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

impl Scram {
    pub fn new(hash: ScramHash, username: &str, password: &Secret, client_nonce: &str) -> Scram {
        Scram {
            hash,
            username: username.to_string(),
            password: password.clone(),
            client_nonce: client_nonce.to_string(),
            client_first_bare: String::new(),
            expected_server_signature: None,
        }
    }

    pub fn client_first(&mut self) -> Vec<u8> {
        self.client_first_bare = alloc::format!("n={},r={}", saslname(&self.username), self.client_nonce);
        alloc::format!("n,,{}", self.client_first_bare).into_bytes()
    }

    pub fn step(&mut self, server: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let msg = core::str::from_utf8(server).map_err(|_| SaslError("SCRAM: server message is not UTF-8".into()))?;
        if let Some(expected) = &self.expected_server_signature {
            // server-final-message: v=signature, or e=error
            if let Some(e) = attr(msg, 'e') {
                return Err(SaslError(alloc::format!("SCRAM: server refused: {e}")));
            }
            let v = attr(msg, 'v').ok_or_else(|| SaslError("SCRAM: server-final message without a signature".into()))?;
            let got = B64.decode(v).map_err(|_| SaslError("SCRAM: server signature is not base64".into()))?;
            if &got != expected {
                return Err(SaslError("SCRAM: the server's signature is wrong: it does not know the credentials".into()));
            }
            return Ok(None);
        }
        // server-first-message: r=nonce,s=salt,i=iterations
        if let Some(e) = attr(msg, 'e') {
            return Err(SaslError(alloc::format!("SCRAM: server refused: {e}")));
        }
        let nonce = attr(msg, 'r').ok_or_else(|| SaslError("SCRAM: server-first message without a nonce".into()))?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(SaslError("SCRAM: the server's nonce does not extend ours".into()));
        }
        let salt = attr(msg, 's').and_then(|s| B64.decode(s).ok()).ok_or_else(|| SaslError("SCRAM: bad salt".into()))?;
        let iterations: u32 = attr(msg, 'i').and_then(|i| i.parse().ok()).ok_or_else(|| SaslError("SCRAM: bad iteration count".into()))?;
        if !(1..=1_000_000).contains(&iterations) {
            return Err(SaslError(alloc::format!("SCRAM: iteration count {iterations} out of range")));
        }
        let without_proof = alloc::format!("c=biws,r={nonce}");
        let auth_message = alloc::format!("{},{},{}", self.client_first_bare, msg, without_proof);
        let (proof, server_signature) = match self.hash {
            ScramHash::Sha256 => prove_sha256(self.password.expose(), &salt, iterations, &auth_message),
            ScramHash::Sha512 => prove_sha512(self.password.expose(), &salt, iterations, &auth_message),
            #[cfg(test)]
            ScramHash::Sha1 => prove_sha1(self.password.expose(), &salt, iterations, &auth_message),
        };
        self.expected_server_signature = Some(server_signature);
        Ok(Some(alloc::format!("{without_proof},p={}", B64.encode(proof)).into_bytes()))
    }
}

/// The value of attribute `name` in a SCRAM message (`a=value,...`).
fn attr(msg: &str, name: char) -> Option<&str> {
    msg.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(name) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

/// (ClientProof, ServerSignature) of RFC 5802 section 3, per hash.
macro_rules! prove_with {
    ($name:ident, $hash:ty) => {
        fn $name(password: &str, salt: &[u8], iterations: u32, auth_message: &str) -> (Vec<u8>, Vec<u8>) {
            let mut salted = alloc::vec![0u8; <$hash as Digest>::output_size()];
            pbkdf2::pbkdf2_hmac::<$hash>(password.as_bytes(), salt, iterations, &mut salted);
            let hmac = |key: &[u8], data: &[u8]| -> Vec<u8> {
                // HMAC accepts keys of every length; the error arm is unreachable.
                match <Hmac<$hash> as Mac>::new_from_slice(key) {
                    Ok(mut m) => {
                        m.update(data);
                        m.finalize().into_bytes().to_vec()
                    }
                    Err(_) => Vec::new(),
                }
            };
            let client_key = hmac(&salted, b"Client Key");
            let stored_key = <$hash>::digest(&client_key).to_vec();
            let client_signature = hmac(&stored_key, auth_message.as_bytes());
            let proof = client_key.iter().zip(&client_signature).map(|(a, b)| a ^ b).collect();
            let server_key = hmac(&salted, b"Server Key");
            (proof, hmac(&server_key, auth_message.as_bytes()))
        }
    };
}

prove_with!(prove_sha256, sha2::Sha256);
prove_with!(prove_sha512, sha2::Sha512);
#[cfg(test)]
prove_with!(prove_sha1, sha1::Sha1);

#[cfg(test)]
#[path = "tests/sasl.rs"]
mod tests;
