//! The typed pages of the devices beyond disks and NICs, through Vireo's window on
//! the test driver: a display switched from VNC to SPICE with an address and a
//! password, and the video, sound, input, watchdog, RNG and TPM pages, each edit
//! checked in libvirt's XML line by line; wrong fields marked on the field with
//! nothing changed; screenshots of every page, light, dark and 360 px wide.

use adw::prelude::*;
use vireo::model::{DomainObject, DomainState};
use vireo::ui::{
    HardwareView, HwCharDevicePage, HwControllerPage, HwFilesystemPage, HwGraphicsPage,
    HwInputPage, HwRngPage, HwSoundPage, HwTpmPage, HwVideoPage, HwWatchdogPage,
};

use super::kit::app::{find_widgets, TestApp};
use super::kit::details::{changed_lines, entry, open, open_details};
use super::kit::screen::save_png;
use super::kit::{self, settle, wait_until, EVENT};
use super::{dumpxml, shoot};

/// A VM with one device of each kind these pages edit.
const DEVICES_VM: &str = "<domain type='test'>
  <name>devices</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
    <input type='tablet' bus='usb'/>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <sound model='ich9'/>
    <video>
      <model type='virtio'/>
    </video>
    <watchdog model='i6300esb' action='reset'/>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
  </devices>
</domain>
";

/// A VM with a serial port and its console, a USB 2 controller and a shared directory.
const PORTS_VM: &str = "<domain type='test'>
  <name>ports</name>
  <memory unit='MiB'>512</memory>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
    <controller type='usb' index='0' model='ich9-ehci1'/>
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs'/>
      <source dir='/srv/share'/>
      <target dir='share'/>
    </filesystem>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
  </devices>
</domain>
";

/// Vireo on the test driver with the VM "devices" defined (running with `running`),
/// its Details open.
fn start_devices(running: bool) -> (TestApp, DomainObject, HardwareView) {
    start_vm(DEVICES_VM, running)
}

/// Vireo on the test driver with the VM `xml` defined (running with `running`), its
/// Details open.
fn start_vm(xml: &str, running: bool) -> (TestApp, DomainObject, HardwareView) {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let connection = app.connection(0);
    wait_until("the test host connects", EVENT, || {
        connection.state() == vireo::model::ConnectionState::Connected
    });
    let domain = kit::model::define(&connection, xml.to_owned());
    if running {
        kit::model::start(&connection, &domain);
    }
    let (_page, hw) = open_details(&app, &domain);
    (app, domain, hw)
}

/// The persistent XML with secrets (the password), as another client reads it.
fn secure_xml(name: &str) -> String {
    let conn = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let dom = conn.lookup_domain_by_name(name).expect("the domain");
    dom.xml_desc(virt::sys::VIR_DOMAIN_XML_INACTIVE | virt::sys::VIR_DOMAIN_XML_SECURE)
        .expect("its XML")
}

/// Opens the sidebar's entry `title` once the sidebar lists it (it follows a save).
fn open_listed<W: IsA<gtk::Widget>>(hw: &HardwareView, title: &str) -> W {
    wait_until(&format!("the sidebar lists {title}"), EVENT, || {
        hw.titles().iter().any(|t| t == title)
    });
    open(hw, title)
}

/// Applies the page shown, waits until libvirt's persistent XML changes, and returns
/// the lines added and removed.
fn apply_and_diff(hw: &HardwareView, what: &str) -> (Vec<String>, Vec<String>) {
    let name = hw.domain().map(|d| d.name()).unwrap_or_default();
    let before = dumpxml(&name, true);
    hw.apply();
    let after = wait_until(what, EVENT, || {
        let now = dumpxml(&name, true);
        (now != before).then_some(now)
    });
    changed_lines(&before, &after)
}

