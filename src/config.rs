//! Build-time constants: application id, version and where data files are found.
//!
//! Installed builds set `VIREO_LOCALEDIR` and `VIREO_SCHEMADIR` at compile time; plain
//! `cargo run` uses the copies build.rs compiled into OUT_DIR.

pub const APP_ID: &str = "io.github.vireo.Vireo";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GETTEXT_PACKAGE: &str = "vireo";
pub const RESOURCE_BASE: &str = "/io/github/vireo/Vireo";

pub const LOCALEDIR: &str = match option_env!("VIREO_LOCALEDIR") {
    Some(dir) => dir,
    None => env!("VIREO_BUILD_LOCALEDIR"),
};

/// The compiled schema next to the build, used when the schema is not installed.
pub const BUILD_SCHEMADIR: &str = env!("VIREO_BUILD_SCHEMADIR");

/// The demo connection opened when no local hypervisor answers.
pub const DEMO_URI: &str = "test:///default";
