//! `<graphics>` (the display a viewer connects to) and `<video>` (the guest's card).

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::error::Result;
use crate::virt::domain_xml::fields::yes_no;
use crate::virt::domain_xml::fragment::NewElement;

/// Where a display listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// Nothing said: libvirt's default (qemu.conf's listen address).
    Default,
    /// An IP address (`127.0.0.1`, `0.0.0.0`).
    Address(String),
    /// The address of a libvirt network.
    Network(String),
    /// A UNIX socket (libvirt picks the path when `None`).
    Socket(Option<String>),
    /// No network listener: only `virDomainOpenGraphicsFD` reaches the display.
    None,
}

/// A `<graphics>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graphics {
    /// `vnc`, `spice`, `sdl`, `rdp`, `egl-headless`, `dbus`.
    pub graphics_type: String,
    /// `port` (-1: chosen at start).
    pub port: Option<i32>,
    /// `autoport`.
    pub autoport: Option<bool>,
    /// `tlsPort` (SPICE).
    pub tls_port: Option<i32>,
    pub listen: Listen,
    /// `passwd`. libvirt only shows it in XML read with `VIR_DOMAIN_XML_SECURE`.
    pub password: Option<String>,
    /// `keymap` (`en-us`, `de`...).
    pub keymap: Option<String>,
    /// `<gl enable>` (SPICE OpenGL).
    pub gl: Option<bool>,
}

impl Graphics {
    /// A display of `graphics_type` on an automatically chosen port, listening as
    /// libvirt's default says.
    pub fn new(graphics_type: &str) -> Self {
        Graphics {
            graphics_type: graphics_type.to_owned(),
            port: None,
            autoport: Some(true),
            tls_port: None,
            listen: Listen::Default,
            password: None,
            keymap: None,
            gl: None,
        }
    }
}

fn read_listen(doc: &XmlDoc, el: NodeId) -> Listen {
    if let Some(l) = doc.child(el, "listen") {
        let a = |n: &str| doc.attr(l, n).map(str::to_owned);
        return match doc.attr(l, "type").unwrap_or("address") {
            "none" => Listen::None,
            "network" => Listen::Network(a("network").unwrap_or_default()),
            "socket" => Listen::Socket(a("socket")),
            _ => a("address")
                .or_else(|| doc.get(el, "", "listen"))
                .map_or(Listen::Default, Listen::Address),
        };
    }
    doc.get(el, "", "listen")
        .map_or(Listen::Default, Listen::Address)
}

fn write_listen(doc: &mut XmlDoc, el: NodeId, listen: &Listen) -> Result<()> {
    let has_child = doc.child(el, "listen").is_some();
    // The `listen` attribute only ever mirrors an address.
    match listen {
        Listen::Address(a) if doc.attr(el, "listen").is_some() || !has_child => {
            doc.put(el, "", "listen", Some(a))?
        }
        Listen::Address(_) => {}
        _ => doc.put(el, "", "listen", None)?,
    }
    let (kind, attr, value) = match listen {
        Listen::Default => {
            // `<listen type='address'/>` without an address is the default too (libvirt
            // writes it so): keep it as it is, without its address.
            if let Some(l) = doc.child(el, "listen") {
                match doc.attr(l, "type") {
                    Some("address") | None => doc.put(l, "", "address", None)?,
                    _ => doc.remove(l)?,
                }
            }
            return Ok(());
        }
        Listen::Address(a) if has_child => ("address", "address", Some(a.clone())),
        Listen::Address(_) => return Ok(()),
        Listen::Network(n) => ("network", "network", Some(n.clone())),
        Listen::Socket(s) => ("socket", "socket", s.clone()),
        Listen::None => ("none", "", None),
    };
    let l = doc.ensure_child(el, "listen")?;
    doc.set_attr(l, "type", kind)?;
    for other in ["address", "network", "socket"] {
        if other != attr {
            doc.remove_attr(l, other)?;
        }
    }
    if !attr.is_empty() {
        doc.put(l, "", attr, value.as_deref())?;
    }
    if *listen == Listen::None {
        // A display with no listener has no ports to choose.
        for a in ["port", "autoport", "tlsPort", "websocket"] {
            doc.remove_attr(el, a)?;
        }
    }
    Ok(())
}

