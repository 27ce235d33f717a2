//! The edit primitives of [`XmlDoc`]: each replaces one byte range of the text and
//! shifts the index after it; nothing else of the text changes.
//!
//! Layout follows the document: a new element is indented like its siblings (or one
//! level deeper than its parent, in the document's own unit), on its own line when its
//! siblings are on theirs; a removed element takes its line with it when it had the line
//! to itself.

use std::ops::Range;

use super::document::{indent_before, NodeId, XmlDoc};
use super::error::{DomainXmlError, Result};
use super::escape::{escape_attr, escape_text};
use super::fragment::NewElement;
use super::index::{index_subtree, scan_start_tag};

/// Where and how an element is inserted.
struct Layout {
    /// The bytes replaced: empty for a plain insertion, the `/>` of a parent that was
    /// self-closing.
    at: Range<usize>,
    before: String,
    after: String,
    /// The new element's indentation; `None` when it goes inline.
    indent: Option<String>,
    reopens_parent: bool,
}

impl XmlDoc {
    /// Replaces `range` of the text with `with` and shifts every position after it.
    fn splice(&mut self, range: Range<usize>, with: &str) {
        let (a, b) = (range.start, range.end);
        self.text.replace_range(a..b, with);
        let delta = with.len() as isize - (b - a) as isize;
        if delta == 0 {
            return;
        }
        let moved = |p: usize| (p as isize + delta) as usize;
        // A position that starts something moves when it is at or after the end of the
        // replaced bytes; a position that ends something moves only when it is past
        // their start too (so an element ending where an insertion begins stays put).
        let start = |p: &mut usize| {
            if *p >= b {
                *p = moved(*p);
            }
        };
        let end = |p: &mut usize| {
            if *p >= b && *p > a {
                *p = moved(*p);
            }
        };
        for n in self.nodes.iter_mut().filter(|n| n.alive) {
            start(&mut n.range.start);
            end(&mut n.range.end);
            end(&mut n.head_end);
            for at in &mut n.attrs {
                start(&mut at.range.start);
                end(&mut at.range.end);
            }
        }
    }

    /// Sets an unqualified attribute. An existing attribute keeps its place and quotes;
    /// a new one goes after the others, quoted like them. Setting the value it already
    /// has changes nothing.
    pub fn set_attr(&mut self, id: NodeId, name: &str, value: &str) -> Result<()> {
        let n = self.live(id)?;
        let style_quote = self.style.quote;
        if let Some(i) = n
            .attrs
            .iter()
            .position(|a| a.ns.is_none() && a.local() == name)
        {
            let at = &n.attrs[i];
            if at.value(&self.text) == value {
                return Ok(());
            }
            let escaped = escape_attr(value, at.quote).into_owned();
            let range = at.value_range();
            self.splice(range, &escaped);
            let at = &mut self.nodes[id.index()].attrs[i];
            at.unescaped = (escaped != value).then(|| value.to_owned());
            at.raw_len = escaped.len();
            return Ok(());
        }
        let pos = n
            .attrs
            .last()
            .map_or(n.range.start + 1 + n.qname.len(), |a| a.range.end);
        let quote = n.attrs.first().map_or(style_quote, |a| a.quote);
        let q = quote as char;
        let escaped = escape_attr(value, quote).into_owned();
        let written = format!(" {name}={q}{escaped}{q}");
        self.splice(pos..pos, &written);
        self.nodes[id.index()].attrs.push(super::document::Attr {
            qname: name.to_owned(),
            ns: None,
            unescaped: (escaped != value).then(|| value.to_owned()),
            range: pos + 1..pos + written.len(),
            raw_len: escaped.len(),
            quote,
        });
        Ok(())
    }

    /// Removes an unqualified attribute with the white space before it; returns whether
    /// it was there.
    pub fn remove_attr(&mut self, id: NodeId, name: &str) -> Result<bool> {
        let n = self.live(id)?;
        let Some(i) = n
            .attrs
            .iter()
            .position(|a| a.ns.is_none() && a.local() == name)
        else {
            return Ok(false);
        };
        let range = n.attrs[i].range.clone();
        let before = &self.text[..range.start];
        let from = before.trim_end_matches([' ', '\t', '\r', '\n']).len();
        self.nodes[id.index()].attrs.remove(i);
        self.splice(from..range.end, "");
        Ok(true)
    }

