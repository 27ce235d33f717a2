//! The consoles shown in a VM's tab: the graphical one (VNC or SPICE, one `GuestDisplay`)
//! and the serial one.

pub mod display;
mod guest_display;
mod serial;
mod serial_console;
mod spinner;

pub use display::canvas::ScaleMode;
pub use display::status::ConsoleState;
pub use guest_display::GuestDisplay;
pub use serial::session::device_label;
pub use serial_console::{SerialConsole, SerialStatus};
