//! The host page in the real window, on libvirt's test driver: opened from the host's
//! heading in the list, its overview, storage and networks pages driven through their
//! actions and forms (inline problems, confirmations that say what goes), the load
//! sampled only while shown; screenshots light, dark and 360 px wide.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, toplevel, TestApp};
use kit::screen::save_png;
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::host::HostObject;
use vireo::model::{ConnectionObject, ConnectionState};
use vireo::ui::host::{NewNetworkDialog, NewPoolDialog, NewVolumeDialog};
use vireo::ui::{ConnectionHeader, HostPage, VireoWindow};

const URI: &str = "test:///default";

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("header_opens_the_host_page", header_opens_the_host_page),
        test(
            "pool_and_volume_through_the_page",
            pool_and_volume_through_the_page,
        ),
        test("forms_show_problems_inline", forms_show_problems_inline),
        test("network_through_the_page", network_through_the_page),
        test(
            "load_sampled_only_while_shown",
            load_sampled_only_while_shown,
        ),
        test(
            "wizard_pickers_follow_the_host_model",
            wizard_pickers_follow_the_host_model,
        ),
        test(
            "screenshots_light_dark_narrow",
            screenshots_light_dark_narrow,
        )
        .limit(240),
    ]);
}

/// Vireo on the test driver with its host page opened from the heading's button.
fn open() -> (TestApp, VireoWindow, ConnectionObject, HostPage) {
    let app = TestApp::start(&["--connect", URI]);
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the test host connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let header = wait_until("the host's heading", EVENT, || {
        find_widgets::<ConnectionHeader>(&window).into_iter().next()
    });
    let button = find_widgets::<gtk::Button>(&header)
        .into_iter()
        .find(|b| b.action_name().as_deref() == Some("connection.details"))
        .expect("the Host Details button");
    button.emit_clicked();
    settle();
    let page = wait_until("the host page's tab", EVENT, || {
        find_widgets::<HostPage>(&window).into_iter().next()
    });
    let host = connection.host();
    wait_until("the host read", EVENT, || host.loaded());
    settle();
    (app, window, connection, page)
}

fn host(c: &ConnectionObject) -> HostObject {
    c.host()
}

/// The visible message dialog's `response` (its button), as a click would.
fn answer(response: &str) -> String {
    let dialog = toplevel::<adw::MessageDialog>();
    let body = dialog.body().to_string();
    dialog.response(response);
    dialog.close();
    settle();
    body
}

fn entry(root: &impl IsA<gtk::Widget>, title: &str) -> adw::EntryRow {
    find_widgets::<adw::EntryRow>(root)
        .into_iter()
        .find(|r| r.title() == title)
        .unwrap_or_else(|| panic!("no field {title:?}"))
}

fn header_opens_the_host_page() {
    let (app, window, c, page) = open();
    assert_eq!(page.connection().as_ref(), Some(&c));
    assert_eq!(page.visible_view().as_deref(), Some("overview"));
    // The same host again: the same tab.
    WidgetExt::activate_action(&window, "win.host-details", Some(&URI.to_variant())).unwrap();
    settle();
    assert_eq!(find_widgets::<HostPage>(&window).len(), 1);
    // The overview shows the facts.
    let subtitles: Vec<String> = find_widgets::<adw::ActionRow>(&page.overview())
        .iter()
        .map(|r| r.subtitle().unwrap_or_default().to_string())
        .collect();
    assert!(subtitles.iter().any(|s| s == "9.0.0"), "{subtitles:?}");
    assert!(
        subtitles.iter().any(|s| s.starts_with("16 at 1400 MHz")),
        "{subtitles:?}"
    );
    // The storage page lists the pool with its space.
    page.show_view("storage");
    settle();
    let rows = find_widgets::<gtk::Label>(&page.storage());
    assert!(rows.iter().any(|l| l.label() == "default-pool"));
    assert!(rows
        .iter()
        .any(|l| l.label().replace('\u{a0}', " ") == "100.0 GiB free of 100.0 GiB"));
    app.quit();
}

