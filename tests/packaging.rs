//! Checks the packaging files under data/ and flatpak/ with the tools distributions and
//! Flathub use (desktop-file-validate, appstreamcli, glib-compile-schemas, gsettings),
//! and checks that the Flatpak manifest names what a working build needs. No display.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const APP_ID: &str = "io.github.vireo.Vireo";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> PathBuf {
    root().join("data").join(name)
}

/// Runs a packaging tool; a missing tool is a failure, not a skip, because CI installs it.
fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {program} ({err}); tools/install-deps.sh installs it")
        })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts exit 0 and shows what the tool said otherwise.
fn assert_success(what: &str, output: &Output) -> String {
    let said = text(output);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{said}",
        output.status
    );
    said
}

// ---------------------------------------------------------------- validators

#[test]
fn desktop_file_is_valid() {
    let path = data(&format!("{APP_ID}.desktop"));
    let out = run("desktop-file-validate", &[path.to_str().unwrap()], &[]);
    let said = assert_success("desktop-file-validate", &out);
    // Hints are fine; warnings mean a desktop environment may ignore part of the file.
    assert!(
        !said.contains("error:") && !said.contains("warning:"),
        "desktop-file-validate complained:\n{said}"
    );
}

#[test]
fn metainfo_is_valid_without_warnings() {
    let path = data(&format!("{APP_ID}.metainfo.xml"));
    let out = run(
        "appstreamcli",
        &["validate", "--no-net", path.to_str().unwrap()],
        &[],
    );
    let said = assert_success("appstreamcli validate --no-net", &out);
    let problems: Vec<&str> = said
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:"))
        .collect();
    assert!(
        problems.is_empty(),
        "appstreamcli reported errors or warnings:\n{said}"
    );
}

#[test]
fn gschema_compiles_strictly() {
    let out = run(
        "glib-compile-schemas",
        &["--strict", "--dry-run", "data/"],
        &[],
    );
    assert_success("glib-compile-schemas --strict --dry-run data/", &out);
}

// ---------------------------------------------------------------- settings keys

/// (key, what `gsettings range` prints, default as `gsettings get` prints it).
/// The application reads these keys by name: changing one here means changing the code.
const KEYS: &[(&str, &str, &str)] = &[
    ("window-width", "type i", "1100"),
    ("window-height", "type i", "720"),
    ("window-maximized", "type b", "false"),
    ("connections", "type as", "@as []"),
    ("autoconnect", "type as", "@as []"),
    ("connections-initialized", "type b", "false"),
    ("stats-interval", "range u 250 60000", "uint32 1000"),
    ("stats-cpu", "type b", "true"),
    ("stats-memory", "type b", "true"),
    ("stats-disk", "type b", "false"),
    ("stats-network", "type b", "false"),
    ("confirm-destructive", "type b", "true"),
    ("style", "enum 'system' 'light' 'dark'", "'system'"),
    ("console-scale", "enum 'fit' 'one-to-one'", "'fit'"),
    ("console-resize-guest", "type b", "false"),
    ("console-grab-keyboard", "type b", "true"),
    ("console-share-clipboard", "type b", "true"),
    ("terminal-font", "type s", "''"),
    (
        "terminal-palette",
        "enum 'system' 'light' 'dark' 'solarized-dark' 'solarized-light'",
        "'system'",
    ),
    ("terminal-scrollback", "type i", "10000"),
];

/// Compiles the schema into a fresh directory so gsettings can read it uninstalled.
fn compiled_schema_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vireo-packaging-schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = format!("--targetdir={}", dir.display());
    let out = run("glib-compile-schemas", &["--strict", &target, "data/"], &[]);
    assert_success("glib-compile-schemas", &out);
    dir
}

fn gsettings(schemadir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--schemadir", schemadir.to_str().unwrap()];
    all.extend_from_slice(args);
    // The memory backend reports the schema's defaults, whatever the user's dconf holds.
    let out = run("gsettings", &all, &[("GSETTINGS_BACKEND", "memory")]);
    assert_success(&format!("gsettings {}", args.join(" ")), &out)
}

