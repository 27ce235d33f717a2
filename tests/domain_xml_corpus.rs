//! The document layer on every XML document of virt-manager's test suite
//! (`tests/data/virt-manager`, see `tests/data/README.md`):
//!
//! - each reads and prints back byte for byte, with an index that matches the text;
//! - each supported edit, on each domain it applies to, changes only the lines of what
//!   it edits (checked against the line spans of the edited elements), keeps the index
//!   in step, and the edit undone by a second edit gives back the original bytes;
//! - a representative set of edits matches golden diffs in `tests/golden/domain_xml`
//!   (`VIREO_UPDATE_GOLDEN=1` rewrites them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vireo::virt::domain_xml::devices::{
    CharDevice, Controller, Disk, DiskSource, Filesystem, Graphics, Hostdev, Input, Interface,
    InterfaceSource, Listen, Memballoon, Rng, Sound, Tpm, Video, Watchdog,
};
use vireo::virt::domain_xml::{DeviceKey, DeviceView, DomainXml, DomainXmlError, NodeId, XmlDoc};

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/virt-manager");
    let mut files = Vec::new();
    for dir in ["compare", "xmlparse"] {
        for e in std::fs::read_dir(root.join(dir)).expect("tests/data/virt-manager") {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() > 140, "the corpus is there");
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn domains() -> Vec<(String, String)> {
    corpus()
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read(&p),
            )
        })
        .filter(|(_, t)| DomainXml::parse(t.clone()).is_ok())
        .collect()
}

#[test]
fn every_document_reads_and_prints_back_unchanged() {
    let mut domains = 0;
    for path in corpus() {
        let text = read(&path);
        let doc = XmlDoc::parse(text.clone()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(doc.text(), text, "{}", path.display());
        assert!(!doc.is_changed());
        doc.check_index()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match DomainXml::parse(text.clone()) {
            Ok(dom) => {
                domains += 1;
                assert_eq!(dom.text(), text);
                assert_eq!(dom.diff(), "");
                // Every typed view reads without touching anything.
                let _ = (
                    dom.name(),
                    dom.memory(),
                    dom.vcpus(),
                    dom.cpu(),
                    dom.os(),
                    dom.features(),
                );
                for key in dom.devices() {
                    dom.resolve(&key)
                        .unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display()));
                    assert!(!dom.device_xml(&key).unwrap().is_empty());
                }
                assert_eq!(dom.text(), text);
            }
            Err(DomainXmlError::NotADomain(_)) => {}
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    assert!(domains >= 115, "{domains} domains");
}

/// Undoes an edit.
type Undo = Box<dyn FnOnce(&mut DomainXml)>;

/// An edit of the domain as a whole: applies itself and returns its undo, or `None`
/// when it does not apply. It may change only the lines of the top-level elements
/// named in `scope`.
struct TopEdit {
    name: &'static str,
    scope: &'static [&'static str],
    apply: fn(&mut DomainXml) -> Option<Undo>,
}

/// An edit of one device: it may change only the lines of that device.
struct DeviceEdit {
    name: &'static str,
    apply: fn(&mut DomainXml, &DeviceKey) -> Option<Undo>,
}

/// Applies `change` to device `key` through the typed view `T`; the undo writes the
/// view read before back (through the device's new key: the edit may change it).
fn on_device<T: DeviceView + 'static>(
    dom: &mut DomainXml,
    key: &DeviceKey,
    change: fn(&mut T) -> bool,
) -> Option<Undo> {
    if !T::kinds().contains(&key.kind) {
        return None;
    }
    let old: T = dom.device(key).ok()?;
    let mut new = old.clone();
    if !change(&mut new) || new == old {
        return None;
    }
    let el = dom.resolve(key).unwrap();
    dom.update_device(key, &new).unwrap();
    Some(Box::new(move |d: &mut DomainXml| {
        let key = d.key_of(el).expect("still a device");
        d.update_device(&key, &old).unwrap();
    }))
}

