//! A VM's Details through Vireo's window on the private daemon's `qemu:///system`, with
//! real QEMU: memory, title and boot order changed on the pages reach libvirt, as
//! `virsh dumpxml` (another process) shows, and every other line of the definition,
//! its two metadata namespaces and `<qemu:commandline>` included, stays as it was; bad
//! input (memory above the host's, an empty name) says so inline and changes nothing;
//! the XML tab's edit reaches libvirt after its diff, and one libvirt refuses shows
//! libvirt's words and changes nothing.
//!
//! On the running guest, seen from inside it through its serial console: Add Hardware
//! plugs in a virtio disk on a new volume of a pool, one on an existing image and a
//! network card; the CD-ROM's medium is changed live on its page, changed again, and
//! ejected.
//!
//! The overview of the running guest: no change waits at first (what libvirt adds to
//! a live definition is no difference); the Memory page's current allocation changes
//! the running guest at once through its balloon (libvirt's live XML and the page's
//! row follow); then the maximum changed on that page and a CD-ROM changed by `virsh
//! define` from another process are listed as waiting for the next start;
//! the uptime counts from the start Vireo saw; the graphs follow the stats ticks. A
//! disk whose image is a pool volume grows on its page: in its pool while the VM is
//! off, through QEMU while it runs (`virsh vol-info` and `domblkinfo` from another
//! process see it).
//!
//! The real host's USB and PCI devices: listed as sysfs has them, and one PCI function
//! given to a stopped VM (`details_qemu/host_devices.rs`).
//!
//! Needs root, QEMU, libvirtd and the test guest (run it under `isolate.sh` on a shared
//! machine); skipped with one loud line where they are missing, except in CI.

mod kit;

#[path = "details_qemu/host_devices.rs"]
mod host_devices;

use adw::prelude::*;
use std::time::Duration;

use kit::app::TestApp;
use kit::console::SerialConsole;
use kit::details::{
    add_hardware, apply_entry, changed_lines, choose, diff_dialog, entry, open, open_details,
    select, spin, xml_tab,
};
use kit::host::{dir_pool, remove_at_cleanup};
use kit::model::{define, start};
use kit::screen::save_png;
use kit::testbed::{self, daemon, temp_dir, virsh, Boot, Guest, Need, SystemDaemon, READY_LINE};
use kit::{block_on, settle, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::{ConnectionObject, ConnectionState};
use vireo::ui::{AddHardwareDialog, HardwareView, HwBootPage, HwDiskPage, HwMemoryPage, VmPage};

const URI: &str = SystemDaemon::URI;
/// A `vireo-test*` name: the runner's cleanup removes it from the private daemon.
const NAME: &str = "vireo-test-details";

fn main() {
    testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![
        test(
            "edits_reach_libvirt_and_keep_the_rest",
            edits_reach_libvirt_and_keep_the_rest,
        )
        .limit(300),
        test(
            "hot_plugged_disks_and_nic_seen_in_the_guest",
            hot_plugged_disks_and_nic_seen_in_the_guest,
        )
        .limit(360),
        test(
            "cdrom_media_changed_live_seen_in_the_guest",
            cdrom_media_changed_live_seen_in_the_guest,
        )
        .limit(300),
        test(
            "running_guest_overview_pending_uptime_graphs",
            running_guest_overview,
        )
        .limit(300),
        test("a_pool_volume_disk_grows_off_and_running", disk_grows).limit(300),
        test(
            "host_devices_of_the_real_host",
            host_devices::host_devices_of_the_real_host,
        )
        .limit(300),
    ]);
}

/// What another application keeps in the definition, which Vireo must not touch.
const FOREIGN_METADATA: &str = "<app:settings xmlns:app='http://example.org/some-app/1'>\
    <app:pinned>yes</app:pinned><app:colour>teal</app:colour></app:settings>";
const OS_METADATA: &str = "<libosinfo:libosinfo \
    xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\
    <libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo>";

