//! SSH channels to a remote libvirt host (`vireo::virt::ssh`), against the test bed's
//! remote host (`tests/testbed/remote-host.sh`: its own namespaces, sshd, libvirtd):
//!
//! - the guest's VNC server on the remote host's loopback, reached through `ssh -W`,
//!   and one on a unix socket there, through a stream-local forward: a real RFB
//!   handshake and a frame that shows the guest's VGA bands;
//! - failures with the right error and ssh's words: unknown and changed host keys,
//!   refused logins, refused connections, an unreachable host, a refused display;
//! - questions through the askpass helper (`vireo-askpass`): key passphrase, password,
//!   unknown host key (accepted and refused), cancel; and libvirt's own ssh transport
//!   (virsh over qemu+ssh) asking for a password through the same helper;
//! - the network cut under an open channel: how long until ssh gives up.
//!
//! Run: `isolate.sh cargo test --test ssh_tunnel` (as root; plain `cargo test --test
//! ssh_tunnel` in CI). Needs sshd, QEMU and libvirtd; skipped with one loud line where
//! they are missing, except in CI (`CI=true`).

mod kit;

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use kit::remote_host::RemoteHost;
use kit::rfb;
use kit::testbed::{self, virsh, Boot, Guest, Need, VGA_PIXELS};
use kit::{test, wait_until, Runner};
use vireo::virt::ssh::{
    Askpass, AskpassAnswer, AskpassQuestion, Endpoint, SshError, SshTarget, SshTunnel,
    TunnelOptions,
};

/// The host of every test here, started by the first; stopped by the runner's cleanup
/// hooks when the suite ends.
static HOST: OnceLock<RemoteHost> = OnceLock::new();

fn with_host<R>(f: impl FnOnce(&RemoteHost) -> R) -> R {
    f(HOST.get_or_init(|| {
        let host = RemoteHost::up("tunnel");
        println!("  remote host up in {:.2} s at {}", host.up_secs, host.addr);
        host
    }))
}

fn tcp(host: &str, port: u16) -> Endpoint {
    Endpoint::Tcp {
        host: host.into(),
        port,
    }
}

/// Opens a tunnel from `uri` to `endpoint` in batch mode.
fn open(uri: &str, endpoint: &Endpoint) -> Result<SshTunnel, SshError> {
    open_with(uri, endpoint, TunnelOptions::default())
}

fn open_with(
    uri: &str,
    endpoint: &Endpoint,
    options: TunnelOptions,
) -> Result<SshTunnel, SshError> {
    SshTunnel::open(&SshTarget::from_uri(uri)?, endpoint, &options)
}

/// The first bytes the far end says (sshd's banner, a VNC server's version).
fn greeting(tunnel: SshTunnel) -> String {
    let mut stream = UnixStream::from(tunnel.socket);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).expect("the far end speaks");
    String::from_utf8_lossy(&buf).into_owned()
}

/// The sshd of the host, seen from inside it: a server that speaks first, so a
/// tunnel can be checked without a guest.
fn sshd_endpoint(host: &RemoteHost) -> Endpoint {
    tcp(&host.addr, 22)
}

/// An askpass handler that answers from `answers` in order and records the questions.
type Asked = Arc<Mutex<Vec<AskpassQuestion>>>;
fn askpass(answers: Vec<AskpassAnswer>) -> (TunnelOptions, Asked) {
    let asked: Asked = Arc::default();
    let record = asked.clone();
    let answers = Mutex::new(answers.into_iter());
    let options = TunnelOptions {
        askpass: Some(Askpass {
            helper: PathBuf::from(env!("CARGO_BIN_EXE_vireo-askpass")),
            handler: Arc::new(move |q: &AskpassQuestion| {
                record.lock().unwrap().push(q.clone());
                answers
                    .lock()
                    .unwrap()
                    .next()
                    .unwrap_or(AskpassAnswer::Cancel)
            }),
        }),
        ..TunnelOptions::default()
    };
    (options, asked)
}

