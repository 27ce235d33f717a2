//! The console half of a VM's tab in the app's window, on libvirt's test driver (a
//! node file made here), opened as a person opens it (the list's Open action):
//!
//! - `no_display_no_serial`: a VM with neither a graphical display nor a serial port
//!   says so plainly in both views (no "Disconnected", no raw libvirt error), the
//!   serial view's tools are off, the console's controls show on the Console page
//!   only, and after Shut Down and Run the view the person chose stays.
//! - `silent_display_fails_then_retries`: a VM whose VNC server accepts and never
//!   speaks: "Connecting" gives way within seconds to "Could Not Connect" with the
//!   reason and Retry; the tab tries again by itself, and once a real server answers
//!   on that port the guest's picture shows without anyone pressing anything.
//!
//! - `display_out_of_reach_is_not_retried`: a VM with a VNC display on a driver that
//!   cannot hand out its socket (the test driver: "not supported by the connection
//!   driver") and no port in its XML says so once, plainly, with no Retry, and the tab
//!   does not ask libvirt again and again.
//!
//! Screenshots of every state, 360 px wide, light and dark, go to
//! `target/screenshots/console-*.png`. Needs Xvfb and x11vnc, no root.
//!
//! Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test vnc_console_states

mod kit;

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gtk::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
use kit::vnc::{pattern, RawServer};
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{DomainObject, DomainState};
use vireo::ui::console::{ConsoleState, SerialStatus};
use vireo::ui::{VireoWindow, VmPage};

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("no_display_no_serial", no_display_no_serial),
        test(
            "silent_display_fails_then_retries",
            silent_display_fails_then_retries,
        ),
        test(
            "display_out_of_reach_is_not_retried",
            display_out_of_reach_is_not_retried,
        ),
    ]);
}

/// The width a phone-sized window has; the states must read well there.
const NARROW: i32 = 360;

/// A test-driver node with one running VM, `name`, with a VNC display on
/// `127.0.0.1:port` when given, and no other device.
fn node_with(name: &str, vnc_port: Option<u16>) -> PathBuf {
    let graphics = vnc_port.map_or(String::new(), |p| {
        format!("<graphics type='vnc' port='{p}' autoport='no' listen='127.0.0.1'/>")
    });
    node_with_devices(name, vnc_port.unwrap_or(0), &graphics)
}

/// A test-driver node with one running VM, `name`, whose devices are `devices`.
fn node_with_devices(name: &str, uuid_tail: u16, devices: &str) -> PathBuf {
    let xml = format!(
        "<node><domain type='test'><name>{name}</name>\
         <uuid>6f1c2a3e-0000-4000-8000-00000000{:04x}</uuid>\
         <memory unit='MiB'>256</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64'>hvm</type></os><devices>{devices}</devices>\
         </domain></node>",
        uuid_tail
    );
    let path = kit::testbed::temp_dir("console-states").join(format!("{name}.xml"));
    std::fs::write(&path, xml).expect("the node file");
    path
}

/// The app on `node`, its window narrow.
fn app_on(node: &Path) -> (TestApp, VireoWindow) {
    let app = TestApp::start(&["--connect", &format!("test://{}", node.display())]);
    let window = app.window();
    window.set_default_size(NARROW, 760);
    (app, window)
}

/// Opens `name`'s tab as the list's Open button and Ctrl+O do.
fn open_tab(app: &TestApp, window: &VireoWindow, name: &str) -> VmPage {
    let connection = app.connection(0);
    let domain = wait_until(&format!("{name} is listed"), EVENT, || {
        connection
            .domains()
            .iter::<DomainObject>()
            .flatten()
            .find(|d| d.name() == name)
    });
    window.list().select_domain(&domain);
    app.activate("win.domain-open");
    wait_until("the VM's tab opens", EVENT, || {
        find_widgets::<VmPage>(window).into_iter().next()
    })
}

/// Saves `window` in light and dark style as `console-NAME-{light,dark}.png`.
fn screenshots(window: &VireoWindow, name: &str) {
    let style = adw::StyleManager::default();
    for (scheme, suffix) in [
        (adw::ColorScheme::ForceLight, "light"),
        (adw::ColorScheme::ForceDark, "dark"),
    ] {
        style.set_color_scheme(scheme);
        settle();
        save_png(window, &format!("console-{name}-{suffix}.png"));
    }
    style.set_color_scheme(adw::ColorScheme::Default);
}

/// The views' stack (Graphical, Serial) of `page`.
fn console_stack(page: &VmPage) -> Result<gtk::Stack, String> {
    page.guest_display()
        .parent()
        .and_downcast::<gtk::Stack>()
        .ok_or_else(|| "the display is not in a stack".into())
}

