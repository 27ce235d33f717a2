//! UI tests of the main window on a generated 1000-domain test-driver host: the list
//! fills, the search narrows it, actions follow the selection's state and reach
//! libvirt, a VM's tab takes the VM actions and shortcuts for its VM, the keyboard
//! works as in other GNOME apps, and screenshots (light, dark, narrow, empty states)
//! are written. Keys are pressed through the X server (xdotool).

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
use kit::x11::{press_keys, type_text};
use kit::{settle, test, wait_until, Runner, EVENT};
use vireo::model::{ConnectionState, DomainObject, DomainState};
use vireo::ui::{DomainListView, DomainRow, VireoWindow, VmPage};
use vireo::virt::test_node::{self, NodeSpec};

const DOMAINS: usize = 1000;

fn main() {
    Runner::new().gui().fresh_process().run(vec![
        test("thousand_domains_fill_and_search_narrows", fill_and_search),
        test("actions_follow_the_selected_state", actions_follow_state),
        test("light_dark_and_narrow_screenshots", screenshots),
        test("login_dialog_answers_libvirts_auth", login_dialog),
        test("opening_vms_gives_each_a_tab", open_tabs),
        test("shortcuts_in_a_tab_act_on_its_vm", shortcuts_in_a_tab),
        test(
            "a_search_takes_hidden_rows_out_of_the_selection",
            search_and_selection,
        ),
        test("keyboard_focus_tab_order_and_menu_key", keyboard),
        test("a_vm_tab_fits_360_pixels", narrow_tab),
        test("a_vm_tabs_menu_offers_every_action", tab_menu),
    ]);
}