// ---------------------------------------------------------------------------------
fn failures_say_why() {
    with_host(|h| {
        // A display nobody listens on: the host refuses the channel, after the login.
        let t = Instant::now();
        let e = open(&h.uri, &tcp("127.0.0.1", 1)).unwrap_err();
        println!(
            "  refused display: {e} ({:.2} s)",
            t.elapsed().as_secs_f64()
        );
        assert!(
            matches!(&e, SshError::ForwardFailed { endpoint, reason, .. }
                if endpoint == "127.0.0.1:1" && reason == "connect failed: Connection refused"),
            "{e:?}"
        );
        assert!(e.ssh_message().contains("open failed"), "{e:?}");

        // The host key is not known: batch mode refuses, and says which key it saw.
        let _ = std::fs::write(&h.known_hosts_unknown, "");
        let e = open(
            &h.uri_for("root", &h.ssh_unknown, &h.key),
            &sshd_endpoint(h),
        )
        .unwrap_err();
        println!("  unknown host key: {e}: {}", e.ssh_message());
        match &e {
            SshError::HostKeyUnknown { host, key, .. } => {
                assert_eq!(host, &h.addr);
                assert_eq!(key, &Some(("ED25519".into(), h.host_key_fp.clone())));
            }
            other => panic!("{other:?}"),
        }

        // A known_hosts that has another key for this address.
        let changed = testbed::target_dir().join("tmp/ssh-tunnel-changed-known-hosts");
        let other_key = std::fs::read_to_string(h.key.with_extension("pub")).unwrap();
        let other_key: Vec<&str> = other_key.split_whitespace().take(2).collect();
        std::fs::write(&changed, format!("{} {}\n", h.addr, other_key.join(" "))).unwrap();
        let uri = format!(
            "qemu+libssh://root@{}/system?known_hosts={}&keyfile={}",
            h.addr,
            changed.display(),
            h.key.display()
        );
        let e = open(&uri, &sshd_endpoint(h)).unwrap_err();
        println!("  changed host key: {e}");
        match &e {
            SshError::HostKeyChanged {
                key, known_entry, ..
            } => {
                assert_eq!(key, &Some(("ED25519".into(), h.host_key_fp.clone())));
                assert_eq!(known_entry, &Some(format!("{}:1", changed.display())));
            }
            other => panic!("{other:?}"),
        }

        // A key the host does not know, and a password user in batch mode.
        for (user, key) in [
            ("root", &h.key_stranger),
            (h.password_user.as_str(), &h.key),
        ] {
            let e = open(&h.uri_for(user, &h.ssh, key), &sshd_endpoint(h)).unwrap_err();
            println!("  {user} with {}: {e}", key.display());
            assert!(
                matches!(&e, SshError::AuthRefused { methods, .. } if methods == "publickey,password"),
                "{e:?}"
            );
        }

        // Nothing listens on the port.
        let uri = format!(
            "qemu+ssh://root@{}:2/system?command={}&keyfile={}",
            h.addr,
            h.ssh.display(),
            h.key.display()
        );
        let e = open(&uri, &sshd_endpoint(h)).unwrap_err();
        println!("  port 2: {e}");
        assert!(matches!(e, SshError::ConnectionRefused { .. }), "{e:?}");

        // The host's network is gone: the connection times out.
        h.set_network(false);
        let t = Instant::now();
        let e = open_with(
            &h.uri,
            &sshd_endpoint(h),
            TunnelOptions {
                connect_timeout: Duration::from_secs(2),
                ..TunnelOptions::default()
            },
        )
        .unwrap_err();
        h.set_network(true);
        println!("  network down: {e} ({:.1} s)", t.elapsed().as_secs_f64());
        assert!(
            matches!(&e, SshError::Unreachable { reason, .. } if reason == "Connection timed out"),
            "{e:?}"
        );

        // A unix socket that does not exist on the host: the forward is refused.
        let e = open(&h.uri, &Endpoint::Unix("/run/no-such-display.sock".into())).unwrap_err();
        println!("  missing unix socket: {e}");
        assert!(
            matches!(&e, SshError::ForwardFailed { endpoint, .. } if endpoint == "/run/no-such-display.sock"),
            "{e:?}"
        );
    });
}

