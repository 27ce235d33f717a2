//! `vireo-xml`: edit a libvirt domain's XML from the command line with virt-xml's
//! options, on Vireo's lossless document layer. See [`vireo::xml_cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    vireo::i18n::init();
    // libvirt would print its errors itself; vireo-xml prints them once, in context.
    virt::error::clear_error_callback();
    vireo::xml_cli::main_with(std::env::args_os())
}
