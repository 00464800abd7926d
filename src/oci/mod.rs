//! The OCI side: the bundle's config.json (only the fields used), container ids, statuses and
//! their rules, the firmware path inside the root filesystem, and core selection.

pub mod bundle;
pub mod hooks;
pub mod id;
pub mod rootfs;
pub mod select;
pub mod status;
