//! UI smoke tests under a display (Xvfb in CI): the real window on libvirt's test
//! driver, checked through its widgets, with PNGs written for people to look at.
//!
//! GTK wants one thread, so this binary has its own `main` (harness = false) and runs
//! the cases one after another on it.

mod ui_support;

use adw::prelude::*;
use ui_support::{find_widgets, run_cases, save_png, settle, wait_until, Case, TestApp};
use vireo::model::{ConnectionState, DomainObject};
use vireo::ui::{AddConnectionDialog, ConnectionHeader, DomainRow};

fn main() {
    run_cases(&[
        Case::new("window_shows_the_test_domain", window_shows_the_test_domain),
        Case::new(
            "bad_uri_shows_libvirts_reason",
            bad_uri_shows_libvirts_reason,
        ),
        Case::new(
            "disconnect_then_remove_leaves_the_empty_state",
            disconnect_then_remove,
        ),
        Case::new("add_connection_checks_its_fields", add_connection_dialog),
        Case::new("menu_windows_open", menu_windows_open),
        Case::new(
            "first_start_falls_back_to_what_answers",
            first_start_fallback,
        ),
    ]);
}

fn window_shows_the_test_domain() -> Result<(), String> {
    let app = TestApp::start(Some("test:///default"))?;
    let window = app.window()?;
    let connection = app.connection(0)?;
    wait_until("the test driver connects", || {
        connection.state() == ConnectionState::Connected
    })?;
    wait_until("a row shows the domain “test”", || {
        find_widgets::<DomainRow>(window.upcast_ref())
            .iter()
            .filter_map(DomainRow::domain)
            .any(|d: DomainObject| d.name() == "test")
    })?;
    save_png(window.upcast_ref(), "main-window.png")?;

    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    ui_support::settle();
    save_png(window.upcast_ref(), "main-window-dark.png")?;
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    app.quit();
    Ok(())
}

fn bad_uri_shows_libvirts_reason() -> Result<(), String> {
    let app = TestApp::start(Some("nope://"))?;
    let window = app.window()?;
    let connection = app.connection(0)?;
    wait_until("the connection fails", || {
        connection.state() == ConnectionState::Failed
    })?;
    let reason = connection
        .error()
        .ok_or("a failed connection carries libvirt's reason")?;
    wait_until("the header shows libvirt's reason", || {
        find_widgets::<ConnectionHeader>(window.upcast_ref())
            .iter()
            .any(|h| h.status_text().contains(reason.as_str()))
    })?;
    save_png(window.upcast_ref(), "connection-failed.png")?;
    app.quit();
    Ok(())
}

fn disconnect_then_remove() -> Result<(), String> {
    let app = TestApp::start(Some("test:///default"))?;
    let window = app.window()?;
    let connection = app.connection(0)?;
    wait_until("the test driver connects", || {
        connection.state() == ConnectionState::Connected
    })?;
    let header = find_widgets::<ConnectionHeader>(window.upcast_ref())
        .into_iter()
        .next()
        .ok_or("no connection header")?;
    WidgetExt::activate_action(&header, "connection.disconnect", None)
        .map_err(|e| e.to_string())?;
    wait_until("the connection closes", || {
        connection.state() == ConnectionState::Disconnected
    })?;
    save_png(window.upcast_ref(), "connection-disconnected.png")?;
    WidgetExt::activate_action(&header, "connection.remove", None).map_err(|e| e.to_string())?;
    wait_until("the empty state shows", || {
        app.app.connections().n_items() == 0 && window.list().visible_page_name() == "empty"
    })?;
    save_png(window.upcast_ref(), "no-connections.png")?;
    app.quit();
    Ok(())
}

