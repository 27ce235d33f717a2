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
