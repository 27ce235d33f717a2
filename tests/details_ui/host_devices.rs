//! USB and PCI host devices through Vireo's window, on a test-driver host that has the
//! node devices of virt-manager's test suite (`testdriver.xml`: 14 USB devices, 37
//! PCI functions): Add Hardware lists exactly the host's devices (read from that file
//! here, not from Vireo), one of each bus is given to a stopped VM and reaches its
//! definition, its page names it from the host's list, a device the VM has is not
//! offered again, Add without a choice says so on the list and changes nothing; a host
//! without USB devices says so. Screenshots light, dark and 360 px wide.

use adw::prelude::*;
use vireo::model::details::DomainXml;
use vireo::model::ConnectionState;
use vireo::ui::pickers::HostDeviceChooser;
use vireo::ui::{AddHardwareDialog, HardwareView, HwHostdevPage};

use super::kit::app::TestApp;
use super::kit::details::{add_hardware, open, open_details};
use super::kit::screen::save_png;
use super::kit::testbed::temp_dir;
use super::kit::{self, settle, wait_until, EVENT};
use super::shoot;

/// virt-manager's test-driver node, whose `<device>`s are the host's devices here.
const TESTDRIVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/virt-manager/testdriver.xml"
);

/// The node devices of `TESTDRIVER` as (vendor name + product name, is USB): every USB
/// device but the root hubs (vendor 0x1d6b), and every PCI function.
fn expected_devices(xml: &str) -> Vec<(String, bool)> {
    let doc = roxmltree::Document::parse(xml).expect("testdriver.xml parses");
    let mut out = Vec::new();
    for dev in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("device"))
    {
        let Some(cap) = dev.children().find(|c| {
            c.has_tag_name("capability")
                && matches!(c.attribute("type"), Some("usb_device") | Some("pci"))
        }) else {
            continue;
        };
        let usb = cap.attribute("type") == Some("usb_device");
        let text = |tag: &str| {
            cap.children().find(|c| c.has_tag_name(tag)).map(|c| {
                (
                    c.attribute("id").unwrap_or("").to_owned(),
                    c.text().unwrap_or("").trim().to_owned(),
                )
            })
        };
        let (vendor_id, vendor) = text("vendor").unwrap_or_default();
        let (_, product) = text("product").unwrap_or_default();
        if usb && vendor_id == "0x1d6b" {
            continue;
        }
        out.push((format!("{vendor} {product}").trim().to_owned(), usb));
    }
    out
}

/// A test-driver host with those devices and one stopped VM, "vm"; its URI.
fn host_with_devices() -> (String, Vec<(String, bool)>) {
    let xml = std::fs::read_to_string(TESTDRIVER).expect("testdriver.xml");
    let doc = roxmltree::Document::parse(&xml).expect("testdriver.xml parses");
    let devices: Vec<&str> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("device"))
        .map(|n| &xml[n.range()])
        .collect();
    let node = format!(
        "<node>\n<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\
         <name>vm</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64'>hvm</type></os>\
         <devices><input type='tablet' bus='usb'/><memballoon model='virtio'/></devices>\
         <test:runstate>5</test:runstate></domain>\n{}\n</node>\n",
        devices.join("\n")
    );
    let path = temp_dir("host-devices").join("node.xml");
    std::fs::write(&path, node).expect("the node file");
    (format!("test://{}", path.display()), expected_devices(&xml))
}

/// The definition Vireo's own connection reads (a second connection to a test-driver
/// file would be another host).
fn definition(app: &TestApp) -> String {
    let c = app.connection(0);
    let d = kit::model::domain(&c, "vm").expect("vm");
    let doc: DomainXml = kit::block_on(c.domain_document(&d, false)).expect("the definition");
    doc.text().to_owned()
}

/// Opens Add Hardware on the form of `kind` and waits for the host's devices.
fn host_form(hw: &HardwareView, kind: &str) -> AddHardwareDialog {
    let dialog = add_hardware(hw);
    dialog.choose_kind(kind);
    settle();
    let chooser = dialog.host_device_chooser();
    wait_until("the host's devices are listed", EVENT, || {
        !chooser.offered().is_empty()
    });
    dialog
}

