//! `--disk`, `--network` and `--graphics`: option strings read onto the typed device
//! views, for editing a device, adding one, and picking devices (`--edit target=vda`,
//! `--remove-device --disk /dev/null`).
//!
//! A device matches a selector when setting the selector's values on it would change
//! nothing: so every sub-option that edits also selects, with the same meaning.

use gettextrs::gettext;

use super::options::{check_leftover, XmlOption};
use super::optstr::{on_off, OptError, OptString};
use crate::i18n::gettext_f;
use crate::virt::domain_xml::devices::{
    random_mac, Disk, DiskSource, Graphics, Interface, InterfaceSource, Listen,
};
use crate::virt::domain_xml::{DeviceKey, DeviceView, DomainXml, DomainXmlError};

/// `--disk` sub-options.
pub const DISK_NAMES: &[&str] = &[
    "path",
    "type",
    "device",
    "bus",
    "target.bus",
    "target",
    "target.dev",
    "cache",
    "driver.cache",
    "discard",
    "driver.discard",
    "io",
    "driver.io",
    "driver.name",
    "driver_name",
    "driver.type",
    "driver_type",
    "format",
    "readonly",
    "shareable",
    "perms",
    "boot.order",
    "boot_order",
    "serial",
    "source.file",
    "source.dev",
    "source.dir",
    "source.pool",
    "source.volume",
    "vol",
    "size",
    "pool",
    "sparse",
    "backing_store",
];

/// `--network` sub-options.
pub const NETWORK_NAMES: &[&str] = &[
    "type",
    "source",
    "network",
    "bridge",
    "source.mode",
    "model",
    "model.type",
    "mac",
    "mac.address",
    "link.state",
    "link_state",
    "boot.order",
    "boot_order",
    "target",
    "target.dev",
];

/// `--graphics` sub-options.
pub const GRAPHICS_NAMES: &[&str] = &[
    "type",
    "port",
    "tlsport",
    "tlsPort",
    "autoport",
    "listen",
    "password",
    "passwd",
    "keymap",
    "gl",
    "gl.enable",
];

fn err(text: String) -> OptError {
    OptError(text)
}

fn from_domain(e: DomainXmlError) -> OptError {
    OptError(e.to_string())
}

fn set(field: &mut Option<String>, opts: &mut OptString, names: &[&str]) {
    if let Some(v) = opts.take(names) {
        *field = v;
    }
}

fn flag(field: &mut bool, opts: &mut OptString, name: &str) -> Result<(), OptError> {
    if let Some(v) = opts.take(&[name]) {
        *field = on_off(name, v.as_deref())?;
    }
    Ok(())
}

/// The boot order an option string asks for: `Some(None)` unsets it.
fn take_boot_order(opts: &mut OptString) -> Result<Option<Option<u32>>, OptError> {
    opts.take(&["boot.order", "boot_order"])
        .map(|v| {
            v.map(|v| {
                v.trim().parse().map_err(|_| {
                    err(gettext_f(
                        "boot.order: '{value}' is not a whole number",
                        &[("value", &v)],
                    ))
                })
            })
            .transpose()
        })
        .transpose()
}

fn disk_source_for(disk: &Disk, path: String) -> DiskSource {
    if disk.disk_type == "dir" {
        DiskSource::Dir(path)
    } else if path.starts_with("/dev/") {
        DiskSource::Block(path)
    } else {
        DiskSource::File(path)
    }
}

