//! Certificate policies and French certification authorities: what a policy OID or an
//! issuer says about a certificate (RGS level, eIDAS qualified, which provider).
//!
//! One typed table, [`AUTHORITIES`], holds the French providers whose certificates are used
//! for RGS and eIDAS signatures (ChamberSign, Certinomis/Docaposte, Certeurope, IN Groupe,
//! Universign, Certigna…), each with the policy arcs it publishes, the organization names its
//! CA certificates carry, and where that comes from. It is the only list: the host (through
//! [`crate::x509::summarize`]), the WASM core (LiberSign's `verifiedWith`, the consent window,
//! the « Vérifier une signature » page) all read it. Administrators add entries with
//! [`PolicyHint`]s (the host's `policies` configuration); a hint wins over the table.
//!
//! What is claimed, and from what:
//! - **RGS level**: a hint's level; else a level written in a table entry (only where the
//!   provider's published policy ties an OID to a level); else the level the issuing CA's own
//!   name states (`… RGS**`, `… 3 ETOILES`: French RGS CAs are named after the level they
//!   were qualified for, [`rgs_level_in_name`]). Nothing is guessed from a provider alone.
//! - **`RGS`** (LiberSign's `verifiedWith`): an RGS level is known, or the certificate is
//!   under the arc of a provider of the table that is on the French list of RGS-qualified
//!   providers.
//! - **`EIDAS`**: QcCompliance in the certificate's QCStatements, or an ETSI qualified
//!   certificate policy (QCP-n, QCP-n-qscd…).

/// A policy the caller knows about (from configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyHint {
    /// The policy OID, or an arc: a hint for `1.2.250.1.86` covers `1.2.250.1.86.x.y`.
    pub oid: String,
    pub name: Option<String>,
    /// `*`, `**` or `***`.
    pub rgs_level: Option<String>,
}

/// An RGS level (Référentiel Général de Sécurité v2, ANSSI): `*`, `**` or `***`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RgsLevel {
    One,
    Two,
    Three,
}

impl RgsLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::One => "*",
            Self::Two => "**",
            Self::Three => "***",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "*" | "1" => Some(Self::One),
            "**" | "2" => Some(Self::Two),
            "***" | "3" => Some(Self::Three),
            _ => None,
        }
    }
}

/// A policy arc of a provider, with the RGS level its published policy gives it, if any.
#[derive(Clone, Copy, Debug)]
pub struct PolicyArc {
    pub oid: &'static str,
    pub name: &'static str,
    pub rgs_level: Option<RgsLevel>,
}

/// A French certification service provider.
#[derive(Clone, Copy, Debug)]
pub struct Authority {
    /// The provider, as people know it.
    pub name: &'static str,
    /// Its policy arcs (the most specific match wins).
    pub arcs: &'static [PolicyArc],
    /// Organization (`O=`) values its CA certificates carry, compared case-insensitively.
    pub organizations: &'static [&'static str],
    /// On the French list of RGS-qualified providers (ANSSI, « prestataires qualifiés »).
    pub rgs_qualified: bool,
    /// On the French eIDAS trusted list (ANSSI, TSL `FR`) for qualified certificates for
    /// electronic signatures.
    pub eidas_qualified: bool,
    /// SHA-256 fingerprints (lowercase hex) of its root certificates, trust anchors for the
    /// « Vérifier une signature » page. Only fingerprints checked against the provider's own
    /// publication go here; until then a person adds the CA certificate on the page.
    pub roots: &'static [&'static str],
    /// Where the entry comes from.
    pub source: &'static str,
}

const fn arc(oid: &'static str, name: &'static str) -> PolicyArc {
    PolicyArc { oid, name, rgs_level: None }
}

