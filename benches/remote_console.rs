//! Remote host figures of issue 15, measured on the real `vireo` against the test
//! bed's remote host (`tests/testbed/remote-host.sh`: its own namespaces, sshd,
//! libvirtd and the test guest, reached over `qemu+ssh://`):
//!
//! - **tab to first frame**: one `vireo` connected to the host; the guest chosen in
//!   the list with a click, its tab opened with Ctrl+O and closed with Ctrl+W, again
//!   and again; the time from the key to the guest's picture on the X screen (its VGA
//!   bands). The display comes through an SSH channel to the host's loopback.
//! - **keepalive detection**: with the tab open, the host's network cut (its veth
//!   down): the time until the app shows the host lost (its probe's host state). No
//!   packet comes back, so only libvirt's keepalive can notice.
//! - **reconnection**: the network back: the time until the host is connected again,
//!   and until the guest's picture is back on screen.
//! - sshd killed (and its sessions): the time until the host shows lost, and the same
//!   two times after sshd is back.
//!
//! Prints each run and the medians: figures, not pass/fail (it fails only when the
//! app never gets there). `REMOTE_BENCH_OPENS` (default 10) and `REMOTE_BENCH_CUTS`
//! (default 5) set the rounds.
//!
//! Run as root under Xvfb with a session bus, in a private mount and PID namespace on
//! a shared machine:
//! `isolate.sh xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo bench --bench remote_console`

#[path = "../tests/kit/mod.rs"]
mod kit;

use std::time::{Duration, Instant};

use kit::binary::App;
use kit::probe::{host_row, launch, probe};
use kit::remote_host::RemoteHost;
use kit::screen::x_screen_shows_guest;
use kit::testbed::{Boot, Guest, Need};
use kit::{test, wait_until, Runner};

const VM: &str = "vireo-bench-remote-console";

fn rounds(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn main() {
    kit::testbed::require(&[Need::RemoteHost, Need::Guest]);
    kit::binary::require();
    Runner::new().run(vec![test("remote_console", remote_console).limit(1800)]);
}

fn remote_console() {
    let host = RemoteHost::up("bench");
    let guest = Guest::get().expect("guest");
    host.start_guest(VM, guest.domain_xml(VM, Boot::Kernel, None));
    let (app, report) = launch(&["--connect", &host.uri]);
    app.wait_ready();

    // Tab to first frame.
    app.click(&app.find("label", VM));
    let mut opens = Vec::new();
    for i in 1..=rounds("REMOTE_BENCH_OPENS", 10) {
        let opened = Instant::now();
        app.key("ctrl+o");
        let t = guest_on_screen_after(opened).expect("the guest's picture in its tab");
        println!("  open {i:2}: first frame on screen after {t:.2} s");
        opens.push(t);
        // The console holds the keyboard once it shows: Ctrl+Alt takes it back, then
        // Ctrl+W closes the tab.
        app.key("ctrl+alt");
        app.key("ctrl+w");
        wait_until("the tab closed", Duration::from_secs(20), || {
            !x_screen_shows_guest()
        });
    }

    // Keepalive and reconnection, with the tab open.
    app.key("ctrl+o");
    guest_on_screen_after(Instant::now()).expect("the guest's picture");
    let cuts = rounds("REMOTE_BENCH_CUTS", 5);
    let mut figures: Vec<Rounds> = Vec::new();
    for (what, cut, restore) in [
        (
            "network cut",
            Box::new(|| host.set_network(false)) as Box<dyn Fn()>,
            Box::new(|| host.set_network(true)) as Box<dyn Fn()>,
        ),
        (
            "sshd killed",
            Box::new(|| {
                host.set_sshd(false);
                // Its sessions too (libvirt's and the console's), as a crash would.
                host.exec(&["pkill", "-KILL", "-x", "sshd"]);
            }),
            Box::new(|| host.set_sshd(true)),
        ),
    ] {
        let (mut lost, mut back, mut picture) = (Vec::new(), Vec::new(), Vec::new());
        for i in 1..=cuts {
            cut();
            let t = Instant::now();
            let reason = until_state(&app, &report, "Lost");
            lost.push(t.elapsed().as_secs_f64());
            // Away a few seconds more, as a network that blinks.
            std::thread::sleep(Duration::from_secs(2));
            restore();
            let t = Instant::now();
            until_state(&app, &report, "Connected");
            back.push(t.elapsed().as_secs_f64());
            picture.push(guest_on_screen_after(t).expect("the guest's picture back"));
            let (_, _, rows) = host_row(&probe(&app, &report));
            assert_eq!(rows, vec![VM.to_owned()], "one row, no ghost");
            println!(
                "  {what} {i}: lost after {:.2} s ({reason}); back: connected after {:.2} s, \
                 picture after {:.2} s",
                lost[i - 1],
                back[i - 1],
                picture[i - 1]
            );
        }
        figures.push(Rounds {
            what,
            lost,
            back,
            picture,
        });
    }
    app.quit();

    println!("\nremote console over qemu+ssh (figures, medians):");
    println!(
        "  opening the VM's tab to its first frame: median {:.2} s, max {:.2} s ({} opens)",
        median(&opens),
        max(&opens),
        opens.len()
    );
    for Rounds {
        what,
        lost,
        back,
        picture,
    } in &figures
    {
        println!(
            "  {what}: shown lost after median {:.2} s (max {:.2}); when back: connected \
             after median {:.2} s (max {:.2}), picture after median {:.2} s (max {:.2}) \
             ({} rounds)",
            median(lost),
            max(lost),
            median(back),
            max(back),
            median(picture),
            max(picture),
            lost.len()
        );
    }
}

/// The times of one kind of outage, in seconds, one per round.
struct Rounds {
    what: &'static str,
    /// Until the app showed the host lost.
    lost: Vec<f64>,
    /// From the host's return until the app was connected again.
    back: Vec<f64>,
    /// From the host's return until the guest's picture was on screen again.
    picture: Vec<f64>,
}

/// Waits until the first host is `state` in the app's probe; returns its error.
fn until_state(app: &App, report: &std::path::Path, state: &str) -> String {
    wait_until(
        &format!("the host {state}"),
        Duration::from_secs(60),
        || {
            let (now, error, _) = host_row(&probe(app, report));
            (now == state).then_some(error)
        },
    )
}

/// Seconds after `since` until the guest's picture is on the X screen (None after a
/// minute).
fn guest_on_screen_after(since: Instant) -> Option<f64> {
    while since.elapsed() < Duration::from_secs(60) {
        if x_screen_shows_guest() {
            return Some(since.elapsed().as_secs_f64());
        }
    }
    None
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 0 {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    } else {
        v[n / 2]
    }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}
