//! The consoles shown in a VM's tab: the graphical one (VNC) and the serial one.

mod serial;
mod serial_console;
mod spinner;
pub mod vnc;
mod vnc_display;

pub use serial::session::device_label;
pub use serial_console::{SerialConsole, SerialStatus};
pub use vnc::canvas::ScaleMode;
pub use vnc::status::ConsoleState;
pub use vnc_display::VncDisplay;
