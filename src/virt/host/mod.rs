//! A host's own side, as the host page shows it: its facts and CPU/memory load, its
//! storage pools and their volumes, its virtual networks and their DHCP leases, its USB
//! and PCI devices, and which domains use what. GTK-free; every call here blocks and runs
//! on a connection's worker (or, for volume transfers, on a thread of its own).
//!
//! Each area has pure parts (XML read and written, forms checked) tested without
//! libvirt, and the libvirt calls that use them.

pub mod facts;
pub mod ip;
pub mod networks;
pub mod node_devices;
pub mod pools;
pub mod transfer;
pub mod usage;
pub mod volumes;

use super::error::VirtError;

/// Runs a safe `virt` crate call, keeping libvirt's text on failure.
fn call<T>(
    op: &'static str,
    r: std::result::Result<T, virt::error::Error>,
) -> Result<T, VirtError> {
    r.map_err(VirtError::from_crate(op))
}

/// A list call where "not supported by this driver" means an empty list (the embedded
/// QEMU driver has no storage and no networks).
fn optional_list<T>(
    op: &'static str,
    r: std::result::Result<Vec<T>, virt::error::Error>,
) -> Result<Vec<T>, VirtError> {
    match call(op, r) {
        Err(e) if e.is_unsupported() => Ok(Vec::new()),
        other => other,
    }
}

/// The first child element of `node` named `name`.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(name))
}

/// The trimmed text of `node`'s child `name`, if there is some.
fn child_text(node: roxmltree::Node, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Parses XML that libvirt gave us.
fn parse_xml(xml: &str) -> Result<roxmltree::Document<'_>, VirtError> {
    roxmltree::Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))
}

/// Escapes text for an XML attribute or element.
use crate::virt::new_vm::escape;

/// A byte count in libvirt's XML (`unit` attribute, bytes by default).
fn bytes_of(node: Option<roxmltree::Node>) -> u64 {
    let Some(n) = node else { return 0 };
    let value: u64 = n.text().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
    let scale: u64 = match n.attribute("unit").unwrap_or("bytes") {
        "b" | "bytes" => 1,
        "KB" => 1000,
        "k" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "T" | "TiB" => 1 << 40,
        _ => 1,
    };
    value.saturating_mul(scale)
}

/// Whether `name` can name a libvirt object we create (pool, volume, network): not
/// empty, no `/`, no control characters, not `.` or `..`. Returns the bad character.
fn name_problem(name: &str) -> Option<NameProblem> {
    if name.trim().is_empty() {
        return Some(NameProblem::Empty);
    }
    if name == "." || name == ".." {
        return Some(NameProblem::Reserved);
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || c.is_control()) {
        return Some(NameProblem::BadChar(c));
    }
    if name.len() > 200 {
        return Some(NameProblem::TooLong);
    }
    None
}

/// What is wrong with a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// No name.
    Empty,
    /// "." or "..".
    Reserved,
    /// A character that cannot be in it.
    BadChar(char),
    /// Longer than libvirt's tools handle well.
    TooLong,
    /// Another object of the host already has it.
    Taken,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        let doc = roxmltree::Document::parse("<c unit='KiB'>4</c>").unwrap();
        assert_eq!(bytes_of(Some(doc.root_element())), 4096);
        let doc = roxmltree::Document::parse("<c>12</c>").unwrap();
        assert_eq!(bytes_of(Some(doc.root_element())), 12);
        assert_eq!(bytes_of(None), 0);
    }

    #[test]
    fn names() {
        assert_eq!(name_problem(""), Some(NameProblem::Empty));
        assert_eq!(name_problem(".."), Some(NameProblem::Reserved));
        assert_eq!(name_problem("a/b"), Some(NameProblem::BadChar('/')));
        assert_eq!(name_problem("disk 1.qcow2"), None);
    }
}
