//! A SPICE VM's console in Vireo's VM tab, opened the way a person opens it: the
//! application started as `vireo --connect URI --show-domain-console NAME`, the test
//! guest running with `<graphics type='spice'>` and a QXL card. The tab's display
//! shows the guest's known VGA picture (pixel check), keys typed on the X keyboard
//! into the window reach the guest's shell (it clears its screen to green), the picture comes back after the guest reboots, and the header's
//! information button says what is missing without the guest agent. Once on the
//! private daemon's `qemu:///system` (where every channel's socket crosses libvirt's
//! RPC), then with a VNC VM opened beside it in a second tab; once on
//! `qemu:///embed`, drawn by GTK's cairo renderer. Each picture is also looked for on
//! the X screen: what the tab really shows. Screenshots (light and dark) go to
//! `target/screenshots/`.
//!
//! Needs root, QEMU, libvirtd and the test guest (built by the kit), a display;
//! without them it says SKIPPED and passes (fails with CI=true).
//!
//! Run: isolate.sh xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test spice_console

mod kit;

use gtk::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::{save_png, x_screen_rgb, x_screen_shows_guest};
use kit::testbed::{daemon, embed_root, Boot, Guest, Need, SystemDaemon, VGA_SIZE};
use kit::vnc::texture_bytes;
use kit::x11::{press_keys, type_text};
use kit::{settle, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::DomainObject;
use vireo::ui::console::{ConsoleState, GuestDisplay};
use vireo::ui::{VireoWindow, VmPage};
use vireo::virt::handles::release_connect;

fn main() {
    kit::testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![
        test("system_spice_tab_and_a_vnc_tab_beside_it", || {
            spice_tab(Host::System, true)
        })
        .limit(420),
        // Drawn with GTK's cairo renderer (the other case takes the default, GL):
        // the picture on the X screen comes straight from spice-gtk's memory, redrawn
        // where the guest changed it.
        test("embed_spice_tab", || spice_tab(Host::Embed, false))
            .limit(300)
            .cairo(),
    ]);
}

#[derive(Clone, Copy, Debug)]
enum Host {
    System,
    Embed,
}

/// A guest started on `uri` for this test, destroyed when dropped.
struct Running {
    conn: Option<virt::connect::Connect>,
    domain: Option<virt::domain::Domain>,
}

