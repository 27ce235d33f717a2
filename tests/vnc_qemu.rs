//! The VNC display on a real QEMU guest, with the socket the VM tab gets (the model's
//! `open_graphics`: `virDomainOpenGraphicsFD`): the guest's known VGA picture pixel by
//! pixel, keys typed in the widget reaching the guest's shell (it runs `reboot`), the
//! picture coming back after the reboot, and the pointer in relative mode (the guest
//! has a PS/2 mouse and no tablet). Each case runs twice: on libvirt's embedded QEMU
//! driver, and on the private daemon's `qemu:///system`, where the socket crosses
//! libvirt's RPC as it does for a person's VMs.
//!
//! Needs root, QEMU and the test guest of the test bed (`tests/common/testbed.rs`, which
//! builds it and starts the daemon); without them it says SKIPPED and passes (fails
//! with CI=true).
//!
//! Run: isolate.sh xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_qemu

mod common;
mod vnc_support;

use std::time::Duration;

use common::console::SerialConsole;
use common::testbed::{Boot, EmbedRoot, Guest, SystemDaemon, VGA_PIXELS, VGA_SIZE};
use gtk::prelude::*;
use vireo::model::{ConnectionObject, ConnectionState, GraphicsEndpoint};
use vireo::ui::console::{ConsoleState, ScaleMode, VncDisplay};
use vnc_support::*;

const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    if let Some(why) = common::testbed::unavailable(true) {
        common::skip_or_fail("vnc_qemu", &why);
    }
    if let Some(why) = SystemDaemon::foreign_daemon() {
        common::skip_or_fail("vnc_qemu", &why);
    }
    if let Err(why) = Guest::get() {
        common::skip_or_fail("vnc_qemu", &why);
    }
    let daemon = SystemDaemon::start();
    // The daemon's cases first: once an embedded driver is open in a process, libvirt
    // routes every qemu:/// URI to it ("Missing URI parameter 'root'").
    let failed = run_selected_cases(&[
        ("system_guest_picture_keys_and_reboot", || {
            guest_picture_keys_and_reboot(Host::System)
        }),
        ("system_relative_pointer_moves_the_guest_mouse", || {
            relative_pointer_moves_the_guest_mouse(Host::System)
        }),
        ("embed_guest_picture_keys_and_reboot", || {
            guest_picture_keys_and_reboot(Host::Embed)
        }),
        ("embed_relative_pointer_moves_the_guest_mouse", || {
            relative_pointer_moves_the_guest_mouse(Host::Embed)
        }),
    ]);
    drop(daemon);
    std::process::exit(if failed > 0 { 1 } else { 0 });
}

/// Where the guest runs.
#[derive(Clone, Copy, Debug)]
enum Host {
    /// libvirt's embedded QEMU driver, in this process (no daemon).
    Embed,
    /// The private daemon's `qemu:///system`: the socket crosses libvirt's RPC.
    System,
}

/// One transient test guest, destroyed on drop.
struct TestGuest {
    /// A main-thread connection: makes the domain and reads its serial console.
    conn: Option<virt::connect::Connect>,
    domain: Option<virt::domain::Domain>,
    /// The app's model on the same host: hands out the display's socket.
    model: ConnectionObject,
    uuid: String,
    /// Its serial console, opened at once so that nothing the guest prints is missed.
    serial: Option<SerialConsole>,
    /// Dropped last: it kills what is left of an embedded guest's QEMU.
    _root: Option<EmbedRoot>,
}

