//! Edits that switch a device to another type: a display from VNC to SPICE, a video
//! card to another model, a TPM or RNG to another backend. Each switch also drops what
//! only the old type understands (libvirt would refuse it, or keep it dead) and adds
//! what the new one needs, as virt-manager does, and touches nothing else: a switch
//! and the switch back give the original bytes when the old type had nothing of its
//! own to drop.

use super::{CharDevice, DeviceKey, DeviceKind};
use crate::virt::domain_xml::document::NodeId;
use crate::virt::domain_xml::domain::DomainXml;
use crate::virt::domain_xml::error::{DomainXmlError, Result};

/// Children of `<graphics>` that only SPICE reads.
const SPICE_ONLY_CHILDREN: &[&str] = &[
    "channel",
    "image",
    "jpeg",
    "zlib",
    "playback",
    "streaming",
    "clipboard",
    "mouse",
    "filetransfer",
    "gl",
];
/// Attributes of `<graphics>` that only SPICE reads.
const SPICE_ONLY_ATTRS: &[&str] = &["tlsPort", "defaultMode"];
/// Children of `<graphics>` that only VNC reads.
const VNC_ONLY_CHILDREN: &[&str] = &["audio"];
/// Attributes of `<graphics>` that only VNC reads.
const VNC_ONLY_ATTRS: &[&str] = &["websocket", "sharePolicy", "powerControl"];

/// The `<target name>` of the SPICE agent's channel.
pub const SPICE_AGENT_CHANNEL: &str = "com.redhat.spice.0";

/// Attributes of a video `<model>` that size or shape one model's memory: a new model
/// starts from its own defaults, as virt-manager does.
const VIDEO_SIZES: &[&str] = &["vram", "vram64", "ram", "vgamem", "heads"];

/// The host side of a `random` RNG backend when none is given.
pub const RNG_DEFAULT_SOURCE: &str = "/dev/urandom";

impl DomainXml {
    /// Switches the display `key` to `to` (`vnc` or `spice`), keeping its port,
    /// listen address, password and keymap. What the old protocol alone reads goes
    /// (SPICE's `<image>`, `<gl>`, `tlsPort`...; VNC's `websocket`...). Switching to
    /// SPICE adds the agent's `spicevmc` channel when the VM has none (clipboard and
    /// display resizing need it); switching to VNC removes the `spicevmc` channels and
    /// USB redirectors when no other SPICE display is left, because nothing could serve
    /// them.
    pub fn set_graphics_type(&mut self, key: &DeviceKey, to: &str) -> Result<()> {
        let el = self.resolve(key)?;
        let from = self.doc().attr(el, "type").unwrap_or("").to_owned();
        if from == to {
            return Ok(());
        }
        let (children, attrs): (&[&str], &[&str]) = match from.as_str() {
            "spice" => (SPICE_ONLY_CHILDREN, SPICE_ONLY_ATTRS),
            "vnc" => (VNC_ONLY_CHILDREN, VNC_ONLY_ATTRS),
            _ => (&[], &[]),
        };
        let doc = self.doc_mut();
        doc.set_attr(el, "type", to)?;
        for name in attrs {
            doc.remove_attr(el, name)?;
        }
        let drop: Vec<NodeId> = doc
            .children(el)
            .filter(|&c| doc.namespace(c).is_none() && children.contains(&doc.name(c)))
            .collect();
        for c in drop {
            doc.remove(c)?;
        }
        doc.close_if_empty(el);
        if to == "spice" {
            if self.spicevmc_devices(DeviceKind::Channel).is_empty() {
                let mut agent = CharDevice::new(DeviceKind::Channel, "spicevmc");
                agent.target_type = Some("virtio".into());
                agent.target_name = Some(SPICE_AGENT_CHANNEL.into());
                self.add_device(&agent)?;
            }
        } else if !self.has_spice_display() {
            for kind in [DeviceKind::Channel, DeviceKind::Redirdev] {
                for el in self.spicevmc_devices(kind) {
                    self.doc_mut().remove(el)?;
                }
            }
        }
        Ok(())
    }

    /// The devices of `kind` whose host side is `spicevmc`.
    fn spicevmc_devices(&self, kind: DeviceKind) -> Vec<NodeId> {
        self.device_elements(kind)
            .into_iter()
            .filter(|&e| self.doc().attr(e, "type") == Some("spicevmc"))
            .collect()
    }

