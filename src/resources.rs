//! The compiled GResource bundle (UI templates, CSS, icons, shortcuts).

use gtk::gio;

pub fn register() {
    gio::resources_register_include!("vireo.gresource").expect("the bundled resources load");
}
