//! The dialog's forms read back: each kind's fields checked and turned into the
//! device it describes, written into a copy of the definition. A wrong field comes
//! back as a [`FieldError`] that marks its row and says what is wrong under it.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;

use super::super::combo_value;
use super::AddHardwareDialog;
use crate::model::details::{
    CharDevice, DeviceKey, DeviceKind, Disk, DiskSource, DomainXml, Filesystem, Graphics, Hostdev,
    Input, Interface, InterfaceSource, Listen, Rng, Sound, Tpm, Watchdog,
};
use crate::model::new_vm::{NetworkChoice, Storage};
use crate::ui::show_error;

/// A field that is wrong: its row, the label under it and what is wrong.
pub(super) struct FieldError {
    row: gtk::Widget,
    label: gtk::Label,
    text: String,
}

impl AddHardwareDialog {
    pub(super) fn clear_problems(&self) {
        let imp = self.imp();
        show_error(&imp.failure_label, None, None);
        imp.disk_chooser.set_error(None);
        imp.host_device_chooser.set_error(None);
        for (label, rows) in [
            (
                &imp.cdrom_error,
                vec![imp.cdrom_path_row.upcast_ref::<gtk::Widget>()],
            ),
            (
                &imp.graphics_error,
                vec![imp.graphics_listen_row.upcast_ref()],
            ),
            (&imp.rng_error, vec![imp.rng_path_row.upcast_ref()]),
            (
                &imp.fs_error,
                vec![imp.fs_source_row.upcast_ref(), imp.fs_tag_row.upcast_ref()],
            ),
        ] {
            show_error(label, None, None);
            for row in rows {
                row.remove_css_class("error");
            }
        }
    }

    fn field_error(
        &self,
        row: &impl IsA<gtk::Widget>,
        label: &gtk::Label,
        text: String,
    ) -> FieldError {
        FieldError {
            row: row.clone().upcast(),
            label: label.clone(),
            text,
        }
    }

    /// An absolute path typed into `row`, or what is wrong with it (`empty`: the
    /// sentence for no path).
    fn absolute_path(
        &self,
        row: &adw::EntryRow,
        label: &gtk::Label,
        empty: &str,
    ) -> Result<String, FieldError> {
        let text = row.text().trim().to_owned();
        if text.is_empty() {
            return Err(self.field_error(row, label, empty.to_owned()));
        }
        if !text.starts_with('/') {
            return Err(self.field_error(
                row,
                label,
                gettext("Enter a full path on the host, starting with “/”."),
            ));
        }
        Ok(text)
    }

