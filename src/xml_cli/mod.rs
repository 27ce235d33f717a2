//! `vireo-xml`: virt-xml's command line on Vireo's document layer.
//!
//! ```text
//! vireo-xml [--connect URI] DOMAIN | --file PATH
//!           --edit [N|all|OPTIONS] | --add-device | --remove-device
//!           --disk OPTS | --network OPTS | --graphics OPTS | --boot OPTS
//!           | --metadata OPTS | --memory OPTS | --vcpus OPTS
//!           [--print-xml] [--print-diff] [--define | --no-define] [--update]
//! ```
//!
//! The options take virt-xml's option strings (see [`OptString`]); what they change is
//! changed in place, everything else in the XML stays byte for byte. Exit status: 0
//! done, 1 libvirt or the input failed, 2 the command line is wrong (nothing was
//! written).

mod change;
mod devices;
mod options;
mod optstr;
mod run;
mod session;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use gettextrs::gettext;

pub use options::XmlOption;
pub use optstr::{OptError, OptString};

/// The command line definition (built at run time so that its help is translated).
pub fn command() -> Command {
    let mut cmd = Command::new("vireo-xml")
        .version(crate::config::VERSION)
        .about(gettext(
            "Edit a virtual machine's libvirt XML with virt-xml's options, changing nothing else in it",
        ))
        .allow_negative_numbers(true)
        .arg(
            Arg::new("connect")
                .short('c')
                .long("connect")
                .value_name("URI")
                .help(gettext("Connect to this libvirt URI")),
        )
        .arg(
            Arg::new("domain")
                .value_name("DOMAIN")
                .help(gettext("The virtual machine: name, UUID or id")),
        )
        .arg(
            Arg::new("file")
                .long("file")
                .value_name("PATH")
                .conflicts_with("domain")
                .help(gettext("Read the XML from a file instead (- for standard input)")),
        )
        .arg(
            Arg::new("edit")
                .long("edit")
                .num_args(0..=1)
                .default_missing_value("")
                .value_name("N|all|OPTIONS")
                .help(gettext(
                    "Edit the first device (N: the Nth, all: every one, OPTIONS: those that match)",
                )),
        )
        .arg(
            Arg::new("add-device")
                .long("add-device")
                .action(ArgAction::SetTrue)
                .help(gettext("Add the device the XML option describes")),
        )
        .arg(
            Arg::new("remove-device")
                .long("remove-device")
                .action(ArgAction::SetTrue)
                .help(gettext("Remove the devices the XML option selects (N, all or OPTIONS)")),
        );
    for option in XmlOption::ALL {
        cmd = cmd.arg(
            Arg::new(option.name())
                .long(option.name())
                .value_name("OPTIONS")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help(options_help(option)),
        );
    }
    cmd.arg(
        Arg::new("update")
            .long("update")
            .action(ArgAction::SetTrue)
            .help(gettext(
                "Apply the change to the running VM too (hot-plug, update, unplug)",
            )),
    )
    .arg(
        Arg::new("define")
            .long("define")
            .action(ArgAction::SetTrue)
            .help(gettext(
                "Define the changed XML (the default for a VM unless printing)",
            )),
    )
    .arg(
        Arg::new("no-define")
            .long("no-define")
            .action(ArgAction::SetTrue)
            .conflicts_with("define")
            .help(gettext("Do not define the changed XML")),
    )
    .arg(
        Arg::new("print-xml")
            .long("print-xml")
            .action(ArgAction::SetTrue)
            .help(gettext("Print the whole changed XML")),
    )
    .arg(
        Arg::new("print-diff")
            .long("print-diff")
            .action(ArgAction::SetTrue)
            .help(gettext("Print the change as a unified diff")),
    )
    .arg(
        Arg::new("quiet")
            .short('q')
            .long("quiet")
            .action(ArgAction::SetTrue)
            .help(gettext("Print only errors")),
    )
    .after_help(gettext(
        "Use --OPTION=? (for example --disk=?) to list an option's sub-options.",
    ))
}

fn options_help(option: XmlOption) -> String {
    match option {
        XmlOption::Disk => {
            gettext("Disk, CD-ROM or floppy: PATH,bus=,target=,cache=,readonly=on,...")
        }
        XmlOption::Network => {
            gettext("Network card: default, bridge=BR, type=direct,source=DEV, model=, mac=,...")
        }
        XmlOption::Graphics => gettext("Display: vnc or spice, listen=, port=, password=,..."),
        XmlOption::Boot => gettext("Boot: hd,cdrom,network in order, menu=on, firmware=efi,..."),
        XmlOption::Metadata => gettext("name=, title=, description="),
        XmlOption::Memory => {
            gettext("Memory in MiB: SIZE (current), maxmemory=, currentMemory=,...")
        }
        XmlOption::Vcpus => gettext("vCPUs: COUNT, maxvcpus=, sockets=, cores=, threads=,..."),
    }
}

/// Runs `vireo-xml` with `args` (the program name first).
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches: ArgMatches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    run::run(&matches)
}
