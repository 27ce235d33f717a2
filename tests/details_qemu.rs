//! A VM's Details through Vireo's window on the private daemon's `qemu:///system`, with
//! real QEMU: memory, title and boot order changed on the pages reach libvirt, as
//! `virsh dumpxml` (another process) shows, and every other line of the definition,
//! its two metadata namespaces and `<qemu:commandline>` included, stays as it was; bad
//! input (memory above the host's, an empty name) says so inline and changes nothing;
//! the XML tab's edit reaches libvirt after its diff, and one libvirt refuses shows
//! libvirt's words and changes nothing; on the running guest, the CD-ROM's medium is
//! changed and ejected live.
//!
//! Needs root, QEMU, libvirtd and the test guest (run it under `isolate.sh` on a shared
//! machine); skipped with one loud line where they are missing, except in CI.

mod kit;

use adw::prelude::*;
use kit::app::TestApp;
use kit::details::{
    apply_entry, changed_lines, diff_dialog, entry, open, open_details, spin, xml_tab,
};
use kit::model::{define, start};
use kit::screen::save_png;
use kit::testbed::{self, daemon, temp_dir, virsh, Boot, Guest, Need, SystemDaemon};
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::ConnectionState;
use vireo::ui::{HwBootPage, HwDiskPage, HwMemoryPage};

const URI: &str = SystemDaemon::URI;
/// A `vireo-test*` name: the runner's cleanup removes it from the private daemon.
const NAME: &str = "vireo-test-details";

fn main() {
    testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![test(
        "edits_reach_libvirt_and_keep_the_rest",
        edits_reach_libvirt_and_keep_the_rest,
    )
    .limit(300)]);
}

/// What another application keeps in the definition, which Vireo must not touch.
const FOREIGN_METADATA: &str = "<app:settings xmlns:app='http://example.org/some-app/1'>\
    <app:pinned>yes</app:pinned><app:colour>teal</app:colour></app:settings>";
const OS_METADATA: &str = "<libosinfo:libosinfo \
    xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\
    <libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo>";

/// The test guest with an empty CD-ROM drive, metadata of two applications and a QEMU
/// command line argument.
fn domain_xml(guest: &Guest) -> String {
    let disk = guest.overlay(&temp_dir("details-qemu").join("disk.qcow2"));
    let xml = guest.domain_xml(NAME, Boot::Kernel, Some(&disk));
    xml.replacen(
        "<domain type='qemu'>",
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
        1,
    )
    .replacen(
        "<memory",
        &format!("<metadata>{FOREIGN_METADATA}{OS_METADATA}</metadata><memory"),
        1,
    )
    .replacen(
        "</devices>",
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
         </devices><qemu:commandline><qemu:arg value='-msg'/>\
         <qemu:arg value='timestamp=on'/></qemu:commandline>",
        1,
    )
}

fn dumpxml() -> String {
    virsh(URI, &["dumpxml", "--inactive", NAME])
}

/// The part of `xml` from `from` to the end of `to`.
fn section<'a>(xml: &'a str, from: &str, to: &str) -> &'a str {
    let a = xml
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in {xml}"));
    let b = xml[a..].find(to).unwrap_or_else(|| panic!("no {to}")) + a + to.len();
    &xml[a..b]
}