/// Starts Vireo on a fresh 1000-domain host (half of them running).
fn start_big_host() -> Result<(TestApp, VireoWindow, DomainListView), String> {
    let dir = std::env::temp_dir().join(format!("vireo-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let spec = NodeSpec {
        domains: DOMAINS,
        ..NodeSpec::default()
    };
    let uri = test_node::write_node(&dir, "node.xml", &spec).map_err(|e| e.to_string())?;
    let app = TestApp::start(&["--connect", &uri]);
    let window = app.window();
    let connection = app.connection(0);
    wait_until("the 1000-domain host connects", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    let list = window.list().clone();
    wait_until("all 1000 VMs are listed", EVENT, || {
        list.visible_domain_count() == DOMAINS as u32
    });
    Ok((app, window, list))
}

fn domain_named(app: &TestApp, name: &str) -> Result<DomainObject, String> {
    app.connection(0)
        .domains()
        .iter::<DomainObject>()
        .flatten()
        .find(|d| d.name() == name)
        .ok_or(format!("{name} is not listed"))
}

/// The tab shown, when it is `domain`'s.
fn tab_of(window: &VireoWindow, domain: &DomainObject) -> Option<VmPage> {
    window
        .vm_page_shown()
        .filter(|page| page.domain().as_ref() == Some(domain))
}

fn search_entry(window: &VireoWindow) -> Result<gtk::SearchEntry, String> {
    find_widgets::<gtk::SearchEntry>(window)
        .into_iter()
        .next()
        .ok_or_else(|| "no search entry".to_owned())
}

fn fill_and_search() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let rows = find_widgets::<DomainRow>(&window).len();
    // Only what is on screen is bound: a few dozen rows for a thousand VMs.
    // GTK 4.8 keeps up to 200 list items around the visible ones.
    if rows == 0 || rows > 250 {
        return Err(format!("{rows} rows were made for {DOMAINS} VMs"));
    }
    WidgetExt::activate_action(&window, "win.search", None).map_err(|e| e.to_string())?;
    let entry = search_entry(&window)?;
    entry.set_text("vm099");
    wait_until("the search narrows to vm0990…vm0999", EVENT, || {
        list.visible_domain_count() == 10
    });
    entry.set_text("vm0999");
    wait_until("the search narrows to one VM", EVENT, || {
        list.visible_domain_count() == 1
    });
    save_png(&window, "search-one-result.png");
    entry.set_text("running vm000");
    wait_until("words match name and state together", EVENT, || {
        list.visible_domain_count() == 5
    });
    entry.set_text("no-such-machine");
    wait_until("the no-results page shows", EVENT, || {
        list.visible_page_name() == "no-results"
    });
    save_png(&window, "search-no-results.png");
    entry.set_text("");
    wait_until("clearing the search shows all again", EVENT, || {
        list.visible_domain_count() == DOMAINS as u32
    });
    app.quit();
    Ok(())
}

fn action_button_sensitive(window: &VireoWindow, action: &str) -> Result<bool, String> {
    let widgets: Vec<gtk::Widget> = find_widgets::<gtk::Button>(window)
        .into_iter()
        .map(|b| b.upcast())
        .chain(
            find_widgets::<adw::SplitButton>(window)
                .into_iter()
                .map(|b| b.upcast()),
        )
        .collect();
    widgets
        .iter()
        .find(|w| {
            w.downcast_ref::<gtk::Actionable>()
                .and_then(|a| a.action_name())
                .as_deref()
                == Some(action)
        })
        .map(|w| w.is_sensitive())
        .ok_or_else(|| format!("no button for {action}"))
}

fn actions_follow_state() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let connection = app.connection(0);
    // vm0001 is shut off (every second VM runs).
    let domain: DomainObject = connection
        .domains()
        .iter::<DomainObject>()
        .flatten()
        .find(|d| d.name() == "vm0001")
        .ok_or("vm0001 is listed")?;
    if domain.state() != DomainState::Shutoff {
        return Err(format!(
            "vm0001 should be shut off, is {:?}",
            domain.state()
        ));
    }
    if !list.select_domain(&domain) {
        return Err("vm0001 could not be selected".into());
    }
    settle();
    if !action_button_sensitive(&window, "win.domain-start")? {
        return Err("Run is not sensitive for a shut-off VM".into());
    }
    if action_button_sensitive(&window, "win.domain-shutdown")? {
        return Err("Shut Down is sensitive for a shut-off VM".into());
    }
    save_png(&window, "selection-shut-off.png");

    // Click Run in the action bar, as a person would.
    find_widgets::<gtk::Button>(&window)
        .into_iter()
        .find(|b| b.action_name().as_deref() == Some("win.domain-start"))
        .ok_or("no Run button")?
        .emit_clicked();
    wait_until("libvirt's event marks vm0001 running", EVENT, || {
        domain.state() == DomainState::Running
    });
    wait_until("the row says Running", EVENT, || {
        find_widgets::<DomainRow>(&window)
            .iter()
            .filter(|r| r.domain().as_ref() == Some(&domain))
            .any(|r| {
                find_widgets::<gtk::Label>(r)
                    .iter()
                    .any(|l| l.label().contains("Running"))
            })
    });
    wait_until("Shut Down becomes sensitive", EVENT, || {
        action_button_sensitive(&window, "win.domain-shutdown").unwrap_or(false)
    });
    if action_button_sensitive(&window, "win.domain-start")? {
        return Err("Run stays sensitive for a running VM".into());
    }
    app.quit();
    Ok(())
}

fn screenshots() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    list.select_all();
    settle();
    // Every VM is selected, and the host's heading, which is none, does not look it.
    if list.selected_domains().len() != DOMAINS {
        return Err(format!("{} VMs selected", list.selected_domains().len()));
    }
    let heading_selected = find_widgets::<vireo::ui::ConnectionHeader>(&window)
        .iter()
        .filter_map(|h| h.parent())
        .any(|item| item.state_flags().contains(gtk::StateFlags::SELECTED));
    if heading_selected {
        return Err("Select All shows the host's heading selected".into());
    }
    save_png(&window, "main-window-1000.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "main-window-1000-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    window.unmaximize();
    window.set_default_size(360, 640);
    settle();
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 400
    });
    save_png(&window, "main-window-narrow.png");
    app.quit();
    Ok(())
}

