//! The consoles shown in a VM's tab.

mod serial;
mod serial_console;

pub use serial::session::device_label;
pub use serial_console::{SerialConsole, SerialStatus};
