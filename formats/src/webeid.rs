//! The Web eID authentication token, format `web-eid:1.0` (web-eid-system-architecture-doc,
//! "Authentication token format"): what the card signs and what the token holds, so that
//! existing Web eID validators (Java, .NET, PHP) accept Paraphe's tokens.
//!
//! The card signs `H(H(origin) || H(challengeNonce))`, where `H` is the hash of the token's
//! algorithm and `origin` and `challengeNonce` are their UTF-8 strings: hashing each field
//! before concatenating keeps them apart. The token itself is
//! [`paraphe_protocol::command::AuthToken`].

use crate::hash::digest as hash;
use paraphe_protocol::HashAlgorithm;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "web-eid:1.0";
/// Length bounds of the server's challenge nonce (base64 of at least 32 random bytes).
pub const NONCE_MIN: usize = 44;
pub const NONCE_MAX: usize = 128;

/// JWS algorithm names (RFC 7518 §3.1) a token can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    ES256,
    ES384,
    ES512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
}

impl Algorithm {
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::ES256 | Self::RS256 | Self::PS256 => HashAlgorithm::Sha256,
            Self::ES384 | Self::RS384 | Self::PS384 => HashAlgorithm::Sha384,
            Self::ES512 | Self::RS512 | Self::PS512 => HashAlgorithm::Sha512,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
        }
    }

    /// What Web eID picks for a key: ECDSA with the hash of the curve's size, RS256 for RSA.
    pub fn for_key(key_type: &str, curve: Option<&str>) -> Option<Self> {
        match (key_type, curve) {
            ("EC", Some("P-256")) => Some(Self::ES256),
            ("EC", Some("P-384")) => Some(Self::ES384),
            ("EC", Some("P-521")) => Some(Self::ES512),
            ("RSA", _) => Some(Self::RS256),
            _ => None,
        }
    }
}

/// `H(origin) || H(nonce)`: the message the JWS-style algorithm signs.
pub fn signed_message(alg: Algorithm, origin: &str, nonce: &str) -> Vec<u8> {
    let h = alg.hash();
    [hash(h, origin.as_bytes()), hash(h, nonce.as_bytes())].concat()
}

/// The digest the card signs: `H(H(origin) || H(nonce))`.
pub fn digest_to_sign(alg: Algorithm, origin: &str, nonce: &str) -> Vec<u8> {
    hash(alg.hash(), &signed_message(alg, origin, nonce))
}

/// Checks a challenge nonce's shape: 44–128 characters of base64.
pub fn check_nonce(nonce: &str) -> Result<(), &'static str> {
    if !(NONCE_MIN..=NONCE_MAX).contains(&nonce.len()) {
        return Err("the challenge nonce must be 44 to 128 characters long");
    }
    let b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    if !nonce.chars().all(b64) {
        return Err("the challenge nonce must be base64");
    }
    Ok(())
}

/// Checks an origin's shape: `https://host[:port]` (or `http://` on a loopback host, for
/// developers), no path, query or fragment, at most 255 characters.
pub fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin.len() > 255 {
        return Err("the origin is longer than 255 characters");
    }
    let (rest, https) = if let Some(r) = origin.strip_prefix("https://") {
        (r, true)
    } else if let Some(r) = origin.strip_prefix("http://") {
        (r, false)
    } else {
        return Err("only https origins are allowed");
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '\\']) || rest.chars().any(char::is_control) {
        return Err("an origin is scheme://host[:port], nothing more");
    }
    let host = host_of(rest).ok_or("an origin is scheme://host[:port], nothing more")?;
    if !https && !is_loopback(host) {
        return Err("only https origins are allowed (http only on loopback)");
    }
    Ok(())
}

/// The host of `host[:port]` (an IPv6 literal keeps its brackets); `None` when the port is
/// not 1–5 digits or the host is empty.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let (host, rest) = authority.split_at(end);
        (host, if rest.is_empty() { None } else { Some(rest.strip_prefix(':')?) })
    } else {
        // A second ':' ends up in the port, which then is not digits.
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| !(1..=5).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    (!host.is_empty()).then_some(host)
}

/// Loopback, exactly: `localhost`, an IPv4 literal in 127.0.0.0/8, or `[::1]`. Not
/// `127.attacker.example` nor `localhost.attacker.example`, which anyone can point anywhere.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.octets()[0] == 127)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha384};

    #[test]
    fn digest_is_hash_of_hashes() {
        let origin = "https://ria.ee";
        let nonce = "12345678123456781234567812345678912356789123";
        let msg = signed_message(Algorithm::ES384, origin, nonce);
        assert_eq!(msg.len(), 96);
        assert_eq!(&msg[..48], Sha384::digest(origin.as_bytes()).as_slice());
        assert_eq!(digest_to_sign(Algorithm::ES384, origin, nonce), Sha384::digest(&msg).to_vec());
        assert_eq!(digest_to_sign(Algorithm::RS256, origin, nonce).len(), 32);
    }

    #[test]
    fn shapes() {
        assert!(check_nonce(&"A".repeat(44)).is_ok());
        assert!(check_nonce(&"A".repeat(43)).is_err());
        assert!(check_nonce(&"A".repeat(129)).is_err());
        assert!(check_nonce(&format!("{}!", "A".repeat(44))).is_err());
        assert!(check_origin("https://portail.example.fr").is_ok());
        assert!(check_origin("https://portail.example.fr:8443").is_ok());
        assert!(check_origin("http://127.0.0.1:8080").is_ok());
        assert!(check_origin("http://localhost").is_ok());
        assert!(check_origin("http://portail.example.fr").is_err());
        assert!(check_origin("https://portail.example.fr/login").is_err());
        assert!(check_origin("https://a@b").is_err());
        assert!(check_origin("ftp://x").is_err());
        assert!(check_origin("https://").is_err());
        assert!(check_origin("http://[::1]:8080").is_ok());
        assert!(check_origin("http://[::1]").is_ok());
        assert!(check_origin("http://127.255.0.1").is_ok());
        assert!(check_origin("http://LOCALHOST:3000").is_ok());
        assert!(check_origin("https://[2001:db8::1]:443").is_ok());
    }

    #[test]
    fn loopback_is_exactly_loopback() {
        for origin in [
            "http://127.attacker.example",
            "http://127.0.0.1.attacker.example",
            "http://localhost.attacker.example",
            "http://127.0.0.1.nip.io:8080",
            "http://[::1].example",
            "http://[::2]",
            "http://128.0.0.1",
            "http://127.0.0.01",
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://127.0.0.1:",
            "http://127.0.0.1:80a",
            "http://127.0.0.1:123456",
            "http://:8080",
        ] {
            assert!(check_origin(origin).is_err(), "{origin} accepted");
        }
        assert_eq!(Algorithm::for_key("EC", Some("P-384")), Some(Algorithm::ES384));
        assert_eq!(Algorithm::for_key("RSA", None), Some(Algorithm::RS256));
    }
}
