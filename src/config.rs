//! Build-time constants: application id, version and install paths.

pub const APP_ID: &str = "io.github.vireo.Vireo";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GETTEXT_PACKAGE: &str = "vireo";
