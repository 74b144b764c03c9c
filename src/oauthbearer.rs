//! SASL/OAUTHBEARER (KIP-255, RFC 7628): the client sends a bearer token
//! the application supplies; the core never fetches tokens itself.
//!
//! The token comes from `sasl.oauthbearer.token` at create time (its
//! lifetime unknown to the core: it is sent until replaced), or from
//! `Producer::set_oauthbearer_token` with its lifetime (the wall-clock
//! time it expires, in ms since the epoch, as librdkafka's
//! `rd_kafka_oauthbearer_set_token` takes it). New connections use the
//! newest token. At 80% of a token's lifetime (counted from when it was
//! set), and at once when there is none, the producer emits one warning
//! starting with [`REFRESH_DUE`]: the host's cue to fetch a new token and
//! set it. An expired token is never sent: connections that need to
//! authenticate fail to, and records wait (timing out at
//! `delivery.timeout.ms`, naming `sasl.oauthbearer.token`) until a fresh
//! one is set.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::ConfigError;
use crate::sasl::Secret;

/// How every refresh-due warning begins: hosts match on it.
pub const REFRESH_DUE: &str = "OAUTHBEARER token refresh due";

/// The current token and when to ask for the next.
#[derive(Debug, Clone)]
pub struct Token {
    token: Secret,
    /// Wall-clock expiry (ms); `None` when unknown (a configured token).
    expires_at: Option<u64>,
    /// When the refresh-due warning is due; `None` once given (or never).
    refresh_at: Option<u64>,
    /// SASL extensions (KIP-342), sent as `key=value` pairs.
    extensions: Vec<(String, String)>,
}

/// The producer's OAUTHBEARER state: the token, if any.
#[derive(Debug, Clone, Default)]
pub struct TokenState {
    token: Option<Token>,
    /// No token at all: the refresh-due warning (once).
    missing_warned: bool,
}

impl TokenState {
    /// From the configuration: `sasl.oauthbearer.token`, if set, with no
    /// known expiry.
    pub fn configured(token: Option<&Secret>, extensions: &[(String, String)]) -> TokenState {
        TokenState {
            token: token.map(|t| Token { token: t.clone(), expires_at: None, refresh_at: None, extensions: extensions.to_vec() }),
            missing_warned: false,
        }
    }

    /// A new token, valid until `expires_at` (wall clock, ms), replacing
    /// the current one for new connections.
    pub fn set(&mut self, token: &str, expires_at: u64, extensions: &[(String, String)], now: u64) -> Result<(), ConfigError> {
        check_token(token)?;
        check_extensions(extensions)?;
        if expires_at <= now {
            return Err(ConfigError {
                key: "sasl.oauthbearer.token".into(),
                reason: format!("has already expired: its lifetime ends at {expires_at} ms, and now is {now} ms"),
            });
        }
        // librdkafka's refresh point: 80% of the way to the expiry.
        let refresh_at = now + (expires_at - now) / 5 * 4;
        self.token = Some(Token { token: Secret::new(token), expires_at: Some(expires_at), refresh_at: Some(refresh_at), extensions: extensions.to_vec() });
        Ok(())
    }

    /// The client's first message with the current token, or why there is
    /// none to send.
    pub fn initial_message(&self, now: u64) -> Result<Vec<u8>, String> {
        match &self.token {
            None => Err(format!(
                "no OAUTHBEARER token: set sasl.oauthbearer.token, or supply one with set-oauthbearer-token (hosts act on the warning \"{REFRESH_DUE}\")"
            )),
            Some(Token { expires_at: Some(at), .. }) if *at <= now => Err(format!(
                "the OAUTHBEARER token (sasl.oauthbearer.token) expired at {at} ms and is not sent: supply a fresh one with set-oauthbearer-token"
            )),
            Some(t) => Ok(client_first_message(t.token.expose(), &t.extensions)),
        }
    }

    /// Why a record waiting for a connection may time out: no token, or an
    /// expired one.
    pub fn hint(&self, now: u64) -> Option<String> {
        self.initial_message(now).err()
    }

    /// When the next refresh-due warning is due.
    pub fn refresh_at(&self) -> Option<u64> {
        match &self.token {
            None if !self.missing_warned => Some(0),
            None => None,
            Some(t) => t.refresh_at,
        }
    }

    /// The refresh-due warning, once, when its time has come.
    pub fn take_refresh_due(&mut self, now: u64) -> Option<String> {
        match &mut self.token {
            None if !self.missing_warned => {
                self.missing_warned = true;
                Some(format!("{REFRESH_DUE}: no token is set (sasl.oauthbearer.token); supply one with set-oauthbearer-token"))
            }
            Some(t) if t.refresh_at.is_some_and(|at| at <= now) => {
                t.refresh_at = None;
                let at = t.expires_at.unwrap_or(0);
                Some(format!("{REFRESH_DUE}: the token expires at {at} ms; supply a new one with set-oauthbearer-token"))
            }
            _ => None,
        }
    }
}

/// `n,,^Aauth=Bearer <token>^A[key=value^A...]^A` (RFC 7628 section 3.1,
/// without an authzid; the extensions of KIP-342).
pub fn client_first_message(token: &str, extensions: &[(String, String)]) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + token.len());
    m.extend_from_slice(b"n,,\x01auth=Bearer ");
    m.extend_from_slice(token.as_bytes());
    m.push(1);
    for (k, v) in extensions {
        m.extend_from_slice(k.as_bytes());
        m.push(b'=');
        m.extend_from_slice(v.as_bytes());
        m.push(1);
    }
    m.push(1);
    m
}

/// RFC 6750's b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn check_token(token: &str) -> Result<(), ConfigError> {
    let err = |reason: String| Err(ConfigError { key: "sasl.oauthbearer.token".into(), reason });
    if token.is_empty() {
        return err("is empty".into());
    }
    let body = token.trim_end_matches('=');
    if body.is_empty() {
        return err("is not a bearer token (RFC 6750 b64token): it is all '='".into());
    }
    if let Some((i, c)) = body.char_indices().find(|(_, c)| !(c.is_ascii_alphanumeric() || "-._~+/".contains(*c))) {
        // The character's position, not the token: it is a secret.
        return err(format!(
            "is not a bearer token (RFC 6750 b64token): character {} ({:?}) is not a letter, digit, '-', '.', '_', '~', '+', '/' or a trailing '='",
            i + 1,
            if c.is_ascii_graphic() || c == ' ' { c } else { '?' }
        ));
    }
    Ok(())
}

/// KIP-342 / RFC 7628: keys of letters (not `auth`), values of printable
/// characters, spaces and tabs.
pub fn check_extensions(extensions: &[(String, String)]) -> Result<(), ConfigError> {
    let err = |reason: String| Err(ConfigError { key: "sasl.oauthbearer.extensions".into(), reason });
    for (k, v) in extensions {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphabetic()) {
            return err(format!("key {k:?} is not made of letters only"));
        }
        if k == "auth" {
            return err("key \"auth\" is reserved for the token".into());
        }
        if !v.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
            return err(format!("the value of {k:?} has a character outside printable ASCII, space and tab"));
        }
    }
    Ok(())
}

/// librdkafka's `sasl.oauthbearer.extensions`: `key=value,key=value`.
pub fn parse_extensions(s: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| ConfigError {
            key: "sasl.oauthbearer.extensions".into(),
            reason: format!("{part:?} is not key=value"),
        })?;
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    check_extensions(&out)?;
    Ok(out)
}

#[cfg(test)]
#[path = "tests/oauthbearer.rs"]
mod tests;
