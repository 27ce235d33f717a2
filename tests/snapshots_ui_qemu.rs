//! A snapshot with memory of the running test-bed guest, taken and reverted through
//! Vireo's window on the private daemon's `qemu:///system` (real QEMU): the guest
//! writes a word to its memory, Take Snapshot (which says it is internal and keeps
//! the memory), the word changed, the row's Revert answered, and the guest's shell
//! — restarted by libvirt from the snapshot — has the first word back. The tab shows
//! the operation while it runs; the snapshot is deleted through the UI at the end.
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
    answer, open_snapshots, open_take_snapshot, question_text, row, row_menu_item, take_snapshot,
    texts,
};
use kit::{test, wait_until, Runner, BOOT, EVENT};
use vireo::model::snapshots::snapshot_thumbnail;
use vireo::model::ConnectionState;
use vireo::ui::OperationBar;

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    std::env::set_var(
        "XDG_CACHE_HOME",
        testbed::temp_dir("snapshots-ui-qemu").join("cache"),
    );
    Runner::new().gui().fresh_process().run(vec![test(
        "memory_snapshot_taken_and_reverted_through_the_window",
        memory_snapshot_through_the_window,
    )
    .limit(300)]);
}

fn memory_snapshot_through_the_window() {
    daemon();
    let app = TestApp::start(&["--connect", SystemDaemon::URI]);
    let c = app.connection(0);
    wait_until("the daemon's host connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let guest = Guest::get().expect("the test-bed guest");
    let disk = guest.overlay(&testbed::temp_dir("snapshots-ui-qemu").join("snapui.qcow2"));
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
    d.connect_operation_notify({
        let shown = shown.clone();
        move |d| {
            if let Some(op) = d.operation() {
                shown.borrow_mut().push((op.title(), bar.is_visible()));
            }
        }
    });

    let dialog = open_take_snapshot(&app);
    let said = texts(&dialog);
    assert!(said.contains("internal snapshot"), "{said}");
    assert!(said.contains("memory is kept"), "{said}");
    save_png(&dialog, "snapshot-create-qemu.png");
    take_snapshot(&dialog, "before", "taken through the window");
    let taken = row(&page, "before");
    wait_until("the snapshot is current", EVENT, || taken.current());
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
    // libvirt 9.0 restarts QEMU from the snapshot: the old console ends.
    wait_until("the old console to end", BOOT, || con.closed());
    let con = SerialConsole::of(&c, &d);
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
    wait_until("the snapshot is gone from the page", EVENT, || {
        page.rows().is_empty()
    });
    remove(&c, &d);
    app.quit();
}
