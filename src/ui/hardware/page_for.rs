//! Which page edits which device: a typed page for each kind Vireo edits, the
//! device's XML for the others.

use super::chardev_page::HwCharDevicePage;
use super::controller_page::HwControllerPage;
use super::device_page::HwDevicePage;
use super::disk_page::HwDiskPage;
use super::filesystem_page::HwFilesystemPage;
use super::graphics_page::HwGraphicsPage;
use super::hostdev_page::HwHostdevPage;
use super::input_page::HwInputPage;
use super::nic_page::HwNicPage;
use super::rng_page::HwRngPage;
use super::sound_page::HwSoundPage;
use super::tpm_page::HwTpmPage;
use super::video_page::HwVideoPage;
use super::watchdog_page::HwWatchdogPage;
use super::Editor;
use crate::model::details::{DeviceKey, DeviceKind};

/// The page that edits the device `key`: a typed page for the kinds Vireo edits,
/// else the device's XML.
pub(super) fn device_page(key: &DeviceKey) -> Box<dyn Editor> {
    match key.kind {
        DeviceKind::Disk => Box::new(HwDiskPage::new(key)),
        DeviceKind::Interface => Box::new(HwNicPage::new(key)),
        DeviceKind::Graphics => Box::new(HwGraphicsPage::new(key)),
        DeviceKind::Video => Box::new(HwVideoPage::new(key)),
        DeviceKind::Sound => Box::new(HwSoundPage::new(key)),
        DeviceKind::Input => Box::new(HwInputPage::new(key)),
        DeviceKind::Watchdog => Box::new(HwWatchdogPage::new(key)),
        DeviceKind::Rng => Box::new(HwRngPage::new(key)),
        DeviceKind::Tpm => Box::new(HwTpmPage::new(key)),
        DeviceKind::Serial | DeviceKind::Console | DeviceKind::Channel | DeviceKind::Parallel => {
            Box::new(HwCharDevicePage::new(key))
        }
        DeviceKind::Controller => Box::new(HwControllerPage::new(key)),
        DeviceKind::Filesystem => Box::new(HwFilesystemPage::new(key)),
        DeviceKind::Hostdev => Box::new(HwHostdevPage::new(key)),
        _ => Box::new(HwDevicePage::new(key)),
    }
}