fn add_connection_dialog() -> Result<(), String> {
    let app = TestApp::start(Some("test:///default"))?;
    let window = app.window()?;
    WidgetExt::activate_action(&window, "win.add-connection", None).map_err(|e| e.to_string())?;
    let dialog = || {
        gtk::Window::list_toplevels()
            .into_iter()
            .find_map(|w| w.downcast::<AddConnectionDialog>().ok())
    };
    wait_until("the dialog opens", || dialog().is_some())?;
    let dialog = dialog().ok_or("no dialog")?;
    let rows = find_widgets::<adw::ComboRow>(dialog.upcast_ref());
    let kind = rows.first().ok_or("no hypervisor row")?;
    let remote = find_widgets::<adw::ExpanderRow>(dialog.upcast_ref())
        .into_iter()
        .next()
        .ok_or("no remote row")?;
    let entry = |title: &str| {
        find_widgets::<adw::EntryRow>(dialog.upcast_ref())
            .into_iter()
            .find(|r| r.title() == title)
            .ok_or(format!("no {title} field"))
    };
    let connect_enabled = || dialog.connect_enabled();

    // Remote over SSH without a host: nothing to connect to yet.
    remote.set_enable_expansion(true);
    entry("Host Name")?.set_text("");
    settle();
    if connect_enabled() {
        return Err("Connect is enabled without a host".into());
    }
    entry("Host Name")?.set_text("bad host");
    settle();
    if connect_enabled() || !entry("Host Name")?.has_css_class("error") {
        return Err("a host name with a space is not marked wrong".into());
    }
    entry("Host Name")?.set_text("host.example");
    entry("SSH Port (optional)")?.set_text("2222");
    settle();
    if !connect_enabled() || dialog.uri_preview() != "qemu+ssh://root@host.example:2222/system" {
        return Err(format!("unexpected URI {}", dialog.uri_preview()));
    }
    save_png(dialog.upcast_ref(), "add-connection-remote.png")?;

    // A custom URI that is fine is added, opened and saved.
    kind.set_selected(2);
    entry("URI")?.set_text("test:///default");
    settle();
    dialog.activate_connect();
    wait_until("the new connection is listed", || {
        app.app.connections().n_items() == 1
    })?;
    let saved = app.app.settings().strv("connections");
    if !saved.iter().any(|u| u == "test:///default") {
        return Err(format!("the connection was not saved: {saved:?}"));
    }
    app.quit();
    Ok(())
}

/// Preferences, Keyboard Shortcuts and About open from the primary menu's actions.
fn menu_windows_open() -> Result<(), String> {
    let app = TestApp::start(Some("test:///default"))?;
    let window = app.window()?;
    let find = |type_name: &str| {
        gtk::Window::list_toplevels()
            .into_iter()
            .filter_map(|w| w.downcast::<gtk::Window>().ok())
            .find(|w| w.type_().name() == type_name && w.is_visible())
    };
    for (action, type_name, png) in [
        (
            "app.preferences",
            "VireoPreferencesWindow",
            "preferences.png",
        ),
        (
            "win.show-help-overlay",
            "GtkShortcutsWindow",
            "keyboard-shortcuts.png",
        ),
        ("app.about", "AdwAboutWindow", "about.png"),
        ("win.new-vm", "VireoNewVmDialog", "new-vm-from-menu.png"),
    ] {
        WidgetExt::activate_action(&window, action, None).map_err(|e| format!("{action}: {e}"))?;
        wait_until(&format!("{type_name} opens"), || find(type_name).is_some())?;
        let opened = find(type_name).ok_or("gone")?;
        save_png(opened.upcast_ref(), png)?;
        opened.close();
        settle();
    }
    app.quit();
    Ok(())
}

/// The first start tries hosts in turn: those that fail go, the one that answers stays.
fn first_start_fallback() -> Result<(), String> {
    let app = TestApp::start(None)?;
    app.app.open_first_answering(vec![
        "nope://".into(),
        "test:///nonexistent/node.xml".into(),
        "test:///default".into(),
    ]);
    wait_until("the demo host is what remains", || {
        let connections = app.app.connections();
        connections.n_items() == 1
            && app.connection(0).is_ok_and(|c| {
                c.uri() == "test:///default" && c.state() == ConnectionState::Connected
            })
    })?;
    app.quit();
    Ok(())
}
