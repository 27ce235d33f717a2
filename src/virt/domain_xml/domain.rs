//! [`DomainXml`]: a `<domain>` document with typed views of what Vireo edits: name,
//! title, description, memory and vCPUs here; CPU, OS and features in `cpu_os`,
//! metadata in `metadata`, devices in `devices`.

use super::diff;
use super::document::{NodeId, XmlDoc};
use super::error::{DomainXmlError, Result};
use super::fields::number;
use super::units::MemorySize;

/// A domain's XML, as libvirt (or a file) gave it, with typed reads and edits.
/// Every edit changes only the bytes of what it changes; see the [module](super) docs.
#[derive(Clone, Debug)]
pub struct DomainXml {
    pub(super) doc: XmlDoc,
}

/// The `<vcpu>` element: how many vCPUs the domain has and how many are online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpus {
    /// The maximum (the element's text).
    pub max: u32,
    /// The number online at boot (`current`), `None` when all are.
    pub current: Option<u32>,
    /// `static` or `auto`.
    pub placement: Option<String>,
    /// Host CPUs the vCPUs may run on, as libvirt writes a CPU set.
    pub cpuset: Option<String>,
}

impl DomainXml {
    /// Parses a domain document.
    pub fn parse(text: impl Into<String>) -> Result<DomainXml> {
        let doc = XmlDoc::parse(text)?;
        let root = doc.root();
        if !doc.is(root, "domain") {
            return Err(DomainXmlError::NotADomain(doc.qname(root).to_owned()));
        }
        Ok(DomainXml { doc })
    }

    /// The generic document, for reads the typed views do not cover.
    pub fn doc(&self) -> &XmlDoc {
        &self.doc
    }

    /// The generic document, for edits the typed views do not cover.
    pub fn doc_mut(&mut self) -> &mut XmlDoc {
        &mut self.doc
    }

    /// The current text.
    pub fn text(&self) -> &str {
        self.doc.text()
    }

    /// The text as read.
    pub fn original(&self) -> &str {
        self.doc.original()
    }

    /// True when the text differs from what was read: when false, there is nothing to
    /// define.
    pub fn is_changed(&self) -> bool {
        self.doc.is_changed()
    }

    /// Takes the current text.
    pub fn into_text(self) -> String {
        self.doc.into_text()
    }

    /// The unified diff from the original text to the current one (empty when
    /// unchanged), labelled as virt-xml labels it.
    pub fn diff(&self) -> String {
        diff::unified(self.original(), self.text(), "Original XML", "Altered XML")
    }

    pub(super) fn root(&self) -> NodeId {
        self.doc.root()
    }

    /// The hypervisor type (`kvm`, `qemu`, `test`...).
    pub fn domain_type(&self) -> Option<&str> {
        self.doc.attr(self.root(), "type")
    }

    /// The domain's name.
    pub fn name(&self) -> Option<&str> {
        self.doc
            .child(self.root(), "name")
            .map(|n| self.doc.text_of(n))
    }

    /// Renames the domain (in the document: libvirt needs `virDomainRename` for a
    /// defined domain, which the caller does).
    pub fn set_name(&mut self, name: &str) -> Result<()> {
        if name.trim().is_empty() || name.contains(['/', '\n', '\r']) {
            return Err(DomainXmlError::invalid(
                "name",
                name,
                "a name must not be empty or contain '/' or a line break",
            ));
        }
        let root = self.root();
        self.doc.put_text(root, "name", Some(name))
    }

    /// The domain's UUID.
    pub fn uuid(&self) -> Option<&str> {
        self.doc
            .child(self.root(), "uuid")
            .map(|n| self.doc.text_of(n))
    }

    /// The short title shown beside the name, if any.
    pub fn title(&self) -> Option<&str> {
        self.doc
            .child(self.root(), "title")
            .map(|n| self.doc.text_of(n))
    }

    /// Sets the title; `None` or an empty title removes it. libvirt refuses line breaks
    /// in a title.
    pub fn set_title(&mut self, title: Option<&str>) -> Result<()> {
        let title = title.filter(|t| !t.is_empty());
        if let Some(t) = title.filter(|t| t.contains(['\n', '\r'])) {
            return Err(DomainXmlError::invalid(
                "title",
                t,
                "a title must be one line",
            ));
        }
        let root = self.root();
        self.doc.put_text(root, "title", title)
    }

