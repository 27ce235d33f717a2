//! Which domains use what: the disks, networks and MAC addresses of every domain, read
//! from their XML, so the host page can say which VMs use a volume or a network and
//! whose a DHCP lease is (virt-manager and Cockpit do the same from the XML).

use virt::connect::Connect;

use super::volumes::VolumeInfo;
use super::{child, optional_list, parse_xml};
use crate::virt::error::Result;

/// One network card of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainNic {
    /// Its MAC address, lower case.
    pub mac: String,
    /// The virtual network it is plugged into (`<interface type='network'>`).
    pub network: Option<String>,
    /// The host bridge it is plugged into (`<interface type='bridge'>`, or the bridge
    /// libvirt filled in for a running network interface).
    pub bridge: Option<String>,
}

/// What one domain uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainUse {
    /// The domain's UUID.
    pub uuid: String,
    /// Its name.
    pub name: String,
    /// Host paths of its disks (files and block devices).
    pub disk_paths: Vec<String>,
    /// Its `<disk type='volume'>` disks as (pool, volume).
    pub pool_volumes: Vec<(String, String)>,
    /// Its network cards.
    pub nics: Vec<DomainNic>,
}

/// Reads what a domain uses from its XML (pure). Unknown or broken parts are skipped.
pub fn from_xml(uuid: &str, name: &str, xml: &str) -> Result<DomainUse> {
    let doc = parse_xml(xml)?;
    let mut out = DomainUse {
        uuid: uuid.to_owned(),
        name: name.to_owned(),
        ..Default::default()
    };
    let Some(devices) = child(doc.root_element(), "devices") else {
        return Ok(out);
    };
    for disk in devices.children().filter(|n| n.has_tag_name("disk")) {
        // The disk itself and every backing file under it.
        for source in disk.descendants().filter(|n| n.has_tag_name("source")) {
            if let Some(p) = source.attribute("file").or(source.attribute("dev")) {
                if !out.disk_paths.iter().any(|x| x == p) {
                    out.disk_paths.push(p.to_owned());
                }
            }
            if let (Some(pool), Some(vol)) = (source.attribute("pool"), source.attribute("volume"))
            {
                out.pool_volumes.push((pool.to_owned(), vol.to_owned()));
            }
        }
    }
    for nic in devices.children().filter(|n| n.has_tag_name("interface")) {
        let source = child(nic, "source");
        let kind = nic.attribute("type").unwrap_or_default();
        out.nics.push(DomainNic {
            mac: child(nic, "mac")
                .and_then(|m| m.attribute("address"))
                .unwrap_or_default()
                .to_ascii_lowercase(),
            network: (kind == "network")
                .then(|| source.and_then(|s| s.attribute("network")))
                .flatten()
                .map(str::to_owned),
            bridge: source
                .and_then(|s| s.attribute("bridge"))
                .map(str::to_owned),
        });
    }
    Ok(out)
}

/// What every domain of the host uses (one XML read per domain).
pub fn read_all(conn: &Connect) -> Result<Vec<DomainUse>> {
    let mut out = Vec::new();
    for d in optional_list("virConnectListAllDomains", conn.list_all_domains(0))? {
        let (Ok(name), Ok(uuid), Ok(xml)) = (d.name(), d.uuid_string(), d.xml_desc(0)) else {
            // Gone meanwhile: it uses nothing any more.
            continue;
        };
        match from_xml(&uuid, &name, &xml) {
            Ok(u) => out.push(u),
            Err(e) => tracing::debug!(domain = %name, error = %e, "unreadable domain XML"),
        }
    }
    Ok(out)
}

