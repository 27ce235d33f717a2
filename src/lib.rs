//! Vireo: a GTK4 + libadwaita manager for libvirt virtual machines.
//!
//! The code is layered and the arrows only point one way: `ui -> model -> virt`.
//! `virt` talks to libvirt and knows nothing of GTK, `model` holds the GObjects that
//! widgets bind to, and `ui` holds the widgets.

pub mod config;
pub mod model;
pub mod ui;
pub mod virt;
