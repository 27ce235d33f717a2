//! Waiting on the GLib main loop: the one pump, the one `wait_until`.
//!
//! Everything a test waits for (a libvirt event reaching the model, a widget drawn, a
//! guest's line on its console) arrives through the default main context, so waiting
//! means turning it. [`wait_until`] turns it until a check holds and panics with what
//! it waited for after its time limit; the check may return `bool`, `Option<T>` (the
//! wait returns the `T`) or `Result<T, E>` (the last error is in the panic message).

use std::fmt::Display;
use std::time::{Duration, Instant};

/// How long an event or an action may take to show (in the model, on screen).
pub const EVENT: Duration = Duration::from_secs(20);
/// How long the test guest may take to boot to its ready line under TCG on a loaded
/// machine (about 6 s on a quiet one).
pub const BOOT: Duration = Duration::from_secs(120);

/// What a check of [`wait_until`] returns.
pub trait Check {
    /// What the wait returns once the check holds.
    type Value;
    /// `Ok` once the check holds; `Err` with what it saw meanwhile, if anything.
    fn done(self) -> Result<Self::Value, Option<String>>;
}

impl Check for bool {
    type Value = ();
    fn done(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Check for Option<T> {
    type Value = T;
    fn done(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Display> Check for Result<T, E> {
    type Value = T;
    fn done(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(e.to_string()))
    }
}

/// Turns the main loop until `check` holds and returns what it gave; panics with
/// `what` (and the check's last error) after `timeout`.
pub fn wait_until<C: Check>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> C,
) -> C::Value {
    let end = Instant::now() + timeout;
    let beat = Beat::start();
    let result = loop {
        match check().done() {
            Ok(v) => break Ok(v),
            Err(seen) if Instant::now() >= end => break Err(seen),
            Err(_) => beat.turn(),
        }
    };
    match result {
        Ok(v) => v,
        Err(seen) => panic!(
            "timed out after {} s waiting for: {what}{}",
            timeout.as_secs_f64(),
            seen.map(|s| format!(" (last: {s})")).unwrap_or_default()
        ),
    }
}

/// Turns the main loop for `d`.
pub fn pump(d: Duration) {
    let end = Instant::now() + d;
    let beat = Beat::start();
    while Instant::now() < end {
        beat.turn();
    }
}

/// The one way the kit turns the main loop: wait in poll for whatever is due (as an
/// application does, so no test's sleep adds to what it measures), then dispatch it.
struct Beat(Option<glib::SourceId>);

impl Beat {
    fn start() -> Beat {
        // Wakes the blocking wait every 5 ms, to see the time limit and conditions
        // that no main-loop event announces (another process's doing). At low
        // priority: a beat due at every turn must not starve GTK's redraws, which run
        // below the default priority.
        Beat(Some(glib::timeout_add_local_full(
            Duration::from_millis(5),
            glib::Priority::LOW,
            || glib::ControlFlow::Continue,
        )))
    }

    /// Waits for what is due and dispatches it, then what else is pending for up to
    /// 20 ms, so that a costly condition is not looked at after every single source
    /// (a VNC picture compared after each socket read fell behind the server). Bounded,
    /// because a source may always be ready (one is while a login dialog waits).
    fn turn(&self) {
        let ctx = glib::MainContext::default();
        ctx.iteration(true);
        let until = Instant::now() + Duration::from_millis(20);
        while Instant::now() < until && ctx.iteration(false) {}
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        if let Some(source) = self.0.take() {
            source.remove();
        }
    }
}

/// Lets pending layout and drawing happen (300 ms of the main loop).
pub fn settle() {
    pump(Duration::from_millis(300));
}

/// Runs a future on the main context to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    glib::MainContext::default().block_on(f)
}
