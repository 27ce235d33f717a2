//! Translation set-up and small helpers for strings with placeholders.

use gettextrs::{gettext, ngettext, LocaleCategory};

use crate::config;

/// Binds the text domain to the installed catalogue, or to the one build.rs compiled.
pub fn init() {
    gettextrs::setlocale(LocaleCategory::LcAll, "");
    if let Err(err) = gettextrs::bindtextdomain(config::GETTEXT_PACKAGE, config::LOCALEDIR) {
        eprintln!("vireo: translations unavailable: {err}");
    }
    let _ = gettextrs::bind_textdomain_codeset(config::GETTEXT_PACKAGE, "UTF-8");
    let _ = gettextrs::textdomain(config::GETTEXT_PACKAGE);
}

/// Like `gettext`, then fills `{name}` placeholders in order of `args`.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    fill(gettext(msgid), args)
}

/// Like `ngettext`, then fills `{name}` placeholders.
pub fn ngettext_f(msgid: &str, plural: &str, n: u32, args: &[(&str, &str)]) -> String {
    fill(ngettext(msgid, plural, n), args)
}

fn fill(mut text: String, args: &[(&str, &str)]) -> String {
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_named_placeholders() {
        assert_eq!(
            super::fill(
                "{n} of {uri}".into(),
                &[("n", "3"), ("uri", "qemu:///system")]
            ),
            "3 of qemu:///system"
        );
    }
}