/// The test guest with an empty IDE CD-ROM drive (hdc), metadata of two applications
/// and a QEMU command line argument.
fn domain_xml(guest: &Guest) -> String {
    let disk = guest.overlay(&temp_dir("details-qemu-vda").join("disk.qcow2"));
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
    app.quit();
}

fn running_guest_overview() {
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
    start(&c, &d);

    // Nothing waits: the live XML's aliases, ports, backing chains and expanded CPU
    // are no change of a person's.
    let pending = kit::block_on(c.pending_changes(&d)).expect("the model compares");
    assert_eq!(pending, Vec::new());
    let (uptime, tooltip) = wait_until("the uptime shows", EVENT, || {
        let u = ov.uptime_text();
        (!u.0.is_empty()).then_some(u)
    });
    assert_eq!(uptime, "less than a minute");
    assert!(
        tooltip.contains("saw the virtual machine start"),
        "{tooltip}"
    );

    // The current allocation changes now, through the balloon (the guest's
    // virtio_balloon gives the memory back, and libvirt's live XML follows), and for
    // the next starts.
    let mem: HwMemoryPage = open(&hw, "Memory");
    wait_until("the row says what the guest has", EVENT, || {
        mem.guest_memory_text().contains("now")
    });
    spin(&mem, "C_urrent Allocation (MiB)").set_value(160.0);
    hw.apply();
    wait_until("the page says it applies now", EVENT, || {
        hw.message()
            .contains("Changed now, and for the next starts")
    });
    wait_until(
        "the guest has 160 MiB now and at the next start",
        BOOT,
        || {
            virsh(URI, &["dumpxml", NAME])
                .contains("<currentMemory unit='KiB'>163840</currentMemory>")
                && dumpxml().contains("<currentMemory unit='KiB'>163840</currentMemory>")
        },
    );
    wait_until("the row follows the balloon", BOOT, || {
        mem.guest_memory_text()
            .replace('\u{a0}', " ")
            .contains("160.0 MiB now")
    });
    save_png(&window, "details-qemu-memory-live.png");
    // The maximum waits for the next start, and is listed as waiting.
    spin(&mem, "_Maximum Allocation (MiB)").set_value(256.0);
    hw.apply();
    wait_until("the maximum is saved", EVENT, || {
        dumpxml().contains("<memory unit='KiB'>262144</memory>")
    });
    // Another process changes the saved CD-ROM.
    let medium = temp_dir("details-qemu").join("next.iso");
    std::fs::write(&medium, vec![0u8; 1 << 20]).unwrap();
    let medium = medium.to_str().unwrap().to_owned();
    let xml_path = temp_dir("details-qemu").join("next.xml");
    std::fs::write(
        &xml_path,
        dumpxml().replacen(
            "<target dev='hdc' bus='ide'/>",
            &format!("<source file='{medium}'/>\n      <target dev='hdc' bus='ide'/>"),
            1,
        ),
    )
    .unwrap();
    virsh(URI, &["define", xml_path.to_str().unwrap()]);
    hw.select("Overview");
    settle();
    let text = wait_until("the overview lists both changes", EVENT, || {
        let t = ov.pending_text().replace('\u{a0}', " ");
        (t.contains("Memory") && t.contains("CD-ROM")).then_some(t)
    });
    assert!(
        text.contains("Memory: Now 192.0 MiB, at the next start 256.0 MiB"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "IDE CD-ROM hdc: source: Now none, at the next start {medium}"
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
    save_png(&window, "details-qemu-pending.png");

    // The graphs follow the model's stats ticks.
    wait_until("a few stats ticks", EVENT, || d.cpu_history().len() >= 5);
    let perf = wait_until("the graphs show figures", EVENT, || {
        let p = ov.performance_text();
        p.contains("CPU: ").then_some(p)
    });
    assert!(perf.contains("Network I/O: "), "{perf}");
    for scrolled in kit::app::find_widgets::<gtk::ScrolledWindow>(&ov) {
        let adjustment = scrolled.vadjustment();
        adjustment.set_value(adjustment.upper());
    }
    settle();
    save_png(&window, "details-qemu-performance.png");
    app.quit();
}

/// The capacity in bytes that `virsh` output says on its line "Capacity: N".
fn capacity_of(text: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "Capacity").then(|| v.split_whitespace().next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no capacity in {text}"))
}

fn press_resize(disk: &HwDiskPage) {
    kit::app::find_widgets::<gtk::Button>(disk)
        .into_iter()
        .find(|b| b.label().is_some_and(|l| l == "_Resize"))
        .expect("the Resize button")
        .emit_clicked();
}

fn disk_grows() {
    let guest = Guest::get().unwrap();
    daemon();
    let dir = temp_dir("details-qemu-pool");
    let dir_text = dir.to_str().unwrap().to_owned();
    virsh(
        URI,
        &[
            "pool-create-as",
            "vireo-test-grow",
            "dir",
            "--target",
            &dir_text,
        ],
    );
    virsh(
        URI,
        &[
            "vol-create-as",
            "vireo-test-grow",
            "grow.qcow2",
            "1G",
            "--format",
            "qcow2",
        ],
    );
    let image = format!("{dir_text}/grow.qcow2");
    let app = TestApp::start(&["--connect", URI]);
    let c = app.connection(0);
    wait_until("qemu:///system connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let xml = domain_xml(guest).replacen(
        "</devices>",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{image}'/><target dev='vdb' bus='virtio'/></disk></devices>"
        ),
        1,
    );
    let d = define(&c, xml);
    let (_page, hw) = open_details(&app, &d);
    let vol_info = || virsh(URI, &["vol-info", "--bytes", &image]);

    // Off: the volume grows in its pool.
    let disk: HwDiskPage = open(&hw, "VirtIO Disk vdb");
    wait_until("the size shows", EVENT, || !disk.size_text().is_empty());
    disk.set_size_gib(1.5);
    press_resize(&disk);
    wait_until("the volume grew", EVENT, || {
        capacity_of(&vol_info()) == 3 << 29
    });
    let (text, error) = wait_until("the page says so", EVENT, || {
        let m = disk.size_message();
        (!m.0.is_empty()).then_some(m)
    });
    assert!(!error && text.starts_with("Grown to"), "{text}");

    // Running: QEMU grows it, the guest's disk has the new size now.
    start(&c, &d);
    let disk: HwDiskPage = open(&hw, "VirtIO Disk vdb");
    wait_until("the size shows", EVENT, || {
        disk.size_text()
            .replace('\u{a0}', " ")
            .starts_with("1.5 GiB")
    });
    disk.set_size_gib(2.0);
    press_resize(&disk);
    wait_until("the running disk grew", EVENT, || {
        capacity_of(&virsh(URI, &["domblkinfo", NAME, "vdb"])) == 2 << 30
    });
    let (text, error) = wait_until("the page says so", EVENT, || {
        let m = disk.size_message();
        (!m.0.is_empty()).then_some(m)
    });
    assert!(!error && text.contains("sees the new size now"), "{text}");
    save_png(&app.window(), "details-qemu-disk-grown.png");
    app.quit();
}

/// The app on `qemu:///system` with the test guest (a virtio disk vda, an empty IDE
/// CD-ROM drive hdc, a network card on user-mode networking) running, its serial
/// console read by the test and its Details open.
struct Running {
    app: TestApp,
    connection: ConnectionObject,
    page: VmPage,
    hw: HardwareView,
    console: SerialConsole,
}

fn running_guest() -> Running {
    let guest = Guest::get().unwrap();
    daemon();
    let app = TestApp::start(&["--connect", URI]);
    let connection = app.connection(0);
    wait_until("qemu:///system connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let domain = define(&connection, domain_xml(guest));
    start(&connection, &domain);
    let console = SerialConsole::of(&connection, &domain);
    let booted = console.wait_lines(READY_LINE, 1, BOOT);
    println!("  guest ready after {:.1} s", booted.as_secs_f64());
    let (page, hw) = open_details(&app, &domain);
    Running {
        app,
        connection,
        page,
        hw,
        console,
    }
}

/// How long the guest may take to see a change the host made (a PCI hot-plug goes
/// through ACPI and a bus rescan in the TCG guest).
const GUEST_SEES: Duration = Duration::from_secs(60);

/// Chooses `kind` in the Add Hardware dialog, checks it says the device is plugged in
/// now, lets `fill` fill the form, saves the dialog to the screenshot `shot`, presses
/// Add and returns what the dialog said when it closed.
fn add_live(
    hw: &HardwareView,
    kind: &str,
    shot: &str,
    fill: impl FnOnce(&AddHardwareDialog),
) -> String {
    let dialog = add_hardware(hw);
    dialog.choose_kind(kind);
    settle();
    let says = "Plugged in now, and kept for the next starts.";
    assert!(
        kit::app::find_widgets::<gtk::Label>(&dialog)
            .iter()
            .any(|l| l.is_mapped() && l.label() == says),
        "the dialog says the {kind} is plugged in now"
    );
    fill(&dialog);
    save_png(&dialog, shot);
    let said = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
    let s = said.clone();
    dialog.connect_added(move |_, text| *s.borrow_mut() = Some(text.to_owned()));
    dialog.add();
    let said = wait_until(&format!("the {kind} is added"), EVENT, || {
        let problem = dialog.problem();
        assert!(problem.is_empty(), "the dialog says: {problem}");
        said.borrow().clone()
    });
    wait_until("the dialog closes", EVENT, || !dialog.is_visible());
    said
}

/// Removes the device `title` of the running VM with the page's Remove, after the
/// question that says it is unplugged now.
fn remove_live(hw: &HardwareView, title: &str) {
    let _: gtk::Widget = open(hw, title);
    hw.remove();
    let question = wait_until("the question", EVENT, || {
        gtk::Window::list_toplevels().into_iter().find_map(|w| {
            w.downcast::<adw::MessageDialog>()
                .ok()
                .filter(|d| d.is_visible())
        })
    });
    let body = question.body().to_string();
    assert!(body.contains("is unplugged from"), "{body}");
    question.response("remove");
    settle();
    wait_until(&format!("{title} removed"), EVENT, || {
        !hw.titles().iter().any(|t| t == title)
    });
}

/// The MAC addresses in `xml`, in order.
fn macs(xml: &str) -> Vec<String> {
    xml.split("<mac address='")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .map(str::to_owned)
        .collect()
}

/// On the running guest, through the window's Add Hardware: a 1 GiB virtio disk on a
/// new volume of a dir pool, a virtio disk on an existing image (an overlay of the
/// guest's data disk) and a virtio network card on user-mode networking. Each is
/// plugged in now and kept in the definition, and the guest sees it: /sys/block/vdb
/// of 1 GiB, /dev/vdc starting with the data disk's marker, eth1 with the MAC address
/// the dialog gave the card. Then the card and vdb are removed with the page's Remove:
/// unplugged from the guest (eth1 and vdb gone there) and from the definition.
fn hot_plugged_disks_and_nic_seen_in_the_guest() {
    let pool_name = "vireo-test-hotplug";
    let work = temp_dir("details-qemu-hotplug");
    let target = work.join("pool");
    let r = running_guest();
    // After the daemon's start: the hooks run last registered first, and the pool
    // (kept in /etc/libvirt/storage) must go while the daemon still answers.
    remove_at_cleanup(URI, &[], &[pool_name]);
    let pool = block_on(
        r.connection
            .host()
            .create_pool(dir_pool(pool_name, target.to_str().unwrap())),
    )
    .unwrap_or_else(|e| panic!("creating the pool: {e}"));
    assert_eq!(
        r.console
            .ask_until("B0", "ls /sys/block | tr '\\n' ' '", BOOT, |a| {
                !a.is_empty()
            }),
        "sr0 vda",
        "the guest's block devices before"
    );

    // A new volume in the pool.
    let said = add_live(&r.hw, "disk", "details-qemu-add-volume.png", |dialog| {
        select(dialog, "Storage _Pool", pool_name);
        spin(dialog, "_Size (GiB)").set_value(1.0);
        select(dialog, "_Bus", "VirtIO");
    });
    assert_eq!(said, "Added now, and for the next starts.");
    let volume = wait_until("the new volume in the pool", EVENT, || {
        block_on(pool.load_volumes()).ok()?;
        pool.volume(&format!("{NAME}-1.qcow2"))
    });
    let sectors = r
        .console
        .ask_until("VDB", "cat /sys/block/vdb/size 2>&1", GUEST_SEES, |a| {
            a.chars().all(|c| c.is_ascii_digit())
        });
    assert_eq!(sectors, "2097152", "the guest sees a 1 GiB disk vdb");
    let live = virsh(URI, &["domblklist", NAME]);
    assert!(
        live.lines().any(|l| {
            l.split_whitespace().collect::<Vec<_>>() == ["vdb", volume.path().as_str()]
        }),
        "{live}"
    );
    assert!(dumpxml().contains(&volume.path()), "kept in the definition");

    // An existing image.
    let image = Guest::get().unwrap().overlay(&work.join("existing.qcow2"));
    let image = image.to_str().unwrap().to_owned();
    add_live(&r.hw, "disk", "details-qemu-add-image.png", |dialog| {
        choose(dialog, "_Existing Disk");
        entry(dialog, "Disk Image or Device Path").set_text(&image);
        settle();
    });
    let marker = r
        .console
        .ask_until("VDC", "head -c 15 /dev/vdc 2>&1", GUEST_SEES, |a| {
            !a.contains("No such")
        });
    assert_eq!(
        marker, "VIREO-DATA-DISK",
        "the guest reads the image as vdc"
    );
    assert!(dumpxml().contains(&image), "kept in the definition");

    // A network card.
    let before = macs(&virsh(URI, &["dumpxml", NAME]));
    add_live(&r.hw, "nic", "details-qemu-add-nic.png", |dialog| {
        select(dialog, "_Network", "User-mode networking");
        select(dialog, "_Model", "VirtIO");
    });
    let mac = wait_until("the new card's MAC address", EVENT, || {
        macs(&virsh(URI, &["dumpxml", NAME]))
            .into_iter()
            .find(|m| !before.contains(m))
    });
    assert!(dumpxml().contains(&mac), "kept in the definition");
    let seen = r.console.ask_until(
        "ETH1",
        "cat /sys/class/net/eth1/address 2>&1",
        GUEST_SEES,
        |a| !a.contains("No such"),
    );
    assert_eq!(seen, mac, "the guest has eth1 with the card's MAC address");

    let titles = r.hw.titles();
    for title in ["VirtIO Disk vdb", "VirtIO Disk vdc"] {
        assert!(titles.iter().any(|t| t == title), "{title} in {titles:?}");
    }
    let suffix = &mac[mac.len() - 8..];
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("NIC") && t.ends_with(suffix)),
        "the card in {titles:?}"
    );
    save_png(&r.app.window(), "details-qemu-hot-plugged.png");

    // Removed again: unplugged from the guest, gone from the definition.
    let nic = titles
        .iter()
        .find(|t| t.starts_with("NIC") && t.ends_with(suffix))
        .unwrap()
        .clone();
    for (title, gone_from_guest, gone_from_xml) in [
        (
            nic.as_str(),
            "ls /sys/class/net | tr '\\n' ' '",
            mac.as_str(),
        ),
        (
            "VirtIO Disk vdb",
            "ls /sys/block | tr '\\n' ' '",
            volume.path().as_str(),
        ),
    ] {
        remove_live(&r.hw, title);
        wait_until(&format!("{title} gone from the definition"), EVENT, || {
            !dumpxml().contains(gone_from_xml)
        });
        let gone = if title == nic { "eth1" } else { "vdb" };
        r.console.ask_until(
            &format!("RM{}", gone.to_uppercase()),
            gone_from_guest,
            GUEST_SEES,
            |a| !a.is_empty() && !a.split(' ').any(|d| d == gone),
        );
    }
    drop(r.page);
    r.app.quit();
}