// ---------------------------------------------------------------------------------
fn askpass_brings_every_question() {
    with_host(|h| {
        // A key with a passphrase.
        let (options, asked) = askpass(vec![AskpassAnswer::Text(h.passphrase.clone())]);
        let t = Instant::now();
        let tunnel = open_with(
            &h.uri_for("root", &h.ssh, &h.key_pass),
            &sshd_endpoint(h),
            options,
        )
        .expect("the passphrase opens the key");
        println!("  passphrase key: {:.2} s", t.elapsed().as_secs_f64());
        assert_eq!(greeting(tunnel), "SSH-2.0-");
        assert_eq!(
            *asked.lock().unwrap(),
            [AskpassQuestion::KeyPassphrase {
                key: h.key_pass.display().to_string()
            }]
        );

        // A password, wrong first (ssh asks again), then right.
        let uri = h.uri_for(&h.password_user, &h.ssh, &h.key_stranger);
        let (options, asked) = askpass(vec![
            AskpassAnswer::Text("wrong".into()),
            AskpassAnswer::Text(h.password.clone()),
        ]);
        let tunnel = open_with(&uri, &sshd_endpoint(h), options).expect("the password logs in");
        assert_eq!(greeting(tunnel), "SSH-2.0-");
        let password = AskpassQuestion::Password {
            user: h.password_user.clone(),
            host: h.addr.clone(),
        };
        assert_eq!(*asked.lock().unwrap(), [password.clone(), password.clone()]);

        // Cancel: the tunnel gives up at once instead of asking again.
        let (options, asked) = askpass(vec![AskpassAnswer::Cancel]);
        let e = open_with(&uri, &sshd_endpoint(h), options).unwrap_err();
        assert_eq!(
            e,
            SshError::Cancelled {
                host: h.addr.clone()
            }
        );
        assert_eq!(*asked.lock().unwrap(), [password]);

        // An unknown host key, refused: nothing is written to known_hosts.
        std::fs::write(&h.known_hosts_unknown, "").unwrap();
        let uri = h.uri_for("root", &h.ssh_unknown, &h.key);
        let question = AskpassQuestion::UnknownHostKey {
            host: h.addr.clone(),
            key_type: "ED25519".into(),
            fingerprint: h.host_key_fp.clone(),
        };
        let (options, asked) = askpass(vec![AskpassAnswer::Cancel]);
        let e = open_with(&uri, &sshd_endpoint(h), options).unwrap_err();
        assert!(matches!(e, SshError::Cancelled { .. }), "{e:?}");
        assert_eq!(*asked.lock().unwrap(), std::slice::from_ref(&question));
        assert_eq!(std::fs::read_to_string(&h.known_hosts_unknown).unwrap(), "");

        // Accepted: ssh records it, and the next tunnel needs no question.
        let (options, asked) = askpass(vec![AskpassAnswer::AcceptHostKey]);
        let tunnel = open_with(&uri, &sshd_endpoint(h), options).expect("accepted host key");
        assert_eq!(greeting(tunnel), "SSH-2.0-");
        assert_eq!(*asked.lock().unwrap(), [question]);
        let recorded = std::fs::read_to_string(&h.known_hosts_unknown).unwrap();
        assert!(
            recorded.starts_with(&format!("{} ssh-ed25519 ", h.addr)),
            "{recorded}"
        );
        let tunnel = open(&uri, &sshd_endpoint(h)).expect("the key is known now");
        assert_eq!(greeting(tunnel), "SSH-2.0-");
    });
}

