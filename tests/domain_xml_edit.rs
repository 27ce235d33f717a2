//! The edit primitives of the document layer on the documents that break naive XML
//! rewriting: CRLF line ends, tabs, single quotes, entity and character references,
//! CDATA, comments between elements, namespaced elements, self-closing and inline
//! parents. Every edit must change exactly the expected bytes, keep the index in step
//! with the text, and be undone byte for byte by its inverse edit.

use vireo::virt::domain_xml::{DomainXml, DomainXmlError, NewElement, XmlDoc};

/// Parses, checks, and returns the document.
fn doc(text: &str) -> XmlDoc {
    let d = XmlDoc::parse(text).expect("well formed");
    assert_eq!(d.text(), text);
    d.check_index().expect("fresh index");
    d
}

fn checked(d: &XmlDoc) {
    d.check_index()
        .unwrap_or_else(|e| panic!("{e}\n---\n{}", d.text()));
}

#[test]
fn empty_and_broken_documents_are_errors() {
    assert_eq!(DomainXml::parse("").unwrap_err(), DomainXmlError::Empty);
    assert_eq!(
        DomainXml::parse("\r\n  \t").unwrap_err(),
        DomainXmlError::Empty
    );
    assert!(matches!(
        DomainXml::parse("<domain><name>x</domain>").unwrap_err(),
        DomainXmlError::Malformed { .. }
    ));
    assert!(matches!(
        DomainXml::parse("<domain/><domain/>").unwrap_err(),
        DomainXmlError::Malformed { .. }
    ));
    assert_eq!(
        DomainXml::parse("<network><name>default</name></network>").unwrap_err(),
        DomainXmlError::NotADomain("network".into())
    );
    assert_eq!(
        DomainXml::parse("<x:domain xmlns:x='urn:x'/>").unwrap_err(),
        DomainXmlError::NotADomain("x:domain".into())
    );
}

#[test]
fn unedited_nasty_document_prints_back_exactly() {
    let text = "<?xml version='1.0'?>\r\n<!-- generated -->\r\n<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\r\n\t<name>a&amp;b &#x41;&#65;</name>\r\n\t<description><![CDATA[x < y]]> &apos;q&apos;</description>\r\n\t<qemu:commandline>\r\n\t\t<qemu:arg value=\"-s\"/>\r\n\t</qemu:commandline>\r\n</domain>\r\n";
    let d = DomainXml::parse(text).unwrap();
    assert_eq!(d.text(), text);
    assert!(!d.is_changed());
    assert_eq!(d.name(), Some("a&b AA"));
    assert_eq!(d.description(), Some("x < y 'q'"));
    assert_eq!(d.diff(), "");
}

#[test]
fn attribute_edits_keep_quotes_and_entities_elsewhere() {
    let text = "<domain type=\"kvm\">\n  <devices>\n    <disk type='file' device=\"disk\">\n      <source file='/a/it&apos;s.img' index=\"1\"/>\n    </disk>\n  </devices>\n</domain>\n";
    let mut d = doc(text);
    let source = d.find("devices/disk/source").unwrap();
    assert_eq!(d.attr(source, "file"), Some("/a/it's.img"));
    // Same value: nothing changes, the entity stays.
    d.set_attr(source, "file", "/a/it's.img").unwrap();
    assert!(!d.is_changed());
    // Another value: written in the attribute's own quotes, escaped for them.
    d.set_attr(source, "index", "say \"2\"").unwrap();
    assert!(d
        .text()
        .contains("<source file='/a/it&apos;s.img' index=\"say &quot;2&quot;\"/>"));
    checked(&d);
    // A new attribute takes the element's quote style.
    let disk = d.find("devices/disk").unwrap();
    d.set_attr(disk, "snapshot", "no").unwrap();
    assert!(d
        .text()
        .contains("<disk type='file' device=\"disk\" snapshot='no'>"));
    checked(&d);
    // Undo both: the original bytes.
    d.remove_attr(disk, "snapshot").unwrap();
    d.set_attr(source, "index", "1").unwrap();
    assert_eq!(d.text(), text);
    checked(&d);
}

#[test]
fn values_with_line_breaks_tabs_and_markup_round_trip() {
    let mut d = doc("<domain>\n  <title>t</title>\n</domain>\n");
    let title = d.find("title").unwrap();
    d.set_attr(title, "x", "a\tb\nc\r<&>'\"").unwrap();
    d.set_text(title, "1 < 2 && 3 > 2 ]]> \r\n").unwrap();
    let again = XmlDoc::parse(d.text().to_owned()).unwrap();
    let t = again.find("title").unwrap();
    assert_eq!(again.attr(t, "x"), Some("a\tb\nc\r<&>'\""));
    assert_eq!(again.text_of(t), "1 < 2 && 3 > 2 ]]> \r\n");
    checked(&d);
}

