//! Field-level helpers the typed views are written with: read or write one attribute,
//! text or flag element at a path below an element, creating the elements on the way
//! (in libvirt's order) and removing the ones a removal leaves empty.
//!
//! Paths are `/`-separated unqualified element names relative to the element; the
//! empty path is the element itself.

use super::document::{NodeId, XmlDoc};
use super::error::Result;
use super::fragment::NewElement;
use super::order;

impl XmlDoc {
    /// The element at `path` below `el`.
    pub(super) fn at(&self, el: NodeId, path: &str) -> Option<NodeId> {
        self.find_from(el, path)
    }

    /// An attribute of the element at `path` below `el`.
    pub(super) fn get(&self, el: NodeId, path: &str, attr: &str) -> Option<String> {
        self.attr(self.at(el, path)?, attr).map(str::to_owned)
    }

    /// The text of the element at `path` below `el`, if that element exists.
    pub(super) fn get_text(&self, el: NodeId, path: &str) -> Option<String> {
        self.at(el, path).map(|n| self.text_of(n).to_owned())
    }

    /// True when `el` has a child named `name` (flags such as `<readonly/>`).
    pub(super) fn has(&self, el: NodeId, name: &str) -> bool {
        self.child(el, name).is_some()
    }

    /// The child `name` of `el`, created empty at its place in libvirt's order when
    /// missing.
    pub(super) fn ensure_child(&mut self, el: NodeId, name: &str) -> Result<NodeId> {
        if let Some(c) = self.child(el, name) {
            return Ok(c);
        }
        let at = order::position(self, el, name);
        self.insert_element(el, at, &NewElement::new(name))
    }

    /// The element at `path` below `el`, creating what is missing.
    pub(super) fn ensure_path(&mut self, el: NodeId, path: &str) -> Result<NodeId> {
        let mut at = el;
        for step in path.split('/').filter(|s| !s.is_empty()) {
            at = self.ensure_child(at, step)?;
        }
        Ok(at)
    }

    /// Sets (`Some`) or removes (`None`) an attribute of the element at `path` below
    /// `el`. A removal that leaves an element of the path empty removes it too.
    pub(super) fn put(
        &mut self,
        el: NodeId,
        path: &str,
        attr: &str,
        value: Option<&str>,
    ) -> Result<()> {
        match value {
            Some(v) => {
                let target = self.ensure_path(el, path)?;
                self.set_attr(target, attr, v)
            }
            None => {
                if let Some(target) = self.at(el, path) {
                    if self.remove_attr(target, attr)? {
                        self.prune(target, el)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Sets (`Some`) the text of the element at `path`, creating it, or removes the
    /// element (`None`).
    pub(super) fn put_text(&mut self, el: NodeId, path: &str, text: Option<&str>) -> Result<()> {
        match text {
            Some(t) => {
                let target = self.ensure_path(el, path)?;
                self.set_text(target, t)
            }
            None => {
                if let Some(target) = self.at(el, path).filter(|&t| t != el) {
                    let parent = self.parent(target);
                    self.remove(target)?;
                    if let Some(p) = parent {
                        self.prune(p, el)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Adds or removes the flag element `<name/>` of `el`.
    pub(super) fn put_flag(&mut self, el: NodeId, name: &str, on: bool) -> Result<()> {
        match (self.child(el, name), on) {
            (None, true) => self.ensure_child(el, name).map(drop),
            (Some(c), false) => self.remove(c),
            _ => Ok(()),
        }
    }

    /// Removes `from` and then its ancestors while they are empty (no attributes, no
    /// child elements, no text), stopping at `stop`.
    pub(super) fn prune(&mut self, from: NodeId, stop: NodeId) -> Result<()> {
        let mut at = from;
        while at != stop && self.is_empty_element(at) {
            let parent = self.parent(at);
            self.remove(at)?;
            match parent {
                Some(p) => at = p,
                None => break,
            }
        }
        Ok(())
    }

    fn is_empty_element(&self, el: NodeId) -> bool {
        self.attrs(el).next().is_none()
            && self.children(el).next().is_none()
            && self.text_of(el).trim().is_empty()
            && !self.source(el).contains("<!--")
    }

    /// `put` for values that are written with `to_string` (numbers).
    pub(super) fn put_num<T: ToString>(
        &mut self,
        el: NodeId,
        path: &str,
        attr: &str,
        value: Option<T>,
    ) -> Result<()> {
        let v = value.map(|v| v.to_string());
        self.put(el, path, attr, v.as_deref())
    }
}

/// Parses a number libvirt wrote (decimal, or hexadecimal with `0x`).
pub(super) fn number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// `yes`/`on` -> true, `no`/`off` -> false.
pub(super) fn yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" | "on" => Some(true),
        "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_on_a_missing_path_creates_it_and_removing_it_prunes_it() {
        let text = "<domain>\n  <devices>\n    <disk type='file'>\n      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>\n";
        let mut doc = XmlDoc::parse(text).unwrap();
        let disk = doc.find("devices/disk").unwrap();
        doc.put(disk, "driver", "cache", Some("none")).unwrap();
        assert!(
            doc.text().contains(
                "    <disk type='file'>\n      <driver cache='none'/>\n      <target dev='vda'/>"
            ),
            "{}",
            doc.text()
        );
        doc.check_index().unwrap();
        doc.put(disk, "driver", "cache", None).unwrap();
        assert_eq!(doc.text(), text);
        doc.check_index().unwrap();
    }

    #[test]
    fn flags_and_text() {
        let text = "<domain>\n  <devices>\n    <disk>\n      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>";
        let mut doc = XmlDoc::parse(text).unwrap();
        let disk = doc.find("devices/disk").unwrap();
        doc.put_flag(disk, "readonly", true).unwrap();
        doc.put_text(disk, "serial", Some("WD&1")).unwrap();
        assert!(doc.text().contains("<target dev='vda'/>\n      <readonly/>\n      <serial>WD&amp;1</serial>\n    </disk>"), "{}", doc.text());
        doc.put_text(disk, "serial", None).unwrap();
        doc.put_flag(disk, "readonly", false).unwrap();
        assert_eq!(doc.text(), text);
        doc.check_index().unwrap();
    }

    #[test]
    fn numbers() {
        assert_eq!(number("0x1f"), Some(31));
        assert_eq!(number(" 12 "), Some(12));
        assert_eq!(number("x"), None);
    }
}
