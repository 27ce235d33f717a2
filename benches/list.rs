//! The VM list with 10,000 rows: 20 hosts of 500 VMs each (half running), grouped
//! under their hosts' headers, in Vireo's real window (tier 3: the app in this
//! process, driven through what a person's input reaches: the search entry, the
//! window's sort action, the list's own selection actions that clicks and Ctrl+A use).
//!
//! Each figure is a latency: from the input until the frame that shows its result
//! is painted (GTK's frame clock, `after-paint`); the part of it spent in the input's
//! own call; and the longest the main loop was blocked in that time (the input's
//! call or any one callback after it: layout, binding rows), measured by a 2 ms
//! heartbeat on the main loop: while it is blocked nothing else, not even typing,
//! is handled. Figures only; nothing passes or fails on time.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" cargo bench --bench list`
//! (`-- --quick` for fewer rounds). `cargo test --all-targets` only builds it;
//! `tools/run-tests.sh` runs the debug build's quick rounds (`cargo test --bench list
//! -- --bench --quick`), which fail only when the list shows the wrong rows.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

#[path = "../tests/kit/mod.rs"]
mod kit;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::{settle, wait_until, Runner};
use vireo::model::{ConnectionState, DomainObject};
use vireo::ui::DomainRow;
use vireo::virt::test_node::{write_node, NodeSpec};

const HOSTS: usize = 20;
const VMS: usize = 500;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("list bench: run it with `cargo bench --bench list` under Xvfb");
        return;
    }
    Runner::new().gui().run(vec![
        kit::test("ten_thousand_rows", ten_thousand_rows).limit(900)
    ]);
}

/// How long `input` took on the main thread and until its result was painted, the
/// longest the main loop was blocked until then, and the main thread's CPU time.
struct Latency {
    /// Rows built from their template for it (the rest were reused).
    rows_built: usize,
    blocking: Duration,
    painted: Duration,
    longest_block: Duration,
    cpu: Duration,
}

/// How often the heartbeat that finds the main loop's longest block is due.
const BEAT: Duration = Duration::from_millis(2);

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: plain out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs `input` and waits until `done` holds and a frame was painted after it.
fn measure(window: &gtk::Window, input: impl FnOnce(), done: impl Fn() -> bool) -> Latency {
    let clock = window.frame_clock().expect("a realized window");
    let painted = Rc::new(Cell::new(None::<Instant>));
    let seen = painted.clone();
    let handler = clock.connect_after_paint(move |_| {
        if seen.get().is_none() {
            seen.set(Some(Instant::now()));
        }
    });
    // The longest gap between two beats, less the period: how long the loop was
    // held by something else (the input's own call counts: it runs on the loop too).
    let last_beat = Rc::new(Cell::new(Instant::now()));
    let longest = Rc::new(Cell::new(Duration::ZERO));
    let beat = glib::timeout_add_local(
        BEAT,
        glib::clone!(
            #[strong]
            last_beat,
            #[strong]
            longest,
            move || {
                let now = Instant::now();
                let late = now.duration_since(last_beat.get()).saturating_sub(BEAT);
                longest.set(longest.get().max(late));
                last_beat.set(now);
                glib::ControlFlow::Continue
            }
        ),
    );
    let built0 = DomainRow::built_count();
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    last_beat.set(t0);
    input();
    let blocking = t0.elapsed();
    // A frame painted before the result was there does not count.
    wait_until("the result", Duration::from_secs(60), || {
        if !done() {
            painted.set(None);
            return false;
        }
        painted.get().is_some()
    });
    clock.disconnect(handler);
    beat.remove();
    Latency {
        rows_built: DomainRow::built_count() - built0,
        blocking,
        painted: painted.get().expect("painted").duration_since(t0),
        longest_block: longest.get().max(blocking),
        cpu: thread_cpu() - cpu0,
    }
}

fn row(what: &str, runs: &[Latency]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut painted: Vec<f64> = runs.iter().map(|l| ms(l.painted)).collect();
    let mut blocking: Vec<f64> = runs.iter().map(|l| ms(l.blocking)).collect();
    let mut longest: Vec<f64> = runs.iter().map(|l| ms(l.longest_block)).collect();
    let mut cpu: Vec<f64> = runs.iter().map(|l| ms(l.cpu)).collect();
    for v in [&mut painted, &mut blocking, &mut longest, &mut cpu] {
        v.sort_by(f64::total_cmp);
    }
    let mut built: Vec<usize> = runs.iter().map(|l| l.rows_built).collect();
    built.sort_unstable();
    let median = |v: &[f64]| v[v.len() / 2];
    let max = |v: &[f64]| v[v.len() - 1];
    println!(
        "| {what} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
        median(&painted),
        max(&painted),
        median(&blocking),
        median(&longest),
        max(&longest),
        median(&cpu),
        built[built.len() / 2],
        runs.len()
    );
}

