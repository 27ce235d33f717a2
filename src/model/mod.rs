//! GObjects that the widgets bind to.
