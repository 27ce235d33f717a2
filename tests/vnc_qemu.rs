//! The VNC display on a real QEMU guest, with the socket the VM tab gets (the model's
//! `open_graphics`: `virDomainOpenGraphicsFD`): the guest's known VGA picture pixel by
//! pixel, keys typed in the widget reaching the guest's shell (it runs `reboot`), the
//! picture coming back after the reboot, and the pointer in relative mode (the guest
//! has a PS/2 mouse and no tablet). Each case runs twice: on the private daemon's
//! `qemu:///system`, where the socket crosses libvirt's RPC as it does for a person's
//! VMs, and on libvirt's embedded QEMU driver; each in a process of its own (one
//! embedded driver per process, and once it is open libvirt routes every `qemu:///`
//! URI to it).
//!
//! Needs root, QEMU, libvirtd and the test guest of the test bed
//! (`tests/kit/testbed.rs`, which builds it and starts the daemon); without them it
//! says SKIPPED and passes (fails with CI=true).
//!
//! Run: isolate.sh xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_qemu

mod kit;

use std::time::Duration;

use gtk::prelude::*;
use kit::console::SerialConsole;
use kit::testbed::{daemon, embed_root, Boot, Guest, Need, SystemDaemon};
use kit::vnc::move_pointer_to;
use kit::x11::xdotool;
use kit::{block_on, pump, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionObject, GraphicsEndpoint};
use vireo::ui::console::{ConsoleState, GuestDisplay, ScaleMode};
use vireo::virt::handles::release_connect;

const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    kit::testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![
        test("system_guest_picture_keys_and_reboot", || {
            guest_picture_keys_and_reboot(Host::System)
        })
        .limit(300),
        test("system_relative_pointer_moves_the_guest_mouse", || {
            relative_pointer_moves_the_guest_mouse(Host::System)
        })
        .limit(300),
        test("embed_guest_picture_keys_and_reboot", || {
            guest_picture_keys_and_reboot(Host::Embed)
        })
        .limit(300),
        test("embed_relative_pointer_moves_the_guest_mouse", || {
            relative_pointer_moves_the_guest_mouse(Host::Embed)
        })
        .limit(300),
    ]);
}

/// Where the guest runs.
#[derive(Clone, Copy, Debug)]
enum Host {
    /// libvirt's embedded QEMU driver, in this process (no daemon).
    Embed,
    /// The private daemon's `qemu:///system`: the socket crosses libvirt's RPC.
    System,
}

/// One transient test guest, destroyed on drop (the runner's cleanup kills what is
/// left of an embedded guest's QEMU and stops the daemon). It has a PS/2 mouse and no
/// tablet, so its pointer is in relative mode.
struct TestGuest {
    /// A main-thread connection: makes the domain and reads its serial console.
    conn: Option<virt::connect::Connect>,
    domain: Option<virt::domain::Domain>,
    /// The app's model on the same host: hands out the display's socket.
    model: ConnectionObject,
    uuid: String,
    /// Its serial console, opened at once so that nothing the guest prints is missed.
    serial: Option<SerialConsole>,
}

impl TestGuest {
    fn start(host: Host) -> Result<Self, String> {
        let uri = match host {
            Host::Embed => embed_root().uri(),
            Host::System => {
                daemon();
                SystemDaemon::URI.to_owned()
            }
        };
        virt::error::clear_error_callback();
        let _ = virt::event::event_register_default_impl();
        let conn = virt::connect::Connect::open(Some(&uri)).map_err(|e| format!("{uri}: {e}"))?;
        let name = format!("vireo-test-vnc-{}", std::process::id());
        let xml = Guest::get()?.domain_xml(&name, Boot::Kernel, None);
        let model = kit::model::connect(&uri);
        model.set_stats_interval(0);
        let mut guest = Self {
            conn: Some(conn),
            domain: None,
            model,
            uuid: String::new(),
            serial: None,
        };
        let domain = guest
            .conn
            .as_ref()
            .ok_or("no connection")?
            .create_domain_xml(&xml, 0)
            .map_err(|e| format!("create domain: {e}"))?;
        guest.uuid = domain.uuid_string().map_err(|e| format!("uuid: {e}"))?;
        guest.domain = Some(domain);
        guest.serial = Some(SerialConsole::open(
            guest.conn.as_ref().ok_or("no connection")?,
            &guest.uuid,
        )?);
        let (model, uuid) = (&guest.model, &guest.uuid);
        wait_until("the model lists the guest", EVENT, || {
            model.domains().by_uuid(uuid).is_some()
        });
        Ok(guest)
    }