/// The title and description of the status page over `widget`, if one shows.
fn status_text(widget: &gtk::Widget) -> Option<(String, String)> {
    find_widgets::<adw::StatusPage>(widget)
        .into_iter()
        .find(|p| p.is_drawable())
        .map(|p| {
            (
                p.title().to_string(),
                p.description().map(|d| d.to_string()).unwrap_or_default(),
            )
        })
}

/// The visible button labelled `label` (with its mnemonic) under `widget`.
fn button(widget: &gtk::Widget, label: &str) -> Option<gtk::Button> {
    find_widgets::<gtk::Button>(widget)
        .into_iter()
        .find(|b| b.label().as_deref() == Some(label) && b.is_drawable())
}

/// Which of the page's console controls show: (view switcher, Send Keys, Fullscreen).
fn console_controls(page: &VmPage) -> (bool, bool, bool) {
    let root = page.upcast_ref::<gtk::Widget>();
    let switcher = find_widgets::<gtk::StackSwitcher>(root)
        .iter()
        .any(|s| s.is_visible());
    let keys = find_widgets::<gtk::MenuButton>(root)
        .iter()
        .any(|b| b.tooltip_text().as_deref() == Some("Send Keys") && b.is_visible());
    let fullscreen = find_widgets::<gtk::ToggleButton>(root)
        .iter()
        .any(|b| b.tooltip_text().as_deref() == Some("Fullscreen") && b.is_visible());
    (switcher, keys, fullscreen)
}

fn no_display_no_serial() -> Result<(), String> {
    let node = node_with("no-devices", None);
    let (app, window) = app_on(&node);
    let page = open_tab(&app, &window, "no-devices");
    let vnc = page.guest_display();
    let serial = page.serial_console().ok_or("no serial console")?;
    wait_until("the graphical view says there is no display", EVENT, || {
        vnc.state() == ConsoleState::NoDisplay
    });
    wait_until(
        "the serial view says there is no serial port",
        EVENT,
        || serial.status() == SerialStatus::NoDevice,
    );
    // Plain words, not libvirt's "this function is not supported…".
    if serial.status_text() != "This virtual machine has no serial port or console." {
        return Err(format!("serial view says: {:?}", serial.status_text()));
    }
    // Nobody chose a view: a VM without a screen opens on its serial view.
    let stack = console_stack(&page)?;
    if stack.visible_child_name().as_deref() != Some("serial") {
        return Err(format!("view shown: {:?}", stack.visible_child_name()));
    }
    let zoom_on = find_widgets::<gtk::Button>(&serial)
        .iter()
        .filter(|b| {
            b.action_name()
                .is_some_and(|a| a.starts_with("console.zoom"))
        })
        .any(|b| b.is_sensitive());
    let menu_on = find_widgets::<gtk::MenuButton>(&serial)
        .iter()
        .any(|m| m.is_sensitive());
    if zoom_on || menu_on {
        return Err(format!(
            "with no terminal, zoom ({zoom_on}) or the menu ({menu_on}) is active"
        ));
    }
    screenshots(&window, "no-serial-port");

    // The person picks the graphical view with the view switcher.
    show_graphical_view(&page)?;
    let (title, description) =
        status_text(vnc.upcast_ref()).ok_or("no status page over the display")?;
    if title != "No Graphical Display" || !description.contains("no graphical display") {
        return Err(format!("graphical view says {title:?}: {description:?}"));
    }
    if button(vnc.upcast_ref(), "Re_connect").is_some()
        || button(vnc.upcast_ref(), "_Retry").is_some()
    {
        return Err("a VM with no display is offered to reconnect".into());
    }
    screenshots(&window, "no-display");

    // The console's controls belong to the Console page.
    if console_controls(&page) != (true, false, true) {
        return Err(format!("on Console: {:?}", console_controls(&page)));
    }
    page.show_details();
    settle();
    if console_controls(&page) != (false, false, false) {
        return Err(format!("on Details: {:?}", console_controls(&page)));
    }
    page.show_console();
    settle();

    // Shut Down, then Run, from the tab (the window's actions act on the tab's VM):
    // the view the person chose stays.
    let domain = page.domain().ok_or("no domain")?;
    app.activate("win.domain-shutdown");
    wait_until("shut off", EVENT, || domain.state() == DomainState::Shutoff);
    wait_until("the display says so", EVENT, || {
        vnc.state() == ConsoleState::NotRunning
    });
    app.activate("win.domain-start");
    wait_until("running again", EVENT, || {
        domain.state() == DomainState::Running
    });
    wait_until("the display looked again", EVENT, || {
        vnc.state() == ConsoleState::NoDisplay
    });
    settle();
    if stack.visible_child_name().as_deref() != Some("graphical") {
        return Err(format!(
            "after Run the view switched itself to {:?}",
            stack.visible_child_name()
        ));
    }
    app.quit();
    Ok(())
}

