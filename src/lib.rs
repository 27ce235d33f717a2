//! Vireo: a GTK4 + libadwaita manager for libvirt virtual machines.
//!
//! The code is layered and the arrows only point one way: `ui -> model -> virt`.
//! `virt` talks to libvirt and knows nothing of GTK, `model` holds the GObjects that
//! widgets bind to, and `ui` holds the widgets:
//!
//! ```text
//! VireoWindow (AdwApplicationWindow)
//! └── AdwToastOverlay
//!     ├── AdwHeaderBar (primary menu)
//!     └── GtkStack
//!         ├── AdwStatusPage            no connection yet
//!         └── GtkListView              ConnectionHeader + DomainRow items
//! ```

pub mod application;
pub mod cli;
pub mod config;
pub mod display_protocol;
pub mod ffi;
pub mod i18n;
pub mod logging;
pub mod model;
pub mod resources;
pub mod settings;
pub mod startup;
pub mod ui;
pub mod virt;
pub mod xml_cli;
