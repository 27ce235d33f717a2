//! The parts of the guest display widget (VNC or SPICE): key translation, encodings, framebuffer and
//! textures, the frame pipeline, the drawing canvas and its tiles, authentication, input, states and actions.

pub mod actions;
pub mod auth;
pub mod canvas;
mod connection;
pub mod encodings;
pub mod framebuffer;
pub mod frames;
pub mod input;
pub mod keymap;
pub mod session;
mod signals;
pub mod status;
mod tiles;