/// A host that wants a login: the dialog appears, the person types, libvirt accepts.
fn login_dialog() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("vireo-ui-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let spec = NodeSpec {
        domains: 3,
        auth: Some(("alice".into(), "s3cret".into())),
        ..NodeSpec::default()
    };
    let uri = test_node::write_node(&dir, "auth.xml", &spec).map_err(|e| e.to_string())?;
    let app = TestApp::start(&["--connect", &uri]);
    let window = app.window();
    let connection = app.connection(0);
    // libvirt asks for the user name, then for the password, one prompt at a time.
    for (answer, secret) in [("alice", false), ("s3cret", true)] {
        wait_until("a login dialog appears", EVENT, || {
            window.list_toplevels_dialog().is_some()
        });
        let dialog = window.list_toplevels_dialog().ok_or("no dialog")?;
        let field: Option<gtk::Editable> = if secret {
            find_widgets::<gtk::PasswordEntry>(&dialog)
                .into_iter()
                .next()
                .map(|e| e.upcast())
        } else {
            find_widgets::<gtk::Entry>(&dialog)
                .into_iter()
                .next()
                .map(|e| e.upcast())
        };
        let field = field.ok_or_else(|| format!("the dialog has no field for {answer}"))?;
        field.set_text(answer);
        save_png(
            &dialog,
            if secret {
                "login-password.png"
            } else {
                "login-user.png"
            },
        );
        // Enter, as a person would: it must answer and close the dialog.
        // (The inner GtkText handles Enter; the entry's own signal only reports it.)
        let text = field.delegate().ok_or("the field has no text widget")?;
        text.emit_by_name::<()>("activate", &[]);
        wait_until("Enter closes the login dialog", EVENT, || {
            !dialog.is_visible()
        });
    }
    wait_until("the host accepts the login", EVENT, || {
        connection.state() == ConnectionState::Connected
    });
    if connection.domains().n_items() != 3 {
        return Err("the host's 3 VMs are not listed".into());
    }
    app.quit();
    Ok(())
}

trait DialogLookup {
    fn list_toplevels_dialog(&self) -> Option<adw::MessageDialog>;
}

impl DialogLookup for VireoWindow {
    fn list_toplevels_dialog(&self) -> Option<adw::MessageDialog> {
        gtk::Window::list_toplevels()
            .into_iter()
            .filter_map(|w| w.downcast::<adw::MessageDialog>().ok())
            .find(|d| d.is_visible())
    }
}

/// Open puts each selected VM in a tab of its own, with its details and live XML.
fn open_tabs() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let connection = app.connection(0);
    let domains: Vec<DomainObject> = ["vm0000", "vm0001"]
        .iter()
        .map(|name| {
            connection
                .domains()
                .iter::<DomainObject>()
                .flatten()
                .find(|d| d.name() == *name)
                .ok_or(format!("{name} is listed"))
        })
        .collect::<Result<_, _>>()?;
    for domain in &domains {
        // Back to the list's tab, as a person clicks it, to choose the next VM.
        window.show_list();
        list.select_domain(domain);
        settle();
        find_widgets::<gtk::Button>(&window)
            .into_iter()
            .find(|b| b.action_name().as_deref() == Some("win.domain-open"))
            .ok_or("no Open button")?
            .emit_clicked();
    }
    wait_until("two VM tabs are open", EVENT, || {
        find_widgets::<VmPage>(&window).len() == 2
    });
    let pages = find_widgets::<VmPage>(&window);
    let shut_off = pages
        .iter()
        .find(|p| p.domain().as_ref() == Some(&domains[1]))
        .ok_or("no tab for vm0001")?;
    save_png(&window, "vm-tab-console.png");
    wait_until("the tab shows vm0001's XML", EVENT, || {
        find_widgets::<gtk::TextView>(shut_off).iter().any(|v| {
            let buffer = v.buffer();
            buffer
                .text(&buffer.start_iter(), &buffer.end_iter(), false)
                .contains("<name>vm0001</name>")
        })
    });
    // The tab's own Run button starts this VM.
    find_widgets::<gtk::Button>(shut_off)
        .into_iter()
        .find(|b| b.action_name().as_deref() == Some("win.domain-start") && b.is_sensitive())
        .ok_or("no sensitive Run button in the tab")?
        .emit_clicked();
    wait_until("vm0001 runs", EVENT, || {
        domains[1].state() == DomainState::Running
    });
    shut_off.show_details();
    settle();
    save_png(&window, "vm-tab-details.png");
    app.quit();
    Ok(())
}

