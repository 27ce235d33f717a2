//! UI smoke tests under a display (Xvfb in CI): the real window on libvirt's test
//! driver, checked through its widgets, with PNGs written for people to look at.
//!
//! GTK wants one thread, so this binary has its own `main` (harness = false) and runs
//! the cases one after another on it.

mod ui_support;

use gtk::prelude::*;
use ui_support::{find_widgets, run_cases, save_png, wait_until, Case, TestApp};
use vireo::model::{ConnectionState, DomainObject};
use vireo::ui::{ConnectionHeader, DomainRow};

fn main() {
    run_cases(&[
        Case::new("window_shows_the_test_domain", window_shows_the_test_domain),
        Case::new(
            "bad_uri_shows_libvirts_reason",
            bad_uri_shows_libvirts_reason,
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
