//! Compiles what `cargo run` needs uninstalled: the GResource bundle, the GSettings
//! schema and the translations, all under OUT_DIR.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    glib_build_tools::compile_resources(
        &["data/resources"],
        "data/resources/resources.gresource.xml",
        "vireo.gresource",
    );

    compile_schemas(&out_dir.join("schemas"));
    compile_translations(&out_dir.join("locale"));

    println!("cargo:rerun-if-changed=data/io.github.vireo.Vireo.gschema.xml");
    println!("cargo:rerun-if-changed=po");
}

fn compile_schemas(target: &Path) {
    std::fs::create_dir_all(target).expect("create schema dir");
    let status = Command::new("glib-compile-schemas")
        .arg("--strict")
        .arg(format!("--targetdir={}", target.display()))
        .arg("data")
        .status()
        .expect("glib-compile-schemas is needed (Debian: libglib2.0-bin)");
    assert!(status.success(), "glib-compile-schemas failed");
    println!("cargo:rustc-env=VIREO_BUILD_SCHEMADIR={}", target.display());
}

fn compile_translations(target: &Path) {
    let linguas = std::fs::read_to_string("po/LINGUAS").unwrap_or_default();
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let po = format!("po/{lang}.po");
        let dir = target.join(lang).join("LC_MESSAGES");
        std::fs::create_dir_all(&dir).expect("create locale dir");
        let status = Command::new("msgfmt")
            .arg("--check")
            .arg("-o")
            .arg(dir.join("vireo.mo"))
            .arg(&po)
            .status()
            .expect("msgfmt is needed (Debian: gettext)");
        assert!(status.success(), "msgfmt failed on {po}");
    }
    println!("cargo:rustc-env=VIREO_BUILD_LOCALEDIR={}", target.display());
}