/// In a VM's tab the VM shortcuts act on that VM, whatever the list behind it has
/// selected; Ctrl+O puts the keyboard's focus in the tab; Ctrl+W closes the tab, and
/// on the list closes the window.
fn shortcuts_in_a_tab() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let (alpha, beta) = (domain_named(&app, "vm0000")?, domain_named(&app, "vm0002")?);
    list.select_domain(&alpha);
    press_keys(&window, "ctrl+o");
    let page = wait_until("Ctrl+O shows alpha's tab", EVENT, || {
        tab_of(&window, &alpha)
    });
    wait_until("the keyboard's focus is in alpha's tab", EVENT, || {
        gtk::prelude::RootExt::focus(&window).is_some_and(|f| f.is_ancestor(&page))
    });

    // The list, hidden behind the tab, has beta selected.
    list.select_domain(&beta);
    settle();
    press_keys(&window, "shift+ctrl+d");
    wait_until("Shift+Ctrl+D shuts alpha down", EVENT, || {
        alpha.state() == DomainState::Shutoff
    });
    if beta.state() != DomainState::Running {
        return Err("Shift+Ctrl+D in alpha's tab shut down beta, the list's selection".into());
    }

    press_keys(&window, "ctrl+w");
    wait_until("Ctrl+W closes alpha's tab", EVENT, || {
        find_widgets::<VmPage>(&window).is_empty()
    });
    if !window.is_visible() {
        return Err("Ctrl+W in a tab closed the window".into());
    }
    // Back on the list, the shortcuts act on its selection.
    press_keys(&window, "shift+ctrl+d");
    wait_until("Shift+Ctrl+D on the list shuts beta down", EVENT, || {
        beta.state() == DomainState::Shutoff
    });
    press_keys(&window, "ctrl+w");
    wait_until("Ctrl+W on the list closes the window", EVENT, || {
        !window.is_visible()
    });
    app.quit();
    Ok(())
}

fn action_bar(window: &VireoWindow) -> Result<(gtk::ActionBar, String), String> {
    let bar = find_widgets::<gtk::ActionBar>(window)
        .into_iter()
        .next()
        .ok_or("no action bar")?;
    let count = find_widgets::<gtk::Label>(&bar)
        .iter()
        .map(|l| l.label().to_string())
        .find(|l| l.ends_with("selected"))
        .unwrap_or_default();
    Ok((bar, count))
}

/// A search that hides the selected VM takes it out of the selection: the bar, the
/// actions and Ctrl+O agree with what is shown selected.
fn search_and_selection() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let vm = domain_named(&app, "vm0001")?;
    list.select_domain(&vm);
    settle();
    let (bar, count) = action_bar(&window)?;
    if !bar.is_revealed() || count != "1 selected" {
        return Err(format!("selecting one VM shows “{count}”"));
    }
    // A search that keeps it in view keeps it selected.
    press_keys(&window, "ctrl+f");
    type_text(&window, "vm000");
    wait_until("the search narrows to vm0000…vm0009", EVENT, || {
        list.visible_domain_count() == 10
    });
    if list.selected_domains() != vec![vm.clone()] {
        return Err("a search that shows the selected VM unselected it".into());
    }
    type_text(&window, "zzz");
    wait_until("nothing matches", EVENT, || {
        list.visible_page_name() == "no-results"
    });
    press_keys(&window, "Escape");
    wait_until("Escape ends the search", EVENT, || {
        list.visible_domain_count() == DOMAINS as u32
    });
    let (bar, count) = action_bar(&window)?;
    if !list.selected_domains().is_empty() || bar.is_revealed() {
        return Err(format!(
            "after the search hid it, the bar still says “{count}” ({} selected)",
            list.selected_domains().len()
        ));
    }
    for action in ["win.domain-open", "win.domain-start", "win.domain-delete"] {
        if action_button_sensitive(&window, action)? {
            return Err(format!("{action} is enabled with nothing selected"));
        }
    }
    press_keys(&window, "ctrl+o");
    if window.vm_page_shown().is_some() {
        return Err("Ctrl+O opened a VM that is not selected".into());
    }
    app.quit();
    Ok(())
}

