//! Generates libvirt test-driver `<node>` files with many domains (tests, benches,
//! demos). `test:///abs/path/node.xml` then opens a private in-process driver with them.

use std::fmt::Write;

/// Options for [`generate`].
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Number of domains, named `vm0000`, `vm0001`...
    pub domains: usize,
    /// Every `running_every`-th domain runs (index 0, n, 2n...); the others are shut off.
    pub running_every: usize,
    /// Also give each domain a storage volume in pool "default" backing its disk.
    pub volumes: bool,
    /// `Some((user, password))` makes the driver ask for a login.
    pub auth: Option<(String, String)>,
}

impl Default for NodeSpec {
    fn default() -> Self {
        NodeSpec {
            domains: 10,
            running_every: 2,
            volumes: false,
            auth: None,
        }
    }
}

/// The UUID given to domain `i`.
pub fn domain_uuid(i: usize) -> String {
    format!("00000000-0000-0000-0000-{:012x}", 0x100_0000 + i)
}

/// The name given to domain `i`.
pub fn domain_name(i: usize) -> String {
    format!("vm{i:04}")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

/// The node XML.
pub fn generate(spec: &NodeSpec) -> String {
    let n = spec.domains;
    let mut x = String::with_capacity(1200 * n + 2000);
    x.push_str("<node>\n");
    x.push_str(
        "  <cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>2</threads>\
         <active>16</active><mhz>2800</mhz><model>x86_64</model></cpu>\n  <memory>268435456</memory>\n",
    );
    if let Some((user, pw)) = &spec.auth {
        let _ = writeln!(
            x,
            "  <auth><user password='{}'>{}</user></auth>",
            esc(pw),
            esc(user)
        );
    }
    x.push_str(
        "  <network><name>default</name><uuid>00000000-0000-0000-0000-000000000abc</uuid>\
         <bridge name='virbr0'/><forward/><ip address='192.168.122.1' netmask='255.255.255.0'>\
         <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>\n",
    );
    x.push_str(
        "  <pool type='dir'><name>default</name><uuid>00000000-0000-0000-0000-000000000abd</uuid>\
         <capacity>1099511627776</capacity><allocation>0</allocation><available>1099511627776</available>\
         <target><path>/var/lib/libvirt/images</path></target>\n",
    );
    if spec.volumes {
        for i in 0..n {
            let name = domain_name(i);
            let _ = writeln!(
                x,
                "    <volume><name>{name}.qcow2</name><key>/var/lib/libvirt/images/{name}.qcow2</key>\
                 <capacity unit='bytes'>{}</capacity><allocation unit='bytes'>0</allocation>\
                 <target><path>/var/lib/libvirt/images/{name}.qcow2</path></target></volume>",
                (i as u64 + 1) << 30
            );
        }
    }
    x.push_str("  </pool>\n");
    let every = spec.running_every.max(1);
    for i in 0..n {
        let name = domain_name(i);
        let running = i % every == 0;
        let mem = 1_048_576 * (1 + i % 4);
        let _ = write!(
            x,
            "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n\
             \x20   <name>{name}</name><uuid>{uuid}</uuid>\n\
             \x20   <description>Generated test guest {i} ({what})</description>\n\
             \x20   <memory unit='KiB'>{mem}</memory><currentMemory unit='KiB'>{mem}</currentMemory>\n\
             \x20   <vcpu>{vcpus}</vcpu>\n\
             \x20   <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n\
             \x20   <devices>\n\
             \x20     <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='/var/lib/libvirt/images/{name}.qcow2'/><target dev='vda' bus='virtio'/></disk>\n\
             \x20     <interface type='network'><mac address='52:54:00:{a:02x}:{b:02x}:{c:02x}'/>\
             <source network='default'/><model type='virtio'/></interface>\n\
             \x20     <graphics type='vnc' port='-1' autoport='yes'/>\n\
             \x20   </devices>\n{state}  </domain>\n",
            uuid = domain_uuid(i),
            what = if running { "running" } else { "shut off" },
            vcpus = 1 + i % 4,
            a = (i >> 16) & 0xff,
            b = (i >> 8) & 0xff,
            c = i & 0xff,
            state = if running { "" } else { "    <test:runstate>5</test:runstate>\n" },
        );
    }
    x.push_str("</node>\n");
    x
}

/// Writes a node file into `dir` and returns its `test:///` URI.
pub fn write_node(dir: &std::path::Path, file: &str, spec: &NodeSpec) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file);
    std::fs::write(&path, generate(spec))?;
    let abs = std::fs::canonicalize(&path)?;
    Ok(format!("test://{}", abs.display()))
}
