//! `CredentialsRequest`: libvirt's auth callback asking the user for a login.
//!
//! The connection's worker thread blocks inside `virConnectOpenAuth` until `respond` or
//! `cancel` is called (never the main thread). If the last reference goes away without
//! an answer, the request is cancelled, so an unhandled signal cannot hang a worker.

use std::cell::RefCell;
use std::sync::mpsc;

use glib::prelude::*;
use glib::subclass::prelude::*;

use crate::virt::auth::AuthPrompt;

/// The answer channel back to the blocked worker.
pub(crate) type Reply = mpsc::Sender<Option<Vec<String>>>;

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::CredentialsRequest)]
    pub struct CredentialsRequest {
        /// The URI being opened.
        #[property(get, construct_only)]
        pub(super) uri: RefCell<String>,
        pub(super) prompts: RefCell<Vec<AuthPrompt>>,
        pub(super) reply: RefCell<Option<Reply>>,
        /// Run once, when the request is answered, cancelled or dropped.
        pub(super) on_done: RefCell<Option<Box<dyn FnOnce()>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CredentialsRequest {
        const NAME: &'static str = "VireoCredentialsRequest";
        type Type = super::CredentialsRequest;
    }

    #[glib::derived_properties]
    impl ObjectImpl for CredentialsRequest {
        fn dispose(&self) {
            self.obj().cancel();
        }
    }
}

glib::wrapper! {
    /// A pending login prompt.
    pub struct CredentialsRequest(ObjectSubclass<imp::CredentialsRequest>);
}

impl CredentialsRequest {
    pub(crate) fn new(uri: &str, prompts: Vec<AuthPrompt>, reply: Reply) -> Self {
        let obj: Self = glib::Object::builder().property("uri", uri).build();
        obj.imp().prompts.replace(prompts);
        obj.imp().reply.replace(Some(reply));
        obj
    }

    /// The questions: (prompt text as libvirt gives it, answer must be hidden).
    pub fn prompts(&self) -> Vec<(String, bool)> {
        self.imp()
            .prompts
            .borrow()
            .iter()
            .map(|p| (p.prompt.clone(), p.is_secret()))
            .collect()
    }

    /// The full prompts, with kind and libvirt's default answers.
    pub fn prompt_details(&self) -> Vec<AuthPrompt> {
        self.imp().prompts.borrow().clone()
    }

    /// Answers, one per prompt in order. Empty answers take libvirt's default.
    pub fn respond(&self, answers: Vec<String>) {
        let answers = answers
            .into_iter()
            .zip(self.imp().prompts.borrow().iter())
            .map(|(a, p)| match (&p.default, a.is_empty()) {
                (Some(d), true) => d.clone(),
                _ => a,
            })
            .collect();
        if let Some(tx) = self.imp().reply.take() {
            let _ = tx.send(Some(answers));
        }
        self.done();
    }

    /// Gives up: the open fails with libvirt's authentication error.
    pub fn cancel(&self) {
        if let Some(tx) = self.imp().reply.take() {
            let _ = tx.send(None);
        }
        self.done();
    }

    /// Runs `f` once the request is answered, cancelled or dropped.
    pub(crate) fn connect_done(&self, f: impl FnOnce() + 'static) {
        self.imp().on_done.replace(Some(Box::new(f)));
    }

    fn done(&self) {
        if let Some(f) = self.imp().on_done.take() {
            f();
        }
    }

    /// True until answered or cancelled.
    pub fn is_pending(&self) -> bool {
        self.imp().reply.borrow().is_some()
    }
}
