//! The SPICE session (`vireo::display_protocol::spice`) on a real QEMU guest, through
//! sockets from `virDomainOpenGraphicsFD` as the VM tab gets them (one per channel):
//! the guest's known VGA picture in the primary surface, keys sent as scancodes
//! reaching the VGA console's shell (which writes to the serial console, read here),
//! the picture coming back after the guest reboots, and the session's end when the
//! guest is destroyed. Once on `qemu:///embed` with a VGA card, once on the private
//! daemon's `qemu:///system` with QXL (virt-manager's card for SPICE VMs), where
//! every socket crosses libvirt's RPC.
//!
//! No widget and no display server: the session is GTK-free. Each case in a process of
//! its own (once the embedded QEMU driver is loaded in a process, libvirt sends every
//! `qemu:///` URI to it).
//! Needs root, QEMU, libvirtd and the test guest (built by the kit); without them it
//! says SKIPPED and passes (fails with CI=true).
//! Run: isolate.sh cargo test --test spice_qemu

mod kit;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kit::console::SerialConsole;
use kit::testbed::{
    daemon, embed_root, Guest, Need, SystemDaemon, READY_LINE, VGA_PIXELS, VGA_SIZE,
};
use kit::{pump, test, wait_until, Runner, BOOT};
use vireo::display_protocol::spice::{SessionOptions, SocketSource, SpiceSession};
use vireo::display_protocol::{
    AgentState, DisplaySession, PointerMode, SessionError, SessionEvent,
};

const QUICK: Duration = Duration::from_secs(20);

fn main() {
    kit::testbed::require(&[Need::Qemu, Need::Daemon, Need::Guest]);
    Runner::new().fresh_process().run(vec![
        test("system_qxl", system_qxl).limit(300),
        test("embed_vga", embed_vga).limit(300),
    ]);
}

fn embed_vga() {
    let conn = virt::connect::Connect::open(Some(&embed_root().uri())).expect("embedded driver");
    picture_keys_reboot(&conn, "vireo-test-spice-embed", "vga");
    drop(conn);
}

fn system_qxl() {
    daemon();
    let conn = virt::connect::Connect::open(Some(SystemDaemon::URI)).expect("qemu:///system");
    picture_keys_reboot(&conn, "vireo-test-spice-system", "qxl");
    drop(conn);
}

/// The test guest's XML with SPICE graphics and the `video` card.
fn spice_xml(name: &str, video: &str) -> String {
    Guest::get().expect("guest").spice_domain_xml(name, video)
}

/// What the session reported, damage counted rather than kept.
#[derive(Default)]
struct Seen {
    events: Vec<SessionEvent>,
    damage: u64,
}

fn record(session: &SpiceSession) -> Rc<RefCell<Seen>> {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let s = seen.clone();
    session.connect_event(Box::new(move |event| {
        let mut seen = s.borrow_mut();
        match event {
            SessionEvent::Damage(_) => seen.damage += 1,
            other => seen.events.push(other.clone()),
        }
    }));
    seen
}

/// The bands at the right edge too (the test bed's points are all on the left): a
/// screen updated only in part must not pass for the ready picture.
const RIGHT_EDGE: [(u32, u32, [u8; 3]); 4] = [
    (715, 40, [168, 0, 0]),
    (715, 100, [0, 168, 0]),
    (715, 170, [168, 168, 168]),
    (715, 250, [0, 0, 168]),
];

/// True when the session's screen is the ready guest's VGA picture.
fn shows_ready_picture(session: &SpiceSession) -> bool {
    let mut ok = false;
    session.with_pixels(&mut |p| {
        ok = (p.width as u32, p.height as u32) == VGA_SIZE
            && VGA_PIXELS
                .iter()
                .chain(&RIGHT_EDGE)
                .all(|&(x, y, rgb)| p.rgb(x as usize, y as usize) == Some(rgb));
    });
    ok
}