fn pool_and_volume_through_the_page() {
    let (app, _window, c, page) = open();
    page.show_view("storage");
    settle();
    let storage = page.storage();
    WidgetExt::activate_action(&storage, "storage.new-pool", None).unwrap();
    let dialog = toplevel::<NewPoolDialog>();
    wait_until("the pool types read", EVENT, || {
        entry(&dialog, "Directory").text() == "/var/lib/libvirt/images/pool"
    });
    entry(&dialog, "Name").set_text("vireo-ui-pool");
    // The directory follows the name.
    assert_eq!(
        entry(&dialog, "Directory").text(),
        "/var/lib/libvirt/images/vireo-ui-pool"
    );
    WidgetExt::activate_action(&dialog, "pool-form.create", None).unwrap();
    let pool = wait_until("the new pool", EVENT, || host(&c).pool("vireo-ui-pool"));
    wait_until("the form closes", EVENT, || !dialog.is_visible());
    assert!(pool.active() && pool.autostart());

    storage.select_pool("vireo-ui-pool");
    settle();
    let view = storage.pool_view();
    assert_eq!(view.pool().as_ref(), Some(&pool));
    WidgetExt::activate_action(&view, "pool.stop", None).unwrap();
    wait_until("stopped", EVENT, || !pool.active());
    WidgetExt::activate_action(&view, "pool.start", None).unwrap();
    wait_until("running again", EVENT, || pool.active());

    WidgetExt::activate_action(&view, "pool.new-volume", None).unwrap();
    let form = toplevel::<NewVolumeDialog>();
    assert_eq!(entry(&form, "Name").text(), "volume.qcow2");
    WidgetExt::activate_action(&form, "volume-form.create", None).unwrap();
    let volume = wait_until("the new volume", EVENT, || pool.volume("volume.qcow2"));
    assert_eq!(volume.capacity(), 20 << 30);
    assert_eq!(volume.format().as_deref(), Some("qcow2"));
    let row = wait_until("its row", EVENT, || {
        find_widgets::<vireo::ui::host::VolumeRow>(&view)
            .into_iter()
            .find(|r| r.volume().as_ref() == Some(&volume))
    });
    // The test driver cannot resize: libvirt's words in a toast, the size unchanged.
    WidgetExt::activate_action(&row, "volume.delete", None).unwrap();
    let body = answer("confirm");
    assert!(
        body.contains("/var/lib/libvirt/images/vireo-ui-pool/volume.qcow2"),
        "{body}"
    );
    assert!(body.contains("deleted for good"), "{body}");
    wait_until("the volume gone", EVENT, || {
        pool.volume("volume.qcow2").is_none()
    });

    WidgetExt::activate_action(&view, "pool.delete", None).unwrap();
    let body = answer("confirm");
    assert!(body.contains("stay where they are"), "{body}");
    wait_until("the pool gone", EVENT, || {
        host(&c).pool("vireo-ui-pool").is_none()
    });
    app.quit();
}

fn forms_show_problems_inline() {
    let (app, _window, c, page) = open();
    page.show_view("storage");
    WidgetExt::activate_action(&page.storage(), "storage.new-pool", None).unwrap();
    let dialog = toplevel::<NewPoolDialog>();
    wait_until("the pool types read", EVENT, || {
        entry(&dialog, "Directory").text() == "/var/lib/libvirt/images/pool"
    });
    entry(&dialog, "Name").set_text("default-pool");
    entry(&dialog, "Directory").set_text("relative/path");
    settle();
    let errors: Vec<String> = find_widgets::<gtk::Label>(&dialog)
        .iter()
        .filter(|l| l.is_visible() && l.has_css_class("error"))
        .map(|l| l.label().to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("already in use")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("full path")), "{errors:?}");
    assert!(entry(&dialog, "Directory").has_css_class("error"));
    // Create with problems changes nothing and keeps the form open.
    WidgetExt::activate_action(&dialog, "pool-form.create", None).unwrap();
    settle();
    assert!(dialog.is_visible());
    assert_eq!(host(&c).pool_names(), vec!["default-pool"]);
    save_png(&dialog, "host-new-pool-problems.png");
    dialog.close();

    page.show_view("networks");
    WidgetExt::activate_action(&page.networks(), "networks.new-network", None).unwrap();
    let dialog = toplevel::<NewNetworkDialog>();
    entry(&dialog, "IPv4 Network").set_text("10.214.9.0/24");
    // The DHCP range follows the network.
    assert_eq!(entry(&dialog, "IPv4 DHCP Start").text(), "10.214.9.128");
    entry(&dialog, "IPv4 DHCP End").set_text("10.214.10.7");
    settle();
    let errors: Vec<String> = find_widgets::<gtk::Label>(&dialog)
        .iter()
        .filter(|l| l.is_visible() && l.has_css_class("error"))
        .map(|l| l.label().to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("IPv4 DHCP End: Not inside the network")),
        "{errors:?}"
    );
    save_png(&dialog, "host-new-network-problems.png");
    dialog.close();
    app.quit();
}