fn other(value: &mut Option<String>, a: &str, b: &str) -> bool {
    match value.as_deref() {
        Some(v) => *value = Some(if v == a { b } else { a }.to_owned()),
        None => *value = Some(a.to_owned()),
    }
    true
}

/// The XML of a top-level element and its place, to put it back with `restore_top`.
fn saved_top(d: &DomainXml, name: &str) -> Option<String> {
    d.doc()
        .child(d.doc().root(), name)
        .map(|el| d.doc().element_xml(el))
}

fn restore_top(d: &mut DomainXml, name: &str, saved: Option<String>) {
    let doc = d.doc_mut();
    let current = doc.child(doc.root(), name);
    match (current, saved) {
        (Some(el), Some(xml)) => drop(doc.replace_xml(el, &xml).unwrap()),
        (Some(el), None) => doc.remove(el).unwrap(),
        (None, Some(_)) => panic!("<{name}> disappeared"),
        (None, None) => {}
    }
}

fn top_edits() -> Vec<TopEdit> {
    vec![
        TopEdit {
            name: "title",
            scope: &["title"],
            apply: |d| {
                let old = d.title().map(str::to_owned);
                d.set_title(Some("Vireo's <test> & title")).unwrap();
                Some(Box::new(move |d| d.set_title(old.as_deref()).unwrap()))
            },
        },
        TopEdit {
            name: "description",
            scope: &["description"],
            apply: |d| {
                let old = d.description().map(str::to_owned);
                d.set_description(Some("two\nlines, \"quoted\" & <escaped>"))
                    .unwrap();
                Some(Box::new(move |d| {
                    d.set_description(old.as_deref()).unwrap()
                }))
            },
        },
        TopEdit {
            name: "rename",
            scope: &["name"],
            apply: |d| {
                let old = d.name()?.to_owned();
                d.set_name("vireo-renamed").unwrap();
                Some(Box::new(move |d| d.set_name(&old).unwrap()))
            },
        },
        TopEdit {
            name: "memory",
            scope: &["memory", "currentMemory"],
            apply: |d| {
                let (mem, cur) = (d.memory()?, d.current_memory());
                d.set_memory_kib(mem.to_kib()? * 2).unwrap();
                Some(Box::new(move |d| {
                    d.set_memory(&mem).unwrap();
                    d.set_current_memory(cur.as_ref()).unwrap();
                }))
            },
        },
        TopEdit {
            name: "current-memory",
            scope: &["memory", "currentMemory"],
            apply: |d| {
                let (mem, cur) = (d.memory()?, d.current_memory());
                d.set_current_memory_kib(mem.to_kib()? / 2).unwrap();
                Some(Box::new(move |d| {
                    d.set_current_memory(cur.as_ref()).unwrap();
                    d.set_memory(&mem).unwrap();
                }))
            },
        },
        TopEdit {
            name: "vcpus",
            scope: &["vcpu", "cpu"],
            apply: |d| {
                let old = d.vcpus()?;
                let topology = d.cpu().topology;
                let max = topology.map_or(old.max, |t| t.total()) * 2;
                d.set_vcpus(max, Some(1)).unwrap();
                Some(Box::new(move |d| {
                    d.set_vcpus(old.max, old.current).unwrap();
                    d.set_topology(topology.as_ref()).unwrap();
                }))
            },
        },
        TopEdit {
            // Host passthrough drops the model and features (with whatever else they
            // carried), so this one is undone by restoring <cpu>, as a page's Revert
            // does.
            name: "cpu-host-passthrough",
            scope: &["cpu"],
            apply: |d| {
                let saved = saved_top(d, "cpu");
                let mut cpu = d.cpu();
                cpu.mode = Some("host-passthrough".into());
                cpu.model = None;
                cpu.model_fallback = None;
                cpu.features.clear();
                d.set_cpu(&cpu).unwrap();
                Some(Box::new(move |d| restore_top(d, "cpu", saved)))
            },
        },
        TopEdit {
            name: "boot-devices",
            scope: &["os"],
            apply: |d| {
                let old = d.os();
                if !d.boot_order().is_empty() || old.os_type.as_deref() != Some("hvm") {
                    return None;
                }
                let mut os = old.clone();
                os.boot_devs = vec!["network".into(), "cdrom".into(), "hd".into()];
                d.set_os(&os).unwrap();
                Some(Box::new(move |d| d.set_os(&old).unwrap()))
            },
        },
        TopEdit {
            name: "boot-menu",
            scope: &["os"],
            apply: |d| {
                let old = d.os();
                let mut os = old.clone();
                os.boot_menu = Some(os.boot_menu != Some(true));
                os.boot_menu_timeout = Some(3000);
                d.set_os(&os).unwrap();
                Some(Box::new(move |d| d.set_os(&old).unwrap()))
            },
        },
        TopEdit {
            name: "feature",
            scope: &["features"],
            apply: |d| {
                if d.has_feature("vmcoreinfo") {
                    return None;
                }
                d.set_feature("vmcoreinfo", true).unwrap();
                Some(Box::new(|d| d.set_feature("vmcoreinfo", false).unwrap()))
            },
        },
        TopEdit {
            name: "vireo-setting",
            scope: &["metadata"],
            apply: |d| {
                d.set_vireo_setting("console-scale", Some("fit")).unwrap();
                Some(Box::new(|d| {
                    d.set_vireo_setting("console-scale", None).unwrap()
                }))
            },
        },
    ]
}

