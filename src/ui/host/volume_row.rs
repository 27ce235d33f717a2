//! One storage volume in a pool's list: name, format, sizes and the machines using
//! it; its menu resizes, uploads a file into it, downloads it and deletes it (each
//! asking first where data can be lost), and a running transfer shows its progress
//! with a Cancel button.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::used_by_text;
use super::{confirm, run_or_toast};
use crate::i18n::gettext_f;
use crate::model::host::{Transfer, TransferDirection, TransferState, VolumeObject};
use crate::ui::choose_path;
use crate::ui::formatting::{format_rate, format_size};

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/volume-row.ui")]
    pub struct VolumeRow {
        #[template_child]
        pub transfer_box: TemplateChild<gtk::Box>,
        #[template_child]
        pub progress: TemplateChild<gtk::ProgressBar>,
        pub volume: RefCell<Option<VolumeObject>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
        pub transfer_handlers: RefCell<Vec<(Transfer, glib::SignalHandlerId)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumeRow {
        const NAME: &'static str = "VireoVolumeRow";
        type Type = super::VolumeRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("volume.resize", None, |row, _, _| row.resize());
            klass.install_action("volume.upload", None, |row, _, _| row.upload());
            klass.install_action("volume.download", None, |row, _, _| row.download());
            klass.install_action("volume.delete", None, |row, _, _| row.delete());
            klass.install_action("volume.copy-path", None, |row, _, _| {
                if let Some(v) = row.volume() {
                    row.clipboard().set_text(&v.path());
                }
            });
            klass.install_action("volume.cancel-transfer", None, |row, _, _| {
                if let Some(t) = row.volume().and_then(|v| v.transfer()) {
                    t.cancel();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for VolumeRow {
        fn dispose(&self) {
            self.obj().unwatch_transfer();
            if let Some(v) = self.volume.take() {
                for h in self.handlers.take() {
                    v.disconnect(h);
                }
            }
        }
    }

    impl WidgetImpl for VolumeRow {}
    impl ListBoxRowImpl for VolumeRow {}
    impl PreferencesRowImpl for VolumeRow {}
    impl ActionRowImpl for VolumeRow {}
}

glib::wrapper! {
    /// A volume in a pool's list.
    pub struct VolumeRow(ObjectSubclass<imp::VolumeRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Accessible, gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl VolumeRow {
    /// A row showing `volume` (and following it).
    pub fn new(volume: &VolumeObject) -> Self {
        let row: Self = glib::Object::new();
        let imp = row.imp();
        imp.volume.replace(Some(volume.clone()));
        let h = volume.connect_notify_local(
            None,
            glib::clone!(
                #[weak]
                row,
                move |v, pspec| {
                    if pspec.name() == "transfer" {
                        row.watch_transfer(v.transfer());
                    }
                    row.update(v);
                }
            ),
        );
        imp.handlers.replace(vec![h]);
        row.watch_transfer(volume.transfer());
        row.update(volume);
        row
    }

    /// The volume shown.
    pub fn volume(&self) -> Option<VolumeObject> {
        self.imp().volume.borrow().clone()
    }

    fn update(&self, v: &VolumeObject) {
        self.set_title(&glib::markup_escape_text(&v.name()));
        let mut parts = Vec::new();
        if let Some(f) = v.format() {
            parts.push(f);
        }
        parts.push(gettext_f(
            "{size}, {used} on disk",
            &[
                ("size", &format_size(v.capacity())),
                ("used", &format_size(v.allocation())),
            ],
        ));
        parts.push(used_by_text(&v.used_by()));
        let subtitle = parts.join(" · ");
        self.set_subtitle(&glib::markup_escape_text(&subtitle));
        self.set_tooltip_text(Some(&v.path()));
        let busy = v.transfer().is_some();
        for action in [
            "volume.resize",
            "volume.upload",
            "volume.download",
            "volume.delete",
        ] {
            self.action_set_enabled(action, !busy);
        }
    }

    fn unwatch_transfer(&self) {
        for (t, h) in self.imp().transfer_handlers.take() {
            t.disconnect(h);
        }
    }

    fn watch_transfer(&self, transfer: Option<Transfer>) {
        self.unwatch_transfer();
        let imp = self.imp();
        imp.transfer_box.set_visible(transfer.is_some());
        let Some(t) = transfer else { return };
        let h = t.connect_notify_local(
            None,
            glib::clone!(
                #[weak(rename_to = row)]
                self,
                move |t, pspec| {
                    if pspec.name() == "state" {
                        row.transfer_ended(t);
                    } else {
                        row.show_progress(t);
                    }
                }
            ),
        );
        imp.transfer_handlers.replace(vec![(t.clone(), h)]);
        self.show_progress(&t);
    }

    fn show_progress(&self, t: &Transfer) {
        let p = &self.imp().progress;
        p.set_fraction(t.fraction());
        let text = match t.direction() {
            TransferDirection::Upload => gettext_f(
                "Uploading {done} of {total}",
                &[
                    ("done", &format_size(t.done())),
                    ("total", &format_size(t.total())),
                ],
            ),
            TransferDirection::Download => gettext_f(
                "Downloading {done} of {total}",
                &[
                    ("done", &format_size(t.done())),
                    ("total", &format_size(t.total())),
                ],
            ),
        };
        p.set_text(Some(&format!("{:.0} %", t.fraction() * 100.0)));
        p.set_tooltip_text(Some(&text));
        p.update_property(&[gtk::accessible::Property::Label(&text)]);
    }

    fn transfer_ended(&self, t: &Transfer) {
        let volume = t.volume_name();
        let text = match (t.state(), t.direction()) {
            (TransferState::Finished, TransferDirection::Upload) => gettext_f(
                "Uploaded {size} to “{volume}” ({rate})",
                &[
                    ("size", &format_size(t.done())),
                    ("volume", &volume),
                    ("rate", &format_rate(t.bytes_per_second())),
                ],
            ),
            (TransferState::Finished, TransferDirection::Download) => gettext_f(
                "Downloaded “{volume}” to {file} ({rate})",
                &[
                    ("volume", &volume),
                    ("file", &t.file()),
                    ("rate", &format_rate(t.bytes_per_second())),
                ],
            ),
            (TransferState::Cancelled, TransferDirection::Upload) => gettext_f(
                "Upload to “{volume}” cancelled: the volume holds part of the file",
                &[("volume", &volume)],
            ),
            (TransferState::Cancelled, TransferDirection::Download) => {
                gettext_f("Download of “{volume}” cancelled", &[("volume", &volume)])
            }
            (TransferState::Failed, _) => gettext_f(
                "The transfer of “{volume}” failed: {reason}",
                &[
                    ("volume", &volume),
                    ("reason", &t.error().unwrap_or_default()),
                ],
            ),
            (TransferState::Running, _) => return,
        };
        crate::ui::toast(self, &text);
    }

    fn resize(&self) {
        let Some(v) = self.volume() else { return };
        let current_gib = v.capacity() as f64 / (1u64 << 30) as f64;
        let spin = gtk::SpinButton::with_range(0.1, 65536.0, 1.0);
        spin.set_digits(1);
        spin.set_value((current_gib * 10.0).ceil() / 10.0);
        spin.update_property(&[gtk::accessible::Property::Label(&gettext(
            "New Size in GiB",
        ))]);
        let unit = gtk::Label::new(Some("GiB"));
        let row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        row.set_halign(gtk::Align::Center);
        row.append(&spin);
        row.append(&unit);
        let dialog = adw::MessageDialog::new(
            self.root().and_downcast_ref::<gtk::Window>(),
            Some(&gettext_f("Resize “{volume}”", &[("volume", &v.name())])),
            Some(&gettext_f(
                "It holds {size} now. After growing a volume, the guest must also grow its partition to use the space.",
                &[("size", &format_size(v.capacity()))],
            )),
        );
        dialog.set_extra_child(Some(&row));
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("resize", &gettext("_Resize")),
        ]);
        dialog.set_response_appearance("resize", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("resize"));
        dialog.set_close_response("cancel");
        let capacity = v.capacity();
        spin.connect_value_changed(glib::clone!(
            #[weak]
            dialog,
            move |spin| {
                let shrink = gib_bytes(spin.value()) < capacity;
                dialog.set_response_label(
                    "resize",
                    &if shrink { gettext("_Shrink") } else { gettext("_Resize") },
                );
                dialog.set_response_appearance(
                    "resize",
                    if shrink {
                        adw::ResponseAppearance::Destructive
                    } else {
                        adw::ResponseAppearance::Suggested
                    },
                );
                dialog.set_body(&if shrink {
                    gettext("Shrinking cuts off everything past the new end: the data there is lost, and a guest file system that reaches there breaks.")
                } else {
                    gettext("After growing a volume, the guest must also grow its partition to use the space.")
                });
            }
        ));
        let row_weak = self.downgrade();
        glib::spawn_future_local(async move {
            if crate::ui::choose(&dialog).await != "resize" {
                return;
            }
            let Some(row) = row_weak.upgrade() else {
                return;
            };
            let bytes = gib_bytes(spin.value());
            let shrink = bytes < capacity;
            run_or_toast(
                &row,
                &gettext("The volume could not be resized"),
                async move { v.resize(bytes, shrink).await },
            );
        });
    }

    fn upload(&self) {
        let Some(v) = self.volume() else { return };
        let row = self.downgrade();
        let title = gettext_f("Upload a File to “{volume}”", &[("volume", &v.name())]);
        let accept = gettext("_Upload");
        choose_path(
            self,
            &title,
            gtk::FileChooserAction::Open,
            &accept,
            None,
            move |path| {
                let Some(row) = row.upgrade() else { return };
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let mut body = gettext_f(
                "The {size} of “{file}” are written over the start of the volume; what the volume held there is lost.",
                &[
                    ("size", &format_size(size)),
                    ("file", &path.display().to_string()),
                ],
            );
                if !v.used_by().is_empty() {
                    body.push_str("\n\n");
                    body.push_str(&gettext_f(
                    "These virtual machines use this volume: {names}. Do not upload while they run.",
                    &[("names", &v.used_by().join(", "))],
                ));
                }
                let heading = gettext_f(
                    "Replace the Contents of “{volume}”?",
                    &[("volume", &v.name())],
                );
                let (row2, v) = (row.clone(), v.clone());
                confirm(&row, &heading, &body, &gettext("_Upload"), move || {
                    if let Err(e) = v.upload(path) {
                        crate::ui::toast(&row2, &e.to_string());
                    }
                });
            },
        );
    }

    fn download(&self) {
        let Some(v) = self.volume() else { return };
        let row = self.downgrade();
        let title = gettext_f("Download “{volume}”", &[("volume", &v.name())]);
        let accept = gettext("_Download");
        let name = v.name();
        choose_path(
            self,
            &title,
            gtk::FileChooserAction::Save,
            &accept,
            Some(&name),
            move |path| {
                let Some(row) = row.upgrade() else { return };
                if let Err(e) = v.download(path.clone()) {
                    crate::ui::toast(&row, &e.to_string());
                }
            },
        );
    }

    fn delete(&self) {
        let Some(v) = self.volume() else { return };
        let users = v.used_by();
        let mut body = gettext_f(
            "“{path}” and all its data are deleted for good.",
            &[("path", &v.path())],
        );
        if !users.is_empty() {
            body.push_str("\n\n");
            body.push_str(&gettext_f(
                "These virtual machines still use it and will not start without it: {names}.",
                &[("names", &users.join(", "))],
            ));
        }
        let row = self.downgrade();
        confirm(
            self,
            &gettext_f("Delete “{volume}”?", &[("volume", &v.name())]),
            &body,
            &gettext("_Delete"),
            move || {
                let Some(row) = row.upgrade() else { return };
                let v = v.clone();
                run_or_toast(
                    &row,
                    &gettext("The volume could not be deleted"),
                    async move { v.delete().await },
                );
            },
        );
    }
}

fn gib_bytes(gib: f64) -> u64 {
    (gib * (1u64 << 30) as f64).round() as u64
}