    fn has_spice_display(&self) -> bool {
        self.device_elements(DeviceKind::Graphics)
            .into_iter()
            .any(|e| self.doc().attr(e, "type") == Some("spice"))
    }

    /// Gives the video card `key` the model `model` (`virtio`, `qxl`, `vga`, `bochs`,
    /// `none`...). The old model's memory sizes and head count go (each model has its
    /// own defaults), and 3D acceleration stays only on `virtio`, the one model that
    /// has it.
    pub fn set_video_model(&mut self, key: &DeviceKey, model: &str) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc_mut();
        if doc.get(el, "model", "type").as_deref() == Some(model) {
            return Ok(());
        }
        doc.put(el, "model", "type", Some(model))?;
        let m = doc
            .child(el, "model")
            .ok_or_else(|| DomainXmlError::invalid("video", model, "no <model>"))?;
        for attr in VIDEO_SIZES {
            doc.remove_attr(m, attr)?;
        }
        if model != "virtio" {
            if let Some(accel) = doc.child(m, "acceleration") {
                doc.remove(accel)?;
            }
        }
        Ok(())
    }

    /// Sets the backend of the TPM `key`: the `emulator` (swtpm) of TPM `version`
    /// (`2.0`, `1.2`; `None`: libvirt's default), or `passthrough` of the host TPM
    /// `device`. What only the old backend reads goes: the emulator's state
    /// (`<source>`, `<encryption>`, `<profile>`...) on passthrough, the host device on
    /// the emulator.
    pub fn set_tpm_backend(
        &mut self,
        key: &DeviceKey,
        backend: &str,
        version: Option<&str>,
        device: Option<&str>,
    ) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc_mut();
        let b = doc.ensure_child(el, "backend")?;
        if doc.attr(b, "type") != Some(backend) {
            doc.set_attr(b, "type", backend)?;
            let keep = if backend == "passthrough" {
                "device"
            } else {
                ""
            };
            let drop: Vec<NodeId> = doc.children(b).filter(|&c| doc.name(c) != keep).collect();
            for c in drop {
                doc.remove(c)?;
            }
            for attr in ["persistent_state", "debug"] {
                doc.remove_attr(b, attr)?;
            }
            doc.close_if_empty(b);
        }
        doc.put(el, "backend", "version", version)?;
        if backend == "passthrough" {
            doc.put(el, "backend/device", "path", device)?;
        }
        Ok(())
    }

    /// Sets the backend of the RNG `key`: `random` reading the host's `source`
    /// (`/dev/urandom` when `None`) or `builtin` (QEMU's own). An `egd` backend's
    /// `<source>` and `<protocol>` go when it switches.
    pub fn set_rng_backend(
        &mut self,
        key: &DeviceKey,
        model: &str,
        source: Option<&str>,
    ) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc_mut();
        let b = doc.ensure_child(el, "backend")?;
        if doc.attr(b, "model") != Some(model) {
            doc.set_attr(b, "model", model)?;
            doc.remove_attr(b, "type")?;
            let drop: Vec<NodeId> = doc.children(b).collect();
            for c in drop {
                doc.remove(c)?;
            }
        }
        let text = match model {
            "random" => source.unwrap_or(RNG_DEFAULT_SOURCE),
            _ => "",
        };
        if doc.text_of(b) != text {
            doc.set_text(b, text)?;
        }
        doc.close_if_empty(b);
        Ok(())
    }
}

/// USB controller models that take a `ports` count (the xHCI ones).
const XHCI: &[&str] = &["qemu-xhci", "nec-xhci"];

impl DomainXml {
    /// Connects the character device `key` (a serial port, console, channel or
    /// parallel port) to the host as `char_type`: `pty` (a pseudo terminal), `file`
    /// (its output written to `path`) or `unix` (a socket at `path` the host side
    /// listens on). What the old type alone had (`<source>`'s other settings, a
    /// `<protocol>`) goes. A serial port's console twin (the `<console>` libvirt
    /// writes as a copy of serial port 0) follows it, so the two stay one device.
    pub fn set_char_source(
        &mut self,
        key: &DeviceKey,
        char_type: &str,
        path: Option<&str>,
    ) -> Result<()> {
        let el = self.resolve(key)?;
        let twin = (key.kind == DeviceKind::Serial)
            .then(|| super::chardev::console_twin(self, el))
            .flatten()
            .filter(|&c| self.doc().attr(c, "type") == self.doc().attr(el, "type"));
        for node in std::iter::once(el).chain(twin) {
            self.set_one_char_source(node, char_type, path)?;
        }
        Ok(())
    }

