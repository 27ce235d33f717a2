//! Fetching a network install tree's kernel and initrd over HTTP from a local server
//! (python3's http.server) laid out like real distribution trees.

mod kit;

use kit::testbed::HttpServer;
use vireo::virt::new_vm::tree::{fetch_boot_files, http_get_to, FetchError};

fn tmp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vireo-tree-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn fetches_from_fedora_and_debian_layouts() {
    let root = tmp("srv");
    let fedora = root.join("fedora/images/pxeboot");
    std::fs::create_dir_all(&fedora).unwrap();
    std::fs::write(fedora.join("vmlinuz"), b"fedora kernel").unwrap();
    std::fs::write(fedora.join("initrd.img"), vec![7u8; 300_000]).unwrap();
    let deb = root.join(
        "debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64",
    );
    std::fs::create_dir_all(&deb).unwrap();
    std::fs::write(deb.join("linux"), b"debian kernel").unwrap();
    std::fs::write(deb.join("initrd.gz"), b"debian initrd").unwrap();
    let s = HttpServer::start(&root);

    let out = tmp("f");
    let (k, i) = fetch_boot_files(&format!("{}fedora", s.url()), "x86_64", &out).unwrap();
    assert_eq!(std::fs::read(k).unwrap(), b"fedora kernel");
    assert_eq!(std::fs::read(i).unwrap().len(), 300_000);

    let out = tmp("d");
    let url = format!("{}debian/dists/bookworm/", s.url());
    let (k, _) = fetch_boot_files(&url, "x86_64", &out).unwrap();
    assert_eq!(std::fs::read(k).unwrap(), b"debian kernel");

    // A directory without a trailing slash answers with a redirect.
    let n = http_get_to(&format!("{}fedora", s.url()), &out.join("index")).unwrap();
    assert!(n > 0);

    let e = fetch_boot_files(&format!("{}nothing/", s.url()), "x86_64", &out).unwrap_err();
    assert!(matches!(e, FetchError::NotATree(_)), "{e}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn https_is_refused_plainly() {
    let e = fetch_boot_files(
        "https://dl.fedoraproject.org/pub/fedora/",
        "x86_64",
        &tmp("h"),
    )
    .unwrap_err();
    assert!(matches!(e, FetchError::Scheme(_)), "{e}");
}

#[test]
fn closed_port_is_an_io_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = http_get_to(&format!("http://127.0.0.1:{port}/x"), &tmp("c").join("x")).unwrap_err();
    assert!(matches!(e, FetchError::Io(_)), "{e}");
}