    /// Sets the text of an element that has no child elements (`<title/>` becomes
    /// `<title>text</title>`). Setting the text it already has changes nothing.
    pub fn set_text(&mut self, id: NodeId, text: &str) -> Result<()> {
        let n = self.live(id)?;
        if !n.children.is_empty() {
            return Err(DomainXmlError::HasChildren(n.qname.clone()));
        }
        if n.text == text {
            return Ok(());
        }
        let escaped = escape_text(text).into_owned();
        if n.self_closing {
            let at = n.head_end - 2;
            let written = format!(">{escaped}</{}>", n.qname);
            let head_end = n.head_end;
            self.splice(at..head_end, &written);
            let n = &mut self.nodes[id.index()];
            n.head_end = at + 1;
            n.self_closing = false;
        } else {
            let close = self.close_start(n);
            let head_end = n.head_end;
            self.splice(head_end..close, &escaped);
        }
        self.nodes[id.index()].text = text.to_owned();
        Ok(())
    }

    /// Inserts `el` as child number `index` (0-based, among child elements) of `parent`.
    pub fn insert_element(
        &mut self,
        parent: NodeId,
        index: usize,
        el: &NewElement,
    ) -> Result<NodeId> {
        let layout = self.layout(parent, index)?;
        let xml = el.write(&self.style, layout.indent.is_some());
        self.insert_laid_out(parent, index, &xml, layout)
    }

    /// Inserts one element given as XML text whose lines after the first are not
    /// indented (as libvirt writes a device), indenting them like the new element.
    pub fn insert_xml(&mut self, parent: NodeId, index: usize, xml: &str) -> Result<NodeId> {
        let layout = self.layout(parent, index)?;
        self.insert_laid_out(parent, index, xml, layout)
    }

    fn insert_laid_out(
        &mut self,
        parent: NodeId,
        index: usize,
        xml: &str,
        layout: Layout,
    ) -> Result<NodeId> {
        let decls = self.namespace_decls(parent);
        let body = match &layout.indent {
            Some(ws) => restyle(xml, &decls, ws, &self.style)?,
            None => {
                check_fragment(xml, &decls)?;
                xml.to_owned()
            }
        };
        let element_at = layout.at.start + layout.before.len();
        let written = format!("{}{body}{}", layout.before, layout.after);
        self.splice(layout.at.clone(), &written);
        if layout.reopens_parent {
            let p = &mut self.nodes[parent.index()];
            p.head_end = layout.at.start + 1;
            p.self_closing = false;
            p.reopened = true;
        }
        let id = self.index_fragment(&body, &decls, element_at, parent);
        self.nodes[parent.index()].children.insert(index, id);
        Ok(id)
    }