/// The names of the domains using the volume at `path` (or `pool`/`volume`), sorted.
pub fn users_of_volume(uses: &[DomainUse], path: &str, pool: &str, volume: &str) -> Vec<String> {
    let mut names: Vec<String> = uses
        .iter()
        .filter(|u| {
            u.disk_paths.iter().any(|p| !path.is_empty() && p == path)
                || u.pool_volumes.iter().any(|(p, v)| p == pool && v == volume)
        })
        .map(|u| u.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Who uses each of a pool's volumes (in the order of `vols`): the domains whose disks
/// are the volume, and, through backing files, the domains of every overlay on top of
/// it (a stopped domain's XML names only its top image, yet deleting the base would
/// break it).
pub fn users_of_volumes(uses: &[DomainUse], pool: &str, vols: &[VolumeInfo]) -> Vec<Vec<String>> {
    let mut users: Vec<Vec<String>> = vols
        .iter()
        .map(|v| users_of_volume(uses, &v.path, pool, &v.name))
        .collect();
    // Each round passes users one level down a backing chain.
    for _ in 0..vols.len() {
        let mut changed = false;
        for (i, v) in vols.iter().enumerate() {
            let Some(base) = v.backing_path.as_deref() else {
                continue;
            };
            let Some(j) = vols.iter().position(|b| b.path == base) else {
                continue;
            };
            for name in users[i].clone() {
                if !users[j].contains(&name) {
                    users[j].push(name);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for u in &mut users {
        u.sort();
    }
    users
}

/// The names of the domains plugged into the virtual network `network`, sorted.
pub fn users_of_network(uses: &[DomainUse], network: &str) -> Vec<String> {
    let mut names: Vec<String> = uses
        .iter()
        .filter(|u| u.nics.iter().any(|n| n.network.as_deref() == Some(network)))
        .map(|u| u.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The domain (UUID, name) whose card has `mac` (any case).
pub fn owner_of_mac<'a>(uses: &'a [DomainUse], mac: &str) -> Option<&'a DomainUse> {
    let mac = mac.to_ascii_lowercase();
    uses.iter().find(|u| u.nics.iter().any(|n| n.mac == mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<domain type='kvm'><name>web</name><devices>
        <disk type='file' device='disk'><source file='/var/lib/libvirt/images/web.qcow2'/>
          <backingStore type='file'><source file='/var/lib/libvirt/images/base.qcow2'/></backingStore>
          <target dev='vda'/></disk>
        <disk type='volume' device='disk'><source pool='data' volume='web-data'/><target dev='vdb'/></disk>
        <disk type='file' device='cdrom'><target dev='sda'/></disk>
        <interface type='network'><mac address='52:54:00:AA:BB:CC'/><source network='default' bridge='virbr0'/></interface>
        <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/></interface>
      </devices></domain>"#;

    #[test]
    fn reads_disks_backing_files_and_nics() {
        let u = from_xml("u1", "web", XML).unwrap();
        assert_eq!(
            u.disk_paths,
            vec![
                "/var/lib/libvirt/images/web.qcow2",
                "/var/lib/libvirt/images/base.qcow2"
            ]
        );
        assert_eq!(u.pool_volumes, vec![("data".into(), "web-data".into())]);
        assert_eq!(u.nics.len(), 2);
        assert_eq!(u.nics[0].mac, "52:54:00:aa:bb:cc");
        assert_eq!(u.nics[0].network.as_deref(), Some("default"));
        assert_eq!(u.nics[1].network, None);
        assert_eq!(u.nics[1].bridge.as_deref(), Some("br0"));
    }

    #[test]
    fn who_uses_what() {
        let uses = vec![
            from_xml("u1", "web", XML).unwrap(),
            from_xml("u2", "db", "<domain><name>db</name></domain>").unwrap(),
        ];
        assert_eq!(
            users_of_volume(
                &uses,
                "/var/lib/libvirt/images/base.qcow2",
                "default",
                "base.qcow2"
            ),
            vec!["web"]
        );
        assert_eq!(users_of_volume(&uses, "", "data", "web-data"), vec!["web"]);
        assert!(users_of_volume(&uses, "/elsewhere", "x", "y").is_empty());
        assert_eq!(users_of_network(&uses, "default"), vec!["web"]);
        assert!(users_of_network(&uses, "other").is_empty());
        assert_eq!(
            owner_of_mac(&uses, "52:54:00:aa:bb:CC").map(|u| u.name.as_str()),
            Some("web")
        );
        assert!(owner_of_mac(&uses, "00:00:00:00:00:00").is_none());
    }

    #[test]
    fn users_pass_down_backing_chains() {
        let uses = vec![from_xml(
            "u3",
            "vm",
            "<domain><devices><disk><source file='/p/top.qcow2'/></disk></devices></domain>",
        )
        .unwrap()];
        let vol = |name: &str, backing: Option<&str>| VolumeInfo {
            name: name.into(),
            path: format!("/p/{name}"),
            backing_path: backing.map(str::to_owned),
            ..Default::default()
        };
        let vols = vec![
            vol("base.img", None),
            vol("mid.qcow2", Some("/p/base.img")),
            vol("other.img", None),
            vol("top.qcow2", Some("/p/mid.qcow2")),
        ];
        assert_eq!(
            users_of_volumes(&uses, "p", &vols),
            vec![vec!["vm"], vec!["vm"], vec![], vec!["vm"]]
        );
    }
}
