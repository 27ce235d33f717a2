//! UI smoke tests under a display (Xvfb in CI): the real window on libvirt's test
//! driver, checked through its widgets, with PNGs written for people to look at;
//! some in French, and the command line's help from the real binary.
//!
//! GTK wants one thread, so this binary has its own `main` (harness = false) and runs
//! the cases one after another on it.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
use kit::x11::press_keys;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionObject, ConnectionState, DomainObject, DomainState};
use vireo::ui::{AddConnectionDialog, ConnectionHeader, DomainRow, VireoWindow, VmPage};
use vireo::virt::test_node;

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
            "first_start_without_a_daemon_says_so_and_opens_the_demo",
            first_start_without_a_daemon,
        ),
        test(
            "memory_shows_current_and_maximum",
            memory_current_and_maximum,
        ),
        test("states_say_it_once_and_resume_plays", states_and_resume),
        test(
            "preferences_hide_nothing_important",
            preferences_hide_nothing,
        ),
        test("in_french_sizes_words_and_help", in_french).french(),
        test("in_french_the_first_start_hint", in_french_first_start).french(),
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

    // 360 pixels wide, the user session reads whole.
    dialog.set_default_size(360, 580);
    wait_until("the dialog narrows to 360 px", EVENT, || {
        dialog.width() <= 360
    });
    kind.set_selected(1);
    settle();
    let cut: Vec<String> = find_widgets::<gtk::Label>(kind)
        .iter()
        .filter(|l| l.is_mapped() && l.layout().is_ellipsized())
        .map(|l| l.label().to_string())
        .collect();
    let shown = find_widgets::<gtk::Label>(kind)
        .iter()
        .any(|l| l.is_mapped() && l.label() == "QEMU/KVM User Session");
    if !shown || !cut.is_empty() {
        return Err(format!("at 360 px the hypervisor reads cut: {cut:?}"));
    }
    save_png(&dialog, "add-connection-narrow.png");
    kind.set_selected(0);
    // The SSH switch has a name a screen reader can say.
    let ssh_switch = find_widgets::<gtk::Switch>(&remote)
        .into_iter()
        .next()
        .ok_or("the remote row has no switch")?;
    if !gtk::test_accessible_has_property(&ssh_switch, gtk::AccessibleProperty::Label) {
        return Err("the SSH switch has no accessible name".into());
    }

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
        ("win.new-vm", "VireoNewVmDialog", "new-vm-from-menu.png"),
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

