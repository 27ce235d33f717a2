//! Snapshots and clones through Vireo's UI as a person takes them: the VM's tab and
//! its Snapshots page (Ctrl+Alt+H), Take Snapshot (Ctrl+Alt+S) and its dialog, a
//! snapshot row's menu items (`snapshot.*` with the snapshot's name, which is what
//! the menu, a right click or Shift+F10 run), the question each asks, and Clone
//! (Ctrl+Alt+C).

use adw::prelude::*;
use vireo::model::DomainObject;
use vireo::ui::{SnapshotCreateDialog, SnapshotRow, SnapshotsPage, VmPage};

use super::app::{button, find_widgets, toplevel, TestApp};
use super::wait::{settle, wait_until, EVENT};

/// Opens `domain`'s tab (what Enter or a double click on its row does) and its
/// Snapshots page through the window's action; waits until the list is read.
pub fn open_snapshots(app: &TestApp, domain: &DomainObject) -> (VmPage, SnapshotsPage) {
    let window = app.window();
    window.open_domain(domain);
    app.activate("win.domain-snapshots");
    let page = wait_until("the VM's tab is shown", EVENT, || window.vm_page_shown());
    let snapshots = page.snapshots_page().expect("the tab has a Snapshots page");
    wait_until("the Snapshots page is shown", EVENT, || {
        snapshots.is_mapped().then_some(())
    });
    (page, snapshots)
}

/// The row of snapshot `name`, once the page shows it.
pub fn row(page: &SnapshotsPage, name: &str) -> SnapshotRow {
    wait_until(&format!("snapshot {name} is listed"), EVENT, || {
        page.rows().into_iter().find(|r| r.name() == name)
    })
}

/// The entry row titled `title` under `root`.
pub fn entry_row(root: &impl IsA<gtk::Widget>, title: &str) -> adw::EntryRow {
    find_widgets::<adw::EntryRow>(root)
        .into_iter()
        .find(|r| r.title() == title)
        .unwrap_or_else(|| panic!("no entry row titled {title:?}"))
}

/// Opens Take Snapshot, waits until it proposes a name, and returns it.
pub fn open_take_snapshot(app: &TestApp) -> SnapshotCreateDialog {
    app.activate("win.domain-take-snapshot");
    let dialog = toplevel::<SnapshotCreateDialog>();
    wait_until("the dialog proposes a name", EVENT, || {
        !entry_row(&dialog, "Name").text().is_empty()
    });
    dialog
}

/// Fills the dialog's name and description, then presses Take Snapshot.
pub fn take_snapshot(dialog: &SnapshotCreateDialog, name: &str, description: &str) {
    entry_row(dialog, "Name").set_text(name);
    entry_row(dialog, "Description").set_text(description);
    settle();
    let take = button(dialog, "_Take");
    assert!(
        take.is_sensitive(),
        "Take Snapshot is not enabled for {name}"
    );
    take.emit_clicked();
    settle();
}

/// The visible text of every label under `root`, in one string.
pub fn texts(root: &impl IsA<gtk::Widget>) -> String {
    find_widgets::<gtk::Label>(root)
        .into_iter()
        .filter(|l| l.is_visible())
        .map(|l| l.label().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs item `action` (`snapshot.revert`, `snapshot.delete`...) of `name`'s row menu
/// and returns the question it asks.
pub fn row_menu_item(page: &SnapshotsPage, name: &str, action: &str) -> adw::MessageDialog {
    let before = visible_questions();
    let row = row(page, name);
    row.activate_action(action, Some(&name.to_variant()))
        .unwrap_or_else(|e| panic!("{action} on {name}: {e}"));
    wait_until(&format!("{action} asks its question"), EVENT, || {
        visible_questions()
            .into_iter()
            .find(|d| !before.contains(d))
    })
}

fn visible_questions() -> Vec<adw::MessageDialog> {
    gtk::Window::list_toplevels()
        .into_iter()
        .filter_map(|w| w.downcast::<adw::MessageDialog>().ok())
        .filter(|d| d.is_visible())
        .collect()
}

/// The question's heading and body.
pub fn question_text(dialog: &adw::MessageDialog) -> String {
    format!(
        "{}\n{}",
        dialog.heading().unwrap_or_default(),
        dialog.body()
    )
}

/// Answers `dialog` with `response` (what its button does) and lets the UI settle.
pub fn answer(dialog: &adw::MessageDialog, response: &str) {
    assert!(
        dialog.has_response(response),
        "the question has no {response:?} answer"
    );
    dialog.response(response);
    settle();
}