impl Running {
    fn start(uri: &str, xml: &str) -> Running {
        let conn = virt::connect::Connect::open(Some(uri)).expect("connect");
        let domain = conn.create_domain_xml(xml, 0).expect("start the guest");
        Running {
            conn: Some(conn),
            domain: Some(domain),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(domain) = self.domain.take() {
            kit::model::destroy_and_release(domain);
        }
        if let Some(conn) = self.conn.take() {
            release_connect(conn);
        }
    }
}

/// True when `display` shows the ready guest's VGA picture, left and right edges.
fn shows_ready_picture(display: &GuestDisplay) -> bool {
    // The bed's points are on the left; a screen updated only in part must not pass.
    let right_edge = [
        (715, 40, [168, 0, 0]),
        (715, 100, [0, 168, 0]),
        (715, 250, [0, 0, 168]),
    ];
    kit::vnc::shows_guest_picture(display, &right_edge)
}

/// True when the guest's 720x400 text screen is green away from its first line (the
/// ready picture is blue, red, green, grey and blue bands).
fn shows_green_screen(display: &GuestDisplay) -> bool {
    let Some(shot) = display.screenshot_texture() else {
        return false;
    };
    if (shot.width() as u32, shot.height() as u32) != VGA_SIZE {
        return false;
    }
    let bytes = texture_bytes(&shot);
    [(360, 24), (360, 300), (700, 390), (10, 200)]
        .iter()
        .all(|&(x, y): &(u32, u32)| {
            let i = ((y * VGA_SIZE.0 + x) * 4) as usize;
            [bytes[i + 2], bytes[i + 1], bytes[i]] == [0, 168, 0]
        })
}

/// True when the X screen shows the guest's green screen: more green pixels than the
/// ready picture's green band can have in the test's window, however it is scaled.
fn x_screen_shows_green() -> bool {
    x_screen_rgb().is_some_and(|(_, _, rgb)| {
        rgb.chunks_exact(3).filter(|p| *p == [0, 168, 0]).count() > 200_000
    })
}

/// Waits until the X screen shows what `what` says (`check` reads the screen).
fn wait_on_screen(what: &str, check: fn() -> bool) {
    wait_until(&format!("{what} on the X screen"), EVENT, || {
        kit::pump(std::time::Duration::from_millis(100));
        check()
    });
}

/// The tab the app opened for `name`, once it is shown.
fn tab_of(window: &VireoWindow, name: &str) -> VmPage {
    wait_until(&format!("{name}'s tab is shown"), EVENT, || {
        window
            .vm_page_shown()
            .filter(|p| p.domain().is_some_and(|d| d.name() == name))
    })
}

fn spice_tab(host: Host, with_vnc_beside: bool) {
    let uri = match host {
        Host::System => {
            daemon();
            SystemDaemon::URI.to_owned()
        }
        Host::Embed => embed_root().uri(),
    };
    let name = format!("vireo-test-spice-tab-{}", std::process::id());
    let guest = Guest::get().expect("guest");
    let spice = Running::start(&uri, &guest.spice_domain_xml(&name, "qxl"));

    // As `vireo --connect URI --show-domain-console NAME` opens it.
    let app = TestApp::start(&["--connect", &uri, "--show-domain-console", &name]);
    let window = app.window();
    window.set_default_size(1000, 700);
    let page = tab_of(&window, &name);
    let display = page.guest_display();
    wait_until("the tab's display connects", BOOT, || {
        (display.state() == ConsoleState::Connected).then_some(())
    });
    assert!(display.is_session(), "a SPICE VM gets a SPICE session");
    wait_until("the guest's ready picture in the tab", BOOT, || {
        shows_ready_picture(&display)
    });
    wait_on_screen("the guest's ready picture", x_screen_shows_guest);
    println!("  {host:?}: the SPICE tab shows the guest's picture");

    // The busybox guest has no spice-vdagent: the header says what that costs.
    wait_until("the display notes the missing agent", EVENT, || {
        display.notes().contains("spice-vdagent")
    });
    settle();
    let tag = match host {
        Host::System => "system",
        Host::Embed => "embed",
    };
    let info = find_widgets::<gtk::MenuButton>(&page)
        .into_iter()
        .find(|b| b.icon_name().as_deref() == Some("help-about-symbolic"))
        .expect("the display's information button");
    assert!(info.is_visible(), "the information button shows");
    let tooltip = info.tooltip_text().unwrap_or_default();
    assert!(
        tooltip.contains("spice-vdagent") && tooltip.contains("USB"),
        "the tooltip says what is missing: {tooltip}"
    );
    save_png(&window, &format!("spice-tab-{tag}-light.png"));
    // What a person sees on clicking it.
    info.popup();
    let popover = info.popover().expect("the button's popover");
    save_png(&popover, &format!("spice-tab-{tag}-limitations.png"));
    info.popdown();
    let style = adw::StyleManager::default();
    style.set_color_scheme(adw::ColorScheme::ForceDark);
    save_png(&window, &format!("spice-tab-{tag}-dark.png"));
    style.set_color_scheme(adw::ColorScheme::Default);
    if matches!(host, Host::Embed) {
        // A phone-sized window: the header's controls must still fit.
        window.set_default_size(360, 640);
        kit::pump(std::time::Duration::from_millis(500));
        save_png(&window, "spice-tab-narrow.png");
        window.set_default_size(1000, 700);
        kit::pump(std::time::Duration::from_millis(500));
    }

    // Keys on the X keyboard into the window: the display takes the keyboard, the VGA
    // console's shell runs the line and writes to the serial port.
    display.grab_focus();
    wait_until("the display takes the keyboard", EVENT, || {
        display.keyboard_grabbed()
    });
    // (The tab's own serial console holds the guest's serial port now, so the proof
    // is in the picture: the shell clears the screen to green.)
    // (Return as a key of its own: xdotool types "\n" as a keysym with no key on
    // the keyboard, and SPICE carries keys, not keysyms.)
    type_text(&window, "printf '\\033[42m\\033[2J'");
    press_keys(&window, "Return");
    let typed = std::time::Instant::now();
    while !shows_green_screen(&display) && typed.elapsed() < EVENT {
        kit::pump(std::time::Duration::from_millis(100));
    }
    save_png(&display, &format!("spice-tab-{tag}-typed.png"));
    assert!(
        shows_green_screen(&display),
        "the typed command clears the guest's screen to green"
    );
    wait_on_screen("the green screen", x_screen_shows_green);
    println!("  {host:?}: keys typed in the tab reached the guest's shell");

    // The guest reboots: the picture goes, then comes back in the same tab.
    type_text(&window, "reboot");
    press_keys(&window, "Return");
    wait_until("the picture changes with the reboot", EVENT * 3, || {
        !shows_green_screen(&display)
    });
    wait_until("the ready picture after the reboot", BOOT, || {
        shows_ready_picture(&display)
    });
    wait_on_screen("the ready picture after the reboot", x_screen_shows_guest);
    assert_eq!(display.state(), ConsoleState::Connected);
    println!("  {host:?}: the picture came back after the reboot");

    if with_vnc_beside {
        vnc_beside(&app, &window, &uri, &name, &display);
    }

    // The guest goes away: the tab says so.
    drop(spice);
    wait_until("the tab says the VM is not running", EVENT * 6, || {
        (display.state() == ConsoleState::NotRunning).then_some(())
    });
    app.quit();
}

/// A VNC VM opened in a second tab while the SPICE one stays open: each tab's display
/// shows its own guest, and the SPICE tab still does when shown again.
fn vnc_beside(
    app: &TestApp,
    window: &VireoWindow,
    uri: &str,
    spice_name: &str,
    spice_display: &GuestDisplay,
) {
    let name = format!("vireo-test-vnc-tab-{}", std::process::id());
    let guest = Guest::get().expect("guest");
    let _vnc = Running::start(uri, &guest.domain_xml(&name, Boot::Kernel, None));
    let connection = app.connection(0);
    let domain = wait_until("the VNC VM is listed", EVENT, || {
        connection
            .domains()
            .iter::<DomainObject>()
            .flatten()
            .find(|d| d.name() == name)
    });
    // What Ctrl+O on its row does.
    let page = window.open_domain(&domain);
    page.show_console();
    let display = page.guest_display();
    wait_until("the VNC tab's ready picture", BOOT, || {
        shows_ready_picture(&display)
    });
    assert!(!display.is_session(), "a VNC VM gets gvnc");
    save_png(window, "spice-and-vnc-tabs.png");
    // Back to the SPICE tab: its picture is there (SPICE pushes while hidden).
    let spice_page = window.open_domain(
        &connection
            .domains()
            .iter::<DomainObject>()
            .flatten()
            .find(|d| d.name() == spice_name)
            .expect("the SPICE VM"),
    );
    assert_eq!(tab_of(window, spice_name), spice_page);
    wait_until("the SPICE tab's picture, shown again", EVENT, || {
        shows_ready_picture(spice_display)
    });
    assert!(
        shows_ready_picture(&display),
        "the VNC tab keeps its picture"
    );
    println!("  a VNC and a SPICE VM open in two tabs, each with its picture");
    // Our VNC guest ends with `_vnc` here.
}
