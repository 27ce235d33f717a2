//! UI smoke tests under a display (Xvfb in CI): the real window on libvirt's test
//! driver, checked through its widgets, with PNGs written for people to look at.
//!
//! GTK wants one thread, so this binary has its own `main` (harness = false) and runs
//! the cases one after another on it.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionState, DomainObject};
use vireo::ui::{AddConnectionDialog, ConnectionHeader, DomainRow};

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("window_shows_the_test_domain", window_shows_the_test_domain),
        test(
            "bad_uri_shows_libvirts_reason",
            bad_uri_shows_libvirts_reason,
        ),
        test(
            "disconnect_then_remove_leaves_the_empty_state",
            disconnect_then_remove,
        ),
        test("add_connection_checks_its_fields", add_connection_dialog),
        test("menu_windows_open", menu_windows_open),
        test(
            "first_start_falls_back_to_what_answers",
            first_start_fallback,
        ),
    ]);
}

fn window_shows_the_test_domain() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the test driver connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    wait_until("a row shows the domain “test”", EVENT, || {
        find_widgets::<DomainRow>(&window)
            .iter()
            .filter_map(DomainRow::domain)
            .any(|d: DomainObject| d.name() == "test")
    });
    save_png(&window, "main-window.png");

    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "main-window-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    app.quit();
    Ok(())
}

fn bad_uri_shows_libvirts_reason() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "nope://"]);
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the connection fails", EVENT, || {
        connection.state() == ConnectionState::Failed
    });
    let reason = connection
        .error()
        .ok_or("a failed connection carries libvirt's reason")?;
    wait_until("the header shows libvirt's reason", EVENT, || {
        find_widgets::<ConnectionHeader>(&window)
            .iter()
            .any(|h| h.status_text().contains(reason.as_str()))
    });
    save_png(&window, "connection-failed.png");
    app.quit();
    Ok(())
}

fn disconnect_then_remove() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the test driver connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let header = find_widgets::<ConnectionHeader>(&window)
        .into_iter()
        .next()
        .ok_or("no connection header")?;
    WidgetExt::activate_action(&header, "connection.disconnect", None)
        .map_err(|e| e.to_string())?;
    wait_until("the connection closes", EVENT, || {
        connection.state() == ConnectionState::Disconnected
    });
    save_png(&window, "connection-disconnected.png");
    WidgetExt::activate_action(&header, "connection.remove", None).map_err(|e| e.to_string())?;
    wait_until("the empty state shows", EVENT, || {
        app.app.connections().n_items() == 0 && window.list().visible_page_name() == "empty"
    });
    save_png(&window, "no-connections.png");
    app.quit();
    Ok(())
}

fn add_connection_dialog() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let window = app.window();
    WidgetExt::activate_action(&window, "win.add-connection", None).map_err(|e| e.to_string())?;
    let dialog = || {
        gtk::Window::list_toplevels()
            .into_iter()
            .find_map(|w| w.downcast::<AddConnectionDialog>().ok())
    };
    wait_until("the dialog opens", EVENT, || dialog().is_some());
    let dialog = dialog().ok_or("no dialog")?;
    let rows = find_widgets::<adw::ComboRow>(&dialog);
    let kind = rows.first().ok_or("no hypervisor row")?;
    let remote = find_widgets::<adw::ExpanderRow>(&dialog)
        .into_iter()
        .next()
        .ok_or("no remote row")?;
    let entry = |title: &str| {
        find_widgets::<adw::EntryRow>(&dialog)
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
    save_png(&dialog, "add-connection-remote.png");

    // A custom URI that is fine is added, opened and saved.
    kind.set_selected(2);
    entry("URI")?.set_text("test:///default");
    settle();
    dialog.activate_connect();
    wait_until("the new connection is listed", EVENT, || {
        app.app.connections().n_items() == 1
    });
    let saved = app.app.settings().strv("connections");
    if !saved.iter().any(|u| u == "test:///default") {
        return Err(format!("the connection was not saved: {saved:?}"));
    }
    app.quit();
    Ok(())
}

/// Preferences, Keyboard Shortcuts and About open from the primary menu's actions.
fn menu_windows_open() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let window = app.window();
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
        ("win.new-vm", "AdwWindow", "new-vm-from-menu.png"),
    ] {
        WidgetExt::activate_action(&window, action, None).map_err(|e| format!("{action}: {e}"))?;
        wait_until(&format!("{type_name} opens"), EVENT, || {
            find(type_name).is_some()
        });
        let opened = find(type_name).ok_or("gone")?;
        save_png(&opened, png);
        opened.close();
        settle();
    }
    app.quit();
    Ok(())
}

/// The first start tries hosts in turn: those that fail go, the one that answers stays.
fn first_start_fallback() -> Result<(), String> {
    let app = TestApp::start(&[]);
    app.app.open_first_answering(vec![
        "nope://".into(),
        "test:///nonexistent/node.xml".into(),
        "test:///default".into(),
    ]);
    wait_until("the demo host is what remains", EVENT, || {
        let connections = app.app.connections();
        connections.n_items() == 1
            && app.connection(0).uri() == "test:///default"
            && app.connection(0).state() == ConnectionState::Connected
    });
    app.quit();
    Ok(())
}
