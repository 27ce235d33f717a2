//! What `vireo-xml` does with its command line, in virt-xml's order: read the XML,
//! apply the one change, print what was asked, hot-plug or update the running VM
//! (`--update`), define the result.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::ArgMatches;
use gettextrs::gettext;

use super::change::{apply_change, select, Action, Applied};
use super::devices;
use super::options::XmlOption;
use super::optstr::OptError;
use super::session;
use crate::i18n::gettext_f;
use crate::virt::domain_xml::apply::{self, Affect, Definition, DomainHandle};
use crate::virt::domain_xml::DomainXml;

/// Why `vireo-xml` stops.
pub(super) enum Failure {
    /// The command line is wrong: exit 2, nothing written.
    Usage(String),
    /// libvirt or the input failed: exit 1.
    Runtime(String),
}

impl From<OptError> for Failure {
    fn from(e: OptError) -> Self {
        Failure::Usage(e.0)
    }
}

/// Where the XML comes from.
enum Input {
    Domain(String),
    File(String),
}

/// The parsed command line.
struct Plan {
    uri: Option<String>,
    input: Input,
    change: Option<(Action, XmlOption, String)>,
    print_xml: bool,
    print_diff: bool,
    define: bool,
    update: bool,
    quiet: bool,
}

pub(super) fn run(m: &ArgMatches) -> ExitCode {
    if let Some(code) = introspect(m) {
        return code;
    }
    let result = plan(m).and_then(|p| execute(&p));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("vireo-xml: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("vireo-xml: {msg}");
            ExitCode::from(1)
        }
    }
}

/// `--disk=?` or `--disk help`: lists the sub-options.
fn introspect(m: &ArgMatches) -> Option<ExitCode> {
    let mut shown = false;
    for option in XmlOption::ALL {
        let values: Vec<&String> = m
            .get_many::<String>(option.name())
            .into_iter()
            .flatten()
            .collect();
        if values
            .iter()
            .any(|v| v.as_str() == "?" || v.as_str() == "help")
        {
            let mut names = option.spec().names.to_vec();
            names.sort_unstable();
            let list: String = names.iter().map(|n| format!("  {n}\n")).collect();
            out(&format!("--{} options:\n{list}\n", option.name()));
            shown = true;
        }
    }
    shown.then_some(ExitCode::SUCCESS)
}

fn plan(m: &ArgMatches) -> Result<Plan, Failure> {
    let flag = |name: &str| m.get_flag(name);
    let input = match (m.get_one::<String>("domain"), m.get_one::<String>("file")) {
        (Some(d), _) => Input::Domain(d.clone()),
        (None, Some(f)) => Input::File(f.clone()),
        (None, None) if !std::io::stdin().is_terminal() => Input::File("-".into()),
        (None, None) => {
            return Err(Failure::Usage(gettext(
                "A domain must be specified (its name, UUID or id), or --file PATH",
            )))
        }
    };
    let mut given: Vec<(XmlOption, Vec<String>)> = Vec::new();
    for option in XmlOption::ALL {
        if let Some(values) = m.get_many::<String>(option.name()) {
            given.push((option, values.cloned().collect()));
        }
    }
    if given.len() > 1 {
        let names: Vec<String> = given
            .iter()
            .map(|(o, _)| format!("--{}", o.name()))
            .collect();
        return Err(Failure::Usage(gettext_f(
            "Only one change operation may be specified (conflicting options {names})",
            &[("names", &names.join(", "))],
        )));
    }
    let mut actions = Vec::new();
    if let Some(e) = m.get_one::<String>("edit") {
        actions.push(Action::Edit(e.clone()));
    }
    if flag("add-device") {
        actions.push(Action::Add);
    }
    if flag("remove-device") {
        actions.push(Action::Remove);
    }
    if actions.len() > 1 {
        return Err(Failure::Usage(gettext(
            "Conflicting options: give one of --edit, --add-device, --remove-device",
        )));
    }
    let change = match (actions.pop(), given.pop()) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(Failure::Usage(gettext(
                "No change specified: add an option such as --disk or --memory",
            )))
        }
        (None, Some(_)) => {
            return Err(Failure::Usage(gettext(
                "One of --edit, --add-device, --remove-device must be specified",
            )))
        }
        (Some(action), Some((option, values))) => {
            if values.len() > 1 {
                return Err(Failure::Usage(gettext_f(
                    "--{option} may be given once per invocation",
                    &[("option", option.name())],
                )));
            }
            check_action(&action, option)?;
            Some((action, option, values[0].clone()))
        }
    };
    let file_input = matches!(input, Input::File(_));
    let (mut print_xml, print_diff) = (flag("print-xml"), flag("print-diff"));
    let update = flag("update");
    if update && file_input {
        return Err(Failure::Usage(gettext(
            "Can't use --update with XML from a file",
        )));
    }
    if update
        && change
            .as_ref()
            .is_some_and(|(_, o, _)| o.device_kind().is_none())
    {
        let option = change.as_ref().map_or("", |(_, o, _)| o.name());
        return Err(Failure::Usage(gettext_f(
            "Don't know how to --update for --{option}: only devices change live",
            &[("option", option)],
        )));
    }
    // virt-xml's defaults: a VM's change is defined unless only printed; XML from a
    // file is printed unless --define says to define it.
    let mut define = flag("define");
    if !print_xml && !print_diff {
        if file_input {
            print_xml = !define;
        } else {
            define = !flag("no-define");
        }
    }
    if change.is_none() && !print_xml && !print_diff {
        return Err(Failure::Usage(gettext(
            "Nothing to do: give --edit, --add-device or --remove-device with an option such as --disk, or --print-xml",
        )));
    }
    Ok(Plan {
        uri: m.get_one::<String>("connect").cloned(),
        input,
        change,
        print_xml,
        print_diff,
        define,
        update,
        quiet: flag("quiet"),
    })
}

