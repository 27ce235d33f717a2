//! The real `vireo` binary driven from outside, as a person uses it (tier 5 of
//! design.md): launched under the test's X display (Xvfb) with a session bus and an
//! AT-SPI bus of its own, found through its accessible tree (role and accessible name,
//! as a screen reader finds them), clicked, typed at with `xdotool`, looked at through
//! screenshots of the display.
//!
//! ```ignore
//! kit::binary::require();                     // in main: skip (fail in CI) without the tools
//! let app = App::launch(&["--connect", "test:///default"]);
//! let (uri, domains) = app.wait_ready();      // the log's `connection URI ready: N domains`
//! app.key("ctrl+f");
//! app.type_text("te");
//! let row = app.find("label", "test");        // waits until it is there
//! app.click(&app.find("push button", "Main Menu"));
//! app.screenshot("app-menu.png");             // target/screenshots/app-menu.png
//! app.quit();                                 // Ctrl+Q; exit status 0, no GTK criticals
//! ```
//!
//! Roles are AT-SPI's role names ("push button", "label", "menu item", "frame",
//! "dialog", "list item", "check box", "entry", "page tab"...). GTK 4.8 never sets
//! "showing": hidden stack pages stay in the tree with empty extents, so `find` only
//! returns elements with a size on screen (`find_all` returns everything). `tree()`
//! dumps the whole tree, and a `find` that times out prints it.
//!
//! The AT-SPI side is `atspi.py` beside this file, one long-running helper process
//! ([`atspi`]) spoken to in JSON lines (a new python per query would cost ~0.5 s). One query of a ~150-node
//! tree takes ~0.1-0.3 s: poll pixels, not the tree, for timings.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

mod atspi;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gtk::gdk_pixbuf::Pixbuf;
use serde_json::{json, Value};

pub use atspi::Element;
use atspi::{Helper, PYTHON};

use super::runner::{on_cleanup, skip_or_fail};
use super::screen::{decode, pixel, screenshot_dir};
use super::wait::{pump, wait_until, EVENT};
use super::x11::{move_pointer, xdotool, xdotool_output};

const BUS_LAUNCHER: &str = "/usr/libexec/at-spi-bus-launcher";

/// Skips the binary (fails it in CI) unless the real binary can be driven here: an X
/// display, a session bus daemon, the AT-SPI bus launcher, python's AT-SPI bindings,
/// xdotool and ImageMagick's `import`.
pub fn require() {
    if std::env::var_os("DISPLAY").is_none() {
        skip_or_fail("no X display; run under xvfb-run (tools/run-tests.sh does)");
    }
    for (tool, package) in [
        ("/usr/bin/dbus-daemon", "dbus"),
        ("/usr/bin/dbus-send", "dbus"),
        (BUS_LAUNCHER, "at-spi2-core"),
        ("/usr/bin/xdotool", "xdotool"),
        ("/usr/bin/import", "imagemagick"),
        (PYTHON, "python3"),
    ] {
        if !Path::new(tool).exists() {
            skip_or_fail(&format!(
                "{tool} is missing (package {package}; tools/install-deps.sh test)"
            ));
        }
    }
    let gi = Command::new(PYTHON)
        .args([
            "-c",
            "import gi; gi.require_version('Atspi', '2.0'); from gi.repository import Atspi",
        ])
        .output();
    if !gi.as_ref().is_ok_and(|o| o.status.success()) {
        skip_or_fail(
            "python3's AT-SPI bindings are missing (packages python3-gi gir1.2-atspi-2.0; \
             tools/install-deps.sh test)",
        );
    }
}

/// A process the test started in a process group of its own (the app; a bus daemon
/// with what it activates), ended with its group on drop.
struct Group {
    child: Child,
    /// False once dropped: the cleanup hook then leaves the (maybe reused) id alone.
    alive: Arc<AtomicBool>,
}

impl Group {
    fn spawn(cmd: &mut Command) -> Group {
        let child = cmd
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let alive = Arc::new(AtomicBool::new(true));
        let (pgid, still) = (child.id() as i32, alive.clone());
        // A test past its limit exits without drops: end the group then too.
        on_cleanup(move || {
            if still.load(Ordering::SeqCst) {
                kill_group(pgid, libc::SIGKILL);
            }
        });
        Group { child, alive }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.child.id() as i32, libc::SIGTERM);
        let _ = self.child.wait();
        self.alive.store(false, Ordering::SeqCst);
    }
}

fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) of a process group this test started.
    unsafe { libc::kill(-pgid, sig) };
}

/// The running `vireo`, its buses, and the AT-SPI helper that reads it.
pub struct App {
    vireo: Mutex<Option<Group>>,
    log: Arc<Mutex<String>>,
    helper: Mutex<Helper>,
    /// The main window's X id, once ready.
    window: Mutex<Option<String>>,
    // Dropped last: the buses the app and the helper use.
    _a11y: Group,
    _session: Group,
}

