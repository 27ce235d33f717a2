//! The parts of the serial console widget: session (stream and domain following),
//! comforts (clipboard, search, zoom, save, settings) and palettes.

pub(crate) mod comforts;
pub(crate) mod palette;
pub(crate) mod session;
