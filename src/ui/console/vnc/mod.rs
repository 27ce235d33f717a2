//! The parts of the VNC console widget: key translation, framebuffer and textures, the
//! drawing canvas, input, states and actions.

pub mod actions;
pub mod canvas;
pub mod framebuffer;
pub mod input;
pub mod keymap;
pub mod status;