    /// The free-form description, if any.
    pub fn description(&self) -> Option<&str> {
        self.doc
            .child(self.root(), "description")
            .map(|n| self.doc.text_of(n))
    }

    /// Sets the description; `None` or an empty one removes it.
    pub fn set_description(&mut self, text: Option<&str>) -> Result<()> {
        let root = self.root();
        self.doc
            .put_text(root, "description", text.filter(|t| !t.is_empty()))
    }

    fn size_of(&self, name: &str) -> Option<MemorySize> {
        let el = self.doc.child(self.root(), name)?;
        Some(MemorySize {
            amount: number(self.doc.text_of(el))?,
            unit: self.doc.attr(el, "unit").map(str::to_owned),
        })
    }

    fn set_size(&mut self, name: &str, size: Option<&MemorySize>) -> Result<()> {
        let root = self.root();
        match size {
            None => self.doc.put_text(root, name, None),
            Some(s) => {
                if s.to_kib().is_none() {
                    return Err(DomainXmlError::invalid(
                        name,
                        &format!("{} {}", s.amount, s.unit.as_deref().unwrap_or("")),
                        "not a size libvirt accepts",
                    ));
                }
                let el = self.doc.ensure_child(root, name)?;
                self.doc.set_text(el, &s.amount.to_string())?;
                match &s.unit {
                    Some(u) => self.doc.set_attr(el, "unit", u),
                    None => self.doc.remove_attr(el, "unit").map(drop),
                }
            }
        }
    }

    /// `size` written in the unit `name` already uses when it is a whole number there
    /// (so `4 GiB` stays `4 GiB`), else in KiB.
    fn size_like(&self, name: &str, kib: u64) -> MemorySize {
        let current = self.size_of(name);
        let unit = current.as_ref().and_then(|c| c.unit.clone());
        match unit {
            None if current.is_some() => MemorySize {
                amount: kib,
                unit: None,
            },
            Some(u) => MemorySize::in_unit(kib, &u).unwrap_or_else(|| MemorySize::kib(kib)),
            None => MemorySize::kib(kib),
        }
    }

    /// `<memory>`: the memory the domain boots with (its maximum when ballooning).
    pub fn memory(&self) -> Option<MemorySize> {
        self.size_of("memory")
    }

    /// `<currentMemory>`: the balloon's target; libvirt takes `<memory>` when absent.
    pub fn current_memory(&self) -> Option<MemorySize> {
        self.size_of("currentMemory")
    }

    /// `<maxMemory>`: the ceiling for memory hot-plug, and its `slots`.
    pub fn max_memory(&self) -> Option<(MemorySize, Option<u32>)> {
        let el = self.doc.child(self.root(), "maxMemory")?;
        let slots = self.doc.attr(el, "slots").and_then(|s| s.parse().ok());
        Some((self.size_of("maxMemory")?, slots))
    }

    /// `<memory>` in KiB.
    pub fn memory_kib(&self) -> Option<u64> {
        self.memory()?.to_kib()
    }

    /// `<currentMemory>` in KiB, or `<memory>` when there is none (libvirt's default).
    pub fn current_memory_kib(&self) -> Option<u64> {
        self.current_memory()
            .and_then(|m| m.to_kib())
            .or_else(|| self.memory_kib())
    }

    /// Sets `<memory>` exactly as given (amount and unit).
    pub fn set_memory(&mut self, size: &MemorySize) -> Result<()> {
        self.set_size("memory", Some(size))
    }

    /// Sets `<currentMemory>` exactly as given; `None` removes it.
    pub fn set_current_memory(&mut self, size: Option<&MemorySize>) -> Result<()> {
        self.set_size("currentMemory", size)
    }

    /// Sets `<maxMemory>` and its slots; `None` removes it.
    pub fn set_max_memory(&mut self, size: Option<(&MemorySize, u32)>) -> Result<()> {
        self.set_size("maxMemory", size.map(|(s, _)| s))?;
        if let Some((_, slots)) = size {
            let root = self.root();
            self.doc.put_num(root, "maxMemory", "slots", Some(slots))?;
        }
        Ok(())
    }

