//! Shared helpers of the UI tests: a runner for `harness = false` binaries, the app
//! started in-process, waiting on the main loop, widget lookup and PNG snapshots.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gtk::prelude::*;
use gtk::{gio, glib};
use vireo::application::VireoApplication;
use vireo::cli::Options;
use vireo::model::ConnectionObject;
use vireo::ui::VireoWindow;

pub type CaseFn = fn() -> Result<(), String>;

pub struct Case {
    name: &'static str,
    run: CaseFn,
}

impl Case {
    pub fn new(name: &'static str, run: CaseFn) -> Self {
        Self { name, run }
    }
}

/// Runs each case in a fresh process of this binary (libvirt's test driver and the
/// GApplication are process-wide), then ends with the count line CI reads.
pub fn run_cases(cases: &[Case]) {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--case") {
        let name = args.get(pos + 1).cloned().unwrap_or_default();
        let case = cases.iter().find(|c| c.name == name);
        std::process::exit(match case {
            Some(case) => run_in_this_process(case),
            None => {
                eprintln!("no case named {name}");
                2
            }
        });
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        if filter.is_some_and(|f| !case.name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        let status = std::process::Command::new(&args[0])
            .args(["--case", case.name])
            .status();
        match status {
            Ok(s) if s.success() => {
                passed += 1;
                println!("test {} ... ok ({:.2?})", case.name, started.elapsed());
            }
            other => {
                failed += 1;
                println!("test {} ... FAILED ({other:?})", case.name);
            }
        }
    }
    println!();
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn run_in_this_process(case: &Case) -> i32 {
    // Settings must not touch the user's dconf.
    std::env::set_var("GSETTINGS_BACKEND", "memory");
    vireo::i18n::init();
    vireo::logging::init(false);
    vireo::resources::register();
    if let Err(err) = gtk::init() {
        eprintln!("no display for the UI tests ({err}); run them under xvfb-run");
        return 1;
    }
    match (case.run)() {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("{}: {err}", case.name);
            1
        }
    }
}

/// Vireo's application, registered and activated on this thread's main context.
pub struct TestApp {
    pub app: VireoApplication,
}

impl TestApp {
    pub fn start(connect: Option<&str>) -> Result<Self, String> {
        Self::start_with(Options {
            connect: connect.map(str::to_owned),
            ..Options::default()
        })
    }

    /// Starts the app with these command-line options.
    pub fn start_with(options: Options) -> Result<Self, String> {
        let connect = options.connect.clone();
        let app = VireoApplication::with_id(options, None);
        if connect.is_none() {
            // Without --connect a first start would probe the local hypervisors (and
            // start a session daemon); tests choose their hosts themselves.
            let _ = app.settings().set_boolean("connections-initialized", true);
        }
        app.register(None::<&gio::Cancellable>)
            .map_err(|e| format!("registering the application: {e}"))?;
        app.activate();
        Ok(Self { app })
    }

    pub fn window(&self) -> Result<VireoWindow, String> {
        wait_until("the main window appears", || {
            self.app.active_window().is_some()
        })?;
        self.app
            .active_window()
            .and_downcast::<VireoWindow>()
            .ok_or_else(|| "the active window is not Vireo's main window".into())
    }

    pub fn connection(&self, index: u32) -> Result<ConnectionObject, String> {
        self.app
            .connections()
            .item(index)
            .and_downcast::<ConnectionObject>()
            .ok_or_else(|| format!("no connection at {index}"))
    }

    pub fn quit(self) {
        for window in self.app.windows() {
            window.destroy();
        }
        self.app.quit();
        settle();
    }
}

/// Turns the main loop until `condition` holds, or fails after 20 s.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let context = glib::MainContext::default();
    while !condition() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}"));
        }
        // Wake at least every 10 ms so that the deadline is seen.
        let _ = glib::timeout_add_local_once(Duration::from_millis(10), || {});
        context.iteration(true);
    }
    Ok(())
}

/// Lets pending layout and drawing happen.
pub fn settle() {
    let until = Instant::now() + Duration::from_millis(300);
    let context = glib::MainContext::default();
    while Instant::now() < until {
        let _ = glib::timeout_add_local_once(Duration::from_millis(10), || {});
        context.iteration(true);
    }
}

/// Every widget of type `W` under `root`, depth first.
pub fn find_widgets<W: IsA<gtk::Widget>>(root: &gtk::Widget) -> Vec<W> {
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(widget) = stack.pop() {
        if let Some(w) = widget.downcast_ref::<W>() {
            found.push(w.clone());
        }
        let mut child = widget.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
    found
}

/// Where screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Renders `widget` as it is on screen into `target/screenshots/NAME`.
pub fn save_png(widget: &gtk::Widget, name: &str) -> Result<PathBuf, String> {
    settle();
    wait_until(&format!("{name}: the widget is laid out"), || {
        widget.width() > 0 && widget.height() > 0
    })?;
    // A widget that was just mapped may not have drawn yet: wait for its first picture.
    let paintable = gtk::WidgetPaintable::new(Some(widget));
    let mut node = None;
    wait_until(&format!("{name}: the widget draws"), || {
        let snapshot = gtk::Snapshot::new();
        paintable.snapshot(
            &snapshot,
            f64::from(widget.width()),
            f64::from(widget.height()),
        );
        node = snapshot.to_node();
        node.is_some()
    })?;
    let node = node.ok_or_else(|| format!("{name}: nothing was drawn"))?;
    let renderer = widget
        .native()
        .and_then(|n| n.renderer())
        .ok_or_else(|| format!("{name}: the widget is not realized"))?;
    let texture = renderer.render_texture(&node, None);
    let path = screenshot_dir().join(name);
    texture
        .save_to_png(&path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("screenshot: {}", path.display());
    Ok(path)
}
