//! `<metadata>`: the OS id virt-install and GNOME Boxes record (libosinfo's namespace)
//! and Vireo's own settings (Vireo's namespace). Other applications' elements there
//! are never touched.

use std::collections::BTreeMap;

use super::document::NodeId;
use super::domain::DomainXml;
use super::error::Result;
use super::fragment::NewElement;

/// Vireo's metadata namespace.
pub const VIREO_NS: &str = "https://github.com/vireo/vireo/xmlns/domain/1.0";
/// The prefix Vireo writes its namespace with.
const VIREO_PREFIX: &str = "vireo";
/// libosinfo's namespace, where virt-install and Boxes record the guest OS.
pub const LIBOSINFO_NS: &str = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

impl DomainXml {
    /// The first element of namespace `ns` inside `<metadata>`.
    pub fn metadata_element(&self, ns: &str) -> Option<NodeId> {
        let m = self.doc.child(self.root(), "metadata")?;
        self.doc
            .children(m)
            .find(|&c| self.doc.namespace(c) == Some(ns))
    }

    /// The libosinfo id of the guest OS (`http://debian.org/debian/12`), if recorded.
    pub fn os_id(&self) -> Option<&str> {
        let info = self.metadata_element(LIBOSINFO_NS)?;
        let os = self
            .doc
            .children(info)
            .find(|&c| self.doc.name(c) == "os" && self.doc.namespace(c) == Some(LIBOSINFO_NS))?;
        self.doc.attr(os, "id")
    }

    /// Vireo's settings for this domain, by name.
    pub fn vireo_settings(&self) -> BTreeMap<String, String> {
        let Some(root) = self.metadata_element(VIREO_NS) else {
            return BTreeMap::new();
        };
        self.setting_elements(root)
            .into_iter()
            .filter_map(|s| {
                Some((
                    self.doc.attr(s, "name")?.to_owned(),
                    self.doc.attr(s, "value").unwrap_or("").to_owned(),
                ))
            })
            .collect()
    }

    fn setting_elements(&self, root: NodeId) -> Vec<NodeId> {
        self.doc
            .children(root)
            .filter(|&c| self.doc.name(c) == "setting" && self.doc.namespace(c) == Some(VIREO_NS))
            .collect()
    }

    /// Sets (`Some`) or removes (`None`) one of Vireo's settings, creating
    /// `<metadata>` and Vireo's element as needed and removing them when emptied.
    pub fn set_vireo_setting(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        let existing = self.metadata_element(VIREO_NS).and_then(|r| {
            self.setting_elements(r)
                .into_iter()
                .find(|&s| self.doc.attr(s, "name") == Some(name))
        });
        match (existing, value) {
            (Some(el), Some(v)) => self.doc.set_attr(el, "value", v),
            (Some(el), None) => {
                let holder = self.doc.parent(el).expect("a setting has a parent");
                self.doc.remove(el)?;
                let root = self.root();
                self.doc.prune(holder, root)
            }
            (None, Some(v)) => {
                let holder = match self.metadata_element(VIREO_NS) {
                    Some(h) => h,
                    None => {
                        let root = self.root();
                        let metadata = self.doc.ensure_child(root, "metadata")?;
                        let at = self.doc.children(metadata).count();
                        let el = NewElement::new(format!("{VIREO_PREFIX}:{VIREO_PREFIX}"))
                            .attr(format!("xmlns:{VIREO_PREFIX}"), VIREO_NS);
                        self.doc.insert_element(metadata, at, &el)?
                    }
                };
                let prefix = self
                    .doc
                    .qname(holder)
                    .split_once(':')
                    .map_or(String::new(), |(p, _)| format!("{p}:"));
                let at = self.doc.children(holder).count();
                let el = NewElement::new(format!("{prefix}setting"))
                    .attr("name", name)
                    .attr("value", v);
                self.doc.insert_element(holder, at, &el).map(drop)
            }
            (None, None) => Ok(()),
        }
    }
}