#[test]
fn crlf_and_tabs_are_followed_by_new_elements_and_removals() {
    let text = "<domain type='kvm'>\r\n\t<name>crlf</name>\r\n\t<devices>\r\n\t\t<disk type='file'/>\r\n\t</devices>\r\n</domain>\r\n";
    let mut d = doc(text);
    let devices = d.find("devices").unwrap();
    let iface = NewElement::new("interface")
        .attr("type", "network")
        .child(NewElement::new("source").attr("network", "default"));
    let id = d.insert_element(devices, 1, &iface).unwrap();
    assert_eq!(
        d.text(),
        "<domain type='kvm'>\r\n\t<name>crlf</name>\r\n\t<devices>\r\n\t\t<disk type='file'/>\r\n\t\t<interface type='network'>\r\n\t\t\t<source network='default'/>\r\n\t\t</interface>\r\n\t</devices>\r\n</domain>\r\n"
    );
    checked(&d);
    d.remove(id).unwrap();
    assert_eq!(d.text(), text);
    checked(&d);
}

#[test]
fn comments_between_devices_stay_where_they_are() {
    let text = "<domain>\n  <devices>\n    <!-- the system disk -->\n    <disk type='file'/>\n    <!-- the CD -->\n    <disk type='block'/>\n    <!-- end -->\n  </devices>\n</domain>\n";
    let mut d = doc(text);
    let devices = d.find("devices").unwrap();
    let disks: Vec<_> = d.children(devices).collect();
    d.remove(disks[1]).unwrap();
    assert_eq!(
        d.text(),
        "<domain>\n  <devices>\n    <!-- the system disk -->\n    <disk type='file'/>\n    <!-- the CD -->\n    <!-- end -->\n  </devices>\n</domain>\n"
    );
    checked(&d);
    let back = d.insert_xml(devices, 1, "<disk type='block'/>").unwrap();
    assert_eq!(d.name(back), "disk");
    checked(&d);
    // The disk comes back right after its sibling, before the comments that followed it.
    assert!(d
        .text()
        .contains("<disk type='file'/>\n    <disk type='block'/>\n    <!-- the CD -->"));
}

#[test]
fn self_closing_and_empty_parents_open_up_indented() {
    let text = "<domain>\n  <devices/>\n  <features></features>\n  <os>\n  </os>\n</domain>\n";
    let mut d = doc(text);
    let devices = d.find("devices").unwrap();
    let disk = d
        .insert_element(
            devices,
            0,
            &NewElement::new("disk").child(NewElement::new("readonly")),
        )
        .unwrap();
    let features = d.find("features").unwrap();
    d.insert_element(features, 0, &NewElement::new("acpi"))
        .unwrap();
    let os = d.find("os").unwrap();
    d.insert_element(os, 0, &NewElement::new("boot").attr("dev", "hd"))
        .unwrap();
    assert_eq!(
        d.text(),
        "<domain>\n  <devices>\n    <disk>\n      <readonly/>\n    </disk>\n  </devices>\n  <features>\n    <acpi/>\n  </features>\n  <os>\n    <boot dev='hd'/>\n  </os>\n</domain>\n"
    );
    checked(&d);
    // Emptied again, the element Vireo opened closes again as it was.
    d.remove(disk).unwrap();
    assert!(
        d.text().starts_with("<domain>\n  <devices/>\n  <features>"),
        "{}",
        d.text()
    );
    checked(&d);
}

#[test]
fn inline_elements_stay_inline() {
    let text = "<domain><os><type>hvm</type></os><devices><disk/></devices></domain>";
    let mut d = doc(text);
    let os = d.find("os").unwrap();
    let boot = d
        .insert_element(os, 1, &NewElement::new("boot").attr("dev", "hd"))
        .unwrap();
    assert_eq!(
        d.text(),
        "<domain><os><type>hvm</type><boot dev='hd'/></os><devices><disk/></devices></domain>"
    );
    checked(&d);
    let disk = d.find("devices/disk").unwrap();
    d.insert_element(disk, 0, &NewElement::new("target").attr("dev", "vda"))
        .unwrap();
    assert!(d.text().contains("<disk><target dev='vda'/></disk>"));
    checked(&d);
    d.remove(boot).unwrap();
    checked(&d);
    assert!(d.text().starts_with("<domain><os><type>hvm</type></os>"));
}

