//! The overview's figures of a running VM: how long it has run and graphs of its
//! recent CPU, memory, disk and network use, drawn from the model's histories (the
//! connection's stats tick fills them; nothing here asks libvirt).

use std::time::{Duration, SystemTime};

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::i18n::{gettext_f, ngettext_f};
use crate::model::{ActiveSince, DomainObject};
use crate::ui::formatting::{format_kib, format_rate};
use crate::ui::Sparkline;

/// "3 days 4 h", "2 h 05 min", "7 min", "less than a minute".
pub(super) fn duration_text(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        let days_text = ngettext_f(
            "{n} day",
            "{n} days",
            u32::try_from(days).unwrap_or(u32::MAX),
            &[("n", &days.to_string())],
        );
        gettext_f(
            "{days} {hours} h",
            &[("days", &days_text), ("hours", &hours.to_string())],
        )
    } else if hours > 0 {
        gettext_f(
            "{hours} h {minutes} min",
            &[
                ("hours", &hours.to_string()),
                ("minutes", &format!("{mins:02}")),
            ],
        )
    } else if mins > 0 {
        gettext_f("{minutes} min", &[("minutes", &mins.to_string())])
    } else {
        gettext("less than a minute")
    }
}

/// The uptime row's text and its tooltip, which says where the figure comes from.
pub(super) fn uptime_texts(active: ActiveSince, now: SystemTime) -> (String, String) {
    let ran = now.duration_since(active.since).unwrap_or_default();
    let at = glib::DateTime::from_unix_local(
        active
            .since
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    )
    .ok()
    .and_then(|t| t.format("%X").ok())
    .map(String::from)
    .unwrap_or_default();
    if active.start_seen {
        (
            duration_text(ran),
            gettext_f(
                "Since Vireo saw the virtual machine start, at {time}",
                &[("time", &at)],
            ),
        )
    } else {
        let text = if ran.as_secs() < 60 {
            gettext("at least since Vireo connected")
        } else {
            gettext_f("at least {duration}", &[("duration", &duration_text(ran))])
        };
        (
            text,
            gettext_f(
                "It was already running when Vireo connected, at {time}; libvirt does not say when it started",
                &[("time", &at)],
            ),
        )
    }
}

/// The four graphs of the Performance group, each with the row that names it.
pub(super) struct Graphs<'a> {
    pub cpu: (&'a adw::ActionRow, &'a Sparkline),
    pub memory: (&'a adw::ActionRow, &'a Sparkline),
    pub disk: (&'a adw::ActionRow, &'a Sparkline),
    pub net: (&'a adw::ActionRow, &'a Sparkline),
}

/// Draws `domain`'s histories in `graphs`, its latest figures as the rows' subtitles
/// (with the top of the scale for the rates, whose graphs scale to their largest value)
/// and the graphs' accessible labels. Returns the four texts, one a line.
pub(super) fn show(domain: &DomainObject, graphs: &Graphs<'_>) -> String {
    let cpu = gettext_f(
        "{percent} %",
        &[("percent", &format!("{:.0}", domain.cpu_percent()))],
    );
    let total = format_kib(domain.current_memory_kib());
    let memory = if domain.memory_used_kib() > 0 {
        gettext_f(
            "{used} of {total}",
            &[
                ("used", &format_kib(domain.memory_used_kib())),
                ("total", &total),
            ],
        )
    } else {
        // Without a balloon driver in the guest, only what it was given is known.
        gettext_f("{total} given, use not reported", &[("total", &total)])
    };
    let disk = gettext_f(
        "read {read}, write {write}",
        &[
            ("read", &format_rate(domain.disk_read_bps())),
            ("write", &format_rate(domain.disk_write_bps())),
        ],
    );
    let net = gettext_f(
        "received {rx}, sent {tx}",
        &[
            ("rx", &format_rate(domain.net_rx_bps())),
            ("tx", &format_rate(domain.net_tx_bps())),
        ],
    );
    let mut lines = Vec::new();
    for ((row, graph), values, maximum, text) in [
        (graphs.cpu, domain.cpu_history(), 100.0, cpu),
        (
            graphs.memory,
            domain.memory_history(),
            domain.current_memory_kib() as f64,
            memory,
        ),
        // Rates have no ceiling: the graph scales to its largest value.
        (graphs.disk, domain.disk_history(), 0.0, disk),
        (graphs.net, domain.net_history(), 0.0, net),
    ] {
        let text = with_scale(text, &values, maximum);
        row.set_subtitle(&text);
        graph.set_maximum(maximum);
        let label = gettext_f(
            "{what} over the latest figures, now {value}",
            &[("what", &row.title()), ("value", &text)],
        );
        graph.set_values(values, &label);
        lines.push(format!("{}: {text}", row.title()));
    }
    lines.join("\n")
}

/// `figures`, and for a rate graph (`maximum` 0: it scales to its largest value) what
/// the top of that scale stands for, once there is anything to draw.
fn with_scale(figures: String, values: &[f64], maximum: f64) -> String {
    let peak = values.iter().copied().fold(0.0, f64::max);
    if maximum == 0.0 && peak > 0.0 {
        gettext_f(
            "{figures} · graph up to {peak}",
            &[("figures", &figures), ("peak", &format_rate(peak))],
        )
    } else {
        figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_graphs_say_the_top_of_their_scale() {
        let rates = [0.0, 2_500_000.0, 1_000.0];
        assert_eq!(
            with_scale("read 1.0 kB/s".into(), &rates, 0.0),
            format!("read 1.0 kB/s · graph up to {}", format_rate(2_500_000.0))
        );
        // Nothing drawn yet, or a graph with a fixed top (CPU's 100 %): the figures.
        assert_eq!(with_scale("x".into(), &[0.0, 0.0], 0.0), "x");
        assert_eq!(with_scale("5 %".into(), &[5.0], 100.0), "5 %");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(Duration::from_secs(20)), "less than a minute");
        assert_eq!(duration_text(Duration::from_secs(7 * 60 + 5)), "7 min");
        assert_eq!(
            duration_text(Duration::from_secs(2 * 3600 + 5 * 60)),
            "2 h 05 min"
        );
        assert_eq!(
            duration_text(Duration::from_secs(3 * 86400 + 4 * 3600 + 59)),
            "3 days 4 h"
        );
    }

    #[test]
    fn a_start_not_seen_is_a_lower_bound() {
        let now = SystemTime::now();
        let since = now - Duration::from_secs(600);
        let (seen, _) = uptime_texts(
            ActiveSince {
                since,
                start_seen: true,
            },
            now,
        );
        assert_eq!(seen, "10 min");
        let (unseen, tooltip) = uptime_texts(
            ActiveSince {
                since,
                start_seen: false,
            },
            now,
        );
        assert_eq!(unseen, "at least 10 min");
        assert!(tooltip.contains("already running"), "{tooltip}");
    }
}
