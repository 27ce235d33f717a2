//! The XML edits of snapshots, clones and migration, in one place.
//!
//! Each edit replaces the bytes of exactly what it changes in the text libvirt gave;
//! everything else (comments, unknown elements, other applications' metadata, quoting,
//! indentation) stays as it was. This is the small subset of the document layer
//! (`virt::domain_xml`, coming from the `xmldoc` branch) that these features need; once
//! that layer is on main these functions become calls into it.

use std::ops::Range;

use roxmltree::{Document, Node};

use super::error::{Result, VirtError};

/// Escapes text for an element's content or an attribute value (either quote).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Replacements collected against one text, applied together.
struct Splices<'a> {
    text: &'a str,
    edits: Vec<(Range<usize>, String)>,
}

impl<'a> Splices<'a> {
    fn new(text: &'a str) -> Self {
        Splices {
            text,
            edits: Vec::new(),
        }
    }

    fn replace(&mut self, range: Range<usize>, with: impl Into<String>) {
        self.edits.push((range, with.into()));
    }

    /// Removes an element together with the indentation before it.
    fn remove_node(&mut self, n: Node) {
        let r = n.range();
        let before = &self.text[..r.start];
        let start = before
            .rfind(|c: char| !c.is_whitespace())
            .map_or(0, |i| i + 1)
            .max(before.rfind('\n').unwrap_or(r.start));
        self.replace(start..r.end, "");
    }

    /// Removes an attribute with the space before it.
    fn remove_attribute(&mut self, n: Node, name: &str) {
        if let Some(a) = n.attributes().find(|a| a.name() == name) {
            let r = a.range();
            let start = self.text[..r.start].trim_end().len();
            self.replace(start..r.end, "");
        }
    }

    /// Sets an attribute's value, adding the attribute after the tag name if missing.
    fn set_attribute(&mut self, n: Node, name: &str, value: &str) {
        match n.attributes().find(|a| a.name() == name) {
            Some(a) => self.replace(a.range_value(), escape(value)),
            None => {
                let at = n.range().start + 1 + n.tag_name().name().len();
                self.replace(at..at, format!(" {name}='{}'", escape(value)));
            }
        }
    }

    /// Sets an element's text content (`<e/>` becomes `<e>text</e>`).
    fn set_text(&mut self, n: Node, value: &str) {
        let tag = n.tag_name().name();
        match n.first_child() {
            Some(t) if t.is_text() && n.children().count() == 1 => {
                self.replace(t.range(), escape(value))
            }
            _ => {
                let open_end = self.text[n.range()].find('>').map(|i| n.range().start + i);
                match open_end {
                    // `<e .../>`: keep the opening tag's attributes.
                    Some(end) if self.text[..end].ends_with('/') => {
                        let open = &self.text[n.range().start..end - 1];
                        self.replace(
                            n.range(),
                            format!("{}>{}</{tag}>", open.trim_end(), escape(value)),
                        );
                    }
                    Some(end) => {
                        let open = &self.text[n.range().start..=end];
                        self.replace(n.range(), format!("{open}{}</{tag}>", escape(value)));
                    }
                    None => {}
                }
            }
        }
    }

    /// Inserts `xml` as a new sibling right after `n`, indented like `n`.
    fn insert_after(&mut self, n: Node, xml: &str) {
        let r = n.range();
        let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &self.text[line_start..r.start];
        let sep = if indent.chars().all(char::is_whitespace) && line_start > 0 {
            format!("\n{indent}")
        } else {
            String::new()
        };
        self.replace(r.end..r.end, format!("{sep}{xml}"));
    }

    fn apply(mut self) -> Result<String> {
        self.edits.sort_by_key(|(r, _)| (r.start, r.end));
        let mut out = String::with_capacity(self.text.len() + 64);
        let mut at = 0;
        for (r, with) in &self.edits {
            if r.start < at {
                return Err(VirtError::Xml("overlapping XML edits".into()));
            }
            out.push_str(&self.text[at..r.start]);
            out.push_str(with);
            at = r.end;
        }
        out.push_str(&self.text[at..]);
        Ok(out)
    }
}

fn parse(xml: &str) -> Result<Document<'_>> {
    Document::parse(xml).map_err(|e| VirtError::Xml(e.to_string()))
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn children<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| c.has_tag_name(name))
}

