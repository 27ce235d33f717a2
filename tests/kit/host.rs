//! A host's storage and networks as the tests make them: a dir pool spec, a NAT
//! network spec with a bridge name and subnet of its own, and a clean-up that stops
//! and removes what a test made on the private daemon even when the test fails (a
//! running network's bridge and firewall rules live in the machine's network
//! namespace, shared with other test runs).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::process::Command;

use vireo::model::host::{ForwardMode, IpSpec, NetworkSpec, PoolSource, PoolSpec};

use super::console::SerialConsole;
use super::runner::on_cleanup;
use super::testbed::{run, target_dir, Boot, Guest};
use super::wait::{wait_until, BOOT};

/// A dir pool named `name` on `target`, autostarted.
pub fn dir_pool(name: &str, target: &str) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        source: PoolSource::Dir {
            target: target.into(),
        },
        autostart: true,
        format_devices: false,
    }
}

/// A number that differs between test runs that may share this machine's network
/// namespace (other worktrees, other processes): from the target directory and the
/// process id.
pub fn run_tag() -> u64 {
    let mut h = DefaultHasher::new();
    target_dir().hash(&mut h);
    std::process::id().hash(&mut h);
    // PID namespaces give every isolated run small pids: the time tells them apart too.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// A NAT network `name` with DHCP on 10.214.`third`.0/24 and the bridge `bridge`.
pub fn nat_network(name: &str, bridge: &str, third: u8) -> NetworkSpec {
    NetworkSpec {
        name: name.into(),
        mode: ForwardMode::Nat,
        bridge: bridge.into(),
        ipv4: Some(IpSpec {
            network: format!("10.214.{third}.0/24"),
            dhcp: Some((format!("10.214.{third}.128"), format!("10.214.{third}.254"))),
        }),
        autostart: false,
        ..Default::default()
    }
}

/// A NAT network spec whose bridge ("vrt" + 6 hex digits) and subnet
/// (10.214.100-249.0/24) are this run's own.
pub fn unique_nat_network(name: &str) -> NetworkSpec {
    let tag = run_tag();
    nat_network(
        name,
        &format!("vrt{:06x}", tag & 0xff_ffff),
        100 + (tag >> 24) as u8 % 150,
    )
}

/// Destroys and undefines the networks and pools named here on `uri` when the suite
/// ends (also on timeout or a signal), whatever state the test left them in.
pub fn remove_at_cleanup(uri: &str, networks: &[&str], pools: &[&str]) {
    let uri = uri.to_owned();
    let networks: Vec<String> = networks.iter().map(|s| s.to_string()).collect();
    let pools: Vec<String> = pools.iter().map(|s| s.to_string()).collect();
    on_cleanup(move || {
        let virsh = |args: &[&str]| {
            run(Command::new("virsh").args(["-q", "-c", &uri]).args(args));
        };
        for n in &networks {
            virsh(&["net-destroy", n]);
            virsh(&["net-undefine", n]);
        }
        for p in &pools {
            virsh(&["pool-destroy", p]);
            virsh(&["pool-undefine", p]);
        }
    });
}

/// The test guest's domain XML with its network card on the virtual network
/// `network` with the MAC address `mac` (instead of user-mode networking).
pub fn guest_on_network(guest: &Guest, name: &str, network: &str, mac: &str) -> String {
    guest.domain_xml(name, Boot::Kernel, None).replace(
        "<interface type='user'><model type='virtio'/></interface>",
        &format!(
            "<interface type='network'><mac address='{mac}'/>\
             <source network='{network}'/><model type='virtio'/></interface>"
        ),
    )
}

/// The address the guest got by DHCP, from its `VIREO-GUEST-IP` line (which may share
/// a line with the serial shell's prompt). Only whole lines count: the serial console
/// can hand over a line in pieces, and `VIREO-GUEST-IP 1` is not yet an address.
pub fn wait_guest_ip(console: &SerialConsole) -> String {
    wait_until("the guest's DHCP address", BOOT, || {
        let text = console.text();
        let whole = text.rsplit_once('\n').map_or("", |(lines, _)| lines);
        whole.lines().find_map(|l| {
            let (_, rest) = l.split_once("VIREO-GUEST-IP ")?;
            let address = rest.split_whitespace().next()?;
            address
                .parse::<std::net::IpAddr>()
                .is_ok()
                .then(|| address.to_owned())
        })
    })
}