    /// Sets `<memory>` to `kib`, in the unit it is written in when the value is whole
    /// there. A `<currentMemory>` above the new size comes down to it (libvirt would
    /// otherwise cut it silently).
    pub fn set_memory_kib(&mut self, kib: u64) -> Result<()> {
        check_kib("memory", kib)?;
        let size = self.size_like("memory", kib);
        self.set_memory(&size)?;
        if self
            .current_memory()
            .and_then(|c| c.to_kib())
            .is_some_and(|c| c > kib)
        {
            let cur = self.size_like("currentMemory", kib);
            self.set_current_memory(Some(&cur))?;
        }
        Ok(())
    }

    /// Sets `<currentMemory>` to `kib` (adding it after `<memory>` when missing). A
    /// `<memory>` below the new size goes up to it, as virt-install and virt-xml do.
    pub fn set_current_memory_kib(&mut self, kib: u64) -> Result<()> {
        check_kib("currentMemory", kib)?;
        if self.memory_kib().map_or(true, |m| m < kib) {
            let size = self.size_like("memory", kib);
            self.set_memory(&size)?;
        }
        let cur = self.size_like("currentMemory", kib);
        self.set_current_memory(Some(&cur))
    }

    /// The `<vcpu>` element.
    pub fn vcpus(&self) -> Option<Vcpus> {
        let el = self.doc.child(self.root(), "vcpu")?;
        Some(Vcpus {
            max: self.doc.text_of(el).trim().parse().ok()?,
            current: self.doc.attr(el, "current").and_then(|c| c.parse().ok()),
            placement: self.doc.attr(el, "placement").map(str::to_owned),
            cpuset: self.doc.attr(el, "cpuset").map(str::to_owned),
        })
    }

    /// Sets the maximum and online vCPU counts (`current` equal to `max` is written as
    /// no `current`, as libvirt does). A CPU topology that matched the old maximum has
    /// its sockets adjusted to the new one when that makes it fit, else this fails and
    /// asks for a topology (one that did not match before is left as it is).
    pub fn set_vcpus(&mut self, max: u32, current: Option<u32>) -> Result<()> {
        if max == 0 {
            return Err(DomainXmlError::invalid(
                "vcpus",
                "0",
                "at least one vCPU is needed",
            ));
        }
        if let Some(c) = current.filter(|&c| c == 0 || c > max) {
            return Err(DomainXmlError::invalid(
                "vcpu.current",
                &c.to_string(),
                format!("must be between 1 and the maximum, {max}"),
            ));
        }
        let old_max = self.vcpus().map(|v| v.max);
        let fitted = match self.cpu().topology {
            Some(t) if t.total() != max && Some(t.total()) == old_max => Some(t.fitted_to(max).ok_or_else(|| {
                DomainXmlError::invalid(
                    "vcpus",
                    &max.to_string(),
                    format!(
                        "the CPU topology ({} sockets, {} cores, {} threads) does not divide it; set the topology too",
                        t.sockets, t.cores, t.threads
                    ),
                )
            })?),
            _ => None,
        };
        let root = self.root();
        let el = self.doc.ensure_child(root, "vcpu")?;
        self.doc.set_text(el, &max.to_string())?;
        let current = current.filter(|&c| c != max);
        self.doc.put_num(el, "", "current", current)?;
        if let Some(t) = fitted {
            self.set_topology(Some(&t))?;
        }
        Ok(())
    }

    /// Sets or removes `<vcpu placement>` (`static` or `auto`).
    pub fn set_vcpu_placement(&mut self, placement: Option<&str>) -> Result<()> {
        let root = self.root();
        self.doc.put(root, "vcpu", "placement", placement)
    }

    /// Sets or removes `<vcpu cpuset>` (host CPUs, as `1-4,^3,6`).
    pub fn set_vcpu_cpuset(&mut self, cpuset: Option<&str>) -> Result<()> {
        let root = self.root();
        self.doc.put(root, "vcpu", "cpuset", cpuset)
    }
}

fn check_kib(field: &str, kib: u64) -> Result<()> {
    if kib == 0 {
        return Err(DomainXmlError::invalid(
            field,
            "0",
            "a domain needs some memory",
        ));
    }
    Ok(())
}