/// A snapshot's XML with `description` as its description (added after `<name>`
/// when there was none; an empty text removes it).
pub fn set_snapshot_description(xml: &str, description: &str) -> Result<String> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let mut s = Splices::new(xml);
    match (child(root, "description"), description.is_empty()) {
        (Some(d), true) => s.remove_node(d),
        (Some(d), false) => s.set_text(d, description),
        (None, true) => {}
        (None, false) => {
            let name = child(root, "name")
                .ok_or_else(|| VirtError::Xml("the snapshot has no <name>".into()))?;
            s.insert_after(
                name,
                &format!("<description>{}</description>", escape(description)),
            );
        }
    }
    s.apply()
}

/// Where a disk of a new definition gets its data from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSource {
    /// Target device of the disk to change ("vda").
    pub target: String,
    /// The new file on the host.
    pub path: String,
    /// A new image format for `<driver type>` (an overlay is always qcow2).
    pub format: Option<String>,
}

/// Points disks at new files (`<disk type='file'>` + `<source file>`), and the NVRAM
/// at `nvram` when given. Other disks are left alone.
fn retarget(
    s: &mut Splices,
    domain: Node,
    disks: &[DiskSource],
    nvram: Option<&str>,
) -> Result<()> {
    if let Some(devices) = child(domain, "devices") {
        for disk in children(devices, "disk") {
            let Some(target) = child(disk, "target").and_then(|t| t.attribute("dev")) else {
                continue;
            };
            let Some(new) = disks.iter().find(|d| d.target == target) else {
                continue;
            };
            if disk.attribute("type") != Some("file") {
                s.set_attribute(disk, "type", "file");
            }
            match child(disk, "source") {
                Some(src) if src.has_attribute("file") => s.set_attribute(src, "file", &new.path),
                Some(src) => s.replace(
                    src.range(),
                    format!("<source file='{}'/>", escape(&new.path)),
                ),
                None => {
                    let anchor = child(disk, "driver")
                        .unwrap_or_else(|| disk.first_element_child().unwrap_or(disk));
                    s.insert_after(anchor, &format!("<source file='{}'/>", escape(&new.path)));
                }
            }
            if let Some(b) = child(disk, "backingStore") {
                s.remove_node(b);
            }
            if let Some(format) = &new.format {
                match child(disk, "driver") {
                    Some(drv) => s.set_attribute(drv, "type", format),
                    None => {
                        return Err(VirtError::Xml(format!(
                            "disk {target} has no <driver> to set its format on"
                        )))
                    }
                }
            }
        }
    }
    if let (Some(path), Some(os)) = (nvram, child(domain, "os")) {
        if let Some(n) = child(os, "nvram") {
            s.set_text(n, path);
        }
    }
    Ok(())
}

/// A domain's XML with its disks moved to other files (migration to a host where the
/// volumes live elsewhere).
pub fn retarget_disks(xml: &str, disks: &[DiskSource], nvram: Option<&str>) -> Result<String> {
    let doc = parse(xml)?;
    let mut s = Splices::new(xml);
    retarget(&mut s, doc.root_element(), disks, nvram)?;
    s.apply()
}

/// What changes between a domain and its clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneEdits {
    /// The clone's name.
    pub name: String,
    /// Disks that get a new file (copied or overlaid); the others are shared.
    pub disks: Vec<DiskSource>,
    /// The clone's NVRAM file, when the original has one.
    pub nvram: Option<String>,
}

