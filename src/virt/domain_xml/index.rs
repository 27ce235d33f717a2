//! Building the element index from roxmltree's tree, for a whole document or for a
//! fragment spliced into one, and reading the start tags and layout of the text.

use std::ops::Range;

use super::document::{indent_before, Attr, Node, NodeId, Style};

/// Adds the elements of `el`'s subtree (a node of a document parsed from `src`, whose
/// byte `i` sits at `i + shift` in the document's text) to `nodes`; returns `el`'s id.
pub(super) fn index_subtree(
    nodes: &mut Vec<Node>,
    src: &str,
    shift: isize,
    el: roxmltree::Node,
    parent: Option<NodeId>,
) -> NodeId {
    // Iterative, so that no nesting depth can exhaust the stack.
    let top = push_node(nodes, src, shift, el, parent);
    let mut stack = vec![(el, top)];
    while let Some((n, id)) = stack.pop() {
        let mut kids = Vec::new();
        for c in n.children().filter(|c| c.is_element()) {
            let cid = push_node(nodes, src, shift, c, Some(id));
            kids.push(cid);
            stack.push((c, cid));
        }
        nodes[id.index()].children = kids;
    }
    top
}

fn push_node(
    nodes: &mut Vec<Node>,
    src: &str,
    shift: isize,
    n: roxmltree::Node,
    parent: Option<NodeId>,
) -> NodeId {
    let at = |p: usize| (p as isize + shift) as usize;
    let range = n.range();
    let name_len = name_len(&src[range.start + 1..]);
    let qname = src[range.start + 1..range.start + 1 + name_len].to_owned();
    let attrs = n
        .attributes()
        .map(|a| {
            let raw = &src[a.range_value()];
            Attr {
                qname: src[a.range_qname()].to_owned(),
                ns: a.namespace().map(str::to_owned),
                unescaped: (a.value() != raw).then(|| a.value().to_owned()),
                range: at(a.range().start)..at(a.range().end),
                raw_len: raw.len(),
                quote: src.as_bytes()[a.range_value().start - 1],
            }
        })
        .collect();
    let head = scan_start_tag(src, range.start);
    let text = if n.children().any(|c| c.is_element()) {
        String::new()
    } else {
        n.children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect()
    };
    let id = NodeId(nodes.len() as u32);
    nodes.push(Node {
        ns: n.tag_name().namespace().map(str::to_owned),
        qname,
        attrs,
        range: at(range.start)..at(range.end),
        head_end: at(head.end),
        self_closing: head.self_closing,
        text,
        parent,
        children: Vec::new(),
        alive: true,
        reopened: false,
    });
    id
}

/// Length in bytes of the XML name at the start of `s`.
fn name_len(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '='))
        .unwrap_or(s.len())
}

/// What a start tag holds, read from its text.
pub(super) struct StartTag {
    /// Just after `>` or `/>`.
    pub end: usize,
    pub self_closing: bool,
    /// Every `name=value` pair as written (namespace declarations included), the value
    /// with its quotes.
    pub raw_attrs: Vec<(Range<usize>, Range<usize>)>,
}

/// Reads the start tag that begins at `start` (a `<`) of well-formed `src`.
pub(super) fn scan_start_tag(src: &str, start: usize) -> StartTag {
    let b = src.as_bytes();
    let mut i = start + 1 + name_len(&src[start + 1..]);
    let mut raw_attrs = Vec::new();
    loop {
        while b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b[i] {
            b'/' => {
                return StartTag {
                    end: i + 2,
                    self_closing: true,
                    raw_attrs,
                }
            }
            b'>' => {
                return StartTag {
                    end: i + 1,
                    self_closing: false,
                    raw_attrs,
                }
            }
            _ => {
                let name_start = i;
                i += name_len(&src[i..]);
                let name = name_start..i;
                while b[i] != b'\'' && b[i] != b'"' {
                    i += 1;
                }
                let quote = b[i];
                let value_start = i;
                i += 1;
                while b[i] != quote {
                    i += 1;
                }
                i += 1;
                raw_attrs.push((name, value_start..i));
            }
        }
    }
}

impl Style {
    /// The style `text` is written in.
    pub(super) fn detect(text: &str, nodes: &[Node]) -> Style {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let quote = nodes
            .iter()
            .find_map(|n| n.attrs.first())
            .map_or(b'\'', |a| a.quote);
        // One level: how much deeper the first indented child sits than its parent.
        let unit = nodes
            .iter()
            .filter(|n| n.parent.is_some())
            .find_map(|n| {
                let p = &nodes[n.parent?.index()];
                let mine = indent_before(text, n.range.start)?;
                let theirs = indent_before(text, p.range.start)?;
                let extra = mine.strip_prefix(theirs)?;
                (!extra.is_empty()).then(|| extra.to_owned())
            })
            .unwrap_or_else(|| "  ".to_owned());
        Style {
            newline,
            unit,
            quote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tags_with_odd_spacing() {
        let src = "<a  x = '>' \n y=\"/\"  />";
        let tag = scan_start_tag(src, 0);
        assert!(tag.self_closing);
        assert_eq!(tag.end, src.len());
        assert_eq!(tag.raw_attrs.len(), 2);
        assert_eq!(&src[tag.raw_attrs[1].1.clone()], "\"/\"");
    }
}
