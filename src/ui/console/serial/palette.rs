//! The serial console's colour palettes (the `terminal-palette` setting) and font.

use gtk::gdk;

/// Foreground, background and the 16 ANSI colours.
pub struct Palette {
    pub foreground: &'static str,
    pub background: &'static str,
    pub colors: [&'static str; 16],
}

/// GNOME's light terminal colours (Adwaita-like).
const LIGHT: Palette = Palette {
    foreground: "#1e1e1e",
    background: "#fafafa",
    colors: [
        "#241f31", "#c01c28", "#2ec27e", "#f5c211", "#1e78e4", "#9841bb", "#0ab9dc", "#c0bfbc",
        "#5e5c64", "#ed333b", "#57e389", "#f8e45c", "#51a1ff", "#c061cb", "#4fd2fd", "#f6f5f4",
    ],
};

/// GNOME's dark terminal colours.
const DARK: Palette = Palette {
    foreground: "#ffffff",
    background: "#1e1e1e",
    colors: LIGHT.colors,
};

const SOLARIZED: [&str; 16] = [
    "#073642", "#dc322f", "#859900", "#b58900", "#268bd2", "#d33682", "#2aa198", "#eee8d5",
    "#002b36", "#cb4b16", "#586e75", "#657b83", "#839496", "#6c71c4", "#93a1a1", "#fdf6e3",
];

const SOLARIZED_DARK: Palette = Palette {
    foreground: "#839496",
    background: "#002b36",
    colors: SOLARIZED,
};

const SOLARIZED_LIGHT: Palette = Palette {
    foreground: "#657b83",
    background: "#fdf6e3",
    colors: SOLARIZED,
};

/// The palette for a `terminal-palette` value; `system` follows the style's darkness.
pub fn palette(name: &str, dark_style: bool) -> &'static Palette {
    match name {
        "light" => &LIGHT,
        "dark" => &DARK,
        "solarized-dark" => &SOLARIZED_DARK,
        "solarized-light" => &SOLARIZED_LIGHT,
        _ if dark_style => &DARK,
        _ => &LIGHT,
    }
}

/// Applies `palette` to `terminal`.
pub fn apply(terminal: &vte4::Terminal, palette: &Palette) {
    use vte4::TerminalExtManual;
    let rgba = |s: &str| gdk::RGBA::parse(s).unwrap_or(gdk::RGBA::BLACK);
    let colors: Vec<gdk::RGBA> = palette.colors.iter().map(|c| rgba(c)).collect();
    let refs: Vec<&gdk::RGBA> = colors.iter().collect();
    terminal.set_colors(
        Some(&rgba(palette.foreground)),
        Some(&rgba(palette.background)),
        &refs,
    );
}

/// The font for a `terminal-font` value: empty means the system's monospace font.
pub fn font(name: &str) -> Option<gtk::pango::FontDescription> {
    let name = name.trim();
    (!name.is_empty()).then(|| gtk::pango::FontDescription::from_string(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_has_a_full_palette() {
        for name in [
            "system",
            "light",
            "dark",
            "solarized-dark",
            "solarized-light",
        ] {
            for dark in [false, true] {
                let p = palette(name, dark);
                for c in p.colors.iter().chain([&p.foreground, &p.background]) {
                    assert!(gdk::RGBA::parse(*c).is_ok(), "{name}: {c}");
                }
            }
        }
        assert_eq!(palette("system", true).background, DARK.background);
        assert_eq!(palette("system", false).background, LIGHT.background);
        assert_eq!(palette("unknown", false).background, LIGHT.background);
    }

    #[test]
    fn empty_font_is_the_system_font() {
        assert!(font("").is_none());
        assert!(font("  ").is_none());
        assert_eq!(
            font("Monospace 13").map(|f| f.size()),
            Some(13 * gtk::pango::SCALE)
        );
    }
}
