//! The real `vireo` binary from outside, as a person uses it (tier 5): launched on
//! libvirt's test driver under the tests' X display with its own session and AT-SPI
//! buses, read through its accessible tree (what a screen reader reads), driven with
//! the pointer and the keyboard, looked at in screenshots (`target/screenshots/app-*`).
//! Each test ends with Ctrl+Q and checks that the app quit with status 0 and logged no
//! GTK critical.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" cargo test --test app_binary` (the
//! kit starts the buses). Needs xdotool, ImageMagick and python3's AT-SPI bindings
//! (`tools/install-deps.sh test`); skipped without them, failed in CI.

mod kit;

use kit::binary::{self, App};
use kit::testbed::temp_dir;
use std::time::Duration;

use kit::{test, wait_until, Runner, EVENT};
use vireo::virt::test_node::{write_node, NodeSpec};

fn main() {
    binary::require();
    Runner::new().run(vec![
        test("lists_the_demo_vms", lists_the_demo_vms),
        test("search_narrows_the_list", search_narrows_the_list),
        test("primary_menu_opens", primary_menu_opens),
        test(
            "about_and_preferences_open_and_close",
            about_and_preferences_open_and_close,
        ),
        test("ctrl_o_opens_the_vms_tab", ctrl_o_opens_the_vms_tab),
        test(
            "host_details_open_from_the_heading",
            host_details_open_from_the_heading,
        ),
        test(
            "ctrl_n_opens_a_working_wizard",
            ctrl_n_opens_a_working_wizard,
        ),
        test(
            "waiting_login_leaves_the_cpu_idle",
            waiting_login_leaves_the_cpu_idle,
        ),
        test(
            "dialogs_close_while_a_screen_reader_reads",
            dialogs_close_while_a_screen_reader_reads,
        ),
    ]);
}

/// A screen reader walks the accessible tree while a dialog closes under it (Escape):
/// the app lives on. GTK 4.8 answers a window index that the closing dialog freed
/// with the last toplevel; GTK's own help overlay was such a toplevel, hidden and
/// without an accessible path, and the app died (SIGSEGV in the AT-SPI reply) on the
/// first close. Vireo builds its shortcuts window only when asked.
fn dialogs_close_while_a_screen_reader_reads() {
    let app = demo();
    for (keys, role, name) in [
        ("ctrl+comma", "frame", "Preferences"),
        ("ctrl+n", "frame", "New Virtual Machine"),
        ("ctrl+question", "frame", "Keyboard Shortcuts"),
    ] {
        for round in 0..3u64 {
            app.key(keys);
            app.find(role, name);
            // Escape lands at a different moment of the walk each round.
            let delay = Duration::from_millis(100 + 200 * round);
            let reads = std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(delay);
                    kit::x11::xdotool_output(&["key", "Escape"]);
                });
                let t = std::time::Instant::now();
                let (mut reads, mut failed) = (0, 0);
                while t.elapsed() < delay + Duration::from_secs(1) {
                    // A walk may fail on an object that went away meanwhile (the
                    // reader's problem, not the app's); the app must live on.
                    if app.try_find_all("label", None).is_err() {
                        failed += 1;
                    }
                    reads += 1;
                    assert!(
                        app.is_running(),
                        "vireo died while {name} closed under a read of its tree:\n{}",
                        app.log()
                    );
                }
                (reads, failed)
            });
            app.wait_gone(role, name);
            println!(
                "  {name} closed by Escape during {} reads of the tree ({} cut short): app alive",
                reads.0, reads.1
            );
        }
    }
    app.quit();
}

/// The app on the demo host, once its VMs are listed.
fn demo() -> App {
    let app = App::launch(&["--connect", "test:///default"]);
    assert_eq!(
        app.wait_ready(),
        ("test:///default".to_owned(), 1),
        "the demo host has one VM"
    );
    app
}

/// The names of the VMs the list shows, as a screen reader reads its rows.
fn listed_vms(app: &App) -> Vec<String> {
    app.find_all("list item", None)
        .iter()
        .filter(|row| row.on_screen())
        .flat_map(|row| app.children(row))
        .filter(|cell| cell.name.contains(", "))
        .map(|cell| cell.name)
        .filter(|name| !name.contains("://"))
        .collect()
}

