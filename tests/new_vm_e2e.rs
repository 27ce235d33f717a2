//! End to end on the test bed (the private `qemu:///system` daemon, real QEMU under
//! TCG; the embedded driver has no storage pools): a VM made by
//! the wizard's creation path from the guest's ISO boots and its serial console shows
//! the guest's ready line; a creation whose start fails leaves no volume, no disk file
//! and no domain behind.
//!
//! Needs root and QEMU; skipped with one loud line where they are missing, except in CI.

mod kit;

use std::time::Instant;

use kit::console::SerialConsole;
use kit::model::connect;
use kit::testbed::{self, daemon, Guest, HttpServer, Need, SystemDaemon, READY_LINE};
use kit::{block_on, test, Runner, BOOT};
use vireo::model::ConnectionObject;
use vireo::virt::cloud_init;
use vireo::virt::handles::release_connect;
use vireo::virt::new_vm::host::{self, HostInfo};
use vireo::virt::new_vm::{
    create, tree, CloudInit, CreatePlan, DiskFormat, Firmware, InstallMethod, MediaSource,
    NetworkChoice, NewVmSpec, Storage, TreeBoot,
};

/// Where the wizard makes the "default" pool if the daemon has none.
fn images() -> std::path::PathBuf {
    testbed::state_dir().join("wizard-images")
}

fn open() -> ConnectionObject {
    daemon();
    let c = connect(SystemDaemon::URI);
    c.set_stats_interval(0);
    c
}

fn host_info(c: &ConnectionObject) -> HostInfo {
    block_on(c.with_connect(host::gather))
        .expect("connected")
        .expect("host facts")
}

/// The spec the wizard builds for "local install medium, generic OS, new disk".
fn spec(h: &HostInfo, name: &str, iso: String) -> NewVmSpec {
    let arch = "x86_64".to_owned();
    // /dev/kvm here is a nested KVM that cannot run the guest: TCG unless asked.
    let domain_type = if std::env::var_os("VIREO_TEST_KVM").is_some() {
        h.caps.best_domain_type(&arch).expect("x86_64 guests")
    } else {
        "qemu".to_owned()
    };
    NewVmSpec {
        name: name.into(),
        machine: h.caps.default_machine(&arch).expect("a machine type"),
        arch,
        domain_type,
        firmware: Firmware::Bios,
        install: InstallMethod::LocalMedia(MediaSource::Path(iso)),
        memory_mib: 192,
        vcpus: 1,
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 1,
        },
        network: NetworkChoice::User,
        os: None,
    }
}

fn domain_exists(c: &ConnectionObject, name: &str) -> bool {
    let name = name.to_owned();
    block_on(c.with_connect(move |conn| conn.lookup_domain_by_name(&name).is_ok()))
        .expect("connected")
}

fn pool_volumes(c: &ConnectionObject) -> Vec<String> {
    block_on(c.with_connect(|conn| {
        let p = conn.lookup_storage_pool_by_name("default").ok()?;
        p.refresh(0).ok()?;
        p.list_volumes().ok()
    }))
    .expect("connected")
    .unwrap_or_default()
}

/// The serial console of the domain with `uuid` (made by the creation path, not yet
/// in the test's hands as a model object).
fn console(c: &ConnectionObject, uuid: &str) -> SerialConsole {
    let raw = c.raw().expect("open connection");
    let con = SerialConsole::open(&raw, uuid);
    release_connect(raw);
    con.expect("serial console")
}

