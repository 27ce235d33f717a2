//! Words and units shown for the model's values.

use gettextrs::gettext;

use crate::model::{ConnectionState, DomainState};

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

/// Memory in KiB as people read it: "512 MiB", "2.0 GiB".
pub fn format_kib(kib: u64) -> String {
    const MIB: f64 = 1024.0;
    const GIB: f64 = 1024.0 * 1024.0;
    let kib_f = kib as f64;
    if kib_f >= GIB {
        format!("{:.1} GiB", kib_f / GIB)
    } else if kib_f >= MIB {
        format!("{:.0} MiB", kib_f / MIB)
    } else {
        format!("{kib} KiB")
    }
}

/// A size in bytes: "20.0 GiB".
pub fn format_bytes(bytes: u64) -> String {
    format_kib(bytes / 1024)
}

/// A rate in bytes per second: "1.2 MB/s".
pub fn format_rate(bytes_per_second: f64) -> String {
    let units = ["B/s", "kB/s", "MB/s", "GB/s"];
    let mut value = bytes_per_second.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", units[unit])
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::format_kib;

    #[test]
    fn memory_reads_in_the_right_unit() {
        assert_eq!(format_kib(512), "512 KiB");
        assert_eq!(format_kib(524_288), "512 MiB");
        assert_eq!(format_kib(2 * 1024 * 1024), "2.0 GiB");
    }

    #[test]
    fn rates_read_in_the_right_unit() {
        assert_eq!(super::format_rate(512.0), "512 B/s");
        assert_eq!(super::format_rate(1_234_000.0), "1.2 MB/s");
    }
}
