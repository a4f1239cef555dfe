//! Which origins may ask for a signature.
//!
//! The origin always comes from the browser (the sender of the runtime message), never
//! from the page. Only `https:` is accepted, because a signature binds the person to what
//! the page shows, and a page served in clear can be rewritten on the way. The one
//! exception, for portal developers, is plain `http:` on the loopback interface when the
//! extension's `allowLoopbackHttp` option is on.

use crate::error::PageError;

/// Hosts that never leave the machine.
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// Checks a serialized origin (`scheme://host[:port]`, as `URL.origin` gives it).
pub fn check(origin: &str, allow_loopback_http: bool) -> Result<(), PageError> {
    let (scheme, rest) =
        origin.split_once("://").ok_or_else(|| PageError::origin(format!("not an origin: {origin:?}")))?;
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return Err(PageError::origin(format!("not an origin: {origin:?}")));
    }
    match scheme {
        "https" => Ok(()),
        "http" if allow_loopback_http && LOOPBACK_HOSTS.contains(&host_of(rest)) => Ok(()),
        "http" if LOOPBACK_HOSTS.contains(&host_of(rest)) => {
            Err(PageError::origin("http on loopback needs the developer option allowLoopbackHttp"))
        }
        _ => Err(PageError::origin(format!("{origin} is not an https origin"))),
    }
}

/// `host[:port]` → `host`, keeping IPv6 brackets.
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_unless_loopback_is_allowed() {
        assert!(check("https://portail.example.fr", false).is_ok());
        assert!(check("https://portail.example.fr:8443", false).is_ok());
        assert!(check("http://portail.example.fr", true).is_err());
        assert!(check("http://127.0.0.1:8080", false).is_err());
        assert!(check("http://127.0.0.1:8080", true).is_ok());
        assert!(check("http://localhost", true).is_ok());
        assert!(check("http://[::1]:3000", true).is_ok());
        assert!(check("http://localhost.evil.test", true).is_err());
        assert!(check("http://127.0.0.1.evil.test", true).is_err());
        assert!(check("file://", true).is_err());
        assert!(check("null", true).is_err());
        assert!(check("https://a/b", false).is_err());
        assert!(check("chrome-extension://abc", true).is_err());
    }

    #[test]
    fn error_code_is_stable() {
        let e = check("http://portal.test", true).err();
        assert_eq!(e.map(|e| e.code), Some("ORIGIN_NOT_ALLOWED"));
    }
}
