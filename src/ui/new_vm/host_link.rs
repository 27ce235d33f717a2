//! The host a chooser reads its list from: the connection, the handler of the change
//! signal it follows on it, and a generation number that drops the answer of a read
//! made for a host no longer chosen.

use std::cell::{Cell, RefCell};

use gtk::glib;
use gtk::prelude::*;

use crate::model::ConnectionObject;

#[derive(Default)]
pub(super) struct HostLink {
    connection: RefCell<Option<ConnectionObject>>,
    handler: RefCell<Option<glib::SignalHandlerId>>,
    generation: Cell<u64>,
}

impl HostLink {
    /// The host.
    pub fn connection(&self) -> Option<ConnectionObject> {
        self.connection.borrow().clone()
    }

    /// Follows `connection` instead (`follow` connects to its change signal); false
    /// when it is the host already followed.
    pub fn set(
        &self,
        connection: Option<ConnectionObject>,
        follow: impl FnOnce(&ConnectionObject) -> glib::SignalHandlerId,
    ) -> bool {
        if *self.connection.borrow() == connection {
            return false;
        }
        self.release();
        *self.handler.borrow_mut() = connection.as_ref().map(follow);
        self.connection.replace(connection);
        true
    }

    /// Stops following the host (on dispose).
    pub fn release(&self) {
        if let (Some(c), Some(id)) = (self.connection.borrow().as_ref(), self.handler.take()) {
            c.disconnect(id);
        }
    }

    /// Starts a read: its generation, and the host to read from.
    pub fn start_read(&self) -> (u64, Option<ConnectionObject>) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        (generation, self.connection())
    }

    /// True when no read started after the one of `generation`.
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation.get() == generation
    }
}
