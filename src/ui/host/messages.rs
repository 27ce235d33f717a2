//! The words the host page shows: pool types and states, forward modes, and a
//! sentence for each problem the new-pool, new-volume and new-network forms find.

use gettextrs::gettext;

use crate::i18n::gettext_f;
use crate::model::host::{
    ForwardMode, IpProblem, NameProblem, NetworkProblem, PoolProblem, PoolStateKind, PoolType,
    VolumeProblem,
};
use crate::ui::formatting::format_size;

/// A pool type as people know it.
pub fn pool_type_label(t: &PoolType) -> String {
    match t {
        PoolType::Dir => gettext("Directory"),
        PoolType::Fs => gettext("File System on a Device"),
        PoolType::Netfs => gettext("Network File System"),
        PoolType::Logical => gettext("LVM Volume Group"),
        PoolType::Disk => gettext("Whole Disk"),
        PoolType::Iscsi => gettext("iSCSI Target"),
        PoolType::Rbd => gettext("Ceph RBD"),
        PoolType::Other(name) => name.clone(),
    }
}

/// A pool's run state.
pub fn pool_state_label(s: PoolStateKind) -> String {
    match s {
        PoolStateKind::Inactive => gettext("Stopped"),
        PoolStateKind::Building => gettext("Building"),
        PoolStateKind::Running => gettext("Running"),
        PoolStateKind::Degraded => gettext("Degraded"),
        PoolStateKind::Inaccessible => gettext("Inaccessible"),
    }
}

/// A network's forward mode.
pub fn forward_mode_label(m: &ForwardMode) -> String {
    match m {
        ForwardMode::Nat => gettext("NAT"),
        ForwardMode::Route => gettext("Routed"),
        ForwardMode::Open => gettext("Open"),
        ForwardMode::Isolated => gettext("Isolated"),
        ForwardMode::Bridge => gettext("Host Bridge"),
        ForwardMode::Other(name) => name.clone(),
    }
}

fn name_text(p: &NameProblem) -> String {
    match p {
        NameProblem::Empty => gettext("Enter a name"),
        NameProblem::Reserved => gettext("“.” and “..” cannot be names"),
        NameProblem::BadChar(c) => gettext_f(
            "“{char}” cannot be used in a name",
            &[("char", &c.escape_default().to_string())],
        ),
        NameProblem::TooLong => gettext("Use at most 200 characters"),
        NameProblem::Taken => gettext("This name is already in use on the host"),
    }
}

/// The sentence for a problem of the new-pool form.
pub fn pool_problem_text(p: &PoolProblem) -> String {
    match p {
        PoolProblem::Name(n) => name_text(n),
        PoolProblem::Empty => gettext("This is needed"),
        PoolProblem::NotAbsolute => gettext("Give a full path, starting with “/”"),
        PoolProblem::BadHost => gettext("Give a host name or address"),
        PoolProblem::BadChar(c) => gettext_f(
            "“{char}” cannot be used here",
            &[("char", &c.escape_default().to_string())],
        ),
        PoolProblem::BadUuid => gettext("Give the UUID of a libvirt secret"),
    }
}

/// The sentence for a problem of the new-volume form.
pub fn volume_problem_text(p: &VolumeProblem) -> String {
    match p {
        VolumeProblem::Name(n) => name_text(n),
        VolumeProblem::Empty => gettext("Give a size"),
        VolumeProblem::SmallerThanBacking(b) => gettext_f(
            "Give at least the backing volume’s size, {size}",
            &[("size", &format_size(*b))],
        ),
        VolumeProblem::BackingNeedsQcow2 => gettext("Only qcow2 volumes can have a backing volume"),
        VolumeProblem::NotFilePool => gettext("This pool holds raw volumes only"),
    }
}

/// The sentence for an address problem.
pub fn ip_problem_text(p: &IpProblem) -> String {
    match p {
        IpProblem::NotAddress => gettext("Not an IP address"),
        IpProblem::MissingPrefix => gettext("Add the prefix length, as in 192.168.100.0/24"),
        IpProblem::BadPrefix => gettext("The prefix length is out of range"),
        IpProblem::WrongFamily => gettext("Use an address of the same family (IPv4 or IPv6)"),
        IpProblem::TooSmall(max) => gettext_f(
            "Too small a network: use a prefix of /{max} or shorter",
            &[("max", &max.to_string())],
        ),
        IpProblem::OutsideNetwork => gettext("Not inside the network"),
        IpProblem::NetworkOrBroadcast => {
            gettext("The network’s own or broadcast address cannot be given out")
        }
        IpProblem::EndBeforeStart => gettext("The range ends before it starts"),
        IpProblem::HoldsHostAddress => gettext("The range holds the host’s own address"),
    }
}

/// The sentence for a problem of the new-network form.
pub fn network_problem_text(p: &NetworkProblem) -> String {
    match p {
        NetworkProblem::Name(n) => name_text(n),
        NetworkProblem::Empty => gettext("This is needed"),
        NetworkProblem::BadInterfaceName => {
            gettext("Use up to 15 letters, digits, “.”, “_” and “-”")
        }
        NetworkProblem::Ip(ip) => ip_problem_text(ip),
        NetworkProblem::NatNeedsIpv4 => gettext("A NAT network needs an IPv4 network"),
        NetworkProblem::NeedsAddresses => gettext("Give an IPv4 or IPv6 network"),
    }
}

/// "Used by web, db" or "Not used by any virtual machine".
pub fn used_by_text(users: &[String]) -> String {
    if users.is_empty() {
        gettext("Not used by any virtual machine")
    } else {
        gettext_f("Used by {names}", &[("names", &users.join(", "))])
    }
}