fn apply_disk(d: &mut Disk, opts: &mut OptString) -> Result<(), OptError> {
    for storage in ["size", "pool", "sparse", "backing_store"] {
        if opts.take(&[storage]).is_some() {
            return Err(err(gettext_f(
                "--disk {name}=: vireo-xml does not create storage; create the volume first (for example with virsh vol-create-as) and give it as vol=POOL/VOLUME",
                &[("name", storage)],
            )));
        }
    }
    if let Some(t) = opts.take(&["type"]).flatten() {
        d.disk_type = t;
        // A path keeps its meaning under the new type.
        if let Some(p) = d.path().map(str::to_owned) {
            d.source = Some(match d.disk_type.as_str() {
                "block" => DiskSource::Block(p),
                "dir" => DiskSource::Dir(p),
                _ => DiskSource::File(p),
            });
        }
    }
    if let Some(dev) = opts.take(&["device"]).flatten() {
        d.device = dev;
    }
    if let Some(p) = opts.take(&["path"]) {
        d.source = p.map(|p| disk_source_for(d, p));
    }
    for (name, make) in [
        ("source.file", DiskSource::File as fn(String) -> DiskSource),
        ("source.dev", DiskSource::Block),
        ("source.dir", DiskSource::Dir),
    ] {
        if let Some(p) = opts.take(&[name]) {
            d.source = p.map(make);
        }
    }
    let vol = opts.take(&["vol"]).flatten();
    let pool = opts.take(&["source.pool"]).flatten();
    let volume = opts.take(&["source.volume"]).flatten();
    let pool_volume = match (vol, pool, volume) {
        (Some(v), _, _) => match v.split_once('/') {
            Some((p, v)) if !p.is_empty() && !v.is_empty() && !v.contains('/') => {
                Some((p.to_owned(), v.to_owned()))
            }
            _ => return Err(err(gettext("vol= takes POOL/VOLUME"))),
        },
        (None, Some(p), Some(v)) => Some((p, v)),
        (None, None, None) => None,
        _ => return Err(err(gettext("source.pool and source.volume go together"))),
    };
    if let Some((pool, volume)) = pool_volume {
        d.source = Some(DiskSource::Volume { pool, volume });
    }
    set(&mut d.bus, opts, &["bus", "target.bus"]);
    set(&mut d.target, opts, &["target", "target.dev"]);
    set(&mut d.cache, opts, &["cache", "driver.cache"]);
    set(&mut d.discard, opts, &["discard", "driver.discard"]);
    set(&mut d.io, opts, &["io", "driver.io"]);
    set(&mut d.driver_name, opts, &["driver.name", "driver_name"]);
    set(
        &mut d.format,
        opts,
        &["driver.type", "driver_type", "format"],
    );
    set(&mut d.serial, opts, &["serial"]);
    flag(&mut d.readonly, opts, "readonly")?;
    flag(&mut d.shareable, opts, "shareable")?;
    match opts.take(&["perms"]).flatten().as_deref() {
        None | Some("rw") => {}
        Some("ro") => d.readonly = true,
        Some("sh") => d.shareable = true,
        Some(other) => {
            return Err(err(gettext_f(
                "perms: '{value}' is not ro, sh or rw",
                &[("value", other)],
            )))
        }
    }
    Ok(())
}

