//! Vireo's application inside the test process (UI tests, tier 3): started from a
//! command line as `vireo` parses it, driven through its window's actions (what menus,
//! buttons and shortcuts activate), its widgets found by type and checked.
//!
//! Run these with [`super::Runner::gui`] and `.fresh_process()`: the `GApplication`
//! and libvirt's test driver are process-wide.

use gtk::gio;
use gtk::prelude::*;
use vireo::application::VireoApplication;
use vireo::cli::Options;
use vireo::model::ConnectionObject;
use vireo::ui::VireoWindow;

use super::wait::{settle, wait_until, EVENT};

/// Vireo's application, registered and activated on this thread's main context.
pub struct TestApp {
    pub app: VireoApplication,
}

impl TestApp {
    /// Starts the app as `vireo ARGS...` would (say `&["--connect", "test:///default"]`).
    /// Without `--connect` the first-start probing of local hypervisors is off (it
    /// would start a session daemon): the test opens its hosts itself.
    pub fn start(args: &[&str]) -> TestApp {
        let options = Options::try_parse_from(std::iter::once("vireo").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("vireo {args:?}: {e}"));
        let probe = options.connect.is_none();
        let app = VireoApplication::with_id(options, None);
        if probe {
            let _ = app.settings().set_boolean("connections-initialized", true);
        }
        Self::launch(app)
    }

    /// A first start (nothing saved, no `--connect`) where the local hosts tried are
    /// `local_uris` instead of the system's and session's QEMU daemons.
    pub fn first_start(local_uris: &[&str]) -> TestApp {
        let app = VireoApplication::with_id(Options::default(), None);
        app.set_local_uris(local_uris);
        app.open_initial_connections();
        Self::launch(app)
    }

    fn launch(app: VireoApplication) -> TestApp {
        app.register(None::<&gio::Cancellable>)
            .unwrap_or_else(|e| panic!("registering the application: {e}"));
        app.activate();
        TestApp { app }
    }

    /// The main window, once it is there.
    pub fn window(&self) -> VireoWindow {
        wait_until("the main window appears", EVENT, || {
            self.app.active_window().and_downcast::<VireoWindow>()
        })
    }

    /// The connection at `index` of the app's list.
    pub fn connection(&self, index: u32) -> ConnectionObject {
        self.app
            .connections()
            .item(index)
            .and_downcast::<ConnectionObject>()
            .unwrap_or_else(|| panic!("no connection at {index}"))
    }

    /// Activates `action` (`win.…` or `app.…`) on the main window, as its menu item,
    /// button or shortcut would, and lets the UI settle.
    pub fn activate(&self, action: &str) {
        WidgetExt::activate_action(&self.window(), action, None)
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        settle();
    }

    /// Closes every window and quits the application.
    pub fn quit(self) {
        for window in self.app.windows() {
            window.destroy();
        }
        self.app.quit();
        settle();
    }
}

/// The visible toplevel window of type `W` (a dialog the app opened), once there is one.
pub fn toplevel<W: IsA<gtk::Widget>>() -> W {
    wait_until(
        &format!("a {} opens", W::static_type().name()),
        EVENT,
        || {
            gtk::Window::list_toplevels()
                .into_iter()
                .filter_map(|w| w.downcast::<W>().ok())
                .find(|w| w.is_visible())
        },
    )
}

/// Every widget of type `W` under `root` (itself included), depth first.
pub fn find_widgets<W: IsA<gtk::Widget>>(root: &impl IsA<gtk::Widget>) -> Vec<W> {
    let mut found = Vec::new();
    let mut stack = vec![root.clone().upcast::<gtk::Widget>()];
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

/// The first visible widget of type `W` under `root`, looking only inside visible ones.
pub fn find_visible<W: IsA<gtk::Widget>>(root: &impl IsA<gtk::Widget>) -> Option<W> {
    let mut stack = vec![root.clone().upcast::<gtk::Widget>()];
    while let Some(w) = stack.pop() {
        if w.is_visible() {
            if let Some(found) = w.downcast_ref::<W>() {
                return Some(found.clone());
            }
            let mut child = w.first_child();
            while let Some(c) = child {
                child = c.next_sibling();
                stack.push(c);
            }
        }
    }
    None
}

/// The text a button shows: its label, or its child label's (the app gives mnemonic
/// buttons a child label, so that GTK 4.8 names them right for screen readers).
pub fn button_text(button: &gtk::Button) -> Option<String> {
    button.label().map(Into::into).or_else(|| {
        button
            .child()
            .and_downcast::<gtk::Label>()
            .map(|l| l.label().into())
    })
}

/// The visible button of `root` labelled `label`; panics if there is none.
pub fn button(root: &impl IsA<gtk::Widget>, label: &str) -> gtk::Button {
    find_widgets::<gtk::Button>(root)
        .into_iter()
        .find(|b| button_text(b).as_deref() == Some(label) && b.is_visible())
        .unwrap_or_else(|| panic!("no visible button labelled {label:?}"))
}

/// The button under `root` whose action is `action` (say `win.domain-start`).
pub fn action_button(root: &impl IsA<gtk::Widget>, action: &str) -> gtk::Button {
    find_widgets::<gtk::Button>(root)
        .into_iter()
        .find(|b| b.action_name().as_deref() == Some(action))
        .unwrap_or_else(|| panic!("no button for {action}"))
}
