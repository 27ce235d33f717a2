//! The serial console widget without a guest: libvirt's test driver (`test:///default`,
//! in-process) has domains but no consoles, so these checks run anywhere (Xvfb only):
//! the messages for a domain without a console and for a stopped one, the Run button,
//! and the terminal comforts on text fed to the terminal.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test
//! serial_ui`.

mod kit;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use gtk::prelude::*;
use kit::app::{button, find_visible};
use kit::model::{act, connect};
use kit::screen::save_png;
use kit::{test, wait_until, Runner, EVENT};
use vireo::model::{DomainAction, DomainState};
use vireo::ui::console::{SerialConsole, SerialStatus};
use vte4::TerminalExt;

fn window_with(console: &SerialConsole) -> gtk::Window {
    let window = gtk::Window::new();
    window.set_default_size(900, 600);
    window.set_child(Some(console));
    window.present();
    // Without a domain the status page shows: show the terminal page to feed it.
    if let Some(stack) = find_visible::<gtk::Stack>(console) {
        stack.set_visible_child_name("terminal");
    }
    wait_until("the console on screen", EVENT, || {
        console.terminal().is_mapped()
    });
    window
}

fn states_on_the_test_driver() {
    let c = connect("test:///default");
    c.set_stats_interval(0);
    let d = (0..c.domains().n_items())
        .filter_map(|i| {
            c.domains()
                .item(i)
                .and_downcast::<vireo::model::DomainObject>()
        })
        .find(|d| d.state() == DomainState::Running)
        .expect("a running test domain");
    let console = SerialConsole::new();
    let window = gtk::Window::new();
    window.set_default_size(900, 600);
    window.set_child(Some(&console));
    window.present();
    assert_eq!(console.status(), SerialStatus::NoDomain);

    // The test driver's domain has no serial port: said plainly, without asking
    // libvirt to open what is not there.
    console.set_domain(Some(&d));
    wait_until("an answer from libvirt", EVENT, || {
        !matches!(
            console.status(),
            SerialStatus::Connecting | SerialStatus::NoDomain
        )
    });
    println!("  {:?}: {}", console.status(), console.status_text());
    assert_eq!(console.status(), SerialStatus::NoDevice);
    assert_eq!(
        console.status_text(),
        "This virtual machine has no serial port or console."
    );

    // Stopped: a Run button that asks the owner to start the domain.
    act(&c, &d, DomainAction::ForceOff);
    wait_until("not running", EVENT, || {
        console.status() == SerialStatus::NotRunning
    });
    let asked = Rc::new(Cell::new(0));
    let a = asked.clone();
    console.connect_run_requested(move |_| a.set(a.get() + 1));
    button(&console, "Run").emit_clicked();
    assert_eq!(asked.get(), 1);
    save_png(&window, "serial-console-test-driver.png");

    console.set_domain(None);
    assert_eq!(console.status(), SerialStatus::NoDomain);
    window.destroy();
    c.close();
}

fn comforts_on_fed_text() {
    let console = SerialConsole::new();
    let window = window_with(&console);
    let terminal = console.terminal();
    // VTE 0.70 crashes when searching an unrealized terminal: the widget refuses.
    let hidden = SerialConsole::new();
    hidden.terminal().feed(b"hidden text\r\n");
    hidden.set_search_text("hidden");
    assert!(
        !hidden.find(true),
        "no search before the terminal is on screen"
    );
    terminal.feed(b"first line\r\nVireo Serial Search Target\r\nlast line\r\n");
    kit::pump(Duration::from_millis(200));
    assert!(console.text().contains("Vireo Serial Search Target"));

    // Search: smart case, literal text (no pattern characters), not found.
    console.set_search_text("serial search");
    assert_eq!(
        terminal.text_selected(vte4::Format::Text).as_deref(),
        Some("Serial Search"),
        "found ignoring case, and selected"
    );
    terminal.unselect_all();
    console.set_search_text("Serial search");
    assert!(
        !console.find(true),
        "a capital makes the search case-sensitive"
    );
    console.set_search_text("line.");
    assert!(!console.find(true), "the dot is literal");
    console.set_search_text("");

    // Zoom steps and bounds.
    for _ in 0..20 {
        console.activate_action("console.zoom-in", None).unwrap();
    }
    assert!((console.zoom() - 3.0).abs() < 1e-9, "at most 300 %");
    console.activate_action("console.zoom-reset", None).unwrap();
    console.activate_action("console.zoom-out", None).unwrap();
    assert!((console.zoom() - 0.9).abs() < 1e-9, "one step down is 90 %");
    console.set_zoom(1.0);

    // Palette and scrollback follow the settings.
    let settings = vireo::settings::settings();
    settings.set_int("terminal-scrollback", 1234).unwrap();
    assert_eq!(terminal.scrollback_lines(), 1234);
    settings
        .set_string("terminal-palette", "solarized-light")
        .unwrap();
    let bg = terminal.color_background_for_draw();
    assert_eq!(
        (
            (bg.red() * 255.0).round(),
            (bg.green() * 255.0).round(),
            (bg.blue() * 255.0).round()
        ),
        (253.0, 246.0, 227.0),
        "solarized light background"
    );
    settings.reset("terminal-palette");
    settings.reset("terminal-scrollback");

    // What the person types goes nowhere without a stream, and does not crash.
    terminal.feed_child(b"ignored\r");
    kit::pump(Duration::from_millis(50));
    window.destroy();
}

fn main() {
    Runner::new().gui().run(vec![
        test("states_on_the_test_driver", states_on_the_test_driver).limit(60),
        test("comforts_on_fed_text", comforts_on_fed_text).limit(60),
    ]);
}
