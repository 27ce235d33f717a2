//! The words the wizard shows for each validation problem.

use gettextrs::gettext;

use crate::i18n::gettext_f;
use crate::model::new_vm::{Field, Problem};
use crate::ui::formatting::format_size;

/// The sentences for the problems of the fields `wanted` picks, one per line; `None`
/// when there are none.
pub fn problems_text(
    problems: &[(Field, Problem)],
    wanted: impl Fn(Field) -> bool,
) -> Option<String> {
    let lines: Vec<String> = problems
        .iter()
        .filter(|(field, _)| wanted(*field))
        .map(|(_, p)| problem_text(p))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The sentence shown next to the field.
pub fn problem_text(p: &Problem) -> String {
    match p {
        Problem::NameEmpty => gettext("Enter a name for the virtual machine"),
        // Only a leading "." or "-" is refused; elsewhere they are fine.
        Problem::NameInvalidChar(c @ ('.' | '-')) => gettext_f(
            "A name cannot start with “{char}”",
            &[("char", &c.to_string())],
        ),
        Problem::NameInvalidChar(c) => gettext_f(
            "A name cannot contain “{char}”",
            &[("char", &c.escape_default().to_string())],
        ),
        Problem::NameTooLong => gettext("Use at most 64 characters"),
        Problem::NameTaken => gettext("A virtual machine with this name already exists"),
        Problem::MemoryTooLow(min) => {
            gettext_f("Give at least {mib} MiB", &[("mib", &min.to_string())])
        }
        Problem::MemoryOverHost(host) => gettext_f(
            "The host has only {mib} MiB of memory",
            &[("mib", &host.to_string())],
        ),
        Problem::VcpusZero => gettext("Give at least one processor"),
        Problem::VcpusOverMax(max) => gettext_f(
            "This machine type allows at most {n} processors",
            &[("n", &max.to_string())],
        ),
        Problem::DiskTooSmall => gettext("The disk needs at least 1 GiB"),
        Problem::DiskOverPool(free) => gettext_f(
            "The pool has only {size} free",
            &[("size", &format_size(*free))],
        ),
        Problem::PathEmpty => gettext("Choose a file"),
        Problem::Unreadable(why) => {
            gettext_f("The file cannot be read: {reason}", &[("reason", why)])
        }
        Problem::UrlInvalid => gettext(
            "Enter an address starting with http:// (the tree’s kernel is fetched over plain HTTP)",
        ),
        Problem::CloudUserInvalid => {
            gettext("Use lower-case letters, digits, “_” and “-” for the user name")
        }
        Problem::CloudNoCredential => {
            gettext("Give a password or an SSH key, or nobody can log in")
        }
        Problem::SshKeyInvalid => gettext("This is not an SSH public key"),
        Problem::UefiUnavailable => gettext("The host has no UEFI firmware for this machine"),
        Problem::CloudNeedsVolume => {
            gettext("A cloud image needs a new volume in a pool for its changes")
        }
    }
}