fn wizard_vm_boots_from_the_guest_iso() {
    let guest = Guest::get().expect("guest");
    let c = open();
    let h = host_info(&c);
    assert_eq!(h.default_arch(), "x86_64");
    let s = spec(
        &h,
        "vireo-test-wizard",
        guest.iso.to_string_lossy().into_owned(),
    );
    let images = images();
    let plan =
        CreatePlan::from_spec(&s, None, Some(images.to_string_lossy().into_owned()), true).unwrap();
    let t = Instant::now();
    let made = block_on(c.with_connect(move |conn| create(conn, &plan)))
        .expect("connected")
        .unwrap_or_else(|e| panic!("creation failed: {e}"));
    println!(
        "  created and started in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert!(made.started);
    let disk = block_on(c.with_connect(|conn| {
        let p = conn
            .lookup_storage_pool_by_name("default")
            .expect("the default pool");
        p.lookup_storage_vol_by_name("vireo-test-wizard.qcow2")
            .expect("the new volume")
            .path()
            .expect("path")
    }))
    .expect("connected");
    assert!(std::path::Path::new(&disk).is_file(), "{disk}");
    let con = console(&c, &made.uuid);
    // The new disk is empty: the firmware skips it and boots the ISO.
    con.wait_lines(READY_LINE, 1, BOOT);
    println!(
        "  {READY_LINE} {:.1} s after creation",
        t.elapsed().as_secs_f64()
    );
    // Clean up through libvirt.
    let uuid = made.uuid.clone();
    block_on(c.with_connect(move |conn| {
        let d = conn.lookup_domain_by_uuid_string(&uuid).expect("domain");
        let _ = d.destroy();
        d.undefine().expect("undefine");
        let p = conn.lookup_storage_pool_by_name("default").expect("pool");
        p.lookup_storage_vol_by_name("vireo-test-wizard.qcow2")
            .expect("vol")
            .delete(0)
            .expect("delete");
    }))
    .expect("connected");
    drop(con);
    c.close();
}

fn network_install_boots_the_trees_kernel() {
    let guest = Guest::get().expect("guest");
    // A distribution tree laid out like Fedora's, holding the test guest's kernel.
    let tree = testbed::state_dir().join("wizard-tree");
    std::fs::create_dir_all(tree.join("images/pxeboot")).unwrap();
    std::fs::copy(&guest.kernel, tree.join("images/pxeboot/vmlinuz")).unwrap();
    std::fs::copy(&guest.initrd, tree.join("images/pxeboot/initrd.img")).unwrap();
    let server = HttpServer::start(&tree);
    let url = server.url();

    let c = open();
    let h = host_info(&c);
    let mut s = spec(&h, "vireo-test-wizard-net", String::new());
    s.install = InstallMethod::NetworkTree {
        url: url.clone(),
        boot: TreeBoot {
            kernel: tree::KERNEL_PLACEHOLDER.into(),
            initrd: tree::INITRD_PLACEHOLDER.into(),
            args: "console=tty0 console=ttyS0".into(),
        },
    };
    let dl = testbed::state_dir().join("wizard-tree-download");
    let (k, i) = tree::fetch_boot_files(&url, &s.arch, &dl).expect("fetch");
    assert_eq!(
        std::fs::read(&k).unwrap(),
        std::fs::read(&guest.kernel).unwrap()
    );
    let mut plan = CreatePlan::from_spec(
        &s,
        None,
        Some(images().to_string_lossy().into_owned()),
        true,
    )
    .unwrap();
    plan.add_tree_files(&s, &k, &i).unwrap();
    let t = Instant::now();
    let made = block_on(c.with_connect(move |conn| create(conn, &plan)))
        .expect("connected")
        .unwrap_or_else(|e| panic!("creation failed: {e}"));
    // QEMU read the kernel at start: its upload volumes are gone again.
    let vols = pool_volumes(&c);
    assert!(
        !vols
            .iter()
            .any(|v| v.ends_with("-vmlinuz") || v.ends_with("-initrd")),
        "{vols:?}"
    );
    let con = console(&c, &made.uuid);
    con.wait_lines(READY_LINE, 1, BOOT);
    println!(
        "  network install: {READY_LINE} {:.1} s after creation",
        t.elapsed().as_secs_f64()
    );
    // The persistent definition has no kernel: the next start boots the disk.
    let uuid = made.uuid.clone();
    let persistent = block_on(c.with_connect(move |conn| {
        let d = conn.lookup_domain_by_uuid_string(&uuid).expect("domain");
        let x = d.xml_desc(virt::sys::VIR_DOMAIN_XML_INACTIVE).expect("xml");
        let _ = d.destroy();
        d.undefine().expect("undefine");
        let p = conn.lookup_storage_pool_by_name("default").expect("pool");
        p.lookup_storage_vol_by_name("vireo-test-wizard-net.qcow2")
            .expect("vol")
            .delete(0)
            .expect("delete");
        x
    }))
    .expect("connected");
    assert!(!persistent.contains("<kernel>"), "{persistent}");
    drop(con);
    drop(server);
    c.close();
}

/// A cloud image: the new volume is a qcow2 overlay on the image, and the cloud-init
/// seed is uploaded into the pool as an ISO with the volume id `cidata`. (The test
/// guest has no cloud-init, so this checks what is made, not a first boot.)
fn cloud_image_makes_overlay_and_seed() {
    let guest = Guest::get().expect("guest");
    let c = open();
    let h = host_info(&c);
    let mut s = spec(&h, "vireo-test-wizard-cloud", String::new());
    let ci = CloudInit {
        user: "ada".into(),
        password: Some("secret".into()),
        ssh_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvireotestkey ada@host".into()),
    };
    s.install = InstallMethod::CloudImage {
        image: guest.disk.to_string_lossy().into_owned(),
        format: DiskFormat::Qcow2,
        cloud_init: ci.clone(),
    };
    let dir = testbed::state_dir().join("wizard-seed");
    let seed = cloud_init::build_seed_iso(&dir, &ci, &s.name, "iid-e2e").expect("seed");
    let plan = CreatePlan::from_spec(
        &s,
        Some(&seed),
        Some(images().to_string_lossy().into_owned()),
        false,
    )
    .unwrap();
    let made = block_on(c.with_connect(move |conn| create(conn, &plan)))
        .expect("connected")
        .unwrap_or_else(|e| panic!("creation failed: {e}"));
    assert!(!made.started);
    let (overlay_xml, seed_path) = block_on(c.with_connect(|conn| {
        let p = conn.lookup_storage_pool_by_name("default").expect("pool");
        let o = p
            .lookup_storage_vol_by_name("vireo-test-wizard-cloud.qcow2")
            .expect("overlay");
        let sd = p
            .lookup_storage_vol_by_name("vireo-test-wizard-cloud-cidata.iso")
            .expect("seed");
        (o.xml_desc(0).expect("xml"), sd.path().expect("path"))
    }))
    .expect("connected");
    assert!(
        overlay_xml.contains(&*guest.disk.to_string_lossy()),
        "backing store: {overlay_xml}"
    );
    let iso =
        vireo::virt::osinfo::read_iso_info(std::path::Path::new(&seed_path)).expect("seed ISO");
    assert_eq!(iso.volume_id, "cidata");
    let uuid = made.uuid.clone();
    block_on(c.with_connect(move |conn| {
        let d = conn.lookup_domain_by_uuid_string(&uuid).expect("domain");
        d.undefine().expect("undefine");
        let p = conn.lookup_storage_pool_by_name("default").expect("pool");
        for v in [
            "vireo-test-wizard-cloud.qcow2",
            "vireo-test-wizard-cloud-cidata.iso",
        ] {
            p.lookup_storage_vol_by_name(v)
                .expect("vol")
                .delete(0)
                .expect("delete");
        }
    }))
    .expect("connected");
    let _ = std::fs::remove_dir_all(dir);
    c.close();
}

fn failed_start_leaves_nothing() {
    let c = open();
    let h = host_info(&c);
    let missing = "/nonexistent/vireo-missing.iso".to_owned();
    let s = spec(&h, "vireo-test-wizard-fail", missing.clone());
    let images = images();
    let plan =
        CreatePlan::from_spec(&s, None, Some(images.to_string_lossy().into_owned()), true).unwrap();
    let err = block_on(c.with_connect(move |conn| create(conn, &plan)))
        .expect("connected")
        .expect_err("QEMU cannot start without its ISO");
    println!("  libvirt said: {err}");
    assert!(
        err.to_string().contains(&missing),
        "libvirt's text names the file: {err}"
    );
    assert!(!domain_exists(&c, "vireo-test-wizard-fail"));
    assert!(!pool_volumes(&c)
        .iter()
        .any(|v| v.starts_with("vireo-test-wizard-fail")));
    let leftovers: Vec<_> = std::fs::read_dir(&images)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|f| f.to_string_lossy().starts_with("vireo-test-wizard-fail")),
        "{leftovers:?}"
    );
    c.close();
}

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    Runner::new().run(vec![
        test(
            "wizard_vm_boots_from_the_guest_iso",
            wizard_vm_boots_from_the_guest_iso,
        )
        .limit(240),
        test(
            "network_install_boots_the_trees_kernel",
            network_install_boots_the_trees_kernel,
        )
        .limit(240),
        test(
            "cloud_image_makes_overlay_and_seed",
            cloud_image_makes_overlay_and_seed,
        ),
        test("failed_start_leaves_nothing", failed_start_leaves_nothing),
    ]);
}