fn network_through_the_page() {
    let (app, _window, c, page) = open();
    page.show_view("networks");
    settle();
    let networks = page.networks();
    WidgetExt::activate_action(&networks, "networks.new-network", None).unwrap();
    let dialog = toplevel::<NewNetworkDialog>();
    entry(&dialog, "Name").set_text("vireo-ui-net");
    entry(&dialog, "IPv4 Network").set_text("10.214.8.0/24");
    entry(&dialog, "Bridge Name (optional)").set_text("vrtui8");
    WidgetExt::activate_action(&dialog, "network-form.create", None).unwrap();
    let net = wait_until("the new network", EVENT, || {
        host(&c).network("vireo-ui-net")
    });
    assert!(net.active());
    assert_eq!(
        net.ipv4().unwrap().dhcp,
        Some(("10.214.8.128".into(), "10.214.8.254".into()))
    );

    networks.select_network("vireo-ui-net");
    settle();
    let view = networks.network_view();
    WidgetExt::activate_action(&view, "network.stop", None).unwrap();
    let body = answer("confirm");
    assert!(body.contains("No virtual machine"), "{body}");
    wait_until("stopped", EVENT, || !net.active());
    WidgetExt::activate_action(&view, "network.start", None).unwrap();
    wait_until("running again", EVENT, || net.active());
    WidgetExt::activate_action(&view, "network.delete", None).unwrap();
    answer("confirm");
    wait_until("gone", EVENT, || host(&c).network("vireo-ui-net").is_none());

    // Deleting "default" says which machine uses it; Cancel keeps it.
    networks.select_network("default");
    settle();
    WidgetExt::activate_action(&networks.network_view(), "network.delete", None).unwrap();
    let body = answer("cancel");
    assert!(body.contains("test"), "{body}");
    assert!(host(&c).network("default").is_some());
    app.quit();
}

fn load_sampled_only_while_shown() {
    let (app, window, c, page) = open();
    let host = host(&c);
    wait_until("sampling while the overview shows", EVENT, || {
        host.is_sampling()
    });
    wait_until("a memory figure", EVENT, || host.memory_used_kib() > 0);
    page.show_view("storage");
    settle();
    assert!(!host.is_sampling(), "no sampling behind the storage view");
    page.show_view("overview");
    settle();
    assert!(host.is_sampling());
    window.show_list();
    settle();
    assert!(!host.is_sampling(), "no sampling behind the list");
    app.quit();
}