/// Picks the graphical view with the view switcher, as a person does.
fn show_graphical_view(page: &VmPage) -> Result<(), String> {
    let stack = console_stack(page)?;
    let switcher = find_widgets::<gtk::StackSwitcher>(page)
        .into_iter()
        .next()
        .ok_or("no view switcher")?;
    let graphical = find_widgets::<gtk::ToggleButton>(&switcher)
        .into_iter()
        .find(|b| {
            b.tooltip_text().as_deref() == Some("Graphical")
                || find_widgets::<gtk::Label>(b)
                    .iter()
                    .any(|l| l.label() == "Graphical")
        })
        .ok_or("no Graphical button in the view switcher")?;
    graphical.emit_clicked();
    wait_until("the graphical view shows", EVENT, || {
        stack.visible_child_name().as_deref() == Some("graphical")
    });
    Ok(())
}

/// A VNC "server" that accepts connections and never says a word; counts them.
struct SilentServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    fn start() -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, quit) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let held: Mutex<Vec<TcpStream>> = Mutex::default();
            while !quit.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        held.lock().unwrap().push(stream);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(Self {
            port,
            accepted,
            stop,
            thread: Some(thread),
        })
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn silent_display_fails_then_retries() -> Result<(), String> {
    let silent = SilentServer::start()?;
    let port = silent.port;
    let node = node_with("silent-display", Some(port));
    let (app, window) = app_on(&node);
    let opened = Instant::now();
    let page = open_tab(&app, &window, "silent-display");
    let vnc = page.guest_display();
    wait_until("the display connects", EVENT, || silent.accepted() >= 1);
    if vnc.state() != ConsoleState::Connecting {
        return Err(format!("while the server is silent: {:?}", vnc.state()));
    }
    screenshots(&window, "connecting");

    wait_until("the silence is reported", EVENT, || {
        vnc.state() == ConsoleState::Failed
    });
    let waited = opened.elapsed();
    let (title, reason) = status_text(vnc.upcast_ref()).ok_or("no status page")?;
    println!("  after {:.1} s: {title}: {reason}", waited.as_secs_f64());
    if title != "Could Not Connect to the Display" || reason.is_empty() {
        return Err(format!("failed page: {title:?}: {reason:?}"));
    }
    if waited > Duration::from_secs(12) {
        return Err(format!("the spinner lasted {:.1} s", waited.as_secs_f64()));
    }
    if button(vnc.upcast_ref(), "_Retry").is_none() {
        return Err("no Retry button".into());
    }
    screenshots(&window, "failed");

    // It tries again by itself...
    wait_until("an automatic retry", EVENT, || silent.accepted() >= 2);
    if vnc.state() != ConsoleState::Failed {
        return Err(format!("during a retry the page shows {:?}", vnc.state()));
    }
    // ...and once a real server answers on that port, the picture comes by itself.
    drop(silent);
    let (w, h) = (640, 400);
    let _server = RawServer::start_on(Some(port), w, h, &pattern(w, h, 3), &[])?;
    wait_until(
        "the picture, once the server came",
        Duration::from_secs(60),
        || {
            if vnc.is_connected() && vnc.frames_shown() > 0 {
                Ok(())
            } else {
                Err(format!("{:?}", vnc.state()))
            }
        },
    );
    app.quit();
    Ok(())
}

fn display_out_of_reach_is_not_retried() -> Result<(), String> {
    // autoport and no port: the test driver's live XML keeps port -1.
    let node = node_with_devices(
        "out-of-reach",
        1,
        "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>",
    );
    let (app, window) = app_on(&node);
    let page = open_tab(&app, &window, "out-of-reach");
    let vnc = page.guest_display();
    wait_until("the display says it cannot be reached", EVENT, || {
        vnc.state() == ConsoleState::NoDisplay
    });
    show_graphical_view(&page)?;
    let (title, description) = status_text(vnc.upcast_ref()).ok_or("no status page")?;
    println!("  {title}: {description}");
    if !description.contains("cannot open this display") || !description.contains("not supported") {
        return Err(format!("the display says {title:?}: {description:?}"));
    }
    if button(vnc.upcast_ref(), "_Retry").is_some() {
        return Err("a display no attempt can reach offers Retry".into());
    }
    // No retry behind the person's back: the state stays for longer than the first
    // retry delays (the old code went Failed and tried again after 1-2 s).
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        settle();
        if vnc.state() != ConsoleState::NoDisplay {
            return Err(format!("the display went on to {:?}", vnc.state()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    screenshots(&window, "out-of-reach");
    app.quit();
    Ok(())
}
