//! A small XML element tree written in canonical form (Exclusive XML Canonicalization 1.0,
//! W3C Recommendation 18 July 2002, over Canonical XML 1.0 §2.3 and §4).
//!
//! The signature is built here rather than parsed, so its canonical form can be written
//! directly: start and end tags for every element (no `<a/>`), attributes sorted, C14N
//! escaping, no XML declaration, no whitespace between elements. What exclusive
//! canonicalisation adds is where namespace declarations go: an element declares the
//! namespace of its own prefix when no element above it *in the canonicalised subtree*
//! already did (“visibly utilized”, Exc-C14N §3). So the same SignedInfo serialises with
//! `xmlns:ds` when it is canonicalised on its own (what is hashed) and without it inside
//! the Signature that declares it (what the document holds): [`Element::canonical`] and
//! [`Element::write`] differ only in what is taken as already declared.

/// `ds:` XML-DSig core (XML Signature Syntax and Processing 1.1 §4).
pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// `xad:` XAdES v1.1.1 (ETSI TS 101 903 v1.1.1 §4), the version the PES V2 schema imports.
pub(crate) const XADES_NS: &str = "http://uri.etsi.org/01903/v1.1.1#";

/// `xades:` XAdES v1.3.2 namespace as ETSI EN 319 132-1 uses it (the detached « jeton »).
pub(crate) const XADES_132_NS: &str = "http://uri.etsi.org/01903/v1.3.2#";

fn namespace_of(prefix: &str) -> Option<&'static str> {
    match prefix {
        "ds" => Some(DSIG_NS),
        "xad" => Some(XADES_NS),
        "xades" => Some(XADES_132_NS),
        _ => None,
    }
}

/// An element: a qualified name with one of the prefixes above, unqualified attributes, and
/// children that are all elements or a single text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Element {
    name: &'static str,
    attributes: Vec<(&'static str, String)>,
    children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn new(name: &'static str) -> Self {
        Self { name, attributes: Vec::new(), children: Vec::new() }
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((name, value.into()));
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Adds `child` when there is one.
    pub fn child_opt(self, child: Option<Element>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// The element alone, canonicalised as the apex of a document subset: what a
    /// `Reference` with an exc-c14n transform, or `CanonicalizationMethod`, hashes.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write(&[], &mut out);
        out
    }

    /// Writes the element inside parents that already declared the `declared` prefixes.
    pub fn write(&self, declared: &[&'static str], out: &mut String) {
        let prefix: Option<&'static str> = self.name.split_once(':').map(|(p, _)| p);
        let mut in_scope = declared.to_vec();
        out.push('<');
        out.push_str(self.name);
        // Namespace declarations first (only ever one here: the element's own prefix),
        // then attributes sorted by name: all are unqualified, so their namespace URI is
        // empty and the name decides (Canonical XML §2.2, Document Order).
        if let Some((p, uri)) = prefix.filter(|p| !declared.contains(p)).and_then(|p| Some((p, namespace_of(p)?))) {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
            escape_attribute(uri, out);
            out.push('"');
            in_scope.push(p);
        }
        let mut attributes: Vec<&(&str, String)> = self.attributes.iter().collect();
        attributes.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_attribute(value, out);
            out.push('"');
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(e) => e.write(&in_scope, out),
                Node::Text(t) => escape_text(t, out),
            }
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

/// Text node escaping (Canonical XML §2.3): `&`, `<`, `>` and carriage return.
pub(crate) fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Attribute value escaping (Canonical XML §2.3): `&`, `<`, `"`, tab, line feed and carriage
/// return; a parser would normalise the last three to spaces otherwise.
pub(crate) fn escape_attribute(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Whether `c` may appear in an XML 1.0 document at all, even as a character reference
/// (XML 1.0 §2.2 `Char`).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn text(t: &str) -> String {
        let mut out = String::new();
        escape_text(t, &mut out);
        out
    }

    fn attr(v: &str) -> String {
        let mut out = String::new();
        escape_attribute(v, &mut out);
        out
    }

    #[test]
    fn text_escaping() {
        assert_eq!(text("a & b < c > d\r\n\t\"'é"), "a &amp; b &lt; c &gt; d&#xD;\n\t\"'é");
    }

    #[test]
    fn attribute_escaping() {
        assert_eq!(attr("a & b < c > d \" ' \t\n\r é"), "a &amp; b &lt; c > d &quot; ' &#x9;&#xA;&#xD; é");
    }

    #[test]
    fn no_empty_element_tags_and_sorted_attributes() {
        let e = Element::new("ds:Reference").attr("URI", "#x").attr("Type", "t").child(Element::new("ds:Transforms"));
        assert_eq!(
            e.canonical(),
            r##"<ds:Reference xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="t" URI="#x"><ds:Transforms></ds:Transforms></ds:Reference>"##
        );
    }

    #[test]
    fn namespaces_declared_where_first_used() {
        let e = Element::new("xad:A").child(Element::new("ds:B").text("1")).child(Element::new("ds:C").text("2"));
        // Siblings each declare ds: their parent did not (Exc-C14N §3).
        assert_eq!(
            e.canonical(),
            r#"<xad:A xmlns:xad="http://uri.etsi.org/01903/v1.1.1#"><ds:B xmlns:ds="http://www.w3.org/2000/09/xmldsig#">1</ds:B><ds:C xmlns:ds="http://www.w3.org/2000/09/xmldsig#">2</ds:C></xad:A>"#
        );
        // Inside a parent that declared ds, none does.
        let mut out = String::new();
        e.write(&["ds", "xad"], &mut out);
        assert_eq!(out, "<xad:A><ds:B>1</ds:B><ds:C>2</ds:C></xad:A>");
    }

    #[test]
    fn xml_chars() {
        assert!(is_xml_char('\t') && is_xml_char('é') && is_xml_char('\u{1F600}'));
        assert!(!is_xml_char('\u{0}') && !is_xml_char('\u{1B}') && !is_xml_char('\u{FFFE}'));
    }
}