impl App {
    /// Starts `vireo ARGS...` (the binary cargo built for these tests) with a session
    /// bus and an AT-SPI bus of its own, in-memory settings, and its output collected.
    pub fn launch(args: &[&str]) -> App {
        App::launch_with_env(args, &[])
    }

    /// [`App::launch`] with `extra` added to the app's environment (`("GSK_RENDERER",
    /// "gl")`: a user's own setting).
    pub fn launch_with_env(args: &[&str], extra: &[(&str, &str)]) -> App {
        // The session bus: its first line of output is its address.
        let mut session = Group::spawn(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut address = String::new();
        BufReader::new(session.child.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("the session bus address");
        let address = address.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let a11y = Group::spawn(
            Command::new(BUS_LAUNCHER)
                .arg("--launch-immediately")
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let a11y_address = wait_until("the AT-SPI bus", EVENT, || a11y_bus_address(&address));
        let env = vec![
            ("DBUS_SESSION_BUS_ADDRESS", address),
            ("AT_SPI_BUS_ADDRESS", a11y_address),
        ];
        // The ready line is logged at info level, whatever else RUST_LOG asks.
        let rust_log = match std::env::var("RUST_LOG") {
            Ok(v) if !v.is_empty() => format!("{v},vireo::ui::window=info"),
            _ => "info".to_owned(),
        };
        let mut vireo = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_vireo"))
                .args(args)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("GSETTINGS_BACKEND", "memory")
                .env("RUST_LOG", rust_log)
                .env_remove("GTK_A11Y")
                .env_remove("NO_AT_BRIDGE")
                .envs(extra.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        let pid = vireo.child.id();
        println!("  launched vireo {} (pid {pid})", args.join(" "));
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(vireo.child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(vireo.child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let mut helper = Helper::start(&env);
        helper
            .ask(json!({"op": "attach", "pid": pid}))
            .unwrap_or_else(|e| panic!("vireo is not on the AT-SPI bus: {e}"));
        App {
            vireo: Mutex::new(Some(vireo)),
            log,
            helper: Mutex::new(helper),
            window: Mutex::new(None),
            _a11y: a11y,
            _session: session,
        }
    }

    /// Everything the app printed so far (its log on stderr, stdout).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for the log's ready line (`connection URI ready: N domains`, see the
    /// README) and for the main window; returns the URI and N. Focuses the main
    /// window, so that keys go there.
    pub fn wait_ready(&self) -> (String, u32) {
        let ready = regex::Regex::new(r"connection (\S+) ready: (\d+) domains").expect("regex");
        let (uri, n) = wait_until(
            "the ready line in vireo's log",
            Duration::from_secs(60),
            || {
                self.assert_running();
                let log = self.log();
                ready
                    .captures(&log)
                    .map(|c| (c[1].to_owned(), c[2].parse().unwrap_or(0)))
            },
        );
        let window = self.x_window("Vireo");
        xdotool(&["windowfocus", "--sync", &window]);
        *self.window.lock().unwrap_or_else(|p| p.into_inner()) = Some(window);
        println!("  ready: {uri}, {n} domains");
        (uri, n)
    }

    /// Panics with the log if the app is no longer running.
    fn assert_running(&self) {
        let mut vireo = self.vireo_lock();
        if let Some(status) = vireo
            .as_mut()
            .and_then(|g| g.child.try_wait().ok().flatten())
        {
            panic!("vireo ended ({status}); its output:\n{}", self.log());
        }
    }

    fn vireo_lock(&self) -> std::sync::MutexGuard<'_, Option<Group>> {
        self.vireo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app's process id.
    pub fn pid(&self) -> u32 {
        self.vireo_lock()
            .as_ref()
            .map(|g| g.child.id())
            .expect("vireo runs")
    }

    fn ask(&self, request: Value) -> Result<Value, String> {
        self.helper
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ask(request)
    }

    /// Every element with `role` (and accessible `name`, when given), on screen or
    /// not, as the tree is now.
    pub fn find_all(&self, role: &str, name: Option<&str>) -> Vec<Element> {
        self.query(role, name, None)
    }

    /// [`Self::find_all`] that returns a failed read instead of panicking: a walk of
    /// the tree meets objects that went away while it ran (a dialog closing under it).
    pub fn try_find_all(&self, role: &str, name: Option<&str>) -> Result<Vec<Element>, String> {
        self.ask(json!({"op": "find", "role": role, "name": name, "within": null}))
            .map(|v| {
                v.as_array()
                    .map(|a| a.iter().map(Element::from_json).collect())
                    .unwrap_or_default()
            })
    }

    /// Whether the app still runs (it has not ended nor crashed).
    pub fn is_running(&self) -> bool {
        self.vireo_lock()
            .as_mut()
            .is_some_and(|g| g.child.try_wait().ok().flatten().is_none())
    }

    /// Every element inside `within` (at any depth) with `role` (and `name`).
    pub fn find_in(&self, within: &Element, role: &str, name: Option<&str>) -> Vec<Element> {
        self.query(role, name, Some(within))
    }

    fn query(&self, role: &str, name: Option<&str>, within: Option<&Element>) -> Vec<Element> {
        let request =
            json!({"op": "find", "role": role, "name": name, "within": within.map(|w| w.id)});
        self.ask(request)
            .unwrap_or_else(|e| {
                // An app that ended says why in its output.
                std::thread::sleep(Duration::from_millis(300));
                self.assert_running();
                panic!("finding {role} {name:?}: {e}")
            })
            .as_array()
            .map(|a| a.iter().map(Element::from_json).collect())
            .unwrap_or_default()
    }

    /// The first element on screen with `role` and accessible `name`, once there is
    /// one (up to 20 s; then panics with the tree).
    pub fn find(&self, role: &str, name: &str) -> Element {
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(&format!("a {role} named {name:?}"), EVENT, || {
                self.assert_running();
                self.find_all(role, Some(name))
                    .into_iter()
                    .find(Element::on_screen)
            })
        }));
        found.unwrap_or_else(|panic| {
            eprintln!("the accessible tree:\n{}", self.tree());
            std::panic::resume_unwind(panic)
        })
    }

    /// Waits until no element on screen has `role` and `name`.
    pub fn wait_gone(&self, role: &str, name: &str) {
        wait_until(&format!("the {role} {name:?} goes"), EVENT, || {
            !self
                .find_all(role, Some(name))
                .iter()
                .any(Element::on_screen)
        });
    }

    /// The element as it is now (states, name, place), or `None` once it has gone.
    pub fn refresh(&self, element: &Element) -> Option<Element> {
        self.find_all(&element.role, None)
            .into_iter()
            .find(|e| e.id == element.id)
    }

    /// The elements directly inside `element`.
    pub fn children(&self, element: &Element) -> Vec<Element> {
        self.ask(json!({"op": "children", "id": element.id}))
            .unwrap_or_else(|e| panic!("children of {} {:?}: {e}", element.role, element.name))
            .as_array()
            .map(|a| a.iter().map(Element::from_json).collect())
            .unwrap_or_default()
    }

    /// Its text (an entry's content, a label's text).
    pub fn text(&self, element: &Element) -> String {
        self.ask(json!({"op": "text", "id": element.id}))
            .unwrap_or_else(|e| panic!("text of {} {:?}: {e}", element.role, element.name))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Does `element`'s AT-SPI action `action` ("click", "activate", "toggle"...), as
    /// a screen reader user would.
    pub fn action(&self, element: &Element, action: &str) {
        self.ask(json!({"op": "action", "id": element.id, "name": action}))
            .unwrap_or_else(|e| panic!("{action} on {} {:?}: {e}", element.role, element.name));
        pump(Duration::from_millis(100));
    }

    /// Clicks `element` with the pointer at its centre, where its place on screen is
    /// known: in a window of the app with a title (the main window, dialogs). Menu
    /// items (in popovers, whose AT-SPI places GTK 4.8 gets wrong) and elements
    /// without a place are activated through their AT-SPI action instead.
    pub fn click(&self, element: &Element) {
        let place = element
            .extents
            .filter(|_| element.role != "menu item" && element.on_screen())
            .and_then(|e| self.screen_origin(element.toplevel).map(|o| (o, e)));
        match place {
            Some(((ox, oy), [x, y, w, h])) => {
                let (cx, cy) = (ox + x + w / 2, oy + y + h / 2);
                move_pointer(cx, cy);
                xdotool(&["click", "1"]);
            }
            None => {
                let action = element.actions.first().cloned().unwrap_or_else(|| {
                    panic!(
                        "{} {:?} has no place and no action",
                        element.role, element.name
                    )
                });
                self.action(element, &action);
            }
        }
    }

    /// Presses keys as `xdotool key` names them ("ctrl+n", "Escape", "Return").
    pub fn key(&self, keys: &str) {
        let mut args = vec!["key", "--clearmodifiers"];
        args.extend(keys.split_whitespace());
        xdotool(&args);
    }

    /// Types `text` on the keyboard.
    pub fn type_text(&self, text: &str) {
        xdotool(&["type", "--delay", "20", text]);
    }

    /// The whole accessible tree, indented (for messages and exploring).
    pub fn tree(&self) -> String {
        self.ask(json!({"op": "tree"}))
            .map(|t| t.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| format!("<no tree: {e}>"))
    }

    /// The X window of the app titled `title` (its accessible toplevel's name).
    fn x_window(&self, title: &str) -> String {
        super::x11::find_window(self.pid(), title, EVENT)
    }

    /// Where the content of the app's window number `toplevel` starts on screen: its X
    /// window's origin plus the margin GTK leaves around it (client-side decorations).
    fn screen_origin(&self, toplevel: i64) -> Option<(i32, i32)> {
        let frame = self
            .find_all("frame", None)
            .into_iter()
            .chain(self.find_all("dialog", None))
            .find(|f| f.toplevel == toplevel)?;
        let [_, _, fw, fh] = frame.extents?;
        let (x, y, w, h) = geometry(&self.x_window(&frame.name));
        Some((x + (w - fw) / 2, y + (h - fh) / 2))
    }

    /// The whole X screen as it is now.
    pub fn screen(&self) -> Pixbuf {
        let out = Command::new("import")
            .args(["-window", "root", "png:-"])
            .output()
            .expect("ImageMagick's import");
        assert!(out.status.success(), "import -window root failed");
        decode(&out.stdout).expect("import's PNG")
    }

    /// The colour at (x, y) of the main window (in the coordinates of its elements'
    /// extents), as the screen shows it now.
    pub fn pixel(&self, x: i32, y: i32) -> [u8; 3] {
        let main = self
            .find_all("frame", Some("Vireo"))
            .into_iter()
            .find(Element::on_screen)
            .expect("the main window");
        let (ox, oy) = self
            .screen_origin(main.toplevel)
            .expect("the main window's place on screen");
        pixel(&self.screen(), (ox + x) as u32, (oy + y) as u32)
    }

    /// Saves what the app shows (the screen cut to its windows) to
    /// `target/screenshots/NAME`; returns the path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let pid = self.pid().to_string();
        let windows = xdotool_output(&["search", "--onlyvisible", "--pid", &pid]);
        let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, 0, 0);
        for window in windows.lines() {
            let (x, y, w, h) = geometry(window);
            if w > 1 && h > 1 {
                (x0, y0) = (x0.min(x), y0.min(y));
                (x1, y1) = (x1.max(x + w), y1.max(y + h));
            }
        }
        let screen = self.screen();
        let (x0, y0) = (x0.clamp(0, screen.width()), y0.clamp(0, screen.height()));
        let (x1, y1) = (x1.clamp(x0, screen.width()), y1.clamp(y0, screen.height()));
        let cut = if x1 > x0 && y1 > y0 {
            screen.new_subpixbuf(x0, y0, x1 - x0, y1 - y0)
        } else {
            screen
        };
        let path = screenshot_dir().join(name);
        cut.savev(&path, "png", &[])
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("  screenshot: {}", path.display());
        path
    }

    /// Quits as a person does (Ctrl+Q in the main window) and checks that the app
    /// ended with status 0 and logged no GTK/GLib critical; returns its output.
    pub fn quit(self) -> String {
        if let Some(window) = self
            .window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            xdotool(&["windowfocus", "--sync", &window]);
        }
        self.key("ctrl+q");
        let mut vireo = self.vireo_lock().take().expect("vireo runs");
        let status: ExitStatus = wait_until("vireo quits after Ctrl+Q", EVENT, || {
            vireo.child.try_wait().ok().flatten()
        });
        drop(vireo);
        // Let the readers take the last lines.
        pump(Duration::from_millis(100));
        let log = self.log();
        assert!(
            status.success(),
            "vireo ended with {status}; its output:\n{log}"
        );
        let criticals: Vec<&str> = log.lines().filter(|l| l.contains("-CRITICAL **")).collect();
        assert!(
            criticals.is_empty(),
            "vireo logged criticals:\n{}",
            criticals.join("\n")
        );
        log
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // The app's group ends with its Group, before the helper and the buses.
        self.vireo_lock().take();
        let helper = self.helper.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = helper.child.kill();
        let _ = helper.child.wait();
    }
}

/// The AT-SPI bus address the launcher on the session bus at `session` gives out.
fn a11y_bus_address(session: &str) -> Option<String> {
    let out = Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", session)
        .args([
            "--session",
            "--print-reply=literal",
            "--dest=org.a11y.Bus",
            "/org/a11y/bus",
            "org.a11y.Bus.GetAddress",
        ])
        .output()
        .ok()?;
    let address = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !address.is_empty()).then_some(address)
}

/// An X window's position and size on screen.
fn geometry(window: &str) -> (i32, i32, i32, i32) {
    let out = xdotool_output(&["getwindowgeometry", "--shell", window]);
    let value = |key: &str| -> i32 {
        out.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} for window {window}: {out}"))
    };
    (value("X"), value("Y"), value("WIDTH"), value("HEIGHT"))
}