fn device_edits() -> Vec<DeviceEdit> {
    vec![
        DeviceEdit {
            name: "disk-cache",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| {
                    other(&mut x.cache, "none", "writeback")
                })
            },
        },
        DeviceEdit {
            name: "disk-path",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| match &mut x.source {
                    Some(DiskSource::File(p)) => {
                        *p = "/var/lib/libvirt/images/vireo's disk.qcow2".into();
                        true
                    }
                    Some(DiskSource::Block(p)) => {
                        *p = "/dev/vireo/lv".into();
                        true
                    }
                    _ => false,
                })
            },
        },
        DeviceEdit {
            // Ejecting removes <source>; putting the medium back writes it where libvirt
            // puts it, which need not be where the document had it: this edit is
            // undone by restoring the device's XML, as a page's Revert does.
            name: "disk-eject",
            apply: |d, k| {
                let xml = d.device_xml(k).ok()?;
                let el = d.resolve(k).ok()?;
                drop(on_device(d, k, |x: &mut Disk| {
                    let eject = x.is_removable() && x.source.is_some();
                    x.source = None;
                    eject
                })?);
                Some(Box::new(move |d: &mut DomainXml| {
                    let key = d.key_of(el).expect("still a device");
                    d.replace_device_xml(&key, &xml).unwrap();
                }))
            },
        },
        DeviceEdit {
            name: "disk-insert",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| {
                    let insert = x.is_removable() && x.source.is_none();
                    x.source = Some(DiskSource::File("/isos/debian-12.iso".into()));
                    insert
                })
            },
        },
        DeviceEdit {
            name: "disk-readonly",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| {
                    !std::mem::replace(&mut x.readonly, true)
                })
            },
        },
        DeviceEdit {
            name: "disk-boot-order",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| {
                    x.boot_order = Some(x.boot_order.map_or(9, |o| o + 1));
                    true
                })
            },
        },
        DeviceEdit {
            name: "disk-serial",
            apply: |d, k| {
                on_device(d, k, |x: &mut Disk| {
                    other(&mut x.serial, "VIREO-1", "VIREO-2")
                })
            },
        },
        DeviceEdit {
            name: "nic-model",
            apply: |d, k| {
                on_device(d, k, |x: &mut Interface| {
                    other(&mut x.model, "virtio", "e1000e")
                })
            },
        },
        DeviceEdit {
            name: "nic-link-down",
            apply: |d, k| on_device(d, k, |x: &mut Interface| x.link_up.replace(false).is_none()),
        },
        DeviceEdit {
            name: "nic-source",
            apply: |d, k| {
                on_device(d, k, |x: &mut Interface| match &mut x.source {
                    InterfaceSource::Network(n) => {
                        *n = "vireo-net".into();
                        true
                    }
                    InterfaceSource::Bridge(b) => {
                        *b = "br-vireo".into();
                        true
                    }
                    _ => false,
                })
            },
        },
        DeviceEdit {
            name: "nic-mac",
            apply: |d, k| {
                on_device(d, k, |x: &mut Interface| {
                    other(&mut x.mac, "52:54:00:ab:cd:ef", "52:54:00:ab:cd:00")
                })
            },
        },
        DeviceEdit {
            name: "graphics-password",
            apply: |d, k| {
                on_device(d, k, |x: &mut Graphics| {
                    other(&mut x.password, "s3cr'et\"", "other")
                })
            },
        },
        DeviceEdit {
            name: "graphics-listen",
            apply: |d, k| {
                on_device(d, k, |x: &mut Graphics| match &x.listen {
                    Listen::Address(_) | Listen::Default => {
                        x.listen = Listen::Address("0.0.0.0".into());
                        true
                    }
                    _ => false,
                })
            },
        },
        DeviceEdit {
            name: "video-model",
            apply: |d, k| {
                on_device(d, k, |x: &mut Video| {
                    x.model.is_some() && other(&mut x.model, "virtio", "qxl")
                })
            },
        },
        DeviceEdit {
            name: "sound-model",
            apply: |d, k| on_device(d, k, |x: &mut Sound| other(&mut x.model, "ich9", "ac97")),
        },
        DeviceEdit {
            name: "input-bus",
            apply: |d, k| on_device(d, k, |x: &mut Input| other(&mut x.bus, "usb", "virtio")),
        },
        DeviceEdit {
            name: "watchdog-action",
            apply: |d, k| {
                on_device(d, k, |x: &mut Watchdog| {
                    other(&mut x.action, "poweroff", "reset")
                })
            },
        },
        DeviceEdit {
            name: "controller-model",
            apply: |d, k| {
                on_device(d, k, |x: &mut Controller| {
                    x.model.is_some() && other(&mut x.model, "qemu-xhci", "ich9-ehci1")
                })
            },
        },
        DeviceEdit {
            name: "tpm-version",
            apply: |d, k| {
                on_device(d, k, |x: &mut Tpm| {
                    other(&mut x.backend_version, "2.0", "1.2")
                })
            },
        },
        DeviceEdit {
            name: "rng-rate",
            apply: |d, k| on_device(d, k, |x: &mut Rng| other(&mut x.rate_bytes, "1024", "2048")),
        },
        DeviceEdit {
            name: "balloon-model",
            apply: |d, k| {
                on_device(d, k, |x: &mut Memballoon| {
                    other(&mut x.model, "virtio", "none")
                })
            },
        },
        DeviceEdit {
            name: "filesystem-readonly",
            apply: |d, k| {
                on_device(d, k, |x: &mut Filesystem| {
                    !std::mem::replace(&mut x.readonly, true)
                })
            },
        },
        DeviceEdit {
            name: "chardev-port",
            apply: |d, k| {
                on_device(d, k, |x: &mut CharDevice| {
                    x.target_port = Some(x.target_port.map_or(3, |p| p + 1));
                    true
                })
            },
        },
        DeviceEdit {
            name: "hostdev-managed",
            apply: |d, k| {
                on_device(d, k, |x: &mut Hostdev| {
                    x.managed = Some(x.managed != Some(true));
                    true
                })
            },
        },
    ]
}

