//! [`XmlDoc`]: an XML document kept as its original text, with an index of its
//! elements that edits keep in step.
//!
//! The index holds every element with the byte ranges of its tag, its start tag and
//! its attributes. It is built once by roxmltree; an edit replaces one byte range of
//! the text and shifts the ranges after it, so element handles ([`NodeId`]) stay valid
//! across edits (except for the elements an edit removes). Everything that is not an
//! element (text, comments, CDATA, processing instructions, the prolog) lives only in
//! the text, which is why no edit can lose it.

use std::ops::Range;

use super::error::{DomainXmlError, Result};
use super::index::index_subtree;

/// A handle on one element of an [`XmlDoc`]; stays valid until the element is removed
/// or replaced. A removed element reads as empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(super) u32);

impl NodeId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// One attribute as written.
#[derive(Clone, Debug)]
pub(super) struct Attr {
    /// The name as written, with its prefix.
    pub qname: String,
    pub ns: Option<String>,
    /// The value when it differs from the text between the quotes (entities, white
    /// space a parser normalises); `None` when that text is the value, which saves
    /// copying most values.
    pub unescaped: Option<String>,
    /// From the first byte of the name to the closing quote, included.
    pub range: Range<usize>,
    /// Length of the text between the quotes.
    pub raw_len: usize,
    pub quote: u8,
}

impl Attr {
    /// The local name.
    pub fn local(&self) -> &str {
        local_of(&self.qname)
    }

    /// Where the text between the quotes is.
    pub fn value_range(&self) -> Range<usize> {
        self.range.end - 1 - self.raw_len..self.range.end - 1
    }

    /// The value, unescaped.
    pub fn value<'a>(&'a self, text: &'a str) -> &'a str {
        self.unescaped
            .as_deref()
            .unwrap_or_else(|| &text[self.value_range()])
    }
}

/// The part of a name after its prefix.
pub(super) fn local_of(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// One element of the index.
#[derive(Clone, Debug)]
pub(super) struct Node {
    /// The name as written, with its prefix.
    pub qname: String,
    pub ns: Option<String>,
    pub attrs: Vec<Attr>,
    /// From `<` to the end of the end tag (or of `/>`).
    pub range: Range<usize>,
    /// Just after the `>` (or `/>`) of the start tag.
    pub head_end: usize,
    pub self_closing: bool,
    /// The element's own text (its text children, concatenated), kept for elements
    /// without child elements (the text of the others is layout).
    pub text: String,
    pub parent: Option<NodeId>,
    /// Child elements, in document order.
    pub children: Vec<NodeId>,
    pub alive: bool,
    /// Was self-closing until an insertion opened it: closes again when it loses its
    /// last child, so that adding and removing a child gives back the original text.
    pub reopened: bool,
}

/// How the document writes what it has: what Vireo adds is written the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Style {
    pub newline: &'static str,
    /// One level of indentation.
    pub unit: String,
    /// The quote of new attributes when their element has none to copy.
    pub quote: u8,
}

/// An XML document held as the text it came from. See the [module](super) docs.
#[derive(Clone, Debug)]
pub struct XmlDoc {
    pub(super) text: String,
    original: String,
    pub(super) nodes: Vec<Node>,
    root: NodeId,
    pub(super) style: Style,
}

impl Node {
    /// The local name.
    pub fn local(&self) -> &str {
        local_of(&self.qname)
    }
}

