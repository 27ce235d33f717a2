//! Creates a new VM on a connection (runs on the connection's worker thread): the
//! "default" pool when it is missing, the volumes (uploading their content when the
//! plan has some), the domain definition, and optionally the first start. When a step
//! fails, what this call made is removed again, newest first, and libvirt's error of
//! the failing step is returned.

use std::io::Read;
use std::path::{Path, PathBuf};

use virt::connect::Connect;
use virt::sys;

use crate::ffi::libvirt_domain::{create_transient_domain, define_domain, undefine_domain};
use crate::ffi::libvirt_storage::{
    pool_build, pool_by_name, pool_define, pool_is_active, pool_set_autostart, pool_start,
    vol_create, vol_delete, vol_path, vol_upload,
};
use crate::ffi::libvirt_stream::StreamRef;
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{DomainRef, PoolRef, VolRef};

use super::{escape, volume_xml, DiskFormat, InstallMethod, NewVmSpec, Storage};

/// libvirt's `VIR_ERR_NO_STORAGE_POOL`.
const ERR_NO_STORAGE_POOL: i32 = 49;

/// A volume to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    /// Pool name.
    pub pool: String,
    /// Volume XML.
    pub xml: String,
    /// A local file whose bytes are uploaded into the new volume (the cloud-init seed,
    /// a network install's kernel and initrd).
    pub upload: Option<PathBuf>,
    /// Text in the domain XMLs to replace with this volume's path once it exists.
    pub placeholder: Option<String>,
    /// Delete the volume once the VM started (QEMU has read the tree's kernel then).
    pub remove_after_start: bool,
}

/// Everything [`create`] does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreatePlan {
    /// The domain XML to define.
    pub domain_xml: String,
    /// Volumes to create first, in order.
    pub volumes: Vec<PlannedVolume>,
    /// Where to make the "default" directory pool if a volume needs it and the host has
    /// none (virt-manager's `/var/lib/libvirt/images`). `None`: never make it.
    pub default_pool_path: Option<String>,
    /// The first boot's definition (network installs), started over the persistent
    /// one; its `<uuid>` is filled in after the define.
    pub install_xml: Option<String>,
    /// Start the VM once defined.
    pub start: bool,
}

impl CreatePlan {
    /// The plan for a spec: its volumes, plus the cloud-init seed volume (uploaded
    /// from `seed`, the ISO [`crate::virt::cloud_init::build_seed_iso`] made).
    pub fn from_spec(
        spec: &NewVmSpec,
        seed: Option<&Path>,
        default_pool_path: Option<String>,
        start: bool,
    ) -> std::io::Result<Self> {
        let mut volumes: Vec<PlannedVolume> = spec
            .volumes()
            .into_iter()
            .map(|(pool, xml)| PlannedVolume {
                pool,
                xml,
                upload: None,
                placeholder: None,
                remove_after_start: false,
            })
            .collect();
        if let (Some(seed), Storage::NewVolume { pool, .. }) = (seed, &spec.storage) {
            let size = std::fs::metadata(seed)?.len();
            volumes.push(PlannedVolume {
                pool: pool.clone(),
                xml: volume_xml(&spec.seed_volume_name(), size, DiskFormat::Raw, None),
                upload: Some(seed.to_owned()),
                placeholder: None,
                remove_after_start: false,
            });
        }
        Ok(CreatePlan {
            domain_xml: spec.domain_xml(),
            volumes,
            default_pool_path,
            install_xml: spec.install_xml(),
            start,
        })
    }

    /// Adds a network install's kernel and initrd (fetched to local files): uploaded
    /// into volumes of the VM's pool, put into the first-boot XML in place of the
    /// spec's placeholders, and deleted again once the VM started.
    pub fn add_tree_files(
        &mut self,
        spec: &NewVmSpec,
        kernel: &Path,
        initrd: &Path,
    ) -> std::io::Result<()> {
        let InstallMethod::NetworkTree { boot, .. } = &spec.install else {
            return Ok(());
        };
        let pool = match &spec.storage {
            Storage::NewVolume { pool, .. } => pool.clone(),
            _ => "default".to_owned(),
        };
        for (file, suffix, placeholder) in [
            (kernel, "vmlinuz", &boot.kernel),
            (initrd, "initrd", &boot.initrd),
        ] {
            let size = std::fs::metadata(file)?.len();
            self.volumes.push(PlannedVolume {
                pool: pool.clone(),
                xml: volume_xml(
                    &format!("{}-{suffix}", spec.name),
                    size,
                    DiskFormat::Raw,
                    None,
                ),
                upload: Some(file.to_owned()),
                placeholder: Some(placeholder.clone()),
                remove_after_start: true,
            });
        }
        Ok(())
    }
}

/// The VM that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its UUID.
    pub uuid: String,
    /// Its name.
    pub name: String,
    /// True when it was started.
    pub started: bool,
    /// True when the "default" pool was made for it (it stays, as in virt-manager).
    pub made_default_pool: bool,
}

/// What was made so far, for the rollback.
#[derive(Default)]
struct Made {
    volumes: Vec<VolRef>,
    domain: Option<DomainRef>,
}