/// ETSI policies (EN 319 411-1 §5.3, EN 319 411-2 §5.3): qualified or not, never RGS.
const ETSI: &[PolicyArc] = &[
    arc("0.4.0.194112.1.0", "ETSI QCP-n (qualified, natural person)"),
    arc("0.4.0.194112.1.1", "ETSI QCP-l (qualified, legal person)"),
    arc("0.4.0.194112.1.2", "ETSI QCP-n-qscd (qualified, natural person, QSCD)"),
    arc("0.4.0.194112.1.3", "ETSI QCP-l-qscd (qualified, legal person, QSCD)"),
    arc("0.4.0.194112.1.4", "ETSI QCP-w (qualified website)"),
    arc("0.4.0.2042.1.1", "ETSI NCP"),
    arc("0.4.0.2042.1.2", "ETSI NCP+ (secure device)"),
    arc("0.4.0.2042.1.3", "ETSI LCP"),
];

/// ETSI EN 319 411-2 §5.3: the policies of EU qualified certificates.
const QUALIFIED_POLICIES: &[&str] =
    &["0.4.0.194112.1.0", "0.4.0.194112.1.1", "0.4.0.194112.1.2", "0.4.0.194112.1.3", "0.4.0.194112.1.4"];

/// The providers. Arcs are the providers' registered arcs under `1.2.250.1` (AFNOR's French
/// organizations arc, ISO 3166 `250` = France), as printed in their certification policies
/// (PC, « Identification du document »); organizations are the `O=` of their CA
/// certificates. Keep each `source` true when editing; `docs/ARCHITECTURE.md` says how to add
/// one.
pub const AUTHORITIES: &[Authority] = &[
    Authority {
        name: "ChamberSign France",
        arcs: &[arc("1.2.250.1.96", "ChamberSign France")],
        organizations: &["ChamberSign France", "ChamberSign"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "ChamberSign France certification policies « AC ChamberSign France » (PC and CGU Initio RGS*, Audacio RGS**, Probatio RGS***, chambersign.fr); ANSSI list of qualified providers. The arc itself not yet confirmed from a public text (December 2026: the CGU « Audacio identité ** », POL.COM.09.00, found republished, without the OID in what could be read)",
    },
    Authority {
        name: "Certinomis (Docaposte)",
        arcs: &[arc("1.2.250.1.86", "Certinomis")],
        organizations: &["Certinomis", "Docaposte", "DOCAPOSTE - CERTINOMIS"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "Certinomis (groupe La Poste, Docaposte) certification policies « AC Certinomis » (certinomis.fr/documents-et-liens); ANSSI list of qualified providers",
    },
    Authority {
        name: "Certeurope",
        arcs: &[arc("1.2.250.1.105", "Certeurope")],
        organizations: &["CERTEUROPE", "Certeurope"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "Certeurope certification policies « CERTEUROPE ADVANCED CA V3/V4 » (certeurope.fr, documents publics): the arc confirmed by « CertEurope eID Root » CP v1.0 of 2016-11-14, « Identification (OID) : 1.2.250.1.105.22.1.0 », and « Certeurope Root CA 3 » CP of 2015-04-10, OID 1.2.250.1.105.8.1.1.0 (republished on pdfslide.net and pdfprof.com); ANSSI list of qualified providers",
    },
    Authority {
        name: "IN Groupe (Imprimerie Nationale)",
        arcs: &[arc("1.2.250.1.295", "IN Groupe")],
        organizations: &["IN Groupe", "IMPRIMERIE NATIONALE", "Imprimerie Nationale"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "IN Groupe (ex-Imprimerie Nationale) certification policies (ingroupe.com, PKI documents); ANSSI list of qualified providers",
    },
    Authority {
        name: "Certigna (Dhimyotis)",
        arcs: &[arc("1.2.250.1.177", "Certigna")],
        organizations: &["Dhimyotis", "Certigna"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "Certigna (Dhimyotis) certification policies (certigna.com, documents); ANSSI list of qualified providers",
    },
    Authority {
        name: "Universign",
        arcs: &[arc("1.3.6.1.4.1.15819", "Universign")],
        organizations: &["Universign", "Cryptolog International"],
        rgs_qualified: true,
        eidas_qualified: true,
        roots: &[],
        source: "Universign (Cryptolog International, IANA enterprise number 15819) certification policies (universign.com, documents): the arc confirmed as Universign's by its time-stamping policy 1.3.6.1.4.1.15819.5.2.2 in tokens of « Universign Timestamping Unit 012, O=Cryptolog International » (quoted in elabftw/elabftw src/classes/TimestampResponse.php); ANSSI list of qualified providers",
    },
];

fn covers(arc: &str, oid: &str) -> bool {
    oid == arc || (oid.starts_with(arc) && oid.as_bytes().get(arc.len()) == Some(&b'.'))
}

/// The most specific built-in arc covering `oid`, with its provider (`None` for ETSI's).
fn builtin_arc(oid: &str) -> Option<(Option<&'static Authority>, &'static PolicyArc)> {
    let etsi = ETSI.iter().map(|a| (None, a));
    let providers = AUTHORITIES.iter().flat_map(|auth| auth.arcs.iter().map(move |a| (Some(auth), a)));
    etsi.chain(providers).filter(|(_, a)| covers(a.oid, oid)).max_by_key(|(_, a)| a.oid.len())
}

/// The most specific name known for `oid`: a configured hint first, then the built-in table.
pub fn name_of(oid: &str, hints: &[PolicyHint]) -> Option<String> {
    let hinted = hints.iter().filter(|h| covers(&h.oid, oid)).max_by_key(|h| h.oid.len()).and_then(|h| h.name.clone());
    hinted.or_else(|| builtin_arc(oid).map(|(_, a)| a.name.to_owned()))
}

/// The RGS level of `oid`: a configured hint first, then a level pinned in the table.
pub fn rgs_level_of(oid: &str, hints: &[PolicyHint]) -> Option<String> {
    let hinted = hints
        .iter()
        .filter(|h| covers(&h.oid, oid) && h.rgs_level.is_some())
        .max_by_key(|h| h.oid.len())
        .and_then(|h| h.rgs_level.clone());
    hinted.or_else(|| builtin_arc(oid).and_then(|(_, a)| a.rgs_level).map(|l| l.as_str().to_owned()))
}

/// The RGS level an issuing CA's name states: French RGS CAs carry the level they were
/// qualified for in their common name (« AC … RGS** », « … 3 ETOILES », « … 1 étoile »).
pub fn rgs_level_in_name(name: &str) -> Option<RgsLevel> {
    let upper = name.to_uppercase();
    if let Some(i) = upper.find("RGS") {
        let stars = upper[i + 3..].trim_start().chars().take_while(|c| *c == '*').count();
        return match stars {
            1 => Some(RgsLevel::One),
            2 => Some(RgsLevel::Two),
            3 => Some(RgsLevel::Three),
            _ => None,
        };
    }
    for (words, level) in [
        (["3 ETOILES", "3 ÉTOILES", "TROIS ETOILES"], RgsLevel::Three),
        (["2 ETOILES", "2 ÉTOILES", "DEUX ETOILES"], RgsLevel::Two),
        (["1 ETOILE", "1 ÉTOILE", "UNE ETOILE"], RgsLevel::One),
    ] {
        if words.iter().any(|w| upper.contains(w)) {
            return Some(level);
        }
    }
    None
}

/// The provider of a certificate: by the arc of one of its policies, else by its issuer's
/// organization.
pub fn authority_of<'a>(
    policy_oids: impl IntoIterator<Item = &'a str>,
    issuer_organization: Option<&str>,
) -> Option<&'static Authority> {
    let by_policy = policy_oids.into_iter().find_map(|oid| builtin_arc(oid).and_then(|(auth, _)| auth));
    by_policy.or_else(|| {
        let org = issuer_organization?.trim();
        AUTHORITIES.iter().find(|a| a.organizations.iter().any(|o| o.eq_ignore_ascii_case(org)))
    })
}

/// Whether a certificate (by SHA-256 fingerprint) is a built-in root of [`AUTHORITIES`].
pub fn is_builtin_root(fingerprint: &str) -> bool {
    AUTHORITIES.iter().any(|a| a.roots.iter().any(|r| r.eq_ignore_ascii_case(fingerprint)))
}

/// Whether `oid` is an ETSI qualified certificate policy (EN 319 411-2).
pub fn is_qualified_policy(oid: &str) -> bool {
    QUALIFIED_POLICIES.contains(&oid)
}

/// LiberSign's `verifiedWith` for a certificate: `RGS` and `EIDAS` as the module docs say.
pub fn verified_with(info: &paraphe_protocol::cert::CertificateInfo) -> Vec<&'static str> {
    let mut out = Vec::new();
    let provider = authority_of(info.policies.iter().map(|p| p.oid.as_str()), None);
    if info.rgs_level.is_some() || provider.is_some_and(|a| a.rgs_qualified) {
        out.push("RGS");
    }
    if info.qualified.qc_compliance || info.policies.iter().any(|p| is_qualified_policy(&p.oid)) {
        out.push("EIDAS");
    }
    out
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

    #[test]
    fn levels_in_ca_names() {
        assert_eq!(rgs_level_in_name("AC ChamberSign France - RGS**"), Some(RgsLevel::Two));
        assert_eq!(rgs_level_in_name("Certinomis - AC 3 étoiles"), Some(RgsLevel::Three));
        assert_eq!(rgs_level_in_name("AC SG TS 2 ETOILES"), Some(RgsLevel::Two));
        assert_eq!(rgs_level_in_name("KEYNECTIS SSL RGS *"), Some(RgsLevel::One));
        assert_eq!(rgs_level_in_name("CERTEUROPE ADVANCED CA V4"), None);
        assert_eq!(rgs_level_in_name("Progress Software"), None);
    }

    #[test]
    fn providers_by_arc_or_organization() {
        let a = authority_of(["1.2.250.1.96.1.2.3"], None).expect("ChamberSign");
        assert_eq!(a.name, "ChamberSign France");
        assert_eq!(authority_of(["1.2.3.4"], Some("certeurope")).map(|a| a.name), Some("Certeurope"));
        assert!(authority_of(["1.2.3.4"], Some("Example CA")).is_none());
        assert!(authority_of(["0.4.0.194112.1.2"], None).is_none(), "ETSI policies are nobody's");
        for a in AUTHORITIES {
            assert!(!a.source.is_empty() && !a.arcs.is_empty() && !a.organizations.is_empty(), "{}", a.name);
        }
    }

    #[test]
    fn badges_with_no_configuration() {
        use paraphe_protocol::cert::{CertificateInfo, PolicyInfo, QualifiedStatus};
        let with = |oids: &[&str], qc: bool, level: Option<&str>| CertificateInfo {
            policies: oids.iter().map(|o| PolicyInfo { oid: (*o).to_owned(), name: None }).collect(),
            qualified: QualifiedStatus { qc_compliance: qc, ..QualifiedStatus::default() },
            rgs_level: level.map(str::to_owned),
            ..CertificateInfo::default()
        };
        for arc in
            ["1.2.250.1.96.1.7", "1.2.250.1.86.2", "1.2.250.1.105.12.1", "1.2.250.1.295.1", "1.3.6.1.4.1.15819.5"]
        {
            assert_eq!(verified_with(&with(&[arc], false, None)), ["RGS"], "{arc}");
        }
        assert_eq!(verified_with(&with(&["0.4.0.194112.1.2"], false, None)), ["EIDAS"]);
        assert_eq!(verified_with(&with(&["1.2.3"], true, Some("**"))), ["RGS", "EIDAS"]);
        assert!(verified_with(&with(&["1.3.6.1.4.1.99999.1"], false, None)).is_empty());
        assert!(verified_with(&with(&[], false, None)).is_empty());
    }
}