fn check_action(action: &Action, option: XmlOption) -> Result<(), Failure> {
    let device = option.device_kind().is_some();
    match action {
        Action::Edit(sel) if !device && !matches!(sel.as_str(), "" | "1" | "all") => {
            Err(Failure::Usage(gettext_f(
                "'--edit {value}' doesn't make sense with --{option}, just use empty '--edit'",
                &[("value", sel), ("option", option.name())],
            )))
        }
        Action::Add | Action::Remove if !device => Err(Failure::Usage(gettext_f(
            "Cannot use --{action} with --{option}: it is not a device",
            &[
                (
                    "action",
                    if *action == Action::Add {
                        "add-device"
                    } else {
                        "remove-device"
                    },
                ),
                ("option", option.name()),
            ],
        ))),
        _ => Ok(()),
    }
}

/// Writes to standard output; a reader that went away (`| head`) is not an error.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}

fn say(plan: &Plan, text: &str) {
    if !plan.quiet {
        out(&format!("{text}\n"));
    }
}

fn warn(plan: &Plan, text: &str) {
    if !plan.quiet {
        eprintln!("vireo-xml: {text}");
    }
}

fn read_file(path: &str) -> Result<String, Failure> {
    let mut text = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    res.map_err(|e| {
        Failure::Runtime(gettext_f(
            "Cannot read {path}: {error}",
            &[("path", path), ("error", &e.to_string())],
        ))
    })?;
    Ok(text)
}

fn bad_xml(source: &str, e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(gettext_f(
        "{source} is not a domain's XML: {error}",
        &[("source", source), ("error", &e.to_string())],
    ))
}

fn libvirt(e: crate::virt::VirtError) -> Failure {
    Failure::Runtime(e.to_string())
}

fn execute(plan: &Plan) -> Result<(), Failure> {
    let needs_libvirt = matches!(plan.input, Input::Domain(_)) || plan.define;
    let conn = if needs_libvirt {
        apply::run_event_loop_thread().map_err(libvirt)?;
        let uri = plan.uri.as_deref().unwrap_or("");
        let c = session::open(uri).map_err(|e| {
            Failure::Runtime(gettext_f(
                "Could not connect to {uri}: {error}",
                &[
                    (
                        "uri",
                        plan.uri.as_deref().unwrap_or("libvirt's default URI"),
                    ),
                    ("error", &e.to_string()),
                ],
            ))
        })?;
        Some(c)
    } else {
        None
    };
    let conn_ref = || conn.as_ref().expect("connected").get();
    let (handle, mut dom) = match &plan.input {
        Input::Domain(name) => {
            let h = apply::lookup(conn_ref(), name).map_err(|e| {
                Failure::Runtime(gettext_f(
                    "Could not find domain '{name}': {error}",
                    &[("name", name), ("error", &e.to_string())],
                ))
            })?;
            let text = h.xml(Definition::Persistent).map_err(libvirt)?;
            let dom = DomainXml::parse(text).map_err(|e| bad_xml(name, e))?;
            (Some(h), dom)
        }
        Input::File(path) => {
            let text = read_file(path)?;
            let label = if path == "-" {
                gettext("standard input")
            } else {
                path.clone()
            };
            (
                None,
                DomainXml::parse(text).map_err(|e| bad_xml(&label, e))?,
            )
        }
    };
    let running = match &handle {
        Some(h) => h.is_active().map_err(libvirt)?,
        None => false,
    };
    let applied = match &plan.change {
        Some((action, option, text)) => Some(apply_change(&mut dom, action, *option, text)?),
        None => None,
    };
    // Live first, as virt-xml: if the running VM refuses, nothing is defined.
    let mut updated = false;
    if plan.update {
        match (&handle, running) {
            (Some(h), true) => {
                let (action, option, text) = plan.change.as_ref().expect("checked in plan");
                update_live(
                    plan,
                    h,
                    &dom,
                    applied.as_ref().expect("a change"),
                    action,
                    *option,
                    text,
                )?;
                updated = true;
            }
            _ => warn(
                plan,
                &gettext("The VM is not running, --update is inapplicable."),
            ),
        }
    }
    print_outputs(plan, &dom);
    if plan.change.is_some() && !dom.is_changed() {
        warn(
            plan,
            &gettext("No XML diff was generated. The requested changes will have no effect."),
        );
        return Ok(());
    }
    if !plan.define || !dom.is_changed() {
        return Ok(());
    }
    define(plan, conn_ref(), handle.as_ref(), &dom, running && !updated)
}

