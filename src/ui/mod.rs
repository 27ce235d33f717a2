//! Widgets, one per file, each with its template in `data/resources/ui/`.

mod add_connection_dialog;
mod connection_header;
mod connection_uri;
mod domain_row;
pub mod new_vm;
mod formatting;
mod preferences_window;
mod window;

pub use add_connection_dialog::AddConnectionDialog;
pub use connection_header::ConnectionHeader;
pub use domain_row::DomainRow;
pub use new_vm::NewVmDialog;
pub use preferences_window::PreferencesWindow;
pub use window::VireoWindow;
