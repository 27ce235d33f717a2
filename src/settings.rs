//! Vireo's GSettings, found installed or next to the build.

use gtk::gio;

use crate::config;

/// The application's settings. Falls back to the schema compiled by build.rs so that an
/// uninstalled `cargo run` works.
pub fn settings() -> gio::Settings {
    if let Some(schema) =
        gio::SettingsSchemaSource::default().and_then(|s| s.lookup(config::APP_ID, true))
    {
        return gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None);
    }
    let source = gio::SettingsSchemaSource::from_directory(
        config::BUILD_SCHEMADIR,
        gio::SettingsSchemaSource::default().as_ref(),
        false,
    )
    .expect("the compiled settings schema is readable");
    let schema = source
        .lookup(config::APP_ID, false)
        .expect("the settings schema holds io.github.vireo.Vireo");
    gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None)
}

thread_local! {
    static SHARED: gio::Settings = settings();
}

/// One settings object for the many widgets that bind to it (list rows).
pub fn shared() -> gio::Settings {
    SHARED.with(Clone::clone)
}
