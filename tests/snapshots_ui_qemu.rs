//! A snapshot with memory of the running test-bed guest, taken and reverted through
//! Vireo's window on the private daemon's `qemu:///system` (real QEMU): the guest
//! writes a word to its memory, Take Snapshot (which says it is internal and keeps
//! the memory), the word changed, the row's Revert answered, and the guest's shell
//! — restarted by libvirt from the snapshot — has the first word back. The tab shows
//! the operation while it runs, and so does the VM's row in the list; without the
//! memory the dialog says the snapshot would be external and not revertible here;
//! the snapshot is deleted through the UI at the end.
//!
//! Needs root, QEMU and libvirtd (`tools/install-deps.sh test`), Xvfb and D-Bus.

mod kit;

use std::cell::RefCell;
use std::rc::Rc;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::console::SerialConsole;
use kit::model::{define, remove, start};
use kit::screen::save_png;
use kit::testbed::{self, daemon, Boot, Guest, Need, SystemDaemon, READY_LINE};
use kit::vm_copies::{
    answer, open_snapshots, open_take_snapshot, question_text, row_menu_item, take_snapshot, texts,
};
use kit::{test, wait_until, Runner, BOOT, EVENT};
use vireo::model::snapshots::snapshot_thumbnail;
use vireo::model::ConnectionState;
use vireo::ui::{DomainRow, OperationBar};

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    std::env::set_var("XDG_CACHE_HOME", work_dir().join("cache"));
    Runner::new().gui().fresh_process().run(vec![test(
        "memory_snapshot_taken_and_reverted_through_the_window",
        memory_snapshot_through_the_window,
    )
    .limit(300)]);
}

/// The test's directory (made once: `temp_dir` empties it each time).
fn work_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| testbed::temp_dir("snapshots-ui-qemu"))
        .clone()
}

fn memory_snapshot_through_the_window() {
    daemon();
    let app = TestApp::start(&["--connect", SystemDaemon::URI]);
    let c = app.connection(0);
    wait_until("the daemon's host connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let guest = Guest::get().expect("the test-bed guest");
    let disk = guest.overlay(&work_dir().join("snapui.qcow2"));
    let d = define(
        &c,
        guest.domain_xml("vireo-test-snapui", Boot::Kernel, Some(&disk)),
    );
    start(&c, &d);
    let con = SerialConsole::of(&c, &d);
    con.wait_lines(READY_LINE, 1, BOOT);
    assert_eq!(
        con.ask("U1", "echo FIRST > /root/in-memory && cat /root/in-memory"),
        "FIRST"
    );

    let (tab, page) = open_snapshots(&app, &d);
    // The tab shows each operation while it runs.
    let shown = Rc::new(RefCell::new(Vec::new()));
    let bar = find_widgets::<OperationBar>(&tab)
        .into_iter()
        .next()
        .expect("the tab's operation bar");
    // ... and so does the VM's row in the list.
    let list_row = find_widgets::<DomainRow>(&app.window())
        .into_iter()
        .find(|r| r.domain().as_ref() == Some(&d))
        .expect("the VM's row in the list");
    let in_list = Rc::new(RefCell::new(Vec::new()));
    d.connect_operation_notify({
        let (shown, in_list) = (shown.clone(), in_list.clone());
        move |d| {
            if let Some(op) = d.operation() {
                shown.borrow_mut().push((op.title(), bar.is_visible()));
                let bar_shown = find_widgets::<gtk::ProgressBar>(&list_row)
                    .iter()
                    .any(|b| b.is_visible());
                in_list.borrow_mut().push((texts(&list_row), bar_shown));
            }
        }
    });

    let dialog = open_take_snapshot(&app);
    // Without the memory, a running VM's snapshot must be external, which this
    // libvirt cannot revert to: the dialog says so before anything is made.
    let memory = find_widgets::<gtk::Switch>(&dialog)
        .into_iter()
        .next()
        .expect("the memory switch");
    memory.set_active(false);
    kit::settle();
    let said = texts(&dialog);
    assert!(
        said.contains("An external snapshot, because the machine runs"),
        "{said}"
    );
    assert!(
        said.contains("cannot revert to an external snapshot"),
        "{said}"
    );
    save_png(&dialog, "snapshot-create-external.png");
    memory.set_active(true);
    kit::settle();
    let said = texts(&dialog);
    assert!(said.contains("internal snapshot"), "{said}");
    assert!(said.contains("memory is kept"), "{said}");
    save_png(&dialog, "snapshot-create-qemu.png");
    take_snapshot(&dialog, "before", "taken through the window");
    // Saving 192 MiB of memory can take a while on a loaded machine.
    wait_until("the snapshot is listed as current", BOOT, || {
        page.rows()
            .into_iter()
            .find(|r| r.name() == "before" && r.current())
    });
    assert!(
        snapshot_thumbnail(&d, "before").is_some(),
        "a thumbnail of the guest's screen"
    );
    save_png(&app.window(), "snapshots-page-qemu.png");
    assert!(
        shown
            .borrow()
            .iter()
            .any(|(title, visible)| title.contains("Taking snapshot “before”") && *visible),
        "the tab showed the snapshot being taken: {:?}",
        shown.borrow()
    );
    assert!(
        in_list
            .borrow()
            .iter()
            .any(|(text, bar)| text.contains("snapshot “before”") && *bar),
        "the list's row showed the snapshot being taken: {:?}",
        in_list.borrow()
    );

    assert_eq!(
        con.ask("U2", "echo SECOND > /root/in-memory && cat /root/in-memory"),
        "SECOND"
    );
    let question = row_menu_item(&page, "before", "snapshot.revert");
    let said = question_text(&question);
    assert!(said.contains("“vireo-test-snapui” to “before”"), "{said}");
    assert!(
        said.contains("memory, open programs and unsaved work"),
        "{said}"
    );
    answer(&question, "revert");
    // (Most often caught while libvirt reverts: the tab's operation bar.)
    save_png(&app.window(), "snapshot-reverting-qemu.png");
    // libvirt 9.0 restarts QEMU from the snapshot: the old console ends.
    wait_until("the old console to end", BOOT, || con.closed());
    let con = SerialConsole::reopen(&c, &d);
    assert_eq!(con.ask("U3", "cat /root/in-memory"), "FIRST");
    assert!(
        shown
            .borrow()
            .iter()
            .any(|(title, _)| title.contains("Reverting vireo-test-snapui")),
        "{:?}",
        shown.borrow()
    );

    let question = row_menu_item(&page, "before", "snapshot.delete");
    answer(&question, "delete");
    wait_until("the snapshot is gone from the page", BOOT, || {
        page.rows().is_empty()
    });
    remove(&c, &d);
    app.quit();
}