/// The list from the keyboard: Tab never stops on a label and leaves the list (the
/// arrows move inside it), the row that has the focus shows the focus ring, and
/// Shift+F10 opens the context menu at that row.
fn keyboard() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let list_view = find_widgets::<gtk::ListView>(&window)
        .into_iter()
        .next()
        .ok_or("no list view")?;
    let mut stops = Vec::new();
    for _ in 0..8 {
        press_keys(&window, "Tab");
        let focus = gtk::prelude::RootExt::focus(&window).ok_or("Tab left nothing focused")?;
        if focus.is::<gtk::Label>() {
            return Err("Tab stops on a label".into());
        }
        stops.push((
            focus.type_().name().to_owned(),
            focus.is_ancestor(&list_view),
        ));
    }
    let entered = stops.iter().position(|(_, in_list)| *in_list);
    // (A host's heading in the list has two buttons: Host Details and its menu.)
    let left = entered.is_some_and(|i| {
        stops
            .iter()
            .skip(i + 1)
            .take(2)
            .any(|(_, in_list)| !in_list)
    });
    if !left {
        return Err(format!(
            "Tab does not go into the list and out again: {stops:?}"
        ));
    }

    // Into the list and down to the second VM, as a person moves with the arrows.
    list_view.grab_focus();
    press_keys(&window, "Down");
    press_keys(&window, "Down");
    let item = gtk::prelude::RootExt::focus(&window).ok_or("nothing has the focus")?;
    let row = item
        .first_child()
        .and_downcast::<DomainRow>()
        .ok_or(format!(
            "the focus is on a {}, not a row",
            item.type_().name()
        ))?;
    if !item.state_flags().contains(gtk::StateFlags::FOCUS_VISIBLE) {
        return Err("the focused row shows no focus ring".into());
    }
    save_png(&window, "list-keyboard-focus.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "list-keyboard-focus-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);

    press_keys(&window, "shift+F10");
    let menu = wait_until("Shift+F10 opens the context menu", EVENT, || {
        list.context_menu()
    });
    let (_, at) = menu.pointing_to();
    let bounds = row.compute_bounds(&list).ok_or("the row has no bounds")?;
    let within = f64::from(at.y()) >= f64::from(bounds.y()) - 1.0
        && f64::from(at.y() + at.height()) <= f64::from(bounds.y() + bounds.height()) + 1.0;
    if !within {
        return Err(format!(
            "the menu points at y {}..{}, the focused row is at {}..{}",
            at.y(),
            at.y() + at.height(),
            bounds.y(),
            bounds.y() + bounds.height()
        ));
    }
    save_png(&menu, "list-context-menu-keyboard.png");
    menu.popdown();
    app.quit();
    Ok(())
}

/// Opens `name`'s tab through the list's selection and Open, as a person does.
fn open_tab(app: &TestApp, list: &DomainListView, name: &str) -> Result<VmPage, String> {
    let vm = domain_named(app, name)?;
    list.select_domain(&vm);
    settle();
    app.activate("win.domain-open");
    Ok(wait_until("the VM's tab shows", EVENT, || {
        tab_of(&app.window(), &vm)
    }))
}

/// A VM's tab in a 360-pixel window: nothing forces it wider, the views move to a
/// switcher bar at the bottom, and the state reads whole.
fn narrow_tab() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let page = open_tab(&app, &list, "vm0000")?;
    if page.switcher_at_bottom() {
        return Err("the views' switcher is at the bottom of a wide window".into());
    }
    save_png(&window, "vm-tab-wide.png");

    window.set_default_size(360, 640);
    wait_until("the window narrows to 360 px", EVENT, || {
        window.width() <= 360
    });
    wait_until("the views' switcher moves to the bottom", EVENT, || {
        page.switcher_at_bottom()
    });
    let state = find_widgets::<gtk::Label>(&page)
        .into_iter()
        .find(|l| l.label() == "Running" && l.is_mapped())
        .ok_or("the tab shows no state")?;
    save_png(&window, "vm-tab-narrow.png");
    if state.layout().is_ellipsized() {
        return Err("the state is cut short at 360 px".into());
    }
    // The views' switcher left the header for the tab's menu: the views are there.
    let menu = open_tab_menu(&page)?;
    let shown: Vec<String> = menu_items(&menu).into_iter().map(|(t, _)| t).collect();
    if !shown.starts_with(&["Graphical Console".into(), "Serial Console".into()]) {
        return Err(format!("at 360 px the tab's menu shows {shown:?}"));
    }
    save_png(&menu, "vm-tab-narrow-menu.png");
    choose(&menu, "Serial Console")?;
    wait_until("the menu shows the serial console", EVENT, || {
        page.serial_console().is_some_and(|s| s.is_mapped())
    });
    page.show_details();
    save_png(&window, "vm-tab-narrow-details.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    settle();
    save_png(&window, "vm-tab-narrow-dark.png");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    app.quit();
    Ok(())
}

