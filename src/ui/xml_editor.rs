//! A VM's XML shown in GtkSourceView 5: XML highlighting, line numbers, a search bar
//! (Ctrl+F) and a style scheme that follows the light or dark style of the desktop.
//!
//! It only shows the text; the page that owns it reads the XML through the model.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use sourceview5::prelude::*;

mod imp {
    use std::cell::OnceCell;

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
        pub(super) search: OnceCell<sourceview5::SearchContext>,
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
        let _ = imp.search.set(search);
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

    /// Replaces the text shown (the cursor goes back to the top).
    pub fn set_text(&self, text: &str) {
        let buffer = self.source_buffer();
        buffer.set_text(text);
        buffer.place_cursor(&buffer.start_iter());
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
        let Some(search) = self.imp().search.get() else {
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
