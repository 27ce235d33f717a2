//! Typed ways to connect to `GuestDisplay`'s signals (instead of `connect_local` with a
//! name and arguments read by index).

use gtk::glib;
use gtk::prelude::*;

use crate::ui::console::GuestDisplay;

impl GuestDisplay {
    /// The person pressed Run on the "not running" page.
    pub fn connect_run_requested<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "run-requested",
            false,
            glib::closure_local!(move |display: &Self| f(display)),
        )
    }

    /// The person pressed Reconnect ("disconnected" page) or Retry ("failed" page).
    pub fn connect_reconnect_requested<F: Fn(&Self) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "reconnect-requested",
            false,
            glib::closure_local!(move |display: &Self| f(display)),
        )
    }

    /// The person asked to add a display to a VM without one (offered only while
    /// `add-device-available` is set).
    pub fn connect_add_device_requested<F: Fn(&Self) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "add-device-requested",
            false,
            glib::closure_local!(move |display: &Self| f(display)),
        )
    }

    /// The display is up (the first frame is requested).
    pub fn connect_connected<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "connected",
            false,
            glib::closure_local!(move |display: &Self| f(display)),
        )
    }

    /// The connection ended (state `Disconnected`) or could not be made (`Failed`);
    /// `f` gets the reason shown to the person.
    pub fn connect_disconnected<F: Fn(&Self, &str) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "disconnected",
            false,
            glib::closure_local!(move |display: &Self, reason: &str| f(display, reason)),
        )
    }

    /// The remote desktop changed size: `f` gets the new width and height.
    pub fn connect_desktop_resized<F: Fn(&Self, i32, i32) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "desktop-resized",
            false,
            glib::closure_local!(move |display: &Self, width: i32, height: i32| f(
                display, width, height
            )),
        )
    }
}