/// The lines an element spans.
fn span(doc: &XmlDoc, el: NodeId) -> std::ops::RangeInclusive<usize> {
    let r = doc.range(el);
    doc.line_col(r.start).0..=doc.line_col(r.end.saturating_sub(1)).0
}

fn top_spans(doc: &XmlDoc, names: &[&str]) -> Vec<std::ops::RangeInclusive<usize>> {
    doc.children(doc.root())
        .filter(|&c| names.contains(&doc.name(c)) && doc.namespace(c).is_none())
        .map(|c| span(doc, c))
        .collect()
}

/// The lines of `doc` outside `spans`.
fn outside<'a>(doc: &'a XmlDoc, spans: &[std::ops::RangeInclusive<usize>]) -> Vec<&'a str> {
    doc.text()
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !spans.iter().any(|s| s.contains(&(i + 1))))
        .map(|(_, l)| l)
        .collect()
}

/// Checks one applied edit: index in step, every line outside the spans `spans` gives
/// (for the document before, `true`, and after, `false`) unchanged, and the undo
/// restoring the original bytes.
fn check(
    file: &str,
    what: &str,
    dom: &mut DomainXml,
    before: &DomainXml,
    spans: impl Fn(&XmlDoc, bool) -> Vec<std::ops::RangeInclusive<usize>>,
    undo: Undo,
) {
    dom.doc()
        .check_index()
        .unwrap_or_else(|e| panic!("{file}: {what}: {e}"));
    // Outside the lines of what the edit is about, not a byte may differ.
    assert!(
        outside(before.doc(), &spans(before.doc(), true))
            == outside(dom.doc(), &spans(dom.doc(), false)),
        "{file}: {what} changed lines outside what it edits:\n{}",
        dom.diff()
    );
    undo(dom);
    assert!(
        dom.text() == before.text(),
        "{file}: undoing {what} left a difference:\n{}",
        vireo::virt::domain_xml::unified_diff(before.text(), dom.text(), "original", "undone")
    );
    dom.doc()
        .check_index()
        .unwrap_or_else(|e| panic!("{file}: undo {what}: {e}"));
}