/// Every label's words under `widget`, one per line.
fn words_under(widget: &impl IsA<gtk::Widget>) -> String {
    find_widgets::<gtk::Label>(widget)
        .iter()
        .map(|l| l.label().replace('\u{a0}', " "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first start's hint about the local daemon (shown or not).
fn local_hint(window: &VireoWindow) -> gtk::Revealer {
    find_widgets::<gtk::Revealer>(window)
        .into_iter()
        .find(|r| words_under(r).contains("systemctl start libvirtd"))
        .expect("the window has a hint about the local daemon")
}

/// A local URI that answers like a host without a libvirt daemon.
const NO_DAEMON: &str = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

/// The first start with no local daemon answering says so, how to start one, in
/// libvirt's words why; the demo host is there to try meanwhile, marked as a demo;
/// Try Again finds a daemon that started since, and keeps it for the next start.
fn first_start_without_a_daemon() -> Result<(), String> {
    let dir = kit::testbed::temp_dir("first-start");
    // A second local host that does not answer yet (its node file comes later).
    let later = format!("test://{}", dir.join("node.xml").display());
    let app = TestApp::first_start(&[NO_DAEMON, &later]);
    let window = app.window();
    wait_until("the demo host opens", EVENT, || {
        app.app.connections().n_items() == 1
            && app.connection(0).is_demo()
            && app.connection(0).state() == ConnectionState::Connected
    });
    let hint = local_hint(&window);
    wait_until(
        "the window says that no local daemon answers",
        EVENT,
        || hint.reveals_child(),
    );
    let words = words_under(&hint);
    for expected in [
        "sudo systemctl start libvirtd",
        "sudo usermod -aG libvirt $USER",
        "“libvirt” group",
        "/nonexistent/libvirt-sock",
    ] {
        if !words.contains(expected) {
            return Err(format!("the hint does not say “{expected}”:\n{words}"));
        }
    }
    let demo_badge_shown = find_widgets::<ConnectionHeader>(&window)
        .iter()
        .flat_map(find_widgets::<gtk::Label>)
        .any(|l| l.label() == "Demo" && l.is_mapped());
    if !demo_badge_shown {
        return Err("the demo host is not marked as a demo".into());
    }
    save_png(&window, "first-start-no-daemon.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "first-start-no-daemon-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    save_png(&window, "first-start-no-daemon-narrow.png");

    // The daemon starts; Try Again finds it.
    let spec = test_node::NodeSpec {
        domains: 2,
        ..test_node::NodeSpec::default()
    };
    test_node::write_node(&dir, "node.xml", &spec).map_err(|e| e.to_string())?;
    find_widgets::<gtk::Button>(&hint)
        .into_iter()
        .find(|b| b.action_name().as_deref() == Some("win.retry-local-hosts"))
        .ok_or("the hint has no Try Again")?
        .emit_clicked();
    wait_until(
        "Try Again connects the local host and the hint goes",
        EVENT,
        || {
            !hint.reveals_child()
                && app
                    .app
                    .connections()
                    .iter::<ConnectionObject>()
                    .flatten()
                    .any(|c| c.uri() == later && c.state() == ConnectionState::Connected)
        },
    );
    if !app
        .app
        .settings()
        .strv("connections")
        .iter()
        .any(|u| *u == later)
    {
        return Err("the local host that answered is not kept for the next start".into());
    }
    app.quit();
    Ok(())
}

/// The VM tab shown, once the command line opened it.
fn shown_tab(window: &VireoWindow) -> VmPage {
    wait_until("the command line opens the VM's tab", EVENT, || {
        window.vm_page_shown()
    })
}

/// The subtitle of the details row titled `title` (GLib joins a size's figure and
/// unit with a no-break space; it reads as a space here).
fn details_row(page: &VmPage, title: &str) -> Result<String, String> {
    find_widgets::<adw::ActionRow>(page)
        .into_iter()
        .find(|r| r.title() == title)
        .and_then(|r| r.subtitle())
        .map(|s| s.replace('\u{a0}', " "))
        .ok_or(format!("the details have no “{title}”"))
}

/// The figures of the list's row for `name`.
fn row_words(window: &VireoWindow, name: &str) -> Result<String, String> {
    find_widgets::<DomainRow>(window)
        .into_iter()
        .find(|r| r.domain().is_some_and(|d| d.name() == name))
        .map(|r| words_under(&r))
        .ok_or(format!("no row for {name}"))
}

/// The words and figures a language shows for the demo VM's memory.
struct MemoryWords {
    current_row: &'static str,
    max_row: &'static str,
    current: &'static str,
    max: &'static str,
}

const MEMORY_EN: MemoryWords = MemoryWords {
    current_row: "Current Memory",
    max_row: "Maximum Memory",
    current: "2.0 GiB",
    max: "8.0 GiB",
};

/// libvirt's demo VM has 8 GiB at most and 2 GiB now: opened by `--show-domain-editor`,
/// its details name both.
fn memory_in_details(words: &MemoryWords, png: &str) -> Result<(TestApp, VireoWindow), String> {
    let app = TestApp::start(&[
        "--connect",
        "test:///default",
        "--show-domain-editor",
        "test",
    ]);
    let window = app.window();
    let page = shown_tab(&window);
    wait_until(
        &format!("the details show {} now", words.current),
        EVENT,
        || details_row(&page, words.current_row).is_ok_and(|m| m == words.current),
    );
    let max = details_row(&page, words.max_row)?;
    if max != words.max {
        return Err(format!("the maximum memory reads {max}"));
    }
    save_png(&window, png);
    Ok((app, window))
}

/// The list's row shows the memory the VM has now, not its maximum.
fn memory_in_list(window: &VireoWindow, words: &MemoryWords) {
    window.show_list();
    wait_until(
        &format!("the list's row shows {}", words.current),
        EVENT,
        || {
            row_words(window, "test")
                .is_ok_and(|w| w.contains(words.current) && !w.contains(words.max))
        },
    );
}

fn memory_current_and_maximum() -> Result<(), String> {
    let (app, window) = memory_in_details(&MEMORY_EN, "vm-details-memory.png")?;
    memory_in_list(&window, &MEMORY_EN);
    app.quit();
    Ok(())
}

/// A paused VM's state reads once ("Paused by the user"), and Resume plays (▶).
fn states_and_resume() -> Result<(), String> {
    let app = TestApp::start(&[
        "--connect",
        "test:///default",
        "--show-domain-console",
        "test",
    ]);
    let window = app.window();
    let page = shown_tab(&window);
    let domain = page.domain().ok_or("the tab has no VM")?;
    press_keys(&window, "shift+ctrl+p");
    wait_until("Shift+Ctrl+P pauses the VM", EVENT, || {
        domain.state() == DomainState::Paused
    });
    let states: Vec<String> = find_widgets::<gtk::Label>(&page)
        .iter()
        .filter(|l| l.is_mapped() && l.label().contains("Paused"))
        .map(|l| l.label().to_string())
        .collect();
    if states != ["Paused by the user"] {
        return Err(format!("the tab's state reads {states:?}"));
    }
    let resume = find_widgets::<gtk::Button>(&window)
        .into_iter()
        .filter(|b| b.action_name().as_deref() == Some("win.domain-resume"))
        .collect::<Vec<_>>();
    if resume.len() != 2
        || resume
            .iter()
            .any(|b| b.icon_name().as_deref() != Some("media-playback-start-symbolic"))
    {
        return Err("Resume does not show ▶ in the tab and the list".into());
    }
    save_png(&window, "vm-tab-paused.png");
    press_keys(&window, "shift+ctrl+u");
    wait_until("Shift+Ctrl+U resumes the VM", EVENT, || {
        domain.state() == DomainState::Running
    });
    app.quit();
    Ok(())
}

/// Preferences: the safety question shows without scrolling, and the interval reads
/// as people write it ("1", "0.25", "1.5").
fn preferences_hide_nothing() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    app.activate("app.preferences");
    let prefs = kit::app::toplevel::<vireo::ui::PreferencesWindow>();
    wait_until("Preferences show", EVENT, || prefs.is_mapped());
    settle();
    let safety = find_widgets::<adw::ActionRow>(&prefs)
        .into_iter()
        .find(|r| r.title().contains("Ask Before Destructive Actions"))
        .ok_or("no safety row")?;
    wait_until("Preferences are laid out", EVENT, || {
        prefs.height() > 0 && (!safety.is_mapped() || safety.height() > 0)
    });
    let bounds = safety
        .compute_bounds(&prefs)
        .filter(|_| safety.is_mapped())
        .ok_or("the safety row is not on the page shown")?;
    if bounds.y() + bounds.height() > prefs.height() as f32 {
        return Err(format!(
            "the safety row is below the fold ({} > {})",
            bounds.y() + bounds.height(),
            prefs.height()
        ));
    }
    save_png(&prefs, "preferences.png");

    let spin = find_widgets::<gtk::SpinButton>(&prefs)
        .into_iter()
        .find(|s| s.adjustment().upper() == 60.0)
        .ok_or("no interval")?;
    let page = spin
        .ancestor(adw::PreferencesPage::static_type())
        .and_downcast::<adw::PreferencesPage>()
        .ok_or("the interval is on no page")?;
    prefs.set_visible_page(&page);
    settle();
    for (value, text) in [(1.0, "1"), (0.25, "0.25"), (1.5, "1.5"), (1.0, "1")] {
        spin.set_value(value);
        settle();
        if spin.text() != text {
            return Err(format!("an interval of {value} s reads “{}”", spin.text()));
        }
    }
    save_png(&prefs, "preferences-figures.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&prefs, "preferences-figures-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    // The window's widgets go with it, before the app: held past its end, they were
    // disposed after their settings (GLib criticals at exit).
    drop((spin, page, safety));
    prefs.close();
    drop(prefs);
    settle();
    app.quit();
    Ok(())
}

/// In French: `--help` from the real binary, sizes with a decimal comma and French
/// units, and the VM's details and the list.
fn in_french() -> Result<(), String> {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_vireo"))
        .arg("--help")
        .output()
        .map_err(|e| format!("running vireo --help: {e}"))?;
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for expected in [
        "Utilisation\u{a0}:",
        "Afficher l’aide",
        "Afficher la version",
    ] {
        if !help.contains(expected) {
            return Err(format!(
                "vireo --help in French lacks “{expected}”:\n{help}"
            ));
        }
    }

    let french = MemoryWords {
        current_row: "Mémoire actuelle",
        max_row: "Mémoire maximale",
        current: "2,0 Gio",
        max: "8,0 Gio",
    };
    let (app, window) = memory_in_details(&french, "fr-vm-details.png")?;
    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    // At 360 px the long French state leaves no room for the switcher's labels: the
    // header shows the state alone and the bar at the bottom switches pages (never
    // labels cut to "Co… D…").
    wait_until(
        "the header gives the switcher up for the bottom bar",
        EVENT,
        || {
            find_widgets::<adw::Squeezer>(&window)
                .iter()
                .filter(|s| s.is_mapped())
                .all(|s| s.visible_child().is_some_and(|c| c.is::<gtk::Label>()))
        },
    );
    save_png(&window, "fr-vm-details-narrow.png");
    memory_in_list(&window, &french);
    save_png(&window, "fr-list-narrow.png");
    app.quit();
    Ok(())
}

/// The first start's hint in French (one application per process: a test of its own).
fn in_french_first_start() -> Result<(), String> {
    let app = TestApp::first_start(&[NO_DAEMON]);
    let window = app.window();
    let hint = local_hint(&window);
    wait_until("the hint shows", EVENT, || hint.reveals_child());
    save_png(&window, "fr-first-start-no-daemon.png");
    app.quit();
    Ok(())
}