/// The display of the running VM: a wrong address is marked on its field and changes
/// nothing; then VNC becomes SPICE listening on 127.0.0.1 with a password, for the
/// next start, with the agent's channel added and nothing else changed.
pub fn graphics_page() {
    let (app, domain, hw) = start_devices(true);
    assert_eq!(domain.state(), DomainState::Running);
    let window = app.window();
    let page: HwGraphicsPage = open(&hw, "Display VNC");
    assert_eq!(page.protocol(), "vnc");
    shoot(&window, "details-graphics");

    // A wrong address: on the field, nothing defined, nothing under the page.
    let before = dumpxml("devices", true);
    page.set_listen("address");
    settle();
    let address = entry(&page, "_Address");
    address.set_text("localhost:5900");
    hw.apply();
    settle();
    assert!(page.problem().contains("IP address"), "{}", page.problem());
    assert!(address.has_css_class("error"), "the wrong field is marked");
    assert_eq!(hw.message(), "", "said once, on the field");
    assert_eq!(dumpxml("devices", true), before, "nothing changed");
    shoot(&window, "details-graphics-error");

    // SPICE on 127.0.0.1 with a password.
    address.set_text("127.0.0.1");
    page.set_protocol("spice");
    settle();
    find_widgets::<adw::PasswordEntryRow>(&page)[0].set_text("s3cret");
    shoot(&window, "details-graphics-spice");
    let (added, gone) = apply_and_diff(&hw, "the display is saved");
    assert!(page.problem().is_empty(), "{}", page.problem());
    assert!(!address.has_css_class("error"));
    assert_eq!(
        gone,
        [
            "<graphics type='vnc' port='-1' autoport='yes'>",
            "<listen type='address'/>"
        ],
        "{added:?}"
    );
    // The agent's channel (on the virtio-serial controller libvirt adds for it).
    assert_eq!(
        added,
        [
            "<controller type='virtio-serial' index='0'/>",
            "<channel type='spicevmc'>",
            "<target type='virtio' name='com.redhat.spice.0'/>",
            "</channel>",
            "<graphics type='spice' autoport='yes' listen='127.0.0.1'>",
            "<listen type='address' address='127.0.0.1'/>",
        ],
        "{gone:?}"
    );
    assert!(secure_xml("devices").contains("passwd='s3cret'"));
    wait_until("the page says when it applies", EVENT, || {
        hw.message().contains("next starts")
    });
    wait_until("the sidebar follows", EVENT, || {
        hw.titles().iter().any(|t| t == "Display SPICE")
    });
    app.quit();
}

/// The video, sound, input, watchdog, RNG and TPM pages of the VM that is off: each
/// edit reaches libvirt changing exactly its lines; a relative RNG path is refused
/// on its field. Screenshots of each page, light and dark, then 360 px wide.
pub fn device_pages() {
    let (app, _domain, hw) = start_devices(false);
    let window = app.window();

    let video: HwVideoPage = open(&hw, "Video VirtIO");
    video.set_model("qxl");
    video.set_vram_mib(128);
    let (added, gone) = apply_and_diff(&hw, "the video card is saved");
    assert_eq!(gone, ["<model type='virtio' heads='1' primary='yes'/>"]);
    // (libvirt writes QXL's default RAM.)
    assert_eq!(
        added,
        ["<model type='qxl' ram='65536' vram='131072' heads='1' primary='yes'/>"]
    );
    wait_until("the page says it is saved", EVENT, || {
        hw.message() == "Saved."
    });
    let video: HwVideoPage = open_listed(&hw, "Video QXL");
    shoot(&window, "details-video");
    drop(video);

    let sound: HwSoundPage = open(&hw, "Sound ICH9 (HD Audio)");
    sound.set_model("ac97");
    let (added, gone) = apply_and_diff(&hw, "the sound card is saved");
    assert_eq!(gone, ["<sound model='ich9'/>"]);
    assert_eq!(added, ["<sound model='ac97'/>"]);
    let _: HwSoundPage = open_listed(&hw, "Sound AC'97");
    shoot(&window, "details-sound");

    let input: HwInputPage = open(&hw, "Tablet");
    input.set_bus("virtio");
    let (added, gone) = apply_and_diff(&hw, "the tablet is saved");
    assert_eq!(gone, ["<input type='tablet' bus='usb'/>"]);
    assert_eq!(added, ["<input type='tablet' bus='virtio'/>"]);
    shoot(&window, "details-input");

    let dog: HwWatchdogPage = open(&hw, "Watchdog");
    dog.set_action("poweroff");
    let (added, gone) = apply_and_diff(&hw, "the watchdog is saved");
    assert_eq!(gone, ["<watchdog model='i6300esb' action='reset'/>"]);
    assert_eq!(added, ["<watchdog model='i6300esb' action='poweroff'/>"]);
    shoot(&window, "details-watchdog");

    // The RNG: a relative path is refused on its field.
    let rng: HwRngPage = open(&hw, "Random Number Generator");
    let before = dumpxml("devices", true);
    rng.set_source("dev/random");
    hw.apply();
    settle();
    assert!(rng.problem().contains("full path"), "{}", rng.problem());
    assert!(entry(&rng, "Host _Device").has_css_class("error"));
    assert_eq!(dumpxml("devices", true), before, "nothing changed");
    shoot(&window, "details-rng-error");
    rng.set_source("/dev/random");
    let (added, gone) = apply_and_diff(&hw, "the RNG is saved");
    assert_eq!(gone, ["<backend model='random'>/dev/urandom</backend>"]);
    assert_eq!(added, ["<backend model='random'>/dev/random</backend>"]);
    assert!(rng.problem().is_empty());
    shoot(&window, "details-rng");

    let tpm: HwTpmPage = open(&hw, "TPM");
    tpm.set_model("tpm-tis");
    let (added, gone) = apply_and_diff(&hw, "the TPM is saved");
    assert_eq!(gone, ["<tpm model='tpm-crb'>"]);
    assert_eq!(added, ["<tpm model='tpm-tis'>"]);
    shoot(&window, "details-tpm");

    // Nothing changed: nothing defined.
    hw.apply();
    assert!(
        hw.message().contains("Nothing to apply"),
        "{}",
        hw.message()
    );

    // 360 px: each page takes the width, with Back.
    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    for (title, name) in [
        ("Display VNC", "graphics"),
        ("Video QXL", "video"),
        ("Sound AC'97", "sound"),
        ("Tablet", "input"),
        ("Watchdog", "watchdog"),
        ("Random Number Generator", "rng"),
        ("TPM", "tpm"),
    ] {
        assert!(hw.select(title), "no “{title}” in {:?}", hw.titles());
        settle();
        save_png(&window, &format!("details-{name}-narrow.png"));
    }
    app.quit();
}