impl TestGuest {
    /// A guest with a PS/2 mouse and no tablet (its pointer is in relative mode).
    fn start(host: Host) -> Result<Self, String> {
        let root = matches!(host, Host::Embed).then(|| EmbedRoot::new("vnc"));
        let uri = root
            .as_ref()
            .map_or(SystemDaemon::URI.to_owned(), EmbedRoot::uri);
        virt::error::clear_error_callback();
        let _ = virt::event::event_register_default_impl();
        let conn = virt::connect::Connect::open(Some(&uri)).map_err(|e| format!("{uri}: {e}"))?;
        let name = format!("vireo-test-vnc-{}", std::process::id());
        let xml = Guest::get()?.domain_xml(&name, Boot::Kernel, None);
        let model = ConnectionObject::new(&uri);
        model.set_stats_interval(0);
        let mut guest = Self {
            conn: Some(conn),
            domain: None,
            model,
            uuid: String::new(),
            serial: None,
            _root: root,
        };
        let domain = guest
            .conn
            .as_ref()
            .ok_or("no connection")?
            .create_domain_xml(&xml, 0)
            .map_err(|e| format!("create domain: {e}"))?;
        guest.uuid = domain.uuid_string().map_err(|e| format!("uuid: {e}"))?;
        guest.domain = Some(domain);
        guest.serial = Some(
            SerialConsole::open(guest.conn.as_ref().ok_or("no connection")?, &guest.uuid)
                .map_err(|e| format!("serial console: {e}"))?,
        );
        guest.model.open();
        let model = &guest.model;
        let uuid = guest.uuid.clone();
        if !wait_until(Duration::from_secs(60), || {
            model.state() == ConnectionState::Connected && model.domains().by_uuid(&uuid).is_some()
        }) {
            return Err(format!("the model did not list the guest on {uri}"));
        }
        Ok(guest)
    }

    fn serial(&self) -> Result<&SerialConsole, String> {
        self.serial
            .as_ref()
            .ok_or_else(|| "no serial console".into())
    }

    /// Opens `display` on the guest the way the VM tab does.
    fn open_display(&self, display: &VncDisplay) -> Result<(), String> {
        let domain = self
            .model
            .domains()
            .by_uuid(&self.uuid)
            .ok_or("the guest is not listed")?;
        let endpoint = glib::MainContext::default()
            .block_on(self.model.open_graphics(&domain))
            .map_err(|e| format!("open_graphics: {e}"))?;
        match endpoint {
            GraphicsEndpoint::Socket(fd) => display.open_fd(fd),
            GraphicsEndpoint::Address(host, port) => {
                return Err(format!("no socket from libvirt (address {host}:{port})"))
            }
        }
        Ok(())
    }
}

impl Drop for TestGuest {
    fn drop(&mut self) {
        self.serial = None;
        self.model.close();
        if let Some(domain) = self.domain.take() {
            let _ = domain.destroy();
            // virt's Drop panics on libvirt errors: free explicitly, then forget.
            unsafe { virt::sys::virDomainFree(domain.as_ptr()) };
            std::mem::forget(domain);
        }
        if let Some(conn) = self.conn.take() {
            unsafe { virt::sys::virConnectClose(conn.as_ptr()) };
            std::mem::forget(conn);
        }
    }
}

/// True when the display shows the ready guest's picture.
fn shows_ready_picture(display: &VncDisplay) -> bool {
    let Some(shot) = display.screenshot_texture() else {
        return false;
    };
    if (shot.width() as u32, shot.height() as u32) != VGA_SIZE {
        return false;
    }
    let bytes = texture_bytes(&shot);
    VGA_PIXELS.iter().all(|&(x, y, rgb)| {
        let i = ((y * VGA_SIZE.0 + x) * 4) as usize;
        // Downloaded as BGRA.
        [bytes[i + 2], bytes[i + 1], bytes[i]] == rgb
    })
}

/// A window with a display on `guest`, once it shows the guest's ready picture.
fn show(guest: &TestGuest) -> Result<(gtk::Window, VncDisplay), String> {
    let display = VncDisplay::new();
    display.set_scale_mode(ScaleMode::OneToOne);
    // Room for the whole 720x400 picture at 1:1 (a window sized before the first frame
    // stays small and scrolls it).
    let window = gtk::Window::builder()
        .default_width(800)
        .default_height(480)
        .child(&display)
        .build();
    window.present();
    guest.open_display(&display)?;
    if !wait_until(Duration::from_secs(20), || {
        display.state() == ConsoleState::Connected
    }) {
        window.destroy();
        return Err(format!("not connected: {:?}", display.state()));
    }
    if !wait_until(BOOT_TIMEOUT, || shows_ready_picture(&display)) {
        window.destroy();
        return Err("the guest's ready picture never showed".into());
    }
    Ok((window, display))
}

