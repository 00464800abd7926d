//! The host side: remoteproc sysfs and character device, firmware files, device tree, kernel log
//! and core claims. Nothing here knows about OCI; paths come from `crate::host::Host`.

pub mod cdev;
pub mod claim;
pub mod devicetree;
pub mod elf;
pub mod firmware;
pub mod kmsg;
pub mod remoteproc;
pub mod rpmsg;
pub mod trace;