/// The definition of a clone, as virt-clone makes it: a new name; no UUID (libvirt
/// assigns one), no title (two rows titled alike would look the same); no MAC address
/// on any interface (libvirt generates new ones) nor host-side device name; graphics
/// on a fixed port move to an automatic one; unix channel sockets and file-backed
/// serial ports named after the original get names of their own; the SMBIOS UUID
/// follows the new UUID; disks and NVRAM as `edits` say.
pub fn clone_domain(xml: &str, edits: &CloneEdits) -> Result<String> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    let old_name = child(root, "name")
        .and_then(|n| n.text())
        .ok_or_else(|| VirtError::Xml("the domain has no <name>".into()))?;
    let mut s = Splices::new(xml);
    if let Some(n) = child(root, "name") {
        s.set_text(n, &edits.name);
    }
    for tag in ["uuid", "title"] {
        if let Some(n) = child(root, tag) {
            s.remove_node(n);
        }
    }
    if let Some(sysinfo) = child(root, "sysinfo") {
        for entry in child(sysinfo, "system")
            .into_iter()
            .flat_map(|sys| children(sys, "entry"))
            .filter(|e| e.attribute("name") == Some("uuid"))
        {
            s.remove_node(entry);
        }
    }
    if let Some(devices) = child(root, "devices") {
        for iface in children(devices, "interface") {
            for tag in ["mac", "target"] {
                if let Some(n) = child(iface, tag) {
                    s.remove_node(n);
                }
            }
        }
        for g in children(devices, "graphics") {
            let fixed = |a: &str| g.attribute(a).is_some_and(|p| p != "-1" && p != "0");
            if fixed("port") || fixed("tlsPort") {
                s.set_attribute(g, "autoport", "yes");
                s.remove_attribute(g, "port");
                s.remove_attribute(g, "tlsPort");
            }
        }
        for ch in children(devices, "channel").filter(|c| c.attribute("type") == Some("unix")) {
            if let Some(src) = child(ch, "source") {
                if src.attribute("path").is_some_and(|p| p.contains(old_name)) {
                    s.remove_attribute(src, "path");
                }
            }
        }
        for port in devices
            .children()
            .filter(|c| c.has_tag_name("serial") || c.has_tag_name("console"))
        {
            if port.attribute("type") == Some("file") {
                if let Some(src) = child(port, "source") {
                    if let Some(p) = src.attribute("path") {
                        s.set_attribute(src, "path", &renamed_path(p, old_name, &edits.name));
                    }
                }
            }
            if let Some(log) = child(port, "log") {
                if let Some(p) = log.attribute("file") {
                    s.set_attribute(log, "file", &renamed_path(p, old_name, &edits.name));
                }
            }
        }
    }
    retarget(&mut s, root, &edits.disks, edits.nvram.as_deref())?;
    s.apply()
}