fn lists_the_demo_vms() {
    let app = demo();
    // The row reads "name, state, CPU figure"; its labels are there one by one too.
    let rows = wait_until("the demo VM's row", EVENT, || {
        let rows = listed_vms(&app);
        (!rows.is_empty()).then_some(rows)
    });
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("test, Running"), "{rows:?}");
    app.find("label", "test");
    app.find("label", "Running");
    app.find("label", "Test Host");
    // The state icon says Running to a screen reader, and is green on screen.
    let icon = app.find("image", "Running");
    let [x, y, w, h] = icon.extents.expect("the icon's place");
    let [r, g, b] = app.pixel(x + w / 2, y + h / 2);
    assert!(
        g > 100 && g > r + 40 && g > b + 40,
        "a green icon: {:?}",
        [r, g, b]
    );
    app.screenshot("app-demo-host.png");
    app.quit();
}

fn search_narrows_the_list() {
    let node = write_node(
        &temp_dir("app-search"),
        "node.xml",
        &NodeSpec {
            domains: 12,
            ..NodeSpec::default()
        },
    )
    .expect("node file");
    let app = App::launch(&["--connect", &node]);
    assert_eq!(app.wait_ready().1, 12);
    wait_until("the 12 VMs listed", EVENT, || listed_vms(&app).len() == 12);
    app.key("ctrl+f");
    let entry = app.find("entry", "Search Virtual Machines");
    assert!(entry.is("focused"), "Ctrl+F focuses the search: {entry:?}");
    app.type_text("vm001");
    wait_until("vm0010 and vm0011 left", EVENT, || {
        let names: Vec<String> = listed_vms(&app)
            .iter()
            .map(|n| n.split(", ").next().unwrap_or_default().to_owned())
            .collect();
        names == ["vm0010", "vm0011"]
    });
    assert_eq!(
        app.text(&app.find("entry", "Search Virtual Machines")),
        "vm001"
    );
    app.screenshot("app-search.png");
    app.type_text("zzz");
    app.find("label", "No Results Found");
    app.screenshot("app-search-no-results.png");
    // Escape ends the search: every VM again.
    app.key("Escape");
    wait_until("all 12 VMs again", EVENT, || listed_vms(&app).len() == 12);
    app.quit();
}

const MENU: [&str; 5] = [
    "New Virtual Machine…",
    "Add Connection…",
    "Preferences",
    "Keyboard Shortcuts",
    "About Vireo",
];

fn primary_menu_opens() {
    let app = demo();
    app.click(&app.find("push button", "Main Menu"));
    for item in MENU {
        app.find("menu item", item);
    }
    app.screenshot("app-primary-menu.png");
    app.key("Escape");
    app.wait_gone("menu item", "About Vireo");
    app.quit();
}

fn about_and_preferences_open_and_close() {
    let app = demo();
    // About, from the primary menu.
    app.click(&app.find("push button", "Main Menu"));
    app.click(&app.find("menu item", "About Vireo"));
    app.find("frame", "About");
    app.find("label", "Vireo");
    app.screenshot("app-about.png");
    app.key("Escape");
    app.wait_gone("frame", "About");
    // Preferences, by its shortcut.
    app.key("ctrl+comma");
    app.find("frame", "Preferences");
    app.screenshot("app-preferences.png");
    app.key("Escape");
    app.wait_gone("frame", "Preferences");
    app.quit();
}

fn ctrl_o_opens_the_vms_tab() {
    let app = demo();
    // Select the VM as a person does, with a click on its name, then Ctrl+O.
    app.click(&app.find("label", "test"));
    app.key("ctrl+o");
    // libadwaita 1.2 shows a tab as an unnamed "AdwTab" holding its title's label.
    let tabs = wait_until("a tab beside the list's", EVENT, || {
        let tabs: Vec<_> = app
            .find_all("filler", Some("AdwTab"))
            .into_iter()
            .filter(|t| t.on_screen())
            .collect();
        (tabs.len() == 2).then_some(tabs)
    });
    assert!(
        app.find_in(&tabs[1], "label", Some("test")).len() == 1,
        "the new tab is titled with the VM's name"
    );
    // The tab shows the VM's console first; its details and XML are a switch away.
    let console = app.find("page tab", "Console");
    assert!(console.is("selected"), "{console:?}");
    app.find("page tab", "Details");
    app.find("page tab", "XML");
    app.screenshot("app-vm-tab.png");
    app.click(&app.find("page tab", "Details"));
    wait_until("Details shown", EVENT, || {
        app.find("page tab", "Details").is("selected")
    });
    app.find("label", "Virtual CPUs");
    app.screenshot("app-vm-tab-details.png");
    app.quit();
}

