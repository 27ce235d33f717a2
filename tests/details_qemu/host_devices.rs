//! The real host's devices on the private daemon's `qemu:///system` (libvirt's udev
//! node devices): Vireo lists the PCI functions that sysfs has and the USB devices it
//! has (none in a machine without a USB bus, which the form then says), and gives one
//! PCI function to a stopped VM through Add Hardware: it reaches the definition by its
//! address, `managed='yes'`, and its page names it.

use std::path::Path;

use vireo::model::ConnectionState;
use vireo::ui::HwHostdevPage;

use super::kit::app::TestApp;
use super::kit::details::{add_hardware, open, open_details};
use super::kit::model::define;
use super::kit::screen::save_png;
use super::kit::testbed::{daemon, Guest};
use super::kit::{block_on, settle, wait_until, EVENT};
use super::{domain_xml, dumpxml, URI};

/// The PCI functions in sysfs, as lspci writes their addresses.
fn sysfs_pci() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/sys/bus/pci/devices")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The USB devices in sysfs that are not root hubs (`1-2`, not `usb1` or `1-2:1.0`).
fn sysfs_usb_devices() -> usize {
    let dir = Path::new("/sys/bus/usb/devices");
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with("usb") && !n.contains(':'))
                .count()
        })
        .unwrap_or(0)
}

pub(super) fn host_devices_of_the_real_host() {
    let guest = Guest::get().unwrap();
    daemon();
    let app = TestApp::start(&["--connect", URI]);
    let c = app.connection(0);
    wait_until("qemu:///system connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let devices = block_on(c.host_devices()).expect("the host's devices");
    let mut pci: Vec<String> = devices
        .iter()
        .filter(|d| !d.is_usb())
        .map(|d| d.address.to_string())
        .collect();
    pci.sort();
    let want = sysfs_pci();
    assert!(!want.is_empty(), "this machine has PCI functions in sysfs");
    assert_eq!(pci, want, "the PCI functions libvirt lists are sysfs's");
    let usb = devices.iter().filter(|d| d.is_usb()).count();
    assert_eq!(usb, sysfs_usb_devices(), "the USB devices");

    let d = define(&c, domain_xml(guest));
    let (_page, hw) = open_details(&app, &d);
    let dialog = add_hardware(&hw);
    if usb == 0 {
        dialog.choose_kind("usb-host");
        wait_until("the form says the host has none", EVENT, || {
            dialog
                .host_device_chooser()
                .empty_text()
                .contains("no USB device")
        });
    }
    dialog.choose_kind("pci-host");
    let chooser = dialog.host_device_chooser();
    let offered = wait_until("the PCI functions are offered", EVENT, || {
        Some(chooser.offered()).filter(|o| !o.is_empty())
    });
    assert_eq!(offered.len(), want.len());
    let first = devices
        .iter()
        .find(|d| !d.is_usb())
        .expect("a PCI function");
    assert!(chooser.choose(&first.description()));
    settle();
    save_png(&dialog, "details-qemu-add-pci-host.png");
    dialog.add();
    let [domain, bus, rest] = [0, 1, 2].map(|i| {
        first
            .address
            .to_string()
            .split([':', '.'])
            .nth(i)
            .unwrap_or_default()
            .to_owned()
    });
    let address = format!("<address domain='0x{domain}' bus='0x{bus}' slot='0x{rest}'");
    wait_until("the PCI function is in the definition", EVENT, || {
        dialog.problem().is_empty() && dumpxml().contains(&address)
    });
    drop(dialog);
    assert!(dumpxml().contains("<hostdev mode='subsystem' type='pci' managed='yes'>"));
    let title = format!("PCI {}", first.address);
    wait_until("the sidebar lists it", EVENT, || {
        hw.titles().contains(&title)
    });
    let page: HwHostdevPage = open(&hw, &title);
    wait_until("its page names it", EVENT, || {
        page.device_text() == first.description()
    });
    save_png(&app.window(), "details-qemu-hostdev-pci.png");
    app.quit();
}