#[test]
fn every_edit_changes_only_its_lines_and_undoes_exactly() {
    let mut applied: BTreeSet<&str> = BTreeSet::new();
    let mut count = 0;
    let (tops, devs) = (top_edits(), device_edits());
    for (file, original) in domains() {
        let parsed = DomainXml::parse(original.clone()).unwrap();
        for edit in &tops {
            let mut dom = parsed.clone();
            let Some(undo) = (edit.apply)(&mut dom) else {
                continue;
            };
            count += 1;
            applied.insert(edit.name);
            let scope = edit.scope;
            check(
                &file,
                edit.name,
                &mut dom,
                &parsed,
                |doc, _| top_spans(doc, scope),
                undo,
            );
        }
        for key in parsed.devices() {
            let el = parsed.resolve(&key).unwrap();
            for edit in &devs {
                let mut dom = parsed.clone();
                let Some(undo) = (edit.apply)(&mut dom, &key) else {
                    continue;
                };
                count += 1;
                applied.insert(edit.name);
                let what = format!("{} on {key}", edit.name);
                check(
                    &file,
                    &what,
                    &mut dom,
                    &parsed,
                    |doc, _| vec![span(doc, el)],
                    undo,
                );
            }
        }
    }
    let all: BTreeSet<&str> = tops
        .iter()
        .map(|e| e.name)
        .chain(devs.iter().map(|e| e.name))
        .collect();
    let never: Vec<_> = all.difference(&applied).collect();
    assert!(
        never.is_empty(),
        "edits that found nothing to edit: {never:?}"
    );
    assert!(count > 1500, "{count} edits checked");
    eprintln!("{count} edits checked and undone on the corpus");
}