/// The host's heading has a Host Details button: it opens the host page in a tab, whose
/// overview and storage a screen reader can read, and New Storage Pool opens its form,
/// whose buttons it names plainly.
fn host_details_open_from_the_heading() {
    let app = demo();
    let button = app.find("push button", "Host Details");
    app.click(&button);
    app.find("label", "CPU Usage");
    app.find("label", "Memory Usage");
    // The host's facts: libvirt's version and the test driver's 16 CPUs.
    app.find("label", "9.0.0");
    app.find("label", "16 at 1400 MHz");
    app.screenshot("app-host-overview.png");
    let storage = app.find("page tab", "Storage");
    app.click(&storage);
    app.find("label", "default-pool");
    // GLib keeps figure and unit together with a no-break space.
    app.find("label", "100.0\u{a0}GiB free of 100.0\u{a0}GiB");
    app.screenshot("app-host-storage.png");
    // Buttons with a mnemonic are read by their plain names (GTK 4.8 reads a button's
    // own mnemonic label as "C_reate Create").
    app.find("push button", "New Volume");
    app.click(&app.find("push button", "New Storage Pool"));
    app.find("frame", "New Storage Pool");
    app.find("push button", "Create");
    app.click(&app.find("push button", "Cancel"));
    app.wait_gone("frame", "New Storage Pool");
    app.quit();
}

/// The wizard as a newcomer meets it in the real binary: Ctrl+N opens it, the host's
/// facts arrive (the architecture is named), Forward waits for an install medium and
/// becomes clickable with Manual, and Cancel closes it. On wave 1 the dialog was freed
/// as soon as it was shown, so none of that happened outside the tests that held it.
/// A screen reader hears the buttons by their plain names ("Forward", not GTK 4.8's
/// "_Forward Forward" for a mnemonic label).
fn ctrl_n_opens_a_working_wizard() {
    let app = demo();
    app.key("ctrl+n");
    app.find("frame", "New Virtual Machine");
    let forward = app.find("push button", "Forward");
    assert!(!forward.is("sensitive"), "Forward waits for an ISO first");
    app.click(&app.find("check box", "Manual"));
    wait_until("Forward clickable with Manual", EVENT, || {
        app.find("push button", "Forward").is("sensitive")
    });
    app.screenshot("app-new-vm.png");
    app.click(&app.find("push button", "Cancel"));
    app.wait_gone("frame", "New Virtual Machine");
    // Cancel made nothing: the demo host still has its one VM.
    assert_eq!(listed_vms(&app).len(), 1);
    app.quit();
}

/// CPU time (user + system) the process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of proc(5), 12 and 13 after the name.
    let ticks: u64 =
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    // Linux reports them in USER_HZ, 100 per second on every architecture it runs.
    Duration::from_millis(ticks * 10)
}

/// A host that asks for a login: while its dialog waits for the person, the app stays
/// idle. It used to keep the connection header's spinner turning behind the dialog,
/// redrawing the window at frame rate: about two cores under Xvfb's software renderer,
/// for as long as the person took.
fn waiting_login_leaves_the_cpu_idle() {
    let spec = NodeSpec {
        domains: 1,
        auth: Some(("alice".into(), "s3cret".into())),
        ..Default::default()
    };
    let uri = write_node(&temp_dir("app-login"), "node.xml", &spec).expect("the node file");
    let app = App::launch(&["--connect", &uri]);
    // The dialog's buttons are read by their labels (GTK 4.8 names a response button
    // with its mnemonic twice).
    app.find("label", "Log In");
    app.find("label", "Waiting for your login…");
    app.screenshot("app-login.png");
    // The password field's cursor blinks for its first 10 s (GTK's blink timeout):
    // measure after that, when nothing at all should move.
    std::thread::sleep(Duration::from_secs(11));
    let pid = app.pid();
    let before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_time(pid) - before;
    println!(
        "  CPU while the login waits: {} ms over 3 s",
        used.as_millis()
    );
    assert!(
        used < Duration::from_millis(300),
        "the app used {} ms of CPU in 3 s while only waiting for a login",
        used.as_millis()
    );
    app.click(&app.find("label", "Cancel"));
    app.wait_gone("label", "Log In");
    app.quit();
}
