//! The one change of an invocation: which devices a selector picks, and the change
//! applied to a document (the persistent one, and the live one for `--update`).

use super::devices;
use super::options::{self, XmlOption};
use super::run::Failure;
use crate::i18n::{gettext_f, ngettext_f};
use crate::virt::domain_xml::{DeviceKey, DomainXml};

/// The one action of an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    Edit(String),
    Add,
    Remove,
}

/// What a change did, for the live update that follows it.
pub(super) enum Applied {
    /// Devices edited.
    Edited,
    /// The device added.
    Added(DeviceKey),
    /// Devices removed.
    Removed,
    /// The domain as a whole changed.
    Domain,
}

/// The devices a selector picks: empty or `1` the first, `N` the Nth (negative from
/// the end), `all`, or an option string they must match.
pub(super) fn select(
    dom: &DomainXml,
    option: XmlOption,
    action: &str,
    sel: &str,
) -> Result<Vec<DeviceKey>, Failure> {
    let kind = option.device_kind().expect("a device option");
    let keys: Vec<DeviceKey> = dom
        .devices()
        .into_iter()
        .filter(|k| k.kind == kind)
        .collect();
    let index = if sel.is_empty() {
        Some(1)
    } else {
        sel.parse::<i64>().ok()
    };
    if let Some(i) = index {
        if i == 0 {
            return Err(Failure::Usage(gettext_f(
                "Invalid --{action} option '{value}'",
                &[("action", action), ("value", sel)],
            )));
        }
        if keys.is_empty() {
            return Err(Failure::Usage(gettext_f(
                "No --{option} objects found in the XML",
                &[("option", option.name())],
            )));
        }
        if i.unsigned_abs() as usize > keys.len() {
            return Err(Failure::Usage(ngettext_f(
                "'--{action} {value}' requested but there's only {count} --{option} object in the XML",
                "'--{action} {value}' requested but there are only {count} --{option} objects in the XML",
                keys.len() as u32,
                &[
                    ("action", action),
                    ("value", sel),
                    ("count", &keys.len().to_string()),
                    ("option", option.name()),
                ],
            )));
        }
        let at = if i > 0 {
            i as usize - 1
        } else {
            keys.len() - i.unsigned_abs() as usize
        };
        return Ok(vec![keys[at].clone()]);
    }
    if sel == "all" {
        return Ok(keys);
    }
    let mut picked = Vec::new();
    for k in keys {
        if devices::matches(dom, option, &k, sel)? {
            picked.push(k);
        }
    }
    if picked.is_empty() {
        return Err(Failure::Usage(gettext_f(
            "No matching objects found for --{action} {value}",
            &[("action", action), ("value", sel)],
        )));
    }
    Ok(picked)
}

/// Applies the change to `dom`.
pub(super) fn apply_change(
    dom: &mut DomainXml,
    action: &Action,
    option: XmlOption,
    text: &str,
) -> Result<Applied, Failure> {
    if option.device_kind().is_none() {
        let opts = option.parse(text)?;
        match option {
            XmlOption::Memory => options::apply_memory(dom, opts)?,
            XmlOption::Vcpus => options::apply_vcpus(dom, opts)?,
            XmlOption::Metadata => options::apply_metadata(dom, opts)?,
            XmlOption::Boot => options::apply_boot(dom, opts)?,
            _ => unreachable!("device options are handled below"),
        }
        return Ok(Applied::Domain);
    }
    match action {
        Action::Edit(sel) => {
            for key in select(dom, option, "edit", sel)? {
                devices::edit(dom, option, &key, text)?;
            }
            Ok(Applied::Edited)
        }
        Action::Add => Ok(Applied::Added(devices::add(dom, option, text)?)),
        Action::Remove => {
            let keys = select(dom, option, "remove-device", text)?;
            // Resolve all first: removing one shifts the positions of the others.
            let els: Vec<_> = keys
                .iter()
                .map(|k| dom.resolve(k))
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::Usage(e.to_string()))?;
            for el in els {
                if let Some(key) = dom.key_of(el) {
                    dom.remove_device(&key)
                        .map_err(|e| Failure::Usage(e.to_string()))?;
                }
            }
            Ok(Applied::Removed)
        }
    }
}
