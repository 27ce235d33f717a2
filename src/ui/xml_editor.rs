//! A VM's XML shown in GtkSourceView 5: XML highlighting, line numbers, a search bar
//! (Ctrl+F) and a style scheme that follows the light or dark style of the desktop.
//!
//! The text is the VM's saved (persistent) definition and can be edited: Apply shows
//! the unified diff, then defines it with libvirt's schema validation; libvirt's
//! refusal is shown in its own words and, when it names a line, the cursor goes to
//! that line; nothing is changed then. Revert reads it again. When the definition
//! changed elsewhere while it was being edited, it says so and offers Reload instead
//! of overwriting.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};
use sourceview5::prelude::*;

use crate::model::details::{unified_diff, DetailsError};
use crate::model::{ConnectionObject, DomainObject};

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/xml-editor.ui")]
    pub struct XmlEditor {
        #[template_child]
        pub(super) view: TemplateChild<sourceview5::View>,
        #[template_child]
        pub(super) search_bar: TemplateChild<gtk::SearchBar>,
        #[template_child]
        pub(super) search_entry: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub(super) notice: TemplateChild<gtk::Box>,
        #[template_child]
        pub(super) notice_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) reload_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) apply_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) revert_button: TemplateChild<gtk::Button>,
        /// Dropped in `dispose`, while its buffer is alive: GtkSourceView's search
        /// context let go after the buffer disconnects from a freed object.
        pub(super) search: RefCell<Option<sourceview5::SearchContext>>,
        pub(super) domain: RefCell<Option<DomainObject>>,
        /// The definition as libvirt gave it last: what an edit starts from.
        pub(super) original: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for XmlEditor {
        const NAME: &'static str = "VireoXmlEditor";
        type Type = super::XmlEditor;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            // Registers GtkSourceView's types and its language and style search paths.
            sourceview5::init();
            klass.bind_template();
            klass.install_action("xml.find", None, |editor, _, _| editor.show_search());
            klass.add_binding_action(
                gtk::gdk::Key::f,
                gtk::gdk::ModifierType::CONTROL_MASK,
                "xml.find",
            );
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for XmlEditor {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().setup();
        }

        fn dispose(&self) {
            self.search.take();
            self.dispose_template();
        }
    }

    impl WidgetImpl for XmlEditor {}
    impl BinImpl for XmlEditor {}
}

