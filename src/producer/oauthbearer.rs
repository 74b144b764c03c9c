//! The producer's side of SASL/OAUTHBEARER: the host sets (and refreshes)
//! the token; the producer says when a refresh is due (see
//! [`crate::oauthbearer`]).

use alloc::string::String;

use super::{Output, Producer};
use crate::config::{Config, ConfigError};
use crate::oauthbearer::TokenState;
use crate::sasl::Mechanism;

/// The token state for a configuration that authenticates with
/// OAUTHBEARER; `None` otherwise.
pub(super) fn configured(config: &Config) -> Option<TokenState> {
    let oauth = config.security_protocol.uses_sasl() && config.sasl_mechanism == Some(Mechanism::OauthBearer);
    oauth.then(|| TokenState::configured(config.sasl_oauthbearer_token.as_ref(), &config.oauthbearer_extensions))
}

impl Producer {
    /// Sets the OAUTHBEARER token new connections authenticate with (those
    /// already authenticated carry on), valid until `lifetime_ms` (the
    /// wall-clock time it expires, ms since the epoch) with the SASL
    /// `extensions` (KIP-342). At 80% of its lifetime the producer emits a
    /// warning starting with [`crate::oauthbearer::REFRESH_DUE`]; once it
    /// expires it is not sent. Errors name the setting at fault: a token
    /// that is not an RFC 6750 b64token, or expired already; an extension
    /// with a bad key or value; a producer not configured for OAUTHBEARER.
    pub fn set_oauthbearer_token(&mut self, token: &str, lifetime_ms: u64, extensions: &[(String, String)], now: u64) -> Result<(), ConfigError> {
        let Some(state) = self.oauth.as_mut() else {
            return Err(ConfigError {
                key: "sasl.mechanism".into(),
                reason: "is not OAUTHBEARER (with security.protocol SASL_PLAINTEXT or SASL_SSL): there is no token to set".into(),
            });
        };
        state.set(token, lifetime_ms, extensions, now)?;
        // Connections waiting out a backoff for want of a token may try again.
        self.dirty = true;
        Ok(())
    }

    /// Emits the refresh-due warning when its time has come.
    pub(super) fn oauthbearer_refresh(&mut self, now: u64) {
        if let Some(warning) = self.oauth.as_mut().and_then(|o| o.take_refresh_due(now)) {
            self.outputs.push_back(Output::Warning(warning));
        }
    }
}
