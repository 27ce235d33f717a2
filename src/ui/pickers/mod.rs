//! The pickers every form that makes or edits a VM shares: the storage volume picker,
//! the VM disk chooser (new volume in a pool, existing image, none), the network
//! chooser and the host device chooser. The first three read the host's pools, volumes
//! and networks from the one model of them (`ConnectionObject::host()`), which follows
//! libvirt's events, so every picker and the host page agree at all times; the host
//! device chooser reads the host's USB and PCI devices when it opens.

mod disk_chooser;
mod followed;
mod host_device_chooser;
mod network_chooser;
mod volume_picker;

pub use disk_chooser::DiskChooser;
pub use host_device_chooser::HostDeviceChooser;
pub use network_chooser::NetworkChooser;
pub use volume_picker::{VolumeFilter, VolumePicker};

use crate::ui::{show_error, string_list};
