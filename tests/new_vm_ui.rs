//! The New Virtual Machine wizard under a display, on libvirt's test driver: walked
//! through with its widgets (ISO detection, limits, inline errors), the VM defined;
//! and a creation that libvirt refuses shows libvirt's error and leaves nothing.
//! Screenshots of every page go to `target/screenshots/new-vm-*.png`.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test new_vm_ui`

mod kit;

use std::path::PathBuf;
use std::process::Command;

use adw::prelude::*;
use kit::app::TestApp;
use kit::screen::save_png;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::ConnectionState;
use vireo::ui::NewVmDialog;

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test(
            "wizard_defines_a_vm_from_an_iso",
            wizard_defines_a_vm_from_an_iso,
        ),
        test(
            "refused_creation_leaves_nothing",
            refused_creation_leaves_nothing,
        ),
    ]);
}

/// An ISO whose volume id is Debian 11's i386 netinst (the test driver is i686).
fn debian_iso() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("vireo-wizard-ui-{}", std::process::id()));
    let root = dir.join("root");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    std::fs::write(root.join("README"), "vireo wizard test\n").map_err(|e| e.to_string())?;
    let iso = dir.join("debian-11.7.0-i386-netinst.iso");
    let out = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-V",
            "Debian 11.7.0 i386 n",
            "-o",
        ])
        .arg(&iso)
        .arg(&root)
        .output()
        .map_err(|e| format!("xorriso: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(iso)
}

fn open_wizard(app: &TestApp) -> Result<NewVmDialog, String> {
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the test driver connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let dialog = NewVmDialog::new(&window, app.app.connections());
    dialog.present();
    wait_until("the host's facts load", EVENT, || dialog.host_loaded());
    wait_until("the wizard is on screen", EVENT, || {
        dialog.window().width() > 0
    });
    Ok(dialog)
}

fn test_conn() -> virt::connect::Connect {
    virt::connect::Connect::open(Some("test:///default")).expect("test driver")
}

fn css_error(w: &impl IsA<gtk::Widget>) -> bool {
    w.has_css_class("error")
}

fn wizard_defines_a_vm_from_an_iso() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let dialog = open_wizard(&app)?;
    let win: gtk::Widget = dialog.window().upcast();
    let m = dialog.method_page();
    save_png(&win, "new-vm-1-method-empty.png");

    // An unreadable ISO is marked on its field, and Forward stays off.
    m.iso_row.set_text("/nonexistent/medium.iso");
    settle();
    if !css_error(&m.iso_row)
        || !m.media_error.is_visible()
        || dialog.forward_button().is_sensitive()
    {
        return Err("an unreadable ISO must be marked and block Forward".into());
    }
    m.iso_row.grab_focus(); // scrolls the field and its error into view
    save_png(&win, "new-vm-1-method-bad-iso.png");

    m.cloud_check.set_active(true);
    settle();
    m.cloud_password_row.grab_focus();
    save_png(&win, "new-vm-1-method-cloud.png");
    if !m.image_error.is_visible() || !css_error(&m.image_row) {
        return Err("a cloud image needs its image file".into());
    }
    m.url_check.set_active(true);
    m.url_row.set_text("deb.debian.org/debian");
    settle();
    m.url_row.grab_focus();
    if !m.url_error.is_visible() {
        return Err("a URL without a scheme must be marked".into());
    }
    save_png(&win, "new-vm-1-method-url-error.png");
    m.media_check.set_active(true);
    settle();

    let iso = debian_iso()?;
    m.iso_row.set_text(&iso.to_string_lossy());
    wait_until("the ISO is detected as Debian 11", EVENT, || {
        dialog.os_page().detected().as_deref() == Some("http://debian.org/debian/11")
    });
    wait_until("Forward is possible", EVENT, || {
        dialog.forward_button().is_sensitive()
    });
    if css_error(&m.iso_row) {
        return Err("a readable ISO must not stay marked".into());
    }
    save_png(&win, "new-vm-1-method.png");
    dialog.forward_button().emit_clicked();
    settle();
    if dialog.step() != 1 {
        return Err(format!("expected the OS step, at {}", dialog.step()));
    }
    let os = dialog.os_page();
    os.search.set_text("debian 11");
    wait_until("the OS list filters", EVENT, || {
        os.list
            .row_at_index(1)
            .is_some_and(|r| r.widget_name() == "http://debian.org/debian/11")
    });
    if os.chosen_os().map(|o| o.short_id().to_owned()).as_deref() != Some("debian11") {
        return Err("the detected OS must be the chosen one".into());
    }
    save_png(&win, "new-vm-2-os.png");
    dialog.forward_button().emit_clicked();
    settle();

    // Debian 11 recommends 1 GiB; the test host has 3 GiB.
    let r = dialog.resources_page();
    if r.memory_spin.value() as u64 != 1024 {
        return Err(format!(
            "memory default {} MiB, want the OS's 1024",
            r.memory_spin.value()
        ));
    }
    r.memory_spin.set_range(64.0, 1_048_576.0); // let the test type more than the host has
    r.memory_spin.set_value(8192.0);
    settle();
    if !css_error(&r.memory_row) || dialog.forward_button().is_sensitive() {
        return Err("memory over the host must be marked and block Forward".into());
    }
    if !r.error.label().contains("3072") {
        return Err(format!(
            "the error should name the host's memory: {}",
            r.error.label()
        ));
    }
    save_png(&win, "new-vm-3-resources-error.png");
    r.memory_spin.set_value(1024.0);
    settle();
    save_png(&win, "new-vm-3-resources.png");
    dialog.forward_button().emit_clicked();
    settle();

    let s = dialog.storage_page();
    s.size_spin.set_value(8.0);
    settle();
    save_png(&win, "new-vm-4-storage.png");
    dialog.forward_button().emit_clicked();
    settle();

    let f = dialog.finish_page();
    if f.name_row.text() != "debian11" {
        return Err(format!("suggested name {}", f.name_row.text()));
    }
    f.name_row.set_text("test");
    settle();
    if !css_error(&f.name_row) || dialog.create_button().is_sensitive() {
        return Err("a taken name must be marked and block Create".into());
    }
    save_png(&win, "new-vm-5-finish-name-taken.png");
    f.name_row.set_text("wizard-vm");
    settle();
    if !dialog.create_button().is_sensitive() {
        return Err(format!("Create must be possible: {:?}", dialog.problems()));
    }
    save_png(&win, "new-vm-5-finish.png");

    let made = std::rc::Rc::new(std::cell::RefCell::new(None));
    let m2 = made.clone();
    dialog.connect_created(move |_, c, customize| {
        *m2.borrow_mut() = Some((c.clone(), customize));
    });
    dialog.create_button().emit_clicked();
    wait_until("the VM is created", EVENT, || made.borrow().is_some());
    wait_until("the wizard closes", EVENT, || !dialog.window().is_visible());

    let (created, customize) = made.borrow().clone().unwrap();
    if customize || !created.started {
        return Err("without “customize” the VM starts".into());
    }
    let c = test_conn();
    let d = c
        .lookup_domain_by_name("wizard-vm")
        .map_err(|e| e.to_string())?;
    let xml = d.xml_desc(0).map_err(|e| e.to_string())?;
    for want in [
        iso.to_string_lossy().as_ref(),
        "volume='wizard-vm.qcow2'",
        "http://debian.org/debian/11",
        "<memory unit='KiB'>1048576</memory>",
    ] {
        if !xml.contains(want) {
            return Err(format!("the defined XML lacks {want}:\n{xml}"));
        }
    }
    // The test driver has no pool named "default": the wizard made it, as virt-manager does.
    let pool = c
        .lookup_storage_pool_by_name("default")
        .map_err(|e| e.to_string())?;
    if !pool
        .list_volumes()
        .unwrap_or_default()
        .contains(&"wizard-vm.qcow2".to_owned())
    {
        return Err("the new volume is missing".into());
    }
    app.quit();
    Ok(())
}

