//! A VM's Details through Vireo's window on libvirt's test driver (quick, no QEMU), as
//! a person changes them: the overview's name, title and description (each with its
//! Apply; an empty name and libvirt's refusals show inline and change nothing), the
//! guest's addresses with their copy buttons; the hardware pages (memory, CPUs, boot
//! order, disks, NICs, removing a device). What changed is checked in libvirt itself
//! through a connection of the test's own. Screenshots of every page, light, dark and
//! 360 px wide, go to `target/screenshots/`.

mod kit;

#[path = "details_ui/device_pages.rs"]
mod device_pages;
#[path = "details_ui/host_devices.rs"]
mod host_devices;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::details::{apply_entry, changed_lines, entry, open, spin};
use kit::screen::save_png;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionState, DomainObject, DomainState};
use vireo::ui::{
    AddHardwareDialog, HardwareView, HwBootPage, HwCpuPage, HwDiskPage, HwMemoryPage, HwNicPage,
    VmOverview, VmPage,
};

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("overview_edits_and_errors", overview_edits_and_errors),
        test("hardware_pages_edit_the_definition", hardware_pages),
        test("remove_a_device_after_asking", remove_a_device),
        test("add_hardware_dialog", add_hardware),
        test(
            "an_edit_made_meanwhile_is_not_overwritten",
            an_edit_made_meanwhile_is_not_overwritten,
        ),
        test(
            "a_change_elsewhere_replaces_unapplied_values_and_says_so",
            a_change_elsewhere_replaces_unapplied_values,
        ),
        test("xml_tab_highlights_and_searches", xml_tab),
        test("xml_edit_applies_after_its_diff", xml_edit_applies),
        test("xml_edit_refused_shows_libvirts_line", xml_edit_refused),
        test("xml_edit_meanwhile_is_not_overwritten", xml_edit_meanwhile),
        test(
            "overview_shows_what_waits_for_the_next_start",
            overview_pending_changes,
        ),
        test("overview_uptime_and_graphs", overview_uptime_and_graphs),
        test("cpu_topology_checked_against_the_count", cpu_topology),
        test("nic_network_chosen_from_the_hosts_list", nic_network),
        test("disk_size_shown_and_shrink_refused", disk_size),
        test(
            "graphics_page_switches_to_spice",
            device_pages::graphics_page,
        ),
        test(
            "device_pages_edit_the_definition",
            device_pages::device_pages,
        ),
        test("port_pages_edit_the_definition", device_pages::port_pages),
        test(
            "host_devices_chosen_from_the_hosts_list",
            host_devices::host_devices,
        ),
        test("no_usb_devices_said", host_devices::no_usb_devices_said),
    ]);
}

/// Vireo on `test:///default` and its running VM "test", its tab open on Details.
fn start() -> (TestApp, DomainObject, VmPage) {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let connection = app.connection(0);
    wait_until("the test host connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let domain = wait_until("the VM test is listed", EVENT, || {
        kit::model::domain(&connection, "test")
    });
    let page = app.window().open_domain(&domain);
    page.show_details();
    settle();
    (app, domain, page)
}

/// The test driver's domain XML as another client reads it (the driver is one per
/// process: this connection sees what Vireo's does).
fn dumpxml(name: &str, inactive: bool) -> String {
    let conn = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let dom = conn.lookup_domain_by_name(name).expect("the domain");
    let flags = if inactive {
        virt::sys::VIR_DOMAIN_XML_INACTIVE
    } else {
        0
    };
    dom.xml_desc(flags).expect("its XML")
}

fn overview(page: &VmPage) -> VmOverview {
    page.overview().expect("the overview")
}

