//! SPICE through spice-client-glib (the GLib half of spice-gtk): [`SpiceSession`]
//! opens a session on a socket from libvirt or on an address, follows the main,
//! display, cursor and inputs channels, and talks to the guest agent for the
//! clipboard and the display size.
//!
//! A SPICE session is several connections, one per channel. Given an address, the
//! session opens them itself; given a socket from `virDomainOpenGraphicsFD`, every
//! further channel asks for its own, which a [`SocketSource`] provides (the VM tab's
//! source calls `virDomainOpenGraphicsFD` again on the connection's worker).

/// A signal handler that calls `$body` with the session's state while the session
/// lives, and does nothing (or returns `$default`) once it is gone: handlers hold a
/// weak reference, so spice-gtk's objects never keep a dropped session alive.
macro_rules! while_alive {
    ($inner:expr, |$me:ident $(, $arg:pat_param)*| $body:expr) => {
        while_alive!($inner, |$me $(, $arg)*| $body, else ())
    };
    ($inner:expr, |$me:ident $(, $arg:pat_param)*| $body:expr, else $default:expr) => {{
        let weak = ::std::rc::Rc::downgrade($inner);
        move |$($arg),*| match weak.upgrade() {
            Some($me) => $body,
            None => $default,
        }
    }};
}

mod agent;
mod input;
mod session;

pub use session::{SessionOptions, SocketFuture, SocketSource, SpiceSession};