fn screenshots_light_dark_narrow() {
    let (app, window, c, page) = open();
    // Something to show: a second pool with a volume, a network with a user.
    let host = host(&c);
    let pool = kit::block_on(host.create_pool(kit::host::dir_pool("images", "/images"))).unwrap();
    kit::block_on(pool.load_volumes()).unwrap();
    for (name, gib) in [("web.qcow2", 20u64), ("db.img", 8)] {
        kit::block_on(pool.create_volume(vireo::model::host::VolumeSpec {
            name: name.into(),
            format: if name.ends_with("qcow2") {
                vireo::model::host::DiskFormat::Qcow2
            } else {
                vireo::model::host::DiskFormat::Raw
            },
            capacity: gib << 30,
            backing: None,
        }))
        .unwrap();
    }
    let style = adw::StyleManager::default();
    for (scheme, tag) in [
        (adw::ColorScheme::ForceLight, "light"),
        (adw::ColorScheme::ForceDark, "dark"),
    ] {
        style.set_color_scheme(scheme);
        window.set_default_size(1100, 760);
        page.show_view("overview");
        kit::pump(std::time::Duration::from_millis(3500));
        save_png(&window, &format!("host-overview-{tag}.png"));
        page.show_view("storage");
        page.storage().select_pool("images");
        kit::pump(std::time::Duration::from_millis(500));
        save_png(&window, &format!("host-storage-{tag}.png"));
        page.show_view("networks");
        page.networks().select_network("default");
        kit::pump(std::time::Duration::from_millis(500));
        save_png(&window, &format!("host-networks-{tag}.png"));
    }
    style.set_color_scheme(adw::ColorScheme::Default);
    // Narrow, each list folds away behind the item chosen while wide; its back button
    // (the way a person gets to the list) shows the list.
    window.set_default_size(360, 720);
    page.show_view("overview");
    kit::pump(std::time::Duration::from_millis(800));
    save_png(&window, "host-overview-360.png");
    page.show_view("storage");
    kit::pump(std::time::Duration::from_millis(800));
    save_png(&window, "host-storage-pool-360.png");
    let back = page.storage().pool_view().back_button();
    assert!(back.is_mapped(), "the pool's back button shows when narrow");
    back.emit_clicked();
    kit::pump(std::time::Duration::from_millis(800));
    save_png(&window, "host-storage-360.png");
    page.show_view("networks");
    kit::pump(std::time::Duration::from_millis(800));
    save_png(&window, "host-networks-network-360.png");
    let back = page.networks().network_view().back_button();
    assert!(
        back.is_mapped(),
        "the network's back button shows when narrow"
    );
    back.emit_clicked();
    kit::pump(std::time::Duration::from_millis(800));
    save_png(&window, "host-networks-360.png");
    WidgetExt::activate_action(&page.storage(), "storage.new-pool", None).unwrap();
    let dialog = toplevel::<NewPoolDialog>();
    kit::pump(std::time::Duration::from_millis(500));
    save_png(&dialog, "host-new-pool.png");
    dialog.close();
    WidgetExt::activate_action(&page.networks(), "networks.new-network", None).unwrap();
    let dialog = toplevel::<NewNetworkDialog>();
    kit::pump(std::time::Duration::from_millis(500));
    save_png(&dialog, "host-new-network.png");
    dialog.close();
    app.quit();
}

/// The items of a combo row, as shown.
fn items(row: &adw::ComboRow) -> Vec<String> {
    let model = row.model().expect("a model");
    (0..model.n_items())
        .filter_map(|i| model.item(i).and_downcast::<gtk::StringObject>())
        .map(|s| s.string().to_string())
        .collect()
}

/// The wizard's pool volume picker and network chooser show what the host page made,
/// as it is made: one model of the host's storage and networks for both.
fn wizard_pickers_follow_the_host_model() {
    let (app, window, c, _page) = open();
    let host = host(&c);
    WidgetExt::activate_action(&window, "win.new-vm", None).unwrap();
    kit::wizard::host_loaded();
    kit::wizard::choose("Local Install Medium");
    let wizard = kit::wizard::shown();
    let picker = find_widgets::<vireo::ui::pickers::VolumePicker>(&wizard)
        .into_iter()
        .next()
        .expect("the wizard's pool volume picker");
    assert_eq!(items(picker.upcast_ref()), vec!["None"]);

    let pool = host.pool("default-pool").unwrap();
    kit::block_on(pool.create_volume(vireo::model::host::VolumeSpec {
        name: "install.iso".into(),
        format: vireo::model::host::DiskFormat::Raw,
        capacity: 1 << 20,
        backing: None,
    }))
    .unwrap();
    wait_until("the new ISO volume offered", EVENT, || {
        items(picker.upcast_ref())
            .iter()
            .any(|i| i.contains("install.iso"))
    });
    picker.set_selected(1);
    settle();
    assert_eq!(
        picker.volume().map(|v| v.name()).as_deref(),
        Some("install.iso")
    );

    let chooser = find_widgets::<vireo::ui::pickers::NetworkChooser>(&wizard)
        .into_iter()
        .next()
        .expect("the wizard's network chooser");
    let row = find_widgets::<adw::ComboRow>(&chooser).remove(0);
    assert!(items(&row).iter().any(|i| i.contains("default")));
    let net =
        kit::block_on(host.create_network(kit::host::nat_network("vireo-ui-shared", "vrtui9", 9)))
            .unwrap();
    wait_until("the new network offered", EVENT, || {
        items(&row).iter().any(|i| i.contains("vireo-ui-shared"))
    });
    kit::block_on(net.stop()).unwrap();
    wait_until("offered as not running", EVENT, || {
        items(&row)
            .iter()
            .any(|i| i.contains("vireo-ui-shared") && i.contains("not running"))
    });
    kit::wizard::shown().close();
    app.quit();
}
