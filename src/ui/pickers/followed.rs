//! The host a picker reads its choices from, and the signals it follows on the host's
//! lists and their objects (all let go at once when the lists change or the picker
//! goes).

use std::cell::RefCell;

use gtk::glib;
use gtk::prelude::*;

use crate::model::host::HostObject;

#[derive(Default)]
pub(super) struct FollowedHost {
    host: RefCell<Option<HostObject>>,
    handlers: RefCell<Vec<(glib::Object, glib::SignalHandlerId)>>,
}

impl FollowedHost {
    /// The host followed.
    pub fn host(&self) -> Option<HostObject> {
        self.host.borrow().clone()
    }

    /// Follows `host` instead (and has it read when nothing read it yet); false when
    /// it is the host followed already.
    pub fn set(&self, host: Option<HostObject>) -> bool {
        if *self.host.borrow() == host {
            return false;
        }
        self.unfollow();
        if let Some(h) = &host {
            h.ensure_loaded();
        }
        self.host.replace(host);
        true
    }

    /// Keeps `handler` (connected on `object`) until [`Self::unfollow`].
    pub fn follow(&self, object: &impl IsA<glib::Object>, handler: glib::SignalHandlerId) {
        self.handlers
            .borrow_mut()
            .push((object.clone().upcast(), handler));
    }

    /// Disconnects every handler followed.
    pub fn unfollow(&self) {
        for (o, h) in self.handlers.take() {
            o.disconnect(h);
        }
    }
}