// ---------------------------------------------------------------------------------
/// libvirt's own ssh transport asks through the same helper: it passes `SSH_ASKPASS`
/// and `DISPLAY` to its ssh (not `SSH_ASKPASS_REQUIRE` nor `VIREO_ASKPASS_SOCKET`), so
/// the helper finds the server from the link it was started by. Run in `virsh` with
/// no terminal (`setsid`), as a desktop app runs.
fn libvirt_ssh_asks_through_the_helper() {
    with_host(|h| {
        let asked: Asked = Arc::default();
        let record = asked.clone();
        let password = h.password.clone();
        let server = vireo::virt::ssh::AskpassServer::start(&Askpass {
            helper: PathBuf::from(env!("CARGO_BIN_EXE_vireo-askpass")),
            handler: Arc::new(move |q: &AskpassQuestion| {
                record.lock().unwrap().push(q.clone());
                AskpassAnswer::Text(password.clone())
            }),
        })
        .expect("askpass server");
        let uri = h.uri_for(&h.password_user, &h.ssh, &h.key_stranger);
        let out = testbed::run_ok(
            std::process::Command::new("setsid")
                .args(["-w", "virsh", "-q", "-c", &uri, "hostname"])
                .env("SSH_ASKPASS", server.program())
                .env("DISPLAY", ":0")
                .env_remove("SSH_ASKPASS_REQUIRE")
                .env_remove("VIREO_ASKPASS_SOCKET"),
        );
        assert_eq!(out.trim(), h.hostname);
        assert_eq!(
            *asked.lock().unwrap(),
            [AskpassQuestion::Password {
                user: h.password_user.clone(),
                host: h.addr.clone()
            }]
        );
    });
}

// ---------------------------------------------------------------------------------
/// The domains of the VNC test: one whose VNC listens on the host's loopback (the
/// default), one on a unix socket.
const DOM_TCP: &str = "vireo-test-ssh-vnc-tcp";
const DOM_UNIX: &str = "vireo-test-ssh-vnc-unix";