    /// Writes the form's device into `doc`; returns its key. A new disk volume is
    /// not made here (see [`Self::add_device`]): `volume_path` is its path.
    pub(super) fn write_device(
        &self,
        doc: &mut DomainXml,
        volume_path: Option<&str>,
    ) -> Result<DeviceKey, FieldError> {
        let imp = self.imp();
        let doc_error = |e: crate::model::details::DomainXmlError| FieldError {
            row: imp.kind_row.get().upcast(),
            label: imp.failure_label.get(),
            text: e.to_string(),
        };
        let key = match self.kind() {
            "disk" => {
                let source = match (&imp.disk_chooser.storage().0, volume_path) {
                    (_, Some(path)) => DiskSource::File(path.to_owned()),
                    (Storage::Existing { path }, None) if path.starts_with('/') => {
                        DiskSource::File(path.clone())
                    }
                    (Storage::Existing { .. }, None) => {
                        let text = gettext("Enter a full path on the host, starting with “/”.");
                        imp.disk_chooser.set_error(Some(text.clone()));
                        return Err(self.field_error(
                            &imp.disk_chooser.get(),
                            &imp.failure_label,
                            String::new(),
                        ));
                    }
                    _ => {
                        let text = gettext("Choose a new volume or an existing disk image.");
                        imp.disk_chooser.set_error(Some(text));
                        return Err(self.field_error(
                            &imp.disk_chooser.get(),
                            &imp.failure_label,
                            String::new(),
                        ));
                    }
                };
                let format = volume_path
                    .map(|_| "qcow2".to_owned())
                    .or_else(|| guess_format(&source));
                let disk = Disk {
                    disk_type: source.disk_type().to_owned(),
                    source: Some(source),
                    driver_name: Some("qemu".into()),
                    format,
                    bus: combo_value(&imp.disk_bus_row),
                    ..Disk::default()
                };
                doc.add_device(&disk).map_err(doc_error)?
            }
            "cdrom" => {
                let path = imp.cdrom_path_row.text().trim().to_owned();
                if !path.is_empty() && !path.starts_with('/') {
                    return Err(self.field_error(
                        &imp.cdrom_path_row.get(),
                        &imp.cdrom_error,
                        gettext("Enter a full path on the host, starting with “/”, or nothing for an empty drive."),
                    ));
                }
                let disk = Disk {
                    device: "cdrom".into(),
                    source: (!path.is_empty()).then_some(DiskSource::File(path)),
                    driver_name: Some("qemu".into()),
                    format: Some("raw".into()),
                    bus: combo_value(&imp.cdrom_bus_row),
                    readonly: true,
                    ..Disk::default()
                };
                doc.add_device(&disk).map_err(doc_error)?
            }
            "nic" => {
                let source = match imp.network_chooser.network().0 {
                    NetworkChoice::Nat { network } => InterfaceSource::Network(network),
                    NetworkChoice::Bridge { name } if !name.is_empty() => {
                        InterfaceSource::Bridge(name)
                    }
                    NetworkChoice::Bridge { .. } => {
                        return Err(self.field_error(
                            &imp.network_chooser.get(),
                            &imp.failure_label,
                            gettext("Enter the name of the host bridge (br0)."),
                        ))
                    }
                    NetworkChoice::User => InterfaceSource::User,
                    NetworkChoice::None => {
                        return Err(self.field_error(
                            &imp.network_chooser.get(),
                            &imp.failure_label,
                            gettext("Choose what the network card is connected to."),
                        ))
                    }
                };
                let model = combo_value(&imp.nic_model_row);
                let nic = Interface {
                    source,
                    ..Interface::on_network("", model.as_deref())
                };
                doc.add_device(&nic).map_err(doc_error)?
            }
            "graphics" => {
                let kind = combo_value(&imp.graphics_type_row).unwrap_or_else(|| "vnc".into());
                let mut graphics = Graphics::new(&kind);
                let listen = imp.graphics_listen_row.text().trim().to_owned();
                if !listen.is_empty() {
                    if listen.parse::<std::net::IpAddr>().is_err() {
                        return Err(self.field_error(
                            &imp.graphics_listen_row.get(),
                            &imp.graphics_error,
                            gettext("Enter an IP address (127.0.0.1 for this host only, 0.0.0.0 for all), or nothing for the host's default."),
                        ));
                    }
                    graphics.listen = Listen::Address(listen);
                }
                let password = imp.graphics_password_row.text().to_string();
                if !password.is_empty() {
                    graphics.password = Some(password);
                }
                doc.add_device(&graphics).map_err(doc_error)?
            }
            "sound" => doc
                .add_device(&Sound {
                    model: combo_value(&imp.sound_model_row),
                })
                .map_err(doc_error)?,
            "input" => doc
                .add_device(&Input {
                    input_type: combo_value(&imp.input_type_row),
                    bus: combo_value(&imp.input_bus_row),
                })
                .map_err(doc_error)?,
            "rng" => {
                let path = self.absolute_path(
                    &imp.rng_path_row,
                    &imp.rng_error,
                    &gettext("Enter the host source of random data (/dev/urandom)."),
                )?;
                doc.add_device(&Rng {
                    model: Some("virtio".into()),
                    backend_model: Some("random".into()),
                    backend_path: Some(path),
                    ..Rng::default()
                })
                .map_err(doc_error)?
            }
            "watchdog" => doc
                .add_device(&Watchdog {
                    model: combo_value(&imp.watchdog_model_row),
                    action: combo_value(&imp.watchdog_action_row),
                })
                .map_err(doc_error)?,
            "tpm" => doc
                .add_device(&Tpm {
                    model: combo_value(&imp.tpm_model_row),
                    backend_type: Some("emulator".into()),
                    backend_version: combo_value(&imp.tpm_version_row),
                    device_path: None,
                })
                .map_err(doc_error)?,
            "serial" => {
                let console = combo_value(&imp.serial_kind_row).as_deref() == Some("console");
                let mut dev = CharDevice::new(
                    if console {
                        DeviceKind::Console
                    } else {
                        DeviceKind::Serial
                    },
                    "pty",
                );
                if console {
                    dev.target_type = Some("virtio".into());
                }
                doc.add_device(&dev).map_err(doc_error)?
            }
            "usb-host" | "pci-host" => {
                let chooser = &imp.host_device_chooser;
                let Some((device, same_model_present)) = chooser.chosen() else {
                    chooser.set_error(Some(gettext("Choose one of the host's devices.")));
                    return Err(self.field_error(
                        &chooser.problem_widget(),
                        &imp.failure_label,
                        String::new(),
                    ));
                };
                doc.add_device(&Hostdev {
                    source: device.source(same_model_present),
                    // libvirt then takes a PCI function from its host driver when the
                    // VM starts and gives it back when it stops, as virt-manager does.
                    managed: (!device.is_usb()).then_some(true),
                    driver: None,
                    boot_order: None,
                    alias: None,
                })
                .map_err(doc_error)?
            }
            _ => {
                let source = self.absolute_path(
                    &imp.fs_source_row,
                    &imp.fs_error,
                    &gettext("Enter the host directory to share."),
                )?;
                let tag = imp.fs_tag_row.text().trim().to_owned();
                if tag.is_empty() || tag.contains(char::is_whitespace) {
                    return Err(self.field_error(
                        &imp.fs_tag_row.get(),
                        &imp.fs_error,
                        gettext(
                            "Enter a tag without spaces: the guest mounts the directory by it.",
                        ),
                    ));
                }
                doc.add_device(&Filesystem::virtiofs(&source, &tag))
                    .map_err(doc_error)?
            }
        };
        Ok(key)
    }

    pub(super) fn show_field_error(&self, e: FieldError) {
        if !e.text.is_empty() {
            show_error(&e.label, Some(&e.row), Some(e.text));
        } else {
            e.row.add_css_class("error");
        }
        e.row.grab_focus();
    }
}

/// The image format of an existing file by its name (`qcow2` for `.qcow2`), else raw.
fn guess_format(source: &DiskSource) -> Option<String> {
    match source {
        DiskSource::File(p) if p.ends_with(".qcow2") => Some("qcow2".into()),
        DiskSource::File(_) => Some("raw".into()),
        _ => None,
    }
}
