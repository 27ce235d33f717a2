//! Vireo: a GTK4 + libadwaita manager for libvirt virtual machines.
//!
//! The code is layered and the arrows only point one way: `ui -> model -> virt`.
//! `virt` talks to libvirt and knows nothing of GTK, `model` holds the GObjects that
//! widgets bind to, and `ui` holds the widgets:
//!
//! ```text
//! VireoWindow (AdwApplicationWindow)
//! └── AdwToastOverlay
//!     └── GtkBox
//!         ├── AdwHeaderBar          title, New VM, sort, search, primary menu
//!         ├── GtkRevealer           hint when the local host cannot be reached
//!         ├── AdwTabBar
//!         └── AdwTabView
//!             ├── VireoDomainListView   pinned first tab: search bar, GtkStack of
//!             │                         AdwStatusPages (empty, failed...) and the
//!             │                         GtkListView of ConnectionHeader + DomainRow,
//!             │                         GtkActionBar for the selected VM
//!             └── VireoVmPage           one tab per opened VM: header (run, pause,
//!                 │                     view switcher), AdwViewStack of
//!                 ├── Console           GtkStack: GuestDisplay | SerialConsole
//!                 ├── Details           AdwPreferencesPage
//!                 └── XML               GtkTextView of the live definition
//! ```
//!
//! Dialogs (new VM wizard, login, add connection, preferences) are windows of their
//! own over this one. Raw C calls (libvirt, gvnc, SPICE, X11, glibc) live in [`ffi`]
//! only, as safe wrappers; every other module is denied raw code by the crate's lints.

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