fn check_vga(frame: &rfb::Frame, what: &str) {
    assert_eq!((frame.width, frame.height), testbed::VGA_SIZE, "{what}");
    for (x, y, want) in VGA_PIXELS {
        assert_eq!(frame.pixel(x, y), want, "{what}: pixel ({x}, {y})");
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn vnc_through_the_tunnel() {
    with_host(|h| {
        let guest = Guest::get().expect("guest");
        let tmp = testbed::target_dir().join("tmp");
        let mut logs = Vec::new();
        for (name, socket) in [(DOM_TCP, false), (DOM_UNIX, true)] {
            let log = tmp.join(format!("{name}.serial.log"));
            let _ = std::fs::remove_file(&log);
            let mut xml = guest.domain_xml(name, Boot::Kernel, None).replace(
                "<serial type='pty'>",
                &format!(
                    "<serial type='pty'><log file='{}' append='off'/>",
                    log.display()
                ),
            );
            if socket {
                xml = xml.replace(
                    "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>",
                    "<graphics type='vnc'><listen type='socket'/></graphics>",
                );
            }
            let file = tmp.join(format!("{name}.xml"));
            std::fs::write(&file, xml).unwrap();
            // Defined and started over qemu+ssh, as a person's virsh would.
            virsh(&h.uri, &["define", file.to_str().unwrap()]);
            virsh(&h.uri, &["start", name]);
            logs.push(log);
        }
        let t = Instant::now();
        for log in &logs {
            wait_until(
                "the remote guest's ready line",
                Duration::from_secs(120),
                || {
                    std::fs::read_to_string(log)
                        .is_ok_and(|s| s.lines().any(|l| l.trim() == testbed::READY_LINE))
                },
            );
        }
        println!(
            "  both remote guests ready after {:.1} s",
            t.elapsed().as_secs_f64()
        );

        // TCP: the display listens on the remote host's 127.0.0.1.
        let display = virsh(&h.uri, &["domdisplay", DOM_TCP]);
        let port: u16 = display
            .trim()
            .strip_prefix("vnc://127.0.0.1:")
            .and_then(|d| d.parse::<u16>().ok())
            .map(|d| 5900 + d)
            .unwrap_or_else(|| panic!("domdisplay: {display}"));
        let endpoint = tcp("127.0.0.1", port);
        let (mut opens, mut frames) = (Vec::new(), Vec::new());
        for round in 0..5 {
            let t = Instant::now();
            let tunnel = open(&h.uri, &endpoint).expect("tunnel to the VNC port");
            opens.push(t.elapsed().as_secs_f64());
            let mut stream = UnixStream::from(tunnel.socket);
            let frame = rfb::capture(&mut stream, Duration::from_secs(20)).expect("a frame");
            frames.push(t.elapsed().as_secs_f64());
            if round == 0 {
                println!(
                    "  {display} through ssh -W: {} {:?}",
                    frame.version, frame.name
                );
                assert_eq!(frame.version, "RFB 003.008");
                assert_eq!(frame.name, format!("QEMU ({DOM_TCP})"));
                check_vga(&frame, "TCP display");
            }
            drop(stream);
            drop(tunnel.process);
        }
        println!(
            "  tunnel open (login + channel confirmed): median {:.3} s; to the whole first \
             frame: median {:.3} s (5 rounds)",
            median(opens),
            median(frames)
        );

        // Unix socket: where libvirt put it, from the live XML.
        let xml = virsh(&h.uri, &["dumpxml", DOM_UNIX]);
        let socket = xml
            .split("socket='")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap_or_else(|| panic!("no socket in {xml}"));
        let t = Instant::now();
        let tunnel = open(&h.uri, &Endpoint::Unix(socket.into())).expect("stream-local tunnel");
        let mut stream = UnixStream::from(tunnel.socket);
        let frame = rfb::capture(&mut stream, Duration::from_secs(20)).expect("a frame");
        println!(
            "  {socket} through ssh -L (stream-local): first frame after {:.3} s",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(frame.name, format!("QEMU ({DOM_UNIX})"));
        check_vga(&frame, "unix-socket display");
        drop(stream);
        drop(tunnel.process);

        for name in [DOM_TCP, DOM_UNIX] {
            virsh(&h.uri, &["destroy", name]);
            virsh(&h.uri, &["undefine", name]);
        }
    });
}

// ---------------------------------------------------------------------------------
fn lost_network_ends_the_channel() {
    with_host(|h| {
        let options = TunnelOptions::default();
        let mut tunnel = open_with(&h.uri, &sshd_endpoint(h), options.clone()).expect("tunnel");
        h.set_network(false);
        let t = Instant::now();
        let mut error = None;
        wait_until(
            "ssh gives up on the silent host",
            Duration::from_secs(60),
            || {
                error = tunnel.process.failure(Duration::ZERO);
                error.is_some()
            },
        );
        let secs = t.elapsed().as_secs_f64();
        h.set_network(true);
        let error = error.unwrap();
        println!(
            "  network cut -> ssh ends the channel (ServerAliveInterval={} s, \
             ServerAliveCountMax={}): {secs:.1} s: {error}: {}",
            options.alive_interval.as_secs(),
            options.alive_count,
            error.ssh_message()
        );
        assert!(matches!(error, SshError::Lost { .. }), "{error:?}");
        // Back: a new tunnel works.
        let tunnel = open(&h.uri, &sshd_endpoint(h)).expect("tunnel after the network returned");
        assert_eq!(greeting(tunnel), "SSH-2.0-");
    });
}

fn main() {
    testbed::require(&[Need::RemoteHost, Need::Guest]);
    // The person's agent stays out of these tests (some use no ssh wrapper).
    std::env::remove_var("SSH_AUTH_SOCK");
    Runner::new().run(vec![
        test("failures_say_why", failures_say_why).limit(180),
        test(
            "askpass_brings_every_question",
            askpass_brings_every_question,
        ),
        test(
            "libvirt_ssh_asks_through_the_helper",
            libvirt_ssh_asks_through_the_helper,
        )
        .limit(60),
        test("vnc_through_the_tunnel", vnc_through_the_tunnel).limit(300),
        test(
            "lost_network_ends_the_channel",
            lost_network_ends_the_channel,
        ),
    ]);
}
