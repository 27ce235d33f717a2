//! Consoles of a virtual machine shown in its tab.

pub mod vnc;
mod vnc_display;

pub use vnc::canvas::ScaleMode;
pub use vnc::status::ConsoleState;
pub use vnc_display::VncDisplay;
