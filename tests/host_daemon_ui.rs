//! The host page and a VM's tab on the private daemon's `qemu:///system`: a NAT network
//! made through the host model gives the booted test guest an address, which shows in
//! the network's lease list (with the VM it belongs to) and in the VM's details.
//! Screenshots of both. The network has a bridge and subnet of this run's own and goes
//! at clean-up.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::console::SerialConsole;
use kit::host::{guest_on_network, remove_at_cleanup, unique_nat_network, wait_guest_ip};
use kit::model::{define, start};
use kit::screen::save_png;
use kit::testbed::{self, daemon, Guest, Need, SystemDaemon};
use kit::{block_on, settle, test, wait_until, Runner, EVENT};
use vireo::model::ConnectionState;
use vireo::ui::HostPage;

const URI: &str = SystemDaemon::URI;
const NETWORK: &str = "vireo-test-ui-nat";

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    Runner::new().gui().fresh_process().run(vec![test(
        "lease_shows_in_the_network_page_and_the_vms_details",
        lease_shows_in_the_network_page_and_the_vms_details,
    )
    .limit(300)]);
}

fn lease_shows_in_the_network_page_and_the_vms_details() {
    let guest = Guest::get().unwrap();
    daemon();
    let app = TestApp::start(&["--connect", URI]);
    let window = app.window();
    let c = app.connection(0);
    wait_until("qemu:///system connects", EVENT, || {
        c.state() == ConnectionState::Connected
    });
    let host = c.host();
    block_on(host.load()).expect("the host reads");
    remove_at_cleanup(URI, &[NETWORK], &[]);
    let net = block_on(host.create_network(unique_nat_network(NETWORK))).expect("NAT network");

    let mac = "52:54:00:21:40:02";
    let d = define(
        &c,
        guest_on_network(guest, "vireo-test-ui-dhcp", NETWORK, mac),
    );
    start(&c, &d);
    let console = SerialConsole::of(&c, &d);
    let ip = wait_guest_ip(&console);

    // The host page's network: the lease, with its VM.
    WidgetExt::activate_action(&window, "win.host-details", Some(&URI.to_variant())).unwrap();
    settle();
    let page = wait_until("the host page", EVENT, || {
        find_widgets::<HostPage>(&window).into_iter().next()
    });
    page.show_view("networks");
    settle();
    page.networks().select_network(NETWORK);
    let view = page.networks().network_view();
    assert_eq!(view.network().as_ref(), Some(&net));
    let lease = wait_until("the guest's lease in the list", EVENT, || {
        view.refresh_leases();
        kit::pump(std::time::Duration::from_millis(300));
        view.leases().into_iter().find(|l| l.mac == mac)
    });
    assert_eq!(lease.address, format!("{ip}/24"));
    assert_eq!(
        lease.domain.as_ref().map(|(_, name)| name.as_str()),
        Some("vireo-test-ui-dhcp")
    );
    let rows: Vec<(String, String)> = find_widgets::<adw::ActionRow>(&view)
        .iter()
        .map(|r| {
            (
                r.title().to_string(),
                r.subtitle().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        rows.iter()
            .any(|(t, s)| *t == lease.address && s.starts_with("vireo-test-ui-dhcp · ")),
        "{rows:?}"
    );
    save_png(&window, "host-network-leases-daemon.png");

    // The VM's details: the same address.
    let vm = window.open_domain(&d);
    vm.show_details();
    wait_until("the address in the VM's details", EVENT, || {
        vm.addresses_text().contains(&format!("{ip}/24 "))
    });
    save_png(&window, "vm-details-address.png");

    kit::model::remove(&c, &d);
    block_on(net.delete()).expect("network removed");
    app.quit();
}