fn refused_creation_leaves_nothing() -> Result<(), String> {
    let app = TestApp::start(&["--connect", "test:///default"]);
    let dialog = open_wizard(&app)?;
    let win: gtk::Widget = dialog.window().upcast();
    dialog.method_page().manual_check.set_active(true);
    settle();
    for _ in 0..4 {
        dialog.forward_button().emit_clicked();
        settle();
    }
    if dialog.step() != 4 {
        return Err(format!("expected the last step, at {}", dialog.step()));
    }
    dialog.finish_page().name_row.set_text("late-vm");
    settle();
    if !dialog.create_button().is_sensitive() {
        return Err(format!("Create must be possible: {:?}", dialog.problems()));
    }
    // Another client takes the name after the wizard read the host: libvirt refuses.
    let c = test_conn();
    let other = "<domain type='test'><name>late-vm</name><memory>65536</memory>\
                 <os><type>hvm</type></os></domain>";
    let theirs = c.define_domain_xml(other).map_err(|e| e.to_string())?;
    let their_uuid = theirs.uuid_string().map_err(|e| e.to_string())?;
    dialog.create_button().emit_clicked();
    wait_until("libvirt's refusal is shown", EVENT, || {
        dialog.banner_text().contains("already exists")
    });
    save_png(&win, "new-vm-6-creation-refused.png");
    if !dialog.window().is_visible() || dialog.is_busy() {
        return Err("the wizard stays open for another try".into());
    }
    let vols = c
        .lookup_storage_pool_by_name("default")
        .and_then(|p| p.list_volumes())
        .map_err(|e| e.to_string())?;
    if vols.iter().any(|v| v.starts_with("late-vm")) {
        return Err(format!("a volume was left behind: {vols:?}"));
    }
    // The wizard re-read the names: the field now says the name is taken.
    let f = dialog.finish_page();
    wait_until("the taken name is marked", EVENT, || {
        f.name_row.has_css_class("error")
    });
    if dialog.create_button().is_sensitive() {
        return Err("Create must wait for another name".into());
    }
    let still = c
        .lookup_domain_by_name("late-vm")
        .and_then(|d| d.uuid_string())
        .map_err(|e| e.to_string())?;
    if still != their_uuid {
        return Err("the other client's domain was touched".into());
    }
    app.quit();
    Ok(())
}