fn ten_thousand_rows() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 7 };
    let dir = kit::testbed::temp_dir("list-bench");
    let uris: Vec<String> = (0..HOSTS)
        .map(|i| {
            let spec = NodeSpec {
                domains: VMS,
                ..Default::default()
            };
            write_node(&dir, &format!("host{i:02}.xml"), &spec).expect("node file")
        })
        .collect();
    let t = Instant::now();
    let app = TestApp::start(&["--connect", &uris[0]]);
    for uri in &uris[1..] {
        app.app.add_connection(uri, true);
    }
    let window = app.window();
    let connections: Vec<_> = (0..HOSTS as u32).map(|i| app.connection(i)).collect();
    wait_until("every host listed", Duration::from_secs(300), || {
        connections
            .iter()
            .all(|c| c.state() == ConnectionState::Connected && c.domains().len() == VMS)
    });
    settle();
    println!(
        "# list bench ({} build): {HOSTS} hosts x {VMS} VMs = {} rows, listed in {:.2} s",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        HOSTS * VMS,
        t.elapsed().as_secs_f64()
    );
    let gtk_window: gtk::Window = window.clone().upcast();
    let view = find_widgets::<gtk::ListView>(&window)
        .into_iter()
        .next()
        .expect("the list view");
    let model = view.model().expect("the list's model");
    let entry = find_widgets::<gtk::SearchEntry>(&window)
        .into_iter()
        .next()
        .expect("the search entry");
    // The entry waits for a pause in typing before searching (150 ms): that wait is
    // GTK's choice, not work; take it out of the figures.
    entry.set_search_delay(0);
    let all_rows = (HOSTS * VMS + HOSTS) as u32;
    assert_eq!(model.n_items(), all_rows);

    println!("\n| input | painted after, median (ms) | max (ms) | in the input's call, median (ms) | main loop's longest block, median (ms) | max (ms) | main-thread CPU until painted, median (ms) | rows built, median | runs |");
    println!("|---|---|---|---|---|---|---|---|---|");
    app.activate("win.search");

    // Typing "vm0042" a key at a time, then clearing it.
    let typed = "vm0042";
    let mut keys: Vec<Vec<Latency>> = (0..=typed.len()).map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (i, slot) in keys.iter_mut().enumerate().take(typed.len()) {
            let text = &typed[..=i];
            let want = matching_rows(&connections, text);
            slot.push(measure(
                &gtk_window,
                || entry.set_text(text),
                || model.n_items() == want,
            ));
        }
        keys[typed.len()].push(measure(
            &gtk_window,
            || entry.set_text(""),
            || model.n_items() == all_rows,
        ));
    }
    for (i, runs) in keys.iter().enumerate() {
        let what = if i < typed.len() {
            format!("search: type “{}”", &typed[..=i])
        } else {
            "search: clear (all 10,000 back)".to_owned()
        };
        row(&what, runs);
    }
    app.activate("win.search");

    // Sorting: each change measured from an order where it changes what shows (the
    // test driver reports no CPU use, so by CPU is by name, from by memory).
    // The first host's first rows (its header is row 0).
    let first_name = || -> Vec<String> {
        (1..=5)
            .filter_map(|p| model.item(p).and_downcast::<DomainObject>())
            .map(|d| d.name().to_string())
            .collect()
    };
    let sort_by = |key: &str| {
        WidgetExt::activate_action(&window, "win.sort-by", Some(&key.to_variant()))
            .expect("win.sort-by")
    };
    for (from, to, label) in [
        ("name", "state", "sort by state (from by name)"),
        ("name", "memory", "sort by memory (from by name)"),
        ("memory", "cpu", "sort by CPU (from by memory)"),
        ("memory", "name", "sort by name (from by memory)"),
    ] {
        let mut runs = Vec::new();
        for _ in 0..rounds {
            sort_by(from);
            settle();
            let before = first_name();
            runs.push(measure(
                &gtk_window,
                || sort_by(to),
                || first_name() != before,
            ));
        }
        row(label, &runs);
    }
    sort_by("name");
    settle();

    // Selecting: a click on a row (far down the list), Ctrl+A, then a click again.
    let selection = model
        .clone()
        .downcast::<gtk::SelectionModel>()
        .expect("a selection model");
    let mut click = Vec::new();
    let mut select_all = Vec::new();
    let mut unselect = Vec::new();
    for r in 0..rounds {
        let position = 7_777 + r as u32;
        click.push(measure(
            &gtk_window,
            || {
                view.activate_action(
                    "list.select-item",
                    Some(&(position, false, false).to_variant()),
                )
                .expect("list.select-item")
            },
            || selection.is_selected(position),
        ));
        select_all.push(measure(
            &gtk_window,
            || {
                view.activate_action("list.select-all", None)
                    .expect("list.select-all")
            },
            || selection.is_selected(all_rows - 1),
        ));
        // Select All selects the VMs, not the hosts' headings.
        settle();
        assert_eq!(selection.selection().size(), (HOSTS * VMS) as u64);
        unselect.push(measure(
            &gtk_window,
            || {
                view.activate_action("list.select-item", Some(&(5u32, false, false).to_variant()))
                    .expect("list.select-item")
            },
            || !selection.is_selected(all_rows - 1),
        ));
    }
    row("select one row (click)", &click);
    row("select all 10,000 (Ctrl+A)", &select_all);
    row("select one again (click)", &unselect);
    app.quit();
}

/// Rows shown for a search: every host's header, and the VMs whose name matches.
fn matching_rows(connections: &[vireo::model::ConnectionObject], text: &str) -> u32 {
    let vms: usize = connections
        .iter()
        .map(|c| {
            c.domains()
                .snapshot()
                .iter()
                // Names, titles and state labels are searched; here only names match.
                .filter(|d| d.name().contains(text))
                .count()
        })
        .sum();
    (vms + connections.len()) as u32
}