    /// Removes an element (and its line, when it had the line to itself).
    pub fn remove(&mut self, id: NodeId) -> Result<()> {
        let n = self.live(id)?;
        let parent = n.parent.ok_or_else(|| {
            DomainXmlError::invalid("element", &n.qname, "the root element cannot be removed")
        })?;
        let (start, end) = (n.range.start, n.range.end);
        let range = match indent_before(&self.text, start) {
            Some(ws) => {
                let rest = &self.text[end..];
                let eol = rest.find('\n');
                let tail = &rest[..eol.unwrap_or(rest.len())];
                if tail.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                    start - ws.len()..end + eol.map_or(rest.len(), |i| i + 1)
                } else {
                    start..end
                }
            }
            None => start..end,
        };
        self.kill(id);
        self.nodes[parent.index()].children.retain(|&c| c != id);
        self.splice(range, "");
        if self.nodes[parent.index()].children.is_empty() {
            self.refresh_text(parent);
            self.close_again(parent);
        }
        Ok(())
    }

    /// Turns an element that Vireo opened (it was self-closing) and that is empty again
    /// back into `<name .../>`.
    fn close_again(&mut self, id: NodeId) {
        if self.nodes[id.index()].reopened {
            self.close_if_empty(id);
        }
    }

    /// Writes an element that has nothing left but white space (its children were
    /// removed) as `<name .../>`; any other element stays as it is.
    pub(super) fn close_if_empty(&mut self, id: NodeId) {
        let n = &self.nodes[id.index()];
        if n.self_closing
            || !n.children.is_empty()
            || !n.text.trim().is_empty()
            || self.source(id).contains("<!--")
            || self.source(id).contains("<![CDATA[")
        {
            return;
        }
        let at = n.head_end - 1;
        let end = n.range.end;
        self.splice(at..end, "/>");
        let n = &mut self.nodes[id.index()];
        n.head_end = at + 2;
        n.self_closing = true;
        n.reopened = false;
        n.text.clear();
    }

    /// Re-reads the text of an element that lost its last child element.
    fn refresh_text(&mut self, id: NodeId) {
        let decls = self.namespace_decls(self.parent(id).unwrap_or(id));
        let wrapped = wrap(self.source(id), &decls);
        if let Ok(doc) = roxmltree::Document::parse(&wrapped) {
            if let Some(el) = doc.root_element().first_element_child() {
                self.nodes[id.index()].text = el
                    .children()
                    .filter(|c| c.is_text())
                    .filter_map(|c| c.text())
                    .collect();
            }
        }
    }

    /// Replaces an element with `el`, at the same place and indentation.
    pub fn replace_element(&mut self, id: NodeId, el: &NewElement) -> Result<NodeId> {
        let multiline = self.indent_of(id).is_some();
        let xml = el.write(&self.style, multiline);
        self.replace_xml(id, &xml)
    }

    /// Replaces an element with one element given as unindented XML text (see
    /// [`XmlDoc::insert_xml`]).
    pub fn replace_xml(&mut self, id: NodeId, xml: &str) -> Result<NodeId> {
        let n = self.live(id)?;
        let parent = n.parent.ok_or_else(|| {
            DomainXmlError::invalid("element", &n.qname, "the root element cannot be replaced")
        })?;
        let range = n.range.clone();
        let decls = self.namespace_decls(parent);
        let body = match self.indent_of(id).map(str::to_owned) {
            Some(ws) => restyle(xml, &decls, &ws, &self.style)?,
            None => {
                check_fragment(xml, &decls)?;
                xml.to_owned()
            }
        };
        let index = self.nodes[parent.index()]
            .children
            .iter()
            .position(|&c| c == id)
            .unwrap_or(0);
        self.kill(id);
        self.nodes[parent.index()].children.remove(index);
        self.splice(range.clone(), &body);
        let new = self.index_fragment(&body, &decls, range.start, parent);
        self.nodes[parent.index()].children.insert(index, new);
        Ok(new)
    }

    /// The element's XML with the indentation of its first line taken off the lines
    /// after it: what libvirt's device calls take, and what [`XmlDoc::insert_xml`]
    /// puts back exactly.
    pub fn element_xml(&self, id: NodeId) -> String {
        let src = self.source(id);
        let Some(ws) = self.indent_of(id) else {
            return src.to_owned();
        };
        let decls = self.namespace_decls(self.parent(id).unwrap_or(id));
        dedent(src, &decls, ws).unwrap_or_else(|| src.to_owned())
    }

    fn layout(&self, parent: NodeId, index: usize) -> Result<Layout> {
        let p = self.live(parent)?;
        if index > p.children.len() {
            return Err(DomainXmlError::invalid(
                "index",
                &index.to_string(),
                format!("<{}> has {} child elements", p.qname, p.children.len()),
            ));
        }
        let nl = self.style.newline;
        let plain = |pos: usize, before: String, after: String, indent: Option<&str>| Layout {
            at: pos..pos,
            before,
            after,
            indent: indent.map(str::to_owned),
            reopens_parent: false,
        };
        if index > 0 {
            let prev = p.children[index - 1];
            let end = self.nodes[prev.index()].range.end;
            return Ok(match self.indent_of(prev) {
                Some(ws) => plain(end, format!("{nl}{ws}"), String::new(), Some(ws)),
                None => plain(end, String::new(), String::new(), None),
            });
        }
        if let Some(&next) = p.children.first() {
            let start = self.nodes[next.index()].range.start;
            return Ok(match self.indent_of(next) {
                Some(ws) => plain(start, String::new(), format!("{nl}{ws}"), Some(ws)),
                None => plain(start, String::new(), String::new(), None),
            });
        }
        let parent_indent = self.indent_of(parent).map(str::to_owned);
        let child_indent = parent_indent
            .as_ref()
            .map(|pi| format!("{pi}{}", self.style.unit));
        if p.self_closing {
            let (before, after) = match (&parent_indent, &child_indent) {
                (Some(pi), Some(ci)) => (format!(">{nl}{ci}"), format!("{nl}{pi}</{}>", p.qname)),
                _ => (">".to_owned(), format!("</{}>", p.qname)),
            };
            return Ok(Layout {
                at: p.head_end - 2..p.head_end,
                before,
                after,
                indent: child_indent,
                reopens_parent: true,
            });
        }
        let close = self.close_start(p);
        let content = &self.text[p.head_end..close];
        Ok(match (&parent_indent, &child_indent) {
            (Some(_), Some(ci)) if content.contains('\n') => {
                plain(p.head_end, format!("{nl}{ci}"), String::new(), Some(ci))
            }
            (Some(pi), Some(ci)) if content.trim().is_empty() => Layout {
                at: p.head_end..close,
                before: format!("{nl}{ci}"),
                after: format!("{nl}{pi}"),
                indent: child_indent.clone(),
                reopens_parent: false,
            },
            _ => plain(p.head_end, String::new(), String::new(), None),
        })
    }

    /// Marks an element and everything below it as removed.
    fn kill(&mut self, id: NodeId) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let node = &mut self.nodes[n.index()];
            node.alive = false;
            stack.extend(node.children.iter().copied());
        }
    }

    /// Indexes the element written at `at` from `body` (already spliced in).
    fn index_fragment(&mut self, body: &str, decls: &str, at: usize, parent: NodeId) -> NodeId {
        let wrapped = wrap(body, decls);
        let doc = roxmltree::Document::parse(&wrapped).expect("the fragment was checked");
        let el = doc
            .root_element()
            .first_element_child()
            .expect("the fragment was checked");
        let shift = at as isize - el.range().start as isize;
        index_subtree(&mut self.nodes, &wrapped, shift, el, Some(parent))
    }

    /// The namespace declarations in scope at `id`, written as attributes of a wrapper
    /// element, so that a fragment using their prefixes can be parsed alone.
    fn namespace_decls(&self, id: NodeId) -> String {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = String::new();
        let mut at = Some(id);
        while let Some(n) = at.and_then(|i| self.node(i)) {
            let tag = scan_start_tag(&self.text, n.range.start);
            for (name, value) in tag.raw_attrs {
                let name = &self.text[name];
                if (name == "xmlns" || name.starts_with("xmlns:")) && !seen.contains(&name) {
                    seen.push(name);
                    out.push(' ');
                    out.push_str(name);
                    out.push('=');
                    out.push_str(&self.text[value]);
                }
            }
            at = n.parent;
        }
        out
    }
}