impl XmlDoc {
    /// Parses `text`. Fails on empty or malformed text (a DTD counts as malformed:
    /// libvirt never writes one, and entities it declares would have no place in the
    /// text to edit).
    pub fn parse(text: impl Into<String>) -> Result<XmlDoc> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(DomainXmlError::Empty);
        }
        let mut nodes = Vec::new();
        let root = {
            let doc = roxmltree::Document::parse(&text).map_err(malformed)?;
            index_subtree(&mut nodes, &text, 0, doc.root_element(), None)
        };
        let style = Style::detect(&text, &nodes);
        Ok(XmlDoc {
            original: text.clone(),
            text,
            nodes,
            root,
            style,
        })
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as parsed, before any edit.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// True when the text differs from the original (an edit that was undone, or that
    /// set a value to what it was, is no change).
    pub fn is_changed(&self) -> bool {
        self.text != self.original
    }

    /// Takes the current text.
    pub fn into_text(self) -> String {
        self.text
    }

    /// The root element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    pub(super) fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index()).filter(|n| n.alive)
    }

    pub(super) fn live(&self, id: NodeId) -> Result<&Node> {
        self.node(id).ok_or(DomainXmlError::StaleElement)
    }

    /// True while the element exists.
    pub fn is_alive(&self, id: NodeId) -> bool {
        self.node(id).is_some()
    }

    /// The local name (`commandline` for `<qemu:commandline>`).
    pub fn name(&self, id: NodeId) -> &str {
        self.node(id).map_or("", |n| n.local())
    }

    /// The name as written, with its prefix.
    pub fn qname(&self, id: NodeId) -> &str {
        self.node(id).map_or("", |n| &n.qname)
    }

    /// The namespace URI, `None` for libvirt's own (unqualified) elements.
    pub fn namespace(&self, id: NodeId) -> Option<&str> {
        self.node(id).and_then(|n| n.ns.as_deref())
    }

    /// The value of an unqualified attribute.
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        let n = self.node(id)?;
        n.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local() == name)
            .map(|a| a.value(&self.text))
    }

    /// Every attribute as `(name as written, value)`, in document order (namespace
    /// declarations are not attributes).
    pub fn attrs(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> {
        self.node(id).into_iter().flat_map(|n| {
            n.attrs
                .iter()
                .map(|a| (a.qname.as_str(), a.value(&self.text)))
        })
    }

    /// The element's own text, unescaped (CDATA and entities resolved).
    pub fn text_of(&self, id: NodeId) -> &str {
        self.node(id).map_or("", |n| &n.text)
    }

    /// The parent element.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).and_then(|n| n.parent)
    }

    /// The child elements, in document order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.node(id)
            .into_iter()
            .flat_map(|n| n.children.iter().copied())
    }

    /// True for libvirt's (unqualified) element named `name`.
    pub fn is(&self, id: NodeId, name: &str) -> bool {
        self.node(id)
            .is_some_and(|n| n.ns.is_none() && n.local() == name)
    }

    /// The first unqualified child named `name`.
    pub fn child(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id).find(|&c| self.is(c, name))
    }

    /// Every unqualified child named `name`.
    pub fn children_named<'a>(
        &'a self,
        id: NodeId,
        name: &'a str,
    ) -> impl Iterator<Item = NodeId> + 'a {
        self.children(id).filter(move |&c| self.is(c, name))
    }

    /// The first child that `pred` accepts.
    pub fn find_child(&self, id: NodeId, pred: impl Fn(NodeId) -> bool) -> Option<NodeId> {
        self.children(id).find(|&c| pred(c))
    }

    /// The first element at `path` below the root, e.g. `"devices/disk"` or `"os/boot"`
    /// (each step an unqualified element name).
    pub fn find(&self, path: &str) -> Option<NodeId> {
        self.find_from(self.root, path)
    }

    /// Like [`XmlDoc::find`], from `start`.
    pub fn find_from(&self, start: NodeId, path: &str) -> Option<NodeId> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(start, |at, step| self.child(at, step))
    }

    /// Every element at `path` below the root.
    pub fn find_all(&self, path: &str) -> Vec<NodeId> {
        let mut level = vec![self.root];
        for step in path.split('/').filter(|s| !s.is_empty()) {
            level = level
                .into_iter()
                .flat_map(|at| self.children_named(at, step).collect::<Vec<_>>())
                .collect();
        }
        level
    }

    /// The element's byte range in the current text.
    pub fn range(&self, id: NodeId) -> Range<usize> {
        self.node(id).map_or(0..0, |n| n.range.clone())
    }

    /// The element's text exactly as written.
    pub fn source(&self, id: NodeId) -> &str {
        &self.text[self.range(id)]
    }

    /// 1-based line and column of a byte offset of the current text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }

    /// The white space before the element when it starts its line, `None` when
    /// something else precedes it on its line.
    pub(super) fn indent_of(&self, id: NodeId) -> Option<&str> {
        let start = self.node(id)?.range.start;
        indent_before(&self.text, start)
    }

    /// Where the end tag starts (the element must not be self-closing).
    pub(super) fn close_start(&self, n: &Node) -> usize {
        let content = &self.text[n.head_end..n.range.end];
        n.head_end + content.rfind("</").unwrap_or(content.len())
    }

    /// Checks that the index matches a fresh parse of the current text (tests use it
    /// after edits: any drift in the ranges would show here).
    #[doc(hidden)]
    pub fn check_index(&self) -> std::result::Result<(), String> {
        let fresh = XmlDoc::parse(self.text.clone()).map_err(|e| e.to_string())?;
        let mut mine = Vec::new();
        self.collect(self.root, &mut mine);
        let mut theirs = Vec::new();
        fresh.collect(fresh.root, &mut theirs);
        if mine.len() != theirs.len() {
            return Err(format!(
                "{} elements indexed, {} in the text",
                mine.len(),
                theirs.len()
            ));
        }
        for (&a, &b) in mine.iter().zip(&theirs) {
            let (x, y) = (&self.nodes[a.index()], &fresh.nodes[b.index()]);
            let attrs = |d: &XmlDoc, n: &Node| -> Vec<(String, String, Range<usize>)> {
                n.attrs
                    .iter()
                    .map(|at| {
                        (
                            at.qname.clone(),
                            at.value(&d.text).to_owned(),
                            at.range.clone(),
                        )
                    })
                    .collect()
            };
            if x.qname != y.qname
                || x.range != y.range
                || x.head_end != y.head_end
                || x.self_closing != y.self_closing
                || attrs(self, x) != attrs(&fresh, y)
                || (x.children.is_empty() && x.text != y.text)
            {
                return Err(format!("index drift at <{}>: {x:?} vs {y:?}", x.qname));
            }
        }
        Ok(())
    }

    fn collect(&self, id: NodeId, out: &mut Vec<NodeId>) {
        out.push(id);
        for c in self.children(id) {
            self.collect(c, out);
        }
    }
}

