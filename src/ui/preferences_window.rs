//! Preferences, every control bound straight to GSettings.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/preferences-window.ui")]
    pub struct PreferencesWindow {
        #[template_child]
        pub style_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub interval_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub cpu_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub memory_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub disk_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub network_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub confirm_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub scale_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub resize_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub grab_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub clipboard_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub font_button: TemplateChild<gtk::FontButton>,
        #[template_child]
        pub palette_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub scrollback_spin: TemplateChild<gtk::SpinButton>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PreferencesWindow {
        const NAME: &'static str = "VireoPreferencesWindow";
        type Type = super::PreferencesWindow;
        type ParentType = adw::PreferencesWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for PreferencesWindow {}
    impl WidgetImpl for PreferencesWindow {}
    impl WindowImpl for PreferencesWindow {}
    impl AdwWindowImpl for PreferencesWindow {}
    impl PreferencesWindowImpl for PreferencesWindow {}
}

glib::wrapper! {
    pub struct PreferencesWindow(ObjectSubclass<imp::PreferencesWindow>)
        @extends adw::PreferencesWindow, adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// The values of each choice key, in the order of its combo row's items.
const STYLE_VALUES: [&str; 3] = ["system", "light", "dark"];
const SCALE_VALUES: [&str; 2] = ["fit", "one-to-one"];
const PALETTE_VALUES: [&str; 5] = [
    "system",
    "light",
    "dark",
    "solarized-dark",
    "solarized-light",
];

impl PreferencesWindow {
    pub fn new(settings: &gio::Settings) -> Self {
        let window: Self = glib::Object::new();
        window.bind_settings(settings);
        window
    }

    fn bind_settings(&self, settings: &gio::Settings) {
        let imp = self.imp();
        for (key, switch) in [
            ("stats-cpu", &*imp.cpu_switch),
            ("stats-memory", &*imp.memory_switch),
            ("stats-disk", &*imp.disk_switch),
            ("stats-network", &*imp.network_switch),
            ("confirm-destructive", &*imp.confirm_switch),
            ("console-resize-guest", &*imp.resize_switch),
            ("console-grab-keyboard", &*imp.grab_switch),
            ("console-share-clipboard", &*imp.clipboard_switch),
        ] {
            settings.bind(key, switch, "active").build();
        }
        settings
            .bind("stats-interval", &imp.interval_spin.adjustment(), "value")
            .mapping(|variant, _| {
                variant
                    .get::<u32>()
                    .map(|ms| (f64::from(ms) / 1000.0).to_value())
            })
            .set_mapping(|value, _| {
                let seconds = value.get::<f64>().ok()?;
                Some(((seconds * 1000.0).round() as u32).to_variant())
            })
            .build();
        // "1", "1.5", "0.25": no trailing zeros. GTK formats with the locale's decimal
        // separator and reads back what it shows.
        let spin = imp.interval_spin.get();
        let show_needed_digits = move |adjustment: &gtk::Adjustment| {
            let hundredths = (adjustment.value() * 100.0).round() as i64;
            let digits = match hundredths {
                h if h % 100 == 0 => 0,
                h if h % 10 == 0 => 1,
                _ => 2,
            };
            spin.set_digits(digits);
        };
        show_needed_digits(&imp.interval_spin.adjustment());
        imp.interval_spin
            .adjustment()
            .connect_value_changed(show_needed_digits);
        settings
            .bind(
                "terminal-scrollback",
                &imp.scrollback_spin.adjustment(),
                "value",
            )
            .mapping(|variant, _| {
                variant
                    .get::<i32>()
                    .map(|lines| f64::from(lines).to_value())
            })
            .set_mapping(|value, _| Some((value.get::<f64>().ok()? as i32).to_variant()))
            .build();
        settings
            .bind("terminal-font", &*imp.font_button, "font")
            .mapping(|variant, _| {
                let font = variant.get::<String>()?;
                Some(
                    if font.is_empty() {
                        "Monospace 11".to_owned()
                    } else {
                        font
                    }
                    .to_value(),
                )
            })
            .build();
        bind_choice(settings, "style", &imp.style_row, &STYLE_VALUES);
        bind_choice(settings, "console-scale", &imp.scale_row, &SCALE_VALUES);
        bind_choice(
            settings,
            "terminal-palette",
            &imp.palette_row,
            &PALETTE_VALUES,
        );
    }
}

/// Binds a string key with fixed choices to a combo row's selected index.
fn bind_choice(
    settings: &gio::Settings,
    key: &'static str,
    row: &adw::ComboRow,
    values: &'static [&'static str],
) {
    settings
        .bind(key, row, "selected")
        .mapping(move |variant, _| {
            let value = variant.get::<String>()?;
            let index = values.iter().position(|v| *v == value).unwrap_or(0);
            Some((index as u32).to_value())
        })
        .set_mapping(move |value, _| {
            let index = value.get::<u32>().ok()? as usize;
            values.get(index).map(|v| v.to_variant())
        })
        .build();
}