fn wrap(body: &str, decls: &str) -> String {
    format!("<w{decls}>{body}</w>")
}

/// Byte offsets (in `xml`) of the line ends that are formatting: inside white-space
/// text between tags, not inside text, attribute values, comments or CDATA. Fails
/// unless `xml` is exactly one element (comments around it are allowed).
fn formatting_newlines(xml: &str, decls: &str) -> Result<Vec<usize>> {
    let wrapped = wrap(xml, decls);
    let doc = roxmltree::Document::parse(&wrapped)
        .map_err(|e| DomainXmlError::BadFragment(e.to_string()))?;
    let root = doc.root_element();
    let elements = root.children().filter(|c| c.is_element()).count();
    let text = root
        .children()
        .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty());
    let el = match root.first_element_child() {
        Some(el) if elements == 1 && !text => el,
        _ => {
            return Err(DomainXmlError::BadFragment(format!(
                "expected one element, found {elements}{}",
                if text { " and text" } else { "" }
            )))
        }
    };
    let prefix = wrapped.len() - xml.len() - "</w>".len();
    let mut out = Vec::new();
    for t in el.descendants().filter(|n| n.is_text()) {
        let r = t.range();
        let raw = &wrapped[r.clone()];
        if raw.bytes().all(|b| b.is_ascii_whitespace()) {
            out.extend(raw.match_indices('\n').map(|(i, _)| r.start + i - prefix));
        }
    }
    Ok(out)
}

/// Checks that `xml` is exactly one element (comments around it are allowed).
fn check_fragment(xml: &str, decls: &str) -> Result<()> {
    formatting_newlines(xml, decls).map(drop)
}

/// Writes `xml` (one element, its lines after the first indented relative to it in
/// any unit) in the document's style: each formatting line end becomes the
/// document's, each level of indentation the document's unit, all of it under `base`.
/// Line ends inside text, attribute values, comments or CDATA are not touched.
fn restyle(xml: &str, decls: &str, base: &str, style: &super::document::Style) -> Result<String> {
    let newlines = formatting_newlines(xml, decls)?;
    let indent_after = |nl: usize| -> &str {
        let rest = &xml[nl + 1..];
        &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()]
    };
    // The fragment's own unit: the shallowest indentation it uses.
    let unit = newlines
        .iter()
        .map(|&nl| indent_after(nl))
        .filter(|i| !i.is_empty())
        .min_by_key(|i| i.len())
        .unwrap_or("");
    let mut out = String::with_capacity(xml.len() + newlines.len() * (base.len() + 4));
    let mut from = 0;
    for nl in newlines {
        let line_end = if nl > 0 && xml.as_bytes()[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        out.push_str(&xml[from..line_end.max(from)]);
        out.push_str(style.newline);
        out.push_str(base);
        let indent = indent_after(nl);
        let depth = (!unit.is_empty()).then(|| indent.len() / unit.len());
        match depth {
            Some(d) if indent == unit.repeat(d) => out.push_str(&style.unit.repeat(d)),
            _ => out.push_str(indent),
        }
        from = nl + 1 + indent.len();
    }
    out.push_str(&xml[from..]);
    Ok(out)
}

/// Takes `ws` off the start of each line that follows a formatting line end.
fn dedent(src: &str, decls: &str, ws: &str) -> Option<String> {
    let newlines = formatting_newlines(src, decls).ok()?;
    let mut out = String::with_capacity(src.len());
    let mut from = 0;
    for nl in newlines {
        out.push_str(&src[from..=nl]);
        from = nl + 1;
        if src[from..].starts_with(ws) {
            from += ws.len();
        }
    }
    out.push_str(&src[from..]);
    Some(out)
}