/// A file of the clone named after the original's: the original name replaced in the
/// file name, else "-clone" before the extension.
pub fn renamed_path(path: &str, old_name: &str, new_name: &str) -> String {
    let (dir, file) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    if !old_name.is_empty() && file.contains(old_name) {
        return format!("{dir}{}", file.replace(old_name, new_name));
    }
    match file.rfind('.').filter(|&i| i > 0 && file.len() - i <= 8) {
        Some(i) => format!("{dir}{}-clone{}", &file[..i], &file[i..]),
        None => format!("{dir}{file}-clone"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = r#"<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>web</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <title>Web server</title>
  <!-- keep this comment -->
  <metadata><app:x xmlns:app="urn:app">kept &amp; intact</app:x></metadata>
  <memory unit="GiB">2</memory>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>Acme</entry>
      <entry name='uuid'>c7a5fdbd-edaf-9455-926a-d65c16db1809</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='/var/lib/libvirt/images/web.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='data' volume='web-data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/isos/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default'/>
      <target dev='vnet7'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='/var/log/web-serial.log'/>
      <log file='/var/log/libvirt/qemu/web-console.log'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/web.org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <graphics type="vnc" port="5901" autoport="no" listen="127.0.0.1"/>
    <graphics type='spice' autoport='yes'/>
  </devices>
  <qemu:commandline><qemu:arg value='-no-hpet'/></qemu:commandline>
</domain>
"#;

    #[test]
    fn clone_changes_only_what_identifies_the_original() {
        let out = clone_domain(
            DOMAIN,
            &CloneEdits {
                name: "web-clone".into(),
                disks: vec![
                    DiskSource {
                        target: "vda".into(),
                        path: "/var/lib/libvirt/images/web-clone.img".into(),
                        format: None,
                    },
                    DiskSource {
                        target: "vdb".into(),
                        path: "/srv/data/web-clone-data.qcow2".into(),
                        format: Some("qcow2".into()),
                    },
                ],
                nvram: Some("/var/lib/libvirt/qemu/nvram/web-clone_VARS.fd".into()),
            },
        )
        .unwrap();
        let doc = Document::parse(&out).expect("still XML");
        let root = doc.root_element();
        assert_eq!(child(root, "name").unwrap().text(), Some("web-clone"));
        assert!(child(root, "uuid").is_none() && child(root, "title").is_none());
        assert!(!out.contains("52:54:00:11:22:33") && !out.contains("vnet7"));
        assert!(!out.contains("<entry name='uuid'>"));
        assert!(out.contains("<entry name='manufacturer'>Acme</entry>"));
        assert!(out.contains("<source file='/var/lib/libvirt/images/web-clone.img'/>"));
        assert!(out.contains("<disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='/srv/data/web-clone-data.qcow2'/>"));
        // The CD-ROM is shared: untouched.
        assert!(out.contains("<source file='/isos/debian.iso'/>"));
        assert!(out.contains(">/var/lib/libvirt/qemu/nvram/web-clone_VARS.fd</nvram>"));
        assert!(out.contains(r#"<graphics type="vnc" autoport="yes" listen="127.0.0.1"/>"#));
        assert!(out.contains("<graphics type='spice' autoport='yes'/>"));
        assert!(out.contains("<source mode='bind'/>"));
        assert!(out.contains("<source path='/var/log/web-clone-serial.log'/>"));
        assert!(out.contains("<log file='/var/log/libvirt/qemu/web-clone-console.log'/>"));
        // Everything else byte for byte.
        for kept in [
            "<!-- keep this comment -->",
            r#"<app:x xmlns:app="urn:app">kept &amp; intact</app:x>"#,
            r#"<memory unit="GiB">2</memory>"#,
            "<qemu:commandline><qemu:arg value='-no-hpet'/></qemu:commandline>",
            "<model type='virtio'/>",
        ] {
            assert!(out.contains(kept), "lost {kept}:\n{out}");
        }
        // Removed elements take their line with them.
        assert!(!out.contains("\n  \n"), "blank lines left:\n{out}");
    }

    #[test]
    fn renamed_paths_follow_virt_clone() {
        assert_eq!(renamed_path("/a/web.qcow2", "web", "db"), "/a/db.qcow2");
        assert_eq!(
            renamed_path("/a/disk.qcow2", "web", "db"),
            "/a/disk-clone.qcow2"
        );
        assert_eq!(renamed_path("/a/disk", "web", "db"), "/a/disk-clone");
    }

    #[test]
    fn snapshot_description_is_set_added_and_removed() {
        let with = "<domainsnapshot>\n  <name>s1</name>\n  <description>old</description>\n  <state>running</state>\n</domainsnapshot>";
        let out = set_snapshot_description(with, "new <one> & 'quoted'").unwrap();
        assert_eq!(
            out,
            "<domainsnapshot>\n  <name>s1</name>\n  <description>new &lt;one&gt; &amp; &apos;quoted&apos;</description>\n  <state>running</state>\n</domainsnapshot>"
        );
        let removed = set_snapshot_description(with, "").unwrap();
        assert_eq!(
            removed,
            "<domainsnapshot>\n  <name>s1</name>\n  <state>running</state>\n</domainsnapshot>"
        );
        let added = set_snapshot_description(&removed, "hello").unwrap();
        assert_eq!(
            added,
            "<domainsnapshot>\n  <name>s1</name>\n  <description>hello</description>\n  <state>running</state>\n</domainsnapshot>"
        );
        let empty = set_snapshot_description(
            "<domainsnapshot><name>a</name><description/></domainsnapshot>",
            "x",
        )
        .unwrap();
        assert_eq!(
            empty,
            "<domainsnapshot><name>a</name><description>x</description></domainsnapshot>"
        );
    }

    #[test]
    fn retargeted_disks_drop_their_old_backing_chain() {
        let xml = "<domain><name>a</name><devices><disk type='block' device='disk'>\
                   <driver name='qemu' type='raw'/><source dev='/dev/sdb' index='2'/>\
                   <backingStore/><target dev='vda'/></disk></devices></domain>";
        let out = retarget_disks(
            xml,
            &[DiskSource {
                target: "vda".into(),
                path: "/var/lib/libvirt/images/a.raw".into(),
                format: None,
            }],
            None,
        )
        .unwrap();
        assert_eq!(
            out,
            "<domain><name>a</name><devices><disk type='file' device='disk'>\
             <driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/a.raw'/>\
             <target dev='vda'/></disk></devices></domain>"
        );
    }
}
