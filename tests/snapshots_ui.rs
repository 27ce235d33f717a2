//! Snapshots and clones through Vireo's window on libvirt's test driver (quick, no
//! QEMU), as a person takes them: the VM's tab and its Snapshots page, Take Snapshot
//! (which says what kind of snapshot it makes before making it), a row's Revert,
//! Edit Description and Delete With Children (each asks first, saying what is lost
//! or what goes), the list following each step; Clone with its dialog; Move to
//! Another Host offering the other open host and saying what stands in the way. Screenshots
//! of the page and each dialog, light, dark and 360 px wide, go to
//! `target/screenshots/`.

mod kit;

use adw::prelude::*;
use kit::app::{button, find_widgets, toplevel, TestApp};
use kit::screen::save_png;
use kit::vm_copies::{
    answer, entry_row, open_snapshots, open_take_snapshot, question_text, row, row_menu_item,
    take_snapshot, texts,
};
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionState, DomainObject};
use vireo::ui::{CloneDialog, MigrateDialog};
use vireo::virt::test_node::{self, NodeSpec};

fn main() {
    // Thumbnails go to a cache of the test's own (before GLib reads the variable).
    std::env::set_var(
        "XDG_CACHE_HOME",
        kit::testbed::temp_dir("snapshots-ui-cache"),
    );
    Runner::new().gui().fresh_process().run(vec![
        test(
            "take_revert_describe_delete_through_the_dialogs",
            take_revert_describe_delete,
        ),
        test("clone_through_the_dialog", clone_through_the_dialog),
        test("move_dialog_names_both_hosts", move_dialog_names_both_hosts),
    ]);
}

/// Vireo on `test:///default` and its running VM "test".
fn start() -> (TestApp, DomainObject) {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let connection = app.connection(0);
    wait_until("the test host connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let domain = wait_until("the VM test is listed", EVENT, || {
        kit::model::domain(&connection, "test")
    });
    (app, domain)
}

fn take_revert_describe_delete() {
    let (app, domain) = start();
    let window = app.window();
    let (_, page) = open_snapshots(&app, &domain);
    wait_until("the empty state", EVENT, || {
        texts(&page).contains("No Snapshots")
    });
    save_png(&window, "snapshots-empty.png");

    // Take Snapshot says what it will make before it is made.
    let dialog = open_take_snapshot(&app);
    entry_row(&dialog, "Name").set_text("");
    settle();
    assert!(
        !button(&dialog, "_Take").is_sensitive(),
        "an empty name cannot be taken"
    );
    assert!(
        texts(&dialog).contains("needs a name"),
        "{}",
        texts(&dialog)
    );
    entry_row(&dialog, "Name").set_text("clean install");
    settle();
    let said = texts(&dialog);
    assert!(said.contains("internal snapshot"), "{said}");
    assert!(said.contains("memory is kept"), "{said}");
    save_png(&dialog, "snapshot-create.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    save_png(&dialog, "snapshot-create-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    take_snapshot(&dialog, "clean install", "fresh from the installer");
    let first = row(&page, "clean install");
    wait_until("the first snapshot is current", EVENT, || first.current());

    // A second one hangs below the first; it becomes the current one.
    let dialog = open_take_snapshot(&app);
    entry_row(&dialog, "Name").set_text("clean install");
    settle();
    assert!(
        texts(&dialog).contains("exists already"),
        "a taken name is refused"
    );
    take_snapshot(&dialog, "updated", "after the updates");
    let second = row(&page, "updated");
    wait_until("the second snapshot is current", EVENT, || {
        second.current() && !row(&page, "clean install").current()
    });
    let rows = page.rows();
    assert_eq!(
        rows.iter().map(|r| r.name()).collect::<Vec<_>>(),
        ["clean install", "updated"]
    );
    assert!(second
        .subtitle()
        .unwrap_or_default()
        .contains("after the updates"));
    save_png(&window, "snapshots-page.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "snapshots-page-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);

    // Revert says what is lost and where the VM ends.
    let question = row_menu_item(&page, "clean install", "snapshot.revert");
    let said = question_text(&question);
    assert!(said.contains("Revert “test” to “clean install”?"), "{said}");
    assert!(
        said.contains("memory, open programs and unsaved work"),
        "{said}"
    );
    assert!(said.contains("Afterwards it runs"), "{said}");
    save_png(&question, "snapshot-revert.png");
    answer(&question, "revert");
    wait_until("the first snapshot is current again", EVENT, || {
        row(&page, "clean install").current()
    });

    // Edit Description.
    let question = row_menu_item(&page, "clean install", "snapshot.describe");
    let entry = find_widgets::<gtk::Entry>(&question)
        .into_iter()
        .next()
        .expect("the description's entry");
    assert_eq!(entry.text(), "fresh from the installer");
    entry.set_text("the base of everything");
    answer(&question, "save");
    wait_until("the new description is shown", EVENT, || {
        row(&page, "clean install")
            .subtitle()
            .is_some_and(|s| s.contains("the base of everything"))
    });

    // Delete With Children names every snapshot that goes.
    let question = row_menu_item(&page, "clean install", "snapshot.delete-tree");
    let said = question_text(&question);
    assert!(
        said.contains("“clean install” and the Snapshot After It"),
        "{said}"
    );
    assert!(said.contains("clean install, updated"), "{said}");
    save_png(&question, "snapshot-delete.png");
    answer(&question, "cancel");
    assert_eq!(page.rows().len(), 2, "Cancel deletes nothing");
    let question = row_menu_item(&page, "clean install", "snapshot.delete-tree");
    answer(&question, "delete");
    wait_until("the list is empty again", EVENT, || {
        page.rows().is_empty() && texts(&page).contains("No Snapshots")
    });

    // 360 pixels wide: the page still fits.
    let dialog = open_take_snapshot(&app);
    take_snapshot(&dialog, "narrow", "");
    row(&page, "narrow");
    window.unmaximize();
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 400
    });
    save_png(&window, "snapshots-page-narrow.png");
    app.quit();
}

