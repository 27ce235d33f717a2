//! The command line, in virt-manager's spirit.

use clap::{Arg, ArgAction, Command};
use gettextrs::gettext;

/// What the command line asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub connect: Option<String>,
    pub show_domain_console: Option<String>,
    pub show_domain_editor: Option<String>,
    pub show_domain_creator: bool,
    pub debug: bool,
}

/// The command line definition. Built at run time so that its help is translated:
/// clap's own words (the headings, `--help` and `--version`) are replaced by ours,
/// which go through gettext.
pub fn command() -> Command {
    let template = format!(
        "{{about-with-newline}}\n{usage} {{usage}}\n\n{{all-args}}{{after-help}}",
        usage = gettext("Usage:")
    );
    Command::new("vireo")
        .version(crate::config::VERSION)
        .about(gettext("Manage virtual machines on local and remote libvirt hosts"))
        .help_template(template)
        .override_usage(gettext("vireo [OPTIONS]"))
        .next_help_heading(gettext("Options"))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("connect")
                .short('c')
                .long("connect")
                .value_name("URI")
                .value_parser(parse_uri)
                .help(gettext(
                    "Connect to this libvirt URI, for example qemu:///system or qemu+ssh://user@host/system",
                )),
        )
        .arg(
            Arg::new("show-domain-console")
                .long("show-domain-console")
                .value_name(gettext("NAME"))
                .help(gettext("Open the console of the named virtual machine")),
        )
        .arg(
            Arg::new("show-domain-editor")
                .long("show-domain-editor")
                .value_name(gettext("NAME"))
                .help(gettext("Open the details of the named virtual machine")),
        )
        .arg(
            Arg::new("show-domain-creator")
                .long("show-domain-creator")
                .action(ArgAction::SetTrue)
                .help(gettext("Open the New Virtual Machine assistant")),
        )
        .arg(
            Arg::new("debug")
                .long("debug")
                .action(ArgAction::SetTrue)
                .help(gettext("Print debug messages")),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(gettext("Print help")),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(gettext("Print version")),
        )
}

impl Options {
    /// Parses the arguments; on bad input returns clap's error, whose exit code is 2.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = command().try_get_matches_from(args)?;
        Ok(Self {
            connect: matches.get_one::<String>("connect").cloned(),
            show_domain_console: matches.get_one::<String>("show-domain-console").cloned(),
            show_domain_editor: matches.get_one::<String>("show-domain-editor").cloned(),
            show_domain_creator: matches.get_flag("show-domain-creator"),
            debug: matches.get_flag("debug"),
        })
    }
}

/// Checks the shape of a libvirt URI (`scheme:` then something, no spaces). Whether the
/// driver exists is libvirt's to say when the connection opens.
pub fn parse_uri(text: &str) -> Result<String, String> {
    let (scheme, rest) = text
        .split_once(':')
        .ok_or_else(|| gettext("a libvirt URI starts with a scheme, as in qemu:///system"))?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(gettext("“{}” is not a valid URI scheme").replace("{}", scheme));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(gettext("a URI cannot contain spaces"));
    }
    if rest.is_empty() {
        return Err(gettext("the URI has nothing after its scheme"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_libvirt_uris() {
        for uri in [
            "qemu:///system",
            "qemu+ssh://root@host.example:2222/system?keyfile=/k",
            "test:///default",
            "nope://",
        ] {
            assert_eq!(parse_uri(uri).as_deref(), Ok(uri));
        }
    }

    #[test]
    fn rejects_malformed_uris() {
        for uri in [
            "",
            "system",
            "1qemu:///x",
            "qe mu:///system",
            "qemu:",
            "qemu:/// system",
        ] {
            assert!(parse_uri(uri).is_err(), "{uri} should be rejected");
        }
    }

    #[test]
    fn parses_every_flag() {
        let opts = Options::try_parse_from([
            "vireo",
            "--connect",
            "test:///default",
            "--show-domain-console",
            "test",
            "--debug",
        ])
        .unwrap();
        assert_eq!(opts.connect.as_deref(), Some("test:///default"));
        assert_eq!(opts.show_domain_console.as_deref(), Some("test"));
        assert!(opts.debug);
        let err = Options::try_parse_from(["vireo", "--bogus"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
