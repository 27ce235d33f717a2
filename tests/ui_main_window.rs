//! UI tests of the main window on a generated 1000-domain test-driver host: the list
//! fills, the search narrows it, actions follow the selection's state and reach
//! libvirt, and screenshots (light, dark, narrow, empty states) are written.

mod kit;

use adw::prelude::*;
use kit::app::{find_widgets, TestApp};
use kit::screen::save_png;
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
        .find(|b| b.action_name().as_deref() == Some("vm.start") && b.is_sensitive())
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
