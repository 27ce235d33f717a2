//! The VNC display on a real QEMU guest, through `virDomainOpenGraphicsFD` as the VM tab
//! does: the guest's known VGA picture pixel by pixel, keys typed in the widget reaching
//! the guest's shell (it runs `reboot`), the picture coming back after the reboot, and
//! the pointer in relative mode (the guest has a PS/2 mouse and no tablet).
//!
//! Needs root, QEMU and the test guest of the test bed (`tests/guest/build.sh`, built in
//! `$VIREO_GUEST_DIR` or `<target>/guest`); without them it says SKIPPED and passes
//! (fails with CI=true). Uses libvirt's embedded QEMU driver: no daemon.
//!
//! Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_qemu

#[path = "common/console.rs"]
mod console;
mod vnc_support;

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use console::SerialConsole;
use gtk::prelude::*;
use vireo::ui::console::{ConsoleState, ScaleMode, VncDisplay};
use vnc_support::*;

/// The guest's VGA text screen once ready (see tests/guest/build.sh).
const VGA_SIZE: (i32, i32) = (720, 400);
/// (x, y, RGB) of the ready guest's picture: blue, red, green, grey bands, black shell.
const VGA_PIXELS: [(usize, usize, [u8; 3]); 6] = [
    (5, 5, [0, 0, 168]),
    (100, 40, [168, 0, 0]),
    (100, 100, [0, 168, 0]),
    (100, 170, [168, 168, 168]),
    (100, 250, [0, 0, 168]),
    (600, 380, [0, 0, 0]),
];
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    if let Err(why) = prerequisites() {
        println!("!!!!! vnc_qemu: SKIPPED (all tests): {why} !!!!!");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            std::process::exit(1);
        }
        println!("0 passed, 0 failed");
        return;
    }
    run_cases(&[
        (
            "guest_picture_keys_and_reboot",
            guest_picture_keys_and_reboot,
        ),
        (
            "relative_pointer_moves_the_guest_mouse",
            relative_pointer_moves_the_guest_mouse,
        ),
    ]);
}

fn guest_dir() -> PathBuf {
    std::env::var_os("VIREO_GUEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
            target.join("guest")
        })
}

fn prerequisites() -> Result<(), String> {
    if unsafe { libc_geteuid() } != 0 {
        return Err("needs root (embedded QEMU driver)".into());
    }
    if std::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("no qemu-system-x86_64".into());
    }
    for f in ["vmlinuz", "initrd.gz"] {
        if !guest_dir().join(f).is_file() {
            return Err(format!(
                "no test guest in {} (tests/guest/build.sh, or set VIREO_GUEST_DIR)",
                guest_dir().display()
            ));
        }
    }
    Ok(())
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// An embedded QEMU driver root with one transient guest, destroyed on drop.
struct EmbeddedGuest {
    conn: Option<virt::connect::Connect>,
    domain: Option<virt::domain::Domain>,
    /// Its serial console, opened at once so that nothing the guest prints is missed.
    serial: Option<SerialConsole>,
    root: PathBuf,
}

impl EmbeddedGuest {
    fn start() -> Result<Self, String> {
        let root = std::env::temp_dir().join(format!("vireo-vnc-qemu-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc")).map_err(|e| e.to_string())?;
        // QEMU as root without relabelling, and writing its own logs: there is no
        // system virtlogd for a daemon-less test to ask.
        std::fs::write(
            root.join("etc/qemu.conf"),
            "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\nstdio_handler = \"file\"\n",
        )
        .map_err(|e| e.to_string())?;
        virt::error::clear_error_callback();
        let _ = virt::event::event_register_default_impl();
        let conn =
            virt::connect::Connect::open(Some(&format!("qemu:///embed?root={}", root.display())))
                .map_err(|e| format!("embedded driver: {e}"))?;
        let dir = guest_dir();
        let xml = format!(
            "<domain type='qemu'><name>vireo-test-vnc-{pid}</name>\
             <memory unit='MiB'>192</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64' machine='pc'>hvm</type>\
             <kernel>{kernel}</kernel><initrd>{initrd}</initrd>\
             <cmdline>console=tty0 console=ttyS0</cmdline></os>\
             <features><acpi/><apic/></features><clock offset='utc'/>\
             <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>\
             <devices><serial type='pty'><target port='0'/></serial>\
             <input type='keyboard' bus='ps2'/>\
             <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\
             <video><model type='vga'/></video></devices></domain>",
            pid = std::process::id(),
            kernel = dir.join("vmlinuz").display(),
            initrd = dir.join("initrd.gz").display(),
        );
        let mut guest = Self {
            conn: Some(conn),
            domain: None,
            serial: None,
            root,
        };
        let domain = guest
            .conn
            .as_ref()
            .ok_or("no connection")?
            .create_domain_xml(&xml, 0)
            .map_err(|e| format!("create domain: {e}"))?;
        let uuid = domain.uuid_string().map_err(|e| e.to_string())?;
        guest.domain = Some(domain);
        guest.serial = Some(SerialConsole::open(
            guest.conn.as_ref().ok_or("no connection")?,
            &uuid,
        )?);
        Ok(guest)
    }

    fn serial(&self) -> Result<&SerialConsole, String> {
        self.serial
            .as_ref()
            .ok_or_else(|| "no serial console".into())
    }

    /// A socket to the guest's VNC server, as the VM tab gets it.
    fn graphics_fd(&self) -> Result<OwnedFd, String> {
        let fd = self
            .domain
            .as_ref()
            .ok_or("no domain")?
            .open_graphics_fd(0, 0)
            .map_err(|e| format!("virDomainOpenGraphicsFD: {e}"))?;
        // SAFETY: libvirt hands the new descriptor over to the caller.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }
}

impl Drop for EmbeddedGuest {
    fn drop(&mut self) {
        self.serial = None;
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
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// True when the display shows the ready guest's picture.
fn shows_ready_picture(display: &VncDisplay) -> bool {
    let Some(shot) = display.screenshot_texture() else {
        return false;
    };
    if (shot.width(), shot.height()) != VGA_SIZE {
        return false;
    }
    let bytes = texture_bytes(&shot);
    VGA_PIXELS.iter().all(|&(x, y, rgb)| {
        let i = (y * VGA_SIZE.0 as usize + x) * 4;
        // Downloaded as BGRA.
        [bytes[i + 2], bytes[i + 1], bytes[i]] == rgb
    })
}

/// A window with a display on `guest`, once it shows the guest's ready picture.
fn show(guest: &EmbeddedGuest) -> Result<(gtk::Window, VncDisplay), String> {
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
    display.open_fd(guest.graphics_fd()?);
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

fn guest_picture_keys_and_reboot() -> Result<(), String> {
    let guest = EmbeddedGuest::start()?;
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
fn relative_pointer_moves_the_guest_mouse() -> Result<(), String> {
    let guest = EmbeddedGuest::start()?;
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
