//! A SPICE VM's console in Vireo's VM tab, opened the way a person opens it: the
//! application started as `vireo --connect URI --show-domain-console NAME`, the test
//! guest running with `<graphics type='spice'>` and a QXL card. The tab's display
//! shows the guest's known VGA picture (pixel check), keys typed on the X keyboard
//! into the window reach the guest's shell (it echoes to the serial console, read
//! here), the picture comes back after the guest reboots, and the header's
//! information button says what is missing without the guest agent. Once on the
//! private daemon's `qemu:///system` (where every channel's socket crosses libvirt's
//! RPC), then with a VNC VM opened beside it in a second tab; once on
//! `qemu:///embed`. Screenshots (light and dark) go to `target/screenshots/`.
//!
//! Needs root, QEMU, libvirtd and the test guest (built by the kit), a display;
//! without them it says SKIPPED and passes (fails with CI=true).
//!
//! Run: isolate.sh xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test spice_console
// A harness, not the app: it calls libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

mod kit;

use gtk::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::console::SerialConsole;
use kit::screen::save_png;
use kit::testbed::{
    daemon, embed_root, Boot, Guest, Need, SystemDaemon, READY_LINE, VGA_PIXELS, VGA_SIZE,
};
use kit::vnc::texture_bytes;
use kit::x11::type_text;
use kit::{settle, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::DomainObject;
use vireo::ui::console::{ConsoleState, VncDisplay};
use vireo::ui::{VireoWindow, VmPage};

fn main() {
    kit::testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![
        test("system_spice_tab_and_a_vnc_tab_beside_it", || {
            spice_tab(Host::System, true)
        })
        .limit(420),
        test("embed_spice_tab", || spice_tab(Host::Embed, false)).limit(300),
    ]);
}

#[derive(Clone, Copy, Debug)]
enum Host {
    System,
    Embed,
}

/// A guest started on `uri` for this test, destroyed when dropped.
struct Running {
    conn: virt::connect::Connect,
    domain: Option<virt::domain::Domain>,
    serial: Option<SerialConsole>,
}

impl Running {
    fn start(uri: &str, xml: &str) -> Running {
        let conn = virt::connect::Connect::open(Some(uri)).expect("connect");
        let domain = conn.create_domain_xml(xml, 0).expect("start the guest");
        let uuid = domain.uuid_string().expect("uuid");
        let serial = SerialConsole::open(&conn, &uuid).expect("serial console");
        Running {
            conn,
            domain: Some(domain),
            serial: Some(serial),
        }
    }

    fn serial(&self) -> &SerialConsole {
        self.serial.as_ref().expect("serial console")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.serial = None;
        if let Some(domain) = self.domain.take() {
            let _ = domain.destroy();
            // virt's Drop panics on libvirt errors: free explicitly, then forget.
            unsafe { virt::sys::virDomainFree(domain.as_ptr()) };
            std::mem::forget(domain);
        }
        unsafe { virt::sys::virConnectClose(self.conn.as_ptr()) };
    }
}

/// True when `display` shows the ready guest's VGA picture, left and right edges.
fn shows_ready_picture(display: &VncDisplay) -> bool {
    let Some(shot) = display.screenshot_texture() else {
        return false;
    };
    if (shot.width() as u32, shot.height() as u32) != VGA_SIZE {
        return false;
    }
    let bytes = texture_bytes(&shot);
    // The bed's points are on the left; a screen updated only in part must not pass.
    let right_edge = [
        (715, 40, [168, 0, 0]),
        (715, 100, [0, 168, 0]),
        (715, 250, [0, 0, 168]),
    ];
    VGA_PIXELS.iter().chain(&right_edge).all(|&(x, y, rgb)| {
        let i = ((y * VGA_SIZE.0 + x) * 4) as usize;
        // Downloaded as BGRA.
        [bytes[i + 2], bytes[i + 1], bytes[i]] == rgb
    })
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
    let display = page.vnc_display();
    wait_until("the tab's display connects", BOOT, || {
        (display.state() == ConsoleState::Connected).then_some(())
    });
    assert!(display.is_session(), "a SPICE VM gets a SPICE session");
    wait_until("the guest's ready picture in the tab", BOOT, || {
        shows_ready_picture(&display)
    });
    println!("  {host:?}: the SPICE tab shows the guest's picture");

    // The busybox guest has no spice-vdagent: the header says what that costs.
    wait_until("the display notes the missing agent", EVENT, || {
        display.notes().contains("spice-vdagent")
    });
    settle();
    let info = find_widgets::<gtk::MenuButton>(&page)
        .into_iter()
        .find(|b| b.icon_name().as_deref() == Some("dialog-information-symbolic"))
        .expect("the display's information button");
    assert!(info.is_visible(), "the information button shows");
    let tooltip = info.tooltip_text().unwrap_or_default();
    assert!(
        tooltip.contains("spice-vdagent") && tooltip.contains("USB"),
        "the tooltip says what is missing: {tooltip}"
    );
    let tag = match host {
        Host::System => "system",
        Host::Embed => "embed",
    };
    save_png(&window, &format!("spice-tab-{tag}-light.png"));
    let style = adw::StyleManager::default();
    style.set_color_scheme(adw::ColorScheme::ForceDark);
    save_png(&window, &format!("spice-tab-{tag}-dark.png"));
    style.set_color_scheme(adw::ColorScheme::Default);

    // Keys on the X keyboard into the window: the display takes the keyboard, the VGA
    // console's shell runs the line and writes to the serial port.
    display.grab_focus();
    wait_until("the display takes the keyboard", EVENT, || {
        display.keyboard_grabbed()
    });
    type_text(&window, "echo vireo-tab-$((6*7)) >/dev/ttyS0\n");
    wait_until("the typed command's output on ttyS0", EVENT, || {
        spice.serial().text().contains("vireo-tab-42")
    });
    println!("  {host:?}: keys typed in the tab reached the guest's shell");

    // The guest reboots: the picture goes, then comes back in the same tab.
    type_text(&window, "reboot\n");
    wait_until("the picture changes with the reboot", EVENT * 3, || {
        !shows_ready_picture(&display)
    });
    wait_until("the ready picture after the reboot", BOOT, || {
        spice.serial().count_lines(READY_LINE) >= 2 && shows_ready_picture(&display)
    });
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
    spice_display: &VncDisplay,
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
    let display = page.vnc_display();
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
