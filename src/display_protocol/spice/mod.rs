//! SPICE through spice-client-glib (the GLib half of spice-gtk): [`SpiceSession`]
//! opens a session on a socket from libvirt or on an address, follows the main,
//! display, cursor and inputs channels, and talks to the guest agent for the
//! clipboard and the display size.
//!
//! A SPICE session is several connections, one per channel. Given an address, the
//! session opens them itself; given a socket from `virDomainOpenGraphicsFD`, every
//! further channel asks for its own, which a [`SocketSource`] provides (the VM tab's
//! source calls `virDomainOpenGraphicsFD` again on the connection's worker).

mod agent;
mod input;
mod session;

pub use session::{SessionOptions, SocketFuture, SocketSource, SpiceSession};