#[test]
fn gschema_keys_match_what_the_app_reads() {
    let dir = compiled_schema_dir();

    let paths = gsettings(&dir, &["list-schemas", "--print-paths"]);
    assert!(
        paths
            .lines()
            .any(|l| l.trim() == format!("{APP_ID} /io/github/vireo/Vireo/")),
        "schema {APP_ID} with path /io/github/vireo/Vireo/ not found in:\n{paths}"
    );

    let listed = gsettings(&dir, &["list-recursively", APP_ID]);
    let found: BTreeSet<(String, String)> = listed
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{APP_ID} ")))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let wanted: BTreeSet<(String, String)> = KEYS
        .iter()
        .map(|(k, _, d)| ((*k).to_owned(), (*d).to_owned()))
        .collect();
    assert_eq!(
        found, wanted,
        "keys and defaults differ (left: schema, right: expected)"
    );

    for (key, range, _) in KEYS {
        let got = gsettings(&dir, &["range", APP_ID, key]);
        assert_eq!(
            got.split_whitespace().collect::<Vec<_>>().join(" "),
            *range,
            "type or range of {key}"
        );
        let described = gsettings(&dir, &["describe", APP_ID, key]);
        assert!(
            !described.trim().is_empty(),
            "{key} has no description for dconf-editor and translators"
        );
    }
    std::fs::remove_dir_all(&dir).ok();

    let xml = std::fs::read_to_string(data(&format!("{APP_ID}.gschema.xml"))).unwrap();
    assert!(
        xml.contains(r#"gettext-domain="vireo""#),
        "summaries must be translatable in the vireo domain"
    );
}

// ---------------------------------------------------------------- cross references

#[test]
fn desktop_metainfo_and_icons_agree() {
    let desktop = std::fs::read_to_string(data(&format!("{APP_ID}.desktop"))).unwrap();
    let field = |name: &str| {
        desktop
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name}= missing from the desktop file"))
            .to_owned()
    };
    assert_eq!(field("Icon"), APP_ID);
    assert_eq!(field("Exec"), "vireo");
    for lang_field in ["Name[fr]", "GenericName[fr]", "Comment[fr]", "Keywords[fr]"] {
        field(lang_field);
    }

    let metainfo = std::fs::read_to_string(data(&format!("{APP_ID}.metainfo.xml"))).unwrap();
    for needle in [
        format!("<id>{APP_ID}</id>"),
        format!(r#"<launchable type="desktop-id">{APP_ID}.desktop</launchable>"#),
        "<binary>vireo</binary>".to_owned(),
        r#"<translation type="gettext">vireo</translation>"#.to_owned(),
        r#"<release version=""#.to_owned() + env!("CARGO_PKG_VERSION") + "\"",
    ] {
        assert!(metainfo.contains(&needle), "metainfo lacks {needle}");
    }

    for icon in [
        format!("icons/hicolor/scalable/apps/{APP_ID}.svg"),
        format!("icons/hicolor/symbolic/apps/{APP_ID}-symbolic.svg"),
    ] {
        let svg =
            std::fs::read_to_string(data(&icon)).unwrap_or_else(|e| panic!("data/{icon}: {e}"));
        assert!(svg.contains("<svg"), "data/{icon} is not an SVG");
    }
}

// ---------------------------------------------------------------- flatpak manifest

fn manifest() -> Value {
    let path = root().join("flatpak").join(format!("{APP_ID}.json"));
    let raw = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every module, nested ones included (flatpak-builder allows modules inside modules).
fn modules(value: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    for module in value["modules"].as_array().into_iter().flatten() {
        if module.is_object() {
            found.push(module);
            found.extend(modules(module));
        }
    }
    found
}

fn module<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    modules(manifest)
        .into_iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("the manifest builds no module named {name}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn flatpak_manifest_names_what_it_must() {
    let m = manifest();
    assert_eq!(m["id"], APP_ID);
    assert_eq!(m["runtime"], "org.gnome.Platform");
    assert_eq!(m["sdk"], "org.gnome.Sdk");
    assert_eq!(m["command"], "vireo");
    assert!(
        strings(&m["sdk-extensions"]).contains(&"org.freedesktop.Sdk.Extension.rust-stable"),
        "cargo comes from the rust-stable SDK extension"
    );

    let args = strings(&m["finish-args"]);
    for needed in [
        "--socket=wayland",
        "--socket=fallback-x11",
        "--share=ipc",
        "--device=dri",
        "--share=network",
        "--filesystem=/run/libvirt",
        "--filesystem=xdg-run/libvirt",
    ] {
        assert!(
            args.contains(&needed),
            "finish-args lack {needed}: {args:?}"
        );
    }

    // The client library must look for the system socket where finish-args expose it.
    let libvirt = strings(&module(&m, "libvirt")["config-opts"]);
    for opt in [
        "-Ddriver_remote=enabled",
        "-Ddriver_test=enabled",
        "-Ddriver_libvirtd=disabled",
        "-Drunstatedir=/run",
    ] {
        assert!(libvirt.contains(&opt), "libvirt config-opts lack {opt}");
    }
    let vte = strings(&module(&m, "vte")["config-opts"]);
    assert!(vte.contains(&"-Dgtk4=true") && vte.contains(&"-Dgtk3=false"));
    module(&m, "gtk-vnc");
    module(&m, "osinfo-db");

    // Vireo is the last module: everything it links is built before it.
    let names: Vec<&str> = modules(&m)
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names.last(), Some(&"vireo"), "module order: {names:?}");
}

#[test]
fn flatpak_sources_are_pinned() {
    let m = manifest();
    for module in modules(&m) {
        let name = module["name"].as_str().unwrap_or("?");
        for source in module["sources"].as_array().into_iter().flatten() {
            let Some(kind) = source["type"].as_str() else {
                continue; // a string: the path of a generated sources file
            };
            if kind == "archive" || kind == "file" {
                let url = source["url"].as_str().unwrap_or_default();
                let sha = source["sha256"].as_str().unwrap_or_default();
                assert!(url.starts_with("https://"), "{name}: url {url:?}");
                assert!(
                    sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{name}: sha256 {sha:?} of {url}"
                );
            }
            if kind == "git" {
                assert!(
                    source.get("tag").is_some() || source.get("commit").is_some(),
                    "{name}: git source without tag or commit"
                );
            }
        }
    }
}

#[test]
fn flatpak_vireo_module_builds_offline_and_installs_real_files() {
    let m = manifest();
    let vireo = module(&m, "vireo");
    let sources = vireo["sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s == "cargo-sources.json"),
        "the vendored crates come from the generated cargo-sources.json"
    );
    let commands = strings(&vireo["build-commands"]);
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("cargo --offline build --release")),
        "cargo must build offline: {commands:?}"
    );
    let env = &vireo["build-options"]["env"];
    assert_eq!(env["VIREO_LOCALEDIR"], "/app/share/locale");
    assert_eq!(env["VIREO_SCHEMADIR"], "/app/share/glib-2.0/schemas");

    // Every data file the module installs exists in the repository.
    let installed: Vec<&str> = commands
        .iter()
        .flat_map(|c| c.split_whitespace())
        .filter(|word| word.starts_with("data/"))
        .collect();
    assert!(installed.len() >= 5, "installs too little: {installed:?}");
    for file in installed {
        assert!(
            root().join(file).is_file(),
            "{file} is installed but missing"
        );
    }
}
