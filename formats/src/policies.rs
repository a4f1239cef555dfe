//! Certificate policy OIDs we can name, and where an RGS level comes from.
//!
//! Only OIDs from published standards are built in. RGS levels (`*`, `**`, `***`) are
//! per-CA policies: a CA's policy OID says which level it was audited for, and no public
//! machine-readable list of them is bundled here, so levels come from configuration
//! ([`PolicyHint`]s the host reads from its config file) rather than being guessed.

/// A policy the caller knows about (from configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyHint {
    /// The policy OID, or an arc: a hint for `1.2.250.1.86` covers `1.2.250.1.86.x.y`.
    pub oid: String,
    pub name: Option<String>,
    /// `*`, `**` or `***`.
    pub rgs_level: Option<String>,
}

/// Standard policies (ETSI EN 319 411-1 §5.3 and EN 319 411-2 §5.3) and French CA arcs
/// (`../shared/DOMAIN.md`).
const BUILTIN: &[(&str, &str)] = &[
    ("0.4.0.194112.1.0", "ETSI QCP-n (qualified, natural person)"),
    ("0.4.0.194112.1.1", "ETSI QCP-l (qualified, legal person)"),
    ("0.4.0.194112.1.2", "ETSI QCP-n-qscd (qualified, natural person, QSCD)"),
    ("0.4.0.194112.1.3", "ETSI QCP-l-qscd (qualified, legal person, QSCD)"),
    ("0.4.0.194112.1.4", "ETSI QCP-w (qualified website)"),
    ("0.4.0.2042.1.1", "ETSI NCP"),
    ("0.4.0.2042.1.2", "ETSI NCP+ (secure device)"),
    ("0.4.0.2042.1.3", "ETSI LCP"),
    ("1.2.250.1.177", "Certigna"),
    ("1.2.250.1.86", "Certinomis"),
    ("1.2.250.1.295", "IN Groupe"),
];

fn covers(arc: &str, oid: &str) -> bool {
    oid == arc || (oid.starts_with(arc) && oid.as_bytes().get(arc.len()) == Some(&b'.'))
}

/// The most specific name known for `oid`: a configured hint first, then the built-in table.
pub fn name_of(oid: &str, hints: &[PolicyHint]) -> Option<String> {
    let hinted = hints.iter().filter(|h| covers(&h.oid, oid)).max_by_key(|h| h.oid.len()).and_then(|h| h.name.clone());
    hinted.or_else(|| {
        BUILTIN
            .iter()
            .filter(|(arc, _)| covers(arc, oid))
            .max_by_key(|(arc, _)| arc.len())
            .map(|(_, name)| (*name).to_owned())
    })
}

/// The RGS level configured for `oid`, if any.
pub fn rgs_level_of(oid: &str, hints: &[PolicyHint]) -> Option<String> {
    hints
        .iter()
        .filter(|h| covers(&h.oid, oid) && h.rgs_level.is_some())
        .max_by_key(|h| h.oid.len())
        .and_then(|h| h.rgs_level.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arcs_match_whole_components() {
        assert!(covers("1.2.250.1.86", "1.2.250.1.86.2.1"));
        assert!(!covers("1.2.250.1.86", "1.2.250.1.861"));
        assert_eq!(name_of("1.2.250.1.86.4", &[]).as_deref(), Some("Certinomis"));
        let hints = [PolicyHint {
            oid: "1.2.250.1.86.4".into(),
            name: Some("Certinomis signature".into()),
            rgs_level: Some("**".into()),
        }];
        assert_eq!(name_of("1.2.250.1.86.4.1", &hints).as_deref(), Some("Certinomis signature"));
        assert_eq!(rgs_level_of("1.2.250.1.86.4.1", &hints).as_deref(), Some("**"));
        assert_eq!(rgs_level_of("1.2.250.1.86.5", &hints), None);
    }
}
