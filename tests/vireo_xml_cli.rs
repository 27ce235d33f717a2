//! `vireo-xml` as a person runs it: the built binary on files, on standard input and on
//! libvirt's test driver (`test:///default`), with its exit codes and messages.
//! (Defining for good and hot-plugging into a running VM: `tests/vireo_xml_live.rs`.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vireo-xml"));
    // Messages are checked in English.
    c.env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .env_remove("LIBVIRT_DEFAULT_URI");
    c
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Runs vireo-xml with `args` and `stdin` (none: an empty, non-terminal input).
fn run_with(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vireo-xml starts");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn run(args: &[&str]) -> Output {
    run_with(args, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

const MANY: &str = "virt-manager/compare/virt-install-many-devices.xml";
const CRLF: &str = "domain_xml/nasty-crlf-tabs.xml";

#[test]
fn print_xml_without_a_change_prints_the_document_exactly() {
    for rel in [MANY, CRLF, "domain_xml/nasty-self-closing.xml"] {
        let path = data(rel);
        let o = run(&["--file", path.to_str().unwrap(), "--print-xml"]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, std::fs::read(&path).unwrap(), "{rel}");
        // A file's XML is printed by default, as virt-xml prints XML from stdin.
        let o = run(&[
            "--file",
            path.to_str().unwrap(),
            "--edit",
            "--memory",
            "512",
        ]);
        assert_code(&o, 0);
        assert!(stdout(&o).contains("524288"), "{rel}");
    }
}

#[test]
fn standard_input_is_read_when_there_is_no_domain() {
    let text = std::fs::read_to_string(data(CRLF)).unwrap();
    let o = run_with(&["--edit", "--metadata", "title=From stdin"], Some(&text));
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("\t<title>From stdin</title>\r\n"), "{out}");
    assert_eq!(out.replace("\t<title>From stdin</title>\r\n", ""), text);
    let o = run_with(
        &["--file", "-", "--print-diff", "--edit", "--vcpus", "4"],
        Some(&text),
    );
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("+\t<vcpu placement='static'>4</vcpu>\r\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn print_diff_shows_only_what_changed() {
    let path = data(MANY);
    let p = path.to_str().unwrap();
    let o = run(&[
        "--file",
        p,
        "--edit",
        "target=vdb",
        "--disk",
        "cache=none,readonly=off",
        "--print-diff",
    ]);
    assert_code(&o, 0);
    let diff = stdout(&o);
    assert!(
        diff.starts_with("--- Original XML\n+++ Altered XML\n@@ "),
        "{diff}"
    );
    let changed: Vec<&str> = diff
        .lines()
        .skip(2)
        .filter(|l| l.starts_with(['-', '+']))
        .collect();
    assert_eq!(
        changed,
        vec![
            "-      <driver name=\"qemu\" type=\"qcow2\" detect_zeroes=\"unmap\" error_policy=\"enospace\"/>",
            "+      <driver name=\"qemu\" type=\"qcow2\" detect_zeroes=\"unmap\" error_policy=\"enospace\" cache=\"none\"/>",
            "-      <readonly/>",
        ]
    );
    // Selectors: by index from the end, by path, every device.
    let o = run(&[
        "--file",
        p,
        "--edit",
        "-1",
        "--network",
        "model=e1000e",
        "--print-diff",
    ]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o)
            .matches("+      <model type=\"e1000e\"/>")
            .count(),
        1
    );
    let o = run(&[
        "--file",
        p,
        "--remove-device",
        "--disk",
        "/pool-dir/new1.img",
        "--print-diff",
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("-      <source file=\"/pool-dir/new1.img\"/>"));
    let o = run(&[
        "--file",
        p,
        "--edit",
        "all",
        "--disk",
        "discard=unmap",
        "--print-diff",
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).matches("discard=\"unmap\"").count() > 10);
}

#[test]
fn each_option_does_what_virt_xml_does() {
    let path = data(CRLF);
    let p = path.to_str().unwrap();
    let diff = |args: &[&str]| {
        let mut all = vec!["--file", p, "--print-diff"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_code(&o, 0);
        stdout(&o)
    };
    // --memory N sets the current allocation (virt-xml's meaning); maxmemory= <memory>.
    let d = diff(&["--edit", "--memory", "1024,maxmemory=4096"]);
    assert!(
        d.contains("+\t<memory unit='GiB'>4</memory>\r\n")
            && d.contains("+\t<currentMemory unit='GiB'>1</currentMemory>\r\n"),
        "{d}"
    );
    let d = diff(&["--edit", "--vcpus", "8,maxvcpus=16"]);
    assert!(
        d.contains("+\t<vcpu placement='static' current='8'>16</vcpu>\r\n"),
        "{d}"
    );
    let d = diff(&["--edit", "--vcpus", "sockets=1,cores=2,threads=2"]);
    assert!(
        d.contains("<topology sockets='1' cores='2' threads='2'/>") && d.contains(">4</vcpu>"),
        "{d}"
    );
    let d = diff(&["--edit", "--boot", "network,hd,menu=on"]);
    assert!(d.contains("+\t\t<boot dev='network'/>\r\n \t\t<boot dev='hd'/>\r\n+\t\t<bootmenu enable='yes'/>\r\n"), "{d}");
    let d = diff(&[
        "--edit",
        "--metadata",
        "title=Build box,description=\"One, two\"",
    ]);
    assert!(
        d.contains("+\t<title>Build box</title>\r\n") && d.contains("One, two</description>"),
        "{d}"
    );
    let d = diff(&[
        "--add-device",
        "--network",
        "bridge=br0,mac=52:54:00:01:02:03",
    ]);
    assert!(d.contains("+\t\t<interface type='bridge'>\r\n+\t\t\t<mac address='52:54:00:01:02:03'/>\r\n+\t\t\t<source bridge='br0'/>\r\n+\t\t\t<model type='virtio'/>\r\n+\t\t</interface>\r\n"), "{d}");
    let d = diff(&[
        "--add-device",
        "--disk",
        "/var/lib/libvirt/images/new.qcow2,format=qcow2,boot.order=1",
    ]);
    assert!(
        d.contains("<target dev='vdb' bus='virtio'/>")
            && d.contains("<boot order='1'/>")
            && d.contains("-\t\t<boot dev='hd'/>"),
        "{d}"
    );
    let d = diff(&["--edit", "device=cdrom", "--disk", "path="]);
    assert!(
        d.contains("-\t\t\t<source file='/isos/debian&#45;12.iso'/>\r\n"),
        "{d}"
    );
    let d = diff(&["--edit", "--graphics", "listen=none"]);
    assert!(
        d.contains("<listen type='none'/>") && !d.contains("+\t\t<graphics type='vnc' port"),
        "{d}"
    );
    let d = diff(&[
        "--edit",
        "mac=52:54:00:AA:BB:CC",
        "--network",
        "link.state=down",
    ]);
    assert!(d.contains("+\t\t\t<link state='down'/>\r\n"), "{d}");
    let d = diff(&["--remove-device", "--network", "all"]);
    assert_eq!(d.matches("-\t\t<interface").count(), 1, "{d}");
}

#[test]
fn bad_options_say_why_exit_2_and_write_nothing() {
    let path = data(CRLF);
    let p = path.to_str().unwrap();
    let before = std::fs::read(&path).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--edit", "--memory", "512,bogus=1"],
            "Unknown --memory options: bogus",
        ),
        (&["--edit", "--memory", "lots"], "is not a size"),
        (
            &["--edit", "--memory", "512", "--vcpus", "2"],
            "Only one change operation may be specified",
        ),
        (
            &["--memory", "512"],
            "One of --edit, --add-device, --remove-device must be specified",
        ),
        (
            &["--edit", "--add-device", "--disk", "/a"],
            "Conflicting options",
        ),
        (&["--edit"], "No change specified"),
        (
            &["--edit", "0", "--disk", "cache=none"],
            "Invalid --edit option '0'",
        ),
        (
            &["--edit", "5", "--disk", "cache=none"],
            "'--edit 5' requested but there are only 2 --disk objects",
        ),
        (
            &["--edit", "target=vvv", "--disk", "cache=none"],
            "No matching objects found for --edit target=vvv",
        ),
        (
            &["--edit", "2", "--memory", "512"],
            "'--edit 2' doesn't make sense with --memory",
        ),
        (
            &["--add-device", "--memory", "512"],
            "Cannot use --add-device with --memory",
        ),
        (
            &["--add-device", "--disk", "size=10"],
            "does not create storage",
        ),
        (&["--edit", "--network", "mac=zz"], "is not a MAC address"),
        (
            &["--edit", "--vcpus", "3,sockets=2,cores=1,threads=1"],
            "does not match the vCPU count 3",
        ),
        (&["--edit", "--metadata", "title=\"unclosed"], "unclosed"),
        (
            &["--edit", "--update", "--disk", "cache=none"],
            "Can't use --update",
        ),
        (
            &["--edit", "--no-define", "--define", "--disk", "cache=none"],
            "cannot be used with",
        ),
        (&["--frobnicate"], "unexpected argument"),
    ];
    for (args, message) in cases {
        let mut all = vec!["--file", p];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_code(&o, 2);
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed {}", stdout(&o));
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let o = run_with(&[], Some(""));
    assert_code(&o, 1);
}

#[test]
fn unreadable_input_is_an_error_of_its_own() {
    let o = run(&["--file", "/nonexistent/vm.xml", "--print-xml"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("Cannot read /nonexistent/vm.xml"),
        "{}",
        stderr(&o)
    );
    let o = run_with(
        &["--file", "-", "--print-xml"],
        Some("<domain><name>x</domain>"),
    );
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("not a domain's XML") && stderr(&o).contains("line 1"),
        "{}",
        stderr(&o)
    );
    let pool = data("virt-manager/xmlparse/pool-dir-vol-in.xml");
    let o = run(&["--file", pool.to_str().unwrap(), "--print-xml"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("not <domain>"), "{}", stderr(&o));
}

#[test]
fn sub_options_are_listed_like_virt_xml() {
    let o = run(&["--disk=?", "--network=?"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains("--disk options:\n") && out.contains("  target.bus\n"),
        "{out}"
    );
    assert!(
        out.contains("--network options:\n") && out.contains("  link.state\n"),
        "{out}"
    );
}

#[test]
fn test_driver_domain_edit_define_and_update() {
    let test = ["--connect", "test:///default", "test"];
    let with = |extra: &[&str]| {
        let mut all = test.to_vec();
        all.extend_from_slice(extra);
        run(&all)
    };
    // Reading libvirt's XML and printing the change.
    let o = with(&["--edit", "--vcpus", "1", "--print-diff"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains(
            "-  <vcpu placement='static'>2</vcpu>\n+  <vcpu placement='static'>1</vcpu>\n"
        ),
        "{}",
        stdout(&o)
    );
    // Without --print-*, the change is defined (the domain runs: it applies at boot).
    let o = with(&["--edit", "--metadata", "title=Edited by vireo-xml"]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "Domain 'test' defined successfully.\nChanges will take effect after the domain is fully powered off.\n"
    );
    // No change, no define.
    let o = with(&["--edit", "--vcpus", "2"]);
    assert_code(&o, 0);
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("No XML diff was generated"),
        "{}",
        stderr(&o)
    );
    // --update goes through libvirt's device calls; the test driver has none, so
    // libvirt's own message comes back and nothing is defined.
    let o = with(&["--edit", "--network", "link.state=down", "--update"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("Error attempting device update: this function is not supported by the connection driver"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("defined"));
    let o = with(&["--edit", "--memory", "512", "--update"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("Don't know how to --update for --memory"));
    // A domain that does not exist: libvirt's message, exit 1.
    let o = run(&[
        "--connect",
        "test:///default",
        "nosuchvm",
        "--edit",
        "--vcpus",
        "1",
    ]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("Could not find domain 'nosuchvm'"),
        "{}",
        stderr(&o)
    );
    // XML from a file is defined on the connection when --define says so.
    let o = run(&[
        "--connect",
        "test:///default",
        "--file",
        data("domain_xml/nasty-self-closing.xml").to_str().unwrap(),
        "--edit",
        "--vcpus",
        "2",
        "--define",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "Domain 'self-closing' defined successfully.\n");
    // And by UUID, as virt-xml looks domains up.
    let o = run(&[
        "-c",
        "test:///default",
        "6695eb01-f6a4-8304-79aa-97f2502e193f",
        "--print-xml",
    ]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("<name>test</name>"));
}
