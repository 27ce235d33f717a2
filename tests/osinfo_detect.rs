//! OS detection against the host's real osinfo database, with ISO images made here by
//! xorriso whose identifiers are those of real distributions' media.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use vireo::virt::osinfo::{read_iso_info, DeviceKind, OsDb};

fn db() -> &'static OsDb {
    static DB: OnceLock<OsDb> = OnceLock::new();
    DB.get_or_init(|| OsDb::load_system().expect("osinfo-db must be installed"))
}

struct Iso {
    volid: &'static str,
    sysid: Option<&'static str>,
    publisher: Option<&'static str>,
    appid: Option<&'static str>,
}

fn make_iso(tag: &str, iso: &Iso) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vireo-osinfo-{}-{tag}", std::process::id()));
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("README"), "made by vireo's tests\n").unwrap();
    let out = dir.join("medium.iso");
    let mut cmd = Command::new("xorriso");
    cmd.args(["-as", "mkisofs", "-quiet", "-V", iso.volid]);
    if let Some(s) = iso.sysid {
        cmd.args(["-sysid", s]);
    }
    if let Some(p) = iso.publisher {
        cmd.args(["-publisher", p]);
    }
    if let Some(a) = iso.appid {
        cmd.args(["-A", a]);
    }
    cmd.arg("-o").arg(&out).arg(&root);
    let st = cmd.output().expect("xorriso must be installed");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

fn detect(tag: &str, iso: Iso) -> Option<String> {
    let path = make_iso(tag, &iso);
    let info = read_iso_info(&path).unwrap();
    assert_eq!(info.volume_id, iso.volid, "PVD volume id read back");
    if let Some(s) = iso.sysid {
        assert_eq!(info.system_id, s);
    }
    let r = db()
        .identify_file(&path, Some("x86_64"))
        .unwrap()
        .map(|(os, _)| os.short_id().to_owned());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    r
}

fn plain(volid: &'static str) -> Iso {
    Iso {
        volid,
        sysid: None,
        publisher: None,
        appid: None,
    }
}

#[test]
fn database_loads() {
    let db = db();
    assert!(db.oses().len() > 500, "{} OSes", db.oses().len());
    let d = db.by_short_id("debian11").unwrap();
    assert_eq!(d.name, "Debian 11");
    assert_eq!(d.vendor, "Debian Project");
    assert_eq!(d.family, "linux");
    assert_eq!(d.release_date.as_deref(), Some("2021-08-14"));
    assert_eq!(db.by_short_id("debianbullseye").unwrap().id, d.id);
    let r = db.resources(d, "x86_64");
    assert_eq!(r.minimum.ram, Some(1 << 30));
    assert_eq!(r.recommended.storage, Some(20 << 30));
}

#[test]
fn devices_are_inherited() {
    let db = db();
    let d11 = db.by_short_id("debian11").unwrap();
    // Debian 11's own file lists only virtio-gpu and virtio-fs; virtio-net and -blk
    // come from the releases it derives from.
    assert!(!d11.devices.iter().any(|x| x.id.ends_with("1af4/1000")));
    assert!(db.supports(d11, DeviceKind::VirtioNet));
    assert!(db.supports(d11, DeviceKind::VirtioBlock));
    assert!(db.supports(d11, DeviceKind::VirtioGpu));
    let dos = db.by_short_id("msdos6.22").unwrap();
    assert!(!db.supports(dos, DeviceKind::VirtioNet));
    let xp = db.by_short_id("winxp").unwrap();
    assert!(!db.supports(xp, DeviceKind::VirtioBlock));
}

#[test]
fn firmware_rules() {
    let db = db();
    let w11 = db.by_short_id("win11").unwrap();
    assert!(db.requires_uefi(w11, "x86_64"));
    let d11 = db.by_short_id("debian11").unwrap();
    assert!(!db.requires_uefi(d11, "x86_64"));
    assert!(db.supports_uefi(d11, "x86_64"));
}

#[test]
fn search_finds_by_words() {
    let hits = db().search("ubuntu 22.04", "2026-01-01");
    assert_eq!(hits[0].short_id(), "ubuntu22.04");
    let hits = db().search("FEDORA", "2026-01-01");
    assert!(hits.len() > 20);
    assert!(db().search("no such os at all", "2026-01-01").is_empty());
}

#[test]
fn debian_netinst() {
    assert_eq!(
        detect("deb11", plain("Debian 11.7.0 amd64 n")).as_deref(),
        Some("debian11")
    );
    // Wrong architecture: the i386 netinst is no x86_64 medium.
    assert_eq!(detect("deb11i386", plain("Debian 11.7.0 i386 n")), None);
}

#[test]
fn debian_12_is_not_mistaken_for_11() {
    // This osinfo-db (2022-12) predates Debian 12: no match beats a wrong match.
    let got = detect("deb12", plain("Debian 12.0.0 amd64 n"));
    assert!(
        got.is_none() || got.as_deref() == Some("debian12"),
        "{got:?}"
    );
}

#[test]
fn fedora_live() {
    assert_eq!(
        detect("f37", plain("Fedora-WS-Live-37-1-7")).as_deref(),
        Some("fedora37")
    );
    // A release newer than the database: the "unknown Fedora" entry.
    assert_eq!(
        detect("f39", plain("Fedora-WS-Live-39-1-5")).as_deref(),
        Some("fedora-unknown")
    );
}

#[test]
fn fedora_server_dvd_with_system_id() {
    let got = detect(
        "f37s",
        Iso {
            volid: "Fedora-S-dvd-x86_64-37",
            sysid: Some("LINUX"),
            publisher: None,
            appid: None,
        },
    );
    assert_eq!(got.as_deref(), Some("fedora37"));
}

#[test]
fn ubuntu_server() {
    assert_eq!(
        detect("u2204", plain("Ubuntu-Server 22.04.3 LTS amd64")).as_deref(),
        Some("ubuntu22.04")
    );
}

#[test]
fn windows_needs_publisher() {
    let with = Iso {
        volid: "CCCOMA_X64FRE_EN-US_DV9",
        sysid: None,
        publisher: Some("MICROSOFT CORPORATION"),
        appid: None,
    };
    // Windows 8, 10 and 11 consumer media share this pattern: the newest wins.
    assert_eq!(detect("w11", with).as_deref(), Some("win11"));
    let server = Iso {
        volid: "SSS_X64FREE_EN-US_DV9",
        sysid: None,
        publisher: Some("MICROSOFT CORPORATION"),
        appid: None,
    };
    assert_eq!(detect("w2k22", server).as_deref(), Some("win2k22"));
    assert_eq!(detect("w11nopub", plain("CCCOMA_X64FRE_EN-US_DV9")), None);
}

#[test]
fn unknown_medium() {
    assert_eq!(detect("none", plain("MY_HOME_BACKUP")), None);
}

#[test]
fn not_an_iso() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    assert!(read_iso_info(&p).is_err());
}
