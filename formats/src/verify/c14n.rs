//! XML canonicalisation of parsed subtrees, for checking XML signatures: Canonical XML 1.0
//! (inclusive, W3C REC-xml-c14n-20010315) and Exclusive XML Canonicalization 1.0 (W3C
//! xml-exc-c14n, with its `InclusiveNamespaces PrefixList`), with or without comments.
//!
//! The input is a [`roxmltree`] tree: the parser has already done what C14N asks of it
//! (line ends normalised, attribute values normalised, character and predefined entity
//! references replaced, CDATA sections merged into text; no DTD is accepted at all, so no
//! default attributes and no entity expansion). roxmltree keeps no prefixes, so an element's or
//! an attribute's prefix is read from its qualified name in the source text.
//!
//! The document subsets are the ones XML-DSig references make: a whole element subtree
//! (`URI="#id"`, SignedInfo), or the whole document (`URI=""`), less one subtree (the
//! enveloped-signature transform). The walk is iterative, so a deeply nested input cannot
//! exhaust the stack.

use crate::xades::xml::{escape_attribute, escape_text};
use roxmltree::{Node, NodeId, NodeType};

pub(crate) const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub(crate) const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub(crate) const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// How to canonicalise.
#[derive(Debug, Clone, Default)]
pub(crate) struct Method {
    pub exclusive: bool,
    pub comments: bool,
    /// Exclusive C14N's InclusiveNamespaces PrefixList (`""` for `#default`).
    pub inclusive_prefixes: Vec<String>,
}

impl Method {
    /// The method an `Algorithm` URI names, if it is a supported canonicalisation.
    pub(crate) fn from_uri(uri: &str) -> Option<Self> {
        let (exclusive, comments) = match uri {
            C14N => (false, false),
            C14N_COMMENTS => (false, true),
            EXC_C14N => (true, false),
            EXC_C14N_COMMENTS => (true, true),
            _ => return None,
        };
        Some(Self { exclusive, comments, inclusive_prefixes: Vec::new() })
    }
}

/// The prefix of the qualified name starting at `at` in `src` (`<p:name` or `p:name=`), or "".
fn prefix_at(src: &str, at: usize) -> &str {
    let rest = src.get(at..).unwrap_or("");
    let rest = rest.strip_prefix('<').unwrap_or(rest);
    let end = rest.find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=')).unwrap_or(rest.len());
    match rest[..end].split_once(':') {
        Some((p, _)) => p,
        None => "",
    }
}

fn element_prefix<'a>(src: &'a str, node: Node<'_, '_>) -> &'a str {
    prefix_at(src, node.range().start)
}

/// The namespace declarations output so far, innermost last: (depth, prefix, URI).
struct Rendered(Vec<(usize, String, String)>);

impl Rendered {
    fn get(&self, prefix: &str) -> Option<&str> {
        self.0.iter().rev().find(|(_, p, _)| p == prefix).map(|(_, _, u)| u.as_str())
    }
}

/// The namespace declarations `node` renders: (prefix, URI), sorted by prefix.
fn namespaces_to_render(src: &str, node: Node<'_, '_>, method: &Method, rendered: &Rendered) -> Vec<(String, String)> {
    let in_scope = |prefix: &str| -> Option<&str> {
        node.namespaces().find(|ns| ns.name().unwrap_or("") == prefix).map(|ns| ns.uri())
    };
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut add = |p: &str, u: &str| {
        if p != "xml" && !candidates.iter().any(|(q, _)| q == p) {
            candidates.push((p.to_string(), u.to_string()));
        }
    };
    if method.exclusive {
        let own = element_prefix(src, node);
        add(own, in_scope(own).unwrap_or(""));
        for a in node.attributes() {
            let p = prefix_at(src, a.range_qname().start);
            if !p.is_empty() {
                add(p, a.namespace().unwrap_or(""));
            }
        }
        for p in &method.inclusive_prefixes {
            if let Some(u) = in_scope(p) {
                add(p, u);
            } else if p.is_empty() {
                add("", "");
            }
        }
    } else {
        for ns in node.namespaces() {
            add(ns.name().unwrap_or(""), ns.uri());
        }
        if in_scope("").is_none() {
            add("", "");
        }
    }
    let mut out: Vec<(String, String)> = candidates
        .into_iter()
        .filter(|(p, u)| {
            let before = rendered.get(p);
            if p.is_empty() && u.is_empty() {
                before.is_some_and(|b| !b.is_empty())
            } else {
                before != Some(u.as_str())
            }
        })
        .collect();
    out.sort();
    out
}

