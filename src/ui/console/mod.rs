//! Consoles of a virtual machine shown in its tab.

pub mod vnc;
mod vnc_display;

pub use vnc::canvas::ScaleMode;
pub use vnc::framebuffer::keep_frame_memory;
pub use vnc::status::ConsoleState;
pub use vnc_display::VncDisplay;