fn clone_through_the_dialog() {
    let (app, domain) = start();
    let window = app.window();
    window.open_domain(&domain);
    settle();
    app.activate("win.domain-clone");
    let dialog = toplevel::<CloneDialog>();
    wait_until("the clone's name is proposed", EVENT, || {
        find_widgets::<adw::EntryRow>(&dialog)
            .into_iter()
            .find(|r| r.title() == "Name" && r.is_mapped())
            .is_some_and(|r| r.text() == "test-clone")
    });
    save_png(&dialog, "clone-dialog.png");
    entry_row(&dialog, "Name").set_text("test");
    settle();
    assert!(
        texts(&dialog).contains("exists already"),
        "{}",
        texts(&dialog)
    );
    assert!(!button(&dialog, "C_lone").is_sensitive());
    entry_row(&dialog, "Name").set_text("copy of test");
    settle();
    // The running original's disk is copied only once it is shut off: the dialog
    // offers Shut Down, and Clone waits for it.
    assert!(
        texts(&dialog).contains("“test” Is Running"),
        "{}",
        texts(&dialog)
    );
    assert!(!button(&dialog, "C_lone").is_sensitive());
    button(&dialog, "_Shut Down").emit_clicked();
    wait_until("the original is shut off", EVENT, || {
        domain.state() == vireo::model::DomainState::Shutoff
    });
    settle();
    assert!(
        !texts(&dialog).contains("Is Running"),
        "the offer goes away"
    );
    // The test driver's disk is not in a storage pool: share it.
    let disk = find_widgets::<adw::ComboRow>(&dialog)
        .into_iter()
        .find(|r| r.title() == "Disk vda")
        .expect("the disk's row");
    disk.set_selected(2);
    settle();
    assert!(button(&dialog, "C_lone").is_sensitive());
    button(&dialog, "C_lone").emit_clicked();
    let connection = app.connection(0);
    let clone = wait_until("the clone is listed", EVENT, || {
        kit::model::domain(&connection, "copy of test")
    });
    wait_until("the dialog closes", EVENT, || {
        (!dialog.is_visible()).then_some(())
    });
    assert_ne!(clone.uuid(), domain.uuid());
    app.quit();
}

fn move_dialog_names_both_hosts() {
    let (app, domain) = start();
    let window = app.window();
    // Without another open host there is nowhere to go, and the dialog says how to
    // open one.
    window.open_domain(&domain);
    settle();
    app.activate("win.domain-migrate");
    let dialog = toplevel::<MigrateDialog>();
    wait_until("the dialog says no other host is open", EVENT, || {
        texts(&dialog).contains("No Other Host Open")
    });
    dialog.close();
    settle();

    let dir = kit::testbed::temp_dir("snapshots-ui-second-host");
    let spec = NodeSpec {
        domains: 2,
        ..NodeSpec::default()
    };
    let uri = test_node::write_node(&dir, "second.xml", &spec).expect("a second host");
    let second = app.app.add_connection(&uri, true);
    wait_until("the second host connects", EVENT, || {
        second.state() == ConnectionState::Connected
    });
    app.activate("win.domain-migrate");
    let dialog = toplevel::<MigrateDialog>();
    // Both test hosts are this machine: the move is refused, and says so with both
    // host names.
    wait_until("the plan or its refusal is shown", EVENT, || {
        let said = texts(&dialog);
        (said.contains("same host") || said.contains("Could not prepare")).then_some(())
    });
    let said = texts(&dialog);
    let host = glib::host_name().to_string();
    assert!(said.contains(&host), "{said}");
    assert!(!button(&dialog, "_Move").is_sensitive(), "{said}");
    save_png(&dialog, "migrate-dialog.png");
    app.quit();
}
