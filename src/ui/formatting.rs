//! Words and units shown for the model's values.
//!
//! Sizes go through GLib's `g_format_size`, as in Files and Disks: the decimal
//! separator follows the locale and the units are translated ("8,0 Gio" in French).

use gettextrs::gettext;
use gtk::glib;

use crate::i18n::gettext_f;
use crate::model::{ConnectionState, DomainObject, DomainState};

pub fn state_label(state: DomainState) -> String {
    match state {
        DomainState::Running => gettext("Running"),
        DomainState::Blocked => gettext("Blocked"),
        DomainState::Paused => gettext("Paused"),
        DomainState::ShuttingDown => gettext("Shutting Down"),
        DomainState::Shutoff => gettext("Shut Off"),
        DomainState::Crashed => gettext("Crashed"),
        DomainState::PmSuspended => gettext("Suspended"),
        DomainState::NoState => gettext("Unknown"),
    }
}

/// The state with its reason when the reason says more ("Paused by the user"), else
/// the state's name alone ("Running"); while the host does not answer, marked as the
/// last known one.
pub fn state_text(domain: &DomainObject) -> String {
    let description = domain.state_description();
    let state = if description.is_empty() {
        state_label(domain.state())
    } else {
        description
    };
    if domain.host_unreachable() {
        gettext_f(
            "Host unreachable · last known: {state}",
            &[("state", &state)],
        )
    } else {
        state
    }
}

pub fn state_icon_name(state: DomainState) -> &'static str {
    match state {
        DomainState::Running | DomainState::Blocked => "media-playback-start-symbolic",
        DomainState::Paused => "media-playback-pause-symbolic",
        DomainState::ShuttingDown => "system-shutdown-symbolic",
        DomainState::Shutoff => "media-playback-stop-symbolic",
        DomainState::Crashed => "dialog-error-symbolic",
        DomainState::PmSuspended => "weather-clear-night-symbolic",
        DomainState::NoState => "dialog-question-symbolic",
    }
}

pub fn connection_state_label(state: ConnectionState) -> String {
    match state {
        ConnectionState::Disconnected => gettext("Disconnected"),
        ConnectionState::Connecting => gettext("Connecting…"),
        ConnectionState::Connected => gettext("Connected"),
        ConnectionState::Lost => gettext("Connection lost, reconnecting…"),
        ConnectionState::Failed => gettext("Could not connect"),
    }
}

/// A size in bytes as people read it, in binary units: "512.0 MiB", "8.0 GiB"
/// ("8,0 Gio" in French). The one function for sizes of memory and disks.
pub fn format_size(bytes: u64) -> String {
    glib::format_size_full(bytes, glib::FormatSizeFlags::IEC_UNITS).into()
}

/// A size in KiB, as libvirt counts memory.
pub fn format_kib(kib: u64) -> String {
    format_size(kib.saturating_mul(1024))
}

/// A rate in bytes per second: "512 B/s", "1.2 MB/s" ("1,2 Mo/s" in French).
pub fn format_rate(bytes_per_second: f64) -> String {
    let bytes = bytes_per_second.max(0.0).round() as u64;
    if bytes < 1000 {
        // GLib would say "512 bytes": too long for the list's figures.
        gettext_f("{n} B/s", &[("n", &bytes.to_string())])
    } else {
        gettext_f("{size}/s", &[("size", &glib::format_size(bytes))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GLib joins figure and unit with a no-break space, so that they never part.
    fn spaced(text: String) -> String {
        text.replace('\u{a0}', " ")
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(spaced(format_kib(512)), "512.0 KiB");
        assert_eq!(spaced(format_kib(524_288)), "512.0 MiB");
        assert_eq!(spaced(format_kib(2 * 1024 * 1024)), "2.0 GiB");
        assert_eq!(spaced(format_size(8 << 30)), "8.0 GiB");
    }

    #[test]
    fn rates_read_in_the_right_unit() {
        assert_eq!(spaced(format_rate(512.0)), "512 B/s");
        assert_eq!(spaced(format_rate(1_234_000.0)), "1.2 MB/s");
    }
}
