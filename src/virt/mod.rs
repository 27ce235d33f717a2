//! The GTK-free libvirt layer.