/// The items a popover menu shows now, by their words (mnemonics taken out).
fn menu_items(menu: &gtk::PopoverMenu) -> Vec<(String, gtk::Widget)> {
    find_widgets::<gtk::Widget>(menu)
        .into_iter()
        .filter(|w| w.type_().name() == "GtkModelButton" && w.is_visible())
        .map(|w| {
            let text = w.property::<Option<String>>("text").unwrap_or_default();
            (text.replace('_', ""), w)
        })
        .rev() // find_widgets goes last child first
        .collect()
}

fn open_tab_menu(page: &VmPage) -> Result<gtk::PopoverMenu, String> {
    let button = find_widgets::<gtk::MenuButton>(page)
        .into_iter()
        .find(|b| b.tooltip_text().as_deref() == Some("Virtual Machine Menu"))
        .ok_or("the tab has no menu")?;
    button.popup();
    let menu = button
        .popover()
        .and_downcast::<gtk::PopoverMenu>()
        .ok_or("the menu button has no menu")?;
    wait_until("the tab's menu opens", EVENT, || menu.is_mapped());
    settle();
    Ok(menu)
}

fn choose(menu: &gtk::PopoverMenu, item: &str) -> Result<(), String> {
    let (_, item) = menu_items(menu)
        .into_iter()
        .find(|(text, _)| text == item)
        .ok_or(format!("the menu has no {item}"))?;
    item.activate();
    Ok(())
}

/// Clicks the button `label` of the question asked now, as a person does.
fn answer_dialog(label: &str) -> Result<(), String> {
    let dialog = kit::app::toplevel::<adw::MessageDialog>();
    let name = label.to_lowercase().replace(' ', "-");
    save_png(&dialog, &format!("vm-tab-confirm-{name}.png"));
    find_widgets::<gtk::Button>(&dialog)
        .into_iter()
        .find(|b| b.label().is_some_and(|l| l.replace('_', "") == label))
        .ok_or(format!("the question has no {label} button"))?
        .emit_clicked();
    wait_until("the question goes", EVENT, || !dialog.is_visible());
    Ok(())
}

/// Everything the list offers for a VM, its tab's menu offers too, as the VM's state
/// allows: Force Off (asked first) and then Delete, which takes the tab away.
fn tab_menu() -> Result<(), String> {
    let (app, window, list) = start_big_host()?;
    let vm = domain_named(&app, "vm0000")?;
    let page = open_tab(&app, &list, "vm0000")?;

    let menu = open_tab_menu(&page)?;
    let shown: Vec<String> = menu_items(&menu).into_iter().map(|(t, _)| t).collect();
    let running = [
        "Pause",
        "Shut Down",
        "Reboot",
        "Save and Stop",
        "Take Snapshot…",
        "Snapshots",
        "Clone…",
        "Move to Another Host…",
        "Force Reset",
        "Force Off",
        "Delete…",
    ];
    if shown != running {
        return Err(format!("a running VM's menu shows {shown:?}"));
    }
    save_png(&menu, "vm-tab-menu-running.png");
    choose(&menu, "Force Off")?;
    answer_dialog("Force Off")?;
    wait_until("Force Off stops the VM", EVENT, || {
        vm.state() == DomainState::Shutoff
    });

    let menu = open_tab_menu(&page)?;
    let shown: Vec<String> = menu_items(&menu).into_iter().map(|(t, _)| t).collect();
    let shut_off = [
        "Run",
        "Take Snapshot…",
        "Snapshots",
        "Clone…",
        "Move to Another Host…",
        "Delete…",
    ];
    if shown != shut_off {
        return Err(format!("a shut-off VM's menu shows {shown:?}"));
    }
    save_png(&menu, "vm-tab-menu-shut-off.png");
    choose(&menu, "Delete…")?;
    answer_dialog("Delete")?;
    wait_until("Delete takes the VM and its tab away", EVENT, || {
        find_widgets::<VmPage>(&window).is_empty() && domain_named(&app, "vm0000").is_err()
    });
    app.quit();
    Ok(())
}
