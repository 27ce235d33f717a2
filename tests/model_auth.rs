//! libvirt's auth callback relayed to the main thread: the test driver asks for a
//! user name and a password when its node file has an `<auth>` element.

mod kit;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kit::testbed::temp_dir;
use kit::{test, wait_until, Runner};
use vireo::model::{ConnectionObject, ConnectionState};
use vireo::virt::test_node::{write_node, NodeSpec};

const T: Duration = Duration::from_secs(10);

fn auth_uri(name: &str) -> String {
    let spec = NodeSpec {
        domains: 3,
        auth: Some(("alice".into(), "s3cret".into())),
        ..Default::default()
    };
    write_node(&temp_dir(name), "node.xml", &spec).unwrap()
}

/// Answers every prompt: secret ones with `password`, others with "alice".
fn answering(c: &ConnectionObject, password: &'static str) -> Rc<RefCell<Vec<(String, bool)>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let seen2 = seen.clone();
    c.connect_credentials_requested(move |conn, req| {
        assert_eq!(req.uri(), conn.uri());
        let prompts = req.prompts();
        seen2.borrow_mut().extend(prompts.iter().cloned());
        let answers = prompts
            .iter()
            .map(|(_, secret)| if *secret { password } else { "alice" }.to_owned())
            .collect();
        req.respond(answers);
    });
    seen
}

fn right_password_connects() {
    let c = ConnectionObject::new(&auth_uri("auth-ok"));
    let seen = answering(&c, "s3cret");
    c.open();
    wait_until("connected", T, || c.state() == ConnectionState::Connected);
    assert_eq!(c.domains().len(), 3);
    let seen = seen.borrow();
    assert!(
        seen.iter().any(|(_, secret)| *secret),
        "a hidden password prompt: {seen:?}"
    );
    assert!(
        seen.iter().any(|(_, secret)| !secret),
        "a visible user prompt: {seen:?}"
    );
    c.close();
}

fn wrong_password_fails_with_libvirts_message() {
    let c = ConnectionObject::new(&auth_uri("auth-bad"));
    let _seen = answering(&c, "wrong");
    c.open();
    wait_until("failed", T, || c.state() == ConnectionState::Failed);
    let e = c.error().unwrap();
    println!("  libvirt said: {e}");
    assert!(e.to_lowercase().contains("auth"), "{e}");
}

fn cancelled_or_unanswered_login_fails() {
    let c = ConnectionObject::new(&auth_uri("auth-cancel"));
    c.connect_credentials_requested(|_, req| req.cancel());
    c.open();
    wait_until("failed after cancel", T, || {
        c.state() == ConnectionState::Failed
    });
    // Nobody listens: the request is dropped, which cancels it; nothing hangs.
    let c = ConnectionObject::new(&auth_uri("auth-nobody"));
    c.open();
    wait_until("failed unanswered", T, || {
        c.state() == ConnectionState::Failed
    });
    // A request kept and answered later still works (the worker waited).
    let c = ConnectionObject::new(&auth_uri("auth-later"));
    let kept = Rc::new(RefCell::new(Vec::new()));
    let k2 = kept.clone();
    c.connect_credentials_requested(move |_, req| k2.borrow_mut().push(req.clone()));
    c.open();
    for _ in 0..2 {
        wait_until("a prompt", T, || !kept.borrow().is_empty());
        kit::pump(Duration::from_millis(100));
        assert_eq!(c.state(), ConnectionState::Connecting);
        let req = kept.borrow_mut().remove(0);
        let answers = req
            .prompts()
            .iter()
            .map(|(_, s)| if *s { "s3cret" } else { "alice" }.to_owned())
            .collect();
        req.respond(answers);
    }
    wait_until("connected after late answers", T, || {
        c.state() == ConnectionState::Connected
    });
    c.close();
}

fn close_while_prompting_does_not_hang() {
    let c = ConnectionObject::new(&auth_uri("auth-close"));
    let kept = Rc::new(RefCell::new(Vec::new()));
    let k2 = kept.clone();
    c.connect_credentials_requested(move |_, req| k2.borrow_mut().push(req.clone()));
    c.open();
    wait_until("a prompt", T, || !kept.borrow().is_empty());
    c.close();
    assert!(
        !kept.borrow()[0].is_pending(),
        "close cancels the pending login"
    );
    assert_eq!(c.state(), ConnectionState::Disconnected);
    // The worker is free again: a new open with answers works.
    let _seen = answering(&c, "s3cret");
    c.open();
    wait_until("connected after close", T, || {
        c.state() == ConnectionState::Connected
    });
    c.close();
}

fn main() {
    Runner::new().run(vec![
        test("right_password_connects", right_password_connects),
        test(
            "wrong_password_fails_with_libvirts_message",
            wrong_password_fails_with_libvirts_message,
        ),
        test(
            "cancelled_or_unanswered_login_fails",
            cancelled_or_unanswered_login_fails,
        ),
        test(
            "close_while_prompting_does_not_hang",
            close_while_prompting_does_not_hang,
        ),
    ]);
}