    fn serial(&self) -> Result<&SerialConsole, String> {
        self.serial
            .as_ref()
            .ok_or_else(|| "no serial console".into())
    }

    /// Opens `display` on the guest the way the VM tab does.
    fn open_display(&self, display: &GuestDisplay) -> Result<(), String> {
        let domain = self
            .model
            .domains()
            .by_uuid(&self.uuid)
            .ok_or("the guest is not listed")?;
        match block_on(self.model.open_graphics(&domain))
            .map_err(|e| format!("open_graphics: {e}"))?
            .endpoint
        {
            GraphicsEndpoint::Socket(fd) => display.open_fd(fd),
            GraphicsEndpoint::Address(host, port) => {
                return Err(format!("no socket from libvirt (address {host}:{port})"))
            }
            GraphicsEndpoint::Tunnel(..) => {
                return Err("an SSH channel for a VM on this machine".into())
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
            kit::model::destroy_and_release(domain);
        }
        if let Some(conn) = self.conn.take() {
            release_connect(conn);
        }
    }
}

/// True when the display shows the ready guest's picture.
fn shows_ready_picture(display: &GuestDisplay) -> bool {
    kit::vnc::shows_guest_picture(display, &[])
}

/// A window with a display on `guest`, once it shows the guest's ready picture.
fn show(guest: &TestGuest) -> Result<(gtk::Window, GuestDisplay), String> {
    let display = GuestDisplay::new();
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
    wait_until("connected", Duration::from_secs(20), || {
        if display.state() == ConsoleState::Connected {
            Ok(())
        } else {
            Err(format!("state {:?}", display.state()))
        }
    });
    wait_until("the guest's ready picture", BOOT_TIMEOUT, || {
        shows_ready_picture(&display)
    });
    Ok((window, display))
}

fn guest_picture_keys_and_reboot(host: Host) -> Result<(), String> {
    let guest = TestGuest::start(host)?;
    let (window, display) = show(&guest)?;

    // Typed on the VGA console's shell: the guest reboots, its picture goes away...
    display.type_text("reboot\n");
    wait_until(
        "the guest reacts to the keys typed (reboot: the picture goes)",
        Duration::from_secs(60),
        || !shows_ready_picture(&display),
    );
    // ...and the same display shows it again once the guest is back.
    wait_until("the picture back after the reboot", BOOT_TIMEOUT, || {
        shows_ready_picture(&display)
    });
    let state = display.state();
    window.destroy();
    if state != ConsoleState::Connected {
        return Err(format!("after the reboot: state {state:?}"));
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
    display: &GuestDisplay,
) -> Result<(), String> {
    // The marker is computed so that the echo of the command line does not match it.
    serial.send("echo VIREO-MICE-$((6*7)); od -An -td1 -w3 -v /dev/input/mice\n")?;
    wait_until(
        "the guest's mouse reader starts",
        Duration::from_secs(20),
        || {
            if serial.count_lines(MICE_MARKER) == 1 {
                Ok(())
            } else {
                Err(format!("its console:\n{}", serial.text()))
            }
        },
    );
    // Entering the display only sets where motion is measured from.
    move_pointer_to(window, display, 200.0, 100.0)?;
    pump(Duration::from_millis(500));
    let start = mouse_motion(&serial.text());
    xdotool(&["mousemove_relative", "--", "30", "20"]);
    // PS/2 counts y upwards.
    let moved = (start.0 + 30, start.1 - 20);
    wait_until(
        "the guest's mouse moved 30 right and 20 down",
        Duration::from_secs(10),
        || {
            let now = mouse_motion(&serial.text());
            if now == moved {
                Ok(())
            } else {
                Err(format!(
                    "it went from {start:?} to {now:?}, not {moved:?}; its console:\n{}",
                    serial.text()
                ))
            }
        },
    );
    xdotool(&["click", "4"]);
    xdotool(&["click", "5"]);
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