fn apply_network(n: &mut Interface, opts: &mut OptString) -> Result<(), OptError> {
    let mut ty = opts.take(&["type"]).flatten();
    let mut source = opts.take(&["source"]);
    let network = opts.take(&["network"]);
    let bridge = opts.take(&["bridge"]);
    let mode = opts.take(&["source.mode"]);
    // virt-install's older network=NAME and bridge=NAME.
    if ty.is_none() {
        if let Some(net) = network {
            ty = Some("network".into());
            source = Some(net);
        } else if let Some(br) = bridge {
            ty = Some("bridge".into());
            source = Some(br);
        }
    }
    if ty.is_some() || source.is_some() || mode.is_some() {
        let current_type = n.source.interface_type().to_owned();
        let ty = ty.unwrap_or(current_type);
        let same_type = ty == n.source.interface_type();
        let current_name = match &n.source {
            InterfaceSource::Network(s) | InterfaceSource::Bridge(s) => Some(s.clone()),
            InterfaceSource::Direct { dev, .. } => Some(dev.clone()),
            _ => None,
        };
        let name = match source {
            Some(s) => s,
            None if same_type => current_name,
            None => None,
        };
        let need = |what: &str| {
            name.clone().ok_or_else(|| {
                err(gettext_f(
                    "--network type={type} needs source=",
                    &[("type", what)],
                ))
            })
        };
        n.source = match ty.as_str() {
            "default" => InterfaceSource::Network("default".into()),
            "network" => InterfaceSource::Network(name.clone().unwrap_or_else(|| "default".into())),
            "bridge" => InterfaceSource::Bridge(need("bridge")?),
            "direct" => InterfaceSource::Direct {
                dev: need("direct")?,
                mode: match (mode, &n.source) {
                    (Some(m), _) => m,
                    (None, InterfaceSource::Direct { mode, .. }) => mode.clone(),
                    (None, _) => Some("bridge".into()),
                },
            },
            "user" => InterfaceSource::User,
            other => InterfaceSource::Other(other.to_owned()),
        };
    }
    set(&mut n.model, opts, &["model", "model.type"]);
    if let Some(mac) = opts.take(&["mac", "mac.address"]) {
        n.mac = match mac.as_deref() {
            Some("RANDOM") => Some(random_mac(&[])),
            // The same address in other letters case is the same address.
            Some(m)
                if n.mac
                    .as_deref()
                    .is_some_and(|old| old.eq_ignore_ascii_case(m)) =>
            {
                n.mac.clone()
            }
            Some(m) if is_mac(m) => Some(m.to_ascii_lowercase()),
            Some(m) => {
                return Err(err(gettext_f(
                    "mac: '{value}' is not a MAC address",
                    &[("value", m)],
                )))
            }
            None => None,
        };
    }
    if let Some(state) = opts.take(&["link.state", "link_state"]) {
        n.link_up = match state.as_deref() {
            None => None,
            Some("up") => Some(true),
            Some("down") => Some(false),
            Some(v) => Some(on_off("link.state", Some(v))?),
        };
    }
    set(&mut n.target, opts, &["target", "target.dev"]);
    Ok(())
}

fn is_mac(m: &str) -> bool {
    let parts: Vec<&str> = m.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok())
}

fn apply_graphics(g: &mut Graphics, opts: &mut OptString) -> Result<(), OptError> {
    if let Some(t) = opts.take(&["type"]).flatten().filter(|t| t != "default") {
        g.graphics_type = t;
    }
    if let Some(port) = opts.take(&["port"]) {
        match port {
            None => {
                g.port = None;
                g.autoport = None;
            }
            Some(p) => {
                let p: i32 = p.trim().parse().map_err(|_| {
                    err(gettext_f(
                        "port: '{value}' is not a port number",
                        &[("value", &p)],
                    ))
                })?;
                g.port = Some(p);
                g.autoport = Some(p == -1);
            }
        }
    }
    if let Some(v) = opts.take(&["autoport"]) {
        g.autoport = v.map(|v| on_off("autoport", Some(&v))).transpose()?;
    }
    if let Some(p) = opts.take(&["tlsport", "tlsPort"]) {
        g.tls_port = p
            .map(|p| {
                p.trim().parse().map_err(|_| {
                    err(gettext_f(
                        "tlsport: '{value}' is not a port number",
                        &[("value", &p)],
                    ))
                })
            })
            .transpose()?;
    }
    if let Some(l) = opts.take(&["listen"]) {
        g.listen = match l.as_deref() {
            None => Listen::Default,
            Some("none") => Listen::None,
            Some("socket") => Listen::Socket(None),
            Some(a) => Listen::Address(a.to_owned()),
        };
    }
    set(&mut g.password, opts, &["password", "passwd"]);
    if let Some(k) = opts.take(&["keymap"]) {
        g.keymap = k.filter(|k| !matches!(k.to_ascii_lowercase().as_str(), "local" | "none"));
    }
    if let Some(v) = opts.take(&["gl", "gl.enable"]) {
        g.gl = v.map(|v| on_off("gl", Some(&v))).transpose()?;
    }
    Ok(())
}