glib::wrapper! {
    /// The XML tab of a VM's page.
    pub struct XmlEditor(ObjectSubclass<imp::XmlEditor>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for XmlEditor {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl XmlEditor {
    fn setup(&self) {
        let imp = self.imp();
        let buffer = self.source_buffer();
        if let Some(xml) = sourceview5::LanguageManager::default().language("xml") {
            buffer.set_language(Some(&xml));
        }
        // Libadwaita's own schemes, "Adwaita" and "Adwaita-dark", switched with the style.
        let style = adw::StyleManager::default();
        let follow = glib::clone!(
            #[weak]
            buffer,
            move |style: &adw::StyleManager| {
                let name = if style.is_dark() {
                    "Adwaita-dark"
                } else {
                    "Adwaita"
                };
                let schemes = sourceview5::StyleSchemeManager::default();
                if let Some(scheme) = schemes.scheme(name) {
                    buffer.set_style_scheme(Some(&scheme));
                }
            }
        );
        follow(&style);
        style.connect_dark_notify(follow);

        let settings = sourceview5::SearchSettings::new();
        settings.set_wrap_around(true);
        imp.search_entry
            .bind_property("text", &settings, "search-text")
            .build();
        let search = sourceview5::SearchContext::new(&buffer, Some(&settings));
        search.set_highlight(true);
        imp.search.replace(Some(search));
        buffer.connect_modified_changed(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |buffer| {
                let modified = buffer.is_modified();
                editor.imp().apply_button.set_sensitive(modified);
                editor.imp().revert_button.set_sensitive(modified);
            }
        ));
        imp.apply_button.connect_clicked(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |_| editor.ask_apply()
        ));
        let reload = glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |_: &gtk::Button| editor.reload(true)
        );
        imp.revert_button.connect_clicked(reload.clone());
        imp.reload_button.connect_clicked(reload);
        imp.search_bar.connect_entry(&*imp.search_entry);
        imp.search_bar.set_key_capture_widget(Some(&*imp.view));
        imp.search_entry.connect_activate(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |_| editor.find_next()
        ));
        imp.search_entry.connect_next_match(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |_| editor.find_next()
        ));
        imp.search_entry.connect_stop_search(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            move |_| {
                editor.imp().search_bar.set_search_mode(false);
                editor.imp().view.grab_focus();
            }
        ));
    }

    fn source_buffer(&self) -> sourceview5::Buffer {
        self.imp()
            .view
            .buffer()
            .downcast::<sourceview5::Buffer>()
            .expect("a GtkSourceView holds a GtkSourceBuffer")
    }

    /// Shows the saved definition of `domain`, read again now.
    pub fn set_domain(&self, domain: &DomainObject) {
        self.imp().domain.replace(Some(domain.clone()));
        self.reload(true);
    }

    /// The VM shown and its host's connection; `None` before `set_domain` or once the
    /// host is gone.
    fn domain_and_connection(&self) -> Option<(DomainObject, ConnectionObject)> {
        let domain = self.imp().domain.borrow().clone()?;
        let connection = domain.connection()?;
        Some((domain, connection))
    }

    /// Reads the definition again. Without `force`, an edit in progress is kept and a
    /// notice says the definition changed elsewhere (with Reload) when it did.
    pub fn reload(&self, force: bool) {
        let Some((domain, connection)) = self.domain_and_connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            async move {
                let imp = editor.imp();
                let text = match connection.persistent_xml(&domain).await {
                    Ok(xml) => xml,
                    Err(error) => {
                        editor.show_notice(&crate::model::error_text(&error), false);
                        return;
                    }
                };
                if *imp.original.borrow() == text && !force {
                    return;
                }
                if editor.source_buffer().is_modified() && !force {
                    editor.show_notice(
                        &gettext("The configuration was changed elsewhere while you edited it"),
                        true,
                    );
                    return;
                }
                imp.original.replace(text.clone());
                let buffer = editor.source_buffer();
                buffer.set_text(&text);
                buffer.place_cursor(&buffer.start_iter());
                buffer.set_modified(false);
                imp.notice.set_visible(false);
            }
        ));
    }

    fn show_notice(&self, text: &str, offer_reload: bool) {
        let imp = self.imp();
        imp.notice_label.set_text(text);
        imp.reload_button.set_visible(offer_reload);
        imp.notice.set_visible(true);
    }

    /// The notice shown above the text (libvirt's refusal, a change made elsewhere),
    /// empty when none.
    pub fn notice(&self) -> String {
        let imp = self.imp();
        if imp.notice.is_visible() {
            imp.notice_label.text().to_string()
        } else {
            String::new()
        }
    }

    /// Replaces the text, as a person typing would (the buffer becomes modified).
    pub fn set_text(&self, text: &str) {
        let buffer = self.source_buffer();
        buffer.set_text(text);
        buffer.set_modified(true);
    }

    /// The line (from 1) the cursor is on.
    pub fn cursor_line(&self) -> i32 {
        let buffer = self.source_buffer();
        buffer.iter_at_mark(&buffer.get_insert()).line() + 1
    }

    /// Applies the edit after the diff dialog, as its Apply response does.
    pub fn apply_button(&self) -> gtk::Button {
        self.imp().apply_button.get()
    }

    fn ask_apply(&self) {
        let original = self.imp().original.borrow().clone();
        let text = self.text();
        let diff = unified_diff(&original, &text, "saved", "edited");
        let dialog = adw::MessageDialog::new(
            self.root().and_downcast_ref::<gtk::Window>(),
            Some(&gettext("Apply These Changes?")),
            Some(&gettext("The saved configuration changes as follows. Changes to a running virtual machine apply at its next boot.")),
        );
        let label = gtk::Label::builder()
            .label(&diff)
            .xalign(0.0)
            .selectable(true)
            .css_classes(["monospace"])
            .build();
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&label)
            .min_content_height(200)
            .max_content_height(400)
            .propagate_natural_height(true)
            .build();
        dialog.set_extra_child(Some(&scrolled));
        dialog.add_response("cancel", &gettext("_Cancel"));
        dialog.add_response("apply", &gettext("_Apply"));
        dialog.set_response_appearance("apply", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("apply"));
        dialog.connect_response(
            None,
            glib::clone!(
                #[weak(rename_to = editor)]
                self,
                move |_, response| {
                    if response == "apply" {
                        editor.apply(original.clone(), text.clone());
                    }
                }
            ),
        );
        dialog.present();
    }

    fn apply(&self, original: String, text: String) {
        let Some((domain, connection)) = self.domain_and_connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = editor)]
            self,
            async move {
                match connection.save_xml_text(&domain, original, text).await {
                    Ok(_) => editor.reload(true),
                    Err(DetailsError::ChangedMeanwhile) => editor.show_notice(
                        &gettext("The configuration was changed elsewhere while you edited it; nothing was applied"),
                        true,
                    ),
                    Err(error) => {
                        let message = error.text();
                        editor.show_notice(&message, false);
                        if let Some(line) = error_line(&message) {
                            editor.go_to_line(line);
                        }
                    }
                }
            }
        ));
    }

    /// Puts the cursor on `line` (from 1), selects it and scrolls to it.
    fn go_to_line(&self, line: i32) {
        let buffer = self.source_buffer();
        let Some(start) = buffer.iter_at_line(line - 1) else {
            return;
        };
        let mut end = start;
        end.forward_to_line_end();
        buffer.select_range(&start, &end);
        // A mark, not an iter: the view scrolls once its layout (with the notice now
        // shown above it) is computed; aligned a third down, at the line's start.
        self.imp()
            .view
            .scroll_to_mark(&buffer.get_insert(), 0.0, true, 0.0, 0.3);
        self.imp().view.grab_focus();
    }

    /// The text shown.
    pub fn text(&self) -> String {
        let buffer = self.source_buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }

    /// The id of the highlighting language (`xml` once set up).
    pub fn language_id(&self) -> Option<String> {
        self.source_buffer().language().map(|l| l.id().to_string())
    }

    /// The id of the style scheme in use (`Adwaita` or `Adwaita-dark`).
    pub fn scheme_id(&self) -> Option<String> {
        self.source_buffer()
            .style_scheme()
            .map(|s| s.id().to_string())
    }

    /// Whether the search bar is open.
    pub fn search_shown(&self) -> bool {
        self.imp().search_bar.is_search_mode()
    }

    /// The text selected (the match found last), empty when none.
    pub fn selected_text(&self) -> String {
        let buffer = self.source_buffer();
        buffer
            .selection_bounds()
            .map(|(start, end)| buffer.text(&start, &end, false).to_string())
            .unwrap_or_default()
    }

    /// Types `text` into the search bar and goes to its first match, as Enter does.
    pub fn search_for(&self, text: &str) {
        self.imp().search_entry.set_text(text);
        self.imp().search_entry.emit_activate();
    }

    fn show_search(&self) {
        let imp = self.imp();
        imp.search_bar.set_search_mode(true);
        imp.search_entry.grab_focus();
    }

    /// Selects the next match after the cursor and scrolls to it.
    fn find_next(&self) {
        let Some(search) = self.imp().search.borrow().clone() else {
            return;
        };
        let buffer = self.source_buffer();
        // From the end of the current match, so Enter walks through the matches.
        let from = buffer
            .selection_bounds()
            .map(|(_, end)| end)
            .unwrap_or_else(|| buffer.iter_at_mark(&buffer.get_insert()));
        if let Some((start, end, _wrapped)) = search.forward(&from) {
            buffer.select_range(&start, &end);
            self.imp()
                .view
                .scroll_to_iter(&mut start.clone(), 0.1, false, 0.0, 0.0);
        }
    }
}

/// The line libxml2 names in libvirt's parse error ("(domain_definition):12: ..."),
/// else one named as "line 12".
fn error_line(message: &str) -> Option<i32> {
    let number = |rest: &str| -> Option<i32> {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok().filter(|n| *n > 0)
    };
    if let Some(at) = message.find("):") {
        if let Some(n) = number(&message[at + 2..]) {
            return Some(n);
        }
    }
    message
        .match_indices("line ")
        .find_map(|(at, _)| number(&message[at + 5..]))
}

#[cfg(test)]
mod tests {
    use super::error_line;

    #[test]
    fn lines_in_libvirt_errors() {
        assert_eq!(
            error_line("XML error: (domain_definition):5: Opening and ending tag mismatch"),
            Some(5)
        );
        assert_eq!(error_line("bad value at line 7"), Some(7));
        assert_eq!(error_line("unsupported configuration: no disk"), None);
    }
}
