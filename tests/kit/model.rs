//! Vireo's model on a libvirt host, as the tests drive it: open a connection and wait
//! for it, define a domain and wait for the model to list it, start it, remove it.
//! Every step panics with what went wrong (libvirt's words where it has some).
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::time::Duration;

use vireo::model::{ConnectionObject, ConnectionState, DomainAction, DomainObject, DomainState};

use super::wait::{block_on, wait_until, EVENT};

/// Opens `uri` and waits until it is connected (up to 2 minutes: the first embedded
/// root of a machine probes QEMU's capabilities); panics if it fails.
pub fn connect(uri: &str) -> ConnectionObject {
    let c = ConnectionObject::new(uri);
    c.open();
    wait_until(&format!("{uri} connects"), Duration::from_secs(120), || {
        assert_ne!(
            c.state(),
            ConnectionState::Failed,
            "opening {uri} failed: {:?}",
            c.error()
        );
        c.state() == ConnectionState::Connected
    });
    c
}

/// Defines a domain from `xml` through the connection's worker and waits for the model
/// to list it.
pub fn define(c: &ConnectionObject, xml: String) -> DomainObject {
    let uuid = block_on(c.with_connect(move |conn| define_xml(conn, &xml)))
        .expect("connected")
        .unwrap_or_else(|e| panic!("defining the domain failed: {e}"));
    wait_until("the defined domain in the model", EVENT, || {
        c.domains().by_uuid(&uuid)
    })
}

/// The listed domain named `name`.
pub fn domain(c: &ConnectionObject, name: &str) -> Option<DomainObject> {
    c.domains()
        .snapshot()
        .into_iter()
        .find(|d| d.name() == name)
}

/// Runs `action` on `d`, panicking with libvirt's message if it fails.
pub fn act(c: &ConnectionObject, d: &DomainObject, action: DomainAction) {
    let what = format!("{action:?} on {}", d.name());
    block_on(c.run_action(d, action)).unwrap_or_else(|e| panic!("{what} failed: {e}"));
}

/// Starts `d` and waits until the model says it runs.
pub fn start(c: &ConnectionObject, d: &DomainObject) {
    act(c, d, DomainAction::Start);
    wait_until(&format!("{} running", d.name()), EVENT, || {
        d.state() == DomainState::Running
    });
}

/// Forces `d` off if it runs, deletes it (keeping its storage) and waits until the
/// model no longer lists it.
pub fn remove(c: &ConnectionObject, d: &DomainObject) {
    let _ = block_on(c.run_action(d, DomainAction::ForceOff));
    act(
        c,
        d,
        DomainAction::Delete {
            remove_storage: vec![],
        },
    );
    wait_until(&format!("{} gone from the model", d.name()), EVENT, || {
        c.domains().by_uuid(&d.uuid()).is_none()
    });
}

/// Destroys a guest started with the raw `virt` crate and gives back its reference
/// (virt's own Drop panics on libvirt errors, such as a guest already gone).
pub fn destroy_and_release(domain: virt::domain::Domain) {
    let _ = domain.destroy();
    // SAFETY: the wrapper owns one reference, given back here and never used again.
    unsafe { virt::sys::virDomainFree(domain.as_ptr()) };
    std::mem::forget(domain);
}

/// Defines a domain from `xml` on `conn` (a worker's connection); returns its UUID.
/// (Vireo's `virt` layer has no plain define call: this is the raw libvirt one.)
pub fn define_xml(conn: &virt::connect::Connect, xml: &str) -> Result<String, String> {
    let c = std::ffi::CString::new(xml).map_err(|e| e.to_string())?;
    // SAFETY: valid connection and C string; the domain reference is freed here.
    unsafe {
        let d = virt::sys::virDomainDefineXML(conn.as_ptr(), c.as_ptr());
        if d.is_null() {
            return Err(virt::error::Error::last_error().message().to_owned());
        }
        let mut raw = [0u8; 16];
        let r = virt::sys::virDomainGetUUID(d, raw.as_mut_ptr());
        virt::sys::virDomainFree(d);
        if r < 0 {
            return Err(virt::error::Error::last_error().message().to_owned());
        }
        Ok(vireo::virt::handles::format_uuid(&raw))
    }
}
