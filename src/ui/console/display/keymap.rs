//! Linux evdev key codes to the XT "qnum" scancodes that QEMU's extended key event takes.
//!
//! GDK reports the hardware keycode of a key, which on X11 and Wayland is the evdev code
//! plus 8. Sending the scancode beside the keysym lets the guest apply its own keyboard
//! layout, so every key works whatever the host layout is (AltGr, Super, dead keys...).
//! E0-prefixed XT codes are written with the high bit set (E0 1D -> 0x9d), as the RFB
//! QEMU extended key event expects.

/// evdev code -> qnum, for evdev codes 0..=88 where XT set 1 and evdev agree.
const BASIC_MAX: u32 = 88;

/// evdev codes above 88 that have an XT scancode (sorted by evdev code).
const EXTENDED: &[(u32, u16)] = &[
    (89, 0x73),  // KEY_RO
    (90, 0x78),  // KEY_KATAKANA
    (91, 0x77),  // KEY_HIRAGANA
    (92, 0x79),  // KEY_HENKAN
    (93, 0x70),  // KEY_KATAKANAHIRAGANA
    (94, 0x7b),  // KEY_MUHENKAN
    (95, 0x5c),  // KEY_KPJPCOMMA
    (96, 0x9c),  // KEY_KPENTER
    (97, 0x9d),  // KEY_RIGHTCTRL
    (98, 0xb5),  // KEY_KPSLASH
    (99, 0xb7),  // KEY_SYSRQ (PrintScreen: E0 37)
    (100, 0xb8), // KEY_RIGHTALT (AltGr)
    (102, 0xc7), // KEY_HOME
    (103, 0xc8), // KEY_UP
    (104, 0xc9), // KEY_PAGEUP
    (105, 0xcb), // KEY_LEFT
    (106, 0xcd), // KEY_RIGHT
    (107, 0xcf), // KEY_END
    (108, 0xd0), // KEY_DOWN
    (109, 0xd1), // KEY_PAGEDOWN
    (110, 0xd2), // KEY_INSERT
    (111, 0xd3), // KEY_DELETE
    (113, 0xa0), // KEY_MUTE
    (114, 0xae), // KEY_VOLUMEDOWN
    (115, 0xb0), // KEY_VOLUMEUP
    (116, 0xde), // KEY_POWER
    (117, 0x59), // KEY_KPEQUAL
    (119, 0xc6), // KEY_PAUSE
    (121, 0x7e), // KEY_KPCOMMA
    (122, 0xf2), // KEY_HANGEUL
    (123, 0xf1), // KEY_HANJA
    (124, 0x7d), // KEY_YEN
    (125, 0xdb), // KEY_LEFTMETA (Super)
    (126, 0xdc), // KEY_RIGHTMETA
    (127, 0xdd), // KEY_COMPOSE (Menu)
    (128, 0xe8), // KEY_STOP
    (140, 0xa1), // KEY_CALC
    (142, 0xdf), // KEY_SLEEP
    (143, 0xe3), // KEY_WAKEUP
    (155, 0xec), // KEY_MAIL
    (156, 0xe6), // KEY_BOOKMARKS
    (157, 0xeb), // KEY_COMPUTER
    (158, 0xea), // KEY_BACK
    (159, 0xe9), // KEY_FORWARD
    (163, 0x99), // KEY_NEXTSONG
    (164, 0xa2), // KEY_PLAYPAUSE
    (165, 0x90), // KEY_PREVIOUSSONG
    (166, 0xa4), // KEY_STOPCD
    (172, 0xb2), // KEY_HOMEPAGE
    (173, 0xe7), // KEY_REFRESH
    (183, 0x5d), // KEY_F13
    (184, 0x5e), // KEY_F14
    (185, 0x5f), // KEY_F15
    (217, 0xe5), // KEY_SEARCH
    (226, 0xed), // KEY_MEDIA
];

/// The offset X11 (and so GDK on X11 and Wayland) adds to evdev codes.
const XKB_OFFSET: u32 = 8;

/// The qnum scancode of an evdev key code, or 0 when the key has none.
pub fn evdev_to_qnum(evdev: u32) -> u16 {
    match evdev {
        // KEY_RESERVED, and 84 which is unused in evdev.
        0 | 84 => 0,
        1..=BASIC_MAX => evdev as u16,
        _ => EXTENDED
            .binary_search_by_key(&evdev, |&(code, _)| code)
            .map(|i| EXTENDED[i].1)
            .unwrap_or(0),
    }
}

/// The qnum scancode of a GDK hardware keycode (evdev + 8), or 0 when unknown.
pub fn hardware_keycode_to_qnum(keycode: u32) -> u16 {
    keycode
        .checked_sub(XKB_OFFSET)
        .map(evdev_to_qnum)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(EXTENDED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn well_known_keys() {
        // Esc, A, Left Ctrl, F1, F12 keep their XT set 1 codes.
        assert_eq!(hardware_keycode_to_qnum(9), 0x01);
        assert_eq!(hardware_keycode_to_qnum(38), 0x1e);
        assert_eq!(hardware_keycode_to_qnum(37), 0x1d);
        assert_eq!(hardware_keycode_to_qnum(67), 0x3b);
        assert_eq!(hardware_keycode_to_qnum(96), 0x58);
        // E0-prefixed keys: AltGr, Super, arrows, Delete.
        assert_eq!(hardware_keycode_to_qnum(108), 0xb8);
        assert_eq!(hardware_keycode_to_qnum(133), 0xdb);
        assert_eq!(hardware_keycode_to_qnum(111), 0xc8);
        assert_eq!(hardware_keycode_to_qnum(119), 0xd3);
        // Unknown and out-of-range codes give 0 (keysym only).
        assert_eq!(hardware_keycode_to_qnum(3), 0);
        assert_eq!(hardware_keycode_to_qnum(8 + 84), 0);
        assert_eq!(hardware_keycode_to_qnum(8 + 500), 0);
    }
}