/// The attributes of `node` as rendered: (namespace URI, local name, qualified name, value).
fn attributes_of(src: &str, node: Node<'_, '_>, method: &Method, apex: bool) -> Vec<(String, String, String, String)> {
    let mut attrs: Vec<(String, String, String, String)> = node
        .attributes()
        .map(|a| {
            let qname = src.get(a.range_qname()).unwrap_or(a.name()).to_string();
            (a.namespace().unwrap_or("").to_string(), a.name().to_string(), qname, a.value().to_string())
        })
        .collect();
    // Canonical XML 1.0 (inclusive) of a subtree: the apex takes the xml:* attributes of its
    // ancestors that it does not set itself (C14N 1.0 §2.4).
    if apex && !method.exclusive {
        for ancestor in node.ancestors().skip(1) {
            for a in ancestor.attributes() {
                if a.namespace() == Some(XML_NS) && !attrs.iter().any(|(ns, n, _, _)| ns == XML_NS && n == a.name()) {
                    attrs.push((XML_NS.into(), a.name().into(), format!("xml:{}", a.name()), a.value().into()));
                }
            }
        }
    }
    attrs.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    attrs
}

/// The canonical form of the subtree at `apex` (an element), less the subtree `exclude`.
pub(crate) fn subtree(src: &str, apex: Node<'_, '_>, method: &Method, exclude: Option<NodeId>) -> String {
    let mut out = String::new();
    write_subtree(src, apex, method, exclude, &mut out);
    out
}