/// The serial port, its console, the USB controller and the shared directory: a
/// relative path is refused on its field; the serial port writes to a file (its
/// console with it), USB 2 becomes USB 3, the share gets another directory and tag
/// and its page stays open; each checked in libvirt's XML. Screenshots light, dark
/// and 360 px.
pub fn port_pages() {
    let (app, _domain, hw) = start_vm(PORTS_VM, false);
    let window = app.window();

    let serial: HwCharDevicePage = open(&hw, "Serial 1");
    shoot(&window, "details-serial");
    let before = dumpxml("ports", true);
    serial.set_host_side("file", "guest.log");
    hw.apply();
    settle();
    assert!(
        serial.problem().contains("full path"),
        "{}",
        serial.problem()
    );
    assert!(entry(&serial, "_Path").has_css_class("error"));
    assert_eq!(dumpxml("ports", true), before, "nothing changed");
    shoot(&window, "details-serial-error");
    serial.set_host_side("file", "/var/log/ports.log");
    let (added, gone) = apply_and_diff(&hw, "the serial port is saved");
    assert_eq!(
        gone,
        ["<serial type='pty'>", "<console type='pty'>"],
        "{added:?}"
    );
    assert_eq!(
        added,
        [
            "<serial type='file'>",
            "<source path='/var/log/ports.log'/>",
            "<console type='file'>",
            "<source path='/var/log/ports.log'/>",
        ],
        "{gone:?}"
    );

    // The console is the serial port seen again: changed there.
    let console: HwCharDevicePage = open(&hw, "Console 1");
    let rows = find_widgets::<adw::ComboRow>(&console);
    assert!(
        rows.iter().all(|r| !r.is_sensitive()),
        "the console follows the serial port"
    );
    shoot(&window, "details-console");

    let usb: HwControllerPage = open(&hw, "Controller USB 0");
    usb.set_model("qemu-xhci");
    let (added, gone) = apply_and_diff(&hw, "the controller is saved");
    assert_eq!(
        gone,
        ["<controller type='usb' index='0' model='ich9-ehci1'/>"],
        "{added:?}"
    );
    assert_eq!(
        added,
        ["<controller type='usb' index='0' model='qemu-xhci'/>"],
        "{gone:?}"
    );
    shoot(&window, "details-controller");

    let share: HwFilesystemPage = open(&hw, "Filesystem share");
    share.set_share("/srv/other", "other");
    let (added, gone) = apply_and_diff(&hw, "the share is saved");
    assert_eq!(
        gone,
        ["<source dir='/srv/share'/>", "<target dir='share'/>"]
    );
    assert_eq!(
        added,
        ["<source dir='/srv/other'/>", "<target dir='other'/>"]
    );
    wait_until("the sidebar follows the new tag", EVENT, || {
        hw.titles().iter().any(|t| t == "Filesystem other")
    });
    settle();
    assert!(
        hw.page().and_downcast::<HwFilesystemPage>().is_some(),
        "its page stays open"
    );
    shoot(&window, "details-filesystem");

    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    for (title, name) in [
        ("Serial 1", "serial"),
        ("Console 1", "console"),
        ("Controller USB 0", "controller"),
        ("Filesystem other", "filesystem"),
    ] {
        assert!(hw.select(title), "no “{title}” in {:?}", hw.titles());
        settle();
        save_png(&window, &format!("details-{name}-narrow.png"));
    }
    app.quit();
}
