//! The guest agent (spice-vdagent) through the main channel: whether it runs and
//! what it can do, the clipboard both ways (text, only while sharing is on), and
//! the guest display following a requested size.
//!
//! Clipboard on demand: whoever owns a clipboard "grabs" it with the types it has;
//! the other side asks for the data only when someone pastes.

use std::rc::Rc;

use spice_client_glib as spice;

use super::session::Inner;
use crate::display_protocol::{AgentState, SessionError, SessionEvent};

/// The desktop clipboard (not the primary selection).
const SELECTION_CLIPBOARD: u32 = 0;
/// `VD_AGENT_CLIPBOARD_UTF8_TEXT`.
const TYPE_UTF8: u32 = 1;
/// `VD_AGENT_CAP_*` bits.
const CAP_MONITORS_CONFIG: u32 = 1;
const CAP_CLIPBOARD_BY_DEMAND: u32 = 5;
const CAP_GUEST_LINEEND_CRLF: u32 = 9;

/// Guest clipboard bytes as text: without the trailing NULs some agents send, with
/// Unix line ends.
fn text_from_guest(data: &[u8], crlf: bool) -> String {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&data[..end]);
    if crlf {
        text.replace("\r\n", "\n")
    } else {
        text.into_owned()
    }
}

/// Host text as the guest wants it (CRLF line ends for a Windows guest).
fn text_to_guest(text: &str, crlf: bool) -> Vec<u8> {
    if crlf {
        text.replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

impl Inner {
    fn main(&self) -> Option<spice::MainChannel> {
        self.channels.borrow().main.clone()
    }

    pub(super) fn agent_state(&self) -> AgentState {
        let Some(main) = self.main().filter(|m| m.is_agent_connected()) else {
            return AgentState::default();
        };
        AgentState {
            connected: true,
            can_resize: main.agent_test_capability(CAP_MONITORS_CONFIG),
            can_share_clipboard: main.agent_test_capability(CAP_CLIPBOARD_BY_DEMAND),
        }
    }

    fn report_agent(&self) {
        self.emit(SessionEvent::Agent(self.agent_state()));
    }

    fn guest_uses_crlf(&self) -> bool {
        self.main()
            .is_some_and(|m| m.agent_test_capability(CAP_GUEST_LINEEND_CRLF))
    }

    pub(super) fn wire_agent(self: &Rc<Self>, main: &spice::MainChannel) {
        main.connect_agent_connected_notify(while_alive!(self, |me, _| me.report_agent()));
        main.connect_main_agent_update(while_alive!(self, |me, _| me.report_agent()));

        // The guest has new clipboard text: fetch it (only while sharing).
        main.connect_main_clipboard_selection_grab(while_alive!(
            self,
            |me, main, selection, types| {
                if selection == SELECTION_CLIPBOARD
                    && me.share_clipboard.get()
                    && types.contains(&TYPE_UTF8)
                {
                    // The guest's clipboard replaces ours.
                    me.host_clipboard.replace(None);
                    main.clipboard_selection_request(selection, TYPE_UTF8);
                }
            }
        ));
        main.connect_main_clipboard_selection(while_alive!(
            self,
            |me, _, selection, kind, data| {
                if selection == SELECTION_CLIPBOARD && kind == TYPE_UTF8 && me.share_clipboard.get()
                {
                    let text = text_from_guest(data, me.guest_uses_crlf());
                    me.emit(SessionEvent::GuestClipboard(text));
                }
            }
        ));
        // Someone pastes in the guest: answer with the host text we announced.
        main.connect_main_clipboard_selection_request(while_alive!(
            self,
            |me, main, selection, kind| {
                let text = me.host_clipboard.borrow().clone();
                match text {
                    Some(text)
                        if selection == SELECTION_CLIPBOARD
                            && kind == TYPE_UTF8
                            && me.share_clipboard.get() =>
                    {
                        let data = text_to_guest(&text, me.guest_uses_crlf());
                        main.clipboard_selection_notify(selection, kind, &data);
                        true
                    }
                    _ => false,
                }
            },
            else false
        ));
    }

    pub(super) fn send_clipboard(&self, text: &str) -> Result<(), SessionError> {
        if !self.share_clipboard.get() {
            return Ok(());
        }
        let main = self.main().ok_or(SessionError::NotConnected)?;
        let agent = self.agent_state();
        if !agent.connected {
            return Err(SessionError::NoAgent);
        }
        if !agent.can_share_clipboard {
            return Err(SessionError::AgentCannot("share the clipboard"));
        }
        self.host_clipboard.replace(Some(text.to_owned()));
        main.clipboard_selection_grab(SELECTION_CLIPBOARD, &[TYPE_UTF8]);
        Ok(())
    }

    pub(super) fn set_share_clipboard(&self, share: bool) {
        self.share_clipboard.set(share);
        if !share && self.host_clipboard.take().is_some() {
            // The guest must not keep pasting what we offered.
            if let Some(main) = self.main() {
                main.clipboard_selection_release(SELECTION_CLIPBOARD);
            }
        }
    }

    /// Asks the guest to use a `width` x `height` screen (monitor 0 at the origin);
    /// spice-gtk sends it after a short delay, merging requests made meanwhile.
    pub(super) fn resize_guest(&self, width: u32, height: u32) -> Result<(), SessionError> {
        let main = self.main().ok_or(SessionError::NotConnected)?;
        let agent = self.agent_state();
        if !agent.connected {
            return Err(SessionError::NoAgent);
        }
        if !agent.can_resize {
            return Err(SessionError::AgentCannot("change the display size"));
        }
        let clamp = |v: u32| v.clamp(1, i32::MAX as u32) as i32;
        main.update_display_enabled(0, true, false);
        main.update_display(0, 0, 0, clamp(width), clamp(height), true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_text_loses_nuls_and_crlf() {
        assert_eq!(text_from_guest(b"a\r\nb\0\0", true), "a\nb");
        assert_eq!(text_from_guest(b"a\r\nb", false), "a\r\nb");
        assert_eq!(text_from_guest(b"\0", false), "");
        assert_eq!(text_from_guest("é\n".as_bytes(), false), "é\n");
    }

    #[test]
    fn host_text_gets_crlf_for_windows_guests_only() {
        assert_eq!(text_to_guest("a\nb\r\nc", true), b"a\r\nb\r\nc");
        assert_eq!(text_to_guest("a\nb", false), b"a\nb");
    }
}