/// The chooser offers exactly the expected devices of its bus (USB: `usb`).
fn assert_offers(chooser: &HostDeviceChooser, expected: &[(String, bool)], usb: bool) {
    let mut offered = chooser.offered();
    let mut want: Vec<String> = expected
        .iter()
        .filter(|(_, u)| *u == usb)
        .map(|(d, _)| d.clone())
        .collect();
    offered.sort();
    want.sort();
    assert_eq!(offered, want, "the devices offered (USB: {usb})");
}

/// The page of the sidebar's entry `title`, once it is listed.
fn listed_page(hw: &HardwareView, title: &str) -> HwHostdevPage {
    wait_until(&format!("the sidebar lists {title}"), EVENT, || {
        hw.titles().iter().any(|t| t == title).then_some(())
    });
    open(hw, title)
}

pub(super) fn host_devices() {
    let (uri, expected) = host_with_devices();
    let app = TestApp::start(&["--connect", &uri]);
    let c = app.connection(0);
    wait_until("the host connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let domain = wait_until("vm is listed", EVENT, || kit::model::domain(&c, "vm"));
    let window = app.window();
    let (_page, hw) = open_details(&app, &domain);
    let before = definition(&app);

    // USB: exactly the host's devices, without its root hubs.
    let dialog = host_form(&hw, "usb-host");
    let chooser = dialog.host_device_chooser();
    assert_offers(&chooser, &expected, true);
    // Add without a choice: said on the list, nothing changes.
    dialog.add();
    settle();
    assert!(
        dialog
            .problem()
            .contains("Choose one of the host's devices"),
        "{}",
        dialog.problem()
    );
    assert_eq!(definition(&app), before);
    shoot(&dialog, "add-hardware-usb-host-unchosen");
    assert!(chooser.choose("Cruzer Micro"));
    shoot(&dialog, "add-hardware-usb-host-chosen");
    dialog.set_default_size(360, 600);
    wait_until("the dialog narrows to 360 px", EVENT, || {
        dialog.width() <= 360
    });
    settle();
    save_png(&dialog, "add-hardware-usb-host-360.png");
    dialog.add();
    wait_until("the USB device is in the definition", EVENT, || {
        dialog.problem().is_empty() && definition(&app).contains("<vendor id='0x0781'/>")
    });
    drop(dialog);
    let now = definition(&app);
    assert!(
        now.contains("<hostdev mode='subsystem' type='usb'"),
        "{now}"
    );
    assert!(now.contains("<product id='0x5151'/>"), "{now}");

    // Its page names it from the host's list.
    let page = listed_page(&hw, "USB 0781:5151");
    wait_until("the page names the device", EVENT, || {
        page.device_text().contains("Cruzer Micro")
    });
    shoot(&window, "details-hostdev-usb");

    // The VM has it: not offered again.
    let dialog = host_form(&hw, "usb-host");
    assert!(
        !dialog
            .host_device_chooser()
            .offered()
            .iter()
            .any(|d| d.contains("Cruzer Micro")),
        "a device the VM has is offered again"
    );
    dialog.close();
    drop(dialog);

    // PCI: exactly the host's functions; one given to the VM by its address.
    let dialog = host_form(&hw, "pci-host");
    let chooser = dialog.host_device_chooser();
    assert_offers(&chooser, &expected, false);
    shoot(&dialog, "add-hardware-pci-host");
    assert!(chooser.choose("82566MM Gigabit Network Connection"));
    dialog.add();
    wait_until("the PCI function is in the definition", EVENT, || {
        dialog.problem().is_empty() && definition(&app).contains("type='pci'")
    });
    drop(dialog);
    let now = definition(&app);
    assert!(
        now.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"),
        "{now}"
    );
    let page = listed_page(&hw, "PCI 0000:00:19.0");
    wait_until("the page names the device", EVENT, || {
        page.device_text().contains("82566MM")
    });
    shoot(&window, "details-hostdev-pci");
    app.quit();
}

/// A host without USB devices (test:///default has none) says so in the form.
pub(super) fn no_usb_devices_said() {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let c = app.connection(0);
    let domain = wait_until("test is listed", EVENT, || kit::model::domain(&c, "test"));
    let (_page, hw) = open_details(&app, &domain);
    let dialog = add_hardware(&hw);
    dialog.choose_kind("usb-host");
    wait_until("the empty list is said", EVENT, || {
        dialog
            .host_device_chooser()
            .empty_text()
            .contains("no USB device")
    });
    shoot(&dialog, "add-hardware-usb-host-none");
    dialog.close();
    drop(dialog);
    app.quit();
}