fn picture_keys_reboot(conn: &virt::connect::Connect, name: &str, video: &str) {
    let domain = conn
        .create_domain_xml(&spice_xml(name, video), 0)
        .expect("start the SPICE guest");
    let uuid = domain.uuid_string().expect("uuid");
    let serial = SerialConsole::open(conn, &uuid).expect("serial console");

    // Every channel gets its own socket from libvirt, as the VM tab's source will.
    let sockets_given = Rc::new(RefCell::new(0u32));
    let source: SocketSource = {
        let (conn, uuid, given) = (conn.clone(), uuid.clone(), sockets_given.clone());
        Rc::new(move || {
            *given.borrow_mut() += 1;
            let fd =
                vireo::virt::graphics::open_graphics_fd(&conn, &uuid).map_err(|e| e.to_string());
            Box::pin(async move { fd })
        })
    };
    let session = SpiceSession::new(SessionOptions {
        share_clipboard: true,
        local: true,
    });
    let seen = record(&session);
    let fd = vireo::virt::graphics::open_graphics_fd(conn, &uuid).expect("graphics socket");
    session.open_socket(fd, source).expect("open the session");

    let started = Instant::now();
    wait_until("the session is connected", QUICK, || {
        seen.borrow().events.contains(&SessionEvent::Connected)
    });
    wait_until("the guest's ready VGA picture", BOOT, || {
        shows_ready_picture(&session)
    });
    let t = started.elapsed();
    println!(
        "  {video}: ready picture after {:.1} s; {} channel sockets, {} damage rects",
        t.as_secs_f64(),
        sockets_given.borrow(),
        seen.borrow().damage
    );
    assert!(
        *sockets_given.borrow() >= 2,
        "display and inputs channels asked for their own sockets"
    );
    assert!(
        seen.borrow()
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::SurfaceCreated { .. })),
        "a primary surface was reported"
    );
    assert!(seen.borrow().damage > 0, "damage was reported");
    save_png(&session, &format!("spice-{video}-ready.png"));

    // The busybox guest has no spice-vdagent and only a PS/2 mouse: the session says
    // so instead of pretending.
    assert_eq!(session.agent(), AgentState::default(), "no agent");
    assert_eq!(
        session.resize_guest(1024, 768),
        Err(SessionError::NoAgent),
        "resizing needs the agent"
    );
    assert_eq!(session.send_clipboard("x"), Err(SessionError::NoAgent));
    assert_eq!(
        session.pointer_mode(),
        PointerMode::Relative,
        "server mouse mode"
    );

    // Keys typed on the VGA console's shell: its output goes to the serial console
    // (after the serial shell's prompt), where the typed line itself never shows.
    // The inputs channel and the VGA console's shell can come up after the picture,
    // and keys sent before then are lost: the line is typed again (on a fresh line)
    // every 5 s until its output shows.
    let mut typed: Option<Instant> = None;
    wait_until("the typed command's output on ttyS0", QUICK * 3, || {
        if serial.text().contains("vireo-spice-42") {
            return true;
        }
        if typed.map_or(true, |t| t.elapsed() > Duration::from_secs(5)) {
            if typed.is_some() {
                println!("  no output yet: typing the line again");
            }
            type_text(&session, "\necho vireo-spice-$((6*7)) >/dev/ttyS0\n");
            typed = Some(Instant::now());
        }
        false
    });

    // The guest reboots: its picture goes, then comes back on the same session.
    type_text(&session, "reboot\n");
    let rebooted = Instant::now();
    wait_until("the picture to change with the reboot", QUICK * 3, || {
        !shows_ready_picture(&session)
    });
    wait_until("the ready picture after the reboot", BOOT, || {
        serial.count_lines(READY_LINE) >= 2 && shows_ready_picture(&session)
    });
    let t = rebooted.elapsed();
    println!(
        "  {video}: picture back {:.1} s after the reboot began",
        t.as_secs_f64()
    );
    save_png(&session, &format!("spice-{video}-rebooted.png"));
    assert!(
        !seen
            .borrow()
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_))),
        "the session lived through the reboot"
    );

    // The guest is destroyed (on another thread, as the app's worker does, so the main
    // loop runs meanwhile): the session ends at once, with a reason.
    let t = Instant::now();
    let destroyed = {
        let (conn, uuid) = (conn.clone(), uuid.clone());
        std::thread::spawn(move || {
            conn.lookup_domain_by_uuid_string(&uuid)
                .and_then(|d| d.destroy())
                .map_err(|e| e.to_string())
        })
    };
    wait_until("the session's end", QUICK, || {
        seen.borrow()
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_)))
    });
    let reason = seen.borrow().events.iter().find_map(|e| match e {
        SessionEvent::Disconnected(r) => Some(r.clone()),
        _ => None,
    });
    println!(
        "  {video}: ended {:.1} s after destroy began: {reason:?}",
        t.elapsed().as_secs_f64()
    );
    // (Generous: where nothing reaps the dead QEMU, as under an isolate.sh that ran
    // its command as PID 1, libvirt waits ~80 s for the zombie to go.)
    wait_until("the domain destroyed", QUICK * 6, || {
        destroyed.is_finished()
    });
    destroyed.join().expect("destroy thread").expect("destroy");
    drop(session);
    drop(serial);
    pump(Duration::from_millis(100));
}