fn print_outputs(plan: &Plan, dom: &DomainXml) {
    if plan.print_diff {
        out(&dom.diff());
    } else if plan.print_xml {
        out(dom.text());
    }
}

/// Applies the change to the running VM through libvirt's device calls.
fn update_live(
    plan: &Plan,
    h: &DomainHandle,
    persistent: &DomainXml,
    applied: &Applied,
    action: &Action,
    option: XmlOption,
    text: &str,
) -> Result<(), Failure> {
    let mut live = h.document(Definition::Live).map_err(libvirt)?;
    // `template` is already translated; it names libvirt's message `{error}`.
    let failed = |template: String| {
        move |e: crate::virt::VirtError| {
            Failure::Runtime(template.replace("{error}", &e.to_string()))
        }
    };
    match applied {
        Applied::Added(key) => {
            // The device exactly as it goes into the persistent XML (same MAC, target).
            let xml = persistent
                .device_xml(key)
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            h.attach_device(&xml, Affect::LIVE)
                .map_err(failed(gettext("Error attempting device hotplug: {error}")))?;
            say(plan, &gettext("Device hotplug successful."));
        }
        Applied::Edited => {
            let Action::Edit(sel) = action else {
                unreachable!()
            };
            let keys = select(&live, option, "edit", sel)?;
            for key in keys {
                let el = live
                    .resolve(&key)
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                devices::edit(&mut live, option, &key, text)?;
                let key = live.key_of(el).expect("still a device");
                let xml = live
                    .device_xml(&key)
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                h.update_device(&xml, Affect::LIVE)
                    .map_err(failed(gettext("Error attempting device update: {error}")))?;
                say(plan, &gettext("Device update successful."));
            }
        }
        Applied::Removed => {
            let keys = select(&live, option, "remove-device", text)?;
            for key in keys {
                let xml = live
                    .device_xml(&key)
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                h.detach_device(&xml, Affect::LIVE).map_err(failed(gettext(
                    "Error attempting device hotunplug: {error}",
                )))?;
                say(plan, &gettext("Device hotunplug successful."));
            }
        }
        Applied::Domain => {}
    }
    Ok(())
}

fn define(
    plan: &Plan,
    conn: &virt::connect::Connect,
    handle: Option<&DomainHandle>,
    dom: &DomainXml,
    pending: bool,
) -> Result<(), Failure> {
    let name = dom.name().unwrap_or_default().to_owned();
    let before = handle.and_then(|h| h.xml(Definition::Persistent).ok());
    if let Some(h) = handle {
        // libvirt refuses to define a known domain under another name: rename it first.
        if h.name().map_err(libvirt)? != name {
            h.rename(&name).map_err(|e| {
                Failure::Runtime(gettext_f(
                    "Could not rename the domain: {error}",
                    &[("error", &e.to_string())],
                ))
            })?;
        }
    }
    let defined = apply::define(conn, dom).map_err(|e| {
        Failure::Runtime(gettext_f(
            "libvirt refused the changed XML: {error}",
            &[("error", &e.to_string())],
        ))
    })?;
    say(
        plan,
        &gettext_f("Domain '{name}' defined successfully.", &[("name", &name)]),
    );
    if pending {
        say(
            plan,
            &gettext("Changes will take effect after the domain is fully powered off."),
        );
    } else if before.is_some() && defined.xml(Definition::Persistent).ok() == before {
        warn(
            plan,
            &gettext("XML did not change after domain define. You may have changed a value that libvirt is setting by default."),
        );
    }
    Ok(())
}