/// Reads `text` for `option` onto the device view `dev`; returns the boot order asked
/// for (applied by the caller, as it moves other devices' orders too).
fn apply<T: DeviceView>(
    option: XmlOption,
    text: &str,
    dev: &mut T,
    on: fn(&mut T, &mut OptString) -> Result<(), OptError>,
) -> Result<Option<Option<u32>>, OptError> {
    let mut opts = option.parse(text)?;
    let boot = if option == XmlOption::Graphics {
        None
    } else {
        take_boot_order(&mut opts)?
    };
    on(dev, &mut opts)?;
    check_leftover(option, &opts)?;
    Ok(boot)
}

/// Edits the device `key` as the option string says.
pub fn edit(
    dom: &mut DomainXml,
    option: XmlOption,
    key: &DeviceKey,
    text: &str,
) -> Result<(), OptError> {
    let boot = match option {
        XmlOption::Disk => edit_as(dom, option, key, text, apply_disk)?,
        XmlOption::Network => edit_as(dom, option, key, text, apply_network)?,
        XmlOption::Graphics => edit_as(dom, option, key, text, apply_graphics)?,
        _ => unreachable!("not a device option"),
    };
    if let Some(order) = boot {
        dom.set_device_boot_order(key, order).map_err(from_domain)?;
    }
    Ok(())
}

fn edit_as<T: DeviceView>(
    dom: &mut DomainXml,
    option: XmlOption,
    key: &DeviceKey,
    text: &str,
    on: fn(&mut T, &mut OptString) -> Result<(), OptError>,
) -> Result<Option<Option<u32>>, OptError> {
    let mut dev: T = dom.device(key).map_err(from_domain)?;
    let boot = apply(option, text, &mut dev, on)?;
    dom.update_device(key, &dev).map_err(from_domain)?;
    Ok(boot)
}

/// Adds a device built from the option string; returns its key.
pub fn add(dom: &mut DomainXml, option: XmlOption, text: &str) -> Result<DeviceKey, OptError> {
    let (key, boot) = match option {
        XmlOption::Disk => add_as(dom, option, text, Disk::default(), apply_disk)?,
        XmlOption::Network => add_as(
            dom,
            option,
            text,
            Interface::on_network("default", Some("virtio")),
            apply_network,
        )?,
        XmlOption::Graphics => add_as(dom, option, text, Graphics::new("vnc"), apply_graphics)?,
        _ => unreachable!("not a device option"),
    };
    if let Some(order) = boot {
        dom.set_device_boot_order(&key, order)
            .map_err(from_domain)?;
    }
    Ok(key)
}

fn add_as<T: DeviceView>(
    dom: &mut DomainXml,
    option: XmlOption,
    text: &str,
    mut dev: T,
    on: fn(&mut T, &mut OptString) -> Result<(), OptError>,
) -> Result<(DeviceKey, Option<Option<u32>>), OptError> {
    let boot = apply(option, text, &mut dev, on)?;
    let key = dom.add_device(&dev).map_err(from_domain)?;
    Ok((key, boot))
}

/// True when the device `key` matches the selector `text` (virt-xml's
/// `--edit target=vda`).
pub fn matches(
    dom: &DomainXml,
    option: XmlOption,
    key: &DeviceKey,
    text: &str,
) -> Result<bool, OptError> {
    match option {
        XmlOption::Disk => matches_as(dom, option, key, text, apply_disk, |d: &Disk| d.boot_order),
        XmlOption::Network => matches_as(dom, option, key, text, apply_network, |n: &Interface| {
            n.boot_order
        }),
        XmlOption::Graphics => {
            matches_as(dom, option, key, text, apply_graphics, |_: &Graphics| None)
        }
        _ => unreachable!("not a device option"),
    }
}

fn matches_as<T: DeviceView>(
    dom: &DomainXml,
    option: XmlOption,
    key: &DeviceKey,
    text: &str,
    on: fn(&mut T, &mut OptString) -> Result<(), OptError>,
    boot_of: fn(&T) -> Option<u32>,
) -> Result<bool, OptError> {
    let dev: T = dom.device(key).map_err(from_domain)?;
    let mut probe = dev.clone();
    let boot = apply(option, text, &mut probe, on)?;
    let boot_matches = boot.map_or(true, |wanted| wanted == boot_of(&dev));
    Ok(probe == dev && boot_matches)
}
