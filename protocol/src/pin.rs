//! The PIN as a secret type: zeroized on drop, never printed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use zeroize::Zeroizing;

/// A user PIN on its way to the token. Its bytes are wiped when it is dropped; `Debug`
/// prints a placeholder, and there is no `Display`. Longest accepted: 64 bytes, which
/// covers every PKCS#11 token we know (most allow 4–16).
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub const MAX_LEN: usize = 64;

    /// Takes ownership of `value`, so no copy is left behind.
    pub fn new(value: String) -> Result<Self, &'static str> {
        let pin = Self(Zeroizing::new(value));
        if pin.0.is_empty() {
            return Err("the PIN is empty");
        }
        if pin.0.len() > Self::MAX_LEN {
            return Err("the PIN is longer than 64 bytes");
        }
        if pin.0.chars().any(char::is_control) {
            return Err("the PIN contains control characters");
        }
        Ok(pin)
    }

    /// The secret itself, for the one call that hands it to the token.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl Serialize for Pin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        Pin::new(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_pin() {
        let pin = Pin::new("1234".into()).expect("valid");
        assert!(!format!("{pin:?}").contains("1234"));
    }

    #[test]
    fn refuses_bad_pins() {
        assert!(Pin::new(String::new()).is_err());
        assert!(Pin::new("1\n2".into()).is_err());
        assert!(Pin::new("9".repeat(65)).is_err());
        assert!(serde_json::from_str::<Pin>("\"\"").is_err());
    }
}