fn edits_reach_libvirt_and_keep_the_rest() {
    let guest = Guest::get().unwrap();
    daemon();
    let app = TestApp::start(&["--connect", URI]);
    let window = app.window();
    let c = app.connection(0);
    wait_until("qemu:///system connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let d = define(&c, domain_xml(guest));
    let (page, hw) = open_details(&app, &d);
    let ov = page.overview().expect("the overview");
    let original = dumpxml();
    let foreign = section(&original, "<app:settings", "</app:settings>").to_owned();
    let qemu_args = section(&original, "<qemu:commandline>", "</qemu:commandline>").to_owned();

    // Bad input changes nothing: an empty name, memory above the host's.
    apply_entry(&entry(&ov, "Name"), "");
    assert!(
        ov.error_text().contains("needs a name"),
        "{}",
        ov.error_text()
    );
    let mem: HwMemoryPage = open(&hw, "Memory");
    spin(&mem, "_Maximum Allocation (MiB)").set_value(16_000_000.0);
    hw.apply();
    assert!(
        mem.problem().contains("more than the host"),
        "{}",
        mem.problem()
    );
    save_png(&window, "details-qemu-memory-error.png");
    hw.revert();
    assert_eq!(dumpxml(), original, "refused input changes nothing");

    // Memory, boot order and title, each applied on its page.
    spin(&mem, "C_urrent Allocation (MiB)").set_value(128.0);
    hw.apply();
    wait_until("the memory reaches libvirt", EVENT, || {
        dumpxml().contains("<currentMemory unit='KiB'>131072</currentMemory>")
    });
    let boot: HwBootPage = open(&hw, "Boot Options");
    boot.set_enabled("CD-ROM", true);
    settle();
    hw.apply();
    wait_until("the boot order reaches libvirt", EVENT, || {
        dumpxml().contains("<boot dev='cdrom'/>")
    });
    hw.select("Overview");
    settle();
    apply_entry(&entry(&ov, "Title"), "Details test");
    wait_until("the title reaches libvirt", EVENT, || {
        dumpxml().contains("<title>Details test</title>")
    });
    save_png(&window, "details-qemu-overview.png");

    // Only those lines changed; the other applications' parts are byte-identical.
    let after = dumpxml();
    let (mut added, mut gone) = changed_lines(&original, &after);
    added.sort();
    gone.sort();
    assert_eq!(
        added,
        [
            "<boot dev='cdrom'/>",
            "<currentMemory unit='KiB'>131072</currentMemory>",
            "<title>Details test</title>",
        ],
        "{after}"
    );
    assert_eq!(
        gone,
        ["<currentMemory unit='KiB'>196608</currentMemory>"],
        "{after}"
    );
    assert_eq!(section(&after, "<app:settings", "</app:settings>"), foreign);
    assert_eq!(
        section(&after, "<qemu:commandline>", "</qemu:commandline>"),
        qemu_args
    );
    assert_eq!(
        section(&after, "<libosinfo:libosinfo", "</libosinfo:libosinfo>"),
        section(&original, "<libosinfo:libosinfo", "</libosinfo:libosinfo>")
    );

    // The XML tab: an edit reaches libvirt after its diff, the rest stays as it was;
    // one libvirt refuses (an unknown value) says libvirt's words and changes nothing.
    let editor = xml_tab(&page, NAME);
    assert_eq!(editor.text(), after, "the tab shows the saved definition");
    editor.set_text(&after.replacen(
        "<on_crash>destroy</on_crash>",
        "<on_crash>restart</on_crash>",
        1,
    ));
    editor.apply_button().emit_clicked();
    diff_dialog().response("apply");
    wait_until("the XML edit reaches libvirt", EVENT, || {
        dumpxml().contains("<on_crash>restart</on_crash>")
    });
    let edited = dumpxml();
    let (added, gone) = changed_lines(&after, &edited);
    assert_eq!(added, ["<on_crash>restart</on_crash>"], "{edited}");
    assert_eq!(gone, ["<on_crash>destroy</on_crash>"], "{edited}");
    wait_until("the tab shows libvirt's definition again", EVENT, || {
        editor.text() == edited && !editor.apply_button().is_sensitive()
    });
    editor.set_text(&edited.replacen(
        "<on_crash>restart</on_crash>",
        "<on_crash>explode</on_crash>",
        1,
    ));
    editor.apply_button().emit_clicked();
    diff_dialog().response("apply");
    let notice = wait_until("libvirt's refusal shows", EVENT, || {
        let n = editor.notice();
        (!n.is_empty()).then_some(n)
    });
    assert!(notice.contains("on_crash"), "libvirt's words: {notice}");
    assert_eq!(dumpxml(), edited, "a refused edit changes nothing");
    save_png(&window, "details-qemu-xml-refused.png");
    page.show_details();

    // Running: the CD-ROM's medium changes live, and is ejected live.
    start(&c, &d);
    let medium = temp_dir("details-qemu").join("medium.iso");
    std::fs::write(&medium, vec![0u8; 1 << 20]).unwrap();
    let medium = medium.to_str().unwrap().to_owned();
    let cd: HwDiskPage = open(&hw, "IDE CD-ROM hdc");
    cd.set_source_text(&medium);
    hw.apply();
    wait_until("the medium is in the running guest's drive", EVENT, || {
        virsh(URI, &["domblklist", NAME])
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["hdc", medium.as_str()])
    });
    wait_until("the page says it changed now", EVENT, || {
        hw.message().contains("Changed now")
    });
    save_png(&window, "details-qemu-cdrom.png");
    let cd: HwDiskPage = open(&hw, "IDE CD-ROM hdc");
    cd.eject();
    hw.apply();
    wait_until("the drive is empty", EVENT, || {
        virsh(URI, &["domblklist", NAME])
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["hdc", "-"])
    });
    app.quit();
}