/// An ISO of one small file whose volume id is `label`.
fn iso(dir: &std::path::Path, label: &str) -> String {
    let content = dir.join(label);
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(content.join("README.TXT"), label).unwrap();
    let path = dir.join(format!("{label}.iso"));
    let out = std::process::Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-V", label, "-o"])
        .arg(&path)
        .arg(&content)
        .output()
        .expect("xorriso");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path.to_str().unwrap().to_owned()
}

/// The volume id of the medium in the guest's CD-ROM drive (bytes 40-71 of the ISO's
/// primary volume descriptor, sector 16), or why it cannot be read.
const READ_LABEL: &str = "rm -f /tmp/pvd; \
    dd if=/dev/sr0 of=/tmp/pvd bs=2048 skip=16 count=1 2>/tmp/err || cat /tmp/err; \
    head -c 72 /tmp/pvd 2>/dev/null | tail -c 32";

/// On the running guest, the CD-ROM page: a medium put into the empty drive, then
/// another, each read by the guest (its volume id from /dev/sr0), then ejected: the
/// guest finds no medium. Libvirt's live view (`virsh domblklist`) and the definition
/// follow, and the page says each change applied now.
fn cdrom_media_changed_live_seen_in_the_guest() {
    let work = temp_dir("details-qemu-media");
    let first = iso(&work, "VIREO_MEDIUM_A");
    let second = iso(&work, "VIREO_MEDIUM_B");
    let r = running_guest();
    let empty = r
        .console
        .ask_until("SR0", READ_LABEL, BOOT, |a| !a.is_empty());
    assert!(empty.contains("No medium found"), "an empty drive: {empty}");
    let in_drive = || {
        virsh(URI, &["domblklist", NAME])
            .lines()
            .find_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
                ["hdc", source] => Some(source.to_owned()),
                _ => None,
            })
            .unwrap_or_default()
    };

    for (n, (medium, label)) in [(&first, "VIREO_MEDIUM_A"), (&second, "VIREO_MEDIUM_B")]
        .into_iter()
        .enumerate()
    {
        let cd: HwDiskPage = open(&r.hw, "IDE CD-ROM hdc");
        cd.set_source_text(medium);
        r.hw.apply();
        wait_until("the medium in libvirt's live view", EVENT, || {
            &in_drive() == medium
        });
        wait_until("the page says it changed now", EVENT, || {
            r.hw.message().contains("Changed now")
        });
        let seen = r
            .console
            .ask_until(&format!("CD{n}"), READ_LABEL, GUEST_SEES, |a| a == label);
        assert_eq!(seen, label);
        assert!(
            dumpxml().contains(medium.as_str()),
            "kept in the definition"
        );
    }
    save_png(&r.app.window(), "details-qemu-cdrom.png");

    let cd: HwDiskPage = open(&r.hw, "IDE CD-ROM hdc");
    cd.eject();
    r.hw.apply();
    wait_until("the drive is empty", EVENT, || in_drive() == "-");
    let gone = r.console.ask_until("EJ", READ_LABEL, GUEST_SEES, |a| {
        a.contains("No medium found")
    });
    println!("  the guest after the eject: {gone}");
    assert!(
        !dumpxml().contains(second.as_str()),
        "gone from the definition"
    );
    drop(r.page);
    r.app.quit();
}