impl Made {
    fn undo(self) {
        if let Some(d) = self.domain {
            // Flags so that a UEFI VM's NVRAM file and any metadata go too.
            let flags = sys::VIR_DOMAIN_UNDEFINE_NVRAM
                | sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
            // Destroying an inactive domain fails; that is fine.
            let _ = d.destroy();
            // Drivers without NVRAM (the test driver) refuse the flag: retry bare.
            let undefined = undefine_domain(&d, flags)
                .or_else(|_| undefine_domain(&d, flags & !sys::VIR_DOMAIN_UNDEFINE_NVRAM));
            if let Err(e) = undefined {
                tracing::error!(error = %e, "rollback: could not undefine the new domain");
            }
        }
        for v in self.volumes.into_iter().rev() {
            if let Err(e) = vol_delete(&v) {
                tracing::error!(error = %e, "rollback: could not delete a new volume");
            }
        }
    }
}

/// Runs the plan; on failure removes what it made and returns the failing step's error.
pub fn create(conn: &Connect, plan: &CreatePlan) -> Result<Created> {
    let mut made = Made::default();
    let mut made_default_pool = false;
    match run(conn, plan, &mut made, &mut made_default_pool) {
        Ok(mut c) => {
            c.made_default_pool = made_default_pool;
            Ok(c)
        }
        Err(e) => {
            tracing::warn!(error = %e, "creating the VM failed; removing what was made");
            made.undo();
            Err(e)
        }
    }
}

fn run(
    conn: &Connect,
    plan: &CreatePlan,
    made: &mut Made,
    made_default_pool: &mut bool,
) -> Result<Created> {
    let mut domain_xml = plan.domain_xml.clone();
    let mut install_xml = plan.install_xml.clone();
    for v in &plan.volumes {
        let pool = pool_for(
            conn,
            &v.pool,
            plan.default_pool_path.as_deref(),
            made_default_pool,
        )?;
        let vol = vol_create(&pool, &v.xml)?;
        made.volumes.push(vol);
        let vol = made.volumes.last().expect("just pushed");
        if let Some(path) = &v.upload {
            upload(conn, vol, path)?;
        }
        if let Some(ph) = &v.placeholder {
            let path = vol_path(vol)?;
            domain_xml = domain_xml.replace(ph.as_str(), &escape(&path));
            install_xml = install_xml.map(|x| x.replace(ph.as_str(), &escape(&path)));
        }
    }
    let dom = define_domain(conn, &domain_xml)?;
    let uuid = dom.uuid_string()?;
    let name = dom.name()?;
    made.domain = Some(dom);
    let mut started = false;
    if plan.start {
        let d = made.domain.as_ref().expect("just set");
        match &install_xml {
            Some(ix) => {
                // Same name and UUID as the persistent definition: libvirt runs this
                // one now and keeps the persistent one for the next start.
                let ix = ix.replacen("</name>", &format!("</name>\n  <uuid>{uuid}</uuid>"), 1);
                create_transient_domain(conn, &ix)?;
            }
            None => d.create()?,
        }
        started = true;
        for (vol, planned) in made.volumes.iter().zip(&plan.volumes) {
            if !planned.remove_after_start {
                continue;
            }
            if let Err(e) = vol_delete(vol) {
                tracing::warn!(error = %e, "could not remove a network install's boot file");
            }
        }
    }
    // Success: keep everything (dropping the handles only releases references).
    *made = Made::default();
    Ok(Created {
        uuid,
        name,
        started,
        made_default_pool: false,
    })
}

/// The pool by name, started if inactive; the "default" pool made if missing.
fn pool_for(
    conn: &Connect,
    name: &str,
    default_path: Option<&str>,
    made_default: &mut bool,
) -> Result<PoolRef> {
    let pool = match pool_by_name(conn, name) {
        Ok(p) => p,
        Err(e)
            if e.code() == ERR_NO_STORAGE_POOL && name == "default" && default_path.is_some() =>
        {
            let xml = super::default_pool_xml(default_path.unwrap_or_default());
            let p = pool_define(conn, &xml)?;
            // Build makes the directory; it may exist already, which is fine.
            if let Err(e) = pool_build(&p) {
                tracing::debug!(error = %e, "pool build");
            }
            let _ = pool_set_autostart(&p, true);
            *made_default = true;
            tracing::info!(path = ?default_path, "made the default storage pool");
            p
        }
        Err(e) => return Err(e),
    };
    if !pool_is_active(&pool) {
        pool_start(&pool)?;
    }
    Ok(pool)
}

/// Streams a local file into a volume (works on remote connections too).
fn upload(conn: &Connect, vol: &VolRef, path: &std::path::Path) -> Result<()> {
    let data = {
        let mut f = std::fs::File::open(path)
            .map_err(|e| VirtError::InvalidArgument(format!("{}: {e}", path.display())))?;
        let mut d = Vec::new();
        f.read_to_end(&mut d)
            .map_err(|e| VirtError::InvalidArgument(format!("{}: {e}", path.display())))?;
        d
    };
    // The stream aborts and frees itself on every error path.
    let mut st = StreamRef::new(conn)?;
    vol_upload(vol, &st, false)?;
    st.send_all(&data)?;
    st.finish()
}