fn malformed(e: roxmltree::Error) -> DomainXmlError {
    let pos = e.pos();
    DomainXmlError::Malformed {
        line: pos.row,
        column: pos.col,
        message: e.to_string(),
    }
}

/// The white space from the start of the line to `pos`, if only white space is there.
pub(super) fn indent_before(text: &str, pos: usize) -> Option<&str> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let ws = &text[line_start..pos];
    ws.bytes().all(|b| b == b' ' || b == b'\t').then_some(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_malformed_documents_are_refused() {
        assert_eq!(XmlDoc::parse("").unwrap_err(), DomainXmlError::Empty);
        assert_eq!(XmlDoc::parse(" \n\t").unwrap_err(), DomainXmlError::Empty);
        match XmlDoc::parse("<domain>\n  <name>x</nam>\n</domain>").unwrap_err() {
            DomainXmlError::Malformed { line, .. } => assert_eq!(line, 2),
            e => panic!("unexpected {e:?}"),
        }
        assert!(matches!(
            XmlDoc::parse("<!DOCTYPE d [<!ENTITY e 'x'>]><d>&e;</d>"),
            Err(DomainXmlError::Malformed { .. })
        ));
    }

    #[test]
    fn reads_names_attributes_and_text() {
        let doc = XmlDoc::parse(
            "<domain type='kvm' xmlns:q=\"urn:q\">\n  <name>a&amp;b</name>\n  \
             <q:x q:y='1' z=\"&apos;\"/>\n  <title><![CDATA[<t>]]></title>\n</domain>\n",
        )
        .unwrap();
        let root = doc.root();
        assert_eq!(doc.attr(root, "type"), Some("kvm"));
        let name = doc.child(root, "name").unwrap();
        assert_eq!(doc.text_of(name), "a&b");
        let x = doc.children(root).nth(1).unwrap();
        assert_eq!(doc.qname(x), "q:x");
        assert_eq!(doc.name(x), "x");
        assert_eq!(doc.namespace(x), Some("urn:q"));
        assert_eq!(
            doc.attr(x, "y"),
            None,
            "qualified attributes are not unqualified"
        );
        assert_eq!(doc.attr(x, "z"), Some("'"));
        assert!(doc.child(root, "x").is_none(), "q:x is not libvirt's <x>");
        assert_eq!(doc.text_of(doc.find("title").unwrap()), "<t>");
        assert_eq!(doc.indent_of(name), Some("  "));
        assert_eq!(doc.style.unit, "  ");
        assert_eq!(doc.style.quote, b'\'');
        doc.check_index().unwrap();
    }

    #[test]
    fn detects_tabs_and_crlf() {
        let doc = XmlDoc::parse("<a b=\"1\">\r\n\t<c/>\r\n</a>\r\n").unwrap();
        assert_eq!(doc.style.unit, "\t");
        assert_eq!(doc.style.newline, "\r\n");
        assert_eq!(doc.style.quote, b'"');
    }
}