impl DeviceView for Graphics {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Graphics]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Graphics
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        let num = |a: &str| doc.attr(el, a).and_then(|v| v.parse().ok());
        Graphics {
            graphics_type: doc.attr(el, "type").unwrap_or("").to_owned(),
            port: num("port"),
            autoport: doc.attr(el, "autoport").and_then(yes_no),
            tls_port: num("tlsPort"),
            listen: read_listen(doc, el),
            password: doc.get(el, "", "passwd"),
            keymap: doc.get(el, "", "keymap"),
            gl: doc.get(el, "gl", "enable").as_deref().and_then(yes_no),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.graphics_type != old.graphics_type {
            doc.set_attr(el, "type", &self.graphics_type)?;
        }
        if self.port != old.port {
            doc.put_num(el, "", "port", self.port)?;
        }
        if self.autoport != old.autoport {
            doc.put(
                el,
                "",
                "autoport",
                self.autoport.map(|a| if a { "yes" } else { "no" }),
            )?;
        }
        if self.tls_port != old.tls_port {
            doc.put_num(el, "", "tlsPort", self.tls_port)?;
        }
        if self.password != old.password {
            doc.put(el, "", "passwd", self.password.as_deref())?;
        }
        if self.keymap != old.keymap {
            doc.put(el, "", "keymap", self.keymap.as_deref())?;
        }
        if self.listen != old.listen {
            write_listen(doc, el, &self.listen)?;
        }
        if self.gl != old.gl {
            doc.put(
                el,
                "gl",
                "enable",
                self.gl.map(|g| if g { "yes" } else { "no" }),
            )?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let mut el = NewElement::new("graphics")
            .attr("type", &self.graphics_type)
            .attr_opt("port", self.port.map(|p| p.to_string()))
            .attr_opt(
                "autoport",
                self.autoport.map(|a| if a { "yes" } else { "no" }),
            )
            .attr_opt("tlsPort", self.tls_port.map(|p| p.to_string()))
            .attr_opt("passwd", self.password.clone())
            .attr_opt("keymap", self.keymap.clone());
        let listen = match &self.listen {
            Listen::Default => None,
            Listen::Address(a) => {
                el = el.attr("listen", a);
                Some(
                    NewElement::new("listen")
                        .attr("type", "address")
                        .attr("address", a),
                )
            }
            Listen::Network(n) => Some(
                NewElement::new("listen")
                    .attr("type", "network")
                    .attr("network", n),
            ),
            Listen::Socket(s) => Some(
                NewElement::new("listen")
                    .attr("type", "socket")
                    .attr_opt("socket", s.clone()),
            ),
            Listen::None => Some(NewElement::new("listen").attr("type", "none")),
        };
        el.child_opt(listen).child_opt(
            self.gl
                .map(|g| NewElement::new("gl").attr("enable", if g { "yes" } else { "no" })),
        )
    }
}

/// A `<video>`: the guest's graphics card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    /// `<model type>`: `virtio`, `qxl`, `vga`, `bochs`, `ramfb`, `cirrus`, `none`.
    pub model: Option<String>,
    /// `<model vram>` in KiB.
    pub vram: Option<u64>,
    /// `<model heads>`.
    pub heads: Option<u32>,
    /// `<model primary>`.
    pub primary: Option<bool>,
    /// `<acceleration accel3d>`.
    pub accel3d: Option<bool>,
}

impl DeviceView for Video {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Video]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Video
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        Video {
            model: doc.get(el, "model", "type"),
            vram: doc.get(el, "model", "vram").and_then(|v| v.parse().ok()),
            heads: doc.get(el, "model", "heads").and_then(|v| v.parse().ok()),
            primary: doc.get(el, "model", "primary").as_deref().and_then(yes_no),
            accel3d: doc
                .get(el, "model/acceleration", "accel3d")
                .as_deref()
                .and_then(yes_no),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        let yn = |b: Option<bool>| b.map(|b| if b { "yes" } else { "no" });
        if self.model != old.model {
            doc.put(el, "model", "type", self.model.as_deref())?;
        }
        if self.vram != old.vram {
            doc.put_num(el, "model", "vram", self.vram)?;
        }
        if self.heads != old.heads {
            doc.put_num(el, "model", "heads", self.heads)?;
        }
        if self.primary != old.primary {
            doc.put(el, "model", "primary", yn(self.primary))?;
        }
        if self.accel3d != old.accel3d {
            doc.put(el, "model/acceleration", "accel3d", yn(self.accel3d))?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let yn = |b: bool| if b { "yes" } else { "no" };
        let model = NewElement::new("model")
            .attr_opt("type", self.model.clone())
            .attr_opt("vram", self.vram.map(|v| v.to_string()))
            .attr_opt("heads", self.heads.map(|v| v.to_string()))
            .attr_opt("primary", self.primary.map(yn))
            .child_opt(
                self.accel3d
                    .map(|a| NewElement::new("acceleration").attr("accel3d", yn(a))),
            );
        NewElement::new("video").child(model)
    }
}