/// Writes the session's screen to `target/screenshots/NAME`, for people to look at.
fn save_png(session: &SpiceSession, name: &str) {
    let dir = kit::screen::screenshot_dir();
    session.with_pixels(&mut |p| {
        let mut rgb = Vec::with_capacity(p.width * p.height * 3);
        for y in 0..p.height {
            for x in 0..p.width {
                rgb.extend_from_slice(&p.rgb(x, y).unwrap_or_default());
            }
        }
        let pixbuf = gtk::gdk_pixbuf::Pixbuf::from_bytes(
            &glib::Bytes::from_owned(rgb),
            gtk::gdk_pixbuf::Colorspace::Rgb,
            false,
            8,
            p.width as i32,
            p.height as i32,
            p.width as i32 * 3,
        );
        if let Err(e) = pixbuf.savev(dir.join(name), "png", &[]) {
            eprintln!("  could not save {name}: {e}");
        }
    });
}

/// XT scancode (qnum) and Shift of a character on a US keyboard, for the test's text.
fn us_key(c: char) -> Option<(u16, bool)> {
    const ROWS: [(&str, u16); 4] = [
        ("1234567890-=", 0x02),
        ("qwertyuiop[]", 0x10),
        ("asdfghjkl;'", 0x1e),
        ("zxcvbnm,./", 0x2c),
    ];
    const SHIFTED: [(&str, u16); 4] = [
        ("!@#$%^&*()_+", 0x02),
        ("QWERTYUIOP{}", 0x10),
        ("ASDFGHJKL:\"", 0x1e),
        ("ZXCVBNM<>?", 0x2c),
    ];
    match c {
        ' ' => return Some((0x39, false)),
        '\n' => return Some((0x1c, false)),
        _ => {}
    }
    for (table, shift) in [(ROWS, false), (SHIFTED, true)] {
        for (row, first) in table {
            if let Some(i) = row.chars().position(|k| k == c) {
                return Some((first + i as u16, shift));
            }
        }
    }
    None
}

/// Types `text` as key presses through the session's inputs channel.
fn type_text(session: &SpiceSession, text: &str) {
    const SHIFT: u16 = 0x2a;
    for c in text.chars() {
        let (code, shift) = us_key(c).unwrap_or_else(|| panic!("no key for {c:?}"));
        if shift {
            session.key(true, 0, SHIFT);
        }
        session.key(true, 0, code);
        session.key(false, 0, code);
        if shift {
            session.key(false, 0, SHIFT);
        }
        pump(Duration::from_millis(15));
    }
}