fn guest_picture_keys_and_reboot(host: Host) -> Result<(), String> {
    let guest = TestGuest::start(host)?;
    let (window, display) = show(&guest)?;

    // Typed on the VGA console's shell: the guest reboots, its picture goes away...
    display.type_text("reboot\n");
    let left = wait_until(Duration::from_secs(60), || !shows_ready_picture(&display));
    if !left {
        window.destroy();
        return Err("the guest did not react to the keys typed (no reboot)".into());
    }
    // ...and the same display shows it again once the guest is back.
    let back = wait_until(BOOT_TIMEOUT, || shows_ready_picture(&display));
    let state = display.state();
    window.destroy();
    if !back || state != ConsoleState::Connected {
        return Err(format!("after the reboot: picture {back}, state {state:?}"));
    }
    Ok(())
}

/// Without a tablet the guest has only its PS/2 mouse, so the display sends motion, not
/// positions. The guest's shell prints every packet of /dev/input/mice on the serial
/// console: pointer moves must arrive as the same motion, and the wheel as none.
fn relative_pointer_moves_the_guest_mouse(host: Host) -> Result<(), String> {
    let guest = TestGuest::start(host)?;
    let (window, display) = show(&guest)?;
    let result = relative_pointer_checks(guest.serial()?, &window, &display);
    window.destroy();
    result
}

fn relative_pointer_checks(
    serial: &SerialConsole,
    window: &gtk::Window,
    display: &VncDisplay,
) -> Result<(), String> {
    // The marker is computed so that the echo of the command line does not match it.
    serial.send("echo VIREO-MICE-$((6*7)); od -An -td1 -w3 -v /dev/input/mice\n")?;
    if !wait_until(Duration::from_secs(20), || {
        serial.count_lines(MICE_MARKER) == 1
    }) {
        return Err(format!(
            "the guest's mouse reader did not start:\n{}",
            serial.text()
        ));
    }
    // Entering the display only sets where motion is measured from.
    move_pointer_to(window, display, 200.0, 100.0)?;
    pump(Duration::from_millis(500));
    let start = mouse_motion(&serial.text());
    xdotool(&["mousemove_relative", "--", "30", "20"])?;
    // PS/2 counts y upwards.
    let moved = (start.0 + 30, start.1 - 20);
    if !wait_until(Duration::from_secs(10), || {
        mouse_motion(&serial.text()) == moved
    }) {
        return Err(format!(
            "moving 30 right and 20 down: the guest's mouse went from {start:?} to {:?}, \
             not {moved:?}; its console:\n{}",
            mouse_motion(&serial.text()),
            serial.text()
        ));
    }
    xdotool(&["click", "4"])?;
    xdotool(&["click", "5"])?;
    pump(Duration::from_millis(1500));
    let after_wheel = mouse_motion(&serial.text());
    if after_wheel != moved {
        return Err(format!(
            "the wheel moved the guest's mouse from {moved:?} to {after_wheel:?}"
        ));
    }
    Ok(())
}

const MICE_MARKER: &str = "VIREO-MICE-42";

/// The sum of the (x, y) motion in the PS/2 packets printed after `MICE_MARKER`, one per
/// line as `od -td1` shows them: flags, x, y.
fn mouse_motion(console: &str) -> (i32, i32) {
    console
        .lines()
        .skip_while(|l| l.trim_end() != MICE_MARKER)
        .filter_map(|l| {
            let v: Vec<i32> = l
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            (v.len() == 3).then(|| (v[1], v[2]))
        })
        .fold((0, 0), |(x, y), (dx, dy)| (x + dx, y + dy))
}
