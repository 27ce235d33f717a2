//! [`NewElement`]: an element Vireo adds to a document, and how it is written out in
//! the document's own style.

use super::document::Style;
use super::escape::{escape_attr, escape_text};

/// An element to add: name (with its prefix, if any), attributes in order, text, and
/// child elements. Build one with the chained methods:
///
/// ```
/// use vireo::virt::domain_xml::NewElement;
/// let disk = NewElement::new("disk")
///     .attr("type", "file")
///     .attr("device", "disk")
///     .child(NewElement::new("source").attr("file", "/var/lib/libvirt/images/a.qcow2"))
///     .child(NewElement::new("target").attr("dev", "vdb").attr("bus", "virtio"));
/// assert_eq!(disk.children.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewElement {
    /// The element name as it is to be written (`"disk"`, `"vireo:vm"`).
    pub name: String,
    /// Attributes, written in this order.
    pub attrs: Vec<(String, String)>,
    /// Text content (escaped when written).
    pub text: Option<String>,
    /// Child elements.
    pub children: Vec<NewElement>,
}

impl NewElement {
    /// An element with no attributes and no content.
    pub fn new(name: impl Into<String>) -> Self {
        NewElement {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((name.into(), value.into()));
        self
    }

    /// Adds an attribute when `value` is `Some`.
    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Sets the text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Adds a child element.
    pub fn child(mut self, child: NewElement) -> Self {
        self.children.push(child);
        self
    }

    /// Adds a child element when `child` is `Some`.
    pub fn child_opt(self, child: Option<NewElement>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Writes the element without indentation of its first line; `multiline` puts
    /// each child on its own line, one `style.unit` deeper than its parent.
    pub(super) fn write(&self, style: &Style, multiline: bool) -> String {
        let mut out = String::new();
        self.write_into(&mut out, style, multiline.then_some(0));
        out
    }

    fn write_into(&self, out: &mut String, style: &Style, depth: Option<usize>) {
        let q = style.quote as char;
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push('=');
            out.push(q);
            out.push_str(&escape_attr(value, style.quote));
            out.push(q);
        }
        let text = self.text.as_deref().unwrap_or("");
        if self.children.is_empty() && text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape_text(text));
        for child in &self.children {
            if let Some(d) = depth {
                out.push_str(style.newline);
                out.push_str(&style.unit.repeat(d + 1));
            }
            child.write_into(out, style, depth.map(|d| d + 1));
        }
        if let (Some(d), false) = (depth, self.children.is_empty()) {
            out.push_str(style.newline);
            out.push_str(&style.unit.repeat(d));
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(quote: u8) -> Style {
        Style {
            newline: "\n",
            unit: "  ".into(),
            quote,
        }
    }

    #[test]
    fn writes_nested_elements_in_the_document_style() {
        let el = NewElement::new("interface")
            .attr("type", "network")
            .child(NewElement::new("source").attr("network", "it's"))
            .child(NewElement::new("model").attr("type", "virtio"));
        assert_eq!(
            el.write(&style(b'\''), true),
            "<interface type='network'>\n  <source network='it&apos;s'/>\n  \
             <model type='virtio'/>\n</interface>"
        );
        assert_eq!(
            el.write(&style(b'"'), false),
            "<interface type=\"network\"><source network=\"it's\"/>\
             <model type=\"virtio\"/></interface>"
        );
    }

    #[test]
    fn writes_text_escaped() {
        let el = NewElement::new("title").text("a < b & c");
        assert_eq!(
            el.write(&style(b'\''), true),
            "<title>a &lt; b &amp; c</title>"
        );
    }
}