    fn set_one_char_source(
        &mut self,
        el: NodeId,
        char_type: &str,
        path: Option<&str>,
    ) -> Result<()> {
        let doc = self.doc_mut();
        let switched = doc.attr(el, "type") != Some(char_type);
        if switched {
            doc.set_attr(el, "type", char_type)?;
            let drop: Vec<NodeId> = doc
                .children(el)
                .filter(|&c| matches!(doc.name(c), "source" | "protocol"))
                .collect();
            for c in drop {
                doc.remove(c)?;
            }
        }
        match char_type {
            "file" | "unix" => {
                doc.put(el, "source", "path", path)?;
                if char_type == "unix" && doc.get(el, "source", "mode").is_none() {
                    doc.put(el, "source", "mode", Some("bind"))?;
                }
            }
            _ => {}
        }
        doc.close_if_empty(el);
        Ok(())
    }

    /// Gives the character device `key` the guest side `target_type` (`isa-serial`,
    /// `usb-serial`, `pci-serial` for a serial port; `serial`, `virtio` for a
    /// console). The old type's `<model>` goes: libvirt picks the one that matches.
    pub fn set_char_target_type(&mut self, key: &DeviceKey, target_type: &str) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc_mut();
        if doc.get(el, "target", "type").as_deref() == Some(target_type) {
            return Ok(());
        }
        doc.put(el, "target", "type", Some(target_type))?;
        if let Some(model) = doc.at(el, "target/model") {
            let target = doc.parent(model);
            doc.remove(model)?;
            if let Some(t) = target {
                doc.close_if_empty(t);
            }
        }
        Ok(())
    }

    /// Gives the controller `key` the model `model`. A `ports` count stays only on an
    /// xHCI USB controller (the others have a fixed number); a USB controller that
    /// becomes xHCI replaces the companion controllers of its index (the USB 1 halves
    /// an EHCI controller needs), as virt-manager does.
    pub fn set_controller_model(&mut self, key: &DeviceKey, model: &str) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc();
        if doc.attr(el, "model") == Some(model) {
            return Ok(());
        }
        let usb = doc.attr(el, "type") == Some("usb");
        let index = doc.attr(el, "index").unwrap_or("0").to_owned();
        let companions: Vec<NodeId> = if usb && XHCI.contains(&model) {
            self.device_elements(DeviceKind::Controller)
                .into_iter()
                .filter(|&c| {
                    c != el
                        && doc.attr(c, "type") == Some("usb")
                        && doc.attr(c, "index").unwrap_or("0") == index
                        && doc.child(c, "master").is_some()
                })
                .collect()
        } else {
            Vec::new()
        };
        let doc = self.doc_mut();
        doc.set_attr(el, "model", model)?;
        if !XHCI.contains(&model) {
            doc.remove_attr(el, "ports")?;
        }
        for c in companions {
            doc.remove(c)?;
        }
        Ok(())
    }

    /// Shares the filesystem `key` through `driver`: `virtiofs` (which needs the
    /// guest's memory shared with the host: added as virt-manager adds it, and the
    /// `passthrough` access mode) or `path` (9p).
    pub fn set_filesystem_driver(&mut self, key: &DeviceKey, driver: &str) -> Result<()> {
        let el = self.resolve(key)?;
        let doc = self.doc_mut();
        if doc.get(el, "driver", "type").as_deref() == Some(driver) {
            return Ok(());
        }
        doc.put(el, "driver", "type", Some(driver))?;
        if driver == "virtiofs" {
            if let Some(d) = doc.child(el, "driver") {
                // 9p's settings mean nothing to virtiofs.
                for attr in ["format", "wrpolicy"] {
                    doc.remove_attr(d, attr)?;
                }
            }
            if doc
                .attr(el, "accessmode")
                .is_some_and(|m| m != "passthrough")
            {
                doc.set_attr(el, "accessmode", "passthrough")?;
            }
            let mut fs: super::Filesystem = self.device(key)?;
            use super::DeviceView;
            fs.complete(self)?;
        }
        Ok(())
    }
}