/// The canonical form of the whole document (`URI=""`), less the subtree `exclude`. Comments
/// and processing instructions outside the document element are separated by line feeds.
pub(crate) fn document(src: &str, doc: &roxmltree::Document<'_>, method: &Method, exclude: Option<NodeId>) -> String {
    let mut out = String::new();
    let mut after_root = false;
    for child in doc.root().children() {
        match child.node_type() {
            NodeType::Element => {
                write_subtree(src, child, method, exclude, &mut out);
                after_root = true;
            }
            NodeType::Comment | NodeType::PI if method.comments || child.is_pi() => {
                if after_root {
                    out.push('\n');
                }
                write_leaf(child, &mut out);
                if !after_root {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    out
}

fn write_leaf(node: Node<'_, '_>, out: &mut String) {
    match node.node_type() {
        NodeType::Comment => {
            out.push_str("<!--");
            out.push_str(node.text().unwrap_or(""));
            out.push_str("-->");
        }
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.push_str("<?");
                out.push_str(pi.target);
                if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                    out.push(' ');
                    out.push_str(v);
                }
                out.push_str("?>");
            }
        }
        NodeType::Text => escape_text(node.text().unwrap_or(""), out),
        _ => {}
    }
}

fn write_subtree(src: &str, apex: Node<'_, '_>, method: &Method, exclude: Option<NodeId>, out: &mut String) {
    let mut rendered = Rendered(Vec::new());
    let mut depth = 0usize;
    let mut node = apex;
    loop {
        // Open `node`, and go down to its first child if it has one.
        let skipped = Some(node.id()) == exclude;
        if !skipped {
            open(src, node, apex, method, &mut rendered, &mut depth, out);
            if let Some(first) = node.first_child() {
                node = first;
                continue;
            }
        }
        // Close it and its ancestors until one has a next sibling.
        loop {
            if Some(node.id()) != exclude {
                close(src, node, &mut rendered, &mut depth, out);
            }
            if node == apex {
                return;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                break;
            }
            match node.parent() {
                Some(parent) => node = parent,
                None => return,
            }
        }
    }
}

fn open(
    src: &str,
    node: Node<'_, '_>,
    apex: Node<'_, '_>,
    method: &Method,
    rendered: &mut Rendered,
    depth: &mut usize,
    out: &mut String,
) {
    match node.node_type() {
        NodeType::Element => {
            *depth += 1;
            let is_apex = node == apex;
            out.push('<');
            out.push_str(&qualified_name(src, node));
            for (p, u) in namespaces_to_render(src, node, method, rendered) {
                out.push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
                out.push_str(&p);
                out.push_str("=\"");
                escape_attribute(&u, out);
                out.push('"');
                rendered.0.push((*depth, p, u));
            }
            for (_, _, q, v) in attributes_of(src, node, method, is_apex) {
                out.push(' ');
                out.push_str(&q);
                out.push_str("=\"");
                escape_attribute(&v, out);
                out.push('"');
            }
            out.push('>');
        }
        NodeType::Comment if !method.comments => {}
        _ => write_leaf(node, out),
    }
}

fn close(src: &str, node: Node<'_, '_>, rendered: &mut Rendered, depth: &mut usize, out: &mut String) {
    if !node.is_element() {
        return;
    }
    out.push_str("</");
    out.push_str(&qualified_name(src, node));
    out.push('>');
    while rendered.0.last().is_some_and(|(d, _, _)| *d == *depth) {
        rendered.0.pop();
    }
    *depth -= 1;
}

fn qualified_name(src: &str, node: Node<'_, '_>) -> String {
    let prefix = element_prefix(src, node);
    let local = node.tag_name().name();
    if prefix.is_empty() {
        local.to_string()
    } else {
        format!("{prefix}:{local}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c14n(xml: &str, id: &str, method: &Method) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let node = doc.descendants().find(|n| n.attribute("Id") == Some(id)).unwrap();
        subtree(xml, node, method, None)
    }

    const DOC: &str = "<r:Root xmlns:r=\"urn:r\" xmlns:u=\"urn:unused\" xmlns=\"urn:d\" xml:lang=\"fr\">\r\n\
        <r:A Id=\"a\" b=\"2\" a=\"1\" r:z=\"&lt;&quot;&#9;\"><!-- c --><B/>x &amp; y &#xD;<![CDATA[<>]]><?pi  data?></r:A>\
        <C Id=\"c\" xmlns=\"\"><D xmlns=\"urn:d\"/></C></r:Root>";

    #[test]
    fn inclusive_takes_every_namespace_in_scope_and_xml_attributes() {
        let m = Method::from_uri(C14N).unwrap();
        assert_eq!(
            c14n(DOC, "a", &m),
            "<r:A xmlns=\"urn:d\" xmlns:r=\"urn:r\" xmlns:u=\"urn:unused\" Id=\"a\" a=\"1\" b=\"2\" \
             xml:lang=\"fr\" r:z=\"&lt;&quot;&#x9;\"><B></B>x &amp; y &#xD;&lt;&gt;<?pi data?></r:A>"
        );
        assert_eq!(
            c14n(DOC, "c", &m),
            "<C xmlns:r=\"urn:r\" xmlns:u=\"urn:unused\" Id=\"c\" xml:lang=\"fr\"><D xmlns=\"urn:d\"></D></C>"
        );
        let with = Method::from_uri(C14N_COMMENTS).unwrap();
        assert!(c14n(DOC, "a", &with).contains("<!-- c -->"));
    }

    #[test]
    fn exclusive_takes_the_namespaces_visibly_used_and_the_prefix_list() {
        let m = Method::from_uri(EXC_C14N).unwrap();
        assert_eq!(
            c14n(DOC, "a", &m),
            "<r:A xmlns:r=\"urn:r\" Id=\"a\" a=\"1\" b=\"2\" r:z=\"&lt;&quot;&#x9;\">\
             <B xmlns=\"urn:d\"></B>x &amp; y &#xD;&lt;&gt;<?pi data?></r:A>"
        );
        assert_eq!(c14n(DOC, "c", &m), "<C Id=\"c\"><D xmlns=\"urn:d\"></D></C>");
        let listed = Method { inclusive_prefixes: vec!["u".into(), "#missing".into()], ..m };
        assert!(c14n(DOC, "a", &listed).starts_with("<r:A xmlns:r=\"urn:r\" xmlns:u=\"urn:unused\" Id="));
    }
}