fn overview_edits_and_errors() {
    let (app, domain, page) = start();
    let window = app.window();
    let ov = overview(&page);
    wait_until("the name is shown", EVENT, || {
        entry(&ov, "Name").text() == "test"
    });

    // An empty name: an inline error, nothing changes.
    let before = dumpxml("test", true);
    apply_entry(&entry(&ov, "Name"), "  ");
    assert!(
        ov.error_text().contains("needs a name"),
        "{}",
        ov.error_text()
    );
    assert!(entry(&ov, "Name").has_css_class("error"));
    assert_eq!(
        dumpxml("test", true),
        before,
        "an empty name changes nothing"
    );
    save_png(&window, "details-overview-error.png");

    // Renaming a running VM: libvirt's own refusal, inline; nothing changes.
    apply_entry(&entry(&ov, "Name"), "renamed");
    wait_until("libvirt's refusal shows", EVENT, || {
        ov.error_text().contains("The name was not changed")
    });
    assert_eq!(domain.name(), "test");
    assert_eq!(
        dumpxml("test", true),
        before,
        "a refused rename changes nothing"
    );

    // Title and description reach libvirt; the error goes.
    apply_entry(&entry(&ov, "Title"), "Web server");
    wait_until("the title reaches libvirt", EVENT, || {
        dumpxml("test", true).contains("<title>Web server</title>")
    });
    assert!(ov.error_text().is_empty(), "{}", ov.error_text());
    assert!(!entry(&ov, "Name").has_css_class("error"));
    wait_until("the model follows", EVENT, || {
        domain.title() == "Web server"
    });
    apply_entry(&entry(&ov, "Description"), "Serves <pages> & more");
    wait_until("the description reaches libvirt", EVENT, || {
        dumpxml("test", false)
            .contains("<description>Serves &lt;pages&gt; &amp; more</description>")
    });
    // A title on two lines: libvirt refuses in its words.
    apply_entry(&entry(&ov, "Title"), "two\nlines");
    wait_until("libvirt refuses the title", EVENT, || {
        ov.error_text().contains("The title was not changed")
    });
    assert!(dumpxml("test", true).contains("<title>Web server</title>"));

    // The guest's addresses, each with a copy button.
    wait_until("the addresses show", EVENT, || {
        ov.addresses_text().contains('/')
    });
    let copy = find_widgets::<gtk::Button>(&ov)
        .into_iter()
        .find(|b| b.tooltip_text().is_some_and(|t| t == "Copy Address"))
        .expect("a copy button");
    let label = copy.accessible_role();
    assert_eq!(label, gtk::AccessibleRole::Button);
    copy.emit_clicked();
    settle();
    let first = ov.addresses_text();
    let first = first.split('/').next().unwrap_or_default().to_owned();
    let copied = kit::block_on(copy.clipboard().read_text_future())
        .ok()
        .flatten()
        .map(|t| t.to_string())
        .unwrap_or_default();
    assert_eq!(copied, first, "the copy button copies the bare address");

    // Shut off, the rename goes through.
    kit::model::act(
        &domain.connection().unwrap(),
        &domain,
        vireo::model::DomainAction::ForceOff,
    );
    wait_until("test is shut off", EVENT, || {
        domain.state() == DomainState::Shutoff
    });
    apply_entry(&entry(&ov, "Name"), "renamed");
    wait_until("the VM is renamed", EVENT, || domain.name() == "renamed");
    assert!(dumpxml("renamed", true).contains("<name>renamed</name>"));
    assert!(ov.error_text().is_empty(), "{}", ov.error_text());

    save_png(&window, "details-overview.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "details-overview-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    save_png(&window, "details-overview-narrow.png");
    app.quit();
}

/// The Details page's sidebar and pages, once the definition is read.
fn hardware(page: &VmPage) -> HardwareView {
    let hw = page.hardware().expect("the hardware view");
    wait_until("the sidebar lists the devices", EVENT, || {
        hw.titles().len() > 4
    });
    hw
}

/// Every screenshot of a page: light, dark.
/// The list row a field sits in.
fn row_of(field: &impl IsA<gtk::Widget>) -> adw::ActionRow {
    field
        .ancestor(adw::ActionRow::static_type())
        .and_downcast()
        .expect("the field sits in a row")
}

fn shoot(window: &impl IsA<gtk::Widget>, name: &str) {
    save_png(window, &format!("{name}.png"));
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(window, &format!("{name}-dark.png"));
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    settle();
}

fn hardware_pages() {
    let (app, _domain, page) = start();
    let window = app.window();
    let hw = hardware(&page);
    let titles = hw.titles();
    for t in [
        "Overview",
        "CPUs",
        "Memory",
        "Boot Options",
        "VirtIO Disk vda",
        "NIC :dd:ee:ff",
        "Memory Balloon",
    ] {
        assert!(titles.iter().any(|x| x == t), "{t} missing from {titles:?}");
    }

    // Memory: more than the host has is refused inline, and nothing changes.
    let before = dumpxml("test", true);
    let mem: HwMemoryPage = open(&hw, "Memory");
    let current = spin(&mem, "C_urrent Allocation (MiB)");
    let max = spin(&mem, "_Maximum Allocation (MiB)");
    assert_eq!(max.value() as u64, 8192);
    assert_eq!(current.value() as u64, 2048);
    max.set_value(16_000_000.0);
    hw.apply();
    // Said under the fields, with the wrong one marked; not repeated below.
    assert!(
        mem.problem().contains("more than the host"),
        "{}",
        mem.problem()
    );
    assert!(row_of(&max).has_css_class("error"), "the maximum is marked");
    assert!(!row_of(&current).has_css_class("error"));
    assert_eq!(hw.message(), "");
    assert_eq!(dumpxml("test", true), before);
    shoot(&window, "details-memory-error");
    // Revert shows what is saved, and the mark goes.
    hw.revert();
    assert_eq!(max.value() as u64, 8192);
    assert!(hw.message().is_empty());
    assert_eq!(mem.problem(), "");
    assert!(!row_of(&max).has_css_class("error"));
    // Apply with nothing changed defines nothing.
    hw.apply();
    assert!(
        hw.message().contains("Nothing to apply"),
        "{}",
        hw.message()
    );
    // The running VM: the row says what its guest has now.
    assert!(
        mem.guest_memory_text()
            .replace('\u{a0}', " ")
            .contains("2.0 GiB now"),
        "{}",
        mem.guest_memory_text()
    );
    // A smaller current allocation reaches libvirt now, through the balloon, and for
    // the next starts: that line only.
    current.set_value(1024.0);
    hw.apply();
    wait_until("the memory is saved", EVENT, || {
        dumpxml("test", true).contains("<currentMemory unit='KiB'>1048576</currentMemory>")
    });
    wait_until("the page says when the change applies", EVENT, || {
        hw.message()
            .contains("Changed now, and for the next starts")
    });
    assert!(
        dumpxml("test", false).contains("<currentMemory unit='KiB'>1048576</currentMemory>"),
        "the running VM has it now"
    );
    wait_until("the row follows what the guest has", EVENT, || {
        mem.guest_memory_text()
            .replace('\u{a0}', " ")
            .contains("1.0 GiB now")
    });
    let (added, gone) = changed_lines(&before, &dumpxml("test", true));
    assert_eq!(added, ["<currentMemory unit='KiB'>1048576</currentMemory>"]);
    assert_eq!(gone, ["<currentMemory unit='KiB'>2097152</currentMemory>"]);
    shoot(&window, "details-memory");

    // Boot order: the CD-ROM first, then the disk.
    let before = dumpxml("test", true);
    let boot: HwBootPage = open(&hw, "Boot Options");
    assert_eq!(boot.boot_labels(), ["Hard Disk"]);
    boot.set_enabled("CD-ROM", true);
    settle();
    boot.move_up("CD-ROM");
    assert_eq!(boot.boot_labels(), ["CD-ROM", "Hard Disk"]);
    hw.apply();
    wait_until("the boot order is saved", EVENT, || {
        dumpxml("test", true).contains("<boot dev='cdrom'/>\n    <boot dev='hd'/>")
    });
    let (added, gone) = changed_lines(&before, &dumpxml("test", true));
    assert_eq!(added, ["<boot dev='cdrom'/>"], "{gone:?}");
    assert!(gone.is_empty(), "{gone:?}");
    shoot(&window, "details-boot");

    // CPUs: four, copying the host's CPU.
    let cpu: HwCpuPage = open(&hw, "CPUs");
    spin(&cpu, "_Virtual CPUs").set_value(4.0);
    find_widgets::<adw::ComboRow>(&cpu)[0].set_selected(1);
    hw.apply();
    wait_until("the CPUs are saved", EVENT, || {
        let x = dumpxml("test", true);
        x.contains(">4</vcpu>") && x.contains("host-passthrough")
    });
    shoot(&window, "details-cpu");

    // The disk and the NIC.
    let _disk: HwDiskPage = open(&hw, "VirtIO Disk vda");
    shoot(&window, "details-disk");
    let nic: HwNicPage = open(&hw, "NIC :dd:ee:ff");
    let model = combo(&nic, "_Model");
    model.set_selected(1); // e1000e
    nic.set_link_up(false);
    hw.apply();
    wait_until("the NIC is saved", EVENT, || {
        let x = dumpxml("test", true);
        x.contains("<model type='e1000e'/>") && x.contains("<link state='down'/>")
    });
    shoot(&window, "details-nic");

    // 360 px: the sidebar, then a page with its Back button.
    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    page.show_details();
    settle();
    save_png(&window, "details-overview-narrow-folded.png");
    // Back to the list of hardware, which then has the whole width.
    find_widgets::<gtk::Button>(&hw)
        .into_iter()
        .find(|b| b.tooltip_text().is_some_and(|t| t == "Back") && b.is_mapped())
        .expect("a Back button when narrow")
        .emit_clicked();
    wait_until("the list takes the width", EVENT, || {
        find_widgets::<gtk::ListBox>(&hw)
            .first()
            .is_some_and(|l| l.is_mapped() && l.width() > 300)
    });
    settle();
    save_png(&window, "details-sidebar-narrow.png");
    let _: HwMemoryPage = open(&hw, "Memory");
    save_png(&window, "details-memory-narrow.png");
    app.quit();
}

fn remove_a_device() {
    let (app, domain, page) = start();
    kit::model::act(
        &domain.connection().unwrap(),
        &domain,
        vireo::model::DomainAction::ForceOff,
    );
    wait_until("test is shut off", EVENT, || {
        domain.state() == DomainState::Shutoff
    });
    let hw = hardware(&page);
    let _: HwDiskPage = open(&hw, "VirtIO Disk vda");
    hw.remove();
    let dialog = wait_until("the question", EVENT, || {
        gtk::Window::list_toplevels()
            .into_iter()
            .find_map(|w| w.downcast::<adw::MessageDialog>().ok())
    });
    let heading = dialog.heading().unwrap_or_default().to_string();
    let body = dialog.body().to_string();
    assert_eq!(heading, "Remove VirtIO Disk vda?");
    assert!(
        body.contains("/guest/diskimage1 stays on the host"),
        "{body}"
    );
    save_png(&dialog, "details-remove-question.png");
    dialog.response("cancel");
    settle();
    assert!(!dialog.is_visible(), "the question goes away");
    drop(dialog);
    assert!(
        dumpxml("test", true).contains("/guest/diskimage1"),
        "Cancel keeps it"
    );
    hw.remove();
    let dialog = wait_until("the question again", EVENT, || {
        gtk::Window::list_toplevels().into_iter().find_map(|w| {
            w.downcast::<adw::MessageDialog>()
                .ok()
                .filter(|d| d.is_visible())
        })
    });
    dialog.response("remove");
    settle();
    assert!(!dialog.is_visible(), "the question goes away");
    wait_until("the disk is gone", EVENT, || {
        assert!(!hw.message().contains(' '), "{}", hw.message());
        !dumpxml("test", true).contains("/guest/diskimage1")
    });
    wait_until("the sidebar follows", EVENT, || {
        !hw.titles().iter().any(|t| t == "VirtIO Disk vda")
    });
    // (Not after the window is gone.)
    drop(dialog);
    app.quit();
}

/// Another client (a connection of its own) gives the VM "test" the title "theirs".
fn another_client_gives_a_title() {
    let other = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let xml = dumpxml("test", true).replacen(
        "<name>test</name>",
        "<name>test</name>\n  <title>theirs</title>",
        1,
    );
    other
        .define_domain_xml(&xml)
        .expect("the other client defines");
}

/// A definition read, then changed by another client, then saved: Vireo refuses and
/// writes nothing, so the other client's change stays.
fn an_edit_made_meanwhile_is_not_overwritten() {
    let (app, domain, _page) = start();
    let c = domain.connection().unwrap();
    let mut doc = kit::block_on(c.domain_document(&domain, false)).expect("the definition");
    another_client_gives_a_title();
    doc.set_memory_kib(1024 * 1024).expect("an edit");
    let r = kit::block_on(c.save_definition(&domain, doc));
    assert!(
        matches!(
            r,
            Err(vireo::model::details::DetailsError::ChangedMeanwhile)
        ),
        "{r:?}"
    );
    let now = dumpxml("test", true);
    assert!(now.contains("<title>theirs</title>"), "{now}");
    assert!(
        !now.contains("<memory unit='KiB'>1048576</memory>"),
        "{now}"
    );
    app.quit();
}

/// A value typed on a page and not applied, then another client changes the VM: the
/// page shows the new definition and says that the typed value is gone. After Vireo's
/// own Apply, the event that follows says nothing of the kind.
fn a_change_elsewhere_replaces_unapplied_values() {
    let (app, _domain, page) = start();
    let hw = hardware(&page);
    let cpu: HwCpuPage = open(&hw, "CPUs");
    let vcpus = spin(&cpu, "_Virtual CPUs");
    vcpus.set_value(3.0);
    hw.apply();
    wait_until("the count is saved", EVENT, || {
        dumpxml("test", true).contains(">3</vcpu>")
    });
    settle();
    assert!(
        hw.message().contains("Saved"),
        "own Apply: {}",
        hw.message()
    );

    vcpus.set_value(1.0);
    another_client_gives_a_title();
    wait_until("the page says what it dropped", EVENT, || {
        hw.message().contains("changed elsewhere")
    });
    assert_eq!(vcpus.value() as u32, 3, "the page shows the saved count");
    let now = dumpxml("test", true);
    assert!(now.contains("<title>theirs</title>") && now.contains(">3</vcpu>"));
    shoot(&app.window(), "details-changed-elsewhere");
    app.quit();
}

/// Adds a sound card to the running VM (for its next start), then, the VM off, a
/// watchdog; a shared directory with a relative path is refused on its field and
/// changes nothing. Screenshots of every form, light, dark and 360 px wide.
fn add_hardware() {
    let (app, domain, page) = start();
    let hw = hardware(&page);

    // Running: a sound card waits for the next start, and is in the definition.
    let dialog = kit::details::add_hardware(&hw);
    dialog.choose_kind("sound");
    settle();
    dialog.add();
    wait_until("the sound card is saved", EVENT, || {
        assert_eq!(dialog.problem(), "");
        dumpxml("test", true).contains("<sound model='ich9'")
    });
    wait_until("the dialog closes", EVENT, || !dialog.is_visible());
    drop(dialog);
    wait_until("the sidebar lists it", EVENT, || {
        hw.titles().iter().any(|t| t.contains("Sound"))
    });

    kit::model::act(
        &domain.connection().unwrap(),
        &domain,
        vireo::model::DomainAction::ForceOff,
    );
    wait_until("test is shut off", EVENT, || {
        domain.state() == DomainState::Shutoff
    });

    // A bad field: marked, its problem under it, nothing saved.
    let before = dumpxml("test", true);
    let dialog = kit::details::add_hardware(&hw);
    dialog.choose_kind("filesystem");
    settle();
    let source = entry(&dialog, "_Host Directory");
    source.set_text("relative/dir");
    entry(&dialog, "_Mount Tag").set_text("share");
    dialog.add();
    wait_until("the field says what is wrong", EVENT, || {
        dialog.problem().contains("full path")
    });
    assert!(source.has_css_class("error"), "the wrong field is marked");
    save_png(&dialog, "add-hardware-field-error.png");
    assert_eq!(dumpxml("test", true), before, "nothing changed");
    assert!(dialog.is_visible(), "the dialog stays");

    // Every form, light and dark.
    for kind in AddHardwareDialog::KINDS {
        dialog.choose_kind(kind);
        settle();
        shoot(&dialog, &format!("add-hardware-{kind}"));
    }
    // 360 px: the longest forms still fit, nothing cut.
    dialog.set_default_size(360, 600);
    wait_until("the dialog narrows to 360 px", EVENT, || {
        dialog.width() <= 360
    });
    for kind in ["disk", "nic", "graphics", "filesystem"] {
        dialog.choose_kind(kind);
        settle();
        save_png(&dialog, &format!("add-hardware-{kind}-360.png"));
    }
    // Off: a watchdog is saved.
    dialog.choose_kind("watchdog");
    settle();
    dialog.add();
    wait_until("the watchdog is saved", EVENT, || {
        assert_eq!(dialog.problem(), "");
        dumpxml("test", true).contains("<watchdog model='i6300esb' action='reset'")
    });
    let (added, gone) = changed_lines(&before, &dumpxml("test", true));
    assert!(gone.is_empty(), "only added: {gone:?}");
    assert_eq!(added.len(), 1, "{added:?}");
    wait_until("the dialog closes", EVENT, || !dialog.is_visible());
    drop(dialog);

    // A new disk on the "default" pool the host does not have yet: the pool is
    // made, as the wizard makes it, and the disk's volume is in it.
    let conn = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    assert!(conn.lookup_storage_pool_by_name("default").is_err());
    let dialog = kit::details::add_hardware(&hw);
    dialog.choose_kind("disk");
    settle();
    dialog.add();
    wait_until("the disk is saved", EVENT, || {
        assert_eq!(dialog.problem(), "");
        dumpxml("test", true).contains("/test-1.qcow2'/>")
    });
    let pool = conn
        .lookup_storage_pool_by_name("default")
        .expect("the default pool is made");
    assert!(pool
        .list_volumes()
        .expect("its volumes")
        .contains(&"test-1.qcow2".to_owned()));
    wait_until("the dialog closes", EVENT, || !dialog.is_visible());
    drop(dialog);
    app.quit();
}

/// The XML tab: libvirt's XML of the VM in a source view with XML highlighting, a
/// style scheme that follows the dark style, and Ctrl+F's search bar finding text.
fn xml_tab() {
    let (app, _domain, page) = start();
    let window = app.window();
    page.show_xml();
    let editor = page.xml_editor();
    wait_until("the XML tab shows the VM's XML", EVENT, || {
        editor.text().contains("<name>test</name>")
    });
    assert_eq!(editor.language_id().as_deref(), Some("xml"));
    assert_eq!(editor.scheme_id().as_deref(), Some("Adwaita"));
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    assert_eq!(editor.scheme_id().as_deref(), Some("Adwaita-dark"));
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    settle();
    assert_eq!(editor.scheme_id().as_deref(), Some("Adwaita"));

    // Ctrl+F is the editor's "xml.find" action.
    assert!(!editor.search_shown());
    assert!(editor.activate_action("xml.find", None).is_ok());
    settle();
    assert!(editor.search_shown(), "Ctrl+F opens the search bar");
    editor.search_for("<memory");
    wait_until("the search selects the match", EVENT, || {
        editor.selected_text() == "<memory"
    });
    shoot(&window, "details-xml");
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    save_png(&window, "details-xml-360.png");
    app.quit();
}

/// The XML tab of the VM "test", its saved definition shown.
fn xml_editor(page: &VmPage) -> vireo::ui::XmlEditor {
    kit::details::xml_tab(page, "test")
}

fn xml_edit_applies() {
    let (app, _domain, page) = start();
    let editor = xml_editor(&page);
    assert_eq!(editor.text(), dumpxml("test", true));
    editor.set_text(&editor.text().replace(
        "<on_crash>destroy</on_crash>",
        "<on_crash>restart</on_crash>",
    ));
    editor.apply_button().emit_clicked();
    let dialog = kit::details::diff_dialog();
    shoot(&dialog, "details-xml-diff");
    dialog.response("apply");
    // Held here, the dialog would outlive the window it is transient for.
    drop(dialog);
    wait_until("libvirt holds the edit", EVENT, || {
        dumpxml("test", true).contains("<on_crash>restart</on_crash>")
    });
    wait_until("the tab shows libvirt's definition again", EVENT, || {
        editor.text() == dumpxml("test", true) && !editor.apply_button().is_sensitive()
    });
    assert_eq!(editor.notice(), "");
    app.quit();
}

fn xml_edit_refused() {
    let (app, _domain, page) = start();
    let editor = xml_editor(&page);
    let before = dumpxml("test", true);
    // An attribute without quotes on the <memory> line.
    let broken = editor
        .text()
        .replacen("<memory unit='KiB'>", "<memory unit=KiB>", 1);
    editor.set_text(&broken);
    editor.apply_button().emit_clicked();
    kit::details::diff_dialog().response("apply");
    let notice = wait_until("libvirt's refusal shows", EVENT, || {
        let n = editor.notice();
        (!n.is_empty()).then_some(n)
    });
    assert!(
        notice.contains("domain_definition"),
        "libvirt's text: {notice}"
    );
    let line = before
        .lines()
        .position(|l| l.contains("<memory"))
        .expect("a memory line") as i32
        + 1;
    assert!(
        (line..=line + 2).contains(&editor.cursor_line()),
        "the cursor goes to the line libvirt names (near {line}): {} ({notice})",
        editor.cursor_line()
    );
    assert_eq!(dumpxml("test", true), before, "nothing changed");
    assert_eq!(editor.text(), broken, "the edit is kept");
    shoot(&app.window(), "details-xml-error");
    app.quit();
}

fn xml_edit_meanwhile() {
    let (app, _domain, page) = start();
    let editor = xml_editor(&page);
    editor.set_text(&editor.text().replace(
        "<on_crash>destroy</on_crash>",
        "<on_crash>restart</on_crash>",
    ));
    // Another client changes the definition meanwhile.
    let conn = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let other = dumpxml("test", true).replace(
        "<on_poweroff>destroy</on_poweroff>",
        "<on_poweroff>restart</on_poweroff>",
    );
    conn.define_domain_xml(&other)
        .expect("defined by the other client");
    editor.apply_button().emit_clicked();
    kit::details::diff_dialog().response("apply");
    wait_until("the change elsewhere is said", EVENT, || {
        editor.notice().contains("elsewhere")
    });
    let now = dumpxml("test", true);
    assert!(now.contains("<on_poweroff>restart</on_poweroff>"));
    assert!(
        now.contains("<on_crash>destroy</on_crash>"),
        "not overwritten"
    );
    app.quit();
}

/// A screenshot of the overview in a window 360 px wide (the page takes the width).
fn narrow_shot(window: &vireo::ui::VireoWindow, page: &VmPage, name: &str) {
    narrow_page_shot(window, page, "Overview", name);
}

/// A screenshot of the sidebar's entry `entry` in a window 360 px wide (the page
/// takes the width).
fn narrow_page_shot(window: &vireo::ui::VireoWindow, page: &VmPage, entry: &str, name: &str) {
    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    let hw = hardware(page);
    // Another entry first: selecting the one already selected shows nothing new.
    let other = if entry == "Overview" {
        "CPUs"
    } else {
        "Overview"
    };
    assert!(hw.select(other) && hw.select(entry));
    settle();
    save_png(window, name);
}

/// Another client saves a different configuration for the running VM: the overview
/// lists what its next start changes, in the model's words, and the list goes when the
/// VM restarts with it.
fn overview_pending_changes() {
    let (app, domain, page) = start();
    let window = app.window();
    let ov = overview(&page);
    wait_until("the overview shows the running VM", EVENT, || {
        !ov.uptime_text().0.is_empty()
    });
    assert_eq!(ov.pending_text(), "", "live and saved agree at first");

    let other = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let xml = dumpxml("test", true)
        .replace(
            "<memory unit='KiB'>8388608</memory>",
            "<memory unit='KiB'>4194304</memory>",
        )
        .replace(
            "<source network='default'/>",
            "<source network='default'/>\n      <model type='e1000e'/>",
        );
    other
        .define_domain_xml(&xml)
        .expect("the other client defines");
    wait_until("the notice lists the changes", EVENT, || {
        ov.pending_text().contains("NIC")
    });
    // GLib joins a size's figure and unit with a no-break space.
    let text = ov.pending_text().replace('\u{a0}', " ");
    assert!(
        text.contains("Memory: Now 8.0 GiB, at the next start 4.0 GiB"),
        "{text}"
    );
    assert!(
        text.contains("NIC :dd:ee:ff: model: Now none, at the next start e1000e"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
    shoot(&window, "details-overview-pending");
    narrow_shot(&window, &page, "details-overview-pending-360.png");

    // A restart takes the saved configuration: nothing waits any more.
    let c = domain.connection().unwrap();
    kit::block_on(c.run_action(&domain, vireo::model::DomainAction::ForceOff)).expect("off");
    wait_until("the notice hides while off", EVENT, || {
        ov.pending_text().is_empty() && domain.state() == DomainState::Shutoff
    });
    kit::block_on(c.run_action(&domain, vireo::model::DomainAction::Start)).expect("start");
    wait_until("the VM runs again", EVENT, || {
        domain.state() == DomainState::Running && !ov.uptime_text().0.is_empty()
    });
    settle();
    assert_eq!(ov.pending_text(), "");
    app.quit();
}

/// The overview of a running VM says how long it has run (a lower bound when it ran
/// before Vireo connected; exact once Vireo saw it start, and the tooltip says which)
/// and draws the model's histories; a stopped VM shows neither.
fn overview_uptime_and_graphs() {
    let (app, domain, page) = start();
    let window = app.window();
    let ov = overview(&page);
    wait_until("the uptime shows", EVENT, || !ov.uptime_text().0.is_empty());
    let (text, tooltip) = ov.uptime_text();
    assert_eq!(text, "at least since Vireo connected");
    assert!(
        tooltip.contains("already running when Vireo connected"),
        "{tooltip}"
    );
    wait_until("the graphs have figures", EVENT, || {
        domain.cpu_history().len() >= 2
    });
    wait_until("the graphs follow the stats ticks", EVENT, || {
        ov.performance_text().contains("CPU: ")
    });
    let perf = ov.performance_text();
    for what in [
        "CPU: ",
        "Memory: ",
        "Disk I/O: read ",
        "Network I/O: received ",
    ] {
        assert!(perf.contains(what), "{what} in {perf}");
    }
    let graphs = find_widgets::<vireo::ui::Sparkline>(&ov);
    assert_eq!(graphs.len(), 4);
    for g in &graphs {
        assert_eq!(g.accessible_role(), gtk::AccessibleRole::Img);
    }
    // The graphs sit under the overview's other groups.
    for scrolled in find_widgets::<gtk::ScrolledWindow>(&ov) {
        let adjustment = scrolled.vadjustment();
        adjustment.set_value(adjustment.upper());
    }
    settle();
    shoot(&window, "details-overview-running");
    narrow_shot(&window, &page, "details-overview-running-360.png");

    let c = domain.connection().unwrap();
    kit::block_on(c.run_action(&domain, vireo::model::DomainAction::ForceOff)).expect("off");
    wait_until("uptime and graphs hide while off", EVENT, || {
        ov.uptime_text().0.is_empty() && ov.performance_text().is_empty()
    });
    kit::block_on(c.run_action(&domain, vireo::model::DomainAction::Start)).expect("start");
    wait_until("the uptime shows again", EVENT, || {
        !ov.uptime_text().0.is_empty()
    });
    let (text, tooltip) = ov.uptime_text();
    assert_eq!(text, "less than a minute");
    assert!(
        tooltip.contains("saw the virtual machine start"),
        "{tooltip}"
    );
    app.quit();
}

/// A manual CPU topology that does not make the number of vCPUs says so under it as the
/// numbers change, and Apply then changes nothing; one that does is saved, only its
/// lines changing.
fn cpu_topology() {
    let (app, _domain, page) = start();
    let window = app.window();
    let hw = hardware(&page);
    let cpu: HwCpuPage = open(&hw, "CPUs");
    assert_eq!(cpu.topology_error(), "");
    let before = dumpxml("test", true);
    let topology = find_widgets::<adw::ExpanderRow>(&cpu)
        .into_iter()
        .find(|r| r.title() == "Manual _Topology")
        .expect("the topology row");
    topology.set_enable_expansion(true);
    topology.set_expanded(true);
    spin(&cpu, "C_ores per Socket").set_value(2.0);
    spin(&cpu, "T_hreads per Core").set_value(2.0);
    settle();
    // The test VM has 2 vCPUs: 2 sockets × 2 cores × 2 threads make 8.
    let error = cpu.topology_error();
    assert!(error.contains("makes 8 virtual CPUs, not 2"), "{error}");
    assert!(spin(&cpu, "C_ores per Socket")
        .ancestor(adw::ActionRow::static_type())
        .unwrap()
        .has_css_class("error"));
    shoot(&window, "details-cpu-topology-error");
    hw.apply();
    settle();
    assert!(hw.message().contains("not 2"), "{}", hw.message());
    assert_eq!(
        dumpxml("test", true),
        before,
        "a wrong topology changes nothing"
    );

    // 1 socket × 2 cores × 2 threads with 4 vCPUs fits.
    spin(&cpu, "_Sockets").set_value(1.0);
    spin(&cpu, "_Virtual CPUs").set_value(4.0);
    settle();
    assert_eq!(cpu.topology_error(), "");
    hw.apply();
    wait_until("the topology is saved", EVENT, || {
        dumpxml("test", true).contains("<topology")
    });
    let after = dumpxml("test", true);
    let (mut added, mut gone) = changed_lines(&before, &after);
    added.sort();
    gone.sort();
    assert_eq!(
        added,
        [
            "</cpu>",
            "<cpu>",
            // libvirt writes the dies it defaults to.
            "<topology sockets='1' dies='1' cores='2' threads='2'/>",
            "<vcpu placement='static'>4</vcpu>",
        ],
        "{after}"
    );
    assert_eq!(gone, ["<vcpu placement='static'>2</vcpu>"], "{after}");
    shoot(&window, "details-cpu-topology");
    narrow_page_shot(&window, &page, "CPUs", "details-cpu-topology-360.png");
    app.quit();
}

/// The combo row titled `title` (with its mnemonic underscore).
fn combo(root: &impl IsA<gtk::Widget>, title: &str) -> adw::ComboRow {
    find_widgets::<adw::ComboRow>(root)
        .into_iter()
        .find(|r| r.title() == title)
        .unwrap_or_else(|| panic!("no combo row “{title}”"))
}

/// The labels a combo row offers.
fn combo_labels(row: &adw::ComboRow) -> Vec<String> {
    let model = row.model().expect("a model");
    (0..model.n_items())
        .filter_map(|i| model.item(i).and_downcast::<gtk::StringObject>())
        .map(|s| s.string().to_string())
        .collect()
}

/// The NIC's network is chosen among the host's virtual networks (the chooser of Add
/// Hardware): the one it is on shows chosen, another one is saved, only its line
/// changing.
fn nic_network() {
    // Another virtual network on the host, running.
    let other = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let net = other.define_network_xml(
        "<network><name>isolated</name><ip address='192.168.150.1' netmask='255.255.255.0'/></network>",
    )
        .expect("a second network");
    net.create().expect("it runs");
    let (app, _domain, page) = start();
    let window = app.window();
    let hw = hardware(&page);
    let nic: HwNicPage = open(&hw, "NIC :dd:ee:ff");
    let network = combo(&nic, "_Network");
    wait_until("the host's networks are offered", EVENT, || {
        combo_labels(&network).contains(&"Virtual network “isolated”".to_owned())
    });
    let labels = combo_labels(&network);
    assert_eq!(
        labels[network.selected() as usize],
        "Virtual network “default”",
        "the NIC's own network is chosen: {labels:?}"
    );
    let before = dumpxml("test", true);
    hw.apply();
    settle();
    assert_eq!(
        dumpxml("test", true),
        before,
        "nothing changed, nothing saved"
    );

    let isolated = labels
        .iter()
        .position(|l| l == "Virtual network “isolated”")
        .unwrap();
    network.set_selected(isolated as u32);
    settle();
    shoot(&window, "details-nic-network");
    hw.apply();
    wait_until("the NIC's network is saved", EVENT, || {
        dumpxml("test", true).contains("<source network='isolated'/>")
    });
    let (added, gone) = changed_lines(&before, &dumpxml("test", true));
    assert_eq!(added, ["<source network='isolated'/>"]);
    assert_eq!(gone, ["<source network='default'/>"]);
    narrow_page_shot(
        &window,
        &page,
        "NIC :dd:ee:ff",
        "details-nic-network-360.png",
    );
    app.quit();
}

/// A disk whose image is a pool volume shows its size; a smaller size is refused on
/// the field with nothing asked of libvirt, and a larger one reaches libvirt (the test
/// driver cannot resize: its own words show under the field).
fn disk_size() {
    let other = virt::connect::Connect::open(Some("test:///default")).expect("test driver");
    let pool = other
        .lookup_storage_pool_by_name("default-pool")
        .expect("the test driver's pool");
    let vol = virt::storage_vol::StorageVol::create_xml(
        &pool,
        "<volume><name>grow.img</name><capacity unit='GiB'>2</capacity></volume>",
        0,
    )
    .expect("a volume");
    let path = vol.path().expect("its path");
    let (app, _domain, page) = start();
    let window = app.window();
    let xml = dumpxml("test", true).replacen(
        "    <interface",
        &format!(
            "    <disk type='file' device='disk'>\n      <source file='{path}'/>\n      \
             <target dev='vdb' bus='virtio'/>\n    </disk>\n    <interface"
        ),
        1,
    );
    other.define_domain_xml(&xml).expect("the disk is added");
    let hw = hardware(&page);
    wait_until("the sidebar lists the new disk", EVENT, || {
        hw.titles().iter().any(|t| t == "VirtIO Disk vdb")
    });
    let disk: HwDiskPage = open(&hw, "VirtIO Disk vdb");
    let size = wait_until("the size shows", EVENT, || {
        let s = disk.size_text().replace('\u{a0}', " ");
        (!s.is_empty()).then_some(s)
    });
    assert!(size.starts_with("2.0 GiB, "), "{size}");
    // The other disk's image is in no pool: no size to show.
    let vda: HwDiskPage = open(&hw, "VirtIO Disk vda");
    settle();
    assert_eq!(vda.size_text(), "");

    let disk: HwDiskPage = open(&hw, "VirtIO Disk vdb");
    wait_until("the size shows again", EVENT, || {
        !disk.size_text().is_empty()
    });
    let before = dumpxml("test", true);
    disk.set_size_gib(1.0);
    find_widgets::<gtk::Button>(&disk)
        .into_iter()
        .find(|b| b.label().is_some_and(|l| l == "_Resize"))
        .expect("the Resize button")
        .emit_clicked();
    settle();
    let (text, error) = disk.size_message();
    assert!(error && text.contains("cannot shrink"), "{text}");
    shoot(&window, "details-disk-shrink-refused");
    assert_eq!(
        vol.info().expect("the volume").capacity,
        2 << 30,
        "a refused shrink changes nothing"
    );
    assert_eq!(dumpxml("test", true), before);

    disk.set_size_gib(3.0);
    find_widgets::<gtk::Button>(&disk)
        .into_iter()
        .find(|b| b.label().is_some_and(|l| l == "_Resize"))
        .expect("the Resize button")
        .emit_clicked();
    let (text, error) = wait_until("libvirt answers", EVENT, || {
        let m = disk.size_message();
        m.0.contains("not resized").then_some(m)
    });
    assert!(
        error && text.contains("not supported"),
        "libvirt's words: {text}"
    );
    shoot(&window, "details-disk-resize-refused-by-libvirt");
    narrow_page_shot(
        &window,
        &page,
        "VirtIO Disk vdb",
        "details-disk-size-360.png",
    );
    app.quit();
}
