//! Real input on the test's X display (Xvfb): key presses, typing and pointer moves
//! through `xdotool` (XTEST), so they reach GTK as a person's would; [`press_keys`] and
//! [`type_text`] aim them at a window of the in-process app.

use std::process::{Command, Stdio};
use std::time::Duration;

use gtk::prelude::*;

use super::wait::{pump, wait_until, EVENT};

/// Runs `xdotool ARGS...` on the display, turning the main loop meanwhile (an
/// in-process window must answer `search --sync`), then lets GTK handle the events for
/// 100 ms. Panics if xdotool fails.
pub fn xdotool(args: &[&str]) {
    let mut child = Command::new("xdotool")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xdotool (tools/install-deps.sh test installs it)");
    let status = wait_until(
        &format!("xdotool {args:?}"),
        Duration::from_secs(10),
        || child.try_wait().ok().flatten(),
    );
    let out = child.wait_with_output().expect("xdotool's output");
    assert!(
        status.success(),
        "xdotool {args:?} failed ({status}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pump(Duration::from_millis(100));
}

/// Moves the X pointer to screen point (`x`, `y`) and waits until it is there.
///
/// `xdotool mousemove --sync` waits for the pointer to *move*, so it never returns
/// when the pointer already stands on the target (a second click on the same
/// button, an element at the screen's centre where Xvfb starts the pointer). Such
/// a move is skipped.
pub fn move_pointer(x: i32, y: i32) {
    let location = xdotool_output(&["getmouselocation", "--shell"]);
    let at = |name: &str| {
        location.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix('=')?
                .trim()
                .parse::<i32>()
                .ok()
        })
    };
    if at("X") == Some(x) && at("Y") == Some(y) {
        return;
    }
    xdotool(&["mousemove", "--sync", &x.to_string(), &y.to_string()]);
}

/// Runs `xdotool ARGS...` without a main loop of this process and returns its stdout
/// (for queries: `search`, `getwindowgeometry`). Panics if it fails.
pub fn xdotool_output(args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("xdotool (tools/install-deps.sh test installs it)");
    assert!(
        out.status.success(),
        "xdotool {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first visible X window of process `pid` named exactly `title`, waited for up to
/// `timeout` (for a separate process: this process's main loop is not needed).
pub fn find_window(pid: u32, title: &str, timeout: Duration) -> String {
    let pid = pid.to_string();
    let pattern = format!("^{}$", regex::escape(title));
    wait_until(&format!("the window {title:?}"), timeout, || {
        let out = Command::new("xdotool")
            // --all: by default xdotool matches ANY condition, so every window of
            // the app would match through --pid alone, the main window first.
            .args([
                "search",
                "--all",
                "--onlyvisible",
                "--pid",
                &pid,
                "--name",
                &pattern,
            ])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(str::to_owned)
    })
}

/// The X keysym name of a character typed with `xdotool key`.
pub fn keysym(c: char) -> String {
    match c {
        ' ' => "space".into(),
        '-' => "minus".into(),
        c => c.to_string(),
    }
}

/// Presses `keys` (xdotool's names: "ctrl+w", "shift+F10", "Escape") into `window` of
/// the in-process app, through the X server as a person's keyboard does: the window is
/// brought up and given the keyboard first.
pub fn press_keys(window: &impl IsA<gtk::Window>, keys: &str) {
    focus(window);
    xdotool(&["key", "--clearmodifiers", keys]);
    // What the keys do shows (or, for a check that nothing happened, would have).
    super::wait::settle();
}

/// Types `text` on the keyboard into `window` of the in-process app.
pub fn type_text(window: &impl IsA<gtk::Window>, text: &str) {
    focus(window);
    xdotool(&["type", "--clearmodifiers", text]);
    super::wait::settle();
}

fn focus(window: &impl IsA<gtk::Window>) {
    window.present();
    wait_until("the window has the keyboard's focus", EVENT, || {
        window.is_active()
    });
}