#[test]
fn namespaced_elements_can_be_inserted_and_replaced() {
    let text = "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n  <metadata>\n    <app:x xmlns:app='urn:app'>\n      <app:y a='1'/>\n    </app:x>\n  </metadata>\n  <qemu:commandline>\n    <qemu:arg value='-s'/>\n  </qemu:commandline>\n</domain>\n";
    let mut d = doc(text);
    let cmd = d.children(d.root()).nth(1).unwrap();
    assert_eq!(d.qname(cmd), "qemu:commandline");
    let arg = d.insert_xml(cmd, 1, "<qemu:arg value='-S'/>").unwrap();
    assert_eq!(
        d.namespace(arg),
        Some("http://libvirt.org/schemas/domain/qemu/1.0")
    );
    checked(&d);
    let y = d
        .find("metadata")
        .and_then(|m| d.children(m).next())
        .unwrap();
    let y_child = d.children(y).next().unwrap();
    let new = d
        .replace_xml(y_child, "<app:y a='2'>\n  <app:z/>\n</app:y>")
        .unwrap();
    assert_eq!(d.namespace(new), Some("urn:app"));
    assert!(d.text().contains("    <app:x xmlns:app='urn:app'>\n      <app:y a='2'>\n        <app:z/>\n      </app:y>\n    </app:x>"));
    checked(&d);
    assert!(matches!(
        d.insert_xml(cmd, 0, "<undeclared:arg/>"),
        Err(DomainXmlError::BadFragment(_))
    ));
    assert!(matches!(
        d.insert_xml(cmd, 0, "<a/><b/>"),
        Err(DomainXmlError::BadFragment(_))
    ));
}

#[test]
fn text_edits_of_self_closing_and_cdata_elements() {
    let text = "<domain>\n  <title/>\n  <description><![CDATA[old]]></description>\n</domain>\n";
    let mut d = doc(text);
    let title = d.find("title").unwrap();
    d.set_text(title, "").unwrap();
    assert!(
        !d.is_changed(),
        "empty text on an empty element changes nothing"
    );
    d.set_text(title, "New").unwrap();
    let desc = d.find("description").unwrap();
    d.set_text(desc, "new & improved").unwrap();
    assert_eq!(
        d.text(),
        "<domain>\n  <title>New</title>\n  <description>new &amp; improved</description>\n</domain>\n"
    );
    checked(&d);
    let root = d.root();
    assert_eq!(
        d.set_text(root, "x").unwrap_err(),
        DomainXmlError::HasChildren("domain".into())
    );
}

#[test]
fn element_xml_is_unindented_and_goes_back_exactly() {
    let text = "<domain>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n      <serial>multi\n  line</serial>\n    </disk>\n    <video/>\n  </devices>\n</domain>\n";
    let mut d = doc(text);
    let devices = d.find("devices").unwrap();
    let disk = d.find("devices/disk").unwrap();
    let xml = d.element_xml(disk);
    assert_eq!(
        xml, "<disk type='file'>\n  <source file='/a'/>\n  <serial>multi\n  line</serial>\n</disk>",
        "text inside elements is not re-indented"
    );
    d.remove(disk).unwrap();
    d.insert_xml(devices, 0, &xml).unwrap();
    assert_eq!(d.text(), text);
    checked(&d);
}

#[test]
fn handles_survive_edits_elsewhere_and_removed_ones_go_stale() {
    let mut d = doc("<domain>\n  <name>a</name>\n  <devices>\n    <disk/>\n    <video/>\n  </devices>\n</domain>\n");
    let name = d.find("name").unwrap();
    let video = d.find("devices/video").unwrap();
    let disk = d.find("devices/disk").unwrap();
    d.set_text(name, "a much longer name").unwrap();
    d.remove(disk).unwrap();
    d.set_attr(video, "x", "1").unwrap();
    assert!(d.text().contains("<video x='1'/>"));
    assert_eq!(
        d.set_attr(disk, "x", "1"),
        Err(DomainXmlError::StaleElement)
    );
    assert!(!d.is_alive(disk));
    assert_eq!(d.name(disk), "");
    checked(&d);
}

#[test]
fn the_root_cannot_be_removed_and_indexes_are_checked() {
    let mut d = doc("<domain>\n  <devices/>\n</domain>");
    let root = d.root();
    assert!(matches!(
        d.remove(root),
        Err(DomainXmlError::InvalidValue { .. })
    ));
    let devices = d.find("devices").unwrap();
    assert!(matches!(
        d.insert_element(devices, 3, &NewElement::new("disk")),
        Err(DomainXmlError::InvalidValue { .. })
    ));
}
